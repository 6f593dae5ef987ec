"""Recorded flows against the policies before and after a deploy, aggregated on the fly (pure).

A flow *would be dropped* when the policies in place after the deploy deny it, and is *newly
allowed* when the policies in place now deny it and those after the deploy allow it. Flows are
grouped by (source workload, destination workload, protocol, port); verdicts are cached per
(source peer, destination peer, protocol, port), so the policy engine is asked once per distinct
connection, not once per flow, and memory grows with distinct peers and groups, not with flows.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..kube.names import CLUSTER_SCOPED_POLICY_KINDS, DEPLOYABLE_POLICY_KINDS
from ..kube.releases import ReleaseMarkers
from ..policy import Endpoint, Model
from ..policy.intervals import IPV6_OFFSET, cidr_range, int_to_ip, ip_to_int
from ..policy.normalize import NormalizedPolicy, normalize_policy
from ..policy.policies import is_compiled
from ..records import replace  # records and dataclasses alike
from ..sources.flows import ENTITY, EXTERNAL, POD, Flow, Peer, ReadStats
from .plan import Action, Plan, plan_namespace

#: Bounds on memory: groups beyond this fold external addresses into one "world" peer per group;
#: the verdict cache is flushed when full (it only saves time).
MAX_GROUPS = 10_000
MAX_CACHED_VERDICTS = 100_000
MAX_CAVEATS = 50
OTHER_ADDRESSES = "world (other addresses)"


class Reachability(Protocol):
    """What a set of policies allows, one connection at a time."""

    def allows(self, source: Peer, destination: Peer, protocol: str, port: int) -> bool:
        """True when ``source`` may open ``protocol``/``port`` connections to ``destination``."""
        ...


class PolicyReachability:
    """:class:`Reachability` answered by the connectivity engine for one set of manifests.

    Peers become engine endpoints: pods by their recorded namespace and labels (the pods need
    not exist any more), external peers by address, reserved identities as Cilium entities.
    A namespace no Namespace object describes (known only by name from a policy or workload, or not
    at all) gets the labels the recording carries for it (Cilium records them as
    ``io.cilium.k8s.namespace.labels.*``), so namespaceSelectors match as they did when the flow
    was seen; a described namespace keeps the labels of its object.
    """

    def __init__(self, model: Model, address_boundaries: Sequence[int] = ()) -> None:
        self.model = model
        self._endpoints: dict[Peer, Endpoint] = {}
        self._addresses: dict[int, Endpoint] = {}
        self._world = Endpoint.entity_named("world")
        # Addresses between two consecutive boundaries are alike for every CIDR in the policies.
        self._boundaries = sorted({0, IPV6_OFFSET, *address_boundaries})
        self.caveats: dict[str, None] = {}  # ordered set of "not modelled" notes met on the way

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]]) -> PolicyReachability:
        """Compile policies, namespaces and workloads from manifests (raises ``PolicyError``)."""
        objects = list(objects)
        return cls(Model.from_objects(objects), cidr_boundaries(objects))

    def _address(self, ip: str) -> Endpoint:
        """The endpoint standing for every address alike to ``ip`` (a recording of internet
        traffic holds millions of addresses, the policies a handful of CIDRs)."""
        value = ip_to_int(ip)
        start = self._boundaries[bisect_right(self._boundaries, value) - 1]
        endpoint = self._addresses.get(start)
        if endpoint is None:
            endpoint = self._addresses[start] = Endpoint.address(int_to_ip(start))
        return endpoint

    def endpoint(self, peer: Peer) -> Endpoint:
        """The engine's endpoint for ``peer`` (cached)."""
        if peer.kind == EXTERNAL:  # not cached per address: millions of them share a few ranges
            if "/" in peer.ip:  # a block of addresses (the learner's aggregate): allowed only as a whole
                return Endpoint.address(peer.ip)
            return self._address(peer.ip) if peer.ip else self._world
        endpoint = self._endpoints.get(peer)
        if endpoint is None:
            if peer.kind == POD:
                if peer.namespace_labels:  # used unless a Namespace object describes the namespace
                    self.model.learn_namespace_labels(peer.namespace, dict(peer.namespace_labels))
                endpoint = Endpoint.pod(peer.namespace, dict(peer.labels))
            else:  # ENTITY
                endpoint = Endpoint.entity_named(peer.entity)
            if len(self._endpoints) >= MAX_CACHED_VERDICTS:
                self._endpoints.clear()
            self._endpoints[peer] = endpoint
        return endpoint

    def allows(self, source: Peer, destination: Peer, protocol: str, port: int) -> bool:
        verdict = self.model.verdict(self.endpoint(source), self.endpoint(destination), protocol, port)
        for caveat in verdict.caveats:
            if len(self.caveats) < MAX_CAVEATS:
                self.caveats[caveat] = None
        return verdict.allowed

    def notes(self) -> list[str]:
        """What the engine did not model, for the report."""
        return list(dict.fromkeys([*self.model.notes(), *self.caveats]))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def cidr_boundaries(objects: Iterable[Mapping[str, Any]]) -> list[int]:
    """Where address ranges named in policies begin and end, on the engine's integer line.

    Every string in a policy spec that reads as a CIDR (``ipBlock.cidr``/``except``,
    ``toCIDR``, ``toCIDRSet`` …) counts; taking a string that is not meant as one only splits
    the line finer, which is always safe.
    """
    bounds: set[int] = set()
    for obj in objects:
        if not is_compiled(obj):  # the cluster-scoped tiers name networks too
            continue
        for text in _strings(obj.get("spec")):
            if "/" not in text and not text[:1].isdigit() and ":" not in text:
                continue
            try:
                lo, hi = cidr_range(text if "/" in text else f"{text}/{128 if ':' in text else 32}")
            except ValueError:
                continue
            bounds.update((lo, hi + 1))
    return sorted(bounds)


