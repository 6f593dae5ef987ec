"""What the deploy would do to policies the pipeline does not own, said before it happens (pure).

Four warnings, each computed from the live policies of one namespace and the objects the deploy
will create:

1. ``override`` - a policy of this release whose spec was changed by another field manager after
   Helm's last write: the deploy puts the values-file version back. The fields it reverts are the
   desired-vs-live differences inside the fields that manager owns.
2. ``both-methods`` - the values file enables policies while GitLab's UI editor manages others in
   the namespace (the situation GitLab's docs warned about); each UI policy is judged by the
   widening check (the connectivity engine), because policies add up.
3. ``collision`` - a desired object's name is taken by an object Helm would refuse to adopt:
   the deploy fails with "... exists and cannot be imported into the current release".
4. ``disabled-ui-policy`` - a UI policy switched off in the UI (information).

With Helm's release record (``--helm-history``) the comparison is three-way: live against what
Helm last applied says exactly which fields were edited behind its back (whatever the managers
say), whether an annotation-less object belongs to the release, and whether a field the values
no longer set is removed (it was in Helm's last manifest) or kept (Helm never set it).

Which objects the deploy writes, deletes or cannot adopt is the plan's decision (:mod:`..plan`):
the warnings read it and never decide it again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ...errors import ExitCode, Severity
from ...kube.labels import (
    HELM,
    HELM_NAMESPACE_ANNOTATION,
    HELM_RELEASE_ANNOTATION,
    MANAGED_BY_LABEL,
    UI_DISABLED_LABEL,
    UI_DISABLED_VALUE,
)
from ...kube.names import POLICY_KINDS
from ...kube.releases import STABLE, ReleaseMarkers, helm_release
from ...policy.normalize import NormalizedPolicy, normalize_policy
from ...sources.yamlio import format_path
from ..diff import (
    ABSENT,
    FieldChange,
    FieldPath,
    Scope,
    diff_policies,
    is_within,
    spec_body,
    value_at,
    written_body,
)
from ..plan import Action, Plan, PlanEntry, plan_namespace
from .classify import (
    IGNORED_MANAGERS,
    Ownership,
    OwnershipVerdict,
    classify,
    is_helm_manager,
)
from .fields import FieldPath as ManagedPath
from .fields import ManagedFieldsEntry, parse_managed_fields, path_text
from .widening import ComparedPolicy, compare_with_ui, compile_for_widening


class WarningCode(StrEnum):
    """Kinds of ownership warning; the first three can make ``--fail-on-override`` exit 4
    (see :attr:`OwnershipWarning.fails`)."""

    OVERRIDE = "override"
    BOTH_METHODS = "both-methods"
    COLLISION = "collision"
    DISABLED_UI_POLICY = "disabled-ui-policy"


#: Warnings that ``--fail-on-override`` turns into exit code 4.
FAILING_CODES = frozenset({WarningCode.OVERRIDE, WarningCode.BOTH_METHODS, WarningCode.COLLISION})


class Outcome(StrEnum):
    """What the deploy does to one live field that another writer set."""

    REVERTED = "reverted"  # replaced by the values-file version
    REMOVED = "removed"  # deleted: Helm set it before and the values no longer do
    KEPT = "kept"  # Helm's three-way merge leaves a field it never set
    DELETED = "deleted"  # the whole object goes: this release no longer renders it


@dataclass(frozen=True)
class RevertedField:
    """One live field the deploy changes, who wrote it and when."""

    path: FieldPath
    live: Any
    desired: Any
    outcome: Outcome
    manager: str | None = None
    time: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (absent values become null, with ``outcome`` saying what happens)."""
        return {
            "path": format_path(self.path),
            "live": None if self.live is ABSENT else self.live,
            "desired": None if self.desired is ABSENT else self.desired,
            "outcome": str(self.outcome),
            "manager": self.manager,
            "time": self.time,
        }


