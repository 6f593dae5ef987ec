"""Seeded synthetic clusters: namespaces, workloads and policies for tests and benchmarks.

The same seed always gives the same cluster, so a failing differential test or a benchmark
run can be reproduced (``generate_cluster(seed=..., pods=..., policies=...)``). The shapes
cover what the engine must get right: pod and namespace selectors (alone and combined, with
matchExpressions), ipBlocks with except, numeric, ranged and named ports over TCP/UDP/SCTP,
ingress and egress isolation; with ``cilium=True`` also CiliumNetworkPolicies (endpoint
selectors across namespaces, entities, CIDR sets, deny rules).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

TIERS = ("web", "worker", "db", "cache")
TEAMS = ("a", "b", "c")
NAMED_PORTS = (("http", "TCP", 8080), ("metrics", "TCP", 9090), ("dns", "UDP", 53), ("sctp", "SCTP", 7777))
CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "0.0.0.0/0", "203.0.113.0/24", "10.20.0.0/16")


@dataclass(frozen=True)
class SyntheticCluster:
    namespaces: list[dict[str, Any]]
    workloads: list[dict[str, Any]]
    policies: list[dict[str, Any]]

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [*self.namespaces, *self.workloads, *self.policies]


def generate_cluster(
    seed: int,
    *,
    pods: int = 20,
    policies: int = 10,
    namespaces: int | None = None,
    cilium: bool = False,
    nca_compatible: bool = False,
    profile: str = "random",
) -> SyntheticCluster:
    """A reproducible cluster of about ``pods`` pods (Deployments with replicas and bare Pods).

    ``nca_compatible`` leaves out the shapes where NCA 2.1.0 departs from Kubernetes (see
    tests/differential/README.md) so a differential run compares like with like.

    ``profile="random"``: every policy random (selectors, peers, ports of every shape), so most
    pods stay open and connectivity is dense. ``profile="namespaced"``: how clusters with many
    policies look: every app namespace has a default-deny ingress policy, half also deny egress
    but DNS, and the other policies each open one app to a few peers (same-namespace apps, the
    ingress controller's namespace, the monitoring namespace, an address block) on a few ports.
    """
    rng = random.Random(seed)
    namespace_count = namespaces or max(2, min(50, pods // 20))
    ns_objects = []
    ns_names = [f"ns{i}" for i in range(namespace_count)]
    for name in ns_names:
        labels = {"team": rng.choice(TEAMS)}
        if rng.random() < 0.5:
            labels["env"] = rng.choice(("prod", "staging"))
        ns_objects.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        )
    workloads: list[dict[str, Any]] = []
    apps: list[tuple[str, str, dict[str, str]]] = []
    made = 0
    index = 0
    while made < pods:
        namespace = rng.choice(ns_names)
        app = f"app{index}"
        labels = {"app": app, "tier": rng.choice(TIERS)}
        if rng.random() < 0.3:
            labels["track"] = rng.choice(("stable", "canary"))
        ports = [
            {"name": name, "containerPort": number, "protocol": protocol}
            for name, protocol, number in NAMED_PORTS
            if rng.random() < 0.4
        ]
        container = {"name": "main", "image": "registry.example/app:1", "ports": ports}
        replicas = rng.choice((1, 1, 2, 3, 5))
        if rng.random() < 0.2 or replicas == 1:
            workloads.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"{app}-pod", "namespace": namespace, "labels": labels},
                    "spec": {"containers": [container]},
                }
            )
            made += 1
        else:
            workloads.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": app, "namespace": namespace},
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": app}},
                        "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
                    },
                }
            )
            made += replicas
        apps.append((namespace, app, labels))
        index += 1
    if profile == "namespaced":
        return _namespaced(rng, ns_objects, ns_names, workloads, apps, policies)
    policy_objects = []
    for number in range(policies):
        if cilium and rng.random() < 0.5:
            policy_objects.append(_cilium_policy(rng, number, ns_names, apps))
        else:
            policy_objects.append(_network_policy(rng, number, ns_names, apps, nca_compatible))
    return SyntheticCluster(ns_objects, workloads, policy_objects)


def _pod_selector(
    rng: random.Random,
    apps: list[tuple[str, str, dict[str, str]]],
    namespace: str | None,
    presence: bool = True,
) -> dict[str, Any]:
    roll = rng.random()
    local = [a for a in apps if namespace is None or a[0] == namespace] or apps
    if roll < 0.15:
        return {}
    if roll < 0.55:
        return {"matchLabels": {"app": rng.choice(local)[1]}}
    if roll < 0.8:
        return {"matchLabels": {"tier": rng.choice(TIERS)}}
    if roll < 0.9:
        return {
            "matchExpressions": [
                {"key": "tier", "operator": rng.choice(("In", "NotIn")), "values": rng.sample(TIERS, 2)}
            ]
        }
    if not presence:
        return {"matchLabels": {"track": rng.choice(("stable", "canary"))}}
    return {"matchExpressions": [{"key": "track", "operator": rng.choice(("Exists", "DoesNotExist"))}]}


def _namespace_selector(rng: random.Random, ns_names: list[str]) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.2:
        return {}
    if roll < 0.6:
        return {"matchLabels": {"kubernetes.io/metadata.name": rng.choice(ns_names)}}
    if roll < 0.85:
        return {"matchLabels": {"team": rng.choice(TEAMS)}}
    if roll < 0.92:
        return {"matchExpressions": [{"key": "env", "operator": "Exists"}]}
    return {"matchExpressions": [{"key": "env", "operator": rng.choice(("In", "NotIn")), "values": ["prod"]}]}


def _ports(rng: random.Random) -> list[dict[str, Any]] | None:
    if rng.random() < 0.3:
        return None
    ports = []
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        protocol = rng.choice(("TCP", "TCP", "UDP", "SCTP"))
        if roll < 0.45:
            ports.append({"port": rng.choice((80, 443, 53, 8080, 9090, 5432)), "protocol": protocol})
        elif roll < 0.65:
            start = rng.choice((1000, 8000, 30000))
            ports.append({"port": start, "endPort": start + rng.choice((0, 10, 999)), "protocol": protocol})
        elif roll < 0.9:
            name, named_protocol, _ = rng.choice(NAMED_PORTS)
            ports.append({"port": name, "protocol": named_protocol if rng.random() < 0.8 else protocol})
        else:
            ports.append({"protocol": protocol})
    return ports


def _peers(
    rng: random.Random,
    ns_names: list[str],
    apps: list[tuple[str, str, dict[str, str]]],
    namespace: str,
    nca_compatible: bool,
) -> list[Any] | None:
    if rng.random() < 0.15:
        return None
    peers: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.4:
            peers.append({"podSelector": _pod_selector(rng, apps, namespace)})
        elif roll < 0.6:
            peers.append({"namespaceSelector": _namespace_selector(rng, ns_names)})
        elif roll < 0.8:
            # NCA 2.1.0 selects nothing for Exists/DoesNotExist in the podSelector of a
            # namespaceSelector+podSelector peer; nca_compatible leaves that shape out
            pod_selector = _pod_selector(rng, apps, None, presence=not nca_compatible)
            peers.append(
                {"namespaceSelector": _namespace_selector(rng, ns_names), "podSelector": pod_selector}
            )
        else:
            cidr = rng.choice(CIDRS)
            block: dict[str, Any] = {"cidr": cidr}
            if cidr in ("10.0.0.0/8", "0.0.0.0/0") and rng.random() < 0.6:
                block["except"] = (
                    ["10.20.0.0/16"] if cidr == "10.0.0.0/8" else ["10.0.0.0/8", "192.168.1.0/24"]
                )
            peers.append({"ipBlock": block})
    return peers


def _network_policy(
    rng: random.Random,
    number: int,
    ns_names: list[str],
    apps: list[tuple[str, str, dict[str, str]]],
    nca_compatible: bool,
) -> dict[str, Any]:
    namespace = rng.choice(ns_names)
    spec: dict[str, Any] = {"podSelector": _pod_selector(rng, apps, namespace)}
    types = rng.choice((["Ingress"], ["Ingress"], ["Egress"], ["Ingress", "Egress"]))
    spec["policyTypes"] = types
    for direction, key in (("Ingress", "from"), ("Egress", "to")):
        if direction not in types:
            continue
        rules = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            rule: dict[str, Any] = {}
            peers = _peers(rng, ns_names, apps, namespace, nca_compatible)
            if peers is not None:
                rule[key] = peers
            ports = _ports(rng)
            if ports is not None:
                rule["ports"] = ports
            rules.append(rule)
        spec[direction.lower()] = rules
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"np{number}", "namespace": namespace},
        "spec": spec,
    }


def _cilium_selector(
    rng: random.Random, ns_names: list[str], apps: list[tuple[str, str, dict[str, str]]]
) -> dict[str, Any]:
    selector = _pod_selector(rng, apps, None)
    roll = rng.random()
    labels = dict(selector.get("matchLabels", {}))
    if roll < 0.25:
        labels["k8s:io.kubernetes.pod.namespace"] = rng.choice(ns_names)
    elif roll < 0.4:
        labels["io.cilium.k8s.namespace.labels.team"] = rng.choice(TEAMS)
    if labels:
        selector = {**selector, "matchLabels": labels}
    return selector


def _cilium_ports(rng: random.Random) -> list[dict[str, Any]] | None:
    if rng.random() < 0.35:
        return None
    ports = []
    for _ in range(rng.randint(1, 2)):
        port: dict[str, Any] = {"port": str(rng.choice((80, 443, 53, 8080, 0)))}
        if rng.random() < 0.6:
            port["protocol"] = rng.choice(("TCP", "UDP", "ANY"))
        if rng.random() < 0.15 and port["port"] != "0":
            port["endPort"] = int(port["port"]) + 10
        if rng.random() < 0.15:
            port = {"port": rng.choice(NAMED_PORTS)[0]}
        ports.append(port)
    return [{"ports": ports}]


def _cilium_policy(
    rng: random.Random, number: int, ns_names: list[str], apps: list[tuple[str, str, dict[str, str]]]
) -> dict[str, Any]:
    namespace = rng.choice(ns_names)
    spec: dict[str, Any] = {"endpointSelector": _pod_selector(rng, apps, namespace)}
    for key, prefix in (("ingress", "from"), ("egress", "to"), ("ingressDeny", "from"), ("egressDeny", "to")):
        if rng.random() < (0.5 if "Deny" not in key else 0.15):
            continue
        rules = []
        for _ in range(rng.randint(0 if "Deny" not in key else 1, 2)):
            rule: dict[str, Any] = {}
            roll = rng.random()
            if roll < 0.5:
                rule[f"{prefix}Endpoints"] = [
                    _cilium_selector(rng, ns_names, apps) for _ in range(rng.randint(1, 2))
                ]
            elif roll < 0.7:
                rule[f"{prefix}Entities"] = rng.sample(
                    ("world", "cluster", "host", "all", "kube-apiserver"), rng.randint(1, 2)
                )
            elif roll < 0.85:
                rule[f"{prefix}CIDRSet"] = [{"cidr": rng.choice(CIDRS), "except": ["10.20.0.0/16"]}]
            ports = _cilium_ports(rng)
            if ports is not None:
                rule["toPorts"] = ports
            rules.append(rule)
        spec[key] = rules
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": f"cnp{number}", "namespace": namespace},
        "spec": spec,
    }


INFRA = (
    ("gitlab-managed-apps", "ingress-nginx", {"app": "nginx-ingress", "component": "controller"}),
    ("kube-system", "coredns", {"k8s-app": "kube-dns"}),
    ("monitoring", "prometheus", {"app": "prometheus"}),
)


def _namespaced(
    rng: random.Random,
    ns_objects: list[dict[str, Any]],
    ns_names: list[str],
    workloads: list[dict[str, Any]],
    apps: list[tuple[str, str, dict[str, str]]],
    policies: int,
) -> SyntheticCluster:
    for namespace, name, labels in INFRA:
        ns_objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        workloads.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "spec": {"containers": [{"name": "main", "image": "registry.example/infra:1"}]},
            }
        )
    by_namespace: dict[str, list[tuple[str, str, dict[str, str]]]] = {}
    for entry in apps:
        by_namespace.setdefault(entry[0], []).append(entry)
    out: list[dict[str, Any]] = []

    def emit(namespace: str, spec: dict[str, Any]) -> None:
        out.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": f"np{len(out)}", "namespace": namespace},
                "spec": spec,
            }
        )

    dns = {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }
    egress_denied = set()
    for namespace in ns_names:
        if len(out) >= policies:
            break
        emit(namespace, {"podSelector": {}, "policyTypes": ["Ingress"]})
        if rng.random() < 0.5 and len(out) < policies:
            egress_denied.add(namespace)
            emit(namespace, {"podSelector": {}, "policyTypes": ["Egress"], "egress": [dns]})
    while len(out) < policies:
        namespace, app, _ = rng.choice(apps)
        local = by_namespace[namespace]
        peers: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.45:
                peers.append({"podSelector": {"matchLabels": {"app": rng.choice(local)[1]}}})
            elif roll < 0.65:
                peers.append(
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "gitlab-managed-apps"}
                        }
                    }
                )
            elif roll < 0.8:
                peers.append(
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                        "podSelector": {"matchLabels": {"app": "prometheus"}},
                    }
                )
            elif roll < 0.9:
                other = rng.choice(apps)
                peers.append(
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": other[0]}},
                        "podSelector": {"matchLabels": {"tier": other[2]["tier"]}},
                    }
                )
            else:
                peers.append({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.20.0.0/16"]}})
        ports = _ports(rng) or [{"port": "http"}]
        spec: dict[str, Any] = {
            "podSelector": {"matchLabels": {"app": app}},
            "ingress": [{"from": peers, "ports": ports}],
        }
        if namespace in egress_denied and rng.random() < 0.5:
            target = rng.choice(local)
            spec["egress"] = [
                {"to": [{"podSelector": {"matchLabels": {"app": target[1]}}}], "ports": _ports(rng) or []}
            ]
            spec["policyTypes"] = ["Ingress", "Egress"]
        emit(namespace, spec)
    return SyntheticCluster(ns_objects, workloads, out)


def generate_cluster_network_policies(seed: int, count: int, *, accepts: bool = True) -> list[dict[str, Any]]:
    """``count`` ClusterNetworkPolicies (policy.networking.k8s.io/v1alpha2) over the labels of
    :func:`generate_cluster`, shaped like cluster guardrails: three in four in the Admin tier
    (Deny half of the time, Pass three times in ten, else Accept), the rest Baseline (Deny seven
    times in ten, else Accept); random priorities (ties included); subjects by namespace team or by
    pod tier within teams; 1-3 ingress and 0-2 egress rules each, towards namespaces, pods or address
    blocks, on all ports or one TCP/UDP port or range (an Accept always names a port and pods or an
    address block: nobody opens whole teams to each other). ``accepts=False``: guardrails only,
    every Accept becomes a Deny (what an Accept opens adds pairs to the output, which costs any tool
    in proportion; without them the output stays about the size of the NetworkPolicies' own)."""
    rng = random.Random(seed)

    def namespaces() -> dict[str, Any]:
        return {"matchLabels": {"team": rng.choice(TEAMS)}}

    def pods() -> dict[str, Any]:
        return {"namespaceSelector": namespaces(), "podSelector": {"matchLabels": {"tier": rng.choice(TIERS)}}}

    def protocols() -> list[dict[str, Any]] | None:
        roll = rng.random()
        if roll < 0.4:
            return None  # every port
        protocol = rng.choice(("tcp", "udp"))
        if roll < 0.8:
            return [{protocol: {"destinationPort": {"number": rng.choice((53, 80, 443, 5432, 8080, 9090))}}}]
        start = rng.randint(1000, 30000)
        return [{protocol: {"destinationPort": {"range": {"start": start, "end": start + rng.randint(1, 2000)}}}}]

    def action(tier: str) -> str:
        roll = rng.random()
        if tier == "Admin":
            chosen = "Deny" if roll < 0.5 else "Pass" if roll < 0.8 else "Accept"
        else:
            chosen = "Deny" if roll < 0.7 else "Accept"
        return chosen if accepts or chosen != "Accept" else "Deny"

    def rule(index: int, egress: bool, tier: str) -> dict[str, Any]:
        chosen = action(tier)
        roll = rng.random()
        if egress and roll < 0.3:
            peer: dict[str, Any] = {"networks": [rng.choice(CIDRS)]}
        elif roll < 0.65 and chosen != "Accept":
            peer = {"namespaces": namespaces()}
        else:
            peer = {"pods": pods()}
        body: dict[str, Any] = {"name": f"rule-{index}", "action": chosen, ("to" if egress else "from"): [peer]}
        ports = protocols()
        while chosen == "Accept" and ports is None:
            ports = protocols()
        if ports is not None:
            body["protocols"] = ports
        return body

    policies = []
    for number in range(count):
        tier = "Admin" if number % 4 else "Baseline"
        spec: dict[str, Any] = {
            "tier": tier,
            "priority": rng.randint(0, 1000),
            "subject": {"namespaces": namespaces()} if rng.random() < 0.5 else {"pods": pods()},
            "ingress": [rule(index, False, tier) for index in range(rng.randint(1, 3))],
        }
        egress = [rule(index, True, tier) for index in range(rng.randint(0, 2))]
        if egress:
            spec["egress"] = egress
        policies.append(
            {
                "apiVersion": "policy.networking.k8s.io/v1alpha2",
                "kind": "ClusterNetworkPolicy",
                "metadata": {"name": f"cnp-{number}"},
                "spec": spec,
            }
        )
    return policies
