"""Policy manifests compiled into rules the engine evaluates.

Kubernetes NetworkPolicy (networking.k8s.io/v1) and CiliumNetworkPolicy /
CiliumClusterwideNetworkPolicy (cilium.io/v2) at L3/L4 become one vocabulary: a
:class:`Policy` selects *subject* pods, may isolate them per direction, and carries
:class:`Rule` objects, each a set of peers and ports, allowing or (Cilium) denying.

The cluster-scoped tiers of policy.networking.k8s.io — ClusterNetworkPolicy (v1alpha2, v1beta1:
``spec.tier`` Admin or Baseline) and its predecessors AdminNetworkPolicy / BaselineAdminNetworkPolicy
(v1alpha1) — compile to policies with a ``tier`` and a ``priority`` whose :attr:`Policy.tier_rules`
carry an ``action`` (Accept, Deny, Pass) and are evaluated in order, first match deciding, before
(Admin) or after (Baseline) the NetworkPolicy layer; their ``rules`` are empty, so code that knows
only allow/deny rules never mistakes a Deny for an allow.

What the engine does not model — L7 rules, ``toFQDNs``, ``toServices``, ``fromRequires``,
ICMP, host policies (``nodeSelector``) — is recorded in ``Rule.unmodelled`` /
``Policy.notes`` so every report can say so rather than silently allow or deny.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..kube.defaults import (
    ACCEPT,
    ADMIN_TIER,
    ALLOW,
    BASELINE_ADMIN_NAME,
    BASELINE_TIER,
    CILIUM_ALL_PORTS,
    CILIUM_DEFAULT_DENY,
    CILIUM_NAMESPACE_LABEL,
    CILIUM_NAMESPACE_LABELS_PREFIX,
    CILIUM_PROTOCOL,
    CILIUM_RESERVED_PREFIX,
    DENY,
    EGRESS_TYPE,
    INGRESS_TYPE,
    NETWORK_POLICY_PROTOCOL,
    PASS,
    POLICY_TYPES,
    TIER_PORT_PROTOCOL,
    TIER_PRIORITY_RANGE,
    TIERS,
    default_policy_types,
)
from ..kube.names import (
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CILIUM_NETWORK_POLICY,
    CLUSTER_NETWORK_POLICY,
    NETWORK_POLICY,
    POLICY_API_GROUP,
    POLICY_GROUPS,
    POLICY_KINDS,
    TIERED_POLICY_KINDS,
    TIERED_POLICY_VERSIONS,
)
from ..text import ascii_int
from .endpoints import ENTITIES, ENTITY, EXTERNAL, POD, RESERVED_ENTITIES, Endpoint, NamedPort
from .intervals import (
    ALL_ADDRESSES,
    ALL_CONNECTIONS,
    ALL_IPV4,
    MAX_PORT,
    MIN_PORT,
    NO_CONNECTIONS,
    PROTOCOLS,
    ConnectionSet,
    IntervalSet,
    cidr_range,
)
from .selectors import (
    EXISTS,
    IN,
    MATCH_ALL,
    Requirement,
    Selector,
    SelectorError,
    compile_selector,
)

#: The kinds the engine compiles: the namespaced policies a deploy creates, Cilium's clusterwide
#: policies, which also apply to the namespace's pods, and the cluster-scoped tiers (for these the
#: API group decides too: see :func:`is_compiled`).
COMPILED_KINDS = (*POLICY_KINDS, CILIUM_CLUSTERWIDE_NETWORK_POLICY, *TIERED_POLICY_KINDS)

INGRESS, EGRESS = "ingress", "egress"

Path = tuple[str | int, ...]


class PolicyError(InputError):
    """A policy that cannot be understood; ``path`` points inside the manifest."""

    def __init__(self, message: str, path: Path = (), *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, path=tuple(path))


@dataclass(frozen=True, order=True)
class PolicyRef:
    """Which policy: kind, namespace ('' for clusterwide) and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{_SHORT_KINDS.get(self.kind, '')}{where}{self.name}"


_SHORT_KINDS = {
    NETWORK_POLICY: "",
    CILIUM_NETWORK_POLICY: "cnp:",
    CILIUM_CLUSTERWIDE_NETWORK_POLICY: "ccnp:",
    ADMIN_NETWORK_POLICY: "anp:",
    BASELINE_ADMIN_NETWORK_POLICY: "banp:",
    CLUSTER_NETWORK_POLICY: "clusternetworkpolicy:",
}


def is_compiled(manifest: Mapping[str, Any]) -> bool:
    """Whether the engine compiles this object: one of :data:`COMPILED_KINDS` from its API group
    (a Calico ``projectcalico.org`` NetworkPolicy or an Antrea ``crd.antrea.io``
    ClusterNetworkPolicy is not), the cluster-scoped tiers in a version the engine reads. An object
    without ``apiVersion`` is taken by its kind."""
    kind = manifest.get("kind")
    if kind not in COMPILED_KINDS:
        return False
    api_version = manifest.get("apiVersion")
    if api_version is None:
        return True
    group, _, version = str(api_version).rpartition("/")
    if kind in TIERED_POLICY_VERSIONS:
        return group == POLICY_API_GROUP and version in TIERED_POLICY_VERSIONS[str(kind)]
    return group in POLICY_GROUPS[str(kind)]


# ---------------------------------------------------------------------------------------- peers


@dataclass(frozen=True)
class PodPeer:
    """NetworkPolicy pod/namespace selectors: pods matching ``pod_selector`` in ``namespace``
    (the policy's own when no namespaceSelector) or in namespaces matching ``namespace_selector``."""

    pod_selector: Selector
    namespace: str | None = None
    namespace_selector: Selector | None = None

    def matches(self, endpoint: Endpoint, namespace_labels: Mapping[str, str]) -> bool:
        if endpoint.kind != POD:
            return False
        if self.namespace is not None and endpoint.namespace != self.namespace:
            return False
        if self.namespace_selector is not None and not self.namespace_selector.matches(namespace_labels):
            return False
        return self.pod_selector.matches(endpoint.label_map)


