"""Ownership over namespaces as the drift command runs it."""

import copy

import pytest
from ownership_fixtures import NAMESPACE, RELEASE, desired, live

from autodeploy_netpol.checks.ownership.check import check_ownership
from autodeploy_netpol.kube.releases import split_release


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("production", ("production", "stable")),
        ("production-canary", ("production", "canary")),
        ("review-42-rollout", ("review-42", "rollout")),
        ("canary", ("canary", "stable")),
    ],
)
def test_split_release(release, expected):
    assert split_release(release) == expected


def _moved(objects, namespace):
    """The objects as the same release deployed into ``namespace`` would have them."""
    moved = copy.deepcopy(objects)
    for obj in moved:
        obj["metadata"]["namespace"] = namespace
        annotations = obj["metadata"].get("annotations") or {}
        if "meta.helm.sh/release-namespace" in annotations:
            annotations["meta.helm.sh/release-namespace"] = namespace
    return moved


def test_all_namespaces_takes_the_release_from_the_desired_labels():
    desired_objects = _moved(desired(), NAMESPACE) + _moved(desired("desired-canary"), "other")
    live_objects = live("helm-then-kubectl-edit") + _moved(live("canary-edited"), "other")
    check = check_ownership(desired_objects, live_objects, namespace=None, release=None, all_namespaces=True)
    assert [(w.namespace, str(w.code), w.name) for w in check.warnings] == [
        ("other", "override", "production-canary-auto-deploy"),
        (NAMESPACE, "override", "production-auto-deploy"),
    ]
    assert {verdict.namespace for verdict in check.verdicts} == {NAMESPACE, "other"}


def test_namespace_without_a_known_release_is_named_in_a_note():
    unlabelled = copy.deepcopy(desired())
    del unlabelled[0]["metadata"]["labels"]["release"]
    check = check_ownership(unlabelled, live("helm-only"), namespace=NAMESPACE, release=None)
    assert check.reports == ()
    assert check.notes == (
        f"ownership not assessed in {NAMESPACE}: no single release known there "
        "(pass --release, or desired objects with a release label)",
    )


def test_the_commands_release_and_track_apply_to_its_namespace():
    check = check_ownership(
        desired("desired-canary"), live("canary-edited"), namespace=NAMESPACE, release=RELEASE, track="canary"
    )
    assert [w.name for w in check.warnings] == ["production-canary-auto-deploy"]


def test_history_reader_gets_namespace_and_helm_release():
    calls = []

    def history(namespace, helm_release):
        calls.append((namespace, helm_release))
        return None

    check_ownership(desired(), live("helm-only"), namespace=NAMESPACE, release=RELEASE, history=history)
    assert calls == [(NAMESPACE, RELEASE)]
