"""Normalization: every default and equivalence, each with a case that must be drift and one that must not."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodeploy_netpol.checks.diff import FieldChange, diff_policies
from autodeploy_netpol.policy.normalize import canonical, normalize_policy


def netpol(spec: Any, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web", "namespace": "prod", **metadata},
        "spec": spec,
    }


def cnp(spec: Any, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "web", "namespace": "prod", **metadata},
        "spec": spec,
    }


def verdict(desired: dict[str, Any], live: dict[str, Any]) -> tuple[tuple[FieldChange, ...], tuple[str, ...]]:
    """(changes, cosmetic) between two manifests."""
    return diff_policies(normalize_policy(desired), normalize_policy(live))


APP = {"matchLabels": {"app": "web"}}
FROM_APP = [{"from": [{"podSelector": APP}]}]

# (id, desired, live, is_drift). Desired is what a person writes; live is what the API serves.
CASES = [
    # Cilium: "if omitted or empty, this rule does not apply at ingress/egress"
    (
        "a Cilium ingress: [] is an absent ingress",
        cnp({"endpointSelector": APP, "ingress": [], "egress": [{"toEntities": ["world"]}]}),
        cnp({"endpointSelector": APP, "egress": [{"toEntities": ["world"]}]}),
        False,
    ),
    (
        "a Cilium egressDeny: [] is an absent egressDeny",
        cnp({"endpointSelector": APP, "ingress": [{}], "egressDeny": []}),
        cnp({"endpointSelector": APP, "ingress": [{}]}),
        False,
    ),
    (
        "a Cilium ingress: [{}] is not an absent ingress (it denies every connection in)",
        cnp({"endpointSelector": APP, "ingress": [{}], "egress": [{"toEntities": ["world"]}]}),
        cnp({"endpointSelector": APP, "egress": [{"toEntities": ["world"]}]}),
        True,
    ),
    (
        "with policyTypes given, a NetworkPolicy ingress: [] is an absent ingress (both allow nothing)",
        netpol({"podSelector": APP, "ingress": [], "policyTypes": ["Ingress", "Egress"]}),
        netpol({"podSelector": APP, "policyTypes": ["Ingress", "Egress"]}),
        False,
    ),
    # policyTypes: set by the server only when empty
    (
        "policyTypes defaulted to Ingress",
        netpol({"podSelector": APP, "ingress": FROM_APP}),
        netpol({"podSelector": APP, "ingress": FROM_APP, "policyTypes": ["Ingress"]}),
        False,
    ),
    (
        "policyTypes Ingress+Egress when egress rules exist",
        netpol({"podSelector": APP, "egress": [{}]}),
        netpol({"podSelector": APP, "egress": [{}], "policyTypes": ["Ingress", "Egress"]}),
        False,
    ),
    (
        "egress: [] adds no Egress type",
        netpol({"podSelector": APP, "egress": []}),
        netpol({"podSelector": APP, "policyTypes": ["Ingress"]}),
        False,
    ),
    (
        "explicit Egress-only differs from the default",
        netpol({"podSelector": APP, "policyTypes": ["Egress"]}),
        netpol({"podSelector": APP, "policyTypes": ["Ingress"]}),
        True,
    ),
    (
        "egress: [] with explicit Egress type denies all egress, unlike the default",
        netpol({"podSelector": APP, "egress": [], "policyTypes": ["Ingress", "Egress"]}),
        netpol({"podSelector": APP, "policyTypes": ["Ingress"]}),
        True,
    ),
    (
        "policyTypes order is free",
        netpol({"podSelector": APP, "policyTypes": ["Egress", "Ingress"]}),
        netpol({"podSelector": APP, "policyTypes": ["Ingress", "Egress"]}),
        False,
    ),
    # protocol TCP default for NetworkPolicy
    (
        "NetworkPolicy port without protocol is TCP",
        netpol({"podSelector": APP, "ingress": [{"ports": [{"port": 80}]}]}),
        netpol(
            {
                "podSelector": APP,
                "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}],
                "policyTypes": ["Ingress"],
            }
        ),
        False,
    ),
    (
        "NetworkPolicy port without protocol is not UDP",
        netpol({"podSelector": APP, "ingress": [{"ports": [{"port": 53}]}]}),
        netpol(
            {
                "podSelector": APP,
                "ingress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
                "policyTypes": ["Ingress"],
            }
        ),
        True,
    ),
    (
        "port number 80 is not the named port '80'",
        netpol({"podSelector": APP, "ingress": [{"ports": [{"port": "80"}]}]}),
        netpol({"podSelector": APP, "ingress": [{"ports": [{"port": 80}]}]}),
        True,
    ),
    # CiliumNetworkPolicy: omitted protocol means ANY, never TCP; ports are strings
    (
        "Cilium omitted protocol is ANY",
        cnp({"endpointSelector": APP, "ingress": [{"toPorts": [{"ports": [{"port": "80"}]}]}]}),
        cnp(
            {
                "endpointSelector": APP,
                "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "ANY"}]}]}],
            }
        ),
        False,
    ),
    (
        "Cilium omitted protocol is never TCP",
        cnp({"endpointSelector": APP, "ingress": [{"toPorts": [{"ports": [{"port": "80"}]}]}]}),
        cnp(
            {
                "endpointSelector": APP,
                "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}],
            }
        ),
        True,
    ),
    (
        "Cilium port 80 is the string '80'",
        cnp(
            {
                "endpointSelector": APP,
                "ingress": [{"toPorts": [{"ports": [{"port": 80, "protocol": "TCP"}]}]}],
            }
        ),
        cnp(
            {
                "endpointSelector": APP,
                "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}],
            }
        ),
        False,
    ),
    (
        "Cilium port 80 is not 8080",
        cnp(
            {
                "endpointSelector": APP,
                "ingress": [{"toPorts": [{"ports": [{"port": 80, "protocol": "TCP"}]}]}],
            }
        ),
        cnp(
            {
                "endpointSelector": APP,
                "ingress": [{"toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]}],
            }
        ),
        True,
    ),
    # empty selectors
    (
        "{} is {matchLabels: {}}",
        netpol(
            {
                "podSelector": {"matchLabels": {}},
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {}}}]}],
            }
        ),
        netpol(
            {
                "podSelector": {},
                "ingress": [{"from": [{"namespaceSelector": {}}]}],
                "policyTypes": ["Ingress"],
            }
        ),
        False,
    ),
    (
        "missing podSelector is served as {}",
        netpol({"ingress": FROM_APP}),
        netpol({"podSelector": {}, "ingress": FROM_APP, "policyTypes": ["Ingress"]}),
        False,
    ),
    (
        "a peer's absent namespaceSelector (own namespace) is not {} (all namespaces)",
        netpol({"podSelector": {}, "ingress": [{"from": [{"podSelector": APP}]}]}),
        netpol({"podSelector": {}, "ingress": [{"from": [{"podSelector": APP, "namespaceSelector": {}}]}]}),
        True,
    ),
    (
        "Cilium endpointSelector {} is {matchLabels: {}}",
        cnp({"endpointSelector": {"matchLabels": {}}, "ingress": [{"fromEndpoints": [{"matchLabels": {}}]}]}),
        cnp({"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}]}]}),
        False,
    ),
    (
        "Cilium empty endpoint selector is not an app selector",
        cnp({"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}]}]}),
        cnp({"endpointSelector": {}, "ingress": [{"fromEndpoints": [APP]}]}),
        True,
    ),
    (
        "Cilium any:app is app",
        cnp(
            {
                "endpointSelector": {"matchLabels": {"any:app": "web"}},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"any:app": "web"}}]}],
            }
        ),
        cnp({"endpointSelector": APP, "ingress": [{"fromEndpoints": [APP]}]}),
        False,
    ),
    (
        "Cilium k8s:app is not app (another label source)",
        cnp({"endpointSelector": {"matchLabels": {"k8s:app": "web"}}}),
        cnp({"endpointSelector": APP}),
        True,
    ),
    (
        "NetworkPolicy any:app is a different label key",
        netpol({"podSelector": {"matchLabels": {"any:app": "web"}}}),
        netpol({"podSelector": APP}),
        True,
    ),
    # order-free lists: rules, peers, ports, except
    (
        "rules in another order",
        netpol({"podSelector": {}, "ingress": [{"from": [{"podSelector": APP}]}, {"ports": [{"port": 80}]}]}),
        netpol({"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}, {"from": [{"podSelector": APP}]}]}),
        False,
    ),
    (
        "peers and ports in another order, with a repeat",
        netpol(
            {
                "podSelector": {},
                "ingress": [
                    {
                        "from": [{"podSelector": APP}, {"ipBlock": {"cidr": "10.0.0.0/8"}}],
                        "ports": [{"port": 80}, {"port": 443}],
                    }
                ],
            }
        ),
        netpol(
            {
                "podSelector": {},
                "ingress": [
                    {
                        "from": [
                            {"ipBlock": {"cidr": "10.0.0.0/8"}},
                            {"podSelector": APP},
                            {"podSelector": APP},
                        ],
                        "ports": [{"port": 443}, {"port": 80}],
                    }
                ],
            }
        ),
        False,
    ),
    (
        "except in another order",
        netpol(
            {
                "podSelector": {},
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}]}
                ],
            }
        ),
        netpol(
            {
                "podSelector": {},
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["192.168.0.0/16", "10.0.0.0/8"]}}]}
                ],
            }
        ),
        False,
    ),
    (
        "an except entry more",
        netpol(
            {
                "podSelector": {},
                "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}],
            }
        ),
        netpol(
            {
                "podSelector": {},
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}]}
                ],
            }
        ),
        True,
    ),
    (
        "a rule more",
        netpol({"podSelector": {}, "ingress": FROM_APP}),
        netpol({"podSelector": {}, "ingress": [*FROM_APP, {"ports": [{"port": 80}]}]}),
        True,
    ),
    # matchExpressions In with one value vs matchLabels
    (
        "In with one value is matchLabels",
        netpol({"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}}),
        netpol({"podSelector": APP, "policyTypes": ["Ingress"]}),
        False,
    ),
    (
        "In with two values is not matchLabels",
        netpol(
            {
                "podSelector": {
                    "matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]
                }
            }
        ),
        netpol({"podSelector": APP}),
        True,
    ),
    (
        "NotIn with one value is not matchLabels",
        netpol(
            {"podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}}
        ),
        netpol({"podSelector": APP}),
        True,
    ),
    (
        "In values in another order",
        netpol(
            {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}}
        ),
        netpol(
            {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["b", "a"]}]}}
        ),
        False,
    ),
    # absent, [] and [{}]
    (
        "NetworkPolicy ingress: [] is not stored (same as absent)",
        netpol({"podSelector": {}, "ingress": [], "policyTypes": ["Ingress"]}),
        netpol({"podSelector": {}, "policyTypes": ["Ingress"]}),
        False,
    ),
    (
        "NetworkPolicy ingress: [{}] (allow all) is not [] (deny all)",
        netpol({"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}),
        netpol({"podSelector": {}, "policyTypes": ["Ingress"]}),
        True,
    ),
    (
        "a rule's from: [] is the same as no from",
        netpol({"podSelector": {}, "ingress": [{"from": [], "ports": [{"port": 80}]}]}),
        netpol({"podSelector": {}, "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}]}),
        False,
    ),
    (
        "Cilium ingress: [{}] (default deny) is not absent",
        cnp({"endpointSelector": {}, "ingress": [{}]}),
        cnp({"endpointSelector": {}}),
        True,
    ),
    (
        # was "not absent": Cilium's API says "if omitted or empty, this rule does not apply at
        # ingress", and its default deny counts only a direction with rules
        "Cilium ingress: [] is absent",
        cnp({"endpointSelector": {}, "ingress": []}),
        cnp({"endpointSelector": {}}),
        False,
    ),
    (
        "null is absent",
        netpol({"podSelector": APP, "egress": None, "ingress": FROM_APP}),
        netpol({"podSelector": APP, "ingress": FROM_APP, "policyTypes": ["Ingress"]}),
        False,
    ),
    # server-managed metadata
    (
        "server-managed metadata and bookkeeping annotations are ignored",
        netpol({"podSelector": APP}, labels={"app": "web"}),
        netpol(
            {"podSelector": APP, "policyTypes": ["Ingress"]},
            labels={"app": "web"},
            uid="0b5c",
            resourceVersion="123",
            generation=4,
            creationTimestamp="2026-01-01T00:00:00Z",
            managedFields=[{"manager": "helm", "operation": "Update"}],
            selfLink="/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/web",
            annotations={
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "meta.helm.sh/release-name": "prod",
                "meta.helm.sh/release-namespace": "prod",
            },
        ),
        False,
    ),
    (
        "a label changed is metadata drift",
        netpol({"podSelector": APP}, labels={"chart": "auto-deploy-app-2.100.0"}),
        netpol({"podSelector": APP}, labels={"chart": "auto-deploy-app-2.99.0"}),
        True,
    ),
    (
        # the two objects differ; whether the deploy removes it is the plan's three-way merge
        # (tests/unit/test_drift_three_way.py)
        "an annotation added by hand is a difference",
        netpol({"podSelector": APP}),
        netpol({"podSelector": APP}, annotations={"note": "hand edit"}),
        True,
    ),
]


@pytest.mark.parametrize(
    ("desired", "live", "is_drift"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_normalization_table(desired: dict[str, Any], live: dict[str, Any], is_drift: bool) -> None:
    changes, _ = verdict(desired, live)
    assert bool(changes) is is_drift, changes
    # Comparison is symmetric in its verdict.
    assert bool(verdict(live, desired)[0]) is is_drift


def test_cosmetic_differences_are_explained() -> None:
    result = verdict(
        netpol({"podSelector": APP, "ingress": [{"ports": [{"port": 80}]}]}),
        netpol(
            {
                "podSelector": APP,
                "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}],
                "policyTypes": ["Ingress"],
            }
        ),
    )
    changes, cosmetic = result
    assert changes == ()
    text = "\n".join(cosmetic)
    assert "spec.ingress[0].ports[0].protocol" in text and "TCP" in text
    assert "spec.policyTypes" in text


def test_identical_objects_have_no_cosmetic_note() -> None:
    manifest = netpol({"podSelector": APP, "policyTypes": ["Ingress"]})
    assert verdict(manifest, copy.deepcopy(manifest)) == ((), ())


def test_in_with_conflicting_match_label_is_kept() -> None:
    # app=web AND app In [api] selects nothing; folding it into matchLabels would change that.
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}],
    }
    policy = normalize_policy(netpol({"podSelector": selector}))
    assert policy.spec["podSelector"]["matchExpressions"] == [
        {"key": "app", "operator": "In", "values": ["api"]}
    ]


def test_changed_paths_point_at_the_field() -> None:
    result = verdict(
        netpol({"podSelector": APP, "ingress": [{"from": [{"podSelector": APP}], "ports": [{"port": 80}]}]}),
        netpol(
            {"podSelector": APP, "ingress": [{"from": [{"podSelector": APP}], "ports": [{"port": 8080}]}]}
        ),
    )
    changes, _ = result
    assert [(c.text, c.live, c.desired) for c in changes] == [("spec.ingress[0].ports[0].port", 8080, 80)]


labels = st.dictionaries(st.sampled_from(["app", "tier", "track"]), st.sampled_from(["a", "b"]), max_size=2)
peers = st.lists(
    st.fixed_dictionaries({}, optional={"podSelector": st.fixed_dictionaries({"matchLabels": labels})}),
    max_size=3,
)
ports = st.lists(
    st.fixed_dictionaries(
        {"port": st.integers(1, 3)}, optional={"protocol": st.sampled_from(["TCP", "UDP"])}
    ),
    max_size=3,
)
rules = st.lists(st.fixed_dictionaries({}, optional={"from": peers, "ports": ports}), max_size=3)


@given(rules=rules, seed=st.randoms())
def test_shuffling_lists_is_never_drift(rules: list[dict[str, Any]], seed: Any) -> None:
    shuffled = copy.deepcopy(rules)
    seed.shuffle(shuffled)
    for rule in shuffled:
        for key in ("from", "ports"):
            if key in rule:
                seed.shuffle(rule[key])
    a = normalize_policy(netpol({"podSelector": {}, "ingress": rules}))
    b = normalize_policy(netpol({"podSelector": {}, "ingress": shuffled}))
    assert canonical(a.spec) == canonical(b.spec)
    assert diff_policies(a, b)[0] == ()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "TCP", "In", "80", "app"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "podSelector",
                    "matchLabels",
                    "matchExpressions",
                    "ingress",
                    "egress",
                    "from",
                    "to",
                    "ports",
                    "port",
                    "protocol",
                    "key",
                    "operator",
                    "values",
                    "toPorts",
                    "fromEndpoints",
                    "ipBlock",
                    "except",
                    "policyTypes",
                    "endpointSelector",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(spec=json_values, other=json_values, kind=st.sampled_from(["NetworkPolicy", "CiliumNetworkPolicy"]))
def test_any_spec_shape_compares_without_crashing(spec: Any, other: Any, kind: str) -> None:
    # Snapshots and hand-written streams can hold anything; the comparison reports, never crashes.
    make = netpol if kind == "NetworkPolicy" else cnp
    a, b = normalize_policy(make(spec)), normalize_policy(make(other))
    changes, cosmetic = diff_policies(a, b)
    assert diff_policies(a, a)[0] == ()
    assert not (changes and cosmetic)  # cosmetic notes only when nothing changed