@dataclass(frozen=True)
class CiliumEndpointPeer:
    """A Cilium endpoint selector over pod labels plus namespace pseudo-labels (already scoped)."""

    selector: Selector

    def matches(self, cilium_view: Mapping[str, str]) -> bool:
        return self.selector.matches(cilium_view)


@dataclass(frozen=True)
class AddressPeer:
    """External addresses (ipBlock with except, Cilium CIDR/CIDRSet)."""

    addresses: IntervalSet

    def matches(self, endpoint: Endpoint) -> bool:
        if endpoint.ip_lo < 0:
            # "somewhere outside the cluster" without an address: only a block covering all of it
            return (
                endpoint.kind == ENTITY
                and endpoint.entity == "world"
                and self.addresses.contains_range(*ALL_IPV4)
            )
        if endpoint.kind == POD:
            return False
        return self.addresses.contains_range(endpoint.ip_lo, endpoint.ip_hi)


@dataclass(frozen=True)
class EntityPeer:
    """Cilium entities (``world``, ``cluster``, ``host``, ``all`` …)."""

    entities: frozenset[str]

    def matches(self, endpoint: Endpoint) -> bool:
        names = self.entities
        if "all" in names:
            return True
        if endpoint.kind == POD:
            return "cluster" in names
        if endpoint.kind == EXTERNAL or endpoint.entity == "world":
            if "world" in names:
                return True
            if endpoint.ip_lo < 0:
                return False
            return ("world-ipv4" if endpoint.is_ipv4 else "world-ipv6") in names
        return endpoint.entity in names or "cluster" in names


Peer = PodPeer | CiliumEndpointPeer | AddressPeer | EntityPeer


# ---------------------------------------------------------------------------------------- ports


@dataclass(frozen=True)
class PortSpec:
    """Ports of a rule: numbers and ranges, plus named ports resolved against the destination pod."""

    numeric: ConnectionSet
    named: tuple[tuple[str, str], ...] = ()  # (protocol or ANY, port name)

    def resolve(self, named_ports: tuple[NamedPort, ...]) -> ConnectionSet:
        if not self.named:
            return self.numeric
        result = self.numeric
        for protocol, name in self.named:
            for port_name, port_protocol, number in named_ports:
                if port_name == name and (protocol == "ANY" or protocol == port_protocol):
                    result = result.union(ConnectionSet.of(port_protocol, IntervalSet([(number, number)])))
        return result

    @property
    def is_all(self) -> bool:
        return not self.named and self.numeric.is_all()

    def describe(self) -> str:
        parts = [] if not self.numeric else [self.numeric.describe()]
        parts += [
            f"{'port' if protocol == 'ANY' else protocol} named '{name}'" for protocol, name in self.named
        ]
        return ", ".join(parts) or "no port"


ALL_PORT_SPEC = PortSpec(ALL_CONNECTIONS)
NO_PORT_SPEC = PortSpec(NO_CONNECTIONS)


# ---------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One ingress or egress rule: traffic with ``peers`` (``None`` = any peer) on ``ports``."""

    policy: PolicyRef
    direction: str
    deny: bool
    peers: tuple[Peer, ...] | None
    ports: PortSpec
    path: Path
    unmodelled: tuple[str, ...] = ()
    #: where each of ``peers`` is in the manifest (for findings)
    peer_paths: tuple[Path, ...] = ()
    #: a rule of a cluster-scoped tier: ``Accept``, ``Deny`` or ``Pass`` ('' for the others)
    action: str = ""
    #: the rule's ``name`` as written, and its policy's tier and priority (cluster-scoped tiers)
    name: str = ""
    tier: str = ""
    priority: int = 0

    def tier_position(self) -> str:
        """``Admin tier, priority 10`` (a BaselineAdminNetworkPolicy has no priority)."""
        if self.priority > TIER_PRIORITY_RANGE[1]:
            return f"{self.tier} tier"
        return f"{self.tier} tier, priority {self.priority}"

    def describe_origin(self) -> str:
        """``anp:deny-all rule 'deny-slytherin' (ingress[0])`` — which rule, for reasons and findings."""
        where = ".".join(str(step) for step in self.path[1:]) or ".".join(map(str, self.path))
        named = f" rule {self.name!r}" if self.name else " rule"
        return f"{self.policy}{named} ({where})"

    def matches_peer(
        self, endpoint: Endpoint, namespace_labels: Mapping[str, str], cilium_view: Mapping[str, str]
    ) -> bool:
        if self.peers is None:
            return True
        return self.matching_peer(endpoint, namespace_labels, cilium_view) is not None

    def matching_peer(
        self, endpoint: Endpoint, namespace_labels: Mapping[str, str], cilium_view: Mapping[str, str]
    ) -> Peer | None:
        """The first of the rule's peers that ``endpoint`` is (None also when the rule has no peers)."""
        for peer in self.peers or ():
            if isinstance(peer, PodPeer):
                if peer.matches(endpoint, namespace_labels):
                    return peer
            elif isinstance(peer, CiliumEndpointPeer):
                if peer.matches(cilium_view):
                    return peer
            elif peer.matches(endpoint):
                return peer
        return None


