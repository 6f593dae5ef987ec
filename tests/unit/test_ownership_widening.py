"""The "does the pipeline's policy widen the UI policies" check, computed with the connectivity engine.

The verdicts of the former structural model are kept where it was right (the fixture, near
misses, policies adding up, disjoint selectors, disabled policies, directions, CIDRs, ports,
named ports, L7 rules). Where it was wrong, a test below says why: it pooled the grants of every
UI policy whatever pods each selects, counted ingress rules that policyTypes switches off, took
Cilium's ``ingress: []`` for isolation, and reported peers no pod can match.
"""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ownership_fixtures import NAMESPACE, desired, live, live_object

from autodeploy_netpol.checks.ownership.widening import compare_with_ui, compile_for_widening
from autodeploy_netpol.policy import Endpoint
from autodeploy_netpol.policy.engine import side_of
from autodeploy_netpol.policy.policies import EGRESS, INGRESS
from autodeploy_netpol.policy.selectors import cilium_labels

NS = "shop"


def np(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def cnp(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": NS}, "spec": spec}


WEB = {"matchLabels": {"app": "web"}}


def ingress_from(*peers: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": list(peers)}
    if ports is not None:
        rule["ports"] = ports
    return {"podSelector": WEB, "ingress": [rule]}


def verdict(pipeline: dict[str, Any], *uis: dict[str, Any]) -> Any:
    (first, *_) = compare_with_ui(pipeline, list(uis), NS)
    return first


# ------------------------------------------------------------------------- the fixture and friends


def test_pipeline_policy_widens_the_ui_policy_in_the_fixture():
    ui = live_object("ui-created", "allow-inbound-http")
    (result,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert result.overlaps and result.widens
    assert result.widened == ("ingress from pods app=production in the same namespace: TCP 5000",)
    assert "WIDENS" in result.summary()


def test_near_miss_pipeline_policy_allowing_less_does_not_widen():
    ui = copy.deepcopy(live_object("ui-created", "allow-inbound-http"))
    ui["spec"]["ingress"] = [
        {"from": [{"podSelector": {}}, {"namespaceSelector": {}}]}
    ]  # all pods, all ports
    (result,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert result.overlaps and not result.widens
    assert "allows nothing beyond it" in result.summary()


def test_ui_policies_add_up_before_judging():
    ui = live_object("ui-created", "allow-inbound-http")
    same_app = copy.deepcopy(ui)
    same_app["metadata"]["name"] = "allow-same-app"
    same_app["spec"]["ingress"] = [{"from": [{"podSelector": {"matchLabels": {"app": "production"}}}]}]
    verdicts = compare_with_ui(desired()[0], [ui, same_app], NAMESPACE)
    assert [v.widens for v in verdicts] == [False, False]


def test_disjoint_selectors_do_not_add_up():
    ui = copy.deepcopy(live_object("ui-created", "allow-inbound-http"))
    ui["spec"]["podSelector"] = {"matchLabels": {"app": "worker"}}
    (result,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert not result.overlaps and not result.widens


def test_selectors_overlap_when_some_pod_can_carry_both():
    ui = copy.deepcopy(live_object("ui-created", "allow-inbound-http"))
    ui["spec"]["podSelector"] = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}
    (result,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert result.overlaps  # a pod labelled app=production, tier=web is selected by both


def test_disabled_ui_policy_selects_nothing():
    ui = live_object("ui-created", "drop-outbound")
    (result,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert not result.overlaps
    assert "selects nothing (disabled in the UI)" in result.notes


def test_ui_policy_not_restricting_the_direction_is_noted_not_widened():
    ui = copy.deepcopy(live_object("ui-created", "allow-inbound-http"))
    ui["spec"] = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]}
    (result,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert result.overlaps and not result.widens
    assert any("does not restrict ingress" in n for n in result.notes)


def test_the_chart_default_policy_widens_a_narrow_ui_cilium_policy():
    # Chart default: every pod in the namespace may reach every pod; a UI Cilium policy on the
    # same pods only admitted the ingress controller.
    chart_default = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "production-auto-deploy"},
        "spec": {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {"podSelector": {}},
                        {"namespaceSelector": {"matchLabels": {"app.gitlab.com/managed_by": "gitlab"}}},
                    ]
                }
            ],
        },
    }
    ui = {
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "allow-ingress-controller"},
        "spec": {
            "endpointSelector": {},
            "ingress": [
                {
                    "fromEndpoints": [
                        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "gitlab-managed-apps"}}
                    ]
                }
            ],
        },
    }
    (result,) = compare_with_ui(chart_default, [ui], "ns")
    assert result.widens
    assert "ingress from all pods in the same namespace: all traffic" in result.widened
    assert (
        "ingress from all pods in namespaces app.gitlab.com/managed_by=gitlab: all traffic" in result.widened
    )


