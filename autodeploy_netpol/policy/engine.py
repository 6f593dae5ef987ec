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

from ..kube.defaults import (
    ACCEPT,
    ADMIN_TIER,
    BASELINE_TIER,
    CILIUM_NAMESPACE_LABELS_PREFIX,
    CILIUM_RESERVED_PREFIX,
    DENY,
    PASS,
)
from .endpoints import ENTITY, POD, Endpoint, NamedPort
from .intervals import ALL_CONNECTIONS, NO_CONNECTIONS, ConnectionSet
from .inventory import Inventory, Workload, build_inventory, namespace_labels
from .networks import NO_NETWORKS, Networks, primary_networks
from .policies import (
    EGRESS,
    INGRESS,
    CiliumEndpointPeer,
    PodPeer,
    Policy,
    PolicyCompiler,
    PolicyError,
    Rule,
    compile_policy,
)
from .selectors import Selector, cilium_labels

#: how many (src, dst) pairs / verdicts to remember before starting afresh (bounds memory)
CACHE_LIMIT = 500_000


#: The layers a connection passes, in order (cluster-scoped tiers around NetworkPolicy).
ADMIN_LAYER, POLICY_LAYER, BASELINE_LAYER, DEFAULT_LAYER = (
    "Admin tier",
    "NetworkPolicy",
    "Baseline tier",
    "default",
)
#: Traffic into a pod from its own node: never blocked ("when a pod is isolated for ingress, the
#: only allowed connections into the pod are those from the pod's node and those allowed by the
#: ingress list" — Kubernetes; Cilium lets the local host in too).
NODE_LAYER = "own node"
OWN_NODE = "host"


@dataclass(frozen=True)
class Decision:
    """Which connections one layer decided for one side, and how: a tier rule (``rule``), the
    NetworkPolicy layer (``policies`` allowed, or isolated without allowing; ``rule`` a Cilium deny
    rule when one removed them), or the default (nothing decided: allowed)."""

    conns: ConnectionSet
    allowed: bool
    layer: str
    rule: Rule | None = None
    policies: tuple[str, ...] = ()

    def describe(self) -> str:
        """``denied by anp:x rule 'deny-all' (ingress[0]), Admin tier priority 10`` and the like."""
        verb = "allowed" if self.allowed else "denied"
        if self.rule is not None and self.rule.action:
            action = "passed on to the next tier by" if self.rule.action == PASS else f"{verb} by"
            return f"{action} {self.rule.describe_origin()}, {self.rule.tier_position()}"
        if self.rule is not None:
            return f"denied by a deny rule of {self.rule.policy}"
        if self.layer == NODE_LAYER:
            return "allowed: traffic from the pod's own node is never blocked by network policies"
        if self.layer == POLICY_LAYER:
            if self.allowed:
                return f"allowed by {', '.join(self.policies)}" if self.policies else "allowed: not isolated"
            return f"isolated by {', '.join(self.policies)} and no rule allows it"
        return "allowed: no policy decides it"


@dataclass(frozen=True)
class SideResult:
    """What one side (egress of the source, ingress of the destination) allows towards one peer."""

    allowed: ConnectionSet
    #: what the NetworkPolicy layer's allow rules grant before Cilium deny rules
    granted: ConnectionSet
    allowing: tuple[str, ...]
    denying: tuple[str, ...]
    decisions: tuple[Decision, ...]

    def decision_for(self, protocol: str, port: int) -> Decision | None:
        """The decision that settled ``protocol``/``port`` (a Pass only hands it over: never this)."""
        for decision in self.decisions:
            if decision.conns.allows(protocol, port) and not (decision.rule and decision.rule.action == PASS):
                return decision
        return None

    def passed_by(self, protocol: str, port: int) -> Decision | None:
        """The Pass rule that handed ``protocol``/``port`` on from the Admin tier, if one did."""
        for decision in self.decisions:
            if decision.conns.allows(protocol, port) and decision.rule and decision.rule.action == PASS:
                return decision
        return None


