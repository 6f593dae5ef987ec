"""What the deploy would do to policies the pipeline does not own, said before it happens (pure).

Four warnings, each computed from the live policies of one namespace and the objects the deploy
will create:

1. ``override`` - a policy of this release whose spec was changed by another field manager after
   Helm's last write: the deploy puts the values-file version back. The fields it reverts are the
   desired-vs-live differences inside the fields that manager owns.
2. ``both-methods`` - the values file enables policies while GitLab's UI editor manages others in
   the namespace (the situation GitLab's docs warned about); each UI policy is judged by the
   structural widening check, because policies add up.
3. ``collision`` - a desired object's name is taken by an object Helm would refuse to adopt:
   the deploy fails with "... exists and cannot be imported into the current release".
4. ``disabled-ui-policy`` - a UI policy switched off in the UI (information).

With Helm's release record (``--helm-history``) the comparison is three-way: live against what
Helm last applied says exactly which fields were edited behind its back (whatever the managers
say), whether an annotation-less object belongs to the release, and whether a field the values
no longer set is removed (it was in Helm's last manifest) or kept (Helm never set it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ...errors import ExitCode
from ...kube.names import POLICY_KINDS
from ...policy.normalize import NormalizedPolicy, normalize_policy
from ..drift import ABSENT, DriftEntry, FieldChange, compare_policy
from .classify import (
    IGNORED_MANAGERS,
    Ownership,
    OwnershipVerdict,
    classify,
    helm_ownership_problems,
    helm_release_for,
    is_helm_manager,
)
from .fields import ManagedFieldsEntry, parse_managed_fields, path_text
from .widening import PolicyModel, compare_with_ui, policy_model


class WarningCode(StrEnum):
    """Kinds of ownership warning; the first three can make ``--fail-on-override`` exit 4
    (see :attr:`OwnershipWarning.fails`)."""

    OVERRIDE = "override"
    BOTH_METHODS = "both-methods"
    COLLISION = "collision"
    DISABLED_UI_POLICY = "disabled-ui-policy"


#: Warnings that ``--fail-on-override`` turns into exit code 4.
FAILING_CODES = frozenset({WarningCode.OVERRIDE, WarningCode.BOTH_METHODS, WarningCode.COLLISION})


class Severity(StrEnum):
    """How bad: the deploy fails (error), loses someone's work (warning), or just so you know (info)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Outcome(StrEnum):
    """What the deploy does to one live field that another writer set."""

    REVERTED = "reverted"  # replaced by the values-file version
    REMOVED = "removed"  # deleted: Helm set it before and the values no longer do
    KEPT = "kept"  # Helm's three-way merge leaves a field it never set
    DELETED = "deleted"  # the whole object goes: this release no longer renders it


@dataclass(frozen=True)
class RevertedField:
    """One live field the deploy changes, who wrote it and when."""

    path: str
    live: Any
    desired: Any
    outcome: Outcome
    manager: str | None = None
    time: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (absent values become null, with ``outcome`` saying what happens)."""
        return {
            "path": self.path,
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


def verdict_json(verdict: OwnershipVerdict) -> dict[str, Any]:
    """JSON-ready form of a verdict for the drift report's ``ownership`` list."""
    out: dict[str, Any] = {
        "kind": verdict.kind,
        "namespace": verdict.namespace,
        "name": verdict.name,
        "owner": str(verdict.owner),
        "reason": verdict.reason,
        "evidence": list(verdict.evidence),
    }
    for key in ("track", "release", "manager"):
        value = getattr(verdict, key)
        if value is not None:
            out[key] = value
    if verdict.owner is Ownership.PIPELINE:
        out["this_release"] = verdict.this_release
    if verdict.disabled:
        out["disabled"] = True
    return out


@dataclass(frozen=True)
class OwnershipReport:
    """Verdicts for every live policy of the namespace and the warnings, most severe first."""

    verdicts: tuple[OwnershipVerdict, ...]
    warnings: tuple[OwnershipWarning, ...]
    notes: tuple[str, ...] = field(default=())


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj.get("kind") or ""), str((obj.get("metadata") or {}).get("name") or "")


def _within(path: str, owned: str) -> bool:
    """True when ``path`` is ``owned`` or below it (or above it: owning part of a list owns the change)."""
    if path == owned:
        return True
    longer, shorter = (path, owned) if len(path) > len(owned) else (owned, path)
    return longer.startswith(shorter) and longer[len(shorter)] in ".["


def _owned_text(path: tuple[Any, ...]) -> str:
    # FieldsV1 may name list items by key or value; drift paths use indices, so owning any part
    # of a list counts as owning the list.
    plain: list[Any] = []
    for element in path:
        if not isinstance(element, str):
            break
        plain.append(element)
    return path_text(tuple(plain))


def _spec_changes(entry: DriftEntry | Any) -> list[FieldChange]:
    if not isinstance(entry, DriftEntry):
        return []
    return [c for c in entry.paths if c.path.startswith("spec")]


