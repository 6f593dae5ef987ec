"""Generated Auto DevOps environments, known policy sets and recordings for the learner's tests.

:func:`generate_environment` builds a seeded cluster around one Auto DevOps release: its web pods
(stable and canary tracks) and workers labelled as the auto-deploy-app chart labels them
(workers carry no ``app`` label), other workloads of the namespace and of other namespaces (with
the per-pod labels Kubernetes adds: ``pod-template-hash`` …), the ingress controller, monitoring,
kube-dns, Cilium's reserved identities and outside addresses. :func:`generating_policies` is a
known policy set for the app's pods; :func:`connection_universe` every (source, destination,
protocol, port) with an app pod at the end a policy constrains; :func:`record` writes the allowed
connections as ``hubble observe -o jsonpb`` lines (with replies and established packets mixed in).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent / "unit"))

from audit_support import GeneratedCluster, Workload, hubble_line
from synthetic_cluster import generate_cluster

from autodeploy_netpol.policy import Endpoint, Model

RELEASE = "production"
NAMESPACE = "shop"
TRACK_RELEASES = (RELEASE, f"{RELEASE}-canary", f"{RELEASE}-rollout")
CHART = "auto-deploy-app-2.80.1"
ENTITIES = ("host", "kube-apiserver", "remote-node")
#: outside addresses: a payment provider, a CDN range, and scattered internet hosts
OUTSIDE = (
    "203.0.113.10",
    "203.0.113.11",
    "203.0.113.200",
    "198.51.100.7",
    "198.51.100.77",
    "192.0.2.1",
    "93.184.216.34",
    "151.101.1.69",
    "8.8.8.8",
    "1.1.1.1",
)
PORTS = (
    ("TCP", 80),
    ("TCP", 443),
    ("TCP", 5000),
    ("TCP", 5432),
    ("TCP", 6379),
    ("TCP", 8080),
    ("TCP", 8081),
    ("TCP", 9090),
    ("UDP", 53),
    ("TCP", 53),
    ("UDP", 8125),
    ("SCTP", 9000),
)


def _hash(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(10))


def web_labels(track: str, rng: random.Random) -> dict[str, str]:
    release = RELEASE if track == "stable" else f"{RELEASE}-{track}"
    return {
        "app": RELEASE,
        "tier": "web",
        "track": track,
        "release": release,
        "chart": CHART,
        "heritage": "Helm",
        "app.kubernetes.io/name": RELEASE,
        "helm.sh/chart": CHART,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": release,
        "pod-template-hash": _hash(rng),
    }


def worker_labels(name: str, track: str, rng: random.Random) -> dict[str, str]:
    release = RELEASE if track == "stable" else f"{RELEASE}-{track}"
    return {
        "tier": "worker",
        "track": track,
        "release": release,
        "worker": name,
        "pod-template-hash": _hash(rng),
    }


@dataclass
class Environment:
    cluster: GeneratedCluster
    app: list[Workload]  # the app's pods (web and workers, every track present)
    components: dict[str, list[Workload]]  # component → its workloads (tracks)
    others: list[Workload]
    policies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def endpoints(self) -> list[Workload | str]:
        return [*self.cluster.workloads, *ENTITIES, *(f"world:{ip}" for ip in OUTSIDE)]

    def objects(self, policies: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        return [*self.cluster.namespace_objects(), *self.workload_objects(), *(policies or [])]

    def workload_objects(self) -> list[dict[str, Any]]:
        return [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": w.name, "namespace": w.namespace},
                "spec": {"template": {"metadata": {"labels": dict(w.labels)}, "spec": {"containers": []}}},
            }
            for w in self.cluster.workloads
        ]


def generate_environment(seed: int) -> Environment:
    """A cluster around the release ``production`` in namespace ``shop``."""
    rng = random.Random(seed)
    namespaces = {
        NAMESPACE: {"kubernetes.io/metadata.name": NAMESPACE, "team": "shop"},
        "ingress-nginx": {"kubernetes.io/metadata.name": "ingress-nginx"},
        "monitoring": {"kubernetes.io/metadata.name": "monitoring", "team": "platform"},
        "kube-system": {"kubernetes.io/metadata.name": "kube-system"},
        "billing": {"kubernetes.io/metadata.name": "billing", "team": "shop"},
        "shop-staging": {"kubernetes.io/metadata.name": "shop-staging", "team": "shop"},
    }
    cluster = GeneratedCluster(namespaces=namespaces, workloads=[])
    components: dict[str, list[Workload]] = {"web": []}
    for track in ("stable", "canary"):
        name = RELEASE if track == "stable" else f"{RELEASE}-canary"
        components["web"].append(Workload(NAMESPACE, name, web_labels(track, rng)))
    for worker in rng.sample(["mailer", "jobs", "sync"], k=rng.randint(1, 3)):
        tracks = ["stable", "canary"] if rng.random() < 0.4 else ["stable"]
        components[worker] = [
            Workload(
                NAMESPACE,
                f"{RELEASE}-{worker}" if track == "stable" else f"{RELEASE}-canary-{worker}",
                worker_labels(worker, track, rng),
            )
            for track in tracks
        ]
    app = [w for items in components.values() for w in items]
    others = [
        Workload(
            NAMESPACE,
            f"{RELEASE}-postgresql",
            {"app": "postgresql", "release": f"{RELEASE}-postgresql", "controller-revision-hash": _hash(rng)},
        ),
        Workload(NAMESPACE, "redis", {"app": "redis", "role": "cache", "pod-template-hash": _hash(rng)}),
        Workload(
            "ingress-nginx",
            "ingress-nginx-controller",
            {
                "app.kubernetes.io/name": "ingress-nginx",
                "app.kubernetes.io/component": "controller",
                "pod-template-hash": _hash(rng),
            },
        ),
        Workload(
            "monitoring",
            "prometheus",
            {"app": "prometheus", "statefulset.kubernetes.io/pod-name": "prometheus-0"},
        ),
        Workload("kube-system", "coredns", {"k8s-app": "kube-dns", "pod-template-hash": _hash(rng)}),
        Workload(
            "shop-staging",
            "staging",
            {
                **web_labels("stable", rng),
                "app": "staging",
                "release": "staging",
                "app.kubernetes.io/name": "staging",
                "app.kubernetes.io/instance": "staging",
            },
        ),
    ]
    for index in range(rng.randint(2, 5)):
        namespace = rng.choice([NAMESPACE, "billing", "billing", "shop-staging"])
        labels = {
            "app": f"svc{index}",
            "tier": rng.choice(["api", "batch", "web"]),
            "pod-template-hash": _hash(rng),
        }
        if rng.random() < 0.3:
            labels["version"] = rng.choice(["v1", "v2"])
        others.append(Workload(namespace, f"svc{index}", labels))
    # the rest of the cluster: tests/synthetic_cluster.py's workloads (apps with tiers and tracks
    # of their own, but no `release` label), in namespaces of their own
    synthetic = generate_cluster(seed, pods=12, policies=0, namespaces=2)
    for namespace in synthetic.namespaces:
        name = namespace["metadata"]["name"]
        namespaces[f"other-{name}"] = {
            "kubernetes.io/metadata.name": f"other-{name}",
            **namespace["metadata"]["labels"],
        }
    for workload in synthetic.workloads:
        metadata = workload["metadata"]
        template = workload if workload["kind"] == "Pod" else workload["spec"]["template"]
        labels = dict(template["metadata"]["labels"])
        if workload["kind"] != "Pod":
            labels["pod-template-hash"] = _hash(rng)
        others.append(Workload(f"other-{metadata['namespace']}", metadata["name"], labels))
    cluster.workloads = [*app, *others]
    return Environment(cluster, app, components, others)


# ---------------------------------------------------------------------------------------------
# The known policy set


def _component_selector(env: Environment, component: str) -> dict[str, Any]:
    labels = {"tier": "web"} if component == "web" else {"tier": "worker", "worker": component}
    return {
        "matchLabels": labels,
        "matchExpressions": [{"key": "release", "operator": "In", "values": list(TRACK_RELEASES)}],
    }


def _random_peer(rng: random.Random, env: Environment, direction: str) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.35:
        other = rng.choice([w for w in env.cluster.workloads if w.namespace == NAMESPACE])
        key = rng.choice(
            sorted(
                k
                for k in other.labels
                if k not in ("pod-template-hash", "controller-revision-hash", "chart", "helm.sh/chart")
            )
        )
        return {"podSelector": {"matchLabels": {key: other.labels[key]}}}
    if roll < 0.6:
        other = rng.choice([w for w in env.others if w.namespace != NAMESPACE])
        key = "app" if "app" in other.labels else sorted(other.labels)[0]
        return {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": other.namespace}},
            "podSelector": {"matchLabels": {key: other.labels[key]}},
        }
    if roll < 0.72:
        return {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": rng.choice(["ingress-nginx", "monitoring"])}
            }
        }
    if roll < 0.8:
        return {"podSelector": _component_selector(env, rng.choice(sorted(env.components)))}
    block = rng.choice(["203.0.113.0/24", "198.51.100.0/25", "93.184.216.34/32", "0.0.0.0/0"])
    peer: dict[str, Any] = {"ipBlock": {"cidr": block}}
    if block == "0.0.0.0/0":
        peer["ipBlock"]["except"] = ["10.0.0.0/8", "203.0.113.0/24"]
    return peer


def generating_policies(seed: int, env: Environment, *, egress: bool) -> list[dict[str, Any]]:
    """A known policy set for the app: every pod isolated, each component open to a few peers on a
    few ports (NetworkPolicies), Cilium entities for some (a CiliumNetworkPolicy)."""
    rng = random.Random(seed * 7919 + 1)
    types = ["Ingress", "Egress"] if egress else ["Ingress"]
    policies: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "isolate-app", "namespace": NAMESPACE},
            "spec": {
                "podSelector": {
                    "matchExpressions": [{"key": "release", "operator": "In", "values": list(TRACK_RELEASES)}]
                },
                "policyTypes": types,
                **(
                    {
                        "egress": [
                            {
                                "to": [
                                    {
                                        "namespaceSelector": {
                                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                        },
                                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                    }
                                ],
                                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                            }
                        ]
                    }
                    if egress
                    else {}
                ),
            },
        }
    ]
    for component in sorted(env.components):
        spec: dict[str, Any] = {"podSelector": _component_selector(env, component), "policyTypes": types}
        for direction, key in (("ingress", "from"), ("egress", "to")):
            if direction == "egress" and not egress:
                continue
            rules = []
            for _ in range(rng.randint(1, 3)):
                ports = [
                    {"protocol": protocol, "port": port}
                    for protocol, port in rng.sample([p for p in PORTS if p[1] != 53], k=rng.randint(1, 2))
                ]
                rules.append(
                    {
                        key: [_random_peer(rng, env, direction) for _ in range(rng.randint(1, 2))],
                        "ports": ports,
                    }
                )
            spec[direction] = rules
        policies.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": f"allow-{component}", "namespace": NAMESPACE},
                "spec": spec,
            }
        )
        if rng.random() < 0.6:
            cilium: dict[str, Any] = {"endpointSelector": _component_selector(env, component)}
            cilium["ingress"] = [
                {
                    "fromEntities": rng.sample(["host", "remote-node"], k=1),
                    "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}],
                }
            ]
            if egress:
                cilium["egress"] = [
                    {
                        "toEntities": ["kube-apiserver"],
                        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                    }
                ]
            policies.append(
                {
                    "apiVersion": "cilium.io/v2",
                    "kind": "CiliumNetworkPolicy",
                    "metadata": {"name": f"entities-{component}", "namespace": NAMESPACE},
                    "spec": cilium,
                }
            )
    return policies


# ---------------------------------------------------------------------------------------------
# Connections and recordings


def endpoint_of(peer: Workload | str) -> Endpoint:
    if isinstance(peer, Workload):
        return Endpoint.pod(peer.namespace, peer.labels)
    if peer.startswith("world:"):
        return Endpoint.address(peer.split(":", 1)[1])
    return Endpoint.entity_named(peer)


Connection = tuple[Workload | str, Workload | str, str, int]


def connection_universe(env: Environment, *, egress: bool) -> list[Connection]:
    """Every (source, destination, protocol, port) with an app pod at a constrained end."""
    out: list[Connection] = []
    for target in env.app:
        for other in env.endpoints:
            if other is target:
                continue
            for protocol, port in PORTS:
                out.append((other, target, protocol, port))
                if egress and not (isinstance(other, Workload) and other in env.app):
                    out.append((target, other, protocol, port))
    return out


def split_by_policy(
    env: Environment, policies: list[dict[str, Any]], universe: list[Connection]
) -> tuple[list[Connection], list[Connection]]:
    """(allowed, denied) by ``policies`` over ``universe``."""
    model = Model.from_objects(env.objects(policies))
    allowed, denied = [], []
    for connection in universe:
        source, destination, protocol, port = connection
        verdict = model.verdict(endpoint_of(source), endpoint_of(destination), protocol, port)
        (allowed if verdict.allowed else denied).append(connection)
    return allowed, denied


def record(
    path: Path,
    env: Environment,
    connections: list[Connection],
    *,
    seed: int,
    share: float = 0.9,
    noise: bool = True,
) -> list[Connection]:
    """Write ``hubble observe -o jsonpb`` lines for about ``share`` of ``connections`` (1-4 flows each,
    with replies and established packets); returns the connections recorded."""
    rng = random.Random(seed)
    recorded = [c for c in connections if rng.random() < share]
    lines = []
    second = 0
    for source, destination, protocol, port in recorded:
        for _ in range(rng.randint(1, 4)):
            second += 1
            lines.append(hubble_line(env.cluster, source, destination, protocol, port, second=second))
            if noise:
                lines.append(
                    hubble_line(
                        env.cluster,
                        destination,
                        source,
                        protocol,
                        40000 + second % 1000,
                        second=second,
                        reply=True,
                    )
                )
                if protocol == "TCP":
                    lines.append(
                        hubble_line(
                            env.cluster, source, destination, protocol, port, second=second, established=True
                        )
                    )
    if noise:  # traffic that does not involve the app at all
        for _ in range(20):
            second += 1
            a, b = rng.sample(env.others, 2)
            lines.append(hubble_line(env.cluster, a, b, "TCP", 8080, second=second))
    rng.shuffle(lines)
    path.write_text("\n".join(lines) + "\n")
    return recorded
