"""Compare desired policies with live ones and say precisely what differs (pure).

Input: the manifests the deploy will create and the manifests that are live (both plain
dicts), the releases that this deploy owns per namespace, and ignore rules. Output: a
:class:`DriftReport` - drift entries (``missing``, ``changed``, ``unexpected``), objects in
sync, the other live policies as context with their owner, and what the ignore rules hid.

Paths in :class:`FieldChange` use the desired object's list indices; an element that exists
only in the live object is named by its index in the live object.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ..errors import InputError
from ..kube.names import (
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CILIUM_NETWORK_POLICY,
    CLUSTER_SCOPED_POLICY_KINDS,
    DEPLOYABLE_POLICY_KINDS,
    NETWORK_POLICY,
)
from ..policy.normalize import NormalizedPolicy, canonical, normalize_policy
from ..sources.yamlio import PathElement, format_path


class Change(StrEnum):
    """How one object differs."""

    MISSING = "missing"  # desired, not live: the deploy will create it
    CHANGED = "changed"  # both, different: the deploy will overwrite the live fields
    UNEXPECTED = "unexpected"  # live, owned by this release, not desired: the deploy will delete it


class Scope(StrEnum):
    """Where in the object a change is."""

    SPEC = "spec"
    METADATA = "metadata"


class _Absent:
    """The value of a field that is not there (distinct from ``null``)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """One field that differs; ``ABSENT`` on the side where the field does not exist."""

    path: str
    live: Any = ABSENT
    desired: Any = ABSENT

    @property
    def scope(self) -> Scope:
        return Scope.METADATA if self.path.startswith("metadata") else Scope.SPEC


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
    connectivity analyses (JSON-ready mappings), so that every output format carries them.
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
    ownership: tuple[Mapping[str, Any], ...] = ()
    warnings: tuple[Mapping[str, Any], ...] = ()
    connectivity: Mapping[str, Any] | None = None

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
    "clusternetworkpolicy": "ClusterNetworkPolicy",
    "clusternetworkpolicies": "ClusterNetworkPolicy",
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
'*' matches any run of characters, everything else is literal; KIND is NetworkPolicy (netpol)
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
                hint="use NetworkPolicy (netpol), CiliumNetworkPolicy (cnp) or *",
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
            hits = [rule.text for rule in field_rules if rule.matches_path(change.path)]
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

HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"


def release_of(manifest: Mapping[str, Any]) -> str | None:
    """The Helm release that owns a live object, or None.

    Helm 3's release-name annotation decides when present; objects without it (Helm 2, or
    annotations stripped) fall back to the chart's ``release`` label.
    """
    metadata = manifest.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    release = annotations.get(HELM_RELEASE_ANNOTATION)
    if isinstance(release, str) and release:
        return release
    release = labels.get("release") or labels.get("app.kubernetes.io/instance")
    manager = labels.get("heritage", labels.get("app.kubernetes.io/managed-by"))
    if isinstance(release, str) and release and manager in ("Helm", "Tiller"):
        return release
    return None