@dataclass(frozen=True)
class OwnershipWarning:
    """One ownership warning about one object."""

    kind: str
    name: str
    namespace: str
    owner: Ownership
    reason: str
    code: WarningCode
    severity: Severity
    details: tuple[str, ...] = ()
    fields: tuple[RevertedField, ...] = ()
    #: Names of the live policies the warning is about besides the object itself (both-methods).
    related: tuple[str, ...] = ()
    widens: bool | None = None

    @property
    def fails(self) -> bool:
        """Whether ``--fail-on-override`` counts this warning: an override (the deploy reverts or
        deletes someone's edit), a collision (the deploy fails), or both-methods when the pipeline's
        policy widens what the UI policies allow - not when the tool itself finds it allows nothing
        beyond them."""
        if self.code is WarningCode.BOTH_METHODS and self.widens is False:
            return False
        return self.code in FAILING_CODES

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for the drift report's ``warnings`` list."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "owner": str(self.owner),
            "code": str(self.code),
            "severity": str(self.severity),
            "reason": self.reason,
            "details": list(self.details),
            "failsOnOverride": self.fails,
        }
        if self.fields:
            out["fields"] = [f.to_json() for f in self.fields]
        if self.related:
            out["related"] = list(self.related)
        if self.widens is not None:
            out["widens"] = self.widens
        return out


@dataclass(frozen=True)
class OwnershipReport:
    """Verdicts for every live policy of the namespace and the warnings, most severe first."""

    verdicts: tuple[OwnershipVerdict, ...]
    warnings: tuple[OwnershipWarning, ...]
    notes: tuple[str, ...] = field(default=())


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj.get("kind") or ""), str((obj.get("metadata") or {}).get("name") or "")


def _owned(path: ManagedPath) -> FieldPath:
    # FieldsV1 may name list items by key or value; drift paths use indices, so owning any part
    # of a list counts as owning the list.
    plain: list[str] = []
    for element in path:
        if not isinstance(element, str):
            break
        plain.append(element)
    return tuple(plain)


def _spec_changes(changes: Iterable[FieldChange]) -> list[FieldChange]:
    return [c for c in changes if c.scope is Scope.SPEC]


def _written(manifest: Mapping[str, Any] | None, path: FieldPath) -> bool:
    """Whether the manifest as written (before API-server defaults are filled in) sets ``path``.

    Helm patches only what its manifests say: a default the API server filled in (policyTypes, a
    protocol) is not set by the values file, so Helm's three-way merge leaves the live value alone.
    """
    if manifest is None:
        return False
    return value_at(written_body(manifest), path, stop_at_index=True) is not ABSENT


def _outcome(
    change: FieldChange, wanted: Mapping[str, Any], applied: Mapping[str, Any] | None, history: bool
) -> Outcome:
    if _written(wanted, change.path):
        # A value the values file sets, or an element of a list it sets: Helm's patch replaces
        # lists as a whole.
        return Outcome.REVERTED
    if history and _written(applied, change.path):
        return Outcome.REMOVED  # Helm set it last time and the values no longer do
    return Outcome.KEPT


def _writer(path: FieldPath, editors: Sequence[ManagedFieldsEntry]) -> ManagedFieldsEntry | None:
    owners = [e for e in editors if any(is_within(path, _owned(p)) for p in e.spec_paths)]
    return max(owners, key=lambda e: e.time_text) if owners else None