def test_a_cilium_pipeline_policy_is_read_rule_by_rule():
    pipeline = cnp(
        "c",
        {
            "endpointSelector": {"matchLabels": {"k8s:app": "web"}},
            "ingress": [
                {
                    "fromEndpoints": [{"matchLabels": {"app": "api"}}],
                    "toPorts": [{"ports": [{"port": "8080"}]}],
                },
                {"toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}]},
                {},  # allows nothing
            ],
            "egress": [{"toEntities": ["all"]}],
        },
    )
    deny_all = np("deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    result = verdict(pipeline, deny_all)
    assert result.widened == (
        "ingress from anywhere: TCP 9090",
        "ingress from endpoints app=api in the same namespace: any protocol 8080",
        "egress to entity all: all traffic",
    )


def test_all_fixture_ui_policies_are_readable():
    for obj in live("ui-created"):
        compared = compile_for_widening(obj, NAMESPACE, ui=True)
        assert not compared.problem and not compared.notes


def test_a_policy_the_engine_cannot_read_is_noted_not_guessed():
    broken = np("broken", {"podSelector": WEB, "ingress": [{"ports": [{"port": 80, "protocol": "ICMP"}]}]})
    (result,) = compare_with_ui(np("pipe", ingress_from({"podSelector": {}})), [broken], NS)
    assert not result.overlaps and not result.widens
    assert any("could not be read" in note and "ICMP" in note for note in result.notes)


# ----------------------------------------------------------------------------- peers and ports


SAME_NS_ALL = {"podSelector": {}}


@pytest.mark.parametrize(
    ("pipeline_peer", "ui_peer", "widens"),
    [
        (SAME_NS_ALL | {"podSelector": {"matchLabels": {"app": "a"}}}, SAME_NS_ALL, False),
        (SAME_NS_ALL, {"podSelector": {"matchLabels": {"app": "a"}}}, True),
        ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}, SAME_NS_ALL, True),
        (
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}},
            {"namespaceSelector": {}},
            False,
        ),
        ({"ipBlock": {"cidr": "10.1.0.0/16"}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}, False),
        ({"ipBlock": {"cidr": "10.0.0.0/8"}}, {"ipBlock": {"cidr": "10.1.0.0/16"}}, True),
        (
            {"ipBlock": {"cidr": "10.1.2.0/24"}},
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
            True,
        ),
        (
            {"ipBlock": {"cidr": "10.1.2.0/24"}},
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}},
            False,
        ),
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, SAME_NS_ALL, True),  # addresses are not pods
    ],
)
def test_peer_coverage(pipeline_peer: dict[str, Any], ui_peer: dict[str, Any], widens: bool) -> None:
    assert verdict(np("pipe", ingress_from(pipeline_peer)), np("ui", ingress_from(ui_peer))).widens is widens