def owner_of(manifest: Mapping[str, Any]) -> str:
    """Who owns a live policy, in a few words: a Helm release, the last field manager, or unknown."""
    release = release_of(manifest)
    if release:
        return f"helm release {release}"
    metadata = manifest.get("metadata") or {}
    labels = metadata.get("labels") or {}
    if "app.gitlab.com/proj" in labels:
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
    applied: Mapping[tuple[str, str], Sequence[Mapping[str, Any]] | None] | None = None,
    unread_kinds: Collection[str] = (),
) -> DriftReport:
    """Compare desired with live policies.

    ``applied``: Helm's release record (``--helm-history``), (namespace, release) → the policies of
    the release's last manifest (``None`` when Helm has no record there); without it the verdicts on
    labels and annotations only the live object has assume what the previous release set (a note
    says which). Cluster-scoped policies (a release creates them through customResources) are
    compared when desired, or when Helm's annotations name one of ``releases`` of ``namespace``;
    ``unread_kinds`` are cluster-scoped kinds the live state could not list: their desired objects
    are not compared (a note says so) rather than reported missing.

    ``namespace`` is given to desired objects that have none and, without
    ``all_namespaces``, is the only namespace looked at. ``releases`` are the Helm releases
    this deploy owns in ``namespace``; in every namespace the releases named by the desired
    objects' own ``release`` labels count as well. A live policy owned by one of them and not
    desired is ``unexpected`` (the deploy deletes it); any other live policy is context.
    """
    desired_by_key: dict[tuple[str, str, str], NormalizedPolicy] = {}
    owned: dict[str, set[str]] = defaultdict(set)
    if namespace:
        owned[namespace].update(releases)
    report_notes = list(notes)
    not_compared: list[str] = []
    for manifest in desired:
        if manifest.get("kind") not in DEPLOYABLE_POLICY_KINDS:
            continue
        policy = normalize_policy(manifest, namespace=namespace)
        if policy.kind in CLUSTER_SCOPED_POLICY_KINDS:
            if policy.kind in unread_kinds:
                not_compared.append(f"{policy.kind} {policy.name}")
                continue
            if policy.key in desired_by_key:
                raise InputError(
                    f"desired {policy.kind} {policy.name} appears twice",
                    hint="Helm refuses to render two objects with one name; check the values or the stream",
                )
            desired_by_key[policy.key] = policy
            continue
        if policy.namespace is None:
            raise InputError(
                f"desired {policy.kind} {policy.name!r} has no namespace",
                hint="pass --namespace (KUBE_NAMESPACE) for objects rendered without one",
            )
        if not all_namespaces and namespace and policy.namespace != namespace:
            raise InputError(
                f"desired {policy.kind} {policy.name!r} is in namespace {policy.namespace!r}, "
                f"not in --namespace {namespace!r}",
                hint="pass --all-namespaces to compare several namespaces",
            )
        if policy.key in desired_by_key:
            raise InputError(
                f"desired {policy.kind} {policy.namespace}/{policy.name} appears twice",
                hint="Helm refuses to render two objects with one name; check the values or the stream",
            )
        desired_by_key[policy.key] = policy
        label_release = policy.labels.get("release") or policy.labels.get("app.kubernetes.io/instance")
        if isinstance(label_release, str) and label_release:
            owned[policy.namespace or ""].add(label_release)

    entries: list[DriftEntry] = []
    in_sync: list[InSync] = []
    context: list[ContextPolicy] = []
    seen: set[tuple[str, str, str]] = set()
    assumed_objects: list[str] = []
    for manifest in live:
        if manifest.get("kind") not in DEPLOYABLE_POLICY_KINDS:
            continue
        policy = normalize_policy(manifest, namespace=namespace)
        cluster_scoped = policy.kind in CLUSTER_SCOPED_POLICY_KINDS
        if (
            cluster_scoped
            and policy.key not in desired_by_key
            and not _helm_owned(manifest, namespace, owned)
        ):
            continue  # the cluster's other cluster-scoped policies are no context of one namespace
        if not cluster_scoped and not all_namespaces and namespace and policy.namespace != namespace:
            continue
        if policy.key in seen:
            report_notes.append(
                f"live {policy.kind} {policy.namespace}/{policy.name} listed twice; first one used"
            )
            continue
        seen.add(policy.key)
        wanted = desired_by_key.get(policy.key)
        if wanted is not None:
            previous = _previous(applied, wanted, namespace)
            result = compare_policy(wanted, policy, applied=previous, history=applied is not None)
            if applied is None and any("assumes the previous release" in note for note in result.cosmetic):
                assumed_objects.append(f"{wanted.kind} {wanted.namespace}/{wanted.name}")
            if isinstance(result, DriftEntry):
                entries.append(replace(result, owner=owner_of(manifest)))
            else:
                in_sync.append(result)
            continue
        release = release_of(manifest)
        if (cluster_scoped and _helm_owned(manifest, namespace, owned)) or (
            not cluster_scoped and release is not None and release in owned.get(policy.namespace or "", ())
        ):
            entries.append(
                DriftEntry(
                    policy.kind,
                    policy.namespace or "",
                    policy.name,
                    Change.UNEXPECTED,
                    owner=owner_of(manifest),
                    spec=policy.raw_spec,
                )
            )
        else:
            context.append(
                ContextPolicy(policy.kind, policy.namespace or "", policy.name, owner_of(manifest))
            )
    for key, wanted in desired_by_key.items():
        if key not in seen:
            entries.append(
                DriftEntry(
                    wanted.kind, wanted.namespace or "", wanted.name, Change.MISSING, spec=wanted.raw_spec
                )
            )

    if not_compared:
        report_notes.append(
            "not compared (the live state could not list their kind, e.g. a namespaced role): "
            + ", ".join(sorted(not_compared))
        )
    if assumed_objects:
        report_notes.append(
            "labels and annotations only the live object has: Helm's three-way merge removes those the "
            "previous release set and keeps the rest; without its release record (--helm-history) the "
            "chart's own keys are taken as set by it and every other key as added by someone else, for "
            + ", ".join(sorted(assumed_objects))
        )
    entries.sort(key=lambda entry: (entry.namespace, entry.kind, entry.name))
    kept, ignored = apply_ignore_rules(entries, ignore)
    in_sync.sort(key=lambda item: (item.namespace, item.kind, item.name))
    context.sort(key=lambda item: (item.namespace, item.kind, item.name))
    all_releases = sorted({release for names in owned.values() for release in names})
    return DriftReport(
        drift=tuple(kept),
        in_sync=tuple(in_sync),
        context=tuple(context),
        ignored=tuple(ignored),
        notes=tuple(report_notes),
        namespace=namespace,
        all_namespaces=all_namespaces,
        releases=tuple(all_releases),
        desired_source=desired_source,
        live_source=live_source,
    )


