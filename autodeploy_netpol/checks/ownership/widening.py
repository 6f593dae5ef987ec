"""Does the pipeline's policy allow traffic that the UI-editor policies on the same pods do not?

Network policies add up: a pod isolated by several policies accepts the union of what they
allow. So a broad policy from the values file silently re-opens what a narrow UI policy meant to
close. The question is answered by the connectivity engine (``policy/``), not by a model of its
own: both sides are compiled as the engine compiles every policy, and for each kind of pod the
policies can tell apart (found exactly from their selectors, :mod:`...policy.witnesses`) and
each kind of peer (pods the same way, address ranges cut at every CIDR boundary, Cilium's
reserved entities), the engine's side of the pod is evaluated twice: under the UI policies
alone, and under the UI policies plus the pipeline's. Whatever the second allows and the first
does not is what the pipeline's policy widens; it is reported per rule of the pipeline's policy
that allows it.

Deny rules of either side win over every allow (the engine applies them); UI rules guarded by
Cilium L7 rules count as allowing nothing (they filter requests the pipeline's L4 rule lets
through), the pipeline's as allowing their ports. Named ports resolve to a port no numeric rule
names, so a named port is covered only by the same name or by every port.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

from ...kube.defaults import CILIUM_RESERVED_PREFIX, NETWORK_POLICY_PROTOCOL
from ...policy.analysis import address_boundaries
from ...policy.endpoints import RESERVED_ENTITIES, Endpoint, NamedPort
from ...policy.engine import side_of
from ...policy.intervals import (
    ALL_IPV4,
    ALL_IPV6,
    MAX_PORT,
    MIN_PORT,
    NO_CONNECTIONS,
    PROTOCOLS,
    ConnectionSet,
    IntervalSet,
)
from ...policy.policies import (
    EGRESS,
    INGRESS,
    CiliumEndpointPeer,
    Peer,
    PodPeer,
    Policy,
    PolicyError,
    PortSpec,
    Rule,
    compile_policy,
)
from ...policy.selectors import Requirement, Selector, cilium_labels
from ...policy.witnesses import POD_BASE, membership_witnesses, pod_view_requirements, split_pod_view
from ...records import replace  # records and dataclasses alike
from ..explain import describe_peer, describe_ports
from .classify import is_disabled_in_ui

#: Most kinds of pods (as subjects, and as peers) the check enumerates before it gives up
#: deciding exactly (thousands of unrelated selectors; it then says it could not rule widening out).
MAX_WITNESSES = 512


@dataclass(frozen=True)
class ComparedPolicy:
    """A policy compiled by the engine for the widening check (made once, compared many times)."""

    kind: str
    name: str
    policies: tuple[Policy, ...]  # one per ``spec``/``specs`` entry of a Cilium policy
    disabled: bool = False  # switched off in GitLab's UI: selects nothing
    problem: str = ""  # why the engine could not read it ("" when it could)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"

    def isolates(self, direction: str) -> bool:
        return any(
            policy.isolates_ingress if direction == INGRESS else policy.isolates_egress
            for policy in self.policies
        )

    @property
    def notes(self) -> tuple[str, ...]:
        """What the engine says about this policy: parts it does not model (L7 rules, FQDNs ...),
        rules that policyTypes switches off."""
        return tuple(dict.fromkeys(note for policy in self.policies for note in policy.notes))

    @property
    def has_deny(self) -> bool:
        return any(rule.deny for policy in self.policies for rule in policy.rules)


def compile_for_widening(obj: Mapping[str, Any], namespace: str, *, ui: bool) -> ComparedPolicy:
    """Compile a NetworkPolicy or CiliumNetworkPolicy manifest for :func:`compare_with_ui`.

    ``ui``: a UI-editor policy, whose L7-guarded ports count as not allowed (what it surely
    allows); the pipeline's policy counts them as allowed (what it may allow).
    """
    name, kind = _name(obj), str(obj.get("kind"))
    if ui and is_disabled_in_ui(obj):
        return ComparedPolicy(kind, name, (), disabled=True)
    try:
        policies = compile_policy(obj, namespace, l7_allows=not ui)
    except PolicyError as exc:
        where = ".".join(str(part) for part in exc.path)
        return ComparedPolicy(kind, name, (), problem=f"{exc.message}{f' at {where}' if where else ''}")
    return ComparedPolicy(kind, name, tuple(policies))


@dataclass(frozen=True)
class WideningVerdict:
    """How the pipeline's policy relates to one UI-editor policy."""

    pipeline: str  # "Kind/name" of the pipeline's policy
    ui_policy: str  # "Kind/name" of the UI policy
    overlaps: bool  # both select (possibly) the same pods
    widens: bool
    #: What the pipeline's policy allows on the pods they share that the UI policies on them do not.
    widened: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One sentence for reports."""
        if not self.overlaps:
            return f"{self.ui_policy}: selects different pods; the policies do not add up"
        if self.widens:
            return f"{self.ui_policy}: {self.pipeline} WIDENS what it allows: " + "; ".join(self.widened)
        return f"{self.ui_policy}: {self.pipeline} allows nothing beyond it"


# ----------------------------------------------------------------------------------- witnesses


@dataclass(frozen=True)
class _Pod:
    """A pod standing for one kind of pod: the endpoint and what a selector sees of it."""

    endpoint: Endpoint
    namespace_labels: dict[str, str]
    view: dict[str, str]


def _subject_requirements(policy: Policy) -> tuple[Requirement, ...] | None:
    return _selector_requirements(policy.subject, policy.cilium, policy.namespace or None, None)


@lru_cache(maxsize=4096)
def _selector_requirements(
    selector: Selector, cilium: bool, namespace: str | None, namespace_selector: Selector | None
) -> tuple[Requirement, ...] | None:
    return pod_view_requirements(
        selector, cilium=cilium, namespace=namespace, namespace_selector=namespace_selector
    )


def _peer_requirements(peer: Peer) -> tuple[Requirement, ...] | None:
    if isinstance(peer, PodPeer):
        return _selector_requirements(peer.pod_selector, False, peer.namespace, peer.namespace_selector)
    if isinstance(peer, CiliumEndpointPeer):
        return _selector_requirements(peer.selector, True, None, None)
    return None


def _pods(
    bases: Iterable[tuple[Requirement, ...]],
    selectors: Iterable[tuple[Requirement, ...]],
    named_ports: tuple[NamedPort, ...],
) -> tuple[tuple[_Pod, ...], bool]:
    """One pod per kind of pod inside one of ``bases`` that ``selectors`` tell apart."""
    return _distinct_pods(tuple(dict.fromkeys(bases)), tuple(dict.fromkeys(selectors)), named_ports)


@lru_cache(maxsize=1024)  # the policies of one namespace share their selectors: enumerate once
def _distinct_pods(
    bases: tuple[tuple[Requirement, ...], ...],
    selectors: tuple[tuple[Requirement, ...], ...],
    named_ports: tuple[NamedPort, ...],
) -> tuple[tuple[_Pod, ...], bool]:
    found: dict[tuple[tuple[str, str], ...], None] = {}
    complete = True
    for base in bases:
        witnesses, done = membership_witnesses((*POD_BASE, *base), selectors, limit=MAX_WITNESSES)
        found.update(dict.fromkeys(tuple(sorted(w.labels.items())) for w in witnesses))
        complete &= done
    pods = []
    for items in found:
        namespace, namespace_labels, labels = split_pod_view(dict(items))
        endpoint = Endpoint.pod(namespace, labels, named_ports)
        view = cilium_labels(namespace, endpoint.label_map, namespace_labels)
        pods.append(_Pod(endpoint, namespace_labels, view))
    return tuple(pods), complete


def _named_ports(policies: Iterable[Policy]) -> tuple[NamedPort, ...]:
    """A port for every port name the rules use, numbered where no numeric rule reaches."""
    names: dict[str, str] = {}
    numeric: list[IntervalSet] = []
    for policy in policies:
        for rule in policy.rules:
            numeric.extend(rule.ports.numeric.by_protocol)
            for protocol, name in sorted(rule.ports.named):
                if protocol in PROTOCOLS:
                    names.setdefault(name, protocol)
                else:
                    names.setdefault(name, "")
    if not names:
        return ()
    used = IntervalSet.union_all(numeric)
    free = IntervalSet([(MIN_PORT, MAX_PORT)]).difference(used)
    numbers: list[int] = []
    for lo, hi in reversed(free.intervals):
        numbers.extend(range(hi, max(lo, hi - len(names)) - 1, -1))
        if len(numbers) >= len(names):
            break
    numbers += [MAX_PORT - offset for offset in range(len(names))]  # no free port: any will do
    return tuple(
        (name, protocol or NETWORK_POLICY_PROTOCOL, number)
        for (name, protocol), number in zip(sorted(names.items()), numbers, strict=False)
    )


_Peer = tuple[Endpoint, Mapping[str, str], Mapping[str, str]]  # endpoint, namespace labels, Cilium view


def _outside_endpoints(policies: Sequence[Policy]) -> tuple[_Peer, ...]:
    """Address ranges cut at every CIDR boundary of the policies, and each reserved entity."""
    return _outside(frozenset(address_boundaries(policies)))


@lru_cache(maxsize=256)
def _outside(cuts: frozenset[int]) -> tuple[_Peer, ...]:
    out: list[_Peer] = []
    for first, last in (ALL_IPV4, ALL_IPV6):
        points = sorted({first, last + 1, *(cut for cut in cuts if first < cut <= last)})
        for lo, next_lo in pairwise(points):
            out.append((Endpoint.address_range(lo, next_lo - 1), {}, {}))
    for name in RESERVED_ENTITIES:
        endpoint = Endpoint.entity_named(name)
        out.append((endpoint, {}, {f"{CILIUM_RESERVED_PREFIX}{name}": ""}))
    return tuple(out)


# ------------------------------------------------------------------------------------ the check


@dataclass
class _Widened:
    """What the pipeline's rules allow beyond the UI policies, per (direction, peer as written)."""

    numeric: dict[tuple[str, str], ConnectionSet] = field(default_factory=dict)
    named: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)

    def add(
        self, key: tuple[str, str], rule: Rule, extra: ConnectionSet, ports: tuple[NamedPort, ...]
    ) -> None:
        """What of ``rule``'s ports is in ``extra`` (named ports by their name, not their number)."""
        numeric = rule.ports.numeric.intersection(extra)
        if numeric:
            self.numeric[key] = self.numeric.get(key, NO_CONNECTIONS).union(numeric)
        for protocol, name in rule.ports.named:
            if any(n == name and extra.allows(p, number) for n, p, number in ports):
                self.named.setdefault(key, set()).add((protocol, name))

    def merge(self, other: _Widened) -> None:
        for key, conns in other.numeric.items():
            self.numeric[key] = self.numeric.get(key, NO_CONNECTIONS).union(conns)
        for key, names in other.named.items():
            self.named.setdefault(key, set()).update(names)

    def texts(self) -> list[str]:
        """``ingress from pods app=web in the same namespace: TCP 8080``, ingress first."""
        keys = sorted({*self.numeric, *self.named}, key=lambda key: (key[0] != INGRESS, key[1]))
        out = []
        for direction, peer in keys:
            ports = PortSpec(
                self.numeric.get((direction, peer), NO_CONNECTIONS),
                tuple(sorted(self.named.get((direction, peer), ()))),
            )
            out.append(
                f"{direction} {'from' if direction == INGRESS else 'to'} {peer}: {describe_ports(ports)}"
            )
        return out


