"""Evaluation and aggregation: generated recordings checked against the connectivity engine."""

from __future__ import annotations

import ipaddress
import random
from collections import Counter
from pathlib import Path

import pytest
from audit_support import GeneratedCluster, Workload, generate_cluster, hubble_line, random_peer
from hypothesis import given, settings
from hypothesis import strategies as st

from autodeploy_netpol.checks import audit as evaluate
from autodeploy_netpol.checks.audit import Audit, PolicyReachability, after_deploy
from autodeploy_netpol.policy import Endpoint, Model
from autodeploy_netpol.sources.flows import EXTERNAL, POD, Peer, ReadStats, read_flows


def _engine_endpoint(peer: Workload | str) -> Endpoint:
    if isinstance(peer, Workload):
        return Endpoint.pod(peer.namespace, peer.labels)
    if peer.startswith("world:"):
        return Endpoint.address(peer.split(":", 1)[1])
    return Endpoint.entity_named(peer)


def _name(peer: Workload | str) -> str:
    if isinstance(peer, Workload):
        return f"{peer.namespace}/{peer.name}"
    return f"world {peer.split(':', 1)[1]}" if peer.startswith("world:") else peer


def _record(cluster: GeneratedCluster, seed: int, path: Path, flows: int) -> Counter:
    """Write a recording; return the expected tally computed with the engine on the generator's endpoints."""
    rng = random.Random(seed * 7 + 1)
    namespaces = cluster.namespace_objects()
    before = Model.from_objects([*cluster.live, *namespaces])
    after_objects = [
        *cluster.desired,
        *[p for p in cluster.live if p["metadata"]["name"] != "app-auto-deploy"],
    ]
    after = Model.from_objects([*after_objects, *namespaces])
    expected: Counter = Counter()
    lines = []
    for second in range(flows):
        source, destination = random_peer(rng, cluster), random_peer(rng, cluster)
        if not isinstance(source, Workload) and not isinstance(destination, Workload):
            destination = rng.choice(cluster.workloads)
        protocol, port = rng.choice(
            (("TCP", 80), ("TCP", 443), ("TCP", 5432), ("UDP", 53), ("SCTP", 9000), ("TCP", 8081))
        )
        noise = rng.random()
        wrapped = rng.random() < 0.8
        if noise < 0.15:  # the reply direction: never counted
            lines.append(
                hubble_line(
                    cluster, destination, source, protocol, 40000, second=second, reply=True, wrapped=wrapped
                )
            )
            continue
        if noise < 0.25 and protocol == "TCP":  # data packet of an established connection
            lines.append(
                hubble_line(cluster, source, destination, protocol, port, second=second, established=True)
            )
            continue
        lines.append(
            hubble_line(cluster, source, destination, protocol, port, second=second, wrapped=wrapped)
        )
        if _name(source) == "host" and isinstance(destination, Workload):
            expected[("from_node",)] += 1  # a pod's own node: counted apart, never judged
            continue
        key = (_name(source), _name(destination), protocol, port)
        src, dst = _engine_endpoint(source), _engine_endpoint(destination)
        allowed_before = before.verdict(src, dst, protocol, port).allowed
        allowed_after = after.verdict(src, dst, protocol, port).allowed
        expected[(*key, "flows")] += 1
        expected[(*key, "would_drop")] += not allowed_after
        expected[(*key, "newly_allowed")] += allowed_after and not allowed_before
        expected[(*key, "denied_before")] += not allowed_before
    path.write_text("\n".join(lines) + "\n")
    return +expected


@pytest.mark.parametrize("seed", range(12))
def test_generated_recordings_match_the_engine(tmp_path, seed):
    cluster = generate_cluster(seed)
    path = tmp_path / "flows.jsonl"
    expected = _record(cluster, seed, path, flows=400)
    namespaces = cluster.namespace_objects()
    live = [*cluster.live, *namespaces]
    before = PolicyReachability.from_objects(live)
    after = PolicyReachability.from_objects(
        after_deploy(cluster.desired, live, namespace="ns0", helm_release="app").objects
    )
    stats = ReadStats()
    audit = Audit(before, after)
    audit.run(read_flows([str(path)], stats))
    result = audit.result(stats)
    got: Counter = Counter()
    for group in result.groups:
        key = (group.source, group.destination, group.protocol, group.port)
        for counter in ("flows", "would_drop", "newly_allowed", "denied_before"):
            got[(*key, counter)] += getattr(group, counter)
    got[("from_node",)] = result.from_node
    assert +got == expected
    assert stats.malformed == 0
    assert result.flows + result.from_node == stats.flows


