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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .endpoints import ENTITY, EXTERNAL, POD, RESERVED_ENTITIES, Endpoint, NamedPort
from .engine import Model
from .intervals import (
    ALL_CONNECTIONS,
    ALL_IPV4,
    ALL_IPV6,
    IPV4_MAX,
    NO_CONNECTIONS,
    ConnectionSet,
    format_ip_range,
)
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
from .selectors import DOES_NOT_EXIST, EXISTS, IN, RESERVED_PREFIX, Selector, cilium_labels

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
        return ConnectivityMap(plain, self.workloads, self.notes)

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

    def __init__(self, model: Model, boundaries: Iterable[int], with_ipv6: bool) -> None:
        self.model = model
        self.endpoints: list[Endpoint] = []
        self.workload_names: list[list[str]] = []
        by_identity: dict[tuple[str, tuple[tuple[str, str], ...], tuple[NamedPort, ...]], int] = {}
        for workload in model.workloads:
            key = (workload.namespace, workload.labels, workload.named_ports)
            index = by_identity.get(key)
            if index is None:
                index = len(self.endpoints)
                by_identity[key] = index
                self.endpoints.append(
                    Endpoint.pod(workload.namespace, workload.label_map, workload.named_ports)
                )
                self.workload_names.append([])
            if workload.qualified_name not in self.workload_names[index]:
                self.workload_names[index].append(workload.qualified_name)
        self.pod_count = len(self.endpoints)
        self.pods = (1 << self.pod_count) - 1
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
        for name in sorted(_named_entities(model.policies)):
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
                view = {f"{RESERVED_PREFIX}{endpoint.entity}": ""}
            else:
                continue
            for label, value in view.items():
                self.cilium_index[(label, value)] = self.cilium_index.get((label, value), 0) | bit
                self.cilium_keys[label] = self.cilium_keys.get(label, 0) | bit
        self._selector_cache: dict[tuple[Selector, bool], int] = {}
        self._namespace_cache: dict[Selector, int] = {}
        self._peer_cache: dict[Peer, int] = {}
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
        if rule.peers is None:
            return self.everything
        bits = 0
        for peer in rule.peers:
            bits |= self.peer_bits(peer)
        return bits

    def subject_bits(self, policy: Policy) -> int:
        scope = self.namespace_bits.get(policy.namespace, 0) if policy.namespace else self.pods
        if not scope:
            return 0
        return scope & self.select(policy.subject, cilium=policy.cilium)


def _named_entities(policies: Iterable[Policy]) -> set[str]:
    names: set[str] = set()
    for policy in policies:
        for rule in policy.rules:
            for peer in rule.peers or ():
                if isinstance(peer, EntityPeer):
                    names.update(name for name in peer.entities if name in RESERVED_ENTITIES)
                elif isinstance(peer, CiliumEndpointPeer):
                    names.update(
                        key.removeprefix(RESERVED_PREFIX)
                        for key in peer.selector.label_keys()
                        if key.startswith(RESERVED_PREFIX)
                        and key.removeprefix(RESERVED_PREFIX) in RESERVED_ENTITIES
                    )
    return names


def address_boundaries(policies: Iterable[Policy]) -> set[int]:
    """Every address where some policy's CIDR starts or ends (+1): where ranges are cut."""
    cuts: set[int] = set()
    for policy in policies:
        for rule in policy.rules:
            for peer in rule.peers or ():
                if isinstance(peer, AddressPeer):
                    for lo, hi in peer.addresses:
                        cuts.update((lo, hi + 1))
    return cuts


# -------------------------------------------------------------------------------- refinement


def _refine(
    universe: int,
    isolated: bool,
    allows: list[tuple[int, ConnectionSet]],
    denies: list[tuple[int, ConnectionSet]],
) -> list[tuple[int, ConnectionSet]]:
    """Split ``universe`` into atoms of peers that end up with the same connections."""
    parts: list[tuple[int, ConnectionSet]] = [(universe, NO_CONNECTIONS if isolated else ALL_CONNECTIONS)]
    steps: list[tuple[int, ConnectionSet, bool]] = []
    if isolated:
        by_conn: dict[ConnectionSet, int] = {}
        for bits, conns in allows:
            if bits and conns:
                by_conn[conns] = by_conn.get(conns, 0) | bits
        steps.extend((bits, conns, False) for conns, bits in by_conn.items())
    steps.extend((bits, conns, True) for bits, conns in denies if bits and conns)
    for bits, conns, deny in steps:
        refined: list[tuple[int, ConnectionSet]] = []
        for part, current in parts:
            inside = part & bits
            if not inside:
                refined.append((part, current))
                continue
            outside = part & ~bits
            if outside:
                refined.append((outside, current))
            refined.append((inside, current.difference(conns) if deny else current.union(conns)))
        parts = refined
    return [(bits, conns) for bits, conns in parts if conns]


