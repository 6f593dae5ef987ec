"""The comparison: missing / changed / unexpected, context with owners, ignore rules, namespaces."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from autodeploy_netpol.checks.drift import ABSENT, Change, IgnoreRule, Scope, compare, owner_of, release_of
from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.manifests import read_manifests

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift"
NS = "shop-42-production"


def fixture(name: str) -> list[dict[str, Any]]:
    return read_manifests([str(FIXTURES / name)]).objects()


def policy(
    name: str, *, namespace: str | None = NS, release: str | None = None, **spec: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if release:
        metadata["annotations"] = {"meta.helm.sh/release-name": release}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


def test_clean_deploy_is_in_sync_and_ui_policy_is_context() -> None:
    report = compare(
        fixture("desired.yaml"), fixture("live-in-sync.yaml"), namespace=NS, releases=["production"]
    )
    assert report.drift == ()
    assert [item.name for item in report.in_sync] == ["production-auto-deploy", "production-auto-deploy-db"]
    # The server filled in protocol and policyTypes and peers come back in another order: cosmetic.
    assert all(item.cosmetic for item in report.in_sync)
    assert [(item.name, item.owner) for item in report.context] == [
        ("allow-inbound-http", "GitLab policy editor")
    ]


def test_hand_edits_are_changed_missing_and_unexpected() -> None:
    report = compare(
        fixture("desired.yaml"), fixture("live-drift.yaml"), namespace=NS, releases=["production"]
    )
    found = {(entry.name, entry.change) for entry in report.drift}
    assert found == {
        ("production-auto-deploy", Change.CHANGED),
        ("production-auto-deploy-db", Change.MISSING),
        ("production-auto-deploy-cache", Change.UNEXPECTED),
    }
    changed = next(entry for entry in report.drift if entry.change is Change.CHANGED)
    assert [(c.path, c.live, c.desired, c.scope) for c in changed.paths] == [
        (("spec", "ingress", 0, "ports", 0, "port"), 8080, 5000, Scope.SPEC),
        (
            ("metadata", "labels", "chart"),
            "auto-deploy-app-2.99.0",
            "auto-deploy-app-2.100.0",
            Scope.METADATA,
        ),
    ]
    assert changed.scopes == (Scope.SPEC, Scope.METADATA)
    assert changed.owner == "helm release production"
    assert (report.count(Change.CHANGED), report.count(Change.MISSING), report.count(Change.UNEXPECTED)) == (
        1,
        1,
        1,
    )


def test_live_policy_of_another_release_is_context_not_unexpected() -> None:
    # The canary release deploys production-canary; the stable release's policy is not its to delete.
    live = [policy("production-auto-deploy", release="production")]
    report = compare([], live, namespace=NS, releases=["production-canary"])
    assert report.drift == ()
    assert [(item.name, item.owner) for item in report.context] == [
        ("production-auto-deploy", "helm release production")
    ]


def test_disabled_policies_make_the_release_policy_unexpected() -> None:
    live = [policy("production-auto-deploy", release="production")]
    report = compare([], live, namespace=NS, releases=["production"])
    assert [(entry.name, entry.change) for entry in report.drift] == [
        ("production-auto-deploy", Change.UNEXPECTED)
    ]


def test_release_label_counts_when_helm_annotation_is_absent() -> None:
    manifest = policy("web")
    manifest["metadata"]["labels"] = {"release": "production", "heritage": "Helm"}
    assert release_of(manifest) == "production"
    manifest["metadata"]["labels"]["heritage"] = "someone"
    assert release_of(manifest) is None
    manifest["metadata"]["annotations"] = {"meta.helm.sh/release-name": "other"}
    assert release_of(manifest) == "other"


def test_owner_falls_back_to_the_last_field_manager() -> None:
    manifest = policy("web")
    manifest["metadata"]["managedFields"] = [
        {"manager": "kubectl-client-side-apply"},
        {"manager": "kubectl-edit"},
    ]
    assert owner_of(manifest) == "field manager kubectl-edit"
    assert owner_of(policy("web")) == "unknown"


def test_only_the_namespace_is_compared_without_all_namespaces() -> None:
    live = [policy("a", namespace="other", release="production"), policy("b", namespace=NS)]
    report = compare([], live, namespace=NS, releases=["production"])
    assert [item.name for item in report.context] == ["b"]


def test_desired_in_another_namespace_needs_all_namespaces() -> None:
    with pytest.raises(InputError, match="--all-namespaces"):
        compare([policy("a", namespace="other")], [], namespace=NS)


def test_desired_without_namespace_and_no_default_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no namespace"):
        compare([policy("a", namespace=None)], [], namespace=None, all_namespaces=True)


def test_all_namespaces_uses_each_desired_objects_release_label() -> None:
    desired = []
    live = []
    for namespace in ("a", "b"):
        manifest = policy(f"{namespace}-auto-deploy", namespace=namespace, podSelector={})
        manifest["metadata"]["labels"] = {"release": namespace}
        desired.append(manifest)
        live.append(policy(f"{namespace}-old", namespace=namespace, release=namespace))
    live.append(policy("c-old", namespace="c", release="c"))
    report = compare(desired, live, namespace=None, all_namespaces=True)
    assert sorted((entry.namespace, entry.name, entry.change) for entry in report.drift) == [
        ("a", "a-auto-deploy", Change.MISSING),
        ("a", "a-old", Change.UNEXPECTED),
        ("b", "b-auto-deploy", Change.MISSING),
        ("b", "b-old", Change.UNEXPECTED),
    ]
    # Release c has no desired objects in this stream: its policy is context.
    assert [item.name for item in report.context] == ["c-old"]


def test_element_only_in_live_is_reported_with_its_live_index() -> None:
    desired = policy("web", podSelector={}, ingress=[{"ports": [{"port": 80}]}])
    live = policy(
        "web",
        podSelector={},
        ingress=[{"ports": [{"port": 80}]}, {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
    )
    report = compare([desired], [live], namespace=NS)
    (entry,) = report.drift
    (change,) = entry.paths
    assert change.path == ("spec", "ingress", 1) and change.text == "spec.ingress[1]"
    assert change.desired is ABSENT and change.live == {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}


# --- ignore rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "namespace", "kind", "name", "field"),
    [
        ("legacy-*", "*", "*", "legacy-*", None),
        ("netpol/web", "*", "NetworkPolicy", "web", None),
        ("cnp/*", "*", "CiliumNetworkPolicy", "*", None),
        ("review-*/NetworkPolicy/web", "review-*", "NetworkPolicy", "web", None),
        ("metadata.labels.chart", "*", "*", "*", "metadata.labels.chart"),
        (
            'netpol/web:metadata.labels["helm.sh/chart"]',
            "*",
            "NetworkPolicy",
            "web",
            'metadata.labels["helm.sh/chart"]',
        ),
    ],
)
def test_ignore_rule_syntax(text: str, namespace: str, kind: str, name: str, field: str | None) -> None:
    rule = IgnoreRule.parse(text)
    assert (rule.namespace, rule.kind, rule.name, rule.field) == (namespace, kind, name, field)


@pytest.mark.parametrize("text", ["", "a/b/c/d", "pod/web", "netpol/web:labels.x", "netpol//x"])
def test_bad_ignore_rules_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        IgnoreRule.parse(text)


@pytest.mark.parametrize(
    ("field", "path", "matches"),
    [
        ("metadata.labels.chart", "metadata.labels.chart", True),
        ("metadata.labels", "metadata.labels.chart", True),
        ("metadata.labels.chart", "metadata.labels.chartx", False),
        ("spec.ingress[*].ports", "spec.ingress[3].ports[0].port", True),
        ("spec.ingress", "spec.ingressDeny", False),
        ('metadata.labels["helm.sh/chart"]', 'metadata.labels["helm.sh/chart"]', True),
    ],
)
def test_field_rule_matches_the_field_and_below(field: str, path: str, matches: bool) -> None:
    assert IgnoreRule.parse(field).matches_path(path) is matches


def test_exit_relevant_drift_is_decided_after_ignore_rules() -> None:
    rules = [IgnoreRule.parse("metadata.labels.chart"), IgnoreRule.parse("netpol/production-auto-deploy-*")]
    report = compare(
        fixture("desired.yaml"),
        fixture("live-drift.yaml"),
        namespace=NS,
        releases=["production"],
        ignore=rules,
    )
    # The port change remains; the label change and the two -db/-cache objects are ignored.
    assert [(entry.name, [c.text for c in entry.paths]) for entry in report.drift] == [
        ("production-auto-deploy", ["spec.ingress[0].ports[0].port"])
    ]
    assert sorted((item.entry.name, item.rules) for item in report.ignored) == [
        ("production-auto-deploy", ("metadata.labels.chart",)),
        ("production-auto-deploy-cache", ("netpol/production-auto-deploy-*",)),
        ("production-auto-deploy-db", ("netpol/production-auto-deploy-*",)),
    ]
    everything = [*rules, IgnoreRule.parse("spec")]
    report = compare(
        fixture("desired.yaml"),
        fixture("live-drift.yaml"),
        namespace=NS,
        releases=["production"],
        ignore=everything,
    )
    assert not report.has_drift


def test_duplicate_desired_objects_are_an_input_error() -> None:
    desired = [policy("web", podSelector={}), copy.deepcopy(policy("web", podSelector={}))]
    with pytest.raises(InputError, match="appears twice"):
        compare(desired, [], namespace=NS)