def test_generated_recordings_exercise_both_outcomes():
    """The generator is only useful if its clusters produce drops and new allows."""
    drops = newly = 0
    for seed in range(12):
        cluster = generate_cluster(seed)
        expected = _record(cluster, seed, Path("/dev/null"), flows=400)
        drops += sum(v for k, v in expected.items() if k[-1] == "would_drop")
        newly += sum(v for k, v in expected.items() if k[-1] == "newly_allowed")
    assert drops > 100 and newly > 20


class CountingReachability:
    """Allows everything except the ports in ``denied``; counts questions."""

    def __init__(self, denied: set[int]) -> None:
        self.denied = denied
        self.questions = 0

    def allows(self, source: Peer, destination: Peer, protocol: str, port: int) -> bool:
        self.questions += 1
        return port not in self.denied


def _flows(*rows):
    web = Peer(POD, "shop/web", "shop", (("app", "web"),))
    api = Peer(POD, "shop/api", "shop", (("app", "api"),))
    for port, time, verdict in rows:
        yield (web, api, "TCP", port, time, verdict)


def test_aggregation_counts_times_and_asks_once_per_connection():
    before, after = CountingReachability({5432}), CountingReachability({8080})
    audit = Audit(before, after)
    audit.run(
        _flows(
            (8080, "2026-11-20T10:00:02.000000000Z", "FORWARDED"),
            (8080, "2026-11-20T10:00:01.000000000Z", "AUDIT"),
            (8080, "", "FORWARDED"),
            (5432, "2026-11-20T10:00:03.000000000Z", "DROPPED"),
        )
    )
    result = audit.result(ReadStats())
    assert before.questions == after.questions == 2
    by_port = {group.port: group for group in result.groups}
    web_api = by_port[8080]
    assert (web_api.flows, web_api.would_drop, web_api.newly_allowed, web_api.denied_before) == (3, 3, 0, 0)
    assert (web_api.first_seen, web_api.last_seen) == (
        "2026-11-20T10:00:01.000000000Z",
        "2026-11-20T10:00:02.000000000Z",
    )
    assert web_api.observed == {"FORWARDED": 2, "AUDIT": 1}
    assert web_api.drop_ratio == 1.0
    db = by_port[5432]
    assert (db.flows, db.would_drop, db.newly_allowed, db.denied_before) == (1, 0, 1, 1)
    assert (result.would_drop, result.newly_allowed) == (3, 1)
    assert [g.port for g in result.dropped_groups] == [8080]
    assert [g.port for g in result.newly_allowed_groups] == [5432]


def test_groups_are_bounded_by_folding_external_addresses(monkeypatch):
    monkeypatch.setattr(evaluate, "MAX_GROUPS", 3)
    web = Peer(POD, "shop/web", "shop", (("app", "web"),))
    flows = [
        (web, Peer(EXTERNAL, f"world 203.0.113.{i}", entity="world", ip=f"203.0.113.{i}"), "TCP", 443, "", "")
        for i in range(10)
    ]
    audit = Audit(CountingReachability(set()), CountingReachability({443}))
    audit.run(flows)
    result = audit.result(ReadStats())
    assert len(result.groups) == 4
    folded = [group for group in result.groups if group.destination == evaluate.OTHER_ADDRESSES]
    assert len(folded) == 1 and folded[0].flows == 7
    assert result.flows == 10 and result.would_drop == 10


def _policy(name, namespace=None, release=None):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if release:
        metadata["annotations"] = {
            "meta.helm.sh/release-name": release,
            "meta.helm.sh/release-namespace": "shop",
        }
    return {"kind": "NetworkPolicy", "metadata": metadata, "spec": {"podSelector": {}}}


def test_objects_after_deploy_replaces_deletes_and_keeps():
    desired = [_policy("production-auto-deploy")]
    live = [
        _policy("production-auto-deploy", "shop", release="production"),  # replaced
        _policy("production-auto-deploy-old", "shop", release="production"),  # no longer rendered: deleted
        _policy("allow-inbound-http", "shop"),  # the UI editor's: stays
        _policy("production-auto-deploy", "other"),  # another namespace: stays
        _policy("canary-auto-deploy", "shop", release="production-canary"),  # another release: stays
        {"kind": "Namespace", "metadata": {"name": "shop"}},
    ]
    after = after_deploy(desired, live, namespace="shop", helm_release="production").objects
    names = sorted((o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in after)
    assert names == [
        ("Namespace", "", "shop"),
        ("NetworkPolicy", "other", "production-auto-deploy"),
        ("NetworkPolicy", "shop", "allow-inbound-http"),
        ("NetworkPolicy", "shop", "canary-auto-deploy"),
        ("NetworkPolicy", "shop", "production-auto-deploy"),
    ]
    assert desired[0]["metadata"] == {"name": "production-auto-deploy"}  # input untouched


def test_recorded_namespace_labels_stand_in_for_unknown_namespaces():
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "from-team", "namespace": "shop"},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "payments"}}}]}],
        },
    }
    reach = PolicyReachability.from_objects([policy])
    api = Peer(POD, "shop/api", "shop", (("app", "api"),))
    billing = Peer(POD, "billing/job", "billing", (("app", "job"),), (("team", "payments"),))
    stranger = Peer(POD, "misc/job", "misc", (("app", "job"),))
    assert reach.allows(billing, api, "TCP", 80)
    assert not reach.allows(stranger, api, "TCP", 80)