@dataclass(slots=True)
class FlowGroup:
    """Flows from one workload to another on one protocol and port."""

    source: str
    destination: str
    protocol: str
    port: int
    flows: int = 0
    would_drop: int = 0  # denied by the policies after the deploy
    newly_allowed: int = 0  # denied now, allowed after the deploy
    denied_before: int = 0  # denied by the policies in place now
    first_seen: str = ""
    last_seen: str = ""
    observed: dict[str, int] = field(default_factory=dict)  # recorded verdict → flows

    @property
    def drop_ratio(self) -> float:
        """Share of this group's flows that would be dropped."""
        return self.would_drop / self.flows if self.flows else 0.0


@dataclass(frozen=True)
class AuditResult:
    """Everything the report shows."""

    groups: tuple[FlowGroup, ...]
    stats: ReadStats
    notes: tuple[str, ...] = ()
    #: flows from a pod's own node (Cilium's ``reserved:host``: kubelet probes …), which Kubernetes
    #: always lets in: counted apart, never judged by the policies
    from_node: int = 0
    #: what the evaluation depends on and could not be read from the cluster (what, reason): the
    #: verdict is then partial, and every format says so beside it
    unread: tuple[tuple[str, str], ...] = ()

    @property
    def flows(self) -> int:
        return sum(group.flows for group in self.groups)

    @property
    def would_drop(self) -> int:
        return sum(group.would_drop for group in self.groups)

    @property
    def newly_allowed(self) -> int:
        return sum(group.newly_allowed for group in self.groups)

    @property
    def denied_before(self) -> int:
        return sum(group.denied_before for group in self.groups)

    @property
    def dropped_groups(self) -> list[FlowGroup]:
        """Groups with flows that would be dropped, most dropped first."""
        found = [group for group in self.groups if group.would_drop]
        return sorted(found, key=lambda g: (-g.would_drop, g.source, g.destination, g.protocol, g.port))

    @property
    def newly_allowed_groups(self) -> list[FlowGroup]:
        """Groups with flows the deploy would newly allow, most flows first."""
        found = [group for group in self.groups if group.newly_allowed]
        return sorted(found, key=lambda g: (-g.newly_allowed, g.source, g.destination, g.protocol, g.port))


#: The group of flows from a pod's own node: never judged (see :attr:`AuditResult.from_node`).
_FROM_NODE = FlowGroup("reserved:host", "", "", 0)


