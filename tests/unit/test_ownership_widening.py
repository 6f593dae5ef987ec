"""The structural "does the pipeline's policy widen the UI policies" check."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ownership_fixtures import NAMESPACE, desired, live, live_object

from autodeploy_netpol.checks.ownership.widening import (
    Peer,
    Port,
    Requirement,
    compare_with_ui,
    disjoint,
    parse_selector,
    peer_covers,
    policy_model,
    port_covers,
    subsumes,
)

KEYS = ("app", "tier", "track")
VALUES = ("a", "b", "c")

requirements = st.builds(
    Requirement,
    st.sampled_from(KEYS),
    st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
    st.frozensets(st.sampled_from(VALUES), min_size=1, max_size=2),
).map(lambda r: Requirement(r.key, r.operator, r.values if r.operator in ("In", "NotIn") else frozenset()))
selectors = st.frozensets(requirements, max_size=3)
label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)


def matches(selector, labels):
    for r in selector:
        value = labels.get(r.key)
        if r.operator == "In" and value not in r.values:
            return False
        if r.operator == "NotIn" and value in r.values:
            return False
        if r.operator == "Exists" and value is None:
            return False
        if r.operator == "DoesNotExist" and value is not None:
            return False
    return True


@given(selectors, selectors, label_sets)
def test_subsumes_is_sound(broad, narrow, labels):
    if subsumes(broad, narrow) and matches(narrow, labels):
        assert matches(broad, labels)


@given(selectors, selectors, label_sets)
def test_disjoint_is_sound(a, b, labels):
    if disjoint(a, b):
        assert not (matches(a, labels) and matches(b, labels))


def test_disjoint_and_subsumes_examples():
    app_a = parse_selector({"matchLabels": {"app": "a"}})
    app_b = parse_selector({"matchLabels": {"app": "b"}})
    app_a_web = parse_selector({"matchLabels": {"app": "a", "tier": "web"}})
    assert disjoint(app_a, app_b) and not disjoint(app_a, app_a_web)
    assert subsumes(frozenset(), app_a) and subsumes(app_a, app_a_web) and not subsumes(app_a_web, app_a)
    in_ab = parse_selector({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]})
    assert subsumes(in_ab, app_a) and not subsumes(app_a, in_ab)


def _pods(pods=None, namespace="ns"):
    return Peer(
        "pods",
        namespaces=frozenset({Requirement("kubernetes.io/metadata.name", "In", frozenset({namespace}))}),
        pods=parse_selector(pods or {}),
    )


@pytest.mark.parametrize(
    ("broad", "narrow", "covered"),
    [
        (_pods(), _pods({"matchLabels": {"app": "a"}}), True),
        (_pods({"matchLabels": {"app": "a"}}), _pods(), False),
        (_pods(), _pods(namespace="other"), False),
        (Peer("pods"), _pods(namespace="other"), True),  # every pod in every namespace
        (Peer("cidr", cidr="10.0.0.0/8"), Peer("cidr", cidr="10.1.0.0/16"), True),
        (Peer("cidr", cidr="10.1.0.0/16"), Peer("cidr", cidr="10.0.0.0/8"), False),
        (Peer("cidr", cidr="10.0.0.0/8", excepts=("10.1.0.0/16",)), Peer("cidr", cidr="10.1.2.0/24"), False),
        (Peer("cidr", cidr="10.0.0.0/8", excepts=("10.9.0.0/16",)), Peer("cidr", cidr="10.1.2.0/24"), True),
        (Peer("any"), Peer("cidr", cidr="0.0.0.0/0"), True),
        (Peer("cidr", cidr="0.0.0.0/0"), _pods(), False),
    ],
)
def test_peer_covers(broad, narrow, covered):
    assert peer_covers(broad, narrow) is covered


@pytest.mark.parametrize(
    ("broad", "narrow", "covered"),
    [
        (Port(), Port("TCP", 80, 80), True),
        (Port("TCP"), Port("UDP", 53, 53), False),
        (Port("TCP", 80, 90), Port("TCP", 85, 86), True),
        (Port("TCP", 80, 80), Port("TCP", 80, 81), False),
        (Port("ANY", 53, 53), Port("UDP", 53, 53), True),
        (Port("TCP", 80, 80), Port("TCP"), False),
        (Port("TCP", name="http"), Port("TCP", name="http"), True),
        (Port("TCP", 80, 80), Port("TCP", name="http"), False),
        (Port("TCP", 80, 80, l7="{'http': [{'method': 'GET'}]}"), Port("TCP", 80, 80), False),
    ],
)
def test_port_covers(broad, narrow, covered):
    assert port_covers(broad, narrow) is covered


def test_pipeline_policy_widens_the_ui_policy_in_the_fixture():
    ui = live_object("ui-created", "allow-inbound-http")
    (verdict,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert verdict.overlaps and verdict.widens
    assert verdict.widened == (
        "ingress from pods (app=production) in namespace shop-42-production on TCP/5000",
    )
    assert "WIDENS" in verdict.summary()


def test_near_miss_pipeline_policy_allowing_less_does_not_widen():
    ui = copy.deepcopy(live_object("ui-created", "allow-inbound-http"))
    ui["spec"]["ingress"] = [
        {"from": [{"podSelector": {}}, {"namespaceSelector": {}}]}
    ]  # all pods, all ports
    (verdict,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert verdict.overlaps and not verdict.widens
    assert "allows nothing beyond it" in verdict.summary()


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
    (verdict,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert not verdict.overlaps and not verdict.widens


def test_disabled_ui_policy_selects_nothing():
    ui = live_object("ui-created", "drop-outbound")
    (verdict,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert not verdict.overlaps
    assert "selects nothing (disabled in the UI)" in verdict.notes


def test_ui_policy_not_restricting_the_direction_is_noted_not_widened():
    ui = copy.deepcopy(live_object("ui-created", "allow-inbound-http"))
    ui["spec"] = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]}
    (verdict,) = compare_with_ui(desired()[0], [ui], NAMESPACE)
    assert verdict.overlaps and not verdict.widens
    assert any("does not restrict ingress" in n for n in verdict.notes)


def test_cilium_models():
    cnp = {
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "c"},
        "spec": {
            "endpointSelector": {"matchLabels": {"k8s:app": "production"}},
            "ingress": [
                {
                    "fromEndpoints": [{"matchLabels": {"app": "web"}}],
                    "toPorts": [{"ports": [{"port": "8080"}]}],
                },
                {"toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}]},
                {},
            ],
            "egress": [{"toEntities": ["all"]}],
        },
    }
    model = policy_model(cnp, "ns")
    assert model.selects == frozenset({Requirement("app", "In", frozenset({"production"}))})
    assert model.isolates == frozenset({"ingress", "egress"})
    texts = sorted(str(a) for a in model.allowances)
    assert texts == [
        "egress to anywhere on any port",
        "ingress from anywhere on TCP/9090",
        "ingress from pods (app=web) in namespace ns on 8080",
    ]


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
    (verdict,) = compare_with_ui(chart_default, [ui], "ns")
    assert verdict.widens
    assert "ingress from every pod in namespace ns on any port" in verdict.widened


def test_all_fixture_ui_policies_are_readable():
    for obj in live("ui-created"):
        assert not policy_model(obj, NAMESPACE).unread