class _Sides:
    """Per pod class: the rules of the policies selecting it, by direction."""

    def __init__(self, universe: ClassIndex) -> None:
        self.universe = universe
        count = universe.pod_count
        self.isolated = {INGRESS: [False] * count, EGRESS: [False] * count}
        self.rules: dict[str, list[list[Rule]]] = {
            INGRESS: [[] for _ in range(count)],
            EGRESS: [[] for _ in range(count)],
        }
        for policy in universe.model.policies:
            bits = universe.subject_bits(policy)
            if not bits:
                continue
            ingress = [rule for rule in policy.rules if rule.direction == INGRESS]
            egress = [rule for rule in policy.rules if rule.direction == EGRESS]
            for index in _iter_bits(bits):
                if policy.isolates_ingress:
                    self.isolated[INGRESS][index] = True
                if policy.isolates_egress:
                    self.isolated[EGRESS][index] = True
                self.rules[INGRESS][index].extend(ingress)
                self.rules[EGRESS][index].extend(egress)

    def restricted(self, index: int, direction: str) -> bool:
        return self.isolated[direction][index] or any(rule.deny for rule in self.rules[direction][index])

    def ingress_atoms(self, index: int) -> list[tuple[int, ConnectionSet]]:
        universe = self.universe
        ports_of = universe.endpoints[index].named_ports
        allows: list[tuple[int, ConnectionSet]] = []
        denies: list[tuple[int, ConnectionSet]] = []
        for rule in self.rules[INGRESS][index]:
            (denies if rule.deny else allows).append((universe.rule_bits(rule), rule.ports.resolve(ports_of)))
        return _refine(universe.everything, self.isolated[INGRESS][index], allows, denies)

    def egress_atoms(self, index: int) -> list[tuple[int, ConnectionSet]]:
        universe = self.universe
        allows: list[tuple[int, ConnectionSet]] = []
        denies: list[tuple[int, ConnectionSet]] = []
        for rule in self.rules[EGRESS][index]:
            bits = universe.rule_bits(rule)
            target = denies if rule.deny else allows
            if not rule.ports.named:
                target.append((bits, rule.ports.numeric))
                continue
            # named ports resolve against each destination: one contribution per port layout
            for named_ports, group in universe.port_groups.items():
                if bits & group:
                    target.append((bits & group, rule.ports.resolve(named_ports)))
        return _refine(universe.everything, self.isolated[EGRESS][index], allows, denies)


def analyse(
    model: Model, *, boundaries: Iterable[int] = (), with_ipv6: bool | None = None
) -> ConnectivityMap:
    """Every allowed connection between the model's workloads, address ranges and named entities.

    ``boundaries`` adds address cut points (``diff`` uses both sides' so ranges line up);
    IPv6 ranges appear when a policy uses IPv6 (or ``with_ipv6``). Address ranges are
    elementary (not joined): call :meth:`ConnectivityMap.merged` for the report.
    """
    cuts = address_boundaries(model.policies) | set(boundaries)
    ipv6 = any(b > IPV4_MAX + 1 for b in cuts) if with_ipv6 is None else with_ipv6
    universe = ClassIndex(model, cuts, ipv6)
    sides = _Sides(universe)
    egress_atoms: dict[int, list[tuple[int, ConnectionSet]]] = {}
    restricted_egress = 0
    for index in range(universe.pod_count):
        if sides.restricted(index, EGRESS):
            restricted_egress |= 1 << index
            egress_atoms[index] = sides.egress_atoms(index)

    edges: dict[tuple[NodeKey, NodeKey], ConnectionSet] = {}
    names = universe.workload_names
    pod_count = universe.pod_count
    node_keys: list[list[NodeKey]] = [
        list(names[index]) if index < pod_count else [_key(universe.endpoints[index])]
        for index in range(universe.size)
    ]
    meet: dict[tuple[ConnectionSet, ConnectionSet], ConnectionSet] = {}  # few distinct sets: intersect once

    def add(src_keys: list[NodeKey], dst_keys: list[NodeKey], conns: ConnectionSet) -> None:
        for s in src_keys:
            for d in dst_keys:
                if s != d:
                    previous = edges.get((s, d))
                    edges[(s, d)] = conns if previous is None else previous.union(conns)

    for dst in range(universe.size):
        if dst < pod_count:
            if sides.restricted(dst, INGRESS):
                atoms = sides.ingress_atoms(dst)
            else:
                atoms = [(universe.everything, ALL_CONNECTIONS)]
        else:
            atoms = [(universe.pods, ALL_CONNECTIONS)]  # outside nodes are reached only from pods
        dst_keys = node_keys[dst]
        for bits, conns in atoms:
            if dst >= pod_count:
                bits &= universe.pods
            # sources whose egress is open get the ingress side's connections as they are
            for src in _indices(bits & ~restricted_egress):
                add(node_keys[src], dst_keys, conns)
            for src in _indices(bits & restricted_egress):
                for egress_bits, egress_conns in egress_atoms[src]:
                    if egress_bits >> dst & 1:
                        result = meet.get((conns, egress_conns))
                        if result is None:
                            result = meet[(conns, egress_conns)] = conns.intersection(egress_conns)
                        if result:
                            add(node_keys[src], dst_keys, result)
                        break
    workloads = sorted({name for group in names for name in group})
    return ConnectivityMap(edges, workloads, model.notes())


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


def diff_models(before: Model, after: Model) -> ConnectivityDiff:
    """What ``after`` allows that ``before`` did not, and the reverse, on aligned address ranges."""
    cuts = address_boundaries(before.policies) | address_boundaries(after.policies)
    ipv6 = any(b > IPV4_MAX + 1 for b in cuts)
    old = analyse(before, boundaries=cuts, with_ipv6=ipv6)
    new = analyse(after, boundaries=cuts, with_ipv6=ipv6)
    return ConnectivityDiff(_minus(new, old), _minus(old, new))


def _minus(left: ConnectivityMap, right: ConnectivityMap) -> ConnectivityMap:
    edges: dict[tuple[NodeKey, NodeKey], ConnectionSet] = {}
    for key, conns in left.edges.items():
        other = right.edges.get(key)
        remaining = conns if other is None else conns.difference(other)
        if remaining:
            edges[key] = remaining
    return ConnectivityMap(edges, left.workloads, left.notes).merged()