#: Label and annotation keys the auto-deploy-app chart (and its overlays) write: a live one the desired
#: object lacks was, without Helm's record to say otherwise, written by the previous release.
CHART_METADATA_KEYS = frozenset(
    {
        "app",
        "chart",
        "release",
        "heritage",
        "app.kubernetes.io/name",
        "helm.sh/chart",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/instance",
        "app.gitlab.com/proj",
        "app.gitlab.com/alert",
    }
)


@dataclass(frozen=True)
class MetadataMerge:
    """What Helm's three-way merge does with the labels and annotations only the live object has."""

    #: (path, live value) Helm removes: the previous release set them
    removed: tuple[tuple[str, Any], ...] = ()
    #: paths Helm keeps: someone else added them and the chart never set them
    kept: tuple[str, ...] = ()
    #: paths whose verdict assumes what the previous release set (no Helm record at hand)
    assumed: tuple[str, ...] = ()


def metadata_merge(
    desired: NormalizedPolicy, live: NormalizedPolicy, applied: NormalizedPolicy | None, *, history: bool
) -> MetadataMerge:
    """Helm 3 upgrades with a three-way merge (previous manifest, live object, new manifest):
    a label or annotation the live object has and the new manifest does not is removed only when
    the previous manifest set it; one someone else added is kept. With Helm's record (``history``)
    that is exact; without it, the chart's own keys count as set by the previous release and every
    other key as added by someone else — and the verdict says it assumes so."""
    removed: list[tuple[str, Any]] = []
    kept: list[str] = []
    assumed: list[str] = []
    for section in ("labels", "annotations"):
        desired_map: dict[str, Any] = getattr(desired, section)
        applied_map: dict[str, Any] = getattr(applied, section) if applied is not None else {}
        for key, value in getattr(live, section).items():
            if key in desired_map:
                continue
            path = format_path(("metadata", section, key))
            if history:
                set_before = key in applied_map
            else:
                set_before = key in CHART_METADATA_KEYS
                assumed.append(path)
            if set_before:
                removed.append((path, value))
            else:
                kept.append(path)
    return MetadataMerge(tuple(removed), tuple(kept), tuple(assumed))


