"""Reading policies from the Kubernetes API at scale, whole process.

A kmock emulator in this process (a background thread) serves N namespaces x 10 NetworkPolicies,
paged as an API server pages them (``limit``/``continue``), each object as the API serves it
(managedFields, server metadata); the Cilium CRD is absent (404, skipped with a note). A child
process builds a ClusterReader from a kubeconfig, as a command does, and reads the policies of
all namespaces; wall time, CPU time (user+sys) and peak RSS are the child's (``os.wait4``).
The emulator's own work (JSON encoding of the pages) runs in this process and shares the two
cores, so wall time includes serving. Cold-start rows show the cost of importing the Kubernetes
client for the policy APIs and for CoreV1Api (pods, namespaces, Secrets).

    .venv/bin/python bench/cluster_read.py [--sizes 100,1000,5000] [--runs 5] [--page-size 500]

Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import kmock
import yaml

CHILD = """
import sys
from autodeploy_netpol.sources.cluster import ClusterAccess, ClusterReader
reader = ClusterReader(ClusterAccess(kubeconfig=sys.argv[1], page_size=int(sys.argv[2])))
what = sys.argv[3]
state = reader.policies(None) if what == "policies" else reader.pods(None)
print(len(state.objects), len(state.notes))
"""


def policy(namespace: str, index: int) -> dict[str, Any]:
    name = f"app-{index}"
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"{namespace}-{index}-0000-0000-000000000000",
            "resourceVersion": str(100000 + index),
            "generation": 1,
            "creationTimestamp": "2026-11-01T10:00:00Z",
            "labels": {"app": name, "release": namespace, "app.kubernetes.io/managed-by": "Helm"},
            "annotations": {
                "meta.helm.sh/release-name": namespace,
                "meta.helm.sh/release-namespace": namespace,
            },
            "managedFields": [
                {
                    "manager": "helm",
                    "operation": "Update",
                    "apiVersion": "networking.k8s.io/v1",
                    "time": "2026-11-01T10:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:podSelector": {}}},
                }
            ],
        },
        "spec": {
            "podSelector": {"matchLabels": {"app": name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {"podSelector": {"matchLabels": {"app": name}}},
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}},
                    ],
                    "ports": [{"protocol": "TCP", "port": 8080}],
                }
            ],
            "egress": [{"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "UDP", "port": 53}]}],
        },
    }


class EmulatedCluster:
    """A kmock server on its own event loop in a thread, serving paged NetworkPolicy lists."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._serve(),), daemon=True
        )

    def _page(self, request: Any) -> dict[str, Any]:
        limit = int(request.params.get("limit", len(self.items)))
        start = int(request.params.get("continue") or 0)
        end = start + limit
        metadata: dict[str, Any] = {"resourceVersion": "4711"}
        if end < len(self.items):
            metadata["continue"] = str(end)
        return {
            "kind": "NetworkPolicyList",
            "apiVersion": "networking.k8s.io/v1",
            "metadata": metadata,
            "items": self.items[start:end],
        }

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with kmock.KubernetesEmulator() as handler, kmock.Server(handler) as server:
            handler["list", handler.resource("networking.k8s.io", "v1", "networkpolicies")] << self._page
            handler["list", handler.resource("", "v1", "pods")] << {
                "kind": "PodList",
                "metadata": {},
                "items": [],
            }
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> EmulatedCluster:
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


def run_once(kubeconfig: str, page_size: int, what: str) -> tuple[float, float, float, str]:
    """(wall s, cpu s, peak RSS MiB, output) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, kubeconfig, str(page_size), what], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"reader failed: {output}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="namespaces (x 10 policies each)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=500)
    options = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for label, namespaces, what in [
            ("cold start: policies, empty cluster", 0, "policies"),
            ("cold start: pods (CoreV1Api), empty cluster", 0, "pods"),
        ] + [
            (f"{int(size):,} namespaces x 10 policies", int(size), "policies")
            for size in options.sizes.split(",")
        ]:
            items = [policy(f"ns-{n}", i) for n in range(namespaces) for i in range(10)]
            with EmulatedCluster(items) as cluster:
                kubeconfig = Path(scratch) / "kubeconfig"
                kubeconfig.write_text(
                    yaml.safe_dump(
                        {
                            "apiVersion": "v1",
                            "kind": "Config",
                            "current-context": "bench",
                            "clusters": [{"name": "bench", "cluster": {"server": cluster.url}}],
                            "users": [{"name": "bench", "user": {"token": "bench"}}],
                            "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}],
                        }
                    )
                )
                runs = [run_once(str(kubeconfig), options.page_size, what) for _ in range(options.runs)]
            count = runs[0][3].split()[0]
            if int(count) != len(items):
                raise SystemExit(f"read {count} objects, served {len(items)}")
            pages = -(-len(items) // options.page_size) if items else 1
            rows.append(
                (label, len(items), pages, *(statistics.median(run[i] for run in runs) for i in range(3)))
            )

    print(
        f"Median of {options.runs} runs, page size {options.page_size}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs.\n"
    )
    print("| read | objects | pages | whole process, median wall | median CPU (user+sys) | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, objects, pages, wall, cpu, rss in rows:
        print(
            f"| {label} | {objects:,} | {pages} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {rss:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
