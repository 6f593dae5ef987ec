"""The API stand-in of the benchmarks: kmock's Kubernetes emulator, in a thread, seeded with a namespace.

Used by bench/peers.py: ``drift`` and the peer ``kubectl get ... -o yaml`` read the same emulated
API server over real HTTP. The emulator is the one the live tests use (tests/live/live_harness.py:
kmock plus the cluster-scoped Namespace list kmock 0.8 cannot route). Every built-in resource the
tool reads is served (an empty list when there is nothing); the example shop's objects
(examples/shop/live-snapshot.yaml: four NetworkPolicies) are put into one namespace, with
``extra_policies`` more NetworkPolicies and the release's web Deployment beside them.
"""

from __future__ import annotations

import asyncio
import copy
import sys
import threading
from pathlib import Path
from typing import Any

import aiohttp.web
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))
import kmock  # noqa: E402
from live_harness import BUILT_IN, Emulator, EmulatorSeeder, write_kubeconfig  # noqa: E402 - the tests' emulator

SNAPSHOT = ROOT / "examples" / "shop" / "live-snapshot.yaml"
SNAPSHOT_NAMESPACE = "shop-42-production"
#: Fields the API server sets; a real server refuses them on create (kept as served).
SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "generation", "selfLink")


def shop_objects(namespace: str) -> list[dict[str, Any]]:
    """The example snapshot's objects, moved to ``namespace``."""
    document = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))
    items = document["items"] if document.get("kind") == "List" else [document]
    moved = []
    for item in copy.deepcopy(items):
        metadata = item["metadata"]
        metadata["namespace"] = namespace
        annotations = metadata.get("annotations") or {}
        if annotations.get("meta.helm.sh/release-namespace") == SNAPSHOT_NAMESPACE:
            annotations["meta.helm.sh/release-namespace"] = namespace
        moved.append(item)
    return moved


def web_deployment(namespace: str) -> dict[str, Any]:
    """The release's web Deployment, labelled as the auto-deploy-app chart labels it."""
    labels = {"app": "production", "release": "production", "tier": "web", "track": "stable"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "production", "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "auto-deploy-app", "ports": [{"name": "web", "containerPort": 5000}]}]},
            },
        },
    }


def extra_policy(namespace: str, index: int) -> dict[str, Any]:
    """One more NetworkPolicy, as the API server serves it."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"extra-{index}", "namespace": namespace, "labels": {"team": "payments"}},
        "spec": {
            "podSelector": {"matchLabels": {"app": f"worker-{index}"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"app": "production"}}}],
                    "ports": [{"protocol": "TCP", "port": 8080 + index}],
                }
            ],
        },
    }


class DiscoveringEmulator(Emulator):  # type: ignore[misc]
    """The tests' emulator, plus what kubectl needs of an API server and kmock 0.8 does not give:
    API discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/GROUP/VERSION``) and lists that say
    their ``kind`` and ``apiVersion``. Lists of the built-in resources the tool reads are served
    from the emulator's store here, for both tools alike; the Cilium CRDs are not installed."""

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        if raw_request.method != "GET":
            return await super().__call__(raw_request)
        parts = raw_request.path.strip("/").split("/")
        if parts == ["api"]:
            return aiohttp.web.json_response({"kind": "APIVersions", "versions": ["v1"]})
        if parts == ["apis"]:
            groups = sorted({resource.group for resource in BUILT_IN if resource.group})
            return aiohttp.web.json_response(
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [
                        {
                            "name": group,
                            "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}],
                            "preferredVersion": {"groupVersion": f"{group}/v1", "version": "v1"},
                        }
                        for group in groups
                    ],
                }
            )
        group_version = "/".join(parts[1:3]) if parts[:1] == ["apis"] else "/".join(parts[1:2])
        served = [resource for resource in BUILT_IN if resource.api_version == group_version]
        prefix = 3 if parts[:1] == ["apis"] else 2
        if served and len(parts) == prefix:
            return aiohttp.web.json_response(
                {
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": group_version,
                    "resources": [
                        {
                            "name": resource.plural,
                            "singularName": resource.kind.lower(),
                            "namespaced": resource.namespaced,
                            "kind": resource.kind,
                            "verbs": ["get", "list"],
                        }
                        for resource in served
                    ],
                }
            )
        rest = parts[prefix:]
        namespace = None
        if len(rest) == 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        listed = next((r for r in served if rest == [r.plural] and r.plural != "namespaces"), None)
        if listed is None:
            return await super().__call__(raw_request)
        items = [
            stored.raw
            for (resource, item_namespace, _), stored in self.objects.items()
            if (resource.group, resource.plural) == (listed.group, listed.plural)
            and not stored.deleted
            and (namespace is None or item_namespace == namespace)
        ]
        return aiohttp.web.json_response(
            {
                "kind": f"{listed.kind}List",
                "apiVersion": listed.api_version,
                "metadata": {"resourceVersion": "4711"},
                "items": items,
            }
        )


class StandIn:
    """The emulator serving on its own event loop in a background thread (a context manager)."""

    def __init__(self, scratch: Path, namespace: str = "shop-42-production", extra_policies: int = 2) -> None:
        self.scratch = scratch
        self.namespace = namespace
        self.extra_policies = extra_policies
        self.kubeconfig = ""
        self.objects: list[dict[str, Any]] = []
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to the caller by __enter__
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with DiscoveringEmulator() as handler, kmock.Server(handler) as server:
            url = str(server.url).rstrip("/")
            self.kubeconfig = write_kubeconfig(self.scratch / "kubeconfig", url)
            seeder = EmulatorSeeder(handler, self.kubeconfig)
            seeder.add(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": self.namespace, "labels": {"kubernetes.io/metadata.name": self.namespace}},
                }
            )
            self.objects = [
                *shop_objects(self.namespace),
                *(extra_policy(self.namespace, index) for index in range(self.extra_policies)),
                web_deployment(self.namespace),
            ]
            for item in self.objects:
                metadata = {k: v for k, v in item["metadata"].items() if k not in SERVER_SET}
                seeder.add({**item, "metadata": metadata})
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> StandIn:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise RuntimeError(f"the API stand-in did not start: {self._error}") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def policy_count(self) -> int:
        return sum(1 for item in self.objects if item["kind"].endswith("NetworkPolicy"))


if __name__ == "__main__":  # serve until interrupted: for trying commands by hand
    import tempfile
    import time

    with tempfile.TemporaryDirectory() as scratch, StandIn(Path(scratch)) as standin:
        print(standin.kubeconfig, standin.namespace, flush=True)
        while True:
            time.sleep(3600)
