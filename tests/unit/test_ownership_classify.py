"""Every live policy gets an owner with evidence; missing evidence gives "unknown", never a guess."""

import pytest
from ownership_fixtures import RELEASE, live, live_object

from autodeploy_netpol.checks.ownership.classify import (
    Ownership,
    classify,
    is_disabled_in_ui,
)
from autodeploy_netpol.kube.releases import ReleaseMarkers


@pytest.mark.parametrize(
    ("fixture", "name", "owner", "reason_part"),
    [
        ("helm-only", "production-auto-deploy", Ownership.PIPELINE, "release production (this release)"),
        ("helm-then-kubectl-edit", "production-auto-deploy", Ownership.PIPELINE, "this release"),
        (
            "helm-then-ui-update",
            "production-auto-deploy",
            Ownership.PIPELINE,
            "chart labels, no Helm annotations",
        ),
        ("canary-edited", "production-canary-auto-deploy", Ownership.PIPELINE, "canary track"),
        ("ui-created", "allow-inbound-http", Ownership.UI_EDITOR, "GitLab UI policy editor (project 42)"),
        ("ui-created", "drop-outbound", Ownership.UI_EDITOR, "disabled in the UI"),
        ("argocd", "allow-prometheus", Ownership.OTHER_TOOL, "Argo CD (argocd-controller)"),
        ("collision", "production-auto-deploy", Ownership.MANUAL, "kubectl-client-side-apply"),
        ("no-managed-fields", "legacy-allow-all", Ownership.UNKNOWN, "no owner evidence"),
    ],
)
def test_fixture_verdicts(fixture, name, owner, reason_part):
    verdict = classify(live_object(fixture, name), release=RELEASE)
    assert verdict.owner is owner
    assert reason_part in verdict.reason
    assert verdict.namespace == "shop-42-production"
    assert verdict.evidence


def test_canary_policy_is_this_release_only_when_deploying_canary():
    obj = live_object("canary-edited", "production-canary-auto-deploy")
    stable, canary = classify(obj, release=RELEASE), classify(obj, release=RELEASE, track="canary")
    assert (stable.track, stable.this_release, stable.release) == ("canary", False, "production-canary")
    assert (canary.track, canary.this_release) == ("canary", True)
    assert "this release, canary track" in canary.reason


def test_evidence_names_annotation_labels_and_managers():
    verdict = classify(live_object("helm-then-kubectl-edit", "production-auto-deploy"), release=RELEASE)
    evidence = "\n".join(verdict.evidence)
    assert "annotation meta.helm.sh/release-name=production" in evidence
    assert "label chart=auto-deploy-app-2.100.0" in evidence
    assert "managedFields: kubectl-edit Update at 2024-03-04T15:30:12Z: spec.ingress" in evidence


def _policy(labels=None, annotations=None, managers=(), name="p", selector=None):
    metadata = {"name": name, "namespace": "ns", "labels": labels or {}, "annotations": annotations or {}}
    if managers:
        metadata["managedFields"] = [
            {
                "manager": m,
                "operation": "Update",
                "time": f"2024-01-0{i + 1}T00:00:00Z",
                "fieldsV1": {"f:spec": {"f:ingress": {}}},
            }
            for i, m in enumerate(managers)
        ]
    return {"kind": "NetworkPolicy", "metadata": metadata, "spec": {"podSelector": selector or {}}}


@pytest.mark.parametrize(
    ("manager", "owner", "reason_part"),
    [
        ("kubectl-edit", Ownership.MANUAL, "by hand with kubectl (kubectl-edit)"),
        ("kubectl-client-side-apply", Ownership.MANUAL, "kubectl-client-side-apply"),
        ("kubectl", Ownership.MANUAL, "(kubectl)"),
        ("argocd-application-controller", Ownership.OTHER_TOOL, "Argo CD (argocd-application-controller)"),
        ("kustomize-controller", Ownership.OTHER_TOOL, "Flux (kustomize-controller)"),
        ("helm-controller", Ownership.OTHER_TOOL, "Flux (helm-controller)"),
        (
            "terraform-provider-kubernetes",
            Ownership.OTHER_TOOL,
            "field manager terraform-provider-kubernetes",
        ),
    ],
)
def test_managers_are_named_as_they_are(manager, owner, reason_part):
    verdict = classify(_policy(managers=[manager]), release=RELEASE)
    assert (verdict.owner, verdict.manager) == (owner, manager)
    assert reason_part in verdict.reason