@dataclass(frozen=True)
class Side:
    """One direction of one endpoint: the rules that apply, and whether it is isolated.

    ``allow``/``deny``/``isolated`` are the NetworkPolicy layer (NetworkPolicy and Cilium);
    ``admin`` and ``baseline`` the cluster-scoped tiers' rules, in evaluation order.
    """

    isolated: bool
    allow: tuple[Rule, ...]
    deny: tuple[Rule, ...]
    policies: tuple[str, ...]  # policies selecting the endpoint for this direction
    admin: tuple[Rule, ...] = ()
    baseline: tuple[Rule, ...] = ()

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
        result = self.decide(peer, peer_ns_labels, peer_view, ports_of)
        return result.granted, result.allowed, result.allowing, result.denying

    def decide(
        self,
        peer: Endpoint,
        peer_ns_labels: Mapping[str, str],
        peer_view: Mapping[str, str],
        ports_of: tuple[NamedPort, ...],
    ) -> SideResult:
        """Every layer in turn: the Admin tier's rules (first match decides; Pass hands over),
        the NetworkPolicy layer (final for an isolated side), the Baseline tier, the default."""
        decisions: list[Decision] = []
        passes: list[Decision] = []
        accepted = NO_CONNECTIONS
        undecided = ALL_CONNECTIONS
        allowing: list[str] = []
        denying: list[str] = []
        for rule in self.admin:
            if not undecided:
                break
            if rule.matches_peer(peer, peer_ns_labels, peer_view):
                conns = rule.ports.resolve(ports_of).intersection(undecided)
                if conns:
                    undecided = undecided.difference(conns)
                    if rule.action == ACCEPT:
                        accepted = accepted.union(conns)
                        allowing.append(str(rule.policy))
                    elif rule.action == DENY:
                        denying.append(str(rule.policy))
                    (passes if rule.action == PASS else decisions).append(
                        Decision(conns, rule.action == ACCEPT, ADMIN_LAYER, rule)
                    )
        # Pass hands its connections to the next layer, as if the Admin tier had not matched them
        remaining = ALL_CONNECTIONS.difference(accepted)
        for decision in decisions:
            if not decision.allowed:
                remaining = remaining.difference(decision.conns)
        granted = ALL_CONNECTIONS
        if remaining and (self.isolated or self.deny):
            if self.isolated:
                granted = NO_CONNECTIONS
                np_allowing: list[str] = []
                for rule in self.allow:
                    if rule.matches_peer(peer, peer_ns_labels, peer_view):
                        ports = rule.ports.resolve(ports_of)
                        if ports:
                            granted = granted.union(ports)
                            np_allowing.append(str(rule.policy))
            np_result = granted
            deny_rules: list[tuple[Rule, ConnectionSet]] = []
            for rule in self.deny:
                if np_result and rule.matches_peer(peer, peer_ns_labels, peer_view):
                    ports = rule.ports.resolve(ports_of)
                    if ports and np_result.intersection(ports):
                        deny_rules.append((rule, np_result.intersection(ports).intersection(remaining)))
                        np_result = np_result.difference(ports)
                        denying.append(str(rule.policy))
            for rule, conns in deny_rules:
                if conns:
                    decisions.append(Decision(conns, False, POLICY_LAYER, rule))
            if self.isolated:
                let_in = np_result.intersection(remaining)
                named = tuple(dict.fromkeys(np_allowing))
                if let_in:
                    decisions.append(Decision(let_in, True, POLICY_LAYER, None, named))
                    allowing.extend(named)
                shut = remaining.difference(granted)
                if shut:
                    decisions.append(Decision(shut, False, POLICY_LAYER, None, self.policies))
                accepted = accepted.union(let_in)
                remaining = NO_CONNECTIONS
            else:
                remaining = remaining.intersection(np_result)
        handed_over = NO_CONNECTIONS  # a Pass in the last tier hands over to the default
        for rule in self.baseline:
            if not remaining:
                break
            if rule.matches_peer(peer, peer_ns_labels, peer_view):
                conns = rule.ports.resolve(ports_of).intersection(remaining)
                if conns:
                    remaining = remaining.difference(conns)
                    decision = Decision(conns, rule.action != DENY, BASELINE_LAYER, rule)
                    if rule.action == DENY:
                        denying.append(str(rule.policy))
                    elif rule.action == ACCEPT:
                        accepted = accepted.union(conns)
                        allowing.append(str(rule.policy))
                    else:
                        handed_over = handed_over.union(conns)
                        passes.append(decision)
                        continue
                    decisions.append(decision)
        remaining = remaining.union(handed_over)
        if remaining:
            accepted = accepted.union(remaining)
            decisions.append(Decision(remaining, True, DEFAULT_LAYER))
        return SideResult(
            accepted,
            granted,
            tuple(dict.fromkeys(allowing)),
            tuple(dict.fromkeys(denying)),
            (*decisions, *passes),
        )

    @property
    def restricted(self) -> bool:
        """Whether anything on this side can refuse a connection."""
        return self.isolated or bool(self.deny) or bool(self.admin) or bool(self.baseline)


OPEN_SIDE = Side(False, (), (), ())
FROM_OWN_NODE = SideResult(
    ALL_CONNECTIONS, ALL_CONNECTIONS, (), (), (Decision(ALL_CONNECTIONS, True, NODE_LAYER),)
)