class Audit:
    """Feeds flows through two reachability answers and aggregates them.

    Traffic from a pod's own node (``reserved:host``) is counted apart and never judged:
    "when a pod is isolated for ingress, the only allowed connections into the pod are those from
    the pod's node and those allowed by the ingress list" (Kubernetes); Cilium lets the local
    host in as well.
    """

    def __init__(self, before: Reachability, after: Reachability) -> None:
        self._before = before
        self._after = after
        # (source, destination, protocol, port) → [group, would_drop, newly_allowed, denied_before]
        self._cache: dict[tuple[Peer, Peer, str, int], tuple[FlowGroup, bool, bool, bool]] = {}
        self._groups: dict[tuple[str, str, str, int], FlowGroup] = {}
        self._from_node = 0

    def _entry(
        self, source: Peer, destination: Peer, protocol: str, port: int
    ) -> tuple[FlowGroup, bool, bool, bool]:
        if source.kind == ENTITY and source.entity == "host" and destination.kind == POD:
            entry = (_FROM_NODE, False, False, False)
            self._cache[(source, destination, protocol, port)] = entry
            return entry
        allowed_before = self._before.allows(source, destination, protocol, port)
        allowed_after = self._after.allows(source, destination, protocol, port)
        entry = (
            self._group(source, destination, protocol, port),
            not allowed_after,
            allowed_after and not allowed_before,
            not allowed_before,
        )
        if len(self._cache) >= MAX_CACHED_VERDICTS:
            self._cache.clear()
        self._cache[(source, destination, protocol, port)] = entry
        return entry

    def _group(self, source: Peer, destination: Peer, protocol: str, port: int) -> FlowGroup:
        key = (source.workload, destination.workload, protocol, port)
        group = self._groups.get(key)
        if group is None:
            if len(self._groups) >= MAX_GROUPS:
                # A recording with very many external addresses: keep one group per workload.
                key = (
                    OTHER_ADDRESSES if source.kind == EXTERNAL else source.workload,
                    OTHER_ADDRESSES if destination.kind == EXTERNAL else destination.workload,
                    protocol,
                    port,
                )
                group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = FlowGroup(key[0], key[1], protocol, port)
        return group

    def run(self, flows: Iterable[Flow]) -> None:
        """Evaluate and aggregate every flow of ``flows``."""
        # Hot path (bench/audit.py): one dictionary lookup per flow once a connection is known.
        cache = self._cache
        entry_for = self._entry
        for flow in flows:
            source, destination, protocol, port, time, verdict = flow
            entry = cache.get((source, destination, protocol, port))
            if entry is None:
                entry = entry_for(source, destination, protocol, port)
            group, would_drop, newly_allowed, denied_before = entry
            if group is _FROM_NODE:
                self._from_node += 1
                continue
            group.flows += 1
            if would_drop:
                group.would_drop += 1
            elif newly_allowed:
                group.newly_allowed += 1
            if denied_before:
                group.denied_before += 1
            if time:
                if time > group.last_seen:
                    group.last_seen = time
                if time < group.first_seen or not group.first_seen:
                    group.first_seen = time
            observed = group.observed
            observed[verdict] = observed.get(verdict, 0) + 1

    def add(
        self,
        source: Peer,
        destination: Peer,
        protocol: str,
        port: int,
        *,
        flows: int,
        first_seen: str = "",
        last_seen: str = "",
        observed: Mapping[str, int] | None = None,
    ) -> None:
        """Count ``flows`` flows of one connection at once: the replay of an aggregate (the learner's
        proof), judged exactly as :meth:`run` judges each of them."""
        entry = self._cache.get((source, destination, protocol, port))
        if entry is None:
            entry = self._entry(source, destination, protocol, port)
        group, would_drop, newly_allowed, denied_before = entry
        if group is _FROM_NODE:
            self._from_node += flows
            return
        group.flows += flows
        if would_drop:
            group.would_drop += flows
        elif newly_allowed:
            group.newly_allowed += flows
        if denied_before:
            group.denied_before += flows
        if first_seen and (first_seen < group.first_seen or not group.first_seen):
            group.first_seen = first_seen
        if last_seen > group.last_seen:
            group.last_seen = last_seen
        for verdict, count in (observed or {}).items():
            group.observed[verdict] = group.observed.get(verdict, 0) + count

    def result(
        self, stats: ReadStats, notes: Sequence[str] = (), unread: Sequence[tuple[str, str]] = ()
    ) -> AuditResult:
        """The aggregate so far, groups in a stable order."""
        groups = sorted(self._groups.values(), key=lambda g: (g.source, g.destination, g.protocol, g.port))
        return AuditResult(tuple(groups), stats, tuple(notes), self._from_node, tuple(unread))


