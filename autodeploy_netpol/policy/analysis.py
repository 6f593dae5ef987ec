"""All-pairs connectivity: every allowed (source, destination, protocol, ports), computed compactly.

Pods are grouped into equivalence classes (namespace, labels, named ports): policies cannot
tell two pods of one class apart. External addresses are split into ranges at every CIDR
boundary any policy uses, and Cilium's reserved entities named by a policy are classes of
their own. Every selector becomes a bitset over the classes (Python ints, built from an
inverted label index), every rule a (peer bitset, ports) pair, and for each class the rules
that apply collapse by partition refinement into a few "atoms" (a bitset of peers sharing one
allowed connection set). Cost grows with distinct label sets and rules, not with pods².

Results are keyed by workload (``ns/name``; several workloads may share a class) and by
address range; the same workload to itself is left out (as NCA does; a pod may always talk to
itself, and replicas of one workload are one node in the graph).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ..kube.defaults import ACCEPT, ADMIN_TIER, BASELINE_TIER, CILIUM_RESERVED_PREFIX, PASS
from .endpoints import ENTITY, EXTERNAL, POD, RESERVED_ENTITIES, Endpoint, NamedPort
from .engine import OWN_NODE, Model, tier_rules
from .intervals import (
    ALL_CONNECTIONS,
    ALL_IPV4,
    ALL_IPV6,
    IPV4_MAX,
    NO_CONNECTIONS,
    ConnectionSet,
    format_ip_range,
)
from .inventory import display_names
from .policies import (
    EGRESS,
    INGRESS,
    AddressPeer,
    CiliumEndpointPeer,
    EntityPeer,
    Peer,
    PodPeer,
    Policy,
    Rule,
)
from .selectors import DOES_NOT_EXIST, EXISTS, IN, Selector, cilium_labels

ExternalKey = tuple[int, int]
NodeKey = str | ExternalKey  # workload "ns/name", entity "entity:host", or an address range


@dataclass(frozen=True, order=True)
class Connection:
    """One line of the report: ``src => dst : protocol ports`` (the JSON record)."""

    src: str
    dst: str
    protocol: str
    ports: str

    def as_dict(self) -> dict[str, str]:
        return {"src": self.src, "dst": self.dst, "protocol": self.protocol, "ports": self.ports}


def node_name(key: NodeKey) -> str:
    if isinstance(key, tuple):
        return format_ip_range(*key)
    return key


def _node_sort_key(key: NodeKey) -> tuple[int, str, int]:
    if isinstance(key, tuple):
        return (1, "", key[0])
    return (2 if key.startswith("entity:") else 0, key, 0)


@dataclass
class ConnectivityMap:
    """Allowed connections between nodes; ``edges[(src, dst)]`` is never empty."""

    edges: dict[tuple[NodeKey, NodeKey], ConnectionSet] = field(default_factory=dict)
    workloads: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: input the API server would reject, read anyway (reports say so)
    warnings: list[str] = field(default_factory=list)
    #: what reading the input noticed (files read, objects replaced, namespaces assumed)
    reading: list[str] = field(default_factory=list)

    def merged(self) -> ConnectivityMap:
        """Adjacent address ranges with the same connections towards the same node, joined."""
        grouped: dict[tuple[str, NodeKey, ConnectionSet], list[ExternalKey]] = {}
        plain: dict[tuple[NodeKey, NodeKey], ConnectionSet] = {}
        for (src, dst), conns in self.edges.items():
            if isinstance(src, tuple):
                grouped.setdefault(("src", dst, conns), []).append(src)
            elif isinstance(dst, tuple):
                grouped.setdefault(("dst", src, conns), []).append(dst)
            else:
                plain[(src, dst)] = conns
        for (side, other, conns), ranges in grouped.items():
            for lo, hi in _join(ranges):
                key = ((lo, hi), other) if side == "src" else (other, (lo, hi))
                plain[key] = conns
        return ConnectivityMap(plain, self.workloads, self.notes, self.warnings, self.reading)

    def connections(self) -> list[Connection]:
        """Report records, sorted: workloads first, then address ranges, then entities."""
        records: list[Connection] = []
        for src, dst in sorted(self.edges, key=lambda k: (_node_sort_key(k[0]), _node_sort_key(k[1]))):
            for protocol, ports in self.edges[(src, dst)].items():
                records.append(Connection(node_name(src), node_name(dst), protocol, ports))
        return records

    def lines(self) -> list[tuple[str, str, str]]:
        """``(src, dst, "TCP 8080, UDP 53")`` per pair, sorted like :meth:`connections`."""
        keys = sorted(self.edges, key=lambda k: (_node_sort_key(k[0]), _node_sort_key(k[1])))
        return [(node_name(src), node_name(dst), self.edges[(src, dst)].describe()) for src, dst in keys]


def _join(ranges: list[ExternalKey]) -> list[ExternalKey]:
    out: list[ExternalKey] = []
    for lo, hi in sorted(ranges):
        if out and lo == out[-1][1] + 1 and (lo <= IPV4_MAX) == (out[-1][1] <= IPV4_MAX):
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


# ------------------------------------------------------------------------------- the classes


_BYTE_BITS = [tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256)]


def _indices(bits: int) -> list[int]:
    """Positions of the set bits, ascending (byte by byte: fast for dense and sparse sets alike)."""
    out: list[int] = []
    if bits <= 0:
        return out
    table = _BYTE_BITS
    for offset, byte in enumerate(bits.to_bytes((bits.bit_length() + 7) // 8, "little")):
        if byte:
            base = offset * 8
            for bit in table[byte]:
                out.append(base + bit)
    return out


def _iter_bits(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


class ClassIndex:
    """The equivalence classes and the indexes that turn selectors into bitsets.

    Class ``i`` is ``endpoints[i]``: pod classes first (``workload_names[i]`` are their
    workloads), then external address ranges, then named reserved entities.
    """

    def __init__(
        self,
        model: Model,
        boundaries: Iterable[int],
        with_ipv6: bool,
        *,
        entity_policies: Iterable[Policy] | None = None,
    ) -> None:
        """``entity_policies``: the policies whose named entities get classes (default the model's)."""
        self.model = model
        self.endpoints: list[Endpoint] = []
        self.workload_names: list[list[str]] = []
        by_identity: dict[tuple[str, tuple[tuple[str, str], ...], tuple[NamedPort, ...]], int] = {}
        display = display_names(model.workloads)
        #: workloads whose pods differ: ``ns/name`` → the names of its variants
        self.variants: dict[str, list[str]] = {}
        for workload in model.workloads:
            shown = display[workload]
            if shown != workload.qualified_name:
                group = self.variants.setdefault(workload.qualified_name, [])
                if shown not in group:
                    group.append(shown)
            key = (workload.namespace, workload.labels, workload.named_ports)
            index = by_identity.get(key)
            if index is None:
                index = len(self.endpoints)
                by_identity[key] = index
                self.endpoints.append(
                    Endpoint.pod(workload.namespace, workload.label_map, workload.named_ports)
                )
                self.workload_names.append([])
            if shown not in self.workload_names[index]:
                self.workload_names[index].append(shown)
        #: a variant's name → its workload's (connections between variants are not listed)
        self.base_of: dict[str, str] = {name: base for base, names in self.variants.items() for name in names}
        self.pod_count = len(self.endpoints)
        self.pods = (1 << self.pod_count) - 1
        #: pod classes per network, when some namespace is on a primary user-defined network
        self.network_bits: dict[str, int] = {}
        if model.networks.any:
            for index, endpoint in enumerate(self.endpoints):
                network = model.networks.network(endpoint.namespace)
                self.network_bits[network] = self.network_bits.get(network, 0) | (1 << index)
        # external address ranges, cut at every boundary
        cuts = sorted({ALL_IPV4[0], ALL_IPV4[1] + 1, *(b for b in boundaries if 0 <= b <= ALL_IPV4[1] + 1)})
        spans = [(cuts[i], cuts[i + 1] - 1) for i in range(len(cuts) - 1)]
        if with_ipv6:
            cuts6 = sorted(
                {
                    ALL_IPV6[0],
                    ALL_IPV6[1] + 1,
                    *(b for b in boundaries if ALL_IPV6[0] <= b <= ALL_IPV6[1] + 1),
                }
            )
            spans += [(cuts6[i], cuts6[i + 1] - 1) for i in range(len(cuts6) - 1)]
        first_external = len(self.endpoints)
        for lo, hi in spans:
            self.endpoints.append(Endpoint.address_range(lo, hi))
        self.externals = ((1 << len(self.endpoints)) - 1) & ~self.pods
        self.first_external = first_external
        for name in sorted(_named_entities(model.policies if entity_policies is None else entity_policies)):
            self.endpoints.append(Endpoint.entity_named(name))
        self.size = len(self.endpoints)
        self.everything = (1 << self.size) - 1
        self.entities = self.everything & ~self.pods & ~self.externals
        # indexes
        self.namespace_bits: dict[str, int] = {}
        self.k8s_index: dict[tuple[str, str], int] = {}
        self.k8s_keys: dict[str, int] = {}
        self.cilium_index: dict[tuple[str, str], int] = {}
        self.cilium_keys: dict[str, int] = {}
        for index, endpoint in enumerate(self.endpoints):
            bit = 1 << index
            if endpoint.kind == POD:
                self.namespace_bits[endpoint.namespace] = self.namespace_bits.get(endpoint.namespace, 0) | bit
                for label, value in endpoint.labels:
                    self.k8s_index[(label, value)] = self.k8s_index.get((label, value), 0) | bit
                    self.k8s_keys[label] = self.k8s_keys.get(label, 0) | bit
                view = cilium_labels(
                    endpoint.namespace, endpoint.label_map, model.namespace_labels(endpoint.namespace)
                )
            elif endpoint.kind == ENTITY:
                view = {f"{CILIUM_RESERVED_PREFIX}{endpoint.entity}": ""}
            else:
                continue
            for label, value in view.items():
                self.cilium_index[(label, value)] = self.cilium_index.get((label, value), 0) | bit
                self.cilium_keys[label] = self.cilium_keys.get(label, 0) | bit
        self._selector_cache: dict[tuple[Selector, bool], int] = {}
        self._namespace_cache: dict[Selector, int] = {}
        self._peer_cache: dict[Peer, int] = {}
        self._rule_cache: dict[int, tuple[Rule, int]] = {}
        self._subject_cache: dict[int, tuple[Policy, int]] = {}
        self.port_groups: dict[tuple[NamedPort, ...], int] = {}
        for index, endpoint in enumerate(self.endpoints):
            self.port_groups[endpoint.named_ports] = self.port_groups.get(endpoint.named_ports, 0) | (
                1 << index
            )

    def select(self, selector: Selector, cilium: bool) -> int:
        key = (selector, cilium)
        cached = self._selector_cache.get(key)
        if cached is not None:
            return cached
        index, keys = (self.cilium_index, self.cilium_keys) if cilium else (self.k8s_index, self.k8s_keys)
        universe = (self.pods | self.entities) if cilium else self.pods
        bits = universe
        for requirement in selector.requirements:
            if requirement.operator in (EXISTS, DOES_NOT_EXIST):
                matched = keys.get(requirement.key, 0)
            else:
                matched = 0
                for value in requirement.values:
                    matched |= index.get((requirement.key, value), 0)
            bits &= matched if requirement.operator in (IN, EXISTS) else ~matched
            if not bits:
                break
        self._selector_cache[key] = bits
        return bits

    def namespaces_matching(self, selector: Selector) -> int:
        cached = self._namespace_cache.get(selector)
        if cached is None:
            cached = 0
            for name, bits in self.namespace_bits.items():
                if selector.matches(self.model.namespace_labels(name)):
                    cached |= bits
            self._namespace_cache[selector] = cached
        return cached

    def peer_bits(self, peer: Peer) -> int:
        cached = self._peer_cache.get(peer)
        if cached is not None:
            return cached
        if isinstance(peer, PodPeer):
            if peer.namespace is not None:
                scope = self.namespace_bits.get(peer.namespace, 0)
            elif peer.namespace_selector is not None:
                scope = self.namespaces_matching(peer.namespace_selector)
            else:
                scope = self.pods
            bits = scope & self.select(peer.pod_selector, cilium=False) if scope else 0
        elif isinstance(peer, CiliumEndpointPeer):
            bits = self.select(peer.selector, cilium=True)
        elif isinstance(peer, AddressPeer):
            bits = 0
            for index in _iter_bits(self.externals):
                endpoint = self.endpoints[index]
                if peer.addresses.contains_range(endpoint.ip_lo, endpoint.ip_hi):
                    bits |= 1 << index
        else:
            bits = 0
            for index in range(self.size):
                if peer.matches(self.endpoints[index]):
                    bits |= 1 << index
        self._peer_cache[peer] = bits
        return bits

    def rule_bits(self, rule: Rule) -> int:
        # by identity: a rule object is asked for once per class it applies to, per comparison
        cached = self._rule_cache.get(id(rule))
        if cached is not None and cached[0] is rule:
            return cached[1]
        if rule.peers is None:
            bits = self.everything
        else:
            bits = 0
            for peer in rule.peers:
                bits |= self.peer_bits(peer)
        self._rule_cache[id(rule)] = (rule, bits)
        return bits

    def subject_bits(self, policy: Policy) -> int:
        cached = self._subject_cache.get(id(policy))
        if cached is not None and cached[0] is policy:
            return cached[1]
        if policy.namespace:
            scope = self.namespace_bits.get(policy.namespace, 0)
        elif policy.subject_namespaces is not None:
            scope = self.namespaces_matching(policy.subject_namespaces)
        else:
            scope = self.pods
        bits = scope & self.select(policy.subject, cilium=policy.cilium) if scope else 0
        self._subject_cache[id(policy)] = (policy, bits)
        return bits


def _named_entities(policies: Iterable[Policy]) -> set[str]:
    names: set[str] = set()
    for policy in policies:
        for rule in policy.all_rules:
            for peer in rule.peers or ():
                if isinstance(peer, EntityPeer):
                    names.update(name for name in peer.entities if name in RESERVED_ENTITIES)
                elif isinstance(peer, CiliumEndpointPeer):
                    names.update(
                        key.removeprefix(CILIUM_RESERVED_PREFIX)
                        for key in peer.selector.label_keys()
                        if key.startswith(CILIUM_RESERVED_PREFIX)
                        and key.removeprefix(CILIUM_RESERVED_PREFIX) in RESERVED_ENTITIES
                    )
    return names


def address_boundaries(policies: Iterable[Policy]) -> set[int]:
    """Every address where some policy's CIDR starts or ends (+1): where ranges are cut."""
    cuts: set[int] = set()
    for policy in policies:
        for rule in policy.all_rules:
            for peer in rule.peers or ():
                if isinstance(peer, AddressPeer):
                    for lo, hi in peer.addresses:
                        cuts.update((lo, hi + 1))
    return cuts


# -------------------------------------------------------------------------------- refinement

#: A part's connections while refining: the sets that apply, as a shared chain (merged once at the end).
_Chain = tuple[ConnectionSet, "_Chain"] | None


def _merge_chain(chain: _Chain) -> ConnectionSet:
    sets: list[ConnectionSet] = []
    while chain is not None:
        sets.append(chain[0])
        chain = chain[1]
    return ConnectionSet.union_all(sets)


#: What the rules of one side give each set of peers: for the allow rules, per peer bitset, how many
#: rules give which connections (a multiset, so that taking a rule out is exact); then the deny rules.
_Contributions = tuple[dict[int, Counter[ConnectionSet]], Counter[tuple[int, ConnectionSet]]]


def _refine(universe: int, isolated: bool, contributions: _Contributions) -> list[tuple[int, ConnectionSet]]:
    """Split ``universe`` into atoms of peers that end up with the same connections.

    Rules with the same peers are merged first, then peer sets with the same connections; each
    part keeps the connection sets that apply to it and merges them once, so thousands of rules
    on one pod class cost one sort per part rather than one per rule.
    """
    allows, denies = contributions
    parts: list[tuple[int, ConnectionSet]]
    if isolated:
        by_conn: dict[ConnectionSet, int] = {}
        for bits, sets in allows.items():
            conns = ConnectionSet.union_all(sets)
            by_conn[conns] = by_conn.get(conns, 0) | bits
        chains: list[tuple[int, _Chain]] = [(universe, None)]
        for conns, bits in by_conn.items():
            refined: list[tuple[int, _Chain]] = []
            for part, chain in chains:
                inside = part & bits
                if not inside:
                    refined.append((part, chain))
                    continue
                outside = part & ~bits
                if outside:
                    refined.append((outside, chain))
                refined.append((inside, (conns, chain)))
            chains = refined
        parts = [(part, _merge_chain(chain)) for part, chain in chains]
    else:
        parts = [(universe, ALL_CONNECTIONS)]
    for bits, conns in denies:
        after_deny: list[tuple[int, ConnectionSet]] = []
        for part, current in parts:
            inside = part & bits
            if not inside:
                after_deny.append((part, current))
                continue
            outside = part & ~bits
            if outside:
                after_deny.append((outside, current))
            after_deny.append((inside, current.difference(conns)))
        parts = after_deny
    return [(bits, conns) for bits, conns in parts if conns]


_DIRECTIONS = (INGRESS, EGRESS)


#: A set of peers' state while the tiers are applied: (accepted, undecided, passed on).
_TierState = tuple[ConnectionSet, ConnectionSet, ConnectionSet]
_OPEN_STATE: _TierState = (NO_CONNECTIONS, ALL_CONNECTIONS, NO_CONNECTIONS)


def _step(state: _TierState, conns: ConnectionSet, action: str) -> _TierState:
    """A tier rule matching ``conns`` applied to a state: it decides what is still undecided."""
    accepted, undecided, passed = state
    decided = undecided.intersection(conns)
    if not decided:
        return state
    undecided = undecided.difference(decided)
    if action == ACCEPT:
        return (accepted.union(decided), undecided, passed)
    if action == PASS:
        return (accepted, undecided, passed.union(decided))
    return (accepted, undecided, passed)


def _split(
    parts: list[tuple[int, _TierState]], rule_parts: list[tuple[int, ConnectionSet]], action: str
) -> list[tuple[int, _TierState]]:
    """Parts refined by one tier rule given as (peers, connections) pieces."""
    for rule_bits, conns in rule_parts:
        refined: list[tuple[int, _TierState]] = []
        for bits, state in parts:
            inside = bits & rule_bits
            if not inside:
                refined.append((bits, state))
                continue
            changed = _step(state, conns, action)
            if changed is state:
                refined.append((bits, state))
                continue
            outside = bits & ~rule_bits
            if outside:
                refined.append((outside, state))
            refined.append((inside, changed))
        parts = refined
    return parts


class _Sides:
    """Per pod class: the rules of the policies selecting it, by direction, and their atoms."""

    def __init__(self, universe: ClassIndex, policies: Iterable[Policy]) -> None:
        self.universe = universe
        count = universe.pod_count
        #: per direction and class, how many of the selecting policies isolate it
        self.isolating = {INGRESS: [0] * count, EGRESS: [0] * count}
        self.rules: dict[str, list[list[Rule]]] = {
            INGRESS: [[] for _ in range(count)],
            EGRESS: [[] for _ in range(count)],
        }
        #: per class, the cluster-scoped tier policies selecting it (any order: sorted when used)
        self.tiered: list[tuple[Policy, ...]] = [()] * count
        for policy in policies:
            self._add(policy)
        self._atoms: dict[tuple[str, int], list[tuple[int, ConnectionSet]]] = {}
        self._contributions: dict[tuple[str, int], _Contributions] = {}
        self._tier_rules: dict[tuple[str, int], tuple[tuple[Rule, ...], tuple[Rule, ...]]] = {}
        self._admin_parts: dict[tuple[object, ...], list[tuple[int, _TierState]]] = {}
        self._admin_rules_alive: list[tuple[Rule, ...]] = []
        #: tiered atoms by the rules of every layer (the rules are kept alive by ``self.rules`` and
        #: ``self._tier_rules``, so their ids in the key stay theirs)
        self._tiered_shared: dict[tuple[object, ...], list[tuple[int, ConnectionSet]]] = {}
        self._tier_rules_by_policies: dict[tuple[object, ...], tuple[tuple[Rule, ...], tuple[Rule, ...]]] = {}

    def _add(self, policy: Policy) -> int:
        bits = self.universe.subject_bits(policy)
        if not bits:
            return 0
        if policy.tier:
            for index in _iter_bits(bits):
                self.tiered[index] = (*self.tiered[index], policy)
            return bits
        ingress = [rule for rule in policy.rules if rule.direction == INGRESS]
        egress = [rule for rule in policy.rules if rule.direction == EGRESS]
        for index in _iter_bits(bits):
            self.isolating[INGRESS][index] += policy.isolates_ingress
            self.isolating[EGRESS][index] += policy.isolates_egress
            self.rules[INGRESS][index].extend(ingress)
            self.rules[EGRESS][index].extend(egress)
        return bits

    def replaced(self, removed: Sequence[Policy], added: Sequence[Policy]) -> tuple[_Sides, int]:
        """These sides with ``removed`` taken out and ``added`` put in, and the classes that
        changed; what the other classes had (rules, atoms) is shared, not recomputed, and what
        the changed ones had is updated by the removed and added rules only."""
        universe = self.universe
        variant = _Sides.__new__(_Sides)
        variant.universe = universe
        variant.isolating = {direction: list(counts) for direction, counts in self.isolating.items()}
        variant.rules = {direction: list(lists) for direction, lists in self.rules.items()}
        variant.tiered = list(self.tiered)
        affected = 0
        gone = {id(rule) for policy in removed for rule in policy.rules}
        for policy in removed:
            bits = universe.subject_bits(policy)
            affected |= bits
            if policy.tier:
                for index in _iter_bits(bits):
                    variant.tiered[index] = tuple(p for p in variant.tiered[index] if p is not policy)
                continue
            for index in _iter_bits(bits):
                variant.isolating[INGRESS][index] -= policy.isolates_ingress
                variant.isolating[EGRESS][index] -= policy.isolates_egress
        for index in _iter_bits(affected):
            for direction in _DIRECTIONS:
                variant.rules[direction][index] = [
                    rule for rule in self.rules[direction][index] if id(rule) not in gone
                ]
        for policy in added:
            bits = universe.subject_bits(policy)
            for index in _iter_bits(bits & ~affected):  # copy before extending the shared lists
                for direction in _DIRECTIONS:
                    variant.rules[direction][index] = list(self.rules[direction][index])
            affected |= bits
            variant._add(policy)
        variant._atoms = {key: atoms for key, atoms in self._atoms.items() if not (affected >> key[1] & 1)}
        variant._tier_rules = {
            key: rules for key, rules in self._tier_rules.items() if not (affected >> key[1] & 1)
        }
        variant._admin_parts = self._admin_parts  # keyed by the rules themselves: always valid
        variant._admin_rules_alive = self._admin_rules_alive
        variant._tiered_shared = {}  # keyed by rule ids: this variant's rules only
        variant._tier_rules_by_policies = {}
        variant._contributions = {
            key: value for key, value in self._contributions.items() if not (affected >> key[1] & 1)
        }
        for (direction, index), (allows, denies) in self._contributions.items():
            if not (affected >> index & 1):
                continue
            allows = dict(allows)
            denies = Counter(denies)
            copied: set[int] = set()
            for sign, policies in ((-1, removed), (1, added)):
                for policy in policies:
                    if policy.tier or not (universe.subject_bits(policy) >> index & 1):
                        continue
                    for rule in policy.rules:
                        if rule.direction != direction:
                            continue
                        for bits, conns in self._parts(rule, index):
                            if rule.deny:
                                denies[(bits, conns)] += sign
                                continue
                            if bits not in copied:
                                allows[bits] = Counter(allows.get(bits, ()))
                                copied.add(bits)
                            allows[bits][conns] += sign
            variant._contributions[(direction, index)] = (
                {bits: +sets for bits, sets in allows.items() if +sets},
                +denies,
            )
        return variant, affected

    def policy_layer_restricted(self, index: int, direction: str) -> bool:
        """Whether the NetworkPolicy layer (NetworkPolicy, Cilium) can refuse anything here."""
        return self.isolating[direction][index] > 0 or any(rule.deny for rule in self.rules[direction][index])

    def restricted(self, index: int, direction: str) -> bool:
        if self.policy_layer_restricted(index, direction):
            return True
        if not self.tiered[index]:
            return False
        admin, baseline = self.tier_rules(index, direction)
        return bool(admin or baseline)

    def tier_rules(self, index: int, direction: str) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
        """(Admin tier rules, Baseline tier rules) of class ``index`` in evaluation order."""
        key = (direction, index)
        cached = self._tier_rules.get(key)
        if cached is None:
            selecting = self.tiered[index]
            # classes selected by the same tier policies share the ordered rules (the policies
            # are kept alive by ``self.tiered``, so their ids in the key stay theirs)
            by_policies = (direction, *map(id, selecting))
            cached = self._tier_rules_by_policies.get(by_policies)
            if cached is None:
                cached = self._tier_rules_by_policies[by_policies] = (
                    tier_rules(selecting, ADMIN_TIER, direction),
                    tier_rules(selecting, BASELINE_TIER, direction),
                )
            self._tier_rules[key] = cached
        return cached

    def same_as(self, other: _Sides, index: int, direction: str) -> bool:
        """Whether class ``index`` has the same side in both (the same rules, the same isolation)."""
        return (
            (self.isolating[direction][index] > 0) == (other.isolating[direction][index] > 0)
            and self.rules[direction][index] == other.rules[direction][index]
            and (
                self.tiered[index] is other.tiered[index]
                or self.tier_rules(index, direction) == other.tier_rules(index, direction)
            )
        )

    def atoms(self, index: int, direction: str) -> list[tuple[int, ConnectionSet]]:
        """Peers of class ``index`` in ``direction`` as (bitset, connections), cached."""
        key = (direction, index)
        atoms = self._atoms.get(key)
        if atoms is None:
            if not self.restricted(index, direction):
                atoms = [(self.universe.everything, ALL_CONNECTIONS)]
            elif self.tiered[index] and any(self.tier_rules(index, direction)):
                # classes with the same rules of every layer (and, for ingress, the same named
                # ports) have the same atoms: many pods share a namespace's policies
                admin, baseline = self.tier_rules(index, direction)
                shared_key = (
                    direction,
                    self.universe.endpoints[index].named_ports if direction == INGRESS else None,
                    self.isolating[direction][index] > 0,
                    tuple(map(id, self.rules[direction][index])),
                    tuple(map(id, admin)),
                    tuple(map(id, baseline)),
                )
                atoms = self._tiered_shared.get(shared_key)
                if atoms is None:
                    policy_layer = None
                    if self.policy_layer_restricted(index, direction):
                        isolated = self.isolating[direction][index] > 0
                        policy_layer = (
                            isolated,
                            _refine(self.universe.everything, isolated, self._contributed(index, direction)),
                        )
                    atoms = self._tiered_atoms(index, direction, admin, baseline, policy_layer)
                    self._tiered_shared[shared_key] = atoms
            else:
                policy_layer = None
                if self.policy_layer_restricted(index, direction):
                    isolated = self.isolating[direction][index] > 0
                    policy_layer = (
                        isolated,
                        _refine(self.universe.everything, isolated, self._contributed(index, direction)),
                    )
                admin, baseline = self.tier_rules(index, direction) if self.tiered[index] else ((), ())
                if admin or baseline:
                    atoms = self._tiered_atoms(index, direction, admin, baseline, policy_layer)
                else:
                    assert policy_layer is not None
                    atoms = policy_layer[1]
            self._atoms[key] = atoms
        return atoms

    def _tiered_atoms(
        self,
        index: int,
        direction: str,
        admin: tuple[Rule, ...],
        baseline: tuple[Rule, ...],
        policy_layer: tuple[bool, list[tuple[int, ConnectionSet]]] | None,
    ) -> list[tuple[int, ConnectionSet]]:
        """The layers in turn over sets of peers: the Admin tier (first matching rule decides, Pass
        hands over), the NetworkPolicy layer (final where it isolates), the Baseline tier, the default.

        A part's state is (accepted, undecided, passed); the Admin tier's parts depend only on its
        rules and (ingress) the class's named ports, so classes with the same rules share them.
        """
        universe = self.universe
        ports_key = universe.endpoints[index].named_ports if direction == INGRESS else None
        admin_key = (direction, ports_key, *map(id, admin))
        parts = self._admin_parts.get(admin_key)
        if parts is None:
            parts = [(universe.everything, _OPEN_STATE)]
            for rule in admin:
                parts = _split(parts, self._parts(rule, index), rule.action)
            self._admin_parts[admin_key] = parts
            self._admin_rules_alive.append(admin)  # keep the rules (and their ids) alive
        # what reaches the NetworkPolicy layer: the undecided and the passed
        staged: list[tuple[int, _TierState]] = [
            (bits, (accepted, undecided.union(passed), NO_CONNECTIONS))
            for bits, (accepted, undecided, passed) in parts
        ]
        if policy_layer is not None:
            isolated, layer_atoms = policy_layer
            after: list[tuple[int, _TierState]] = []
            for bits, (accepted, scope, _) in staged:
                rest = bits
                for atom_bits, conns in layer_atoms:
                    inside = rest & atom_bits
                    if not inside:
                        continue
                    rest &= ~atom_bits
                    through = scope.intersection(conns)
                    if isolated:
                        after.append((inside, (accepted.union(through), NO_CONNECTIONS, NO_CONNECTIONS)))
                    else:
                        after.append((inside, (accepted, through, NO_CONNECTIONS)))
                if rest:  # peers the layer gives nothing: refused there
                    after.append((rest, (accepted, NO_CONNECTIONS, NO_CONNECTIONS)))
            staged = after
        for rule in baseline:
            staged = _split(staged, self._parts(rule, index), rule.action)
        by_conns: dict[ConnectionSet, int] = {}
        for bits, (accepted, undecided, passed) in staged:
            allowed = accepted.union(undecided).union(passed)  # undecided: the default allows
            if allowed:
                by_conns[allowed] = by_conns.get(allowed, 0) | bits
        return [(bits, conns) for conns, bits in by_conns.items()]

    def _parts(self, rule: Rule, index: int) -> list[tuple[int, ConnectionSet]]:
        """(peers, connections) a rule of class ``index`` gives, without empty ones."""
        universe = self.universe
        bits = universe.rule_bits(rule)
        if not bits:
            return []
        if rule.direction == INGRESS:
            conns = rule.ports.resolve(universe.endpoints[index].named_ports)
            return [(bits, conns)] if conns else []
        if not rule.ports.named:
            return [(bits, rule.ports.numeric)] if rule.ports.numeric else []
        # named ports resolve against each destination: one contribution per port layout
        parts = []
        for named_ports, group in universe.port_groups.items():
            if bits & group:
                conns = rule.ports.resolve(named_ports)
                if conns:
                    parts.append((bits & group, conns))
        return parts

    def _contributed(self, index: int, direction: str) -> _Contributions:
        key = (direction, index)
        contributions = self._contributions.get(key)
        if contributions is None:
            allows: dict[int, Counter[ConnectionSet]] = {}
            denies: Counter[tuple[int, ConnectionSet]] = Counter()
            for rule in self.rules[direction][index]:
                for bits, conns in self._parts(rule, index):
                    if rule.deny:
                        denies[(bits, conns)] += 1
                    else:
                        counter = allows.get(bits)
                        if counter is None:
                            counter = allows[bits] = Counter()
                        counter[conns] += 1
            contributions = self._contributions[key] = (allows, denies)
        return contributions


Edges = dict[tuple[NodeKey, NodeKey], ConnectionSet]


def _edges(sides: _Sides, focus: int | None = None) -> Edges:
    """Every allowed connection; with ``focus`` (a bitset of pod classes) only those from or to them."""
    universe = sides.universe
    restricted_egress = 0
    for index in range(universe.pod_count):
        if sides.restricted(index, EGRESS):
            restricted_egress |= 1 << index
    edges: Edges = {}
    names = universe.workload_names
    pod_count = universe.pod_count
    node_keys: list[list[NodeKey]] = [
        list(names[index]) if index < pod_count else [_key(universe.endpoints[index])]
        for index in range(universe.size)
    ]
    meet: dict[tuple[ConnectionSet, ConnectionSet], ConnectionSet] = {}  # few distinct sets: intersect once

    base = universe.base_of

    def add(src_keys: list[NodeKey], dst_keys: list[NodeKey], conns: ConnectionSet) -> None:
        for s in src_keys:
            for d in dst_keys:
                if s != d and (not base or base.get(s, s) != base.get(d, d)):  # type: ignore[arg-type]
                    previous = edges.get((s, d))
                    edges[(s, d)] = conns if previous is None else previous.union(conns)

    networks = universe.network_bits
    own_node = [
        index
        for index in range(pod_count, universe.size)
        if universe.endpoints[index].entity == OWN_NODE and universe.endpoints[index].kind == ENTITY
    ]
    for dst in range(universe.size):
        # outside nodes are reached only from pods
        atoms = sides.atoms(dst, INGRESS) if dst < pod_count else [(universe.pods, ALL_CONNECTIONS)]
        if networks and dst < pod_count:  # pods reach only pods on their own network
            reach = next(bits for bits in networks.values() if bits >> dst & 1) | ~universe.pods
            atoms = [(bits & reach, conns) for bits, conns in atoms if bits & reach]
        if focus is not None and not (focus >> dst & 1):
            atoms = [(bits & focus, conns) for bits, conns in atoms if bits & focus]
        dst_keys = node_keys[dst]
        if own_node and dst < pod_count and (focus is None or focus >> dst & 1 or focus >> own_node[0] & 1):
            add(node_keys[own_node[0]], dst_keys, ALL_CONNECTIONS)  # a pod's own node always gets in
        for bits, conns in atoms:
            if dst >= pod_count:
                bits &= universe.pods
            # sources whose egress is open get the ingress side's connections as they are
            for src in _indices(bits & ~restricted_egress):
                add(node_keys[src], dst_keys, conns)
            for src in _indices(bits & restricted_egress):
                for egress_bits, egress_conns in sides.atoms(src, EGRESS):
                    if egress_bits >> dst & 1:
                        result = meet.get((conns, egress_conns))
                        if result is None:
                            result = meet[(conns, egress_conns)] = conns.intersection(egress_conns)
                        if result:
                            add(node_keys[src], dst_keys, result)
                        break
    return edges


def analyse(
    model: Model, *, boundaries: Iterable[int] = (), with_ipv6: bool | None = None, collapse: bool = True
) -> ConnectivityMap:
    """Every allowed connection between the model's workloads, address ranges and named entities.

    ``boundaries`` adds address cut points (``diff`` uses both sides' so ranges line up);
    IPv6 ranges appear when a policy uses IPv6 (or ``with_ipv6``). Address ranges are
    elementary (not joined): call :meth:`ConnectivityMap.merged` for the report.
    """
    cuts = address_boundaries(model.policies) | set(boundaries)
    ipv6 = any(b > IPV4_MAX + 1 for b in cuts) if with_ipv6 is None else with_ipv6
    universe = ClassIndex(model, cuts, ipv6)
    edges = _edges(_Sides(universe, model.policies))
    workloads = sorted({name for group in universe.workload_names for name in group})
    result = ConnectivityMap(edges, workloads, model.notes(), model.warnings())
    return collapse_variants([result], universe.variants)[0] if collapse else result


def collapse_variants(
    maps: Sequence[ConnectivityMap], variants: Mapping[str, Sequence[str]]
) -> list[ConnectivityMap]:
    """The maps with each split workload's variants named as the workload wherever all of them
    have the same connections, in every map, to and from everything else (a statement about the
    workload is then true for each of its pods); variants that differ keep their own names."""
    if not variants:
        return list(maps)
    members = {name: base for base, names in variants.items() for name in names}
    profiles: list[dict[str, tuple[dict[NodeKey, ConnectionSet], dict[NodeKey, ConnectionSet]]]] = []
    for result in maps:
        profile: dict[str, tuple[dict[NodeKey, ConnectionSet], dict[NodeKey, ConnectionSet]]] = {}
        for (src, dst), conns in result.edges.items():
            if isinstance(src, str) and src in members:
                profile.setdefault(src, ({}, {}))[0][dst] = conns
            if isinstance(dst, str) and dst in members:
                profile.setdefault(dst, ({}, {}))[1][src] = conns
        profiles.append(profile)
    rename: dict[str, str] = {}
    empty: tuple[dict[NodeKey, ConnectionSet], dict[NodeKey, ConnectionSet]] = ({}, {})
    for base, names in variants.items():
        if all(
            all(profile.get(name, empty) == profile.get(names[0], empty) for name in names[1:])
            for profile in profiles
        ):
            rename.update((name, base) for name in names)
    if not rename:
        return list(maps)

    def renamed(node: NodeKey) -> NodeKey:
        return rename.get(node, node) if isinstance(node, str) else node

    out = []
    for result in maps:
        edges: dict[tuple[NodeKey, NodeKey], ConnectionSet] = {}
        for (src, dst), conns in result.edges.items():
            key = (renamed(src), renamed(dst))
            previous = edges.get(key)
            edges[key] = conns if previous is None else previous.union(conns)
        workloads = sorted({rename.get(name, name) for name in result.workloads})
        out.append(ConnectivityMap(edges, workloads, result.notes, result.warnings, result.reading))
    return out


def _key(endpoint: Endpoint) -> NodeKey:
    if endpoint.kind == EXTERNAL:
        return (endpoint.ip_lo, endpoint.ip_hi)
    return f"entity:{endpoint.entity}"


@dataclass
class ConnectivityDiff:
    """Connections the change adds and removes (both merged for reporting)."""

    added: ConnectivityMap
    removed: ConnectivityMap

    @property
    def changed(self) -> bool:
        return bool(self.added.edges or self.removed.edges)


def same_pods(before: Model, after: Model) -> bool:
    """Whether two models describe the same workloads and namespaces (only policies differ)."""
    return before.workloads == after.workloads and before.namespaces == after.namespaces


class Baseline:
    """One model's connectivity, kept to compare other policy sets on the same pods with.

    One class index serves every comparison (its address ranges are cut for the baseline's
    policies and ``other_policies``), the baseline's atoms are computed once, and a comparison
    only looks at connections from or to the pod classes whose rules differ.
    """

    def __init__(self, model: Model, *, other_policies: Iterable[Policy] = ()) -> None:
        others = list(other_policies)
        cuts = address_boundaries(model.policies) | address_boundaries(others)
        ipv6 = any(b > IPV4_MAX + 1 for b in cuts)
        self.model = model
        self.universe = ClassIndex(model, cuts, ipv6, entity_policies=(*model.policies, *others))
        self.sides = _Sides(self.universe, model.policies)
        self.workloads = sorted({name for group in self.universe.workload_names for name in group})
        self._edges: dict[int, Edges] = {}  # the baseline's connections from or to these classes

    def diff(self, after: Model) -> ConnectivityDiff:
        """What ``after`` (the same pods, other policies) allows that the baseline does not, and back."""
        new_sides = _Sides(self.universe, after.policies)
        focus = _changed_classes(self.sides, new_sides)
        old_edges = _edges(self.sides, focus) if focus else {}
        new_edges = _edges(new_sides, focus) if focus else {}
        old = ConnectivityMap(old_edges, self.workloads, self.model.notes(), self.model.warnings())
        new = ConnectivityMap(new_edges, self.workloads, after.notes(), after.warnings())
        added, removed = collapse_variants([_minus(new, old), _minus(old, new)], self.universe.variants)
        return ConnectivityDiff(added, removed)

    def changes(self, removed: Sequence[Policy], added: Sequence[Policy]) -> bool:
        """Whether taking ``removed`` (baseline policies) out and putting ``added`` in changes any
        connection between the baseline's pods, addresses and entities."""
        new_sides, affected = self.sides.replaced(removed, added)
        focus = 0
        for index in _iter_bits(affected):
            if not (
                self.sides.same_as(new_sides, index, INGRESS) and self.sides.same_as(new_sides, index, EGRESS)
            ):
                focus |= 1 << index
        if not focus:
            return False
        old_edges = self._edges.get(focus)
        if old_edges is None:
            old_edges = self._edges[focus] = _edges(self.sides, focus)
        return old_edges != _edges(new_sides, focus)


def diff_models(before: Model, after: Model) -> ConnectivityDiff:
    """What ``after`` allows that ``before`` did not, and the reverse, on aligned address ranges.

    When both models have the same workloads and namespaces (one cluster, changed policies),
    only connections from or to the pod classes whose rules differ are computed.
    """
    if same_pods(before, after):
        return Baseline(before, other_policies=after.policies).diff(after)
    cuts = address_boundaries(before.policies) | address_boundaries(after.policies)
    ipv6 = any(b > IPV4_MAX + 1 for b in cuts)
    old = analyse(before, boundaries=cuts, with_ipv6=ipv6, collapse=False)
    new = analyse(after, boundaries=cuts, with_ipv6=ipv6, collapse=False)
    variants: dict[str, list[str]] = {}
    for model in (before, after):
        for base, names in ClassIndex(model, (), False).variants.items():
            variants.setdefault(base, [])
            variants[base] += [name for name in names if name not in variants[base]]
    added, removed = collapse_variants([_minus(new, old), _minus(old, new)], variants)
    return ConnectivityDiff(added, removed)


def _changed_classes(old: _Sides, new: _Sides) -> int:
    """Pod classes whose ingress or egress side differs between the two."""
    changed = 0
    for index in range(old.universe.pod_count):
        if not (old.same_as(new, index, INGRESS) and old.same_as(new, index, EGRESS)):
            changed |= 1 << index
    return changed


def _minus(left: ConnectivityMap, right: ConnectivityMap) -> ConnectivityMap:
    edges: dict[tuple[NodeKey, NodeKey], ConnectionSet] = {}
    for key, conns in left.edges.items():
        other = right.edges.get(key)
        remaining = conns if other is None else conns.difference(other)
        if remaining:
            edges[key] = remaining
    return ConnectivityMap(edges, left.workloads, left.notes, left.warnings, left.reading).merged()
