"""Ownership-marker combinations for the plan agreement table (tests/unit/test_plan_agreement.py).

Plain data only (no import of the tool), so the same cases can be run against any version of the
checks. Each case is one live policy (or none) in namespace ``shop``, maybe a desired object of the
same name, the track deployed and, optionally, Helm's record of the release's last manifest.

Every live policy was edited with ``kubectl edit`` after its author's last write (a managedFields
entry on ``spec.ingress``), so the ownership check has something to say whenever the deploy writes
over the object or deletes it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "shop"
RELEASE = "production"
HELM_TIME = "2026-03-01T10:00:00Z"
EDIT_TIME = "2026-03-02T09:30:00Z"

DESIRED_SPEC: dict[str, Any] = {
    "podSelector": {"matchLabels": {"app": RELEASE}},
    "policyTypes": ["Ingress"],
    "ingress": [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
            ],
            "ports": [{"port": 5000, "protocol": "TCP"}],
        }
    ],
}
#: What the live objects say instead: the edit opened port 22 as well.
EDITED_SPEC: dict[str, Any] = {
    **copy.deepcopy(DESIRED_SPEC),
    "ingress": [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
            ],
            "ports": [{"port": 5000, "protocol": "TCP"}, {"port": 22, "protocol": "TCP"}],
        }
    ],
}


def helm_release(track: str) -> str:
    return RELEASE if track == "stable" else f"{RELEASE}-{track}"


def chart_labels(
    release: str, *, heritage: str = "Helm", chart: str = "auto-deploy-app-2.100.0"
) -> dict[str, str]:
    """The auto-deploy-app chart's shared labels for ``release``."""
    return {
        "app": RELEASE,
        "chart": chart,
        "release": release,
        "heritage": heritage,
        "app.kubernetes.io/name": RELEASE,
        "helm.sh/chart": chart,
        "app.kubernetes.io/managed-by": heritage,
        "app.kubernetes.io/instance": release,
    }


def helm_annotations(release: str, namespace: str = NAMESPACE) -> dict[str, str]:
    return {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}


def _managed(manager: str, time: str, spec_fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": spec_fields},
        "manager": manager,
        "operation": "Update",
        "time": time,
    }


def live_policy(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    author: str = "helm",
    spec: dict[str, Any] | None = None,
    edited: bool = True,
) -> dict[str, Any]:
    """A live NetworkPolicy as the API serves it: written by ``author``, then edited with kubectl."""
    managed = [_managed(author, HELM_TIME, {"f:podSelector": {}, "f:policyTypes": {}, "f:ingress": {}})]
    if edited:
        managed.append(_managed("kubectl-edit", EDIT_TIME, {"f:ingress": {}}))
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "uid": f"uid-{name}",
        "resourceVersion": "1",
        "managedFields": managed,
    }
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": copy.deepcopy(EDITED_SPEC if spec is None else spec),
    }


def desired_policy(name: str, release: str) -> dict[str, Any]:
    """The object the deploy renders (as ``render`` prints it: no namespace)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": chart_labels(release)},
        "spec": copy.deepcopy(DESIRED_SPEC),
    }


@dataclass(frozen=True)
class Case:
    """One row of the table."""

    id: str
    name: str
    live: dict[str, Any] | None
    desired: bool = False
    track: str = "stable"
    #: Names Helm's record of the deployed release lists (None: the record is not read).
    record: tuple[str, ...] | None = None
    #: What Helm 3 does: create, change, delete or keep.
    action: str = "keep"
    #: Helm refuses to adopt the live object: the upgrade fails.
    fails: bool = False
    #: The ownership verdict's owner category.
    owner: str | None = None
    why: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def helm_release(self) -> str:
        return helm_release(self.track)

    def desired_objects(self) -> list[dict[str, Any]]:
        return [desired_policy(self.name, self.helm_release)] if self.desired else []

    def live_objects(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(self.live)] if self.live is not None else []

    def record_objects(self) -> list[dict[str, Any]]:
        """The policies of Helm's last manifest of the deployed release."""
        return [desired_policy(name, self.helm_release) for name in self.record or ()]

    def history(self, namespace: str, release: str) -> list[dict[str, Any]] | None:
        """A ``HistoryReader`` over the case's record."""
        if self.record is None or namespace != NAMESPACE or release != self.helm_release:
            return None
        return self.record_objects()


def _case(id: str, name: str, live: dict[str, Any] | None, **kwargs: Any) -> Case:
    return Case(id, name, live, **kwargs)


LEGACY = "production-auto-deploy-legacy"
MAIN = "production-auto-deploy"