def _override(
    entry: PlanEntry,
    verdict: OwnershipVerdict,
    entries: list[ManagedFieldsEntry],
    history: bool,
    namespace: str,
) -> OwnershipWarning | None:
    """Warning 1 for one object the deploy writes or deletes, or None when no one else's edit is lost."""
    assert entry.live is not None
    helm_times = [e.time for e in entries if is_helm_manager(e.manager) and e.time is not None]
    helm_last = max(helm_times) if helm_times else None
    others = [
        e
        for e in entries
        if not is_helm_manager(e.manager) and e.manager not in IGNORED_MANAGERS and e.spec_paths
    ]
    notes: list[str] = []
    applied: NormalizedPolicy | None = None
    if history and entry.applied is not None:
        # Three-way: an edit is whatever differs between live and what Helm last applied.
        applied = normalize_policy(entry.applied, namespace=namespace)
        live = normalize_policy(entry.live, namespace=namespace)
        edited = [c.path for c in _spec_changes(diff_policies(applied, live)[0])]
        editors = others
        notes.append("compared with Helm's last applied manifest (--helm-history)")
    else:
        editors = [e for e in others if helm_last is None or e.time is None or e.time > helm_last]
        if not editors:
            return None  # nothing written behind Helm's back: no need to compare anything
        edited = [_owned(p) for e in editors for p in e.spec_paths]
        live = normalize_policy(entry.live, namespace=namespace)
        for e in others:
            if e not in editors:
                notes.append(
                    f"{e.manager} wrote {', '.join(path_text(p) for p in e.spec_paths)} at {e.time_text}, "
                    "before Helm's last write: not counted as an edit"
                )
    wanted = entry.desired
    if not edited:
        return None
    if wanted is None:
        return _deleted_with_edits(verdict, namespace, live, edited, editors, notes)
    changes = [c for c in _spec_changes(entry.changes) if any(is_within(c.path, e) for e in edited)]
    fields = [
        _field(change, _writer(change.path, editors), _outcome(change, wanted, entry.applied, history))
        for change in changes
    ]
    lost = [f for f in fields if f.outcome in (Outcome.REVERTED, Outcome.REMOVED)]
    if not lost:
        return None
    who = sorted({f"{f.manager} at {f.time}" if f.time else str(f.manager) for f in lost if f.manager})
    who_text = ", ".join(who) if who else "a writer the managedFields do not name"
    details = [_field_line(f) for f in fields]
    if ReleaseMarkers.of(live.manifest).adoption_problems(verdict.release or "", namespace):
        details.append(
            "Helm's ownership metadata is missing; Helm updates the object anyway because it is in the "
            "release's last manifest"
            if applied is not None
            else "Helm's ownership metadata is missing: Helm updates it only if it is in the release's last "
            "manifest, otherwise the deploy fails (check with --helm-history)"
        )
    return OwnershipWarning(
        verdict.kind,
        verdict.name,
        namespace,
        verdict.owner,
        f"the deploy reverts {len(lost)} field{'s' if len(lost) != 1 else ''} of this release's policy "
        f"edited outside the pipeline by {who_text}",
        WarningCode.OVERRIDE,
        Severity.WARNING,
        (*details, *notes),
        tuple(fields),
    )


def _field(change: FieldChange, writer: ManagedFieldsEntry | None, outcome: Outcome) -> RevertedField:
    return RevertedField(
        change.path,
        change.live,
        change.desired,
        outcome,
        writer.manager if writer else None,
        (writer.time_text or None) if writer else None,
    )


