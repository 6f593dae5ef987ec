"""The drift report's connectivity section: what the deploy opens and closes, cosmetic drift."""

from __future__ import annotations

from typing import Any

from autodeploy_netpol.checks.connectivity_section import connectivity_section, stand_in_pods

NS = "shop-42-production"


def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": NS}, "spec": spec}


APP = {
    "kind": "Deployment",
    "metadata": {"name": "production", "namespace": NS},
    "spec": {"template": {"metadata": {"labels": {"app": "production", "tier": "web"}}}},
}
METRICS = {
    "podSelector": {"matchLabels": {"app": "production"}},
    "ingress": [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"port": 9100}],
        }
    ],
}


def test_a_port_change_is_a_connectivity_change_with_stand_in_sources() -> None:
    live = [APP, policy("metrics", METRICS)]
    desired_spec = {**METRICS, "ingress": [{**METRICS["ingress"][0], "ports": [{"port": 9090}]}]}
    section = connectivity_section(
        live, [policy("metrics", desired_spec)], [("NetworkPolicy", NS, "metrics", "changed")], namespace=NS
    )
    assert section["verdict"] == "changes"
    assert section["added"] == [
        {"src": "monitoring/[any pod]", "dst": f"{NS}/production", "protocol": "TCP", "ports": "9090"}
    ]
    assert section["removed"] == [
        {"src": "monitoring/[any pod]", "dst": f"{NS}/production", "protocol": "TCP", "ports": "9100"}
    ]
    assert section["changingObjects"] == [f"NetworkPolicy {NS}/metrics"] and section["cosmeticObjects"] == []


def test_textual_drift_that_changes_no_connection_is_cosmetic() -> None:
    live = [
        APP,
        policy("metrics", METRICS),
        policy("also", {**METRICS, "podSelector": {"matchLabels": {"tier": "web"}}}),
    ]
    # the desired version drops the second policy, which only repeats the first for the same pods
    section = connectivity_section(
        live, [policy("metrics", METRICS)], [("NetworkPolicy", NS, "also", "unexpected")], namespace=NS
    )
    assert section["verdict"] == "unchanged"
    assert section["cosmeticObjects"] == [f"NetworkPolicy {NS}/also"]


def test_each_drifted_object_is_judged_on_its_own() -> None:
    relabelled = policy("metrics", {**METRICS, "podSelector": {"matchLabels": {"tier": "web"}}})
    opened = policy("debug", {"podSelector": {}, "ingress": [{}]})
    section = connectivity_section(
        [APP, policy("metrics", METRICS)],
        [relabelled, opened],
        [("NetworkPolicy", NS, "metrics", "changed"), ("NetworkPolicy", NS, "debug", "missing")],
        namespace=NS,
    )
    assert section["changingObjects"] == [f"NetworkPolicy {NS}/debug"]
    assert section["cosmeticObjects"] == [f"NetworkPolicy {NS}/metrics"]


def test_stand_ins_skip_selectors_a_real_workload_matches() -> None:
    pods = stand_in_pods([APP, policy("metrics", METRICS)])
    names = sorted(
        f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods if p["kind"] == "Pod"
    )
    assert names == ["monitoring/[any pod]"]


def test_cluster_scoped_policies_of_the_release_take_part_and_clusternetworkpolicy_is_said_unmodelled() -> None:
    # a release's CiliumClusterwideNetworkPolicy (no namespace) is applied like any other drifted object
    deny = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": "deny-monitoring"},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": "production"}},
            "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}]}],
        },
    }
    section = connectivity_section(
        [APP, policy("metrics", METRICS)],
        [deny],
        [("CiliumClusterwideNetworkPolicy", "", "deny-monitoring", "missing")],
        namespace=NS,
    )
    assert section["verdict"] == "changes"
    assert section["removed"] == [
        {"src": "monitoring/[any pod]", "dst": f"{NS}/production", "protocol": "TCP", "ports": "9100"}
    ]
    assert section["changingObjects"] == ["CiliumClusterwideNetworkPolicy deny-monitoring"]
    # a ClusterNetworkPolicy is compared by drift but not modelled: said, never judged
    tiered = {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": "baseline"},
        "spec": {"tier": "Baseline", "priority": 10, "subject": {"namespaces": {}}, "ingress": []},
    }
    section = connectivity_section(
        [APP, policy("metrics", METRICS)],
        [tiered],
        [("ClusterNetworkPolicy", "", "baseline", "missing")],
        namespace=NS,
    )
    assert section["changingObjects"] == [] and section["cosmeticObjects"] == []
    assert "ClusterNetworkPolicy baseline: drifted, not analysed (ClusterNetworkPolicy is not modelled)" in (
        section["notes"]
    )
    assert any(note.startswith("ClusterNetworkPolicy baseline (tier Baseline, priority 10)") for note in section["notes"])