@dataclass(frozen=True)
class Policy:
    """A compiled policy (one ``specs`` entry of a Cilium policy is a Policy of its own)."""

    ref: PolicyRef
    #: pods this policy applies to: a Kubernetes selector over pod labels in ``namespace``,
    #: or (Cilium) a selector over pod labels + namespace pseudo-labels
    subject: Selector
    cilium: bool
    namespace: str  # '' for a clusterwide policy
    isolates_ingress: bool
    isolates_egress: bool
    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = ()
    path: Path = ("spec",)
    manifest: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    #: cluster-scoped tiers: ``Admin`` or ``Baseline`` ('' for the NetworkPolicy layer), the
    #: priority within the tier (lower first), the namespaces the subject pods must be in, and the
    #: rules in evaluation order (``rules`` is empty for these policies)
    tier: str = ""
    priority: int = 0
    subject_namespaces: Selector | None = None
    tier_rules: tuple[Rule, ...] = ()
    #: what the API server would reject but the engine reads anyway (said in every report)
    warnings: tuple[str, ...] = ()

    def selects(
        self,
        endpoint: Endpoint,
        cilium_view: Mapping[str, str],
        namespace_labels: Mapping[str, str] | None = None,
    ) -> bool:
        if endpoint.kind != POD:
            return False
        if self.namespace and endpoint.namespace != self.namespace:
            return False
        if self.subject_namespaces is not None:
            if namespace_labels is None:
                namespace_labels = {
                    key[len(CILIUM_NAMESPACE_LABELS_PREFIX) :]: value
                    for key, value in cilium_view.items()
                    if key.startswith(CILIUM_NAMESPACE_LABELS_PREFIX)
                }
            if not self.subject_namespaces.matches(namespace_labels):
                return False
        return self.subject.matches(cilium_view if self.cilium else endpoint.label_map)

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        """Every rule: the allow/deny rules and the tier rules."""
        return self.rules + self.tier_rules if self.tier_rules else self.rules

    @property
    def order(self) -> tuple[int, str, str]:
        """Where the policy is evaluated within its tier: by priority, then (the API leaves ties to
        the implementation) by name and kind, so that every run decides ties alike."""
        return (self.priority, self.ref.name, self.ref.kind)


# -------------------------------------------------------------------------- NetworkPolicy compile


def _mapping(value: Any, path: Path, what: str) -> Mapping[str, Any]:
    if type(value) is dict:  # the common case, without the ABC check (thousands of policies)
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PolicyError(f"{what} must be a mapping", path)
    return value


