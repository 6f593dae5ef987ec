"""Lint checks (each triggered, and each quiet when the policy is right) and explain's wording."""

from __future__ import annotations

from typing import Any

import pytest

from autodeploy_netpol.checks.explain import explain_model
from autodeploy_netpol.checks.lint import Finding, lint_model
from autodeploy_netpol.errors import Severity
from autodeploy_netpol.policy import Model

APP_NS = "production-42-production"
BASE: list[dict[str, Any]] = [
    {"kind": "Namespace", "metadata": {"name": APP_NS}},
    {"kind": "Namespace", "metadata": {"name": "ingress-nginx"}},
    {"kind": "Namespace", "metadata": {"name": "kube-system"}},
    {
        "kind": "Deployment",
        "metadata": {"name": "production", "namespace": APP_NS},
        "spec": {
            "template": {
                "metadata": {
                    "labels": {"app": "production", "release": "production", "tier": "web", "track": "stable"}
                },
                "spec": {"containers": [{"name": "web", "ports": [{"name": "web", "containerPort": 5000}]}]},
            }
        },
    },
    {
        "kind": "Deployment",
        "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
        "spec": {"template": {"metadata": {"labels": {"app": "nginx-ingress", "component": "controller"}}}},
    },
    {
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "spec": {"template": {"metadata": {"labels": {"k8s-app": "kube-dns"}}}},
    },
]


def policy(name: str, spec: dict[str, Any], kind: str = "NetworkPolicy") -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": APP_NS}, "spec": spec}


FROM_INGRESS_NS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
}
GOOD_INGRESS = policy(
    "web", {"podSelector": {"matchLabels": {"app": "production"}}, "ingress": [{"from": [FROM_INGRESS_NS]}]}
)
DNS_EGRESS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}


def findings(*policies: dict[str, Any], base: list[dict[str, Any]] = BASE, **options: Any) -> list[Finding]:
    return lint_model(Model.from_objects([*base, *policies]), **options)


def checks(found: list[Finding]) -> set[str]:
    return {f.check for f in found}


def test_a_correct_policy_set_has_no_finding() -> None:
    egress = policy(
        "egress",
        {"podSelector": {}, "policyTypes": ["Egress"], "egress": [DNS_EGRESS, {"to": [{"podSelector": {}}]}]},
    )
    assert findings(GOOD_INGRESS, egress) == []


def test_gitlab_env_pod_label_selects_nothing_with_a_hint() -> None:
    found = findings(
        policy("doc", {"podSelector": {"matchLabels": {"app.gitlab.com/env": "production"}}, "ingress": [{}]})
    )
    [finding] = [f for f in found if f.check == "selector-matches-nothing"]
    assert (
        finding.severity == Severity.WARNING
        and "annotations" in finding.hint
        and finding.path == ("spec", "podSelector")
    )


def test_peer_selector_matching_no_pod() -> None:
    spec = {
        "podSelector": {},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "gone"}}}, FROM_INGRESS_NS]}],
    }
    found = findings(policy("p", spec))
    assert [f.path for f in found if f.check == "peer-matches-nothing"] == [("spec", "ingress", 0, "from", 0)]


def test_gitlab_managed_by_namespace_label_usually_missing() -> None:
    spec = {
        "podSelector": {},
        "ingress": [
            {
                "from": [
                    {"podSelector": {}},
                    {"namespaceSelector": {"matchLabels": {"app.gitlab.com/managed_by": "gitlab"}}},
                ]
            }
        ],
    }
    found = findings(policy("production-auto-deploy", spec))
    assert "namespace-selector-matches-nothing" in checks(found)
    assert "ingress-namespace-cannot-reach" in checks(found)
    labelled = [
        {**o, "metadata": {**o["metadata"], "labels": {"app.gitlab.com/managed_by": "gitlab"}}}
        if o["metadata"]["name"] == "ingress-nginx"
        else o
        for o in BASE
    ]
    assert findings(policy("production-auto-deploy", spec), base=labelled) == []


def test_namespace_check_skipped_without_namespace_objects() -> None:
    spec = {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "x"}}}]}]}
    model = Model.from_objects([*BASE, policy("p", spec)])
    assert "namespace-selector-matches-nothing" not in checks(lint_model(model, namespaces_known=False))
    assert "namespace-selector-matches-nothing" in checks(lint_model(model, namespaces_known=True))


