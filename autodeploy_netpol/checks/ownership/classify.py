"""Who owns a live NetworkPolicy / CiliumNetworkPolicy, and on what evidence.

Evidence is read in order of strength: Helm's ownership annotations (what Helm itself checks
before it adopts an object), the chart labels Helm writes (``release`` with ``heritage: Helm``, or
the auto-deploy-app ``chart`` label), GitLab's UI-editor label, and finally the field managers in
``metadata.managedFields``. When none of these says anything the verdict is ``unknown`` — a name
that merely looks like ``<release>-auto-deploy`` is mentioned as evidence but never decides.

Ownership says who wrote a policy; what the deploy does to it is the plan's decision
(:mod:`..plan`), which the warnings read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ...kube.labels import (
    CHART_LABEL,
    HELM_NAMESPACE_ANNOTATION,
    HELM_RELEASE_ANNOTATION,
    MANAGED_BY_LABEL,
    RELEASE_LABEL,
    UI_DISABLED_LABEL,
    UI_DISABLED_VALUE,
    UI_PROJECT_LABEL,
)
from ...kube.releases import (
    OBJECT_NAME_SUFFIX,
    STABLE,
    ReleaseMarkers,
    app_releases,
    helm_release,
    release_named_in,
)
from .fields import ManagedFieldsEntry, parse_managed_fields

#: Field managers that mean "a person with kubectl" (any ``kubectl-*`` manager counts too).
MANUAL_MANAGERS = frozenset(
    {
        "kubectl",
        "kubectl-edit",
        "kubectl-client-side-apply",
        "kubectl-create",
        "kubectl-replace",
        "kubectl-patch",
        "kubectl-label",
        "kubectl-annotate",
    }
)
#: Field managers of GitOps tools, by the product they belong to.
TOOL_MANAGERS = {
    "argocd-controller": "Argo CD",
    "argocd-application-controller": "Argo CD",
    "argocd-server": "Argo CD",
    "kustomize-controller": "Flux",
    "helm-controller": "Flux",
}
#: Helm 3's field manager (the helm binary's name); Flux's helm-controller is a different writer.
HELM_MANAGERS = frozenset({"helm"})
#: Labels / annotations GitOps tools put on what they apply (evidence when managedFields are missing).
TOOL_MARKERS = (
    ("annotation", "argocd.argoproj.io/tracking-id", "Argo CD"),
    ("label", "kustomize.toolkit.fluxcd.io/name", "Flux"),
    ("label", "helm.toolkit.fluxcd.io/name", "Flux"),
)
#: Managers that are bookkeeping, not authorship.
IGNORED_MANAGERS = frozenset({"before-first-apply"})


class Ownership(StrEnum):
    """Who owns a live policy."""

    PIPELINE = "pipeline"  # Auto Deploy of this app: this release or its canary/rollout track
    UI_EDITOR = "ui-editor"  # saved by GitLab's policy editor
    MANUAL = "manual"  # written with kubectl
    OTHER_TOOL = "other-tool"  # Argo CD, Flux, another Helm release, any other named manager
    UNKNOWN = "unknown"  # no evidence either way


@dataclass(frozen=True)
class OwnershipVerdict:
    """The owner of one live policy with the evidence that decided it."""

    kind: str
    namespace: str
    name: str
    owner: Ownership
    #: One line for people, e.g. "Auto Deploy release production-canary (canary track)".
    reason: str
    evidence: tuple[str, ...]
    #: Deploy track for pipeline-owned objects (stable / canary / rollout).
    track: str | None = None
    #: Helm release that owns the object, when known.
    release: str | None = None
    #: True when the owning release is the one being deployed.
    this_release: bool = False
    #: The field manager or tool that decided a manual / other-tool verdict.
    manager: str | None = None
    #: A UI-editor policy switched off in the UI (selector carries the disabled_by marker).
    disabled: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for the drift report's ``ownership`` list."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "owner": str(self.owner),
            "reason": self.reason,
            "evidence": list(self.evidence),
        }
        for key, value in (("track", self.track), ("release", self.release), ("manager", self.manager)):
            if value is not None:
                out[key] = value
        if self.owner is Ownership.PIPELINE:
            out["this_release"] = self.this_release
        if self.disabled:
            out["disabled"] = True
        return out


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    # The API serves strings; a hand-written snapshot may hold numbers (proj: 42).
    if all(type(v) is str for v in value.values()):
        return value
    return {str(k): str(v) for k, v in value.items()}


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return _string_map((obj.get("metadata") or {}).get("labels"))


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    return _string_map((obj.get("metadata") or {}).get("annotations"))


def selector_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod selector (NetworkPolicy) or endpoint selector (CiliumNetworkPolicy) of a policy."""
    spec = obj.get("spec") or {}
    if not isinstance(spec, Mapping):
        return {}
    selector = spec.get("podSelector", spec.get("endpointSelector")) or {}
    return selector if isinstance(selector, Mapping) else {}