def _list(value: Any, path: Path, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{what} must be a list", path)
    return value


def _selector(raw: Any, path: Path, *, cilium: bool = False) -> Selector:
    try:
        return compile_selector(raw, cilium=cilium)
    except SelectorError as exc:
        raise PolicyError(exc.message, path + exc.path) from None


def _port_number(value: Any, path: Path) -> int | str:
    """A port as written: a number, a numeric string, or a name."""
    if isinstance(value, bool):
        raise PolicyError("a port must be a number or a name", path)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (parsed := ascii_int(value.strip())) is not None:
        number = parsed
    elif isinstance(value, str) and value.strip():
        return value.strip()
    else:
        raise PolicyError("a port must be a number or a name", path)
    if not 0 <= number <= MAX_PORT:
        raise PolicyError(f"port {number} is outside 1-65535", path)
    return number


def _network_policy_ports(raw_ports: Any, path: Path) -> PortSpec:
    entries = _list(raw_ports, path, "ports")
    if not entries:
        return ALL_PORT_SPEC
    ranges: list[tuple[str, int, int]] = []
    named: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        where = (*path, index)
        entry = _mapping(entry, where, "a port entry")
        protocol = str(entry.get("protocol") or NETWORK_POLICY_PROTOCOL).upper()
        if protocol not in PROTOCOLS:
            raise PolicyError(f"protocol {protocol!r} is not one of TCP, UDP, SCTP", (*where, "protocol"))
        port = entry.get("port")
        end_port = entry.get("endPort")
        if port is None:
            if end_port is not None:
                raise PolicyError("endPort needs port", (*where, "endPort"))
            ranges.append((protocol, MIN_PORT, MAX_PORT))
            continue
        value = _port_number(port, (*where, "port"))
        if isinstance(value, str):
            if end_port is not None:
                raise PolicyError("endPort cannot be used with a named port", (*where, "endPort"))
            named.append((protocol, value))
            continue
        high = value
        if end_port is not None:
            end = _port_number(end_port, (*where, "endPort"))
            if isinstance(end, str) or end < value:
                raise PolicyError(f"endPort must be a number >= port ({value})", (*where, "endPort"))
            high = end
        ranges.append((protocol, max(value, MIN_PORT), high))
    return PortSpec(ConnectionSet.from_ranges(ranges), tuple(sorted(set(named))))


def _ip_block(raw: Any, path: Path) -> AddressPeer:
    block = _mapping(raw, path, "ipBlock")
    cidr = block.get("cidr")
    if not isinstance(cidr, str):
        raise PolicyError("ipBlock needs a cidr", path)
    try:
        addresses = IntervalSet([cidr_range(cidr)])
        excepted = IntervalSet(
            cidr_range(str(item)) for item in _list(block.get("except"), (*path, "except"), "except")
        )
    except ValueError as exc:
        raise PolicyError(f"invalid CIDR: {exc}", path) from None
    return AddressPeer(addresses.difference(excepted))


def _network_policy_peers(raw_peers: Any, path: Path, namespace: str) -> tuple[Peer, ...] | None:
    entries = _list(raw_peers, path, "peers")
    if not entries:
        return None
    peers: list[Peer] = []
    for index, entry in enumerate(entries):
        where = (*path, index)
        entry = _mapping(entry, where, "a peer")
        if "ipBlock" in entry:
            if "podSelector" in entry or "namespaceSelector" in entry:
                raise PolicyError("ipBlock cannot be combined with podSelector/namespaceSelector", where)
            peers.append(_ip_block(entry["ipBlock"], (*where, "ipBlock")))
            continue
        if "podSelector" not in entry and "namespaceSelector" not in entry:
            raise PolicyError("a peer needs podSelector, namespaceSelector or ipBlock", where)
        pod_selector = _selector(entry.get("podSelector"), (*where, "podSelector"))
        if "namespaceSelector" in entry:
            namespace_selector = _selector(entry.get("namespaceSelector"), (*where, "namespaceSelector"))
            peers.append(PodPeer(pod_selector, None, namespace_selector))
        else:
            peers.append(PodPeer(pod_selector, namespace))
    return tuple(peers)


def compile_network_policy(manifest: Mapping[str, Any], default_namespace: str = "default") -> Policy:
    """Compile a Kubernetes NetworkPolicy, applying the API server's defaults."""
    metadata = _mapping(manifest.get("metadata"), ("metadata",), "metadata")
    namespace = str(metadata.get("namespace") or default_namespace)
    ref = PolicyRef(NETWORK_POLICY, namespace, str(metadata.get("name") or "(unnamed)"))
    spec = _mapping(manifest.get("spec"), ("spec",), "spec")
    subject = _selector(spec.get("podSelector"), ("spec", "podSelector"))
    ingress = _list(spec.get("ingress"), ("spec", "ingress"), "ingress")
    egress = _list(spec.get("egress"), ("spec", "egress"), "egress")
    types = spec.get("policyTypes")
    if types:
        types_list = [str(t) for t in _list(types, ("spec", "policyTypes"), "policyTypes")]
        for index, name in enumerate(types_list):
            if name not in POLICY_TYPES:
                raise PolicyError(
                    f"policyTypes entry {name!r} is not Ingress or Egress", ("spec", "policyTypes", index)
                )
    else:
        types_list = default_policy_types(egress)
    rules: list[Rule] = []
    sections = (
        (INGRESS_TYPE, INGRESS, "ingress", "from", ingress),
        (EGRESS_TYPE, EGRESS, "egress", "to", egress),
    )
    for policy_type, direction, key, peer_key, entries in sections:
        if policy_type not in types_list:
            continue
        for index, raw in enumerate(entries):
            where: Path = ("spec", key, index)
            raw = _mapping(raw, where, f"an {key} rule")
            peers = _network_policy_peers(raw.get(peer_key), (*where, peer_key), namespace)
            rules.append(
                Rule(
                    ref,
                    direction,
                    False,
                    peers,
                    _network_policy_ports(raw.get("ports"), (*where, "ports")),
                    where,
                    peer_paths=tuple((*where, peer_key, number) for number in range(len(peers or ()))),
                )
            )
    notes = []
    if ingress and INGRESS_TYPE not in types_list:
        notes.append("has ingress rules but policyTypes leaves out Ingress: they are ignored")
    if egress and EGRESS_TYPE not in types_list:
        notes.append("has egress rules but policyTypes leaves out Egress: they are ignored")
    return Policy(
        ref,
        subject,
        False,
        namespace,
        INGRESS_TYPE in types_list,
        EGRESS_TYPE in types_list,
        tuple(rules),
        tuple(notes),
        manifest=manifest,
    )


# ------------------------------------------------------------------------------ Cilium compile

_L7_FIELDS = ("rules", "serverNames", "terminatingTLS", "originatingTLS", "listener")
_UNMODELLED_PEERS = {
    "fromRequires": "fromRequires",
    "toRequires": "toRequires",
    "fromGroups": "fromGroups",
    "toGroups": "toGroups",
    "toServices": "toServices",
    "toFQDNs": "toFQDNs",
    "fromNodes": "fromNodes",
    "toNodes": "toNodes",
}


def _scoped_endpoint_selector(raw: Any, path: Path, namespace: str) -> Selector:
    """A from/toEndpoints selector scoped as Cilium does for namespaced policies.

    Cilium adds ``io.kubernetes.pod.namespace=<policy namespace>`` unless the selector names
    the namespace itself or selects namespace labels; a clusterwide policy only requires that
    the endpoint has a namespace (a pod). Reserved-identity selectors are left alone.
    """
    selector = _selector(raw, path, cilium=True)
    keys = selector.label_keys()
    if any(key.startswith(CILIUM_RESERVED_PREFIX) for key in keys):
        return selector
    if CILIUM_NAMESPACE_LABEL in keys or any(key.startswith(CILIUM_NAMESPACE_LABELS_PREFIX) for key in keys):
        return selector
    if namespace:
        return selector.with_requirement(Requirement(CILIUM_NAMESPACE_LABEL, IN, (namespace,)))
    return selector.with_requirement(Requirement(CILIUM_NAMESPACE_LABEL, EXISTS))


def _cilium_ports(raw_to_ports: Any, path: Path, l7_allows: bool) -> tuple[PortSpec, list[str]]:
    entries = _list(raw_to_ports, path, "toPorts")
    notes: list[str] = []
    if not entries:
        return ALL_PORT_SPEC, notes
    ranges: list[tuple[str, int, int]] = []
    named: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        where = (*path, index)
        entry = _mapping(entry, where, "a toPorts entry")
        l7 = [name for name in _L7_FIELDS if entry.get(name)]
        for name in l7:
            effect = "L4 allowed" if l7_allows else "its ports not counted as allowed"
            notes.append(f"L7 {name} at {'.'.join(map(str, (*where, name)))} not modelled ({effect})")
        ports = _list(entry.get("ports"), (*where, "ports"), "ports")
        if l7 and not l7_allows:
            continue
        if not ports:
            ranges.append((CILIUM_PROTOCOL, MIN_PORT, MAX_PORT))
            continue
        for port_index, port in enumerate(ports):
            at = (*where, "ports", port_index)
            port = _mapping(port, at, "a port")
            protocol = str(port.get("protocol") or CILIUM_PROTOCOL).upper()
            if protocol not in (*PROTOCOLS, "ANY"):
                notes.append(f"protocol {protocol} at {'.'.join(map(str, at))} not modelled")
                continue
            value = _port_number(port.get("port", CILIUM_ALL_PORTS) or CILIUM_ALL_PORTS, (*at, "port"))
            if isinstance(value, str):
                named.append((protocol, value))
                continue
            if value == CILIUM_ALL_PORTS:
                ranges.append((protocol, MIN_PORT, MAX_PORT))
                continue
            high = value
            if port.get("endPort"):
                end = _port_number(port["endPort"], (*at, "endPort"))
                if isinstance(end, str) or end < value:
                    raise PolicyError(f"endPort must be a number >= port ({value})", (*at, "endPort"))
                high = end
            ranges.append((protocol, value, high))
    return PortSpec(ConnectionSet.from_ranges(ranges), tuple(sorted(set(named)))), notes


def _cidr_peers(rule: Mapping[str, Any], prefix: str, where: Path) -> list[tuple[Peer, Path]]:
    peers: list[tuple[Peer, Path]] = []
    try:
        cidrs = _list(rule.get(f"{prefix}CIDR"), (*where, f"{prefix}CIDR"), f"{prefix}CIDR")
        if cidrs:
            addresses = IntervalSet(cidr_range(str(c)) for c in cidrs)
            peers.append((AddressPeer(addresses), (*where, f"{prefix}CIDR")))
        for index, item in enumerate(
            _list(rule.get(f"{prefix}CIDRSet"), (*where, f"{prefix}CIDRSet"), "CIDRSet")
        ):
            item = _mapping(item, (*where, f"{prefix}CIDRSet", index), "a CIDRSet entry")
            if "cidr" not in item:
                continue  # cidrGroupRef / selectors: reported as not modelled by the caller
            block = IntervalSet([cidr_range(str(item["cidr"]))])
            excepted = IntervalSet(cidr_range(str(c)) for c in _list(item.get("except"), (*where,), "except"))
            peers.append((AddressPeer(block.difference(excepted)), (*where, f"{prefix}CIDRSet", index)))
    except ValueError as exc:
        raise PolicyError(f"invalid CIDR: {exc}", where) from None
    return peers


def _cilium_rule(
    ref: PolicyRef, raw: Any, where: Path, direction: str, deny: bool, namespace: str, l7_allows: bool
) -> Rule:
    raw = _mapping(raw, where, f"an {direction} rule")
    prefix = "from" if direction == INGRESS else "to"
    peers: list[tuple[Peer, Path]] = []
    unmodelled: list[str] = []
    has_l3 = False
    endpoints = raw.get(f"{prefix}Endpoints")
    if endpoints is not None:
        has_l3 = True
        for index, selector in enumerate(_list(endpoints, (*where, f"{prefix}Endpoints"), "endpoints")):
            at = (*where, f"{prefix}Endpoints", index)
            peers.append((CiliumEndpointPeer(_scoped_endpoint_selector(selector, at, namespace)), at))
    for key in (f"{prefix}CIDR", f"{prefix}CIDRSet"):
        if raw.get(key) is not None:
            has_l3 = True
    peers.extend(_cidr_peers(raw, prefix, where))
    for index, item in enumerate(_list(raw.get(f"{prefix}CIDRSet"), (*where,), "CIDRSet")):
        if isinstance(item, Mapping) and "cidr" not in item:
            unmodelled.append(f"{prefix}CIDRSet[{index}] without cidr (group reference) not modelled")
    entities = raw.get(f"{prefix}Entities")
    if entities is not None:
        has_l3 = True
        names = [str(e).lower() for e in _list(entities, (*where, f"{prefix}Entities"), "entities")]
        for index, name in enumerate(names):
            if name not in ENTITIES:
                raise PolicyError(
                    f"unknown entity {name!r}",
                    (*where, f"{prefix}Entities", index),
                    hint=f"Cilium entities: {', '.join(ENTITIES)}",
                )
        peers.append((EntityPeer(frozenset(names)), (*where, f"{prefix}Entities")))
    for key, label in _UNMODELLED_PEERS.items():
        if key.startswith(prefix) and raw.get(key):
            has_l3 = True
            unmodelled.append(f"{label} not modelled")
    if raw.get("icmps"):
        unmodelled.append("ICMP rules not modelled")
    if "toPorts" in raw:
        ports, notes = _cilium_ports(raw.get("toPorts"), (*where, "toPorts"), l7_allows or deny)
        unmodelled.extend(notes)
    elif raw.get("icmps"):
        ports = NO_PORT_SPEC  # an ICMP-only rule allows no TCP/UDP/SCTP traffic
    else:
        ports = ALL_PORT_SPEC
    if not has_l3:
        # L4-only rule: any peer; a rule with neither peers nor ports ({}) matches nothing
        peer_set: tuple[Peer, ...] | None = None if ("toPorts" in raw) else ()
    else:
        peer_set = tuple(peer for peer, _ in peers)
    return Rule(ref, direction, deny, peer_set, ports, where, tuple(unmodelled), tuple(at for _, at in peers))


def _cilium_rule_block(
    ref: PolicyRef,
    raw: Mapping[str, Any],
    path: Path,
    namespace: str,
    manifest: Mapping[str, Any],
    l7_allows: bool,
) -> Policy:
    notes: list[str] = []
    if "nodeSelector" in raw and "endpointSelector" not in raw:
        notes.append("host policy (nodeSelector) not modelled")
        subject = _selector(
            {"matchLabels": {f"{CILIUM_RESERVED_PREFIX}host-policy-not-modelled": "true"}},
            (*path, "nodeSelector"),
            cilium=True,
        )
    else:
        subject = _selector(raw.get("endpointSelector"), (*path, "endpointSelector"), cilium=True)
    rules: list[Rule] = []
    present = {}
    for key, direction, deny in (
        ("ingress", INGRESS, False),
        ("ingressDeny", INGRESS, True),
        ("egress", EGRESS, False),
        ("egressDeny", EGRESS, True),
    ):
        entries = _list(raw.get(key), (*path, key), key)
        present[key] = bool(entries)
        for rule_index, entry in enumerate(entries):
            rules.append(
                _cilium_rule(ref, entry, (*path, key, rule_index), direction, deny, namespace, l7_allows)
            )
    default_deny = _mapping(raw.get("enableDefaultDeny"), (*path, "enableDefaultDeny"), "enableDefaultDeny")
    isolates_ingress = (present["ingress"] or present["ingressDeny"]) and default_deny.get(
        "ingress", CILIUM_DEFAULT_DENY
    ) is not False
    isolates_egress = (present["egress"] or present["egressDeny"]) and default_deny.get(
        "egress", CILIUM_DEFAULT_DENY
    ) is not False
    for rule in rules:
        notes.extend(f"{'.'.join(map(str, rule.path))}: {note}" for note in rule.unmodelled)
    return Policy(
        ref,
        subject,
        True,
        namespace,
        isolates_ingress,
        isolates_egress,
        tuple(rules),
        tuple(notes),
        path=path,
        manifest=manifest,
    )


def compile_cilium_policy(
    manifest: Mapping[str, Any], default_namespace: str = "default", *, l7_allows: bool = True
) -> list[Policy]:
    """Compile a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy (``spec`` and ``specs``).

    ``l7_allows``: whether ports guarded by L7 rules count as allowed (the connection is accepted,
    then requests are filtered: an over-approximation); ``False`` counts them as not allowed, for
    callers that need what a policy surely allows.
    """
    metadata = _mapping(manifest.get("metadata"), ("metadata",), "metadata")
    clusterwide = manifest.get("kind") == CILIUM_CLUSTERWIDE_NETWORK_POLICY
    namespace = "" if clusterwide else str(metadata.get("namespace") or default_namespace)
    ref = PolicyRef(str(manifest.get("kind")), namespace, str(metadata.get("name") or "(unnamed)"))
    blocks: list[tuple[Mapping[str, Any], Path]] = []
    if manifest.get("spec") is not None:
        blocks.append((_mapping(manifest["spec"], ("spec",), "spec"), ("spec",)))
    for index, spec in enumerate(_list(manifest.get("specs"), ("specs",), "specs")):
        blocks.append((_mapping(spec, ("specs", index), "a specs entry"), ("specs", index)))
    if not blocks:
        raise PolicyError(f"{manifest.get('kind')} needs spec or specs", ())
    return [_cilium_rule_block(ref, block, path, namespace, manifest, l7_allows) for block, path in blocks]


# ----------------------------------------------------------------- cluster-scoped tiers compile

_TIER_PEER_KEYS = ("namespaces", "pods", "nodes", "networks", "domainNames")
_V1ALPHA1_ACTIONS = {ALLOW: ACCEPT, DENY: DENY, PASS: PASS}
_V1ALPHA2_ACTIONS = {ACCEPT: ACCEPT, DENY: DENY, PASS: PASS}
#: a BaselineAdminNetworkPolicy beside Baseline-tier ClusterNetworkPolicies is evaluated after them
BASELINE_ADMIN_PRIORITY = TIER_PRIORITY_RANGE[1] + 1
#: the rule count the API server allows per direction (v1alpha1: 100, ClusterNetworkPolicy: 25)
_MAX_RULES = {ADMIN_NETWORK_POLICY: 100, BASELINE_ADMIN_NETWORK_POLICY: 100, CLUSTER_NETWORK_POLICY: 25}


def _namespaced_pod(raw: Any, path: Path, warnings: list[str]) -> tuple[Selector, Selector]:
    """``{namespaceSelector, podSelector}`` → (pod selector, namespace selector)."""
    entry = _mapping(raw, path, "pods")
    if "podSelector" not in entry:
        # the API server requires it; netpol-analyzer (and its corpus) read it as {}: so do we, and say so
        warnings.append(
            f"{'.'.join(map(str, path))}: podSelector is required (the API server rejects this); "
            "read as {}: every pod"
        )
    pods = _selector(entry.get("podSelector"), (*path, "podSelector"))
    namespaces = _selector(entry.get("namespaceSelector"), (*path, "namespaceSelector"))
    return pods, namespaces


def _tier_subject(raw: Any, path: Path, warnings: list[str]) -> tuple[Selector, Selector]:
    """(pod selector, namespace selector) of ``spec.subject``: exactly one of namespaces, pods."""
    subject = _mapping(raw, path, "subject")
    present = [key for key in ("namespaces", "pods") if subject.get(key) is not None]
    if len(present) != 1:
        raise PolicyError(
            "subject needs exactly one of namespaces, pods"
            + (f" (found {', '.join(present)})" if present else ""),
            path,
            hint="subject: {namespaces: {matchLabels: ...}} or {pods: {namespaceSelector: ..., podSelector: ...}}",
        )
    if present[0] == "namespaces":
        return MATCH_ALL, _selector(subject["namespaces"], (*path, "namespaces"))
    return _namespaced_pod(subject["pods"], (*path, "pods"), warnings)


def _tier_port_number(value: Any, path: Path, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{what} must be a number 1-65535", path)
    if not MIN_PORT <= value <= MAX_PORT:
        raise PolicyError(f"{what} {value} is outside 1-65535", path)
    return value


def _tier_protocol(value: Any, path: Path) -> str:
    protocol = str(value or TIER_PORT_PROTOCOL).upper()
    if protocol not in PROTOCOLS:
        raise PolicyError(f"protocol {value!r} is not TCP, UDP or SCTP", path)
    return protocol


def _v1alpha1_ports(raw: Any, path: Path) -> PortSpec:
    """``ports``: portNumber {protocol, port}, namedPort, portRange {protocol, start, end}."""
    if raw is None:
        return ALL_PORT_SPEC
    entries = _list(raw, path, "ports")
    if not entries:
        raise PolicyError(
            "ports, when given, needs at least one entry", path, hint="leave ports out for every port"
        )
    ranges: list[tuple[str, int, int]] = []
    named: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        where = (*path, index)
        entry = _mapping(entry, where, "a port entry")
        present = [key for key in ("portNumber", "namedPort", "portRange") if entry.get(key) is not None]
        if len(present) != 1:
            raise PolicyError("a port entry needs exactly one of portNumber, namedPort, portRange", where)
        key = present[0]
        at = (*where, key)
        if key == "namedPort":
            if not isinstance(entry[key], str) or not entry[key]:
                raise PolicyError("namedPort must be a port name", at)
            named.append(("ANY", entry[key]))
        elif key == "portNumber":
            number = _mapping(entry[key], at, "portNumber")
            port = _tier_port_number(number.get("port"), (*at, "port"), "port")
            ranges.append((_tier_protocol(number.get("protocol"), (*at, "protocol")), port, port))
        else:
            span = _mapping(entry[key], at, "portRange")
            start = _tier_port_number(span.get("start"), (*at, "start"), "start")
            end = _tier_port_number(span.get("end"), (*at, "end"), "end")
            if end < start:
                raise PolicyError(f"portRange end {end} is below start {start}", (*at, "end"))
            ranges.append((_tier_protocol(span.get("protocol"), (*at, "protocol")), start, end))
    return PortSpec(ConnectionSet.from_ranges(ranges), tuple(sorted(set(named))))


def _v1alpha2_protocols(raw: Any, path: Path) -> PortSpec:
    """``protocols``: tcp/udp/sctp {destinationPort: {number} | {range: {start, end}}}, destinationNamedPort."""
    if raw is None:
        return ALL_PORT_SPEC
    entries = _list(raw, path, "protocols")
    if not entries:
        raise PolicyError(
            "protocols, when given, needs at least one entry", path, hint="leave protocols out for every port"
        )
    ranges: list[tuple[str, int, int]] = []
    named: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        where = (*path, index)
        entry = _mapping(entry, where, "a protocols entry")
        present = [
            key for key in ("tcp", "udp", "sctp", "destinationNamedPort") if entry.get(key) is not None
        ]
        if len(present) != 1:
            raise PolicyError(
                "a protocols entry needs exactly one of tcp, udp, sctp, destinationNamedPort", where
            )
        key = present[0]
        at = (*where, key)
        if key == "destinationNamedPort":
            if not isinstance(entry[key], str) or not entry[key]:
                raise PolicyError("destinationNamedPort must be a port name", at)
            named.append(("ANY", entry[key]))
            continue
        protocol = key.upper()
        body = _mapping(entry[key], at, key)
        if body.get("destinationPort") is None:
            ranges.append((protocol, MIN_PORT, MAX_PORT))
            continue
        port = _mapping(body["destinationPort"], (*at, "destinationPort"), "destinationPort")
        port_at = (*at, "destinationPort")
        fields = [name for name in ("number", "range") if port.get(name) is not None]
        if len(fields) != 1:
            raise PolicyError("destinationPort needs exactly one of number, range", port_at)
        if fields[0] == "number":
            number = _tier_port_number(port["number"], (*port_at, "number"), "number")
            ranges.append((protocol, number, number))
        else:
            span = _mapping(port["range"], (*port_at, "range"), "range")
            start = _tier_port_number(span.get("start"), (*port_at, "range", "start"), "start")
            end = _tier_port_number(span.get("end"), (*port_at, "range", "end"), "end")
            if end <= start:
                raise PolicyError(f"range end {end} must be above start {start}", (*port_at, "range", "end"))
            ranges.append((protocol, start, end))
    return PortSpec(ConnectionSet.from_ranges(ranges), tuple(sorted(set(named))))


def _tier_peers(
    raw: Any, path: Path, action: str, ingress: bool, warnings: list[str]
) -> tuple[tuple[Peer, ...] | None, tuple[Path, ...], list[str]]:
    """(peers — None for "every peer" —, where each is, notes on what is not modelled)."""
    entries = _list(raw, path, "peers")
    if not entries:
        raise PolicyError(
            f"{'from' if ingress else 'to'} needs at least one peer",
            path,
            hint="namespaces: {} is every pod of every namespace",
        )
    peers: list[Peer] = []
    paths: list[Path] = []
    notes: list[str] = []
    every = False
    allowed_keys = ("namespaces", "pods") if ingress else _TIER_PEER_KEYS
    for index, entry in enumerate(entries):
        where = (*path, index)
        entry = _mapping(entry, where, "a peer")
        present = [key for key in entry if entry.get(key) is not None]
        known = [key for key in present if key in allowed_keys]
        if len(present) > 1:
            raise PolicyError(f"a peer takes exactly one field, found {', '.join(map(str, present))}", where)
        if not known:
            # the API's rule for a peer an implementation does not understand: fail closed
            what = f"peer field {present[0]!r}" if present else "a peer without fields"
            if action == ACCEPT:
                notes.append(
                    f"{'.'.join(map(str, where))}: {what} not understood: matches nothing (fails closed)"
                )
            else:
                notes.append(
                    f"{'.'.join(map(str, where))}: {what} not understood: matches every peer (fails closed)"
                )
                every = True
            continue
        key = known[0]
        at = (*where, key)
        if key == "namespaces":
            peers.append(PodPeer(MATCH_ALL, None, _selector(entry[key], at)))
        elif key == "pods":
            pod_selector, namespace_selector = _namespaced_pod(entry[key], at, warnings)
            peers.append(PodPeer(pod_selector, None, namespace_selector))
        elif key == "networks":
            cidrs = _list(entry[key], at, "networks")
            if not cidrs:
                raise PolicyError("networks needs at least one CIDR", at)
            try:
                addresses = IntervalSet(cidr_range(str(cidr)) for cidr in cidrs)
            except ValueError as exc:
                raise PolicyError(f"invalid CIDR: {exc}", at) from None
            peers.append(AddressPeer(addresses))
        else:
            notes.append(
                f"{'.'.join(map(str, at))}: {key} peers not modelled (they match no endpoint the engine knows)"
            )
            continue
        paths.append(at)
    if every:
        return None, (), notes
    return tuple(peers), tuple(paths), notes


def compile_tiered_policy(manifest: Mapping[str, Any]) -> Policy:
    """Compile a ClusterNetworkPolicy (v1alpha2, v1beta1), AdminNetworkPolicy or
    BaselineAdminNetworkPolicy (v1alpha1), checking what the API server's schema enforces."""
    kind = str(manifest.get("kind"))
    metadata = _mapping(manifest.get("metadata"), ("metadata",), "metadata")
    name = str(metadata.get("name") or "(unnamed)")
    ref = PolicyRef(kind, "", name)
    spec = _mapping(manifest.get("spec"), ("spec",), "spec")
    if not spec:
        raise PolicyError(f"{kind} needs a spec", ("spec",))
    notes: list[str] = []
    warnings: list[str] = []
    v1alpha1 = kind != CLUSTER_NETWORK_POLICY
    if kind == CLUSTER_NETWORK_POLICY:
        tier = spec.get("tier")
        if tier not in TIERS:
            raise PolicyError(
                f"tier {tier!r} is not one of {', '.join(TIERS)}",
                ("spec", "tier"),
                hint="Admin is evaluated before NetworkPolicies, Baseline after them",
            )
        tier = str(tier)
    else:
        tier = ADMIN_TIER if kind == ADMIN_NETWORK_POLICY else BASELINE_TIER
    if kind == BASELINE_ADMIN_NETWORK_POLICY:
        if name != BASELINE_ADMIN_NAME:
            raise PolicyError(
                f"a BaselineAdminNetworkPolicy must be named {BASELINE_ADMIN_NAME!r}, not {name!r}",
                ("metadata", "name"),
                hint="the API server accepts only one, named default",
            )
        priority = BASELINE_ADMIN_PRIORITY
        if "priority" in spec:
            raise PolicyError("a BaselineAdminNetworkPolicy has no priority", ("spec", "priority"))
    else:
        raw_priority = spec.get("priority")
        low, high = TIER_PRIORITY_RANGE
        if (
            isinstance(raw_priority, bool)
            or not isinstance(raw_priority, int)
            or not low <= raw_priority <= high
        ):
            raise PolicyError(
                f"priority must be a whole number {low}-{high}, not {raw_priority!r}",
                ("spec", "priority"),
                hint="lower values are evaluated first",
            )
        priority = raw_priority
    pod_selector, namespace_selector = _tier_subject(spec.get("subject"), ("spec", "subject"), warnings)
    actions = _V1ALPHA1_ACTIONS if v1alpha1 else _V1ALPHA2_ACTIONS
    if kind == BASELINE_ADMIN_NETWORK_POLICY:
        actions = {ALLOW: ACCEPT, DENY: DENY}
    rules: list[Rule] = []
    for direction, key, peer_key in ((INGRESS, "ingress", "from"), (EGRESS, "egress", "to")):
        entries = _list(spec.get(key), ("spec", key), key)
        if len(entries) > _MAX_RULES[kind]:
            raise PolicyError(
                f"{key} holds {len(entries)} rules; the API allows {_MAX_RULES[kind]}", ("spec", key)
            )
        for index, raw in enumerate(entries):
            where: Path = ("spec", key, index)
            raw = _mapping(raw, where, f"an {key} rule")
            raw_action = raw.get("action")
            if raw_action not in actions:
                raise PolicyError(
                    f"action {raw_action!r} is not one of {', '.join(actions)}",
                    (*where, "action"),
                )
            action = actions[str(raw_action)]
            peers, peer_paths, peer_notes = _tier_peers(
                raw.get(peer_key), (*where, peer_key), action, direction == INGRESS, warnings
            )
            if v1alpha1:
                ports = _v1alpha1_ports(raw.get("ports"), (*where, "ports"))
            else:
                ports = _v1alpha2_protocols(raw.get("protocols"), (*where, "protocols"))
            rule_name = raw.get("name")
            rules.append(
                Rule(
                    ref,
                    direction,
                    action == DENY,
                    peers,
                    ports,
                    where,
                    tuple(peer_notes),
                    peer_paths,
                    action=action,
                    name=str(rule_name) if rule_name else "",
                    tier=tier,
                    priority=priority,
                )
            )
            notes.extend(f"{'.'.join(map(str, where))}: {note.split(': ', 1)[-1]}" for note in peer_notes)
    return Policy(
        ref,
        pod_selector,
        False,
        "",
        False,
        False,
        (),
        tuple(notes),
        manifest=manifest,
        tier=tier,
        priority=priority,
        subject_namespaces=namespace_selector,
        tier_rules=tuple(rules),
        warnings=tuple(warnings),
    )


def compile_policy(
    manifest: Mapping[str, Any], default_namespace: str = "default", *, l7_allows: bool = True
) -> list[Policy]:
    """Compile any supported policy manifest; raises :class:`PolicyError` on nonsense.

    ``l7_allows`` as in :func:`compile_cilium_policy` (NetworkPolicy has no L7 rules).
    """
    kind = manifest.get("kind")
    if kind == NETWORK_POLICY:
        return [compile_network_policy(manifest, default_namespace)]
    if kind in (CILIUM_NETWORK_POLICY, CILIUM_CLUSTERWIDE_NETWORK_POLICY):
        return compile_cilium_policy(manifest, default_namespace, l7_allows=l7_allows)
    if kind in TIERED_POLICY_KINDS and is_compiled(manifest):
        return [compile_tiered_policy(manifest)]
    raise PolicyError(f"not a network policy: kind {kind!r}", ("kind",))


class PolicyCompiler:
    """Compiles policy manifests, each manifest object once (a run that builds several models of
    mostly the same objects - before and after a change - compiles every object one time)."""

    def __init__(self, *, l7_allows: bool = True) -> None:
        self.l7_allows = l7_allows
        # keyed by identity; the manifest is kept so that its id cannot be reused
        self._compiled: dict[int, tuple[Mapping[str, Any], str, list[Policy]]] = {}

    def __call__(self, manifest: Mapping[str, Any], default_namespace: str = "default") -> list[Policy]:
        """:func:`compile_policy`, remembered for this manifest object."""
        entry = self._compiled.get(id(manifest))
        if entry is not None and entry[0] is manifest and entry[1] == default_namespace:
            return entry[2]
        policies = compile_policy(manifest, default_namespace, l7_allows=self.l7_allows)
        self._compiled[id(manifest)] = (manifest, default_namespace, policies)
        return policies


__all__ = [
    "ALL_ADDRESSES",
    "EGRESS",
    "INGRESS",
    "RESERVED_ENTITIES",
    "AddressPeer",
    "CiliumEndpointPeer",
    "EntityPeer",
    "Peer",
    "PodPeer",
    "Policy",
    "PolicyCompiler",
    "PolicyError",
    "PolicyRef",
    "PortSpec",
    "Rule",
    "compile_policy",
    "compile_tiered_policy",
    "is_compiled",
]