def _reaches_outside(rule: Rule) -> bool:
    """Whether a rule may allow something outside the cluster's pods (addresses, entities)."""
    return rule.peers is None or any(_peer_requirements(peer) is None for peer in rule.peers)


def _peers(
    pipeline: ComparedPolicy, every_policy: Sequence[Policy], named_ports: tuple[NamedPort, ...]
) -> tuple[dict[str, list[_Peer]], bool]:
    """Per direction in which the pipeline's policy allows anything: one peer per kind of peer
    its rules reach, as the selectors of every rule in that direction tell pods apart, and every
    address range and entity when one of its rules reaches outside the pods."""
    mine = {id(rule) for policy in pipeline.policies for rule in policy.rules}
    peers: dict[str, list[_Peer]] = {}
    complete = True
    for direction in (INGRESS, EGRESS):
        rules = [r for policy in every_policy for r in policy.rules if r.direction == direction]
        my_rules = [r for r in rules if id(r) in mine and not r.deny]
        if not my_rules:
            continue  # nothing to widen in this direction
        selectors = [
            requirements
            for rule in rules
            for requirements in map(_peer_requirements, rule.peers or ())
            if requirements is not None
        ]
        if any(rule.peers is None for rule in my_rules):
            bases: list[tuple[Requirement, ...]] = [()]  # a rule of the pipeline allows any peer
        else:
            bases = [
                requirements
                for rule in my_rules
                for requirements in map(_peer_requirements, rule.peers or ())
                if requirements is not None
            ]
        pods, done = _pods(bases, selectors, named_ports)
        complete &= done
        peers[direction] = [(p.endpoint, p.namespace_labels, p.view) for p in pods]
        if any(_reaches_outside(rule) for rule in my_rules):
            peers[direction] += _outside_endpoints(every_policy)
    return peers, complete


