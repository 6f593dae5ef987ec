"""Compare desired policies with live ones and say precisely what differs (pure).

Input: the manifests the deploy will create and the manifests that are live (both plain
dicts), the releases that this deploy owns per namespace, and ignore rules. What the deploy does
to each object is the plan's decision (:mod:`.plan`); drift renders it: entries ``missing``
(created), ``changed`` (the fields the deploy writes) and ``unexpected`` (deleted), objects in
sync, the other live policies as context with their owner, and what the ignore rules hid.

Paths in :class:`FieldChange` use the desired object's list indices; an element that exists
only in the live object is named by its index in the live object.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..kube.labels import UI_PROJECT_LABEL
from ..kube.names import (
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CILIUM_NETWORK_POLICY,
    CLUSTER_NETWORK_POLICY,
    NETWORK_POLICY,
)
from ..kube.releases import ReleaseMarkers
from ..policy.normalize import written_spec
from ..records import replace  # records and dataclasses alike
from .diff import ABSENT, FieldChange, Scope
from .plan import Action, DeployPlan, HistoryReader, PlanEntry, plan_deploy

if TYPE_CHECKING:  # the connectivity engine and ownership are imported where they run
    from .connectivity_section import ConnectivitySection
    from .ownership.classify import OwnershipVerdict
    from .ownership.conflicts import OwnershipWarning


class Change(StrEnum):
    """How one object differs."""

    MISSING = "missing"  # desired, not live: the deploy will create it
    CHANGED = "changed"  # both, different: the deploy will overwrite the live fields
    UNEXPECTED = "unexpected"  # live, owned by this release, not desired: the deploy will delete it


@dataclass(frozen=True)
class DriftEntry:
    """One object that is not as the deploy will leave it."""

    kind: str
    namespace: str
    name: str
    change: Change
    paths: tuple[FieldChange, ...] = ()
    owner: str | None = None
    cosmetic: tuple[str, ...] = ()
    #: For ``missing`` the desired spec, for ``unexpected`` the live one, as written (a
    #: CiliumNetworkPolicy's ``spec`` and/or ``specs`` under those names); what the deploy
    #: creates or deletes.
    spec: Any = ABSENT

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """Spec and/or metadata, in that order; ``missing``/``unexpected`` are whole-object."""
        found = {change.scope for change in self.paths}
        return tuple(scope for scope in Scope if scope in found)


@dataclass(frozen=True)
class InSync:
    """An object that is live as desired; ``cosmetic`` lists differences that normalized away."""

    kind: str
    namespace: str
    name: str
    cosmetic: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContextPolicy:
    """A live policy the deploy does not touch, with who owns it."""

    kind: str
    namespace: str
    name: str
    owner: str


@dataclass(frozen=True)
class IgnoredDrift:
    """Drift hidden by ``--ignore`` rules: the whole entry, or some of its paths."""

    entry: DriftEntry
    rules: tuple[str, ...]


@dataclass(frozen=True)
class DriftReport:
    """Everything one drift check found; the JSON report is this record serialized.

    ``ownership``, ``warnings`` and ``connectivity`` are filled by the ownership and
    connectivity analyses, so that every output format carries them.
    """

    drift: tuple[DriftEntry, ...]
    in_sync: tuple[InSync, ...] = ()
    context: tuple[ContextPolicy, ...] = ()
    ignored: tuple[IgnoredDrift, ...] = ()
    notes: tuple[str, ...] = ()
    namespace: str | None = None
    all_namespaces: bool = False
    releases: tuple[str, ...] = ()
    desired_source: str = ""
    live_source: str = ""
    ownership: tuple[OwnershipVerdict, ...] = ()
    warnings: tuple[OwnershipWarning, ...] = ()
    connectivity: ConnectivitySection | None = None
    #: The plan the entries were read from, for the other checks of the same run.
    plan: DeployPlan | None = field(default=None, repr=False, compare=False)

    def count(self, change: Change) -> int:
        return sum(1 for entry in self.drift if entry.change is change)

    @property
    def has_drift(self) -> bool:
        """Whether anything is left after the ignore rules (decides exit code 1)."""
        return bool(self.drift)


# --- ignore rules ------------------------------------------------------------------------------

_KIND_ALIASES = {
    "networkpolicy": NETWORK_POLICY,
    "networkpolicies": NETWORK_POLICY,
    "netpol": NETWORK_POLICY,
    "ciliumnetworkpolicy": CILIUM_NETWORK_POLICY,
    "ciliumnetworkpolicies": CILIUM_NETWORK_POLICY,
    "cnp": CILIUM_NETWORK_POLICY,
    "ciliumclusterwidenetworkpolicy": CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    "ciliumclusterwidenetworkpolicies": CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    "ccnp": CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    "clusternetworkpolicy": CLUSTER_NETWORK_POLICY,
    "clusternetworkpolicies": CLUSTER_NETWORK_POLICY,
    "*": "*",
}

IGNORE_RULE_HELP = """\
--ignore RULE hides drift (the exit code is decided after the rules); RULE is one of:
  NAME                  objects of any kind named NAME (glob: 'legacy-*')
  KIND/NAME             e.g. NetworkPolicy/allow-dns, netpol/*, cnp/web-*
  NAMESPACE/KIND/NAME   only in that namespace (glob: 'review-*/netpol/*')
  FIELD                 a field path in every object, and everything below it: 'metadata.labels.chart',
                        'metadata.annotations', 'spec.ingress[*].ports', 'metadata.labels["helm.sh/chart"]'
  OBJECT:FIELD          that field in matching objects: 'netpol/web:spec.egress'
'*' matches any run of characters, everything else is literal; KIND is NetworkPolicy (netpol),
CiliumNetworkPolicy (cnp), CiliumClusterwideNetworkPolicy (ccnp) or ClusterNetworkPolicy, any case;
FIELD starts with 'spec' or 'metadata'."""


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z", re.DOTALL)


@dataclass(frozen=True)
class IgnoreRule:
    """A parsed ``--ignore`` rule (see :data:`IGNORE_RULE_HELP`)."""

    text: str
    namespace: str = "*"
    kind: str = "*"
    name: str = "*"
    field: str | None = None

    @classmethod
    def parse(cls, text: str) -> IgnoreRule:
        """Parse ``text``; raise :class:`InputError` with the syntax when it is malformed."""
        rule = text.strip()
        if not rule:
            raise InputError("empty --ignore rule", hint=IGNORE_RULE_HELP)
        field_part: str | None = None
        object_part = rule
        if _is_field(rule):
            return cls(text=rule, field=rule)
        if ":" in rule:
            object_part, field_part = rule.split(":", 1)
            if not _is_field(field_part):
                raise InputError(
                    f"--ignore {text!r}: after ':' comes a field path starting with 'spec' or 'metadata'",
                    hint=IGNORE_RULE_HELP,
                )
        parts = object_part.split("/")
        if len(parts) > 3 or any(not part for part in parts):
            raise InputError(f"--ignore {text!r}: expected [NAMESPACE/]KIND/NAME", hint=IGNORE_RULE_HELP)
        namespace, kind, name = ["*", "*", *parts][-3:]
        resolved = _KIND_ALIASES.get(kind.lower())
        if resolved is None:
            raise InputError(
                f"--ignore {text!r}: unknown kind {kind!r}",
                hint="use NetworkPolicy (netpol), CiliumNetworkPolicy (cnp), CiliumClusterwideNetworkPolicy (ccnp), ClusterNetworkPolicy or *",
            )
        return cls(text=rule, namespace=namespace, kind=resolved, name=name, field=field_part)

    def matches_object(self, kind: str, namespace: str, name: str) -> bool:
        """Whether the object part of the rule selects this object."""
        return (
            (self.kind == "*" or self.kind == kind)
            and bool(_glob(self.namespace).match(namespace))
            and bool(_glob(self.name).match(name))
        )

    def matches_path(self, path: str) -> bool:
        """Whether a field path is the rule's field or below it."""
        if self.field is None:
            return False
        pattern = _glob(self.field)
        if pattern.match(path):
            return True
        # Below the field: the path continues with '.' or '[' after a matching prefix.
        return any(path[index] in ".[" and pattern.match(path[:index]) for index in range(1, len(path)))


def _is_field(text: str) -> bool:
    return bool(re.match(r"(spec|specs|metadata)(\Z|[.\[])", text))


def apply_ignore_rules(
    entries: Iterable[DriftEntry], rules: Sequence[IgnoreRule]
) -> tuple[list[DriftEntry], list[IgnoredDrift]]:
    """Split drift into what is still reported and what the rules hide."""
    kept: list[DriftEntry] = []
    ignored: list[IgnoredDrift] = []
    for entry in entries:
        applicable = [rule for rule in rules if rule.matches_object(entry.kind, entry.namespace, entry.name)]
        whole = [rule.text for rule in applicable if rule.field is None]
        if whole:
            ignored.append(IgnoredDrift(entry, tuple(whole)))
            continue
        field_rules = [rule for rule in applicable if rule.field is not None]
        if not field_rules or entry.change is not Change.CHANGED:
            kept.append(entry)
            continue
        remaining: list[FieldChange] = []
        hidden: list[FieldChange] = []
        used: list[str] = []
        for change in entry.paths:
            hits = [rule.text for rule in field_rules if rule.matches_path(change.text)]
            if hits:
                hidden.append(change)
                used.extend(hit for hit in hits if hit not in used)
            else:
                remaining.append(change)
        if hidden:
            ignored.append(IgnoredDrift(replace(entry, paths=tuple(hidden)), tuple(used)))
        if remaining:
            kept.append(replace(entry, paths=tuple(remaining)))
    return kept, ignored


# --- ownership ---------------------------------------------------------------------------------


def release_of(manifest: Mapping[str, Any]) -> str | None:
    """The Helm release a live object names: Helm 3's release-name annotation when present, else
    the chart's ``release`` label written by Helm or Tiller. Evidence of the owner; whether the
    deploy may delete the object is the plan's decision."""
    return ReleaseMarkers.of(manifest).release


def owner_of(manifest: Mapping[str, Any]) -> str:
    """Who owns a live policy, in a few words: a Helm release, the last field manager, or unknown."""
    release = release_of(manifest)
    if release:
        return f"helm release {release}"
    metadata = manifest.get("metadata") or {}
    labels = metadata.get("labels") or {}
    if UI_PROJECT_LABEL in labels:
        return "GitLab policy editor"
    managers = [
        entry.get("manager") for entry in metadata.get("managedFields") or [] if isinstance(entry, dict)
    ]
    managers = [manager for manager in managers if isinstance(manager, str) and manager]
    if managers:
        return f"field manager {managers[-1]}"
    return "unknown"


# --- comparison --------------------------------------------------------------------------------


def compare(
    desired: Iterable[Mapping[str, Any]],
    live: Iterable[Mapping[str, Any]],
    *,
    namespace: str | None,
    releases: Collection[str] = (),
    all_namespaces: bool = False,
    ignore: Sequence[IgnoreRule] = (),
    desired_source: str = "",
    live_source: str = "",
    notes: Sequence[str] = (),
    history: HistoryReader | None = None,
    plan: DeployPlan | None = None,
    unread_kinds: Collection[str] = (),
) -> DriftReport:
    """Compare desired with live policies.

    ``namespace`` is given to desired objects that have none and, without
    ``all_namespaces``, is the only namespace looked at. ``releases`` are the Helm releases
    this deploy owns in ``namespace``; in every namespace the releases named by the desired
    objects' own ``release`` labels count as well. What the deploy does to each live policy is
    the plan's (:func:`.plan.plan_deploy`; pass ``plan`` when the run made it already, or
    ``history`` to read Helm's release record): one it deletes is ``unexpected``; one it leaves
    alone is context. A ``changed`` entry lists what Helm's patch writes; fields it keeps
    different from the desired object are said in the entry's notes (``cosmetic``), and so for
    objects in sync. ``unread_kinds``: cluster-scoped kinds the live state could not list.
    """
    if plan is None:
        plan = plan_deploy(
            desired,
            live,
            namespace=namespace,
            releases=releases,
            all_namespaces=all_namespaces,
            history=history,
            unread_kinds=unread_kinds,
        )
    entries: list[DriftEntry] = []
    in_sync: list[InSync] = []
    context: list[ContextPolicy] = []
    for entry in plan.entries:
        _read_entry(entry, entries, in_sync, context)
    report_notes = [*notes, *plan.notes, *(note for each in plan.plans for note in each.notes)]
    kept, ignored = apply_ignore_rules(entries, ignore)
    return DriftReport(
        drift=tuple(kept),
        in_sync=tuple(in_sync),
        context=tuple(context),
        ignored=tuple(ignored),
        notes=tuple(report_notes),
        namespace=namespace,
        all_namespaces=all_namespaces,
        releases=plan.releases,
        desired_source=desired_source,
        live_source=live_source,
        plan=plan,
    )


def _read_entry(
    entry: PlanEntry, entries: list[DriftEntry], in_sync: list[InSync], context: list[ContextPolicy]
) -> None:
    """One plan entry as drift: created → missing, changed → changed, deleted → unexpected."""
    kind, namespace, name = entry.kind, entry.namespace, entry.name
    manifest = entry.live
    if entry.action is Action.CREATE:
        assert entry.desired is not None
        entries.append(DriftEntry(kind, namespace, name, Change.MISSING, spec=written_spec(entry.desired)))
    elif entry.action is Action.CHANGE:
        assert manifest is not None
        entries.append(
            DriftEntry(
                kind, namespace, name, Change.CHANGED, entry.changes, owner_of(manifest), entry.kept_notes
            )
        )
    elif entry.action is Action.DELETE:
        assert manifest is not None
        spec = written_spec(manifest)
        entries.append(
            DriftEntry(kind, namespace, name, Change.UNEXPECTED, owner=owner_of(manifest), spec=spec)
        )
    elif entry.desired is not None:
        in_sync.append(InSync(kind, namespace, name, (*entry.cosmetic, *entry.kept_notes)))
    else:
        assert manifest is not None
        context.append(ContextPolicy(kind, namespace, name, owner_of(manifest)))


__all__ = [
    "ABSENT",
    "IGNORE_RULE_HELP",
    "Change",
    "ContextPolicy",
    "DriftEntry",
    "DriftReport",
    "FieldChange",
    "IgnoreRule",
    "IgnoredDrift",
    "InSync",
    "Scope",
    "apply_ignore_rules",
    "compare",
    "owner_of",
    "release_of",
]
