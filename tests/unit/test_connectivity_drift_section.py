"""The drift report's connectivity section: what the deploy opens and closes, which drifted
objects change no connection, and endpoints that are real or clearly hypothetical."""

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
        {
            "src": "monitoring/(hypothetical) any pod",
            "dst": f"{NS}/production",
            "protocol": "TCP",
            "ports": "9090",
        }
    ]
    assert section["removed"] == [
        {
            "src": "monitoring/(hypothetical) any pod",
            "dst": f"{NS}/production",
            "protocol": "TCP",
            "ports": "9100",
        }
    ]
    assert (
        section["changingObjects"] == [f"NetworkPolicy {NS}/metrics"] and section["unchangingObjects"] == []
    )


def test_textual_drift_that_changes_no_connection_is_said_so_not_called_cosmetic() -> None:
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
    assert section["unchangingObjects"] == [f"NetworkPolicy {NS}/also"]


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
    assert section["unchangingObjects"] == [f"NetworkPolicy {NS}/metrics"]


def test_stand_ins_skip_selectors_a_real_workload_matches() -> None:
    pods = stand_in_pods([APP, policy("metrics", METRICS)])
    names = sorted(
        f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods if p["kind"] == "Pod"
    )
    assert names == ["monitoring/(hypothetical) any pod"]


MONITORING = [
    {
        "kind": "Namespace",
        "metadata": {"name": "monitoring", "labels": {"kubernetes.io/metadata.name": "monitoring"}},
    },
    {
        "kind": "Deployment",
        "metadata": {"name": "prometheus", "namespace": "monitoring"},
        "spec": {"template": {"metadata": {"labels": {"app": "prometheus"}}}},
    },
]


def test_endpoints_the_live_state_lists_are_the_real_ones_in_connectivity_notation() -> None:
    live = [APP, *MONITORING, policy("metrics", METRICS)]
    desired_spec = {
        **METRICS,
        "ingress": [{**METRICS["ingress"][0], "ports": [{"port": 9090}, {"port": 53, "protocol": "UDP"}]}],
    }
    section = connectivity_section(
        live, [policy("metrics", desired_spec)], [("NetworkPolicy", NS, "metrics", "changed")], namespace=NS
    )
    assert section["hypothetical"] == [] and section["workloads"] == 2
    assert section["addedPairs"] == [
        {"src": "monitoring/prometheus", "dst": f"{NS}/production", "allowed": "TCP 9090, UDP 53"}
    ]
    assert section["removedPairs"] == [
        {"src": "monitoring/prometheus", "dst": f"{NS}/production", "allowed": "TCP 9100"}
    ]
    assert not any("hypothetical" in note for note in section["notes"])


def test_a_missing_default_deny_changes_connections_and_is_never_called_cosmetic() -> None:
    from autodeploy_netpol.report.drift_connectivity import section_lines, section_markdown

    deny = policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    section = connectivity_section(
        [APP, *MONITORING], [deny], [("NetworkPolicy", NS, "default-deny", "missing")], namespace=NS
    )
    assert section["verdict"] == "changes" and section["changingObjects"] == [
        f"NetworkPolicy {NS}/default-deny"
    ]
    assert section["removedPairs"] == [
        {"src": "monitoring/prometheus", "dst": f"{NS}/production", "allowed": "all"},
        {"src": "0.0.0.0/0", "dst": f"{NS}/production", "allowed": "all"},
    ]
    rendered = "\n".join(section_markdown(section)) + "\n".join(line for _, line in section_lines(section))
    assert "cosmetic" not in rendered.lower()


def test_drift_that_changes_no_connection_is_said_so_in_every_format() -> None:
    from autodeploy_netpol.report.drift_connectivity import section_lines, section_markdown

    live = [
        APP,
        *MONITORING,
        policy("metrics", METRICS),
        policy("also", {**METRICS, "podSelector": {"matchLabels": {"tier": "web"}}}),
    ]
    section = connectivity_section(
        live, [policy("metrics", METRICS)], [("NetworkPolicy", NS, "also", "unexpected")], namespace=NS
    )
    markdown = "\n".join(section_markdown(section))
    assert "the deploy changes no connection among the 2 workloads of the live state" in markdown
    assert (
        "Drift that changes no connection among the 2 workloads of the live state (it still changes"
        in markdown
    )
    text = "\n".join(line for _, line in section_lines(section))
    assert f"changes no connection (still a change in what policies allow): NetworkPolicy {NS}/also" in text
    # reports saved before the field was renamed are read, and still not called cosmetic
    old = {**section, "cosmeticObjects": section.pop("unchangingObjects")}
    assert "cosmetic" not in "\n".join(section_markdown(old)).lower()


def test_a_live_policy_the_engine_cannot_compile_is_noted_and_the_section_goes_on() -> None:
    bad = policy(
        "bad-cidr",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}],
        },
    )
    live = [APP, *MONITORING, policy("metrics", METRICS), bad]
    desired_spec = {**METRICS, "ingress": [{**METRICS["ingress"][0], "ports": [{"port": 9090}]}]}
    section = connectivity_section(
        live, [policy("metrics", desired_spec)], [("NetworkPolicy", NS, "metrics", "changed")], namespace=NS
    )
    assert section["verdict"] == "changes"
    assert section["addedPairs"] == [
        {"src": "monitoring/prometheus", "dst": f"{NS}/production", "allowed": "TCP 9090"}
    ]
    (note,) = [note for note in section["notes"] if "bad-cidr" in note]
    assert note.startswith(
        f"NetworkPolicy {NS}/bad-cidr (live) is left out: it cannot be modelled (invalid CIDR"
    )
    assert "at spec.egress[0].to[0].ipBlock" in note


def test_the_text_report_shows_hostile_names_without_escape_sequences() -> None:
    from autodeploy_netpol.report.text import render_text

    section = {
        "verdict": "changes",
        "addedPairs": [{"src": "ns/evil\x1b[2J\x1b]0;title\x07", "dst": "shop/web", "allowed": "TCP 80"}],
        "removedPairs": [],
        "notes": ["note\x1b[31m red\rover"],
        "workloads": 1,
    }
    text = render_text({"connectivity": section, "summary": {}}, color=False)
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "+ ns/evil␛[2J␛]0;title␇ => shop/web : TCP 80" in text


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
    assert section["removedPairs"] == [
        {"src": "monitoring/(hypothetical) any pod", "dst": f"{NS}/production", "allowed": "TCP 9100"}
    ]
    assert section["changingObjects"] == ["CiliumClusterwideNetworkPolicy deny-monitoring"]