def _widened_at(
    pod: _Pod,
    mine: Sequence[Policy],
    theirs: Sequence[Policy],
    peers: Mapping[str, Sequence[_Peer]],
    namespace: str,
) -> dict[str, _Widened]:
    """Per direction, what the pipeline's policies ``mine`` add on ``pod`` to the UI's ``theirs``."""
    my_rules = {id(rule) for policy in mine for rule in policy.rules}
    found = {}
    for direction, candidates in peers.items():
        before = side_of(theirs, direction)
        if not before.isolated and not before.deny:
            continue  # the UI policies leave this side open: adding rules cannot widen it
        after = side_of([*mine, *theirs], direction)
        widened = found[direction] = _Widened()
        for peer, peer_namespace, peer_view in candidates:
            ports_of = pod.endpoint.named_ports if direction == INGRESS else peer.named_ports
            _, allowed_after, _, _ = after.allowed(peer, peer_namespace, peer_view, ports_of)
            if not allowed_after:
                continue
            _, allowed_before, _, _ = before.allowed(peer, peer_namespace, peer_view, ports_of)
            extra = allowed_after.difference(allowed_before)
            if not extra:
                continue
            for rule in after.allow:  # the pipeline's rules that let ``extra`` through, as written
                if id(rule) not in my_rules:
                    continue
                if rule.peers is None:
                    written = "anywhere"
                else:
                    matched = rule.matching_peer(peer, peer_namespace, peer_view)
                    if matched is None:
                        continue
                    written = describe_peer(matched, namespace)
                widened.add((direction, written), rule, extra, ports_of)
    return found


