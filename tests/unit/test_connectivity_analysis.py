"""All-pairs analysis: agrees with the per-flow engine, sets behave like sets, diffs line up."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic_cluster import generate_cluster, generate_cluster_network_policies

from autodeploy_netpol.policy import Endpoint, Model
from autodeploy_netpol.policy.analysis import (
    Baseline,
    ClassIndex,
    NodeKey,
    address_boundaries,
    analyse,
    diff_models,
    same_pods,
)
from autodeploy_netpol.policy.intervals import (
    NO_CONNECTIONS,
    ConnectionSet,
    IntervalSet,
    cidr_range,
    format_ip_range,
    ip_to_int,
)
from autodeploy_netpol.policy.policies import PolicyCompiler


def _reference(model: Model) -> dict[tuple[NodeKey, NodeKey], ConnectionSet]:
    """All pairs through the per-flow engine, one pair at a time (the slow, obvious way)."""
    index = ClassIndex(model, address_boundaries(model.policies), with_ipv6=False)
    edges: dict[tuple[NodeKey, NodeKey], ConnectionSet] = {}

    def keys(position: int, endpoint: Endpoint) -> list[NodeKey]:
        if position < index.pod_count:
            return list(index.workload_names[position])
        if endpoint.kind == "external":
            return [(endpoint.ip_lo, endpoint.ip_hi)]
        return [f"entity:{endpoint.entity}"]

    for i, src in enumerate(index.endpoints):
        for j, dst in enumerate(index.endpoints):
            if src.kind != "pod" and dst.kind != "pod":
                continue
            allowed = model.connectivity(src, dst).allowed
            if not allowed:
                continue
            for a in keys(i, src):
                for b in keys(j, dst):
                    if a != b:
                        edges[(a, b)] = edges.get((a, b), NO_CONNECTIONS).union(allowed)
    return edges


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), cilium=st.booleans())
def test_all_pairs_analysis_equals_per_pair_engine(seed: int, cilium: bool) -> None:
    cluster = generate_cluster(seed, pods=18, policies=10, cilium=cilium)
    model = Model.from_objects(cluster.objects)
    assert analyse(model, with_ipv6=False).edges == _reference(model)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), accepts=st.booleans(), cluster_policies=st.integers(1, 12))
def test_all_pairs_analysis_equals_per_pair_engine_with_cluster_tiers(
    seed: int, accepts: bool, cluster_policies: int
) -> None:
    """The analysis shares tier work between pod classes (by the rules of every layer); the
    per-pair engine evaluates each pair on its own: both must agree, Pass and ties included."""
    cluster = generate_cluster(seed, pods=24, policies=10, profile="namespaced" if seed % 2 else "random")
    tiers = generate_cluster_network_policies(seed, cluster_policies, accepts=accepts)
    model = Model.from_objects([*cluster.objects, *tiers])
    assert analyse(model, with_ipv6=False).edges == _reference(model)


small_ranges = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=5)


def _as_set(ranges: list[tuple[int, int]]) -> set[int]:
    return {value for lo, hi in ranges for value in range(lo, hi + 1)}


@given(small_ranges, small_ranges)
def test_interval_sets_behave_like_sets(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    left, right = IntervalSet(a), IntervalSet(b)
    assert _as_set(list(left.union(right))) == _as_set(a) | _as_set(b)
    assert _as_set(list(left.intersection(right))) == _as_set(a) & _as_set(b)
    assert _as_set(list(left.difference(right))) == _as_set(a) - _as_set(b)
    assert left.issubset(right) == (_as_set(a) <= _as_set(b))
    for value in range(0, 42):
        assert (value in left) == (value in _as_set(a))


def test_connection_set_items_use_report_vocabulary() -> None:
    tcp = ConnectionSet.of("TCP", IntervalSet([(8080, 8080), (9000, 9100)]))
    assert tcp.items() == [("TCP", "8080"), ("TCP", "9000-9100")]
    assert ConnectionSet.of("ANY", IntervalSet([(53, 53)])).items() == [("all", "53")]
    assert ConnectionSet.of("ANY", IntervalSet([(1, 65535)])).items() == [("all", "all")]
    assert tcp.describe() == "TCP 8080,9000-9100"


def test_address_ranges_print_as_cidr_when_they_are_one() -> None:
    assert format_ip_range(*cidr_range("10.0.0.0/8")) == "10.0.0.0/8"
    assert format_ip_range(ip_to_int("10.2.0.0"), ip_to_int("10.255.255.255")) == "10.2.0.0-10.255.255.255"
    assert format_ip_range(*cidr_range("2001:db8::/32")) == "2001:db8::/32"


def _objects(policy_spec: dict[str, Any] | None) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [
        {"kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {},
        },
        {
            "kind": "Pod",
            "metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api"}},
            "spec": {},
        },
    ]
    if policy_spec is not None:
        objects.append(
            {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "shop"}, "spec": policy_spec}
        )
    return objects


def test_diff_reports_what_a_change_opens_and_closes() -> None:
    before = Model.from_objects(_objects(None))
    after = Model.from_objects(
        _objects(
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 8080}]}
                ],
            }
        )
    )
    diff = diff_models(before, after)
    assert not diff.added.edges
    removed = {(c.src, c.dst, c.protocol, c.ports) for c in diff.removed.connections()}
    # api keeps TCP 8080 to web; everything else towards web is gone, from api and from outside
    assert ("shop/api", "shop/web", "TCP", "1-8079") in removed
    assert ("shop/api", "shop/web", "TCP", "8081-65535") in removed
    assert ("shop/api", "shop/web", "UDP", "all") in removed
    assert ("0.0.0.0/0", "shop/web", "all", "all") in removed
    assert all(c.dst == "shop/web" for c in diff.removed.connections())
    reverse = diff_models(after, before)
    assert reverse.added.edges == diff.removed.edges and not reverse.removed.edges


def test_diff_aligns_address_ranges_of_both_sides() -> None:
    egress = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
    }
    wider = {**egress, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/7"}}]}]}
    diff = diff_models(Model.from_objects(_objects(egress)), Model.from_objects(_objects(wider)))
    assert [(c.src, c.dst) for c in diff.added.connections()] == [("shop/web", "11.0.0.0/8")]
    assert not diff.removed.edges


def test_workloads_sharing_labels_are_one_class_but_separate_nodes() -> None:
    objects = [
        *_objects(None),
        {
            "kind": "Pod",
            "metadata": {"name": "web-2", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {},
        },
    ]
    result = analyse(Model.from_objects(objects))
    assert ("shop/web", "shop/web-2") in result.edges and ("shop/web-2", "shop/web") in result.edges
    assert ("shop/web", "shop/web") not in result.edges


def test_cilium_reserved_entities_named_by_a_policy_become_nodes() -> None:
    policy = {
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "c", "namespace": "shop"},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "egress": [{"toEntities": ["kube-apiserver"]}],
        },
    }
    result = analyse(Model.from_objects([*_objects(None), policy])).merged()
    assert result.edges[("shop/web", "entity:kube-apiserver")].is_all()
    assert not any(src == "shop/web" and isinstance(dst, tuple) for src, dst in result.edges)


def _pairwise_difference(before: Model, after: Model) -> bool:
    """Whether any two nodes are connected differently, asked of the per-flow engine pair by pair."""
    cuts = address_boundaries(before.policies) | address_boundaries(after.policies)
    index = ClassIndex(before, cuts, with_ipv6=False, entity_policies=(*before.policies, *after.policies))
    for i, src in enumerate(index.endpoints):
        for j, dst in enumerate(index.endpoints):
            if src.kind != "pod" and dst.kind != "pod":
                continue
            if i == j and len(index.workload_names[i] if i < index.pod_count else ()) < 2:
                continue  # a workload to itself is not an edge
            if before.connectivity(src, dst).allowed != after.connectivity(src, dst).allowed:
                return True
    return False


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), cilium=st.booleans(), removed=st.integers(0, 3), added=st.integers(0, 3))
def test_baseline_judges_a_replacement_like_the_per_flow_engine(
    seed: int, cilium: bool, removed: int, added: int
) -> None:
    """Baseline.diff and Baseline.changes (incremental: only the classes a replaced policy selects,
    rule contributions taken out one by one) agree with the per-flow engine over every pair."""
    cluster = generate_cluster(seed, pods=18, policies=10, cilium=cilium)
    other = generate_cluster(seed + 1, pods=18, policies=6, cilium=cilium)  # same namespace names
    rng = random.Random(seed)
    gone = rng.sample(cluster.policies, min(removed, len(cluster.policies)))
    new = rng.sample(other.policies, min(added, len(other.policies)))
    compiler = PolicyCompiler()
    before = Model.from_objects(cluster.objects, compiler)
    after = Model.from_objects([*(o for o in cluster.objects if o not in gone), *new], compiler)
    assert same_pods(before, after)
    expected = _pairwise_difference(before, after)
    baseline = Baseline(before, other_policies=after.policies)
    assert baseline.diff(after).changed is expected
    removed_policies = [policy for obj in gone for policy in compiler(obj)]
    added_policies = [policy for obj in new for policy in compiler(obj)]
    assert baseline.changes(removed_policies, added_policies) is expected
    # each judged on its own too, against the same baseline (its atoms are reused)
    for obj in gone:
        alone = Model.from_objects([o for o in cluster.objects if o is not obj], compiler)
        assert baseline.changes(compiler(obj), []) is _pairwise_difference(before, alone)