CASES: tuple[Case, ...] = (
    _case(
        "helm-annotations",
        LEGACY,
        live_policy(LEGACY, labels=chart_labels(RELEASE), annotations=helm_annotations(RELEASE)),
        action="delete",
        owner="pipeline",
        why="Helm's annotations put it in the release, which no longer renders it",
    ),
    _case(
        "release-heritage-labels-only",
        LEGACY,
        live_policy(LEGACY, labels={"release": RELEASE, "heritage": "Helm"}),
        action="keep",
        owner="pipeline",
        why="issue 12's example: labels are not Helm's ownership; Helm deletes only what its record lists",
    ),
    _case(
        "chart-labels-no-annotations",
        LEGACY,
        live_policy(LEGACY, labels=chart_labels(RELEASE)),
        action="keep",
        owner="pipeline",
        why="helm template | kubectl apply writes these labels too",
    ),
    _case(
        "tiller-chart-labels",
        LEGACY,
        live_policy(LEGACY, labels=chart_labels(RELEASE, heritage="Tiller", chart="auto-deploy-app-0.2.0")),
        action="keep",
        owner="pipeline",
        why="Helm 2's labels, no Helm 3 annotations",
    ),
    _case(
        "annotations-of-another-namespace",
        LEGACY,
        live_policy(
            LEGACY, labels=chart_labels(RELEASE), annotations=helm_annotations(RELEASE, "shop-staging")
        ),
        action="keep",
        owner="other-tool",
        why="release production of namespace shop-staging is another release",
    ),
    _case(
        "canary-object-while-deploying-stable",
        "production-canary-auto-deploy",
        live_policy(
            "production-canary-auto-deploy",
            labels=chart_labels(f"{RELEASE}-canary"),
            annotations=helm_annotations(f"{RELEASE}-canary"),
        ),
        action="keep",
        owner="pipeline",
        why="the stable deploy does not touch the canary release",
    ),
    _case(
        "canary-object-while-deploying-canary",
        "production-canary-auto-deploy",
        live_policy(
            "production-canary-auto-deploy",
            labels=chart_labels(f"{RELEASE}-canary"),
            annotations=helm_annotations(f"{RELEASE}-canary"),
        ),
        track="canary",
        action="delete",
        owner="pipeline",
        why="the canary release no longer renders it",
    ),
    _case(
        "stable-object-while-deploying-rollout",
        LEGACY,
        live_policy(LEGACY, labels=chart_labels(RELEASE), annotations=helm_annotations(RELEASE)),
        track="rollout",
        action="keep",
        owner="pipeline",
        why="the rollout release does not touch the stable release",
    ),
    _case(
        "another-apps-release",
        "review-7-auto-deploy",
        live_policy(
            "review-7-auto-deploy", labels=chart_labels("review-7"), annotations=helm_annotations("review-7")
        ),
        action="keep",
        owner="other-tool",
        why="another Helm release",
    ),
    _case(
        "ui-editor-label",
        "allow-inbound-http",
        live_policy("allow-inbound-http", labels={"app.gitlab.com/proj": "42"}, author="gitlab-ui"),
        action="keep",
        owner="ui-editor",
        why="saved by GitLab's policy editor",
    ),
    _case(
        "name-pattern-only",
        LEGACY,
        live_policy(LEGACY, author="kubectl-client-side-apply"),
        action="keep",
        owner="manual",
        why="a name is only a hint",
    ),
    _case(
        "helm-field-manager-only",
        LEGACY,
        live_policy(LEGACY, author="helm"),
        action="keep",
        owner="other-tool",
        why="managedFields say who wrote it, not which release holds it",
    ),
    _case(
        "resource-policy-keep",
        LEGACY,
        live_policy(
            LEGACY,
            labels=chart_labels(RELEASE),
            annotations={**helm_annotations(RELEASE), "helm.sh/resource-policy": "keep"},
        ),
        action="keep",
        owner="pipeline",
        why="Helm skips deleting objects annotated helm.sh/resource-policy: keep",
    ),
    _case(
        "record-lists-it-without-markers",
        LEGACY,
        live_policy(LEGACY, author="kubectl-replace"),
        record=(LEGACY,),
        action="delete",
        owner="manual",
        why="Helm deletes what its last manifest lists, whatever the metadata says",
    ),
    _case(
        "annotated-but-not-in-record",
        LEGACY,
        live_policy(LEGACY, labels=chart_labels(RELEASE), annotations=helm_annotations(RELEASE)),
        record=(MAIN,),
        action="keep",
        owner="pipeline",
        why="the record is the truth: the last manifest does not list it",
    ),
    _case(
        "desired-name-taken-by-ui-policy",
        MAIN,
        live_policy(MAIN, labels={"app.gitlab.com/proj": "42"}, author="gitlab-ui"),
        desired=True,
        action="change",
        fails=True,
        owner="ui-editor",
        why="Helm refuses to adopt it: the upgrade fails",
    ),
    _case(
        "desired-chart-labels-no-annotations",
        MAIN,
        live_policy(MAIN, labels=chart_labels(RELEASE)),
        desired=True,
        action="change",
        owner="pipeline",
        why="given the benefit of the doubt: updated if the last manifest lists it",
    ),
    _case(
        "desired-annotated",
        MAIN,
        live_policy(MAIN, labels=chart_labels(RELEASE), annotations=helm_annotations(RELEASE)),
        desired=True,
        action="change",
        owner="pipeline",
        why="the release's own object, edited",
    ),
    _case(
        "desired-annotated-in-sync",
        MAIN,
        live_policy(
            MAIN, labels=chart_labels(RELEASE), annotations=helm_annotations(RELEASE), spec=DESIRED_SPEC
        ),
        desired=True,
        action="keep",
        owner="pipeline",
        why="nothing to change",
    ),
    _case(
        "desired-adopted-not-in-record",
        MAIN,
        live_policy(MAIN, labels=chart_labels(RELEASE), annotations=helm_annotations(RELEASE)),
        desired=True,
        record=(),
        action="change",
        owner="pipeline",
        why="not in the record, but the ownership metadata lets Helm adopt it",
    ),
    _case(
        "desired-not-live",
        MAIN,
        None,
        desired=True,
        action="create",
        why="nothing live",
    ),
)