def tier_rules(selecting: Sequence[Policy], tier: str, direction: str) -> tuple[Rule, ...]:
    """The ``tier``'s rules of ``direction`` among ``selecting``, in evaluation order."""
    ordered = sorted((p for p in selecting if p.tier == tier), key=lambda p: p.order)
    return tuple(rule for policy in ordered for rule in policy.tier_rules if rule.direction == direction)


def side_of(selecting: Sequence[Policy], direction: str) -> Side:
    """The ``direction`` side of a pod that exactly the policies ``selecting`` select."""
    layer = [policy for policy in selecting if not policy.tier]
    isolated = any(
        (policy.isolates_ingress if direction == INGRESS else policy.isolates_egress) for policy in layer
    )
    rules = [rule for policy in layer for rule in policy.rules if rule.direction == direction]
    names = tuple(
        dict.fromkeys(
            str(p.ref)
            for p in layer
            if (p.isolates_ingress if direction == INGRESS else p.isolates_egress)
            or any(r.direction == direction for r in p.rules)
        )
    )
    return Side(
        isolated,
        tuple(r for r in rules if not r.deny),
        tuple(r for r in rules if r.deny),
        names,
        tier_rules(selecting, ADMIN_TIER, direction),
        tier_rules(selecting, BASELINE_TIER, direction),
    )


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
    #: each side layer by layer: which rule of which tier decided what
    egress_result: SideResult | None = None
    ingress_result: SideResult | None = None
    #: why nothing can flow whatever the policies say (pods on different primary networks)
    separated: str = ""

    @property
    def tiered(self) -> bool:
        """Whether a cluster-scoped tier's rule decided (or passed on) some of this traffic."""
        return any(
            decision.rule is not None and decision.rule.action
            for result in (self.egress_result, self.ingress_result)
            if result is not None
            for decision in result.decisions
        )


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
        networks: Networks = NO_NETWORKS,
        unmodelled: Sequence[str] = (),
        described: Iterable[str] | None = None,
    ) -> None:
        self.policies: tuple[Policy, ...] = tuple(policies)
        #: notes on the kinds of object read and not modelled
        self.unmodelled: tuple[str, ...] = tuple(unmodelled)
        #: which network each namespace's pods are on (primary user-defined networks)
        self.networks = networks
        self.namespaces: dict[str, dict[str, str]] = {
            name: namespace_labels(name, labels) for name, labels in (namespaces or {}).items()
        }
        self.workloads: tuple[Workload, ...] = tuple(workloads)
        #: namespaces whose labels are known (a Namespace object, or ``namespaces`` given as labels)
        self.described: set[str] = set(self.namespaces) if described is None else set(described)
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
    def from_inventory(
        cls,
        inventory: Inventory,
        compiler: PolicyCompiler | None = None,
        *,
        default_namespace: str = "default",
    ) -> Model:
        compile_one = compiler or compile_policy
        compiled: list[Policy] = []
        for manifest in inventory.policies:
            compiled.extend(compile_one(manifest, default_namespace))
        networks = (
            primary_networks(inventory.networks, inventory.namespaces) if inventory.networks else NO_NETWORKS
        )
        return cls(
            compiled,
            inventory.namespaces,
            inventory.workloads,
            networks,
            inventory.unmodelled_notes(),
            inventory.described,
        )

    # ------------------------------------------------------------------------------ queries

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        labels = self.namespaces.get(namespace)
        if labels is None:
            labels = namespace_labels(namespace, None)
            self.namespaces[namespace] = labels
        return labels

    def learn_namespace_labels(self, namespace: str, labels: Mapping[str, str]) -> bool:
        """Take ``labels`` for a namespace no Namespace object describes (e.g. as a flow recorded
        them), so that namespaceSelectors match it as they did when the flow was seen; a described
        namespace keeps its own labels. True when something changed (cached answers are dropped)."""
        if namespace in self.described or not labels:
            return False
        current = self.namespaces.get(namespace)
        merged = namespace_labels(namespace, {**(current or {}), **labels})
        if merged == current:
            return False
        self.namespaces[namespace] = merged
        self._views.clear()
        self._sides.clear()
        self._pairs.clear()
        self._verdicts.clear()
        return True

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
        ns_labels, cilium, _ = self._view(endpoint)
        candidates = [*self._by_namespace.get(endpoint.namespace, ()), *self._clusterwide]
        return [policy for policy in candidates if policy.selects(endpoint, cilium, ns_labels)]

    def selector_keys(self) -> set[str]:
        """Every label key some selector of the policies reads (pod or namespace labels; Cilium's
        namespace pseudo-labels as the namespace label they stand for)."""
        keys: set[str] = set()
        selectors: list[Selector] = []
        for policy in self.policies:
            selectors.append(policy.subject)
            if policy.subject_namespaces is not None:
                selectors.append(policy.subject_namespaces)
            for rule in policy.all_rules:
                for peer in rule.peers or ():
                    if isinstance(peer, PodPeer):
                        selectors.append(peer.pod_selector)
                        if peer.namespace_selector is not None:
                            selectors.append(peer.namespace_selector)
                    elif isinstance(peer, CiliumEndpointPeer):
                        selectors.append(peer.selector)
        for selector in selectors:
            for key in selector.label_keys():
                keys.add(key.removeprefix(CILIUM_NAMESPACE_LABELS_PREFIX))
        return keys

    def separated(self, src: Endpoint, dst: Endpoint) -> str:
        """Why ``src`` and ``dst`` cannot reach each other whatever the policies say ('' when they can):
        pods on different primary networks."""
        if not self.networks.any or src.kind != POD or dst.kind != POD:
            return ""
        left, right = self.networks.network(src.namespace), self.networks.network(dst.namespace)
        if left == right:
            return ""
        return (
            f"dropped — {src} and {dst} are on different networks "
            f"({left or 'the pod network'}, {right or 'the pod network'}): no policy connects them"
        )

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
        egress_result = egress_side.decide(dst, dst_ns, dst_view, dst_ports)
        ingress_result = ingress_side.decide(src, src_ns, src_view, dst_ports)
        if src.kind == ENTITY and src.entity == OWN_NODE and dst.kind == POD:
            ingress_result = FROM_OWN_NODE
        separated = self.separated(src, dst)
        caveats = tuple(
            dict.fromkeys(
                f"{rule.policy}: {note}"
                for side in (egress_side, ingress_side)
                for rule in (*side.admin, *side.allow, *side.deny, *side.baseline)
                for note in rule.unmodelled
            )
        )
        pair = PairConnectivity(
            NO_CONNECTIONS if separated else egress_result.allowed.intersection(ingress_result.allowed),
            egress_result.allowed,
            ingress_result.allowed,
            egress_result.granted,
            ingress_result.granted,
            egress_side.isolated,
            ingress_side.isolated,
            tuple(dict.fromkeys((*egress_result.allowing, *ingress_result.allowing))),
            tuple(dict.fromkeys((*egress_result.denying, *ingress_result.denying))),
            caveats,
            egress_result,
            ingress_result,
            separated,
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
        allowed = egress_ok and ingress_ok and not pair.separated
        policies: tuple[str, ...]
        if pair.separated:
            reason, policies = pair.separated, ()
        elif protocol_name in ("TCP", "UDP", "SCTP") and pair.tiered:
            reason, policies = _tiered_reason(pair, src, dst, protocol_name, port, egress_ok)
        elif allowed:
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
            *(f"{policy.ref}: {note}" for policy in self.policies for note in policy.notes),
            *self.networks.notes,
            *self.unmodelled,
        ]

    def warnings(self) -> list[str]:
        """What the API server would reject in the policies, read anyway (for reports)."""
        return [f"{policy.ref}: {warning}" for policy in self.policies for warning in policy.warnings]