def test_name_pattern_alone_decides_nothing():
    verdict = classify(_policy(name="production-auto-deploy"), release=RELEASE)
    assert verdict.owner is Ownership.UNKNOWN
    assert any("name matches" in e for e in verdict.evidence)


def test_other_helm_release_is_another_tool_not_the_pipeline():
    verdict = classify(_policy(annotations={"meta.helm.sh/release-name": "postgres"}), release=RELEASE)
    assert (verdict.owner, verdict.release) == (Ownership.OTHER_TOOL, "postgres")
    assert "another Helm release" in verdict.reason


def test_another_apps_auto_deploy_chart_is_not_this_pipeline():
    verdict = classify(
        _policy(labels={"chart": "auto-deploy-app-2.99.0", "release": "staging"}), release=RELEASE
    )
    assert verdict.owner is Ownership.OTHER_TOOL


def test_chart_label_beats_the_ui_project_label():
    # The chart itself puts app.gitlab.com/proj on CiliumNetworkPolicies.
    labels = {"chart": "auto-deploy-app-2.100.0", "release": "production", "app.gitlab.com/proj": "42"}
    assert classify(_policy(labels=labels), release=RELEASE).owner is Ownership.PIPELINE


def test_most_of_the_spec_decides_when_several_managers_wrote():
    obj = _policy(managers=["kubectl-edit"])
    obj["metadata"]["managedFields"].insert(
        0,
        {
            "manager": "argocd-controller",
            "operation": "Apply",
            "time": "2023-12-01T00:00:00Z",
            "fieldsV1": {"f:spec": {"f:podSelector": {}, "f:policyTypes": {}}},
        },
    )
    verdict = classify(obj, release=RELEASE)
    assert verdict.owner is Ownership.OTHER_TOOL
    assert "also written by kubectl-edit" in verdict.reason


def test_argo_tracking_annotation_without_managed_fields():
    obj = _policy(annotations={"argocd.argoproj.io/tracking-id": "app:networking.k8s.io/NetworkPolicy:ns/p"})
    assert classify(obj, release=RELEASE).owner is Ownership.OTHER_TOOL


@pytest.mark.parametrize(
    ("selector", "disabled"),
    [
        ({"matchLabels": {"network-policy.gitlab.com/disabled_by": "gitlab"}}, True),
        ({"matchLabels": {"any:network-policy.gitlab.com/disabled_by": "gitlab", "app": "x"}}, True),
        ({"matchLabels": {"network-policy.gitlab.com/disabled_by": "someone"}}, False),
        ({"matchLabels": {"app": "x"}}, False),
        ({}, False),
    ],
)
def test_disabled_marker(selector, disabled):
    assert is_disabled_in_ui(_policy(selector=selector)) is disabled


def test_helm_ownership_check_mirrors_helm():
    owned = ReleaseMarkers.of(live_object("helm-only", "production-auto-deploy"))
    assert owned.adoption_problems("production", "shop-42-production") == []
    assert owned.adoption_problems("production-canary", "shop-42-production") == [
        'annotation meta.helm.sh/release-name is "production" (must be "production-canary")'
    ]
    collision = ReleaseMarkers.of(live_object("collision", "production-auto-deploy"))
    problems = collision.adoption_problems("production", "ns")
    assert len(problems) == 3 and all("is missing" in p for p in problems)


def test_every_fixture_object_gets_a_verdict_with_evidence():
    for fixture in ("helm-only", "ui-created", "argocd", "no-managed-fields", "canary-edited"):
        for obj in live(fixture):
            assert classify(obj, release=RELEASE).evidence