_TOKENS = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.\[\]]+)')


def _walk(body: Any, path: str, *, stop_at_index: bool = False) -> Any:
    """The value at a drift path (``spec.ingress[0].from``) in a manifest body, or ABSENT.

    With ``stop_at_index`` the walk ends at the first list index: the list is what a writer sets.
    """
    for quoted, index, plain in _TOKENS.findall(path):
        if index:
            if stop_at_index:
                return body
            if not isinstance(body, list) or int(index) >= len(body):
                return ABSENT
            body = body[int(index)]
        else:
            key = quoted or plain
            if not isinstance(body, Mapping) or key not in body:
                return ABSENT
            body = body[key]
    return body


def _value_at_text(policy: NormalizedPolicy | None, path: str) -> Any:
    """The value at a drift path in a normalized policy, or ABSENT."""
    if policy is None:
        return ABSENT
    return _walk({"spec": policy.spec} if policy.kind != "CiliumNetworkPolicy" else policy.spec, path)


def _written(policy: NormalizedPolicy | None, path: str) -> bool:
    """Whether the manifest as written (before API-server defaults are filled in) sets ``path``.

    Helm patches only what its manifests say: a default the API server filled in (policyTypes, a
    protocol) is not set by the values file, so Helm's three-way merge leaves the live value alone.
    """
    if policy is None:
        return False
    raw = policy.raw_spec
    body = {"spec": raw} if policy.kind != "CiliumNetworkPolicy" else raw
    return _walk(body, path, stop_at_index=True) is not ABSENT


def _outcome(
    change: FieldChange, wanted: NormalizedPolicy, applied: NormalizedPolicy | None, history: bool
) -> Outcome:
    if _written(wanted, change.path):
        # A value the values file sets, or an element of a list it sets: Helm's patch replaces
        # lists as a whole.
        return Outcome.REVERTED
    if history and _written(applied, change.path):
        return Outcome.REMOVED  # Helm set it last time and the values no longer do
    return Outcome.KEPT


def _writer(path: str, editors: Sequence[ManagedFieldsEntry]) -> ManagedFieldsEntry | None:
    owners = [e for e in editors if any(_within(path, _owned_text(p)) for p in e.spec_paths)]
    return max(owners, key=lambda e: e.time_text) if owners else None


def _override(
    live_obj: Mapping[str, Any],
    verdict: OwnershipVerdict,
    entries: list[ManagedFieldsEntry],
    wanted_obj: Mapping[str, Any] | None,
    last_applied: Mapping[str, Any] | None,
    history: bool,
    namespace: str,
) -> OwnershipWarning | None:
    """Warning 1 for one object of this release, or None when no one else's edit would be lost."""
    helm_times = [e.time for e in entries if is_helm_manager(e.manager) and e.time is not None]
    helm_last = max(helm_times) if helm_times else None
    others = [
        e
        for e in entries
        if not is_helm_manager(e.manager) and e.manager not in IGNORED_MANAGERS and e.spec_paths
    ]
    notes: list[str] = []
    if history and last_applied is not None:
        # Three-way: an edit is whatever differs between live and what Helm last applied.
        live = normalize_policy(live_obj, namespace=namespace)
        applied: NormalizedPolicy | None = normalize_policy(last_applied, namespace=namespace)
        assert applied is not None
        edited = [c.path for c in _spec_changes(compare_policy(applied, live))]
        editors = others
        notes.append("compared with Helm's last applied manifest (--helm-history)")
    else:
        editors = [e for e in others if helm_last is None or e.time is None or e.time > helm_last]
        if not editors:
            return None  # nothing written behind Helm's back: no need to compare anything
        edited = [_owned_text(p) for e in editors for p in e.spec_paths]
        for e in others:
            if e not in editors:
                notes.append(
                    f"{e.manager} wrote {', '.join(path_text(p) for p in e.spec_paths)} at {e.time_text}, "
                    "before Helm's last write: not counted as an edit"
                )
        live = normalize_policy(live_obj, namespace=namespace)
        applied = None
    wanted = normalize_policy(wanted_obj, namespace=namespace) if wanted_obj is not None else None
    if not edited:
        return None
    if wanted is None:
        return _deleted_with_edits(verdict, namespace, live, edited, editors, notes)
    changes = [
        c for c in _spec_changes(compare_policy(wanted, live)) if any(_within(c.path, e) for e in edited)
    ]
    fields = [
        _field(change, _writer(change.path, editors), _outcome(change, wanted, applied, history))
        for change in changes
    ]
    lost = [f for f in fields if f.outcome in (Outcome.REVERTED, Outcome.REMOVED)]
    if not lost:
        return None
    who = sorted({f"{f.manager} at {f.time}" if f.time else str(f.manager) for f in lost if f.manager})
    who_text = ", ".join(who) if who else "a writer the managedFields do not name"
    details = [_field_line(f) for f in fields]
    if helm_ownership_problems(live_obj, verdict.release or "", namespace):
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
    return f"{f.path}: {what} (edited by {by})"