# ---------------------------------------------------------------------------------------------
# Which policies are in place after the deploy: the plan's answer


def _identity(obj: Mapping[str, Any], default_namespace: str) -> tuple[str, str, str]:
    metadata = obj.get("metadata") or {}
    kind = str(obj.get("kind", ""))
    scope = "" if kind in CLUSTER_SCOPED_POLICY_KINDS else str(metadata.get("namespace") or default_namespace)
    return (kind, scope, str(metadata.get("name", "")))


@dataclass(frozen=True)
class AfterDeploy:
    """The objects in place after the deploy, and what the plan says about getting there."""

    objects: list[dict[str, Any]]
    plan: Plan
    notes: tuple[str, ...] = ()


def after_deploy(
    desired: Sequence[Mapping[str, Any]],
    live: Sequence[Mapping[str, Any]],
    *,
    namespace: str,
    helm_release: str,
) -> AfterDeploy:
    """The objects in place after ``helm upgrade`` of ``helm_release`` into ``namespace``.

    The desired objects (in ``namespace`` unless they name another), plus the live ones the deploy
    leaves alone. Which live policies of ``namespace`` the deploy deletes is the plan's decision
    (:func:`..plan.plan_namespace`): those of the release that it no longer renders. Everything
    else stays, including policies written by hand or by GitLab's UI editor, which add to what
    the deploy allows. Live objects of another kind are replaced by a desired object of the same
    identity and otherwise kept.
    """
    placed: list[dict[str, Any]] = []
    desired_ids = set()
    for obj in desired:
        copy = dict(obj)
        metadata = dict(copy.get("metadata") or {})
        if copy.get("kind") not in CLUSTER_SCOPED_POLICY_KINDS:
            metadata.setdefault("namespace", namespace)
        copy["metadata"] = metadata
        placed.append(copy)
        desired_ids.add(_identity(copy, namespace))
    plan = plan_namespace(
        _policies_in(placed, namespace),
        _policies_in(live, namespace, live=True),
        namespace=namespace,
        releases=(helm_release,),
    )
    deleted = {
        (entry.kind, entry.namespace, entry.name) for entry in plan.entries if entry.action is Action.DELETE
    }
    # what Helm's patch leaves in place of a live object (fields it keeps included), not the manifest
    after = {
        (entry.kind, entry.name): entry.after
        for entry in plan.entries
        if entry.desired is not None and entry.after is not None
    }
    placed = [
        dict(after.get((str(obj.get("kind", "")), str((obj.get("metadata") or {}).get("name", ""))), obj))
        for obj in placed
    ]
    kept = [
        dict(obj)
        for obj in live
        if (identity := _identity(obj, namespace)) not in desired_ids and identity not in deleted
    ]
    notes = [
        f"the deploy would fail: {entry.kind} {namespace}/{entry.name} exists and Helm cannot adopt it into "
        f"release {entry.release} ({'; '.join(entry.conflict)}); flows are judged as if it succeeded"
        for entry in plan.entries
        if entry.fails
    ]
    return AfterDeploy(kept + placed, plan, (*plan.notes, *notes))


def _policies_in(
    objects: Iterable[Mapping[str, Any]], namespace: str, *, live: bool = False
) -> list[NormalizedPolicy]:
    """The namespace's policies among ``objects``, normalized, the first of each identity; the
    cluster-scoped ones with them when desired, or (``live``) when Helm's annotations name a
    release of the namespace."""
    found: dict[tuple[str, str], NormalizedPolicy] = {}
    for obj in objects:
        if obj.get("kind") not in DEPLOYABLE_POLICY_KINDS:
            continue
        policy = normalize_policy(obj, namespace=namespace)
        if policy.kind in CLUSTER_SCOPED_POLICY_KINDS:
            if live and ReleaseMarkers.of(obj).annotated_namespace != namespace:
                continue
            policy = replace(policy, namespace=namespace)
        if policy.namespace == namespace:
            found.setdefault((policy.kind, policy.name), policy)
    return list(found.values())