cidrs = st.one_of(
    st.builds(lambda a, p: f"{ipaddress.IPv4Address(a)}/{p}", st.integers(0, 2**32 - 1), st.integers(0, 32)),
    st.builds(
        lambda a, p: f"{ipaddress.IPv6Address(a)}/{p}", st.integers(0, 2**128 - 1), st.integers(0, 128)
    ),
)
addresses = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda a: str(ipaddress.IPv4Address(a))),
    st.integers(0, 2**128 - 1).map(lambda a: str(ipaddress.IPv6Address(a))),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(cidrs, st.lists(cidrs, max_size=2)), min_size=1, max_size=4),
    st.lists(addresses, min_size=1, max_size=20),
)
def test_outside_addresses_share_verdicts_only_when_every_cidr_agrees(blocks, ips):
    """Addresses are evaluated through one representative per CIDR interval: same answers as the engine."""
    peers = [{"ipBlock": {"cidr": cidr, "except": excepts}} for cidr, excepts in blocks]
    # Near-boundary addresses are the interesting ones.
    for cidr, _ in blocks:
        network = ipaddress.ip_network(cidr, strict=False)
        ips += [str(network.network_address), str(network.broadcast_address)]
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": peers}],
            "egress": [{"to": peers}],
        },
    }
    reach = PolicyReachability.from_objects([policy])
    model = Model.from_objects([policy])
    web = Peer(POD, "shop/web", "shop", (("app", "web"),))
    pod = Endpoint.pod("shop", {"app": "web"})
    for ip in ips:
        outside = Peer(EXTERNAL, f"world {ip}", entity="world", ip=ip)
        assert (
            reach.allows(web, outside, "TCP", 443)
            == model.verdict(pod, Endpoint.address(ip), "TCP", 443).allowed
        )
        assert (
            reach.allows(outside, web, "TCP", 443)
            == model.verdict(Endpoint.address(ip), pod, "TCP", 443).allowed
        )


def test_cilium_policy_against_recorded_reserved_identities():
    """Entities, CIDRs and namespace-qualified endpoints of a CiliumNetworkPolicy, on the Hubble sample."""
    policy = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "api-egress", "namespace": "shop"},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": "api"}},
            "egress": [
                {"toEntities": ["kube-apiserver"]},
                {"toCIDR": ["93.184.216.0/24"], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]},
                {
                    "toEndpoints": [
                        {
                            "matchLabels": {
                                "k8s:io.kubernetes.pod.namespace": "kube-system",
                                "k8s-app": "kube-dns",
                            }
                        }
                    ],
                    "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}]}],
                },
            ],
        },
    }
    reach = PolicyReachability.from_objects([policy])
    flows = list(
        read_flows([str(Path(__file__).parent.parent / "data" / "audit" / "hubble-flows.jsonl")], ReadStats())
    )
    api = next(f.source for f in flows if f.source.workload == "shop/api")
    apiserver = next(f.destination for f in flows if f.destination.workload == "kube-apiserver")
    world = next(f.destination for f in flows if f.destination.workload == "world 93.184.216.34")
    postgres = next(f.destination for f in flows if f.destination.workload == "shop/postgres")
    dns = next(f.destination for f in flows if f.destination.workload == "kube-system/coredns")
    assert reach.allows(api, apiserver, "TCP", 6443)
    assert reach.allows(api, world, "TCP", 443)
    assert not reach.allows(api, world, "TCP", 80)
    assert reach.allows(api, dns, "UDP", 53)
    assert not reach.allows(api, postgres, "TCP", 5432)
    outside = Peer(EXTERNAL, "world 8.8.8.8", entity="world", ip="8.8.8.8")
    assert not reach.allows(api, outside, "TCP", 443)