@pytest.mark.parametrize(
    ("pipeline_ports", "ui_ports", "widened"),
    [
        ([{"port": 80}], None, None),  # the UI allows every port
        ([{"port": 53, "protocol": "UDP"}], [{"port": 53}], "UDP 53"),  # TCP is the default
        ([{"port": 85, "endPort": 86}], [{"port": 80, "endPort": 90}], None),
        ([{"port": 80, "endPort": 81}], [{"port": 80}], "TCP 81"),
        (None, [{"port": 80}], "TCP 1-79,81-65535, UDP all, SCTP all"),
        ([{"port": "http"}], [{"port": "http"}], None),
        ([{"port": "http"}], [{"port": 8080}], "TCP named 'http'"),  # which number is the pod's
        ([{"port": 8080}], [{"port": "http"}], "TCP 8080"),
    ],
)
def test_port_coverage(pipeline_ports: Any, ui_ports: Any, widened: str | None) -> None:
    pipeline = np("pipe", ingress_from(SAME_NS_ALL, ports=pipeline_ports))
    result = verdict(pipeline, np("ui", ingress_from(SAME_NS_ALL, ports=ui_ports)))
    assert result.widened == ((f"ingress from all pods in the same namespace: {widened}",) if widened else ())


def test_cilium_any_protocol_covers_udp():
    ui = cnp("ui", {"endpointSelector": WEB, "ingress": [{"toPorts": [{"ports": [{"port": "53"}]}]}]})
    pipeline = np("pipe", {"podSelector": WEB, "ingress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]})
    assert not verdict(pipeline, ui).widens


def test_ui_l7_rules_filter_what_the_pipeline_lets_through():
    http_get = {"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"method": "GET"}]}}
    ui = cnp("ui", {"endpointSelector": WEB, "ingress": [{"toPorts": [http_get]}]})
    pipeline = np("pipe", {"podSelector": WEB, "ingress": [{"ports": [{"port": 80}]}]})
    result = verdict(pipeline, ui)
    assert result.widened == ("ingress from anywhere: TCP 80",)
    assert any("L7 rules at" in note and "not counted as allowed" in note for note in result.notes)


def test_ui_deny_rules_win_over_the_pipeline():
    ui = cnp(
        "ui",
        {
            "endpointSelector": WEB,
            "ingress": [{"fromEntities": ["all"]}],
            "ingressDeny": [{"fromCIDR": ["10.0.0.0/8"]}],
        },
    )
    pipeline = np("pipe", ingress_from({"ipBlock": {"cidr": "10.1.0.0/16"}}))
    result = verdict(pipeline, ui)
    assert not result.widens
    assert any("deny rules" in note for note in result.notes)


# ----------------------------------------------- where the former structural model was wrong


def test_ui_grants_count_only_on_the_pods_that_ui_policy_selects():
    # The former model pooled the grants of every overlapping UI policy. Here "open-canary"
    # allows everything but only on canary pods; on the stable web pods only "narrow" applies,
    # and the pipeline's rule re-opens what it closed there.
    narrow = np("narrow", ingress_from({"podSelector": {"matchLabels": {"app": "api"}}}))
    open_canary = np(
        "open-canary", {"podSelector": {"matchLabels": {"app": "web", "track": "canary"}}, "ingress": [{}]}
    )
    pipeline = np("pipe", ingress_from(SAME_NS_ALL))
    narrow_verdict, canary_verdict = compare_with_ui(pipeline, [narrow, open_canary], NS)
    assert narrow_verdict.widens
    assert narrow_verdict.widened == ("ingress from all pods in the same namespace: all traffic",)
    assert canary_verdict.overlaps and not canary_verdict.widens  # canary pods: everything was open


def test_ingress_rules_of_an_egress_only_ui_policy_grant_nothing():
    # policyTypes [Egress]: its ingress rules are ignored by Kubernetes (the former model counted them).
    egress_only = np(
        "egress-only", {**ingress_from({"namespaceSelector": {}}), "policyTypes": ["Egress"], "egress": [{}]}
    )
    narrow = np("narrow", ingress_from({"podSelector": {"matchLabels": {"app": "api"}}}))
    pipeline = np("pipe", ingress_from({"namespaceSelector": {}}))
    egress_verdict, narrow_verdict = compare_with_ui(pipeline, [egress_only, narrow], NS)
    assert narrow_verdict.widens and not egress_verdict.widens
    assert any("policyTypes leaves out Ingress" in note for note in egress_verdict.notes)


def test_cilium_empty_ingress_list_does_not_isolate():
    # Cilium: "If omitted or empty, this rule does not apply at ingress" - `ingress: []` closes
    # nothing, so nothing can be widened (the former model took it for a deny-all).
    ui = cnp("ui", {"endpointSelector": WEB, "ingress": []})
    pipeline = np("pipe", ingress_from(SAME_NS_ALL, ports=[{"port": 80}]))
    result = verdict(pipeline, ui)
    assert result.overlaps and not result.widens
    assert any("does not restrict ingress" in note for note in result.notes)
    # while `ingress: [{}]` does isolate (and allows nothing)
    ui["spec"]["ingress"] = [{}]
    assert verdict(pipeline, ui).widens


def test_a_pipeline_peer_no_pod_can_match_widens_nothing():
    # app=a and app DoesNotExist at once: no pod; the former model reported it as widening.
    impossible = {
        "podSelector": {
            "matchLabels": {"app": "a"},
            "matchExpressions": [{"key": "app", "operator": "DoesNotExist"}],
        }
    }
    deny_all = np("deny", {"podSelector": WEB, "policyTypes": ["Ingress"]})
    assert not verdict(np("pipe", ingress_from(impossible)), deny_all).widens


def test_cilium_cluster_entity_covers_every_pod():
    ui = cnp("ui", {"endpointSelector": WEB, "ingress": [{"fromEntities": ["cluster"]}]})
    pipeline = np("pipe", ingress_from({"namespaceSelector": {}}))
    assert not verdict(pipeline, ui).widens


# --------------------------------------------------- the witnesses against every concrete pod

KEYS = ("app", "tier")
VALUES = ("a", "b")
NAMESPACES = (NS, "other")


def _selector(r: random.Random) -> dict[str, Any]:
    if r.random() < 0.3:
        return {}
    out: dict[str, Any] = {}
    if r.random() < 0.8:
        out["matchLabels"] = {r.choice(KEYS): r.choice(VALUES)}
    if r.random() < 0.3:
        operator = r.choice(["In", "NotIn", "Exists", "DoesNotExist"])
        expression: dict[str, Any] = {"key": r.choice(KEYS), "operator": operator}
        if operator in ("In", "NotIn"):
            expression["values"] = r.sample(VALUES, r.randint(1, 2))
        out["matchExpressions"] = [expression]
    return out


def _peer(r: random.Random) -> dict[str, Any]:
    roll = r.random()
    if roll < 0.15:
        return {"ipBlock": {"cidr": r.choice(["10.0.0.0/8", "10.1.0.0/16"])}}
    peer: dict[str, Any] = {}
    if roll < 0.7:
        peer["podSelector"] = _selector(r)
    if roll >= 0.5 or not peer:
        peer["namespaceSelector"] = r.choice(
            [
                {},
                {"matchLabels": {"kubernetes.io/metadata.name": r.choice(NAMESPACES)}},
                {"matchLabels": {"team": "x"}},
            ]
        )
    return peer


def _ports(r: random.Random) -> list[dict[str, Any]] | None:
    if r.random() < 0.35:
        return None
    return [
        r.choice(
            [{"port": 80}, {"port": 443, "protocol": "UDP"}, {"port": 80, "endPort": 90}, {"port": "http"}]
        )
        for _ in range(r.randint(1, 2))
    ]


def _random_policy(r: random.Random, name: str) -> dict[str, Any]:
    if r.random() < 0.2:
        rules = []
        for _ in range(r.randint(0, 2)):
            rule: dict[str, Any] = {}
            if r.random() < 0.6:
                rule["fromEndpoints"] = [_selector(r)]
            if r.random() < 0.5:
                rule["toPorts"] = [{"ports": [{"port": r.choice(["80", "443"])}]}]
            rules.append(rule)
        return cnp(name, {"endpointSelector": _selector(r), "ingress": rules})
    spec: dict[str, Any] = {"podSelector": _selector(r)}
    for direction, key in (("ingress", "from"), ("egress", "to")):
        if r.random() < (0.8 if direction == "ingress" else 0.3):
            rules = []
            for _ in range(r.randint(0, 2)):
                rule = {}
                if r.random() < 0.8:
                    rule[key] = [_peer(r) for _ in range(r.randint(1, 2))]
                ports = _ports(r)
                if ports:
                    rule["ports"] = ports
                rules.append(rule)
            spec[direction] = rules
    if r.random() < 0.3:
        spec["policyTypes"] = r.choice([["Ingress"], ["Egress"], ["Ingress", "Egress"]])
    return np(name, spec)


def _every_pod(namespaces: tuple[str, ...]) -> list[tuple[Endpoint, dict[str, str], dict[str, str]]]:
    """Every pod the vocabulary can tell apart: each key absent, a, b or another value."""
    pods = []
    states = [None, "a", "b", "c"]
    for namespace, team, app, tier in itertools.product((*namespaces, "z"), (None, "x"), states, states):
        labels = {k: v for k, v in (("app", app), ("tier", tier)) if v is not None}
        ns_labels = {"kubernetes.io/metadata.name": namespace, **({"team": team} if team else {})}
        endpoint = Endpoint.pod(namespace, labels, (("http", "TCP", 31337),))
        pods.append((endpoint, ns_labels, cilium_labels(namespace, labels, ns_labels)))
    return pods


OUTSIDE = [(Endpoint.address(ip), {}, {}) for ip in ("10.1.2.3", "10.2.0.1", "8.8.8.8")] + [
    (Endpoint.entity_named(name), {}, {f"reserved:{name}": ""}) for name in ("host", "remote-node")
]


def _brute_force_widens(pipeline: dict[str, Any], uis: list[dict[str, Any]]) -> list[bool]:
    """Per UI policy: is there a pod both select and a peer the pipeline lets through beyond them?"""
    mine = compile_for_widening(pipeline, NS, ui=False).policies
    theirs = [compile_for_widening(ui, NS, ui=True).policies for ui in uis]
    pods = _every_pod(NAMESPACES)
    widens = [False] * len(uis)
    for subject, _, view in pods:
        if subject.namespace != NS:
            continue
        selecting = [p for p in mine if p.selects(subject, view)]
        selected_by = {i: [p for p in t if p.selects(subject, view)] for i, t in enumerate(theirs)}
        selected_by = {i: s for i, s in selected_by.items() if s}
        if not selecting or not selected_by:
            continue
        ui_side = [p for s in selected_by.values() for p in s]
        for direction in (INGRESS, EGRESS):
            before, after = side_of(ui_side, direction), side_of([*selecting, *ui_side], direction)
            opened = False
            for peer, ns_labels, peer_view in [*pods, *OUTSIDE]:
                ports_of = subject.named_ports if direction == INGRESS else peer.named_ports
                _, allowed_after, _, _ = after.allowed(peer, ns_labels, peer_view, ports_of)
                _, allowed_before, _, _ = before.allowed(peer, ns_labels, peer_view, ports_of)
                if allowed_after.difference(allowed_before):
                    opened = True
                    break
            if not opened:
                continue
            for i, s in selected_by.items():
                if any(p.isolates_ingress if direction == INGRESS else p.isolates_egress for p in s):
                    widens[i] = True
    return widens


@settings(max_examples=150)
@given(st.integers(0, 2**32 - 1))
def test_verdicts_match_every_concrete_pod(seed: int) -> None:
    r = random.Random(seed)
    pipeline = _random_policy(r, "pipe")
    uis = [_random_policy(r, f"ui{i}") for i in range(r.randint(1, 2))]
    verdicts = compare_with_ui(pipeline, uis, NS)
    assert [v.widens for v in verdicts] == _brute_force_widens(pipeline, uis)