def _helm_owned(manifest: Mapping[str, Any], namespace: str | None, owned: Mapping[str, set[str]]) -> bool:
    """A cluster-scoped object Helm's annotations give to one of the releases of ``namespace``."""
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    if not isinstance(annotations, Mapping):
        return False
    release_namespace = annotations.get("meta.helm.sh/release-namespace")
    release = annotations.get("meta.helm.sh/release-name")
    return (
        isinstance(release_namespace, str)
        and (namespace is None or release_namespace == namespace)
        and release in owned.get(release_namespace, ())
    )


def _previous(
    applied: Mapping[tuple[str, str], Sequence[Mapping[str, Any]] | None] | None,
    wanted: NormalizedPolicy,
    namespace: str | None,
) -> NormalizedPolicy | None:
    """The previous manifest of ``wanted`` in the records of its namespace's releases (``None``: in none)."""
    if not applied:
        return None
    for (record_namespace, _), manifests in applied.items():
        if record_namespace != (wanted.namespace or ""):
            continue
        for manifest in manifests or ():
            metadata = manifest.get("metadata") or {}
            if manifest.get("kind") == wanted.kind and metadata.get("name") == wanted.name:
                return normalize_policy(manifest, namespace=wanted.namespace or namespace)
    return None


def compare_policy(
    desired: NormalizedPolicy,
    live: NormalizedPolicy,
    *,
    applied: NormalizedPolicy | None = None,
    history: bool = False,
) -> DriftEntry | InSync:
    """Compare one desired object with the live object of the same identity, as Helm's
    three-way merge will leave it (``applied``: the previous release's manifest of it, when
    ``history`` — Helm's release record — was read; see :func:`metadata_merge`)."""
    changes: list[FieldChange] = []
    if not _identical(desired.spec, live.spec) and canonical(desired.spec) != canonical(live.spec):
        cilium = desired.kind in (CILIUM_NETWORK_POLICY, CILIUM_CLUSTERWIDE_NETWORK_POLICY)
        base: tuple[PathElement, ...] = () if cilium else ("spec",)
        _diff(live.spec, desired.spec, base, changes)
    for section in ("labels", "annotations"):
        live_map: dict[str, Any] = getattr(live, section)
        desired_map: dict[str, Any] = getattr(desired, section)
        for key in desired_map:
            live_value = live_map.get(key, ABSENT)
            desired_value = desired_map[key]
            if live_value != desired_value or type(live_value) is not type(desired_value):
                changes.append(
                    FieldChange(format_path(("metadata", section, key)), live_value, desired_value)
                )
    merge = metadata_merge(desired, live, applied, history=history)
    changes.extend(FieldChange(path, value, ABSENT) for path, value in merge.removed)
    notes = [f"{path}: kept by Helm's three-way merge (the chart never set it)" for path in merge.kept]
    if merge.assumed:
        notes.append(
            "without Helm's release record (--helm-history) the verdict on "
            + ", ".join(merge.assumed)
            + " assumes the previous release set only the chart's own labels and annotations"
        )
    if changes:
        changes.sort(key=lambda change: change.scope != Scope.SPEC)
        return DriftEntry(
            desired.kind,
            desired.namespace or "",
            desired.name,
            Change.CHANGED,
            tuple(changes),
            cosmetic=tuple(notes),
        )
    cosmetic = (*_cosmetic(desired, live), *notes)
    return InSync(desired.kind, desired.namespace or "", desired.name, cosmetic)


def _identical(a: Any, b: Any) -> bool:
    """Equal as written, types included (``==`` alone takes ``1`` for ``true``); a fast path."""
    if a != b:
        return False
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (TypeError, ValueError):  # keys of mixed types, values JSON cannot hold
        return False