def _deleted_with_edits(
    verdict: OwnershipVerdict,
    namespace: str,
    live: NormalizedPolicy,
    edited: list[str],
    editors: Sequence[ManagedFieldsEntry],
    notes: list[str],
) -> OwnershipWarning:
    fields = []
    for path in dict.fromkeys(edited):
        change = FieldChange(path, _value_at_text(live, path), ABSENT)
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
    how = (
        "GitLab's editor disables a policy by adding network-policy.gitlab.com/disabled_by: gitlab to its "
        "selector"
    )
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


def _collision(
    live_obj: Mapping[str, Any],
    verdict: OwnershipVerdict,
    helm_release: str,
    namespace: str,
    in_last_manifest: bool | None,
) -> OwnershipWarning | None:
    problems = helm_ownership_problems(live_obj, helm_release, namespace)
    if not problems:
        return None
    if in_last_manifest is True:
        return None  # part of the release already: Helm updates it without the ownership check
    if in_last_manifest is None and verdict.owner is Ownership.PIPELINE and verdict.release == helm_release:
        return None  # this release's chart labels: Helm updates it if it is in the last manifest
    kind_text = f'{verdict.kind} "{verdict.name}" in namespace "{namespace}"'
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
            *problems,
            f"rename or delete the live policy, or adopt it: label app.kubernetes.io/managed-by=Helm and "
            f"annotate meta.helm.sh/release-name={helm_release}, meta.helm.sh/release-namespace={namespace}",
        ),
    )


def _both_methods(
    desired_obj: Mapping[str, Any],
    ui_objs: list[PolicyModel],
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
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return (order[warning.severity], warning.code, warning.kind, warning.name)


def assess(
    desired: Iterable[Mapping[str, Any]],
    live: Iterable[Mapping[str, Any]],
    *,
    release: str,
    namespace: str,
    track: str = "stable",
    last_applied: Sequence[Mapping[str, Any]] | None = None,
) -> OwnershipReport:
    """Classify the namespace's live policies and warn about what the deploy would override.

    ``release`` is the app's base release name (Auto Deploy's ``HELM_RELEASE_NAME``), ``track``
    the track being deployed. ``last_applied`` is the policy part of Helm's last release
    manifest when ``--helm-history`` read it (None: not read; ``[]``: no release yet).
    """
    helm_release = helm_release_for(release, track)
    desired_objs = [d for d in desired if d.get("kind") in POLICY_KINDS]
    desired_by_key = {_key(d): d for d in desired_objs}
    live_objs = [
        o
        for o in live
        if o.get("kind") in POLICY_KINDS
        and (o.get("metadata") or {}).get("namespace", namespace) == namespace
    ]
    history = last_applied is not None
    applied_by_key = {_key(a): a for a in last_applied or [] if a.get("kind") in POLICY_KINDS}
    verdicts: list[OwnershipVerdict] = []
    warnings: list[OwnershipWarning] = []
    ui_active: list[tuple[Mapping[str, Any], OwnershipVerdict]] = []
    for obj in live_objs:
        entries = parse_managed_fields(obj)
        verdict = classify(obj, release=release, track=track, entries=entries)
        if not verdict.namespace:
            verdict = replace(verdict, namespace=namespace)
        verdicts.append(verdict)
        key = _key(obj)
        wanted_obj = desired_by_key.get(key)
        if verdict.disabled and verdict.owner in (Ownership.UI_EDITOR, Ownership.PIPELINE):
            warnings.append(_disabled(verdict, namespace))
        elif verdict.owner is Ownership.UI_EDITOR:
            ui_active.append((obj, verdict))
        in_last = (key in applied_by_key) if history else None
        if wanted_obj is not None:
            collision = _collision(obj, verdict, helm_release, namespace, in_last)
            if collision is not None:
                warnings.append(collision)
                continue
        owned_here = (verdict.owner is Ownership.PIPELINE and verdict.this_release) or bool(in_last)
        if owned_here:
            override = _override(
                obj, verdict, entries, wanted_obj, applied_by_key.get(key), history, namespace
            )
            if override is not None:
                warnings.append(override)
    if desired_objs and ui_active:
        ui_objs = [policy_model(obj, namespace) for obj, _ in ui_active]  # made once, used per policy
        ui_verdicts = [v for _, v in ui_active]
        for desired_obj in desired_objs:
            warnings.append(_both_methods(desired_obj, ui_objs, ui_verdicts, namespace))
    notes = []
    if history and not applied_by_key:
        notes.append(f"Helm release {helm_release} has no deployed policies on record")
    warnings.sort(key=_severity_rank)
    verdicts.sort(key=lambda v: (v.kind, v.name))
    return OwnershipReport(tuple(verdicts), tuple(warnings), tuple(notes))


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
    "verdict_json",
]
