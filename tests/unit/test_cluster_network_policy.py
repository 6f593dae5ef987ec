"""The cluster-scoped tiers on inputs of our own (the peer corpus in ../shared covers the v1alpha1
kinds when present): ClusterNetworkPolicy v1alpha2 and v1beta1 in connectivity (Admin by priority,
then NetworkPolicies, then Baseline; Pass hands over), explain (which rule of which tier decides)
and lint (priority clashes, shadowed tier rules, a Pass with nothing after it)."""

from __future__ import annotations

from typing import Any

import pytest

from autodeploy_netpol.checks.explain import explain_model
from autodeploy_netpol.checks.lint import lint_model
from autodeploy_netpol.policy import Endpoint, Model
from autodeploy_netpol.policy.analysis import analyse


def namespace(name: str, team: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"team": team}}}


def deployment(ns: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": ns},
        "spec": {"template": {"metadata": {"labels": {"app": app}}}},
    }


def cnp(
    name: str, tier: str, ingress: list[dict[str, Any]], priority: int | None = 10, version: str = "v1alpha2"
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "tier": tier,
        "subject": {"namespaces": {"matchLabels": {"team": "shop"}}},
        "ingress": ingress,
    }
    if priority is not None:
        spec["priority"] = priority
    return {
        "apiVersion": f"policy.networking.k8s.io/{version}",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def from_team(team: str, action: str, name: str) -> dict[str, Any]:
    return {"name": name, "action": action, "from": [{"namespaces": {"matchLabels": {"team": team}}}]}


CLUSTER = [
    namespace("shop", "shop"),
    namespace("tools", "tools"),
    namespace("ops", "ops"),
    deployment("shop", "web"),
    deployment("shop", "db"),
    deployment("tools", "scanner"),
    deployment("ops", "backup"),
]
#: db accepts only web (a NetworkPolicy).
DB_POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "db", "namespace": "shop"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
    },
}


def pairs(objects: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    result = analyse(Model.from_objects(objects)).merged()
    return {(src, dst): allowed for src, dst, allowed in result.lines()}


@pytest.mark.parametrize("version", ["v1alpha2", "v1beta1"])
def test_admin_deny_comes_before_networkpolicies_and_pass_hands_over(version: str) -> None:
    deny_tools = cnp("deny-tools", "Admin", [from_team("tools", "Deny", "deny-tools")], version=version)
    accept_ops = cnp("accept-ops", "Admin", [from_team("ops", "Accept", "accept-ops")], 20, version)
    connections = pairs([*CLUSTER, DB_POLICY, deny_tools, accept_ops])
    assert ("tools/scanner", "shop/web") not in connections  # the Admin tier denies it
    assert ("ops/backup", "shop/db") in connections  # Accept overrides the NetworkPolicy's isolation
    assert ("shop/web", "shop/db") in connections and ("ops/backup", "shop/web") in connections
    # Pass: the NetworkPolicy decides (db isolated: only web), web not isolated: allowed
    pass_ops = cnp("pass-ops", "Admin", [from_team("ops", "Pass", "pass-ops")], 5, version)
    connections = pairs([*CLUSTER, DB_POLICY, pass_ops, accept_ops])
    assert ("ops/backup", "shop/db") not in connections and ("ops/backup", "shop/web") in connections


def test_baseline_decides_only_what_networkpolicies_leave() -> None:
    baseline = cnp("baseline", "Baseline", [from_team("tools", "Deny", "deny-tools")], 10)
    connections = pairs([*CLUSTER, DB_POLICY, baseline])
    assert ("tools/scanner", "shop/web") not in connections
    opened = {**DB_POLICY, "spec": {**DB_POLICY["spec"], "ingress": [{"from": [{"namespaceSelector": {}}]}]}}
    connections = pairs([*CLUSTER, opened, baseline])
    assert ("tools/scanner", "shop/db") in connections  # the NetworkPolicy allows it: Baseline never asked


def test_a_verdict_names_the_rule_and_tier_that_decided() -> None:
    model = Model.from_objects(
        [*CLUSTER, cnp("deny-tools", "Admin", [from_team("tools", "Deny", "deny-tools")])]
    )
    verdict = model.verdict(
        Endpoint.pod("tools", {"app": "scanner"}), Endpoint.pod("shop", {"app": "web"}), "TCP", 80
    )
    assert not verdict.allowed
    assert "deny-tools" in verdict.reason and "Admin tier" in verdict.reason, verdict.reason


def test_explain_says_the_tier_order_and_each_rule() -> None:
    model = Model.from_objects(
        [
            *CLUSTER,
            cnp(
                "deny-tools",
                "Admin",
                [from_team("tools", "Deny", "deny-tools"), from_team("ops", "Pass", "to-np")],
            ),
        ]
    )
    (explanation,) = explain_model(model)
    text = " ".join(explanation.sentences)
    assert text.startswith(
        "Admin tier, priority 10: inbound traffic of every pod in namespaces team=shop, first matching rule decides: "
        "'deny-tools' denies all traffic from all pods in namespaces team=tools; "
        "'to-np' passes on all traffic from all pods in namespaces team=ops (to the NetworkPolicies, then the Baseline tier)."
    ), text
    assert "restricts nothing" not in text
    assert set(explanation.selects) == {"shop/web", "shop/db"}


def test_lint_finds_priority_clashes_shadowed_tier_rules_and_passes_to_nothing() -> None:
    objects = [
        *CLUSTER,
        cnp("deny-tools", "Admin", [from_team("tools", "Deny", "deny-tools")], 10),
        cnp("same-priority", "Admin", [from_team("ops", "Accept", "accept-ops")], 10),
        cnp("too-late", "Admin", [from_team("tools", "Accept", "accept-tools")], 30),
        cnp("baseline", "Baseline", [from_team("ops", "Pass", "pass-ops")], 10),
    ]
    findings = {(f.check, f.policy): f for f in lint_model(Model.from_objects(objects))}
    clash = findings[("tier-priority-clash", "clusternetworkpolicy:same-priority")]
    assert "priority 10 is also the priority of clusternetworkpolicy:deny-tools" in clash.message
    assert clash.path == ("spec", "priority") and clash.fails
    shadowed = findings[("shadowed-tier-rule", "clusternetworkpolicy:too-late")]
    assert "'accept-tools'" in shadowed.message and "'deny-tools'" in shadowed.message and shadowed.fails
    passing = findings[("pass-with-nothing-after", "clusternetworkpolicy:baseline")]
    assert "Baseline tier, the last layer" in passing.message
    # an Admin Pass with a NetworkPolicy after it for those pods is fine; without one it is flagged
    admin_pass = cnp("pass-ops", "Admin", [from_team("ops", "Pass", "pass-ops")], 40)
    checks = {f.check for f in lint_model(Model.from_objects([*CLUSTER, admin_pass]))}
    assert "pass-with-nothing-after" in checks
    isolating = {**DB_POLICY, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    checks = {f.check for f in lint_model(Model.from_objects([*CLUSTER, admin_pass, isolating]))}
    assert "pass-with-nothing-after" not in checks