def compare_with_ui(
    pipeline_obj: Mapping[str, Any],
    ui_objs: Sequence[Mapping[str, Any] | ComparedPolicy],
    namespace: str,
) -> list[WideningVerdict]:
    """Compare one pipeline policy with each UI-editor policy in the namespace.

    For a UI policy that selects some of the same pods, the verdict lists what the pipeline's
    policy allows on those pods beyond what all UI policies selecting them allow together
    (policies add up, so the UI policies are judged together). ``ui_objs`` may be
    :func:`compile_for_widening` results already (one namespace, many pipeline policies).
    """
    uis = [
        o if isinstance(o, ComparedPolicy) else compile_for_widening(o, namespace, ui=True) for o in ui_objs
    ]
    label = f"{pipeline_obj.get('kind')}/{_name(pipeline_obj)}"
    # Policies of one namespace often repeat a spec (a release's tracks, several releases of one
    # app): the verdicts depend on the spec, not on the name, so they are computed once.
    key = _content_key(pipeline_obj, namespace, uis)
    cached = _VERDICTS.get(key) if key is not None else None
    if cached is None:
        cached = (_compare(compile_for_widening(pipeline_obj, namespace, ui=False), uis, namespace), uis)
        if key is not None:
            if len(_VERDICTS) >= _VERDICTS_LIMIT:
                _VERDICTS.clear()
            _VERDICTS[key] = cached  # (the UI policies stay referenced: their ids stay theirs)
    return [replace(verdict, pipeline=label) for verdict in cached[0]]


