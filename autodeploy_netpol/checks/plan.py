"""The plan: what one deploy does to every policy of a namespace — decided once (pure).

``helm upgrade`` of release R (Helm 3, as Auto Deploy runs it) does exactly this to the namespaced
policies:

* a desired object that is not live is **created**;
* a desired object that is live is **changed** (a three-way patch; nothing when alike). If the live
  object is not in R's last manifest, Helm first checks that it may adopt it (label
  ``app.kubernetes.io/managed-by=Helm`` and both ``meta.helm.sh`` annotations naming R and its
  namespace) and otherwise fails the whole upgrade ("exists and cannot be imported");
* a live object in R's last manifest that is no longer desired is **deleted**, unless it carries
  ``helm.sh/resource-policy: keep``;
* every other live object is **kept**: Helm decides by its release record, never by labels.

What "changed" writes is Helm's patch, not the new manifest (:mod:`.helm_upgrade`): a three-way
merge for NetworkPolicy keeps labels, annotations and map keys someone else added; a merge patch
from the previous manifest for custom resources (Cilium's, ClusterNetworkPolicy) keeps every hand
edit of a field the values did not change. What the patch leaves different from the new manifest
is ``kept``. Policies of cluster-scoped kinds (CiliumClusterwideNetworkPolicy, ClusterNetworkPolicy)
that a release creates through ``customResources`` are planned with the release's namespace
(their entries have no namespace).

Helm's release record (``--helm-history``) answers "is it in R's last manifest?" exactly. Without
it the live object's own metadata stands in: Helm 3.2+ writes its annotations on every object it
applies, so annotations naming R (and R's namespace) count as "in the manifest". Objects that carry
R's chart labels but not the annotations — applied by hand from ``helm template``, or with the
annotations stripped — cannot be told apart without the record: they are kept, and a note says so.

Drift, ownership and audit all read this plan; none of them decides on its own.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import InputError
from ..kube.labels import (
    HELM_NAMESPACE_ANNOTATION,
    HELM_RELEASE_ANNOTATION,
    MANAGED_BY_LABEL,
    RESOURCE_POLICY_ANNOTATION,
    RESOURCE_POLICY_KEEP,
)
from ..kube.names import CLUSTER_SCOPED_POLICY_KINDS, DEPLOYABLE_POLICY_KINDS
from ..kube.releases import ReleaseMarkers, release_label
from ..policy.normalize import NormalizedPolicy, normalize_policy
from ..records import replace  # records and dataclasses alike
from .diff import ABSENT, FieldChange, diff_policies
from .helm_upgrade import as_helm_applies, assumed_original, patch_strategy, upgraded

#: (namespace, Helm release) → the policies of the release's last manifest, or None when Helm has
#: no record of the release there (or it could not be read).
HistoryReader = Callable[[str, str], Sequence[Mapping[str, Any]] | None]


class Action(StrEnum):
    """What the deploy does to one object."""

    CREATE = "create"  # desired, not live
    CHANGE = "change"  # desired and live, different: the deploy writes the desired fields
    DELETE = "delete"  # live, in the release, no longer desired: Helm deletes it
    KEEP = "keep"  # live and left as it is (desired and alike, or not the release's to delete)


class Membership(StrEnum):
    """Whether the release being deployed holds a live object (Helm's last manifest lists it)."""

    RECORD = "record"  # Helm's release record lists it (--helm-history)
    ANNOTATED = "annotated"  # no record read: Helm's annotations name the release
    LABELLED = "labelled"  # no record read: only the chart's labels name it — cannot tell
    NONE = "none"  # not part of the release


@dataclass(frozen=True)
class PlanEntry:
    """One policy and what the deploy does to it, with the evidence that decided it.

    ``desired``, ``live`` and ``applied`` are the manifests as given (a plan of a whole cluster
    keeps every entry, so nothing normalized is kept).
    """

    kind: str
    namespace: str
    name: str
    action: Action
    #: One line for people: why this action.
    reason: str
    #: The Helm release the decision is about: the one that holds, adopts or creates the object.
    release: str | None = None
    membership: Membership = Membership.NONE
    #: What the live object's metadata says about its release.
    markers: ReleaseMarkers | None = None
    #: Why Helm refuses to adopt the live object the deploy wants to write: the upgrade fails.
    conflict: tuple[str, ...] = ()
    #: For ``change``: the fields the deploy writes.
    changes: tuple[FieldChange, ...] = ()
    #: For a desired object left alone: how desired and live are written differently but mean the same.
    cosmetic: tuple[str, ...] = ()
    #: For a desired object that is live: fields where the object stays different from the desired
    #: one after the deploy, because Helm's patch keeps them (live value, desired value).
    kept: tuple[FieldChange, ...] = ()
    #: Whether ``changes``/``kept`` rest on an assumed previous manifest (no Helm record read).
    assumed: bool = False
    desired: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    live: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    #: The object as Helm last applied it (``--helm-history``), when the record lists it.
    applied: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    #: The object as the deploy leaves it (``None``: deleted, or not there).
    after: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """``Kind namespace/name`` (``Kind name`` for a cluster-scoped object)."""
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def kept_notes(self) -> tuple[str, ...]:
        """One line per kept field, for people."""
        how = patch_strategy(self.kind)
        lines = []
        for change in self.kept:
            if change.desired is ABSENT:
                lines.append(f"{change.text}: kept by Helm's {how} (the chart never set it)")
            else:
                lines.append(
                    f"{change.text}: kept by Helm's {how}: stays {_short(change.live)}, "
                    f"the values say {_short(change.desired)}"
                )
        return tuple(lines)

    @property
    def fails(self) -> bool:
        """Whether Helm refuses this object, failing the whole upgrade."""
        return bool(self.conflict)

    @property
    def writes(self) -> bool:
        """Whether the deploy writes over the live object (desired, live, and Helm accepts it)."""
        return self.desired is not None and self.live is not None and not self.conflict

    @property
    def evidence(self) -> tuple[str, ...]:
        """The facts the decision rests on, one line each."""
        lines = []
        if self.membership is Membership.RECORD:
            lines.append(f"listed in release {self.release}'s last manifest (Helm's record)")
        markers = self.markers
        if markers is not None:
            if markers.annotated_release is not None:
                lines.append(f"annotation {HELM_RELEASE_ANNOTATION}={markers.annotated_release}")
            if markers.annotated_namespace is not None:
                lines.append(f"annotation {HELM_NAMESPACE_ANNOTATION}={markers.annotated_namespace}")
            if markers.labelled_release is not None:
                lines.append(f"chart labels name release {markers.labelled_release}")
            if markers.keep:
                lines.append(f"annotation {RESOURCE_POLICY_ANNOTATION}={RESOURCE_POLICY_KEEP}")
        if self.membership is Membership.LABELLED and self.desired is not None:
            lines.append(
                "no Helm ownership annotations: Helm updates it only if the release's last manifest lists "
                "it, otherwise the deploy fails (check with --helm-history)"
            )
        lines.extend(self.conflict)
        return tuple(lines)


@dataclass(frozen=True)
class Plan:
    """What one deploy does in one namespace: an entry for every desired or live policy."""

    namespace: str
    #: The Helm releases deployed into the namespace (``<release>`` or ``<release>-<track>``).
    releases: tuple[str, ...]
    entries: tuple[PlanEntry, ...]
    #: Whether Helm's release record was read (``--helm-history``) for every release.
    record: bool = False
    notes: tuple[str, ...] = ()
    #: (kind, name) of the policies the records list (live or not).
    recorded: frozenset[tuple[str, str]] = frozenset()

    @functools.cached_property
    def _by_key(self) -> dict[tuple[str, str], PlanEntry]:
        return {(entry.kind, entry.name): entry for entry in self.entries}

    def entry(self, kind: str, name: str) -> PlanEntry | None:
        """The entry of one object of this namespace."""
        return self._by_key.get((kind, name))


@dataclass(frozen=True)
class DeployPlan:
    """The plan of every namespace a run looks at, by namespace."""

    plans: tuple[Plan, ...]
    notes: tuple[str, ...] = ()

    @functools.cached_property
    def _by_namespace(self) -> dict[str, Plan]:
        return {plan.namespace: plan for plan in self.plans}

    def plan_for(self, namespace: str) -> Plan | None:
        return self._by_namespace.get(namespace)

    @property
    def entries(self) -> Iterator[PlanEntry]:
        """Every entry, by namespace, kind and name."""
        for plan in self.plans:
            yield from plan.entries

    @property
    def releases(self) -> tuple[str, ...]:
        """Every release deployed, sorted."""
        return tuple(sorted({release for plan in self.plans for release in plan.releases}))


# --- one namespace ---------------------------------------------------------------------------------


def entry_namespace(kind: str, namespace: str) -> str:
    """The namespace an entry of ``kind`` is shown in: none for a cluster-scoped kind."""
    return "" if kind in CLUSTER_SCOPED_POLICY_KINDS else namespace


_Records = Mapping[str, frozenset[tuple[str, str]] | None]


def _membership(
    key: tuple[str, str],
    markers: ReleaseMarkers,
    namespace: str,
    releases: Sequence[str],
    records: _Records,
) -> tuple[Membership, str | None]:
    for release in releases:
        listed = records[release]
        if listed is not None and key in listed:
            return Membership.RECORD, release
    unrecorded = [release for release in releases if records[release] is None]
    for release in unrecorded:
        if markers.annotated_for(release, namespace):
            return Membership.ANNOTATED, release
    if markers.annotated_release is None and markers.labelled_release in unrecorded:
        return Membership.LABELLED, markers.labelled_release
    return Membership.NONE, None


def _not_ours(markers: ReleaseMarkers, namespace: str, releases: Sequence[str], records: _Records) -> str:
    """Why a live object the deploy does not write is none of the release's business."""
    release = markers.release
    if release is not None and release in releases:
        if markers.annotated_namespace not in (None, namespace):
            return (
                f"Helm's annotations name release {release} of namespace {markers.annotated_namespace}, "
                "another release: the deploy leaves it"
            )
        if records[release] is not None:
            return f"names release {release}, but its last manifest does not list it: Helm leaves it"
    if release is not None and release not in releases:
        return f"belongs to Helm release {release}, not to the release deployed: the deploy leaves it"
    names = ", ".join(releases) if releases else "(none known)"
    return f"not part of the release deployed ({names}): the deploy leaves it"


def _live_only(
    markers: ReleaseMarkers,
    membership: Membership,
    holder: str | None,
    namespace: str,
    releases: Sequence[str],
    records: _Records,
) -> tuple[Action, str]:
    """Delete or keep a live object the deploy no longer renders."""
    if membership in (Membership.RECORD, Membership.ANNOTATED):
        if markers.keep:
            return Action.KEEP, (
                f"release {holder} no longer renders it, but {RESOURCE_POLICY_ANNOTATION}: "
                f"{RESOURCE_POLICY_KEEP} makes Helm leave it"
            )
        how = (
            "its last manifest lists it" if membership is Membership.RECORD else "Helm's annotations name it"
        )
        return Action.DELETE, f"release {holder} no longer renders it and {how}: Helm deletes it"
    if membership is Membership.LABELLED:
        return Action.KEEP, (
            f"the chart labels name release {holder} but Helm's ownership annotations are missing: Helm "
            "deletes it only if the release's last manifest lists it (Helm 3.2+ annotates every object it "
            "applies, so most likely it does not)"
        )
    return Action.KEEP, _not_ours(markers, namespace, releases, records)


HELM_MANAGED_BY_PATH = ("metadata", "labels", MANAGED_BY_LABEL)


@dataclass(frozen=True)
class _Upgrade:
    """What Helm's patch does to a desired object that is live."""

    changes: tuple[FieldChange, ...]
    cosmetic: tuple[str, ...]
    kept: tuple[FieldChange, ...]
    after: dict[str, Any]


def _upgrade(
    target: NormalizedPolicy,
    current: NormalizedPolicy,
    original: Mapping[str, Any] | None,
    namespace: str,
    release: str | None,
) -> _Upgrade:
    sent = as_helm_applies(target.manifest, release, namespace)
    after = upgraded(target.kind, original, sent, current.manifest)
    leaves = normalize_policy(after, namespace=namespace or None)
    changes, cosmetic = diff_policies(leaves, current)
    # Helm's own label on an object that lacks it: bookkeeping of Helm's, no change to report
    bookkeeping = [c for c in changes if c.path == HELM_MANAGED_BY_PATH and c.live is ABSENT]
    if bookkeeping:
        changes = tuple(c for c in changes if c not in bookkeeping)
        cosmetic = () if changes else (f"Helm adds its label {MANAGED_BY_LABEL}",)
    kept, _ = diff_policies(normalize_policy(sent, namespace=namespace or None), leaves)
    return _Upgrade(changes, cosmetic, kept, after)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _desired_and_live(
    target: NormalizedPolicy,
    current: NormalizedPolicy,
    markers: ReleaseMarkers,
    membership: Membership,
    holder: str | None,
    namespace: str,
    releases: Sequence[str],
    upgrade: _Upgrade,
) -> tuple[Action, str, str | None, tuple[str, ...]]:
    """(action, reason, release, conflict) for a desired object that is live."""
    changes = upgrade.changes
    action = Action.CHANGE if changes else Action.KEEP
    if changes:
        reason = "desired and live differ: the deploy writes the desired fields"
    elif upgrade.kept:
        reason = (
            f"desired and live differ only where Helm's {patch_strategy(target.kind)} keeps the live fields"
        )
    else:
        reason = "desired and live alike: nothing to change"
    if membership is not Membership.NONE:
        return action, reason, holder, ()
    release = _creating_release(target, releases)
    problems = tuple(markers.adoption_problems(release, namespace)) if release is not None else ()
    if problems:
        reason = (
            f"the name is taken by an object release {release} does not hold and Helm will not adopt: "
            "the deploy fails"
        )
    elif release is not None:
        reason += f" (Helm adopts it into release {release}: its ownership metadata matches)"
    return action, reason, release, problems


def _creating_release(target: NormalizedPolicy, releases: Sequence[str]) -> str | None:
    """The release that renders a desired object: its own release label when deployed, else the
    only release deployed."""
    labelled = release_label(target.labels)
    if labelled in releases:
        return labelled
    return releases[0] if len(releases) == 1 else None


def _records(
    releases: Sequence[str], applied: Mapping[str, Sequence[Mapping[str, Any]] | None], namespace: str
) -> tuple[dict[str, frozenset[tuple[str, str]] | None], dict[tuple[str, str], Mapping[str, Any]]]:
    """Per release, the (kind, name) its record lists in ``namespace`` (None: not read); and each
    listed object. Objects of a manifest without a namespace are in the release's."""
    records: dict[str, frozenset[tuple[str, str]] | None] = {}
    objects: dict[tuple[str, str], Mapping[str, Any]] = {}
    for release in releases:
        manifest = applied.get(release)
        if manifest is None:
            records[release] = None
            continue
        keys = []
        for obj in manifest:
            metadata = obj.get("metadata")
            if not isinstance(metadata, Mapping):
                metadata = {}
            if metadata.get("namespace") not in (None, "", namespace):
                continue
            key = (str(obj.get("kind") or ""), str(metadata.get("name") or ""))
            keys.append(key)
            objects.setdefault(key, obj)
        records[release] = frozenset(keys)
    return records, objects


def plan_namespace(
    desired: Iterable[NormalizedPolicy],
    live: Iterable[NormalizedPolicy],
    *,
    namespace: str,
    releases: Collection[str],
    applied: Mapping[str, Sequence[Mapping[str, Any]] | None] | None = None,
) -> Plan:
    """Decide what deploying ``releases`` into ``namespace`` does to each of its policies.

    ``desired`` and ``live`` are the namespace's policies, each identity once. ``applied`` maps a
    release to the policies of its last manifest as Helm's record holds them (None for a release
    whose record was not read or does not exist).
    """
    ordered = sorted(set(releases))
    records, applied_objects = _records(ordered, applied or {}, namespace)
    recorded = bool(ordered) and all(records[release] is not None for release in ordered)

    wanted = {(policy.kind, policy.name): policy for policy in desired}
    entries: list[PlanEntry] = []
    notes: list[str] = []
    for current in live:
        key = (current.kind, current.name)
        markers = ReleaseMarkers.of(current.manifest)
        membership, holder = _membership(key, markers, namespace, ordered, records)
        target = wanted.pop(key, None)
        conflict: tuple[str, ...] = ()
        changes: tuple[FieldChange, ...] = ()
        cosmetic: tuple[str, ...] = ()
        kept: tuple[FieldChange, ...] = ()
        assumed = False
        after: Mapping[str, Any] | None = current.manifest
        if target is not None:
            # Helm patches from the object as the previous manifest wrote it: the record's; an
            # assumed one when the release holds it but its record was not read; for an object Helm
            # adopts, the new manifest itself
            original: Mapping[str, Any] | None = None
            if membership is Membership.RECORD:
                original = applied_objects.get(key)
            elif membership in (Membership.ANNOTATED, Membership.LABELLED):
                original, assumed = assumed_original(current.manifest), True
            upgrade = _upgrade(
                target,
                current,
                original,
                entry_namespace(current.kind, namespace),
                holder or _creating_release(target, ordered),
            )
            changes, cosmetic, kept, after = upgrade.changes, upgrade.cosmetic, upgrade.kept, upgrade.after
            action, reason, release, conflict = _desired_and_live(
                target, current, markers, membership, holder, namespace, ordered, upgrade
            )
            if conflict:
                # Helm refuses it and the upgrade fails; judged as if it succeeded, the object is
                # the desired one (the way to succeed is to remove the live one first)
                after = target.manifest
            assumed = assumed and bool(changes or kept)
        else:
            action, reason = _live_only(markers, membership, holder, namespace, ordered, records)
            release = holder if membership is not Membership.NONE else markers.release
            if action is Action.DELETE:
                after = None
            if membership is Membership.LABELLED:
                notes.append(
                    f"{current.kind} {namespace}/{current.name} carries release {holder}'s chart labels without "
                    "Helm's ownership annotations: counted as kept; Helm deletes it only if the release's last "
                    "manifest lists it (--helm-history reads Helm's record)"
                )
        entries.append(
            PlanEntry(
                current.kind,
                entry_namespace(current.kind, namespace),
                current.name,
                action,
                reason,
                release,
                membership,
                markers,
                conflict,
                changes,
                cosmetic,
                kept,
                assumed,
                desired=target.manifest if target is not None else None,
                live=current.manifest,
                applied=applied_objects.get(key) if membership is Membership.RECORD else None,
                after=after,
            )
        )
    for target in wanted.values():
        entries.append(
            PlanEntry(
                target.kind,
                entry_namespace(target.kind, namespace),
                target.name,
                Action.CREATE,
                "desired and not live: the deploy creates it",
                _creating_release(target, ordered),
                desired=target.manifest,
                after=target.manifest,
            )
        )
    entries.sort(key=lambda entry: (entry.kind, entry.name))
    assumed_entries = [entry.label for entry in entries if entry.assumed]
    if assumed_entries:
        notes.append(
            "without Helm's release record (--helm-history) the previous manifest is taken to be the live "
            "object as the chart writes it (its spec, and the chart's own labels and annotations): what the "
            "deploy writes and keeps rests on that for " + ", ".join(assumed_entries)
        )
    listed = frozenset(key for keys in records.values() if keys is not None for key in keys)
    return Plan(namespace, tuple(ordered), tuple(entries), recorded, tuple(notes), listed)


# --- a run: one namespace or many ------------------------------------------------------------------


def plan_deploy(
    desired: Iterable[Mapping[str, Any]],
    live: Iterable[Mapping[str, Any]],
    *,
    namespace: str | None,
    releases: Collection[str] = (),
    all_namespaces: bool = False,
    history: HistoryReader | None = None,
    unread_kinds: Collection[str] = (),
) -> DeployPlan:
    """The plan of every namespace a run looks at.

    ``namespace`` is given to desired objects that have none and, without ``all_namespaces``, is the
    only namespace looked at. ``releases`` are the Helm releases deployed into ``namespace``; in every
    namespace the releases named by the desired objects' own ``release`` labels count as well.
    ``history`` reads Helm's record of a release (``--helm-history``). Other kinds are skipped.
    A cluster-scoped policy is planned in ``namespace`` when desired there, and in the namespace
    Helm's annotations name when live (other live ones are none of a release's business);
    ``unread_kinds`` are cluster-scoped kinds the live state could not list: their desired objects
    are left out of the plan, with a note, rather than called missing.
    Raises :class:`InputError` for desired objects without a namespace, outside ``namespace``
    without ``all_namespaces``, or listed twice.
    """
    desired_by_ns: dict[str, dict[tuple[str, str], NormalizedPolicy]] = defaultdict(dict)
    releases_by_ns: dict[str, set[str]] = defaultdict(set)
    if namespace:
        releases_by_ns[namespace].update(releases)
    not_compared: list[str] = []
    for manifest in desired:
        if manifest.get("kind") not in DEPLOYABLE_POLICY_KINDS:
            continue
        policy = normalize_policy(manifest, namespace=namespace)
        if policy.kind in CLUSTER_SCOPED_POLICY_KINDS:
            if not namespace:
                raise InputError(
                    f"desired {policy.kind} {policy.name!r}: cluster-scoped, and no namespace names its release's",
                    hint="pass --namespace (KUBE_NAMESPACE): the release that creates it is deployed there",
                )
            if policy.kind in unread_kinds:
                not_compared.append(f"{policy.kind} {policy.name}")
                continue
            policy = replace(policy, namespace=namespace)
        if policy.namespace is None:
            raise InputError(
                f"desired {policy.kind} {policy.name!r} has no namespace",
                hint="pass --namespace (KUBE_NAMESPACE) for objects rendered without one",
                subject=manifest,
                path=("metadata",),
            )
        if not all_namespaces and namespace and policy.namespace != namespace:
            raise InputError(
                f"desired {policy.kind} {policy.name!r} is in namespace {policy.namespace!r}, "
                f"not in --namespace {namespace!r}",
                hint="pass --all-namespaces to compare several namespaces",
                subject=manifest,
                path=("metadata", "namespace"),
            )
        here = desired_by_ns[policy.namespace]
        if (policy.kind, policy.name) in here:
            raise InputError(
                f"desired {policy.kind} {policy.namespace}/{policy.name} appears twice",
                hint="Helm refuses to render two objects with one name; check the values or the stream",
                subject=manifest,
                path=("metadata", "name"),
            )
        here[(policy.kind, policy.name)] = policy
        labelled = release_label(policy.labels)
        if labelled:
            releases_by_ns[policy.namespace].add(labelled)

    notes: list[str] = []
    # Live objects are grouped as read and normalized one namespace at a time, while it is planned:
    # a cluster-wide run never holds every live policy normalized at once.
    live_by_ns: dict[str, dict[tuple[str, str], Mapping[str, Any]]] = defaultdict(dict)
    for manifest in live:
        kind = manifest.get("kind")
        if kind not in DEPLOYABLE_POLICY_KINDS:
            continue
        metadata = manifest.get("metadata")
        if not isinstance(metadata, Mapping):
            metadata = {}
        if kind in CLUSTER_SCOPED_POLICY_KINDS:
            live_namespace = _cluster_scoped_home(
                manifest, str(kind), metadata, None if all_namespaces else namespace, desired_by_ns
            )
            if live_namespace is None:
                continue  # the cluster's other cluster-scoped policies: no release's business
        else:
            live_namespace = str(metadata.get("namespace") or namespace or "")
        if not all_namespaces and namespace and live_namespace != namespace:
            continue
        key = (str(kind), str(metadata.get("name", "")))
        listed = live_by_ns[live_namespace]
        if key in listed:
            notes.append(f"live {key[0]} {live_namespace}/{key[1]} listed twice; first one used")
            continue
        listed[key] = manifest

    targets = set(desired_by_ns) | set(live_by_ns) | ({namespace} if namespace else set())
    plans = []
    for ns in sorted(targets):
        deployed = releases_by_ns.get(ns, set())
        applied = (
            {release: history(ns, release) for release in sorted(deployed)} if history is not None else None
        )
        plans.append(
            plan_namespace(
                desired_by_ns.get(ns, {}).values(),
                (_live_policy(obj, ns) for obj in live_by_ns.get(ns, {}).values()),
                namespace=ns,
                releases=deployed,
                applied=applied,
            )
        )
    if not_compared:
        notes.append(
            "not compared (the live state could not list their kind, e.g. without a cluster-wide role): "
            + ", ".join(sorted(not_compared))
        )
    return DeployPlan(tuple(plans), tuple(notes))


def _live_policy(manifest: Mapping[str, Any], namespace: str) -> NormalizedPolicy:
    policy = normalize_policy(manifest, namespace=namespace)
    return replace(policy, namespace=namespace) if policy.kind in CLUSTER_SCOPED_POLICY_KINDS else policy


def _cluster_scoped_home(
    manifest: Mapping[str, Any],
    kind: str,
    metadata: Mapping[str, Any],
    namespace: str | None,
    desired_by_ns: Mapping[str, Mapping[tuple[str, str], NormalizedPolicy]],
) -> str | None:
    """The namespace whose plan a live cluster-scoped policy belongs to: the one it is desired in,
    else the release namespace Helm's annotations name (``namespace``, unless ``None``: any);
    ``None``: no plan's."""
    key = (kind, str(metadata.get("name", "")))
    for ns, wanted in desired_by_ns.items():
        if key in wanted:
            return ns
    home = ReleaseMarkers.of(manifest).annotated_namespace
    if home is not None and (home == namespace or (namespace is None and home)):
        return home
    return None


__all__ = [
    "Action",
    "DeployPlan",
    "HistoryReader",
    "Membership",
    "Plan",
    "PlanEntry",
    "plan_deploy",
    "plan_namespace",
]
