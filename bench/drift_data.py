"""Generate desired and live snapshots for the drift benchmark (writes under bench/out/).

    python bench/drift_data.py --namespaces 1000 [--policies 10] [--drift 0.05] [--desired-format json|yaml]

Writes ``bench/out/drift-<namespaces>x<policies>-<format>/``:

* ``desired/NNNN.json`` - the render output for every namespace (``render --format json``, a
  ``kind: List``; namespace set), 1,000 namespaces per file; ``--desired-format yaml`` writes
  YAML streams ``desired/NNNN.yaml`` instead (as ``render`` / ``helm template`` print them);
* ``live/NNNN.json`` - what ``kubectl get networkpolicies,ciliumnetworkpolicies -A -o json``
  serves: server metadata, managedFields, Helm annotations, API defaults filled in, peers in
  another order, 1,000 namespaces per file;
* ``expected.json`` - how many objects were made changed / missing / unexpected.

``--drift`` of the desired policies drift: 60% changed (a port, a peer or a label), 20%
missing (deleted from live), 20% unexpected (an extra live policy of the release). The data
is deterministic (seeded), so runs compare.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
from typing import Any

import yaml

CHART_LABEL = "auto-deploy-app-2.100.0"
PER_FILE = 1_000
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def labels(release: str) -> dict[str, str]:
    return {
        "app": release,
        "chart": CHART_LABEL,
        "release": release,
        "heritage": "Helm",
        "app.kubernetes.io/name": release,
        "helm.sh/chart": CHART_LABEL,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": release,
    }


def desired_policy(namespace: str, index: int, release: str = "production") -> dict[str, Any]:
    """One rendered policy; the ten per namespace differ in shape (ingress, egress, Cilium)."""
    name = f"{release}-auto-deploy" if index == 0 else f"{release}-auto-deploy-p{index}"
    app = {"matchLabels": {"app": release}}
    if index % 5 == 4:
        spec: dict[str, Any] = {
            "endpointSelector": app,
            "ingress": [
                {
                    "fromEndpoints": [
                        app,
                        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "gitlab-managed-apps"}},
                    ],
                    "toPorts": [{"ports": [{"port": str(5000 + index)}]}],
                }
            ],
        }
        return {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {**labels(release), "app.gitlab.com/proj": "42"},
            },
            "spec": spec,
        }
    spec = {
        "podSelector": app if index % 2 == 0 else {"matchLabels": {"app": release, "tier": "web"}},
        "ingress": [
            {
                "from": [
                    {"podSelector": app},
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "gitlab-managed-apps"}
                        }
                    },
                ],
                "ports": [{"port": 5000 + index}, {"port": 9090, "protocol": "TCP"}],
            }
        ],
    }
    if index % 3 == 0:
        spec["egress"] = [
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12", "10.244.0.0/16"]}}],
                "ports": [{"port": 5432}],
            },
            {
                "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"port": 53, "protocol": "UDP"}],
            },
        ]
        spec["policyTypes"] = ["Ingress", "Egress"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(release)},
        "spec": spec,
    }


def live_policy(desired: dict[str, Any], serial: int, reorder: bool) -> dict[str, Any]:
    """The object as the API server serves it after ``helm upgrade``.

    The server keeps lists in the order they were applied; ``reorder`` plays an object that
    was applied from a file written in another order (cosmetic, not drift).
    """
    live = json.loads(json.dumps(desired))  # a deep copy, several times faster than copy.deepcopy
    metadata = live["metadata"]
    metadata["annotations"] = {
        "meta.helm.sh/release-name": "production",
        "meta.helm.sh/release-namespace": metadata["namespace"],
    }
    metadata["uid"] = f"00000000-0000-4000-8000-{serial:012d}"
    metadata["resourceVersion"] = str(100_000 + serial)
    metadata["generation"] = 1
    metadata["creationTimestamp"] = "2026-11-02T09:14:07Z"
    metadata["managedFields"] = [
        {
            "apiVersion": live["apiVersion"],
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {}, "f:annotations": {}}, "f:spec": {}},
            "manager": "helm",
            "operation": "Update",
            "time": "2026-11-02T09:14:07Z",
        }
    ]
    spec = live["spec"]
    if live["kind"] == "NetworkPolicy":
        spec.setdefault("policyTypes", ["Ingress"] + (["Egress"] if spec.get("egress") else []))
        for rule in spec.get("ingress", []) + spec.get("egress", []):
            for port in rule.get("ports", []):
                port.setdefault("protocol", "TCP")
            for key in ("from", "to"):
                if key in rule and reorder:
                    rule[key].reverse()
    return live


def generate(namespaces: int, policies: int, drift: float, out: str, desired_format: str = "json") -> str:
    rng = random.Random(20261121)
    target = os.path.join(out, f"drift-{namespaces}x{policies}-{desired_format}")
    os.makedirs(os.path.join(target, "desired"), exist_ok=True)
    os.makedirs(os.path.join(target, "live"), exist_ok=True)
    expected = {"changed": 0, "missing": 0, "unexpected": 0}
    serial = 0
    for chunk_start in range(0, namespaces, PER_FILE):
        desired_objects: list[dict[str, Any]] = []
        live_objects: list[dict[str, Any]] = []
        for n in range(chunk_start, min(namespaces, chunk_start + PER_FILE)):
            namespace = f"proj-{n}-production"
            for index in range(policies):
                serial += 1
                wanted = desired_policy(namespace, index)
                desired_objects.append(wanted)
                live = live_policy(wanted, serial, reorder=rng.random() < 0.1)
                if rng.random() < drift:
                    roll = rng.random()
                    if roll < 0.6:
                        expected["changed"] += 1
                        _change(live, rng)
                    elif roll < 0.8:
                        expected["missing"] += 1
                        continue
                    else:
                        expected["unexpected"] += 1
                        extra = copy.deepcopy(live)
                        extra["metadata"]["name"] += "-old"
                        live_objects.append(extra)
                live_objects.append(live)
        name = f"{chunk_start // PER_FILE:04d}"
        if desired_format == "yaml":
            with open(os.path.join(target, "desired", f"{name}.yaml"), "w", encoding="utf-8") as handle:
                yaml.dump_all(desired_objects, handle, Dumper=_Dumper, sort_keys=False, explicit_start=True)
        else:  # as `autodeploy-netpol render --format json` prints it
            with open(os.path.join(target, "desired", f"{name}.json"), "w", encoding="utf-8") as handle:
                json.dump({"apiVersion": "v1", "kind": "List", "items": desired_objects}, handle, indent=2)
        with open(os.path.join(target, "live", f"{name}.json"), "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "apiVersion": "v1",
                    "kind": "List",
                    "metadata": {"resourceVersion": ""},
                    "items": live_objects,
                },
                handle,
                indent=1,
            )
    with open(os.path.join(target, "expected.json"), "w", encoding="utf-8") as handle:
        json.dump(expected, handle, indent=2)
    return target


def _change(live: dict[str, Any], rng: random.Random) -> None:
    """A hand edit: a port, an added peer, or a label."""
    choice = rng.randrange(3)
    spec = live["spec"]
    if choice == 0:
        if live["kind"] == "NetworkPolicy":
            spec["ingress"][0]["ports"][0]["port"] += 1
        else:
            spec["ingress"][0]["toPorts"][0]["ports"][0]["port"] = "8080"
    elif choice == 1:
        if live["kind"] == "NetworkPolicy":
            spec["ingress"][0]["from"].append({"ipBlock": {"cidr": "0.0.0.0/0"}})
        else:
            spec["ingress"][0]["fromEndpoints"].append({})
    else:
        live["metadata"]["labels"]["chart"] = "auto-deploy-app-2.99.0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=10)
    parser.add_argument("--drift", type=float, default=0.05)
    parser.add_argument("--desired-format", choices=["json", "yaml"], default="json")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out"))
    args = parser.parse_args()
    print(generate(args.namespaces, args.policies, args.drift, args.out, args.desired_format))


if __name__ == "__main__":
    main()