_VERDICTS: dict[tuple[str, str, tuple[int, ...]], tuple[list[WideningVerdict], list[ComparedPolicy]]] = {}
_VERDICTS_LIMIT = 256


def _name(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    return str((metadata.get("name") if isinstance(metadata, Mapping) else None) or "")


def _content_key(
    obj: Mapping[str, Any], namespace: str, uis: Sequence[ComparedPolicy]
) -> tuple[str, str, tuple[int, ...]] | None:
    metadata = obj.get("metadata")
    own_namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    try:
        content = json.dumps({k: v for k, v in obj.items() if k != "metadata"}, sort_keys=True)
    except (TypeError, ValueError):
        return None  # not plain JSON: compare it without remembering
    return content, f"{own_namespace or namespace}", tuple(id(ui) for ui in uis)


def _compare(
    pipeline: ComparedPolicy, uis: Sequence[ComparedPolicy], namespace: str
) -> list[WideningVerdict]:
    if not pipeline.policies:
        note = f"the pipeline's policy could not be read: {pipeline.problem}"
        return [WideningVerdict(pipeline.label, u.label, False, False, notes=(note,)) for u in uis]
    every_policy = [*pipeline.policies, *(p for u in uis for p in u.policies)]
    named_ports = _named_ports(every_policy)
    # the kinds of pods the pipeline's policy applies to, as every subject selector tells them apart
    subjects, complete = _pods(
        [r for r in map(_subject_requirements, pipeline.policies) if r is not None],
        [r for r in map(_subject_requirements, every_policy) if r is not None],
        named_ports,
    )
    peers, done = _peers(pipeline, every_policy, named_ports)
    complete &= done

    overlapping: set[int] = set()  # positions in ``uis``
    widened: dict[int, _Widened] = {}
    for pod in subjects:
        mine = [p for p in pipeline.policies if p.selects(pod.endpoint, pod.view)]
        theirs = {i: [p for p in u.policies if p.selects(pod.endpoint, pod.view)] for i, u in enumerate(uis)}
        theirs = {i: policies for i, policies in theirs.items() if policies}
        if not mine or not theirs:
            continue
        overlapping.update(theirs)
        found = _widened_at(
            pod, mine, [p for policies in theirs.values() for p in policies], peers, namespace
        )
        # the UI policies on this pod are judged together; what they let through is reported for
        # each of them that restricts the direction (one that does not was never narrower)
        for index, policies in theirs.items():
            for direction, what in found.items():
                if any(p.isolates_ingress if direction == INGRESS else p.isolates_egress for p in policies):
                    widened.setdefault(index, _Widened()).merge(what)

    verdicts = []
    for index, ui in enumerate(uis):
        notes = [f"the pipeline's policy: {note}" for note in pipeline.notes]
        notes += [f"{ui.label}: {note}" for note in ui.notes]
        if ui.problem:
            notes.append(f"could not be read: {ui.problem}")
        if ui.disabled:
            notes.append("selects nothing (disabled in the UI)")
        if ui.has_deny:
            notes.append(f"{ui.name} has deny rules, which win over any allow, also the pipeline's")
        if not complete:
            notes.append(f"more than {MAX_WITNESSES} kinds of pods to compare: widening was not ruled out")
        if index not in overlapping:
            verdicts.append(WideningVerdict(pipeline.label, ui.label, False, False, notes=tuple(notes)))
            continue
        for direction in (INGRESS, EGRESS):
            if pipeline.isolates(direction) and not ui.isolates(direction):
                notes.append(f"{ui.name} does not restrict {direction}; the pipeline's policy does")
        texts = widened[index].texts() if index in widened else []
        if not complete and not texts:
            texts = ["not ruled out (too many different selectors to compare exactly)"]
        verdicts.append(
            WideningVerdict(pipeline.label, ui.label, True, bool(texts), tuple(texts), tuple(notes))
        )
    return verdicts