def is_disabled_in_ui(obj: Mapping[str, Any]) -> bool:
    """GitLab's UI disables a policy by adding its marker label to the selector (it matches nothing)."""
    match_labels = selector_of(obj).get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        return False
    for key, value in match_labels.items():
        # CiliumNetworkPolicy selectors may carry a label source prefix such as "any:" or "k8s:".
        bare = str(key).split(":", 1)[1] if ":" in str(key) else str(key)
        if bare == UI_DISABLED_LABEL and str(value) == UI_DISABLED_VALUE:
            return True
    return False


def manager_category(manager: str) -> tuple[Ownership, str]:
    """(owner category, tool name for people) for a field manager name."""
    if manager in MANUAL_MANAGERS or manager.startswith("kubectl"):
        return Ownership.MANUAL, "kubectl"
    if manager in TOOL_MANAGERS:
        return Ownership.OTHER_TOOL, TOOL_MANAGERS[manager]
    if manager.lower() in HELM_MANAGERS:
        return Ownership.OTHER_TOOL, "Helm"
    return Ownership.OTHER_TOOL, manager


def is_helm_manager(manager: str) -> bool:
    """True for Helm 3's own field manager."""
    return manager.lower() in HELM_MANAGERS


def describe_entry(entry: ManagedFieldsEntry) -> str:
    """``kubectl-edit Update at 2024-03-02T09:12:44Z: spec.ingress`` (evidence line).

    Helm's own entry is named without its fields: what Helm wrote is the chart, and listing it
    for every pipeline policy would cost more than it tells.
    """
    when = f" at {entry.time_text}" if entry.time_text else ""
    head = f"managedFields: {entry.manager or '(no manager name)'} {entry.operation}{when}"
    if is_helm_manager(entry.manager):
        return head
    spec = entry.spec_texts
    return f"{head}: {', '.join(spec) if spec else 'metadata only'}"


def _authors(entries: list[ManagedFieldsEntry]) -> list[ManagedFieldsEntry]:
    return [
        entry
        for entry in entries
        if entry.manager not in IGNORED_MANAGERS and entry.subresource != "status" and entry.writes
    ]


def _main_author(entries: list[ManagedFieldsEntry]) -> ManagedFieldsEntry | None:
    """The manager owning most of the spec (latest wins a tie); else most of anything."""
    if not entries:
        return None

    def rank(entry: ManagedFieldsEntry) -> tuple[int, int, str]:
        return (len(entry.spec_paths), len(entry.paths), entry.time_text)

    return max(entries, key=rank)