def _cosmetic(desired: NormalizedPolicy, live: NormalizedPolicy) -> tuple[str, ...]:
    """Why two objects that compare equal are written differently (empty when they are not)."""
    if desired.raw_spec == live.raw_spec and desired.raw_annotations == live.raw_annotations:
        return ()
    live_notes = set(live.normalizations)
    desired_notes = set(desired.normalizations)
    reasons = [f"desired {note}" for note in desired.normalizations if note not in live_notes]
    reasons += [f"live {note}" for note in live.normalizations if note not in desired_notes]
    if desired.raw_spec != live.raw_spec and not reasons:
        reasons.append("the same rules, peers or ports, in another order or repeated")
    if desired.raw_annotations != live.raw_annotations:
        reasons.append("annotations differ only in tool bookkeeping (Helm release, kubectl last-applied)")
    return tuple(reasons)


def _diff(live: Any, desired: Any, path: tuple[PathElement, ...], out: list[FieldChange]) -> None:
    if isinstance(live, dict) and isinstance(desired, dict):
        for key in [*desired, *(k for k in live if k not in desired)]:
            live_value = live.get(key, ABSENT)
            desired_value = desired.get(key, ABSENT)
            if live_value is ABSENT or desired_value is ABSENT:
                out.append(FieldChange(format_path((*path, key)), live_value, desired_value))
            elif canonical(live_value) != canonical(desired_value):
                _diff(live_value, desired_value, (*path, key), out)
        return
    if isinstance(live, list) and isinstance(desired, list):
        _diff_set(live, desired, path, out)
        return
    out.append(FieldChange(format_path(path), live, desired))


def _diff_set(
    live: list[Any], desired: list[Any], path: tuple[PathElement, ...], out: list[FieldChange]
) -> None:
    """Diff two lists with set semantics; pair up similar leftover mappings to show inner changes."""
    live_keys = [canonical(item) for item in live]
    desired_keys = [canonical(item) for item in desired]
    live_set = set(live_keys)
    desired_set = set(desired_keys)
    only_desired = [
        (i, item)
        for i, (item, key) in enumerate(zip(desired, desired_keys, strict=True))
        if key not in live_set
    ]
    only_live = [
        (i, item) for i, (item, key) in enumerate(zip(live, live_keys, strict=True)) if key not in desired_set
    ]
    # Repeats are not drift: keep the first of each.
    only_desired = _first_of_each(only_desired)
    only_live = _first_of_each(only_live)
    unpaired_live = list(only_live)
    # One rule replaced by another: show the fields inside it even when none is shared.
    lone_pair = len(only_desired) == 1 and len(only_live) == 1
    for index, item in only_desired:
        partner = _most_similar(item, unpaired_live)
        if partner is None and lone_pair and isinstance(item, dict) and isinstance(only_live[0][1], dict):
            partner = only_live[0]
        if partner is None:
            out.append(FieldChange(format_path((*path, index)), ABSENT, item))
            continue
        unpaired_live.remove(partner)
        _diff(partner[1], item, (*path, index), out)
    for index, item in unpaired_live:
        out.append(FieldChange(format_path((*path, index)), item, ABSENT))


def _first_of_each(items: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    seen: set[Any] = set()
    result = []
    for index, item in items:
        key = canonical(item)
        if key not in seen:
            seen.add(key)
            result.append((index, item))
    return result


def _most_similar(item: Any, candidates: list[tuple[int, Any]]) -> tuple[int, Any] | None:
    """The candidate mapping sharing most fields with ``item``; None unless some field is shared."""
    if not isinstance(item, dict):
        return None
    best: tuple[int, Any] | None = None
    best_score = 0
    fields = {(key, canonical(value)) for key, value in item.items()}
    for candidate in candidates:
        if not isinstance(candidate[1], dict):
            continue
        score = len(fields & {(key, canonical(value)) for key, value in candidate[1].items()})
        if score > best_score:
            best, best_score = candidate, score
    return best


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
    "compare_policy",
    "owner_of",
    "release_of",
]
