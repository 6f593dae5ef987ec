"""The per-flow engine: what the policies allow between two endpoints.

A connection from ``src`` to ``dst`` is allowed when the egress side of ``src`` allows it and
the ingress side of ``dst`` allows it. A side that no policy isolates allows everything; an
isolated side allows the union of its rules whose peer matches the other end; Cilium deny
rules are then subtracted (deny wins). Only pods have sides: external addresses and Cilium's
reserved entities are not subject to these policies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..kube.defaults import CILIUM_RESERVED_PREFIX
from .endpoints import POD, Endpoint, NamedPort
from .intervals import ALL_CONNECTIONS, NO_CONNECTIONS, ConnectionSet
from .inventory import Inventory, Workload, build_inventory, namespace_labels
from .policies import EGRESS, INGRESS, Policy, PolicyCompiler, PolicyError, Rule, compile_policy
from .selectors import cilium_labels

#: how many (src, dst) pairs / verdicts to remember before starting afresh (bounds memory)
CACHE_LIMIT = 500_000


@dataclass(frozen=True)
class Side:
    """One direction of one endpoint: the rules that apply, and whether it is isolated."""

    isolated: bool
    allow: tuple[Rule, ...]
    deny: tuple[Rule, ...]
    policies: tuple[str, ...]  # policies selecting the endpoint for this direction

    def allowed(
        self,
        peer: Endpoint,
        peer_ns_labels: Mapping[str, str],
        peer_view: Mapping[str, str],
        ports_of: tuple[NamedPort, ...],
    ) -> tuple[ConnectionSet, ConnectionSet, tuple[str, ...], tuple[str, ...]]:
        """(allowed before deny rules, allowed, allowing policies, denying policies) for ``peer``.

        ``ports_of`` are the named ports of the connection's destination.
        """
        allowing: list[str] = []
        denying: list[str] = []
        if self.isolated:
            granted = NO_CONNECTIONS
            for rule in self.allow:
                if rule.matches_peer(peer, peer_ns_labels, peer_view):
                    ports = rule.ports.resolve(ports_of)
                    if ports:
                        granted = granted.union(ports)
                        allowing.append(str(rule.policy))
        else:
            granted = ALL_CONNECTIONS
        result = granted
        for rule in self.deny:
            if result and rule.matches_peer(peer, peer_ns_labels, peer_view):
                ports = rule.ports.resolve(ports_of)
                if ports and result.intersection(ports):
                    result = result.difference(ports)
                    denying.append(str(rule.policy))
        return granted, result, tuple(dict.fromkeys(allowing)), tuple(dict.fromkeys(denying))


OPEN_SIDE = Side(False, (), (), ())


def side_of(selecting: Sequence[Policy], direction: str) -> Side:
    """The ``direction`` side of a pod that exactly the policies ``selecting`` select."""
    isolated = any(
        (policy.isolates_ingress if direction == INGRESS else policy.isolates_egress) for policy in selecting
    )
    rules = [rule for policy in selecting for rule in policy.rules if rule.direction == direction]
    names = tuple(
        dict.fromkeys(
            str(p.ref)
            for p in selecting
            if (p.isolates_ingress if direction == INGRESS else p.isolates_egress)
            or any(r.direction == direction for r in p.rules)
        )
    )
    return Side(isolated, tuple(r for r in rules if not r.deny), tuple(r for r in rules if r.deny), names)


@dataclass(frozen=True)
class PairConnectivity:
    """Everything the policies say about traffic from one endpoint to another."""

    allowed: ConnectionSet
    egress: ConnectionSet
    ingress: ConnectionSet
    #: what the rules allow before Cilium deny rules are applied (to tell "denied" from "not allowed")
    egress_granted: ConnectionSet
    ingress_granted: ConnectionSet
    egress_isolated: bool
    ingress_isolated: bool
    allowed_by: tuple[str, ...]  # policies whose rules allowed (egress of src, ingress of dst)
    denied_by: tuple[str, ...]  # policies whose deny rules removed something
    caveats: tuple[str, ...]  # unmodelled parts of the policies involved


@dataclass(frozen=True)
class Verdict:
    """The answer for one flow."""

    allowed: bool
    reason: str
    policies: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()


class Model:
    """Compiled policies plus namespaces and known workloads; answers per-flow questions.

    Build with :meth:`build` (separate lists) or :meth:`from_objects` (any mix of manifests).
    """

    def __init__(
        self,
        policies: Sequence[Policy],
        namespaces: Mapping[str, Mapping[str, str]] | None = None,
        workloads: Sequence[Workload] = (),
        unmodelled: Sequence[str] = (),
    ) -> None:
        self.policies: tuple[Policy, ...] = tuple(policies)
        #: policies read but not modelled (ClusterNetworkPolicy), one sentence each
        self.unmodelled: tuple[str, ...] = tuple(unmodelled)
        self.namespaces: dict[str, dict[str, str]] = {
            name: namespace_labels(name, labels) for name, labels in (namespaces or {}).items()
        }
        self.workloads: tuple[Workload, ...] = tuple(workloads)
        self._by_namespace: dict[str, list[Policy]] = {}
        self._clusterwide: list[Policy] = []
        for policy in self.policies:
            if policy.namespace:
                self._by_namespace.setdefault(policy.namespace, []).append(policy)
            else:
                self._clusterwide.append(policy)
        self._ports_by_identity: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[NamedPort, ...]] = {}
        for workload in self.workloads:
            key = (workload.namespace, workload.labels)
            if workload.named_ports:
                self._ports_by_identity[key] = tuple(
                    sorted({*self._ports_by_identity.get(key, ()), *workload.named_ports})
                )
        self._views: dict[Endpoint, tuple[Mapping[str, str], Mapping[str, str], tuple[NamedPort, ...]]] = {}
        self._sides: dict[tuple[Endpoint, str], Side] = {}
        self._pairs: dict[tuple[Endpoint, Endpoint], PairConnectivity] = {}
        self._verdicts: dict[tuple[Endpoint, Endpoint, str, int], Verdict] = {}

    # ------------------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        policies: Iterable[Mapping[str, Any]],
        namespaces: Mapping[str, Mapping[str, str]] | Iterable[Mapping[str, Any]] | None = None,
        workloads: Iterable[Mapping[str, Any]] = (),
    ) -> Model:
        """Compile policy manifests; ``namespaces`` is ``{name: labels}`` or Namespace manifests.

        Raises :class:`~.policies.PolicyError` (an ``InputError``) for a policy that makes no sense.
        """
        objects: list[Mapping[str, Any]] = list(policies)
        if isinstance(namespaces, Mapping):
            extra = dict(namespaces)
        else:
            extra = {}
            objects.extend(namespaces or ())
        objects.extend(workloads)
        inventory = build_inventory(objects)
        for name, labels in extra.items():
            inventory.add_namespace(name, labels)
        return cls.from_inventory(inventory)

    @classmethod
    def from_objects(
        cls, objects: Iterable[Mapping[str, Any]], compiler: PolicyCompiler | None = None
    ) -> Model:
        """A model from any mix of manifests (policies, Namespaces, Pods, Deployments …).

        ``compiler`` remembers compiled manifests across models built from the same objects.
        """
        return cls.from_inventory(build_inventory(objects), compiler)

    @classmethod
    def from_inventory(cls, inventory: Inventory, compiler: PolicyCompiler | None = None) -> Model:
        compile_one = compiler or compile_policy
        compiled: list[Policy] = []
        for manifest in inventory.policies:
            compiled.extend(compile_one(manifest))
        return cls(compiled, inventory.namespaces, inventory.workloads, inventory.unmodelled)

    # ------------------------------------------------------------------------------ queries

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        labels = self.namespaces.get(namespace)
        if labels is None:
            labels = namespace_labels(namespace, None)
            self.namespaces[namespace] = labels
        return labels

    def _view(self, endpoint: Endpoint) -> tuple[Mapping[str, str], Mapping[str, str], tuple[NamedPort, ...]]:
        """(namespace labels, Cilium label view, named ports) of an endpoint, cached."""
        view = self._views.get(endpoint)
        if view is None:
            if endpoint.kind == POD:
                ns_labels = self.namespace_labels(endpoint.namespace)
                cilium = cilium_labels(endpoint.namespace, endpoint.label_map, ns_labels)
                ports = endpoint.named_ports or self._ports_by_identity.get(
                    (endpoint.namespace, endpoint.labels), ()
                )
                view = (ns_labels, cilium, ports)
            else:
                view = ({}, {f"{CILIUM_RESERVED_PREFIX}{endpoint.entity}": ""} if endpoint.entity else {}, ())
            if len(self._views) > CACHE_LIMIT:
                self._views.clear()
            self._views[endpoint] = view
        return view

    def policies_for(self, endpoint: Endpoint) -> list[Policy]:
        """Policies whose subject selector selects ``endpoint`` (a pod)."""
        if endpoint.kind != POD:
            return []
        _, cilium, _ = self._view(endpoint)
        candidates = [*self._by_namespace.get(endpoint.namespace, ()), *self._clusterwide]
        return [policy for policy in candidates if policy.selects(endpoint, cilium)]

    def rule_matches(self, rule: Rule, peer: Endpoint) -> bool:
        """Whether ``rule``'s peers include ``peer`` (ports aside)."""
        ns_labels, cilium, _ = self._view(peer)
        return rule.matches_peer(peer, ns_labels, cilium)

    def side(self, endpoint: Endpoint, direction: str) -> Side:
        """The ingress or egress side of an endpoint (open for anything that is not a pod)."""
        key = (endpoint, direction)
        side = self._sides.get(key)
        if side is None:
            side = side_of(self.policies_for(endpoint), direction) if endpoint.kind == POD else OPEN_SIDE
            if len(self._sides) > CACHE_LIMIT:
                self._sides.clear()
            self._sides[key] = side
        return side

    def connectivity(self, src: Endpoint, dst: Endpoint) -> PairConnectivity:
        """What may flow from ``src`` to ``dst`` (cached per identity pair)."""
        key = (src, dst)
        pair = self._pairs.get(key)
        if pair is not None:
            return pair
        src_ns, src_view, _ = self._view(src)
        dst_ns, dst_view, dst_ports = self._view(dst)
        egress_side = self.side(src, EGRESS)
        ingress_side = self.side(dst, INGRESS)
        egress_granted, egress, egress_allow, egress_deny = egress_side.allowed(
            dst, dst_ns, dst_view, dst_ports
        )
        ingress_granted, ingress, ingress_allow, ingress_deny = ingress_side.allowed(
            src, src_ns, src_view, dst_ports
        )
        caveats = tuple(
            dict.fromkeys(
                f"{rule.policy}: {note}"
                for rule in (*egress_side.allow, *egress_side.deny, *ingress_side.allow, *ingress_side.deny)
                for note in rule.unmodelled
            )
        )
        pair = PairConnectivity(
            egress.intersection(ingress),
            egress,
            ingress,
            egress_granted,
            ingress_granted,
            egress_side.isolated,
            ingress_side.isolated,
            tuple(dict.fromkeys((*egress_allow, *ingress_allow))),
            tuple(dict.fromkeys((*egress_deny, *ingress_deny))),
            caveats,
        )
        if len(self._pairs) > CACHE_LIMIT:
            self._pairs.clear()
        self._pairs[key] = pair
        return pair

    def verdict(self, src: Endpoint, dst: Endpoint, protocol: str, port: int) -> Verdict:
        """Would a new ``protocol``/``port`` connection from ``src`` to ``dst`` be allowed?

        ``protocol`` is TCP, UDP or SCTP (other protocols are not modelled: the verdict says so
        and follows isolation alone). Cached per (src, dst, protocol, port).
        """
        key = (src, dst, protocol, port)
        verdict = self._verdicts.get(key)
        if verdict is not None:
            return verdict
        pair = self.connectivity(src, dst)
        protocol_name = protocol.upper()
        if protocol_name in ("TCP", "UDP", "SCTP"):
            egress_ok = pair.egress.allows(protocol_name, port)
            ingress_ok = pair.ingress.allows(protocol_name, port)
            caveats = pair.caveats
        else:
            egress_ok = not pair.egress_isolated
            ingress_ok = not pair.ingress_isolated
            caveats = (*pair.caveats, f"protocol {protocol} not modelled; verdict follows isolation only")
        allowed = egress_ok and ingress_ok
        policies: tuple[str, ...]
        if allowed:
            reason = (
                "allowed by " + ", ".join(pair.allowed_by)
                if pair.allowed_by
                else "allowed: no policy isolates either side"
            )
            policies = pair.allowed_by
        elif protocol_name in ("TCP", "UDP", "SCTP") and (
            (not egress_ok and pair.egress_granted.allows(protocol_name, port))
            or (egress_ok and pair.ingress_granted.allows(protocol_name, port))
        ):
            reason = "denied by a deny rule of " + ", ".join(pair.denied_by)
            policies = pair.denied_by
        elif not egress_ok:
            policies = self.side(src, EGRESS).policies
            reason = f"egress of {src} is isolated by {', '.join(policies)} and no rule allows it"
        else:
            policies = self.side(dst, INGRESS).policies
            reason = f"ingress of {dst} is isolated by {', '.join(policies)} and no rule allows it"
        verdict = Verdict(allowed, reason, policies, caveats)
        if len(self._verdicts) > CACHE_LIMIT:
            self._verdicts.clear()
        self._verdicts[key] = verdict
        return verdict

    def notes(self) -> list[str]:
        """What the model does not cover, per policy (for reports)."""
        return [
            *self.unmodelled,
            *(f"{policy.ref}: {note}" for policy in self.policies for note in policy.notes),
        ]


__all__ = ["Model", "PairConnectivity", "PolicyError", "Side", "Verdict", "side_of"]