def classify(
    obj: Mapping[str, Any],
    *,
    release: str,
    track: str = STABLE,
    entries: list[ManagedFieldsEntry] | None = None,
    namespace: str | None = None,
    markers: ReleaseMarkers | None = None,
) -> OwnershipVerdict:
    """Classify one live policy for the app deployed as ``release`` (the base release name).

    ``track`` is the track being deployed: it decides which of the app's releases is "this release".
    ``entries`` are the object's parsed managedFields when the caller has them already;
    ``namespace`` is the namespace deployed into, for objects that do not name theirs; ``markers``
    the object's release markers when the plan read them already.
    """
    metadata = obj.get("metadata") or {}
    kind, name = str(obj.get("kind") or ""), str(metadata.get("name") or "")
    namespace = str(metadata.get("namespace") or namespace or "")
    labels, annotations = _labels(obj), _annotations(obj)
    markers = ReleaseMarkers.of(obj) if markers is None else markers
    releases = app_releases(release)
    deployed = helm_release(release, track)
    entries = parse_managed_fields(obj) if entries is None else entries
    authors = _authors(entries)
    evidence: list[str] = []

    annotated = markers.annotated_release
    chart = labels.get(CHART_LABEL, "")
    from_chart = markers.from_chart
    if annotated is not None:
        evidence.append(f"annotation {HELM_RELEASE_ANNOTATION}={annotated}")
    other_namespace = markers.annotated_namespace not in (None, namespace)
    if other_namespace:
        evidence.append(f"annotation {HELM_NAMESPACE_ANNOTATION}={markers.annotated_namespace}")
    if labels.get(MANAGED_BY_LABEL):
        evidence.append(f"label {MANAGED_BY_LABEL}={labels[MANAGED_BY_LABEL]}")
    if chart:
        evidence.append(f"label {CHART_LABEL}={chart}")
    if RELEASE_LABEL in labels:
        evidence.append(f"label {RELEASE_LABEL}={labels[RELEASE_LABEL]}")
    if UI_PROJECT_LABEL in labels:
        evidence.append(f"label {UI_PROJECT_LABEL}={labels[UI_PROJECT_LABEL]}")
    named_for = release_named_in(name, releases)
    if named_for:
        evidence.append(
            f"name matches the chart's pattern <release>{OBJECT_NAME_SUFFIX}[-<key>] for release {named_for}"
        )
    tool_markers = [
        (where, key, tool)
        for where, key, tool in TOOL_MARKERS
        if key in (annotations if where == "annotation" else labels)
    ]
    evidence.extend(f"{where} {key} ({tool})" for where, key, tool in tool_markers)
    disabled = is_disabled_in_ui(obj)
    if disabled:
        evidence.append(f"selector carries {UI_DISABLED_LABEL}: {UI_DISABLED_VALUE} (disabled in the UI)")
    evidence.extend(describe_entry(entry) for entry in authors)

    def verdict(owner: Ownership, reason: str, **extra: Any) -> OwnershipVerdict:
        return OwnershipVerdict(
            kind, namespace, name, owner, reason, tuple(evidence), disabled=disabled, **extra
        )

    def pipeline(owning: str, how: str) -> OwnershipVerdict:
        track_of = releases[owning]
        this = owning == deployed
        if this:
            which = "this release" if track_of == STABLE else f"this release, {track_of} track"
        else:
            which = f"{track_of} track"
        return verdict(
            Ownership.PIPELINE,
            f"Auto Deploy release {owning} ({which}{how})",
            track=track_of,
            release=owning,
            this_release=this,
        )

    # 1. Helm's own ownership record. A release is named within its namespace: the same name in
    #    another namespace's annotation is another release.
    if annotated is not None:
        if annotated in releases and not other_namespace:
            return pipeline(annotated, "")
        if other_namespace:
            what = f"of namespace {markers.annotated_namespace}, another release"
        else:
            what = "auto-deploy-app chart of another app" if from_chart else "another Helm release"
        return verdict(
            Ownership.OTHER_TOOL,
            f"Helm release {annotated} ({what})",
            release=annotated,
            manager="Helm",
        )
    # 2. The chart's labels without Helm's annotations (Helm 2 era, annotations lost in a replace,
    #    or `helm template` output applied by hand).
    labelled = markers.labelled_release
    if labelled is not None or from_chart:
        owning = labelled if labelled in releases else (named_for if from_chart else None)
        if owning:
            return pipeline(owning, "; chart labels, no Helm annotations")
        what = "auto-deploy-app chart" if from_chart else "Helm chart labels"
        return verdict(Ownership.OTHER_TOOL, f"{what} of release {labelled or '(unnamed)'}", release=labelled)
    # 3. GitLab's policy editor.
    if UI_PROJECT_LABEL in labels:
        state = ", disabled in the UI" if disabled else ""
        return verdict(
            Ownership.UI_EDITOR, f"GitLab UI policy editor (project {labels[UI_PROJECT_LABEL]}{state})"
        )
    # 4. Field managers.
    author = _main_author(authors)
    tool_managers = [e for e in authors if manager_category(e.manager)[1] in {m[2] for m in tool_markers}]
    if tool_markers and not tool_managers:
        where, key, tool = tool_markers[0]
        return verdict(Ownership.OTHER_TOOL, f"{tool} ({where} {key})", manager=tool)
    if author is not None:
        owner, tool = manager_category(author.manager)
        if owner is Ownership.MANUAL:
            reason = f"written by hand with kubectl ({author.manager})"
        elif tool != author.manager:
            reason = f"{tool} ({author.manager})"
        else:
            reason = f"field manager {author.manager}"
        others = sorted({e.manager for e in authors if e.manager != author.manager})
        if others:
            reason += f"; also written by {', '.join(others)}"
        return verdict(owner, reason, manager=author.manager)
    missing = "no Helm annotations, no chart or GitLab labels, no managedFields"
    evidence.append(missing)
    return verdict(Ownership.UNKNOWN, f"no owner evidence ({missing})")
