"""Does the pipeline's policy allow traffic that the UI-editor policies on the same pods do not?

Network policies add up: a pod isolated by several policies accepts the union of what they
allow. So a broad policy from the values file silently re-opens what a narrow UI policy meant to
close. This is a structural check, not a connectivity analysis: both policies are reduced to
"allowances" (direction, peer, port) and each allowance of the pipeline's policy is looked for in
the UI policies' allowances, where a peer or port may be covered by a broader one (an empty
selector, a selector with fewer requirements, a larger CIDR, "any port"). Every "covered" answer
is sound; "not covered" may be conservative (for example two differently written selectors that
happen to select the same pods).

NetworkPolicy and CiliumNetworkPolicy are reduced to the same model (Cilium enforces both and
adds them up too): endpoint selectors of a namespaced CiliumNetworkPolicy select pods of its own
namespace unless they name the namespace label; a port without protocol is TCP for a
NetworkPolicy and ANY for Cilium.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .classify import is_disabled_in_ui, selector_of

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
CILIUM_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
CILIUM_SOURCES = ("k8s:", "any:", "reserved:", "container:", "unspec:")
ANY_PROTOCOL = "ANY"

INGRESS, EGRESS = "ingress", "egress"


@dataclass(frozen=True, order=True)
class Requirement:
    """One label requirement of a selector: ``key In (a, b)``, ``key Exists`` ..."""

    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: frozenset[str] = frozenset()

    def __str__(self) -> str:
        if self.operator == "In" and len(self.values) == 1:
            return f"{self.key}={next(iter(self.values))}"
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{self.key} {self.operator}"
        return f"{self.key} {self.operator} ({', '.join(sorted(self.values))})"


Selector = frozenset[Requirement]


def _bare_key(key: str) -> str:
    for source in CILIUM_SOURCES:
        if key.startswith(source):
            return key[len(source) :]
    return key


def parse_selector(selector: Any) -> Selector | None:
    """Requirements of a label selector; None when it is not a selector this check understands."""
    if selector is None:
        return frozenset()
    if not isinstance(selector, Mapping):
        return None
    requirements: set[Requirement] = set()
    labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(labels, Mapping) or not isinstance(expressions, list):
        return None
    for key, value in labels.items():
        requirements.add(Requirement(_bare_key(str(key)), "In", frozenset({str(value)})))
    for expression in expressions:
        if not isinstance(expression, Mapping) or expression.get("operator") not in (
            "In",
            "NotIn",
            "Exists",
            "DoesNotExist",
        ):
            return None
        values = frozenset(str(v) for v in expression.get("values") or [])
        requirements.add(
            Requirement(_bare_key(str(expression.get("key"))), str(expression["operator"]), values)
        )
    return frozenset(requirements)


@dataclass
class _KeyConstraint:
    allowed: frozenset[str] | None = None  # None: any value
    forbidden: frozenset[str] = frozenset()
    exists: bool = False
    absent: bool = False

    def add(self, requirement: Requirement) -> None:
        if requirement.operator == "In":
            self.allowed = requirement.values if self.allowed is None else self.allowed & requirement.values
        elif requirement.operator == "NotIn":
            self.forbidden |= requirement.values
        elif requirement.operator == "Exists":
            self.exists = True
        else:
            self.absent = True

    def satisfiable(self) -> bool:
        if self.absent and (self.exists or self.allowed is not None):
            return False
        return self.allowed is None or bool(self.allowed - self.forbidden)


def _constraints(selector: Iterable[Requirement]) -> dict[str, _KeyConstraint]:
    out: dict[str, _KeyConstraint] = {}
    for requirement in selector:
        out.setdefault(requirement.key, _KeyConstraint()).add(requirement)
    return out


def disjoint(a: Selector, b: Selector) -> bool:
    """True when no set of labels can satisfy both selectors (they select different pods)."""
    return not all(c.satisfiable() for c in _constraints(a | b).values())


def _implies(constraint: _KeyConstraint | None, requirement: Requirement) -> bool:
    """Does every label value allowed by ``constraint`` satisfy ``requirement``?"""
    if constraint is None:
        return False
    allowed = None if constraint.allowed is None else constraint.allowed - constraint.forbidden
    if requirement.operator == "In":
        return allowed is not None and allowed <= requirement.values
    if requirement.operator == "NotIn":
        if constraint.absent:
            return True
        if allowed is not None:
            return not (allowed & requirement.values)
        return requirement.values <= constraint.forbidden
    if requirement.operator == "Exists":
        return allowed is not None or constraint.exists
    return constraint.absent


def subsumes(broad: Selector, narrow: Selector) -> bool:
    """True when ``broad`` selects at least everything ``narrow`` selects (sound, not complete)."""
    constraints = _constraints(narrow)
    return all(_implies(constraints.get(r.key), r) for r in broad)


def _selector_text(selector: Selector) -> str:
    return ", ".join(str(r) for r in sorted(selector)) or "any"


@dataclass(frozen=True)
class Peer:
    """Who is on the other end: pods (by namespace and pod selectors), a CIDR, an entity, anything."""

    kind: str  # any | pods | cidr | entity | other
    namespaces: Selector = frozenset()
    pods: Selector = frozenset()
    cidr: str = ""
    excepts: tuple[str, ...] = ()
    text: str = ""

    def __str__(self) -> str:
        if self.kind == "any":
            return "anywhere"
        if self.kind == "pods":
            pods = f"pods ({_selector_text(self.pods)})" if self.pods else "every pod"
            names = [r for r in self.namespaces if r.key == NAMESPACE_NAME_LABEL and r.operator == "In"]
            if len(self.namespaces) == 1 and names and len(names[0].values) == 1:
                return f"{pods} in namespace {next(iter(names[0].values))}"
            if not self.namespaces:
                return f"{pods} in every namespace"
            return f"{pods} in namespaces ({_selector_text(self.namespaces)})"
        if self.kind == "cidr":
            return f"{self.cidr}" + (f" except {', '.join(self.excepts)}" if self.excepts else "")
        return self.text


ANY_PEER = Peer("any")


@dataclass(frozen=True)
class Port:
    """A port range (``number`` None: every port) or a named port, with a protocol (ANY for Cilium)."""

    protocol: str = ANY_PROTOCOL
    number: int | None = None
    end: int | None = None
    name: str = ""
    l7: str = ""  # Cilium L7 rules, compared as written

    def __str__(self) -> str:
        if self.name:
            where = self.name
        elif self.number is None:
            where = "any port"
        else:
            where = f"{self.number}" + (f"-{self.end}" if self.end and self.end != self.number else "")
        proto = "" if self.protocol == ANY_PROTOCOL else f"{self.protocol}/"
        return f"{proto}{where}" + (" (with L7 rules)" if self.l7 else "")


ANY_PORT = Port()


@dataclass(frozen=True)
class Allowance:
    """One thing a policy allows: traffic in ``direction`` with ``peer`` on ``port``."""

    direction: str
    peer: Peer
    port: Port

    def __str__(self) -> str:
        preposition = "from" if self.direction == INGRESS else "to"
        return f"{self.direction} {preposition} {self.peer} on {self.port}"


@dataclass(frozen=True)
class PolicyModel:
    """What one policy does, reduced for the structural check."""

    kind: str
    name: str
    selects: Selector | None  # None: selects nothing (disabled in the UI) or not understood
    isolates: frozenset[str]
    allowances: tuple[Allowance, ...]
    #: Parts of the policy the model could not read (reported, never silently dropped).
    unread: tuple[str, ...] = ()
    has_deny: bool = False
    disabled: bool = False  # switched off in GitLab's UI


def _seq(value: Any, where: str, unread: list[str]) -> list[Any]:
    """A list field as a list; anything else that is not empty is noted as unread (never a crash)."""
    if isinstance(value, list):
        return value
    if value:
        unread.append(where)
    return []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _namespace_selector_for(namespace: str) -> Selector:
    return frozenset({Requirement(NAMESPACE_NAME_LABEL, "In", frozenset({namespace}))})


def _int_port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _port(raw: Any, default_protocol: str, l7: str = "") -> Port | None:
    if not isinstance(raw, Mapping):
        return None
    protocol = str(raw.get("protocol") or default_protocol).upper()
    value = raw.get("port")
    end = _int_port(raw.get("endPort"))
    number = _int_port(value)
    if value is None or number == 0:  # Cilium: port 0 / absent means every port
        return Port(protocol, None, None, "", l7)
    if number is None:
        return Port(protocol, None, None, str(value), l7)
    return Port(protocol, number, end or number, "", l7)


def _network_policy_peer(raw: Any, namespace: str) -> Peer | None:
    if not isinstance(raw, Mapping):
        return None
    if "ipBlock" in raw:
        block = raw["ipBlock"] if isinstance(raw["ipBlock"], Mapping) else {}
        return Peer("cidr", cidr=str(block.get("cidr", "")), excepts=_strings(block.get("except")))
    pods = parse_selector(raw.get("podSelector")) if "podSelector" in raw else frozenset()
    if "namespaceSelector" in raw:
        namespaces = parse_selector(raw.get("namespaceSelector"))
    else:
        namespaces = _namespace_selector_for(namespace)
    if pods is None or namespaces is None:
        return None
    return Peer("pods", namespaces=namespaces, pods=pods)


def _network_policy(obj: Mapping[str, Any], namespace: str) -> PolicyModel:
    raw_spec = obj.get("spec")
    spec: Mapping[str, Any] = raw_spec if isinstance(raw_spec, Mapping) else {}
    allowances: list[Allowance] = []
    unread: list[str] = []
    types = _seq(spec.get("policyTypes"), "spec.policyTypes", unread) or (
        [INGRESS.title()] + ([EGRESS.title()] if spec.get("egress") else [])
    )
    isolates = frozenset(str(t).lower() for t in types)
    for direction, peers_key in ((INGRESS, "from"), (EGRESS, "to")):
        for index, rule in enumerate(_seq(spec.get(direction), f"spec.{direction}", unread)):
            at = f"spec.{direction}[{index}]"
            if not isinstance(rule, Mapping):
                unread.append(at)
                continue
            peers: list[Peer] = []
            raw_peers = _seq(rule.get(peers_key), f"{at}.{peers_key}", unread)
            for raw in raw_peers:
                peer = _network_policy_peer(raw, namespace)
                if peer is None:
                    unread.append(f"{at}.{peers_key}")
                else:
                    peers.append(peer)
            ports = [_port(raw, "TCP") for raw in _seq(rule.get("ports"), f"{at}.ports", unread)]
            if any(p is None for p in ports):
                unread.append(f"{at}.ports")
            allowances.extend(
                Allowance(direction, peer, port)
                for peer in (peers or ([ANY_PEER] if not raw_peers else []))
                for port in ([p for p in ports if p] or [ANY_PORT])
            )
    return PolicyModel(
        str(obj.get("kind")),
        _name(obj),
        _selects(obj),
        isolates,
        tuple(allowances),
        tuple(unread),
        disabled=is_disabled_in_ui(obj),
    )


def _cilium_endpoint_peer(raw: Any, namespace: str) -> Peer | None:
    selector = parse_selector(raw)
    if selector is None:
        return None
    namespaced = {r for r in selector if r.key == CILIUM_NAMESPACE_LABEL}
    pods = selector - namespaced
    namespaces = (
        frozenset(Requirement(NAMESPACE_NAME_LABEL, r.operator, r.values) for r in namespaced)
        if namespaced
        else _namespace_selector_for(namespace)
    )
    return Peer("pods", namespaces=namespaces, pods=pods)


_CILIUM_L3 = {
    INGRESS: (
        "fromEndpoints",
        "fromCIDR",
        "fromCIDRSet",
        "fromEntities",
        "fromRequires",
        "fromGroups",
        "fromNodes",
    ),
    EGRESS: (
        "toEndpoints",
        "toCIDR",
        "toCIDRSet",
        "toEntities",
        "toRequires",
        "toFQDNs",
        "toServices",
        "toGroups",
        "toNodes",
    ),
}


def _cilium_rule_peers(
    rule: Mapping[str, Any], direction: str, namespace: str, unread: list[str], where: str
) -> list[Peer]:
    peers: list[Peer] = []
    for key in _CILIUM_L3[direction]:
        for raw in _seq(rule.get(key), f"{where}.{key}", unread):
            peer: Peer | None
            if key in ("fromEndpoints", "toEndpoints"):
                peer = _cilium_endpoint_peer(raw, namespace)
            elif key in ("fromCIDR", "toCIDR"):
                peer = Peer("cidr", cidr=str(raw))
            elif key in ("fromCIDRSet", "toCIDRSet") and isinstance(raw, Mapping) and "cidr" in raw:
                peer = Peer("cidr", cidr=str(raw["cidr"]), excepts=_strings(raw.get("except")))
            elif key in ("fromEntities", "toEntities"):
                peer = ANY_PEER if str(raw) == "all" else Peer("entity", text=f"entity {raw}")
            else:
                peer = Peer("other", text=f"{key} {raw}")
            if peer is None:
                unread.append(f"{where}.{key}")
            else:
                peers.append(peer)
    return peers


def _cilium_rule_ports(rule: Mapping[str, Any], unread: list[str], where: str) -> list[Port]:
    ports: list[Port] = []
    for index, entry in enumerate(_seq(rule.get("toPorts"), f"{where}.toPorts", unread)):
        if not isinstance(entry, Mapping):
            unread.append(f"{where}.toPorts[{index}]")
            continue
        l7 = repr(entry.get("rules")) if entry.get("rules") else ""
        raw_ports = _seq(entry.get("ports"), f"{where}.toPorts[{index}].ports", unread) or [{}]
        for raw in raw_ports:
            port = _port(raw, ANY_PROTOCOL, l7)
            if port is None:
                unread.append(f"{where}.toPorts[{index}].ports")
            else:
                ports.append(port)
    return ports


def _cilium_policy(obj: Mapping[str, Any], namespace: str) -> PolicyModel:
    rules = []
    unread: list[str] = []
    if isinstance(obj.get("spec"), Mapping):
        rules.append(("spec", obj["spec"]))
    for index, rule in enumerate(_seq(obj.get("specs"), "specs", unread)):
        if isinstance(rule, Mapping):
            rules.append((f"specs[{index}]", rule))
    isolates: set[str] = set()
    allowances: list[Allowance] = []
    has_deny = False
    for where, rule in rules:
        has_deny = has_deny or bool(rule.get("ingressDeny") or rule.get("egressDeny"))
        for direction in (INGRESS, EGRESS):
            sections = rule.get(direction)
            if sections is None and rule.get(f"{direction}Deny") is None:
                continue
            isolates.add(direction)
            for index, section in enumerate(_seq(sections, f"{where}.{direction}", unread)):
                at = f"{where}.{direction}[{index}]"
                if not isinstance(section, Mapping):
                    unread.append(at)
                    continue
                peers = _cilium_rule_peers(section, direction, namespace, unread, at)
                ports = _cilium_rule_ports(section, unread, at)
                has_l3 = any(section.get(key) for key in _CILIUM_L3[direction])
                if not has_l3 and not ports:
                    continue  # an empty rule allows nothing (it only turns enforcement on)
                allowances.extend(
                    Allowance(direction, peer, port)
                    for peer in (peers if has_l3 else [ANY_PEER])
                    for port in (ports or [ANY_PORT])
                )
    return PolicyModel(
        str(obj.get("kind")),
        _name(obj),
        _selects(obj),
        frozenset(isolates),
        tuple(allowances),
        tuple(unread),
        has_deny,
        disabled=is_disabled_in_ui(obj),
    )


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _selects(obj: Mapping[str, Any]) -> Selector | None:
    if is_disabled_in_ui(obj):
        return None
    return parse_selector(selector_of(obj))


def policy_model(obj: Mapping[str, Any], namespace: str) -> PolicyModel:
    """Reduce a NetworkPolicy or CiliumNetworkPolicy manifest to allowances."""
    if obj.get("kind") == "CiliumNetworkPolicy":
        return _cilium_policy(obj, namespace)
    return _network_policy(obj, namespace)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _within(inner: Network, outer: Network) -> bool:
    return (
        inner.version == outer.version
        and int(outer.network_address) <= int(inner.network_address)
        and int(inner.broadcast_address) <= int(outer.broadcast_address)
    )


def _cidr_covers(broad: Peer, narrow: Peer) -> bool:
    outer, inner = _network(broad.cidr), _network(narrow.cidr)
    if outer is None or inner is None or not _within(inner, outer):
        return False
    inner_excepts = [n for n in (_network(e) for e in narrow.excepts) if n is not None]
    for text in broad.excepts:
        hole = _network(text)
        if hole is None:
            return False
        # A hole in the broad block that cuts into the narrow block, unless the narrow block
        # leaves that part out too.
        if (
            hole.version == inner.version
            and hole.overlaps(inner)
            and not any(_within(hole, e) for e in inner_excepts)
        ):
            return False
    return True


def peer_covers(broad: Peer, narrow: Peer) -> bool:
    """True when every endpoint ``narrow`` names is also named by ``broad``."""
    if broad.kind == "any":
        return True
    if broad.kind != narrow.kind:
        return False
    if broad.kind == "pods":
        return subsumes(broad.namespaces, narrow.namespaces) and subsumes(broad.pods, narrow.pods)
    if broad.kind == "cidr":
        return _cidr_covers(broad, narrow)
    return broad == narrow


def port_covers(broad: Port, narrow: Port) -> bool:
    """True when every connection on ``narrow`` is also one on ``broad``."""
    if broad.l7 and broad.l7 != narrow.l7:
        return False  # the broad side filters requests that the narrow side lets through
    if broad.protocol != ANY_PROTOCOL and broad.protocol != narrow.protocol:
        return False
    if broad.name or narrow.name:
        return (broad.number is None and not broad.name) or broad.name == narrow.name
    if broad.number is None:
        return True
    if narrow.number is None:
        return False
    return broad.number <= narrow.number and (narrow.end or narrow.number) <= (broad.end or broad.number)


def allowance_covered(allowance: Allowance, by: Iterable[Allowance]) -> bool:
    """True when some allowance in ``by`` (same direction) covers ``allowance``."""
    return any(
        other.direction == allowance.direction
        and peer_covers(other.peer, allowance.peer)
        and port_covers(other.port, allowance.port)
        for other in by
    )


@dataclass(frozen=True)
class WideningVerdict:
    """How the pipeline's policy relates to one UI-editor policy."""

    pipeline: str  # "Kind/name" of the pipeline's policy
    ui_policy: str  # "Kind/name" of the UI policy
    overlaps: bool  # both select (possibly) the same pods
    widens: bool
    #: Allowances of the pipeline's policy the UI policies on the same pods do not grant.
    widened: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One sentence for reports."""
        if not self.overlaps:
            return f"{self.ui_policy}: selects different pods; the policies do not add up"
        if self.widens:
            return f"{self.ui_policy}: {self.pipeline} WIDENS what it allows: " + "; ".join(self.widened)
        return f"{self.ui_policy}: {self.pipeline} allows nothing beyond it"


def compare_with_ui(
    pipeline_obj: Mapping[str, Any],
    ui_objs: Sequence[Mapping[str, Any] | PolicyModel],
    namespace: str,
) -> list[WideningVerdict]:
    """Compare one pipeline policy with each active UI-editor policy in the namespace.

    For a UI policy that selects overlapping pods, an allowance of the pipeline's policy widens
    it when neither that UI policy nor any other overlapping UI policy isolating the same
    direction grants it (policies add up, so the UI policies are judged together). ``ui_objs``
    may be models already made with :func:`policy_model` (one namespace, many pipeline policies).
    """
    pipeline = policy_model(pipeline_obj, namespace)
    pipeline_name = f"{pipeline.kind}/{pipeline.name}"
    models = [o if isinstance(o, PolicyModel) else policy_model(o, namespace) for o in ui_objs]
    overlapping = [
        m
        for m in models
        if m.selects is not None
        and pipeline.selects is not None
        and not disjoint(m.selects, pipeline.selects)
    ]
    granted = [a for m in overlapping for a in m.allowances]
    verdicts = []
    for model in models:
        notes = []
        if pipeline.unread or model.unread:
            notes.append("not read: " + ", ".join((*pipeline.unread, *model.unread)))
        if model.has_deny:
            notes.append(f"{model.name} has deny rules, which win over any allow")
        if model.selects is None:
            notes.append(
                "selects nothing (disabled in the UI)" if model.disabled else "its selector could not be read"
            )
        if model not in overlapping:
            verdicts.append(
                WideningVerdict(pipeline_name, f"{model.kind}/{model.name}", False, False, notes=tuple(notes))
            )
            continue
        widened = []
        for direction in sorted(pipeline.isolates & model.isolates):
            for allowance in pipeline.allowances:
                if allowance.direction != direction or allowance_covered(allowance, granted):
                    continue
                widened.append(str(allowance))
        for direction in sorted(pipeline.isolates - model.isolates):
            notes.append(f"{model.name} does not restrict {direction}; {pipeline.name} does")
        verdicts.append(
            WideningVerdict(
                pipeline_name,
                f"{model.kind}/{model.name}",
                True,
                bool(widened),
                tuple(dict.fromkeys(widened)),
                tuple(notes),
            )
        )
    return verdicts