def _tiered_reason(
    pair: PairConnectivity, src: Endpoint, dst: Endpoint, protocol: str, port: int, egress_ok: bool
) -> tuple[str, tuple[str, ...]]:
    """The reason for a verdict some cluster-scoped tier took part in: which rule of which tier (or
    which layer) decided each side, and the Pass that handed it on."""
    parts: list[str] = []
    policies: list[str] = []
    sides = (("egress of", src, pair.egress_result), ("ingress of", dst, pair.ingress_result))
    allowed = egress_ok and pair.ingress.allows(protocol, port)
    for label, endpoint, result in sides:
        if result is None:
            continue
        decision = result.decision_for(protocol, port)
        if decision is None or (not allowed and decision.allowed):
            continue  # an allowed side says nothing about why the flow is dropped
        if decision.layer == DEFAULT_LAYER and not any(d.rule for d in result.decisions):
            continue
        text = decision.describe()
        handed = result.passed_by(protocol, port)
        if handed is not None and handed.rule is not None:
            text += f" (after {handed.rule.describe_origin()} passed it on)"
        parts.append(f"{label} {endpoint}: {text}")
        if decision.rule is not None:
            policies.append(str(decision.rule.policy))
        else:
            policies.extend(decision.policies)
        if not allowed:
            break
    verb = "allowed" if allowed else "dropped"
    return f"{verb} — " + "; ".join(parts) if parts else verb, tuple(dict.fromkeys(policies))


__all__ = [
    "ADMIN_LAYER",
    "BASELINE_LAYER",
    "DEFAULT_LAYER",
    "POLICY_LAYER",
    "Decision",
    "Model",
    "PairConnectivity",
    "PolicyError",
    "Side",
    "SideResult",
    "Verdict",
    "side_of",
    "tier_rules",
]