def test_egress_restricted_without_dns() -> None:
    no_dns = policy(
        "egress", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]}
    )
    found = findings(GOOD_INGRESS, no_dns)
    [finding] = [f for f in found if f.check == "egress-without-dns"]
    assert "production" in finding.message and finding.severity == Severity.WARNING
    # UDP 53 to the app's own namespace is not DNS
    wrong_place = policy(
        "egress",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}],
        },
    )
    assert "egress-without-dns" in checks(findings(GOOD_INGRESS, wrong_place))


def test_ingress_namespace_option() -> None:
    found = findings(GOOD_INGRESS, ingress_namespace="traefik")
    [finding] = [f for f in found if f.check == "ingress-namespace-cannot-reach"]
    assert finding.severity == Severity.ERROR and "traefik" in finding.message


def test_worker_pods_need_no_ingress_path() -> None:
    worker = {
        "kind": "Deployment",
        "metadata": {"name": "production-worker", "namespace": APP_NS},
        "spec": {"template": {"metadata": {"labels": {"app": "production", "tier": "worker"}}}},
    }
    deny_all = policy(
        "deny", {"podSelector": {"matchLabels": {"tier": "worker"}}, "policyTypes": ["Ingress"]}
    )
    found = findings(GOOD_INGRESS, deny_all, base=[*BASE, worker])
    assert "ingress-namespace-cannot-reach" not in checks(found)


def test_policy_that_isolates_and_allows_nothing() -> None:
    deny = policy("drop-outbound", {"podSelector": {}, "policyTypes": ["Egress"]})
    found = findings(GOOD_INGRESS, deny)
    assert "isolates-and-allows-nothing" in checks(found)
    # a default-deny next to policies that allow something is the normal pattern: no finding
    allow = policy("egress", {"podSelector": {}, "egress": [DNS_EGRESS]})
    assert "isolates-and-allows-nothing" not in checks(findings(GOOD_INGRESS, deny, allow))


def test_shadowed_rule_is_info() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "production"}},
        "ingress": [{"from": [FROM_INGRESS_NS]}, {"from": [FROM_INGRESS_NS], "ports": [{"port": 5000}]}],
    }
    found = findings(policy("web", spec))
    [finding] = [f for f in found if f.check == "shadowed-rule"]
    assert finding.severity == Severity.INFO and finding.path == ("spec", "ingress", 1)
    assert not finding.fails


@pytest.mark.parametrize("order", [0, 1])
def test_identical_rules_report_only_the_later_one(order: int) -> None:
    rules = [{"from": [FROM_INGRESS_NS]}, {"from": [FROM_INGRESS_NS]}]
    found = findings(policy("web", {"podSelector": {}, "ingress": rules[order:] + rules[:order]}))
    assert [f.path for f in found if f.check == "shadowed-rule"] == [("spec", "ingress", 1)]


def test_cilium_l7_rules_are_reported_not_modelled() -> None:
    cnp = policy(
        "l7",
        {
            "endpointSelector": {},
            "ingress": [
                {
                    "fromEndpoints": [
                        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "ingress-nginx"}}
                    ],
                    "toPorts": [
                        {
                            "ports": [{"port": "5000", "protocol": "TCP"}],
                            "rules": {"http": [{"method": "GET"}]},
                        }
                    ],
                }
            ],
        },
        kind="CiliumNetworkPolicy",
    )
    found = findings(cnp)
    assert [f.check for f in found] == ["not-modelled"]


def test_explain_in_plain_words() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "production"}},
        "ingress": [
            {
                "from": [{"podSelector": {"matchLabels": {"app": "api"}}}, FROM_INGRESS_NS],
                "ports": [{"port": 8080}],
            }
        ],
    }
    [explanation] = explain_model(Model.from_objects([*BASE, policy("web", spec)]))
    assert explanation.sentences[0] == (
        f"Pods app=production in namespace {APP_NS}: accept TCP 8080 from pods app=api in the same "
        "namespace and from all pods in namespaces kubernetes.io/metadata.name=ingress-nginx; "
        "all other inbound traffic is dropped (unless another policy selecting them allows it)."
    )
    assert explanation.selects == (f"{APP_NS}/production",)
