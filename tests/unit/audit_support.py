"""Generated clusters and flow recordings for the audit tests and bench/audit.py.

A :class:`GeneratedCluster` has namespaces, workloads and two random sets of NetworkPolicies
("live" and "desired"); :func:`hubble_line` writes a flow as Hubble's JSON export does, with the
labels Cilium derives (namespace, namespace labels, service account, cluster).
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass, field
from typing import Any

PORTS = (("TCP", 80), ("TCP", 443), ("TCP", 5432), ("TCP", 8080), ("UDP", 53), ("SCTP", 9000), ("TCP", 9100))
EXTERNAL_IPS = ("203.0.113.7", "203.0.113.200", "198.51.100.20", "10.1.2.3", "192.0.2.77")


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str
    labels: dict[str, str]

    def pod_name(self, index: int) -> str:
        return f"{self.name}-5c8d7f9b4d-{'bcdfg'[index % 5]}x2k{index % 10}"


@dataclass
class GeneratedCluster:
    namespaces: dict[str, dict[str, str]]
    workloads: list[Workload]
    live: list[dict[str, Any]] = field(default_factory=list)
    desired: list[dict[str, Any]] = field(default_factory=list)

    def namespace_objects(self) -> list[dict[str, Any]]:
        return [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
            for name, labels in self.namespaces.items()
        ]


def _selector(rng: random.Random, pool: list[dict[str, str]]) -> dict[str, Any]:
    if rng.random() < 0.25:
        return {}
    labels = rng.choice(pool)
    keys = rng.sample(sorted(labels), k=rng.randint(1, len(labels)))
    if rng.random() < 0.2:
        key = keys[0]
        return {"matchExpressions": [{"key": key, "operator": "In", "values": [labels[key], "other"]}]}
    return {"matchLabels": {key: labels[key] for key in keys}}


def _peer(rng: random.Random, cluster: GeneratedCluster) -> dict[str, Any]:
    roll = rng.random()
    pod_pool = [w.labels for w in cluster.workloads]
    ns_pool = list(cluster.namespaces.values())
    if roll < 0.4:
        return {"podSelector": _selector(rng, pod_pool)}
    if roll < 0.6:
        return {"namespaceSelector": _selector(rng, ns_pool)}
    if roll < 0.8:
        return {"namespaceSelector": _selector(rng, ns_pool), "podSelector": _selector(rng, pod_pool)}
    block: dict[str, Any] = {
        "cidr": rng.choice(["203.0.113.0/24", "0.0.0.0/0", "10.0.0.0/8", "198.51.100.0/24"])
    }
    if block["cidr"] == "0.0.0.0/0" and rng.random() < 0.5:
        block["except"] = ["10.0.0.0/8"]
    return {"ipBlock": block}


def _ports(rng: random.Random) -> list[dict[str, Any]]:
    ports = []
    for protocol, number in rng.sample(PORTS, k=rng.randint(1, 3)):
        entry: dict[str, Any] = {"protocol": protocol, "port": number}
        if rng.random() < 0.15:
            entry["endPort"] = number + rng.randint(1, 100)
        ports.append(entry)
    return ports


def _policy(rng: random.Random, cluster: GeneratedCluster, name: str, namespace: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "podSelector": _selector(
            rng, [w.labels for w in cluster.workloads if w.namespace == namespace] or [{}]
        )
    }
    types = rng.choice([["Ingress"], ["Egress"], ["Ingress", "Egress"]])
    spec["policyTypes"] = types
    for direction, key in (("Ingress", "from"), ("Egress", "to")):
        if direction not in types:
            continue
        rules = []
        for _ in range(rng.randint(0, 3)):
            rule: dict[str, Any] = {}
            if rng.random() < 0.85:
                rule[key] = [_peer(rng, cluster) for _ in range(rng.randint(1, 2))]
            if rng.random() < 0.7:
                rule["ports"] = _ports(rng)
            rules.append(rule)
        spec[direction.lower()] = rules
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def generate_cluster(
    seed: int, *, namespaces: int = 3, workloads_per_namespace: int = 4, policies: int = 4
) -> GeneratedCluster:
    """A random cluster; ``live`` and ``desired`` share the policy name ``app-auto-deploy`` in ns0."""
    rng = random.Random(seed)
    names = [f"ns{i}" for i in range(namespaces)]
    cluster = GeneratedCluster(
        namespaces={
            name: {"kubernetes.io/metadata.name": name, "team": rng.choice(["a", "b"])} for name in names
        },
        workloads=[],
    )
    for namespace in names:
        for index in range(workloads_per_namespace):
            labels = {"app": f"w{index}", "tier": rng.choice(["web", "db"])}
            if rng.random() < 0.5:
                labels["track"] = rng.choice(["stable", "canary"])
            cluster.workloads.append(Workload(namespace, f"w{index}", labels))
    for side in ("live", "desired"):
        objects = getattr(cluster, side)
        objects.append(_policy(rng, cluster, "app-auto-deploy", "ns0"))
        for index in range(policies - 1):
            objects.append(_policy(rng, cluster, f"{side}-{index}", rng.choice(names)))
    return cluster


# ---------------------------------------------------------------------------------------------
# Hubble lines


def cilium_labels(cluster: GeneratedCluster, workload: Workload) -> list[str]:
    labels = [f"k8s:{k}={v}" for k, v in workload.labels.items()]
    labels += [
        f"k8s:io.cilium.k8s.namespace.labels.{k}={v}"
        for k, v in cluster.namespaces[workload.namespace].items()
    ]
    labels += [
        "k8s:io.cilium.k8s.policy.cluster=default",
        "k8s:io.cilium.k8s.policy.serviceaccount=default",
        f"k8s:io.kubernetes.pod.namespace={workload.namespace}",
    ]
    return sorted(labels)


def endpoint_json(cluster: GeneratedCluster, peer: Workload | str, index: int) -> dict[str, Any]:
    """Hubble's Endpoint: a workload's pod, or ``world:<ip>`` / ``host`` / ``kube-apiserver``."""
    if isinstance(peer, Workload):
        return {
            "ID": 1000 + index,
            "identity": 20000 + zlib.crc32(f"{peer.namespace}/{peer.name}".encode()) % 10000,
            "namespace": peer.namespace,
            "labels": cilium_labels(cluster, peer),
            "pod_name": peer.pod_name(index),
            "workloads": [{"name": peer.name, "kind": "Deployment"}],
        }
    if peer.startswith("world:"):
        return {"identity": 2, "labels": ["reserved:world"]}
    return {
        "identity": {"host": 1, "kube-apiserver": 7, "remote-node": 6}[peer],
        "labels": [f"reserved:{peer}"],
    }


def hubble_line(
    cluster: GeneratedCluster,
    source: Workload | str,
    destination: Workload | str,
    protocol: str,
    port: int,
    *,
    second: int,
    reply: bool = False,
    established: bool = False,
    wrapped: bool = True,
    verdict: str = "FORWARDED",
) -> str:
    """One line of ``hubble observe -o jsonpb`` (``wrapped``) or of the older bare-flow output."""
    src_ip = (
        source.split(":", 1)[1] if isinstance(source, str) and source.startswith("world:") else "10.244.1.5"
    )
    dst_ip = (
        destination.split(":", 1)[1]
        if isinstance(destination, str) and destination.startswith("world:")
        else "10.244.2.9"
    )
    if reply:
        src_ip, dst_ip = dst_ip, src_ip
    ports: dict[str, Any] = {"source_port": 40000 + second % 20000, "destination_port": port}
    if protocol == "TCP":
        ports["flags"] = {"ACK": True, "PSH": True} if established else {"SYN": True}
    time = f"2026-11-20T10:{(second // 60) % 60:02d}:{second % 60:02d}.{second * 7919 % 10**9:09d}Z"
    flow = {
        "time": time,
        "uuid": f"00000000-0000-4000-8000-{second:012d}",
        "verdict": verdict,
        "ethernet": {"source": "3e:4f:1a:22:0b:9c", "destination": "9a:1c:77:e0:42:15"},
        "IP": {"source": src_ip, "destination": dst_ip, "ipVersion": "IPv4"},
        "l4": {protocol: ports},
        "source": endpoint_json(cluster, source, second),
        "destination": endpoint_json(cluster, destination, second + 1),
        "Type": "L3_L4",
        "node_name": "worker-1",
        "event_type": {"type": 4},
        "traffic_direction": "EGRESS",
        "trace_observation_point": "TO_STACK",
        "is_reply": reply,
        "Summary": "TCP Flags: SYN" if protocol == "TCP" else protocol,
    }
    record = {"flow": flow, "node_name": "worker-1", "time": time} if wrapped else flow
    return json.dumps(record, separators=(",", ":"))


def random_peer(rng: random.Random, cluster: GeneratedCluster, *, outside: float = 0.15) -> Workload | str:
    roll = rng.random()
    if roll < outside:
        return f"world:{rng.choice(EXTERNAL_IPS)}"
    if roll < outside + 0.05:
        return rng.choice(["host", "kube-apiserver", "remote-node"])
    return rng.choice(cluster.workloads)