def _compact(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def _field_line(f: RevertedField) -> str:
    """``spec.ingress[1]: {...} is removed (kubectl-edit at 2024-03-04T15:30:12Z)``."""
    by = f"{f.manager or 'unknown writer'}{' at ' + f.time if f.time else ''}"
    if f.outcome is Outcome.KEPT:
        what = f"{_compact(f.live)} stays (the values file does not set it)"
    elif f.outcome in (Outcome.REMOVED, Outcome.DELETED) or f.desired is ABSENT:
        what = f"{_compact(f.live)} is removed"
    elif f.live is ABSENT:
        what = f"{_compact(f.desired)} comes back"
    else:
        what = f"{_compact(f.live)} becomes {_compact(f.desired)}"
    return f"{format_path(f.path)}: {what} (edited by {by})"


def _deleted_with_edits(
    verdict: OwnershipVerdict,
    namespace: str,
    live: NormalizedPolicy,
    edited: list[FieldPath],
    editors: Sequence[ManagedFieldsEntry],
    notes: list[str],
) -> OwnershipWarning:
    fields = []
    for path in dict.fromkeys(edited):
        change = FieldChange(path, value_at(spec_body(live), path), ABSENT)
        fields.append(_field(change, _writer(path, editors), Outcome.DELETED))
    writers = sorted({f.manager for f in fields if f.manager}) or ["an unknown writer"]
    return OwnershipWarning(
        verdict.kind,
        verdict.name,
        namespace,
        verdict.owner,
        "the deploy deletes this policy (this release no longer renders it), and with it the edits by "
        + ", ".join(writers),
        WarningCode.OVERRIDE,
        Severity.WARNING,
        (*(_field_line(f) for f in fields), *notes),
        tuple(fields),
    )


def _disabled(verdict: OwnershipVerdict, namespace: str) -> OwnershipWarning:
    how = f"GitLab's editor disables a policy by adding {UI_DISABLED_LABEL}: {UI_DISABLED_VALUE} to its selector"
    if verdict.owner is Ownership.PIPELINE:
        # The values file does not set that selector label, so Helm's three-way merge keeps it:
        # the deploy leaves the pipeline's own policy switched off.
        return OwnershipWarning(
            verdict.kind,
            verdict.name,
            namespace,
            verdict.owner,
            "the pipeline's policy was disabled in the UI: it selects no pods, and the deploy keeps it "
            "disabled (Helm's merge leaves a selector label the values file does not set)",
            WarningCode.DISABLED_UI_POLICY,
            Severity.WARNING,
            (how, "remove the label from the live object, or disable the policy in the values file instead"),
        )
    return OwnershipWarning(
        verdict.kind,
        verdict.name,
        namespace,
        verdict.owner,
        "UI-editor policy disabled in the UI: it selects no pods and has no effect",
        WarningCode.DISABLED_UI_POLICY,
        Severity.INFO,
        (f"{how}; delete it if it is no longer needed",),
    )


def _collision(entry: PlanEntry, verdict: OwnershipVerdict, namespace: str) -> OwnershipWarning:
    """Warning 3: the plan found that Helm will not adopt the live object the deploy must write."""
    kind_text = f'{verdict.kind} "{verdict.name}" in namespace "{namespace}"'
    release = entry.release or ""
    return OwnershipWarning(
        verdict.kind,
        verdict.name,
        namespace,
        verdict.owner,
        f"the name is taken by a policy Helm does not own ({verdict.reason}): the deploy fails with "
        f'"{kind_text} exists and cannot be imported into the current release"',
        WarningCode.COLLISION,
        Severity.ERROR,
        (
            *entry.conflict,
            f"rename or delete the live policy, or adopt it: label {MANAGED_BY_LABEL}={HELM} and "
            f"annotate {HELM_RELEASE_ANNOTATION}={release}, {HELM_NAMESPACE_ANNOTATION}={namespace}",
        ),
    )


def _both_methods(
    desired_obj: Mapping[str, Any],
    ui_objs: list[ComparedPolicy],
    ui_verdicts: list[OwnershipVerdict],
    namespace: str,
) -> OwnershipWarning:
    kind, name = _key(desired_obj)
    verdicts = compare_with_ui(desired_obj, ui_objs, namespace)
    widens = any(v.widens for v in verdicts)
    names = tuple(f"{v.kind}/{v.name}" for v in ui_verdicts)
    details = [v.summary() for v in verdicts]
    details += [f"{v.ui_policy}: {note}" for v in verdicts for note in v.notes]
    effect = (
        "and allows traffic they do not (policies add up)"
        if widens
        else "but allows nothing beyond them on the pods they share"
    )
    return OwnershipWarning(
        kind,
        name,
        namespace,
        Ownership.PIPELINE,
        f"the values file enables this policy while {len(names)} UI-editor "
        f"{'policies' if len(names) != 1 else 'policy'} ({', '.join(names)}) "
        f"{'manage' if len(names) != 1 else 'manages'} the namespace, {effect}",
        WarningCode.BOTH_METHODS,
        Severity.WARNING,
        tuple(details),
        related=names,
        widens=widens,
    )


def _severity_rank(warning: OwnershipWarning) -> tuple[int, str, str, str]:
    return (warning.severity.rank, warning.code, warning.kind, warning.name)


def assess(
    desired: Iterable[Mapping[str, Any]],
    live: Iterable[Mapping[str, Any]],
    *,
    release: str,
    namespace: str,
    track: str = STABLE,
    last_applied: Sequence[Mapping[str, Any]] | None = None,
    plan: Plan | None = None,
) -> OwnershipReport:
    """Classify the namespace's live policies and warn about what the deploy would override.

    ``release`` is the app's base release name (Auto Deploy's ``HELM_RELEASE_NAME``), ``track``
    the track being deployed. ``last_applied`` is the policy part of Helm's last release
    manifest when ``--helm-history`` read it (None: not read; ``[]``: no release yet). ``plan`` is
    the namespace's plan when the run made it already (then ``last_applied`` is not needed).
    """
    deployed = helm_release(release, track)
    desired_objs = [d for d in desired if d.get("kind") in POLICY_KINDS]
    live_objs = [
        o
        for o in live
        if o.get("kind") in POLICY_KINDS
        and ((o.get("metadata") or {}).get("namespace") or namespace) == namespace
    ]
    if plan is None:
        plan = plan_namespace(
            _unique(normalize_policy(d, namespace=namespace) for d in desired_objs),
            _unique(normalize_policy(o, namespace=namespace) for o in live_objs),
            namespace=namespace,
            releases=(deployed,),
            applied=None if last_applied is None else {deployed: last_applied},
        )
    history = plan.record
    verdicts: list[OwnershipVerdict] = []
    warnings: list[OwnershipWarning] = []
    ui_active: list[tuple[Mapping[str, Any], OwnershipVerdict]] = []
    judged: set[tuple[str, str]] = set()
    for obj in live_objs:
        key = _key(obj)
        entry = plan.entry(*key)
        entries = parse_managed_fields(obj)
        markers = entry.markers if entry is not None and entry.live is obj else None
        verdict = classify(
            obj, release=release, track=track, entries=entries, namespace=namespace, markers=markers
        )
        verdicts.append(verdict)
        if verdict.disabled and verdict.owner in (Ownership.UI_EDITOR, Ownership.PIPELINE):
            warnings.append(_disabled(verdict, namespace))
        elif verdict.owner is Ownership.UI_EDITOR:
            ui_active.append((obj, verdict))
        if entry is None or key in judged:
            continue  # a second copy of a listed object: judged once
        judged.add(key)
        if entry.fails:
            warnings.append(_collision(entry, verdict, namespace))
        elif entry.action is Action.DELETE or entry.writes:
            override = _override(entry, verdict, entries, history, namespace)
            if override is not None:
                warnings.append(override)
    if desired_objs and ui_active:
        # compiled once, compared with every desired policy
        ui_objs = [compile_for_widening(obj, namespace, ui=True) for obj, _ in ui_active]
        ui_verdicts = [v for _, v in ui_active]
        for desired_obj in desired_objs:
            warnings.append(_both_methods(desired_obj, ui_objs, ui_verdicts, namespace))
    notes = []
    if history and not plan.recorded:
        notes.append(f"Helm release {deployed} has no deployed policies on record")
    warnings.sort(key=_severity_rank)
    verdicts.sort(key=lambda v: (v.kind, v.name))
    return OwnershipReport(tuple(verdicts), tuple(warnings), tuple(notes))


def _unique(policies: Iterable[NormalizedPolicy]) -> list[NormalizedPolicy]:
    """The first object of each identity (a stream may repeat one; the plan judges it once)."""
    seen: dict[tuple[str, str], NormalizedPolicy] = {}
    for policy in policies:
        seen.setdefault((policy.kind, policy.name), policy)
    return list(seen.values())


def exit_code(drift_code: int, warnings: Iterable[OwnershipWarning], *, fail_on_override: bool) -> int:
    """The command's exit code once ownership has been assessed.

    Input (2) and access (3) errors keep their code; with ``fail_on_override`` an override,
    both-methods or collision warning gives 4, which outranks drift (1); otherwise drift's code.
    """
    if drift_code in (ExitCode.INPUT, ExitCode.ACCESS):
        return drift_code
    if fail_on_override and any(w.fails for w in warnings):
        return int(ExitCode.OVERRIDE)
    return drift_code


__all__ = [
    "FAILING_CODES",
    "Outcome",
    "OwnershipReport",
    "OwnershipWarning",
    "RevertedField",
    "Severity",
    "WarningCode",
    "assess",
    "exit_code",
]
