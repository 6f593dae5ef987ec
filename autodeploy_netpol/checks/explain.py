"""Plain words for a policy: which pods it selects, what it lets in and out, what it drops.

"pods app=web in namespace shop accept TCP 8080 from pods app=api in the same namespace and
from all pods in namespaces app.gitlab.com/managed_by=gitlab; all other inbound traffic is
dropped (unless another policy selecting them allows it)."
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..kube.defaults import (
    ACCEPT,
    ADMIN_TIER,
    BASELINE_TIER,
    CILIUM_NAMESPACE_LABEL,
    CILIUM_RESERVED_PREFIX,
    DENY,
    PASS,
    TIER_PRIORITY_RANGE,
)
from ..policy.endpoints import Endpoint
from ..policy.engine import Model
from ..policy.intervals import format_ip_range
from ..policy.policies import (
    EGRESS,
    INGRESS,
    AddressPeer,
    CiliumEndpointPeer,
    EntityPeer,
    Peer,
    PodPeer,
    Policy,
    PortSpec,
    Rule,
)
from ..policy.selectors import EXISTS, IN, Requirement, Selector


@dataclass(frozen=True)
class PolicyExplanation:
    policy: str
    kind: str
    selects: tuple[str, ...]  # workloads in the input the policy applies to
    sentences: tuple[str, ...]


def _join(parts: Sequence[str], repeat: str = "") -> str:
    """``a``, ``a and b``, ``a, b and c``; ``repeat`` is put again before every later part."""
    if len(parts) <= 1:
        return "".join(parts)
    later = [repeat + part for part in parts[1:]]
    return ", ".join([parts[0], *later[:-1]]) + " and " + later[-1]


def _labels(selector: Selector) -> str:
    return selector.describe()


def _cilium_scope(selector: Selector, namespace: str) -> tuple[Selector, str]:
    """Split the namespace requirement Cilium adds back out of an endpoint selector."""
    rest: list[Requirement] = []
    scope = ""
    for requirement in selector.requirements:
        if (
            requirement.key == CILIUM_NAMESPACE_LABEL
            and requirement.operator == IN
            and len(requirement.values) == 1
        ):
            scope = (
                "the same namespace"
                if requirement.values[0] == namespace
                else f"namespace {requirement.values[0]}"
            )
        elif requirement.key == CILIUM_NAMESPACE_LABEL and requirement.operator == EXISTS:
            scope = "any namespace"
        else:
            rest.append(requirement)
    return Selector(tuple(rest)), scope or "any namespace"


def describe_peer(peer: Peer, namespace: str) -> str:
    if isinstance(peer, PodPeer):
        pods = "all pods" if peer.pod_selector.selects_all else f"pods {_labels(peer.pod_selector)}"
        if peer.namespace is not None:
            return f"{pods} in the same namespace"
        assert peer.namespace_selector is not None
        if peer.namespace_selector.selects_all:
            return f"{pods} in every namespace"
        return f"{pods} in namespaces {_labels(peer.namespace_selector)}"
    if isinstance(peer, CiliumEndpointPeer):
        selector, scope = _cilium_scope(peer.selector, namespace)
        reserved = [
            r.key.removeprefix(CILIUM_RESERVED_PREFIX)
            for r in selector.requirements
            if r.key.startswith(CILIUM_RESERVED_PREFIX)
        ]
        if reserved:
            return f"entity {', '.join(reserved)}"
        endpoints = "all endpoints" if selector.selects_all else f"endpoints {_labels(selector)}"
        return f"{endpoints} in {scope}"
    if isinstance(peer, AddressPeer):
        ranges = [format_ip_range(lo, hi) for lo, hi in peer.addresses]
        return f"addresses {', '.join(ranges)}" if ranges else "no address"
    if isinstance(peer, EntityPeer):
        return f"{'entity' if len(peer.entities) == 1 else 'entities'} {', '.join(sorted(peer.entities))}"
    return str(peer)


def describe_ports(ports: PortSpec) -> str:
    if ports.is_all:
        return "all traffic"
    return ports.describe()


def describe_rule(rule: Rule, namespace: str) -> str:
    if rule.peers is None:
        peers = "anywhere"
    elif not rule.peers:
        peers = "nobody"
    else:
        peers = _join(
            [describe_peer(peer, namespace) for peer in rule.peers],
            "from " if rule.direction == INGRESS else "",
        )
    ports = describe_ports(rule.ports)
    if rule.direction == INGRESS:
        verb = "drop" if rule.deny else "accept"
        text = f"{verb} {ports} from {peers}"
    else:
        text = f"{'may not send' if rule.deny else 'may send'} {ports} to {peers}"
    if rule.unmodelled:
        text += f" [{'; '.join(rule.unmodelled)}]"
    return text


def _subject(policy: Policy) -> str:
    if policy.cilium:
        selector, _ = _cilium_scope(policy.subject, policy.namespace)
        noun = "endpoints"
    else:
        selector, noun = policy.subject, "pods"
    where = f"in namespace {policy.namespace}" if policy.namespace else "in every namespace"
    if selector.selects_all:
        return f"every {noun[:-1]} {where}"
    return f"{noun} {_labels(selector)} {where}"


_ACTION_VERBS = {ACCEPT: "accepts", DENY: "denies", PASS: "passes on"}
_NEXT_LAYER = {
    ADMIN_TIER: "to the NetworkPolicies, then the Baseline tier",
    BASELINE_TIER: "and is allowed: nothing comes after the Baseline tier",
}


def _tier_subject(policy: Policy) -> str:
    pods = "every pod" if policy.subject.selects_all else f"pods {_labels(policy.subject)}"
    scope = policy.subject_namespaces
    if scope is None or scope.selects_all:
        return f"{pods} in every namespace"
    return f"{pods} in namespaces {_labels(scope)}"


def describe_tier_rule(rule: Rule) -> str:
    """``'deny-slytherin' denies all traffic from pods … in namespaces …`` (first match wins)."""
    if rule.peers is None:
        peers = "anywhere"
    elif not rule.peers:
        peers = "nobody"
    else:
        peers = _join([describe_peer(peer, "") for peer in rule.peers])
    name = f"{rule.name!r}" if rule.name else ".".join(str(step) for step in rule.path[1:])
    towards = "from" if rule.direction == INGRESS else "to"
    text = f"{name} {_ACTION_VERBS.get(rule.action, rule.action)} {describe_ports(rule.ports)} {towards} {peers}"
    if rule.action == PASS:
        text += f" ({_NEXT_LAYER.get(rule.tier, 'to the next layer')})"
    if rule.unmodelled:
        text += f" [{'; '.join(rule.unmodelled)}]"
    return text


def _tier_sentences(policy: Policy) -> list[str]:
    """A cluster-scoped tier policy: its place, and per direction its rules in the order they are
    tried (the first that matches decides; traffic none matches goes on to the next policy)."""
    place = f"{policy.tier} tier"
    if policy.priority <= TIER_PRIORITY_RANGE[1]:  # a BaselineAdminNetworkPolicy has none
        place += f", priority {policy.priority}"
    if policy.tier == BASELINE_TIER:
        place += " (after every NetworkPolicy)"
    subject = _tier_subject(policy)
    sentences: list[str] = []
    for direction, word in ((INGRESS, "inbound"), (EGRESS, "outbound")):
        rules = [rule for rule in policy.tier_rules if rule.direction == direction]
        if not rules:
            continue
        after = (
            "the Admin policies after it, then the NetworkPolicies and the Baseline tier"
            if policy.tier == ADMIN_TIER
            else "the Baseline policies after it; if none matches, it is allowed"
        )
        sentences.append(
            f"{place}: {word} traffic of {subject}, first matching rule decides: "
            f"{'; '.join(describe_tier_rule(rule) for rule in rules)}. Other {word} traffic is decided by {after}."
        )
    if not sentences:
        sentences.append(f"{place}: {subject}: this policy has no rule, it decides nothing.")
    return [sentence[0].upper() + sentence[1:] for sentence in sentences]


def explain_policy(policy: Policy, selects: Sequence[str] = ()) -> PolicyExplanation:
    """Sentences for one compiled policy."""
    subject = _subject(policy)
    sentences: list[str] = _tier_sentences(policy) if policy.tier else []
    for direction, isolates, word in (
        (INGRESS, policy.isolates_ingress, "inbound"),
        (EGRESS, policy.isolates_egress, "outbound"),
    ):
        if policy.tier:
            break  # said above, in evaluation order
        rules = [rule for rule in policy.rules if rule.direction == direction]
        allows = [describe_rule(rule, policy.namespace) for rule in rules if not rule.deny]
        denies = [describe_rule(rule, policy.namespace) for rule in rules if rule.deny]
        if not isolates and not rules:
            continue
        parts = []
        if allows:
            parts.append("; ".join(allows))
        if denies:
            parts.append(("but always " if allows else "") + "; ".join(denies))
        verb_phrase = "; ".join(parts)
        if isolates:
            other = "other " if allows else ""
            rest = f"all {other}{word} traffic is dropped (unless another policy selecting them allows it)"
            sentence = f"{subject}: {verb_phrase}; {rest}." if verb_phrase else f"{subject}: {rest}."
        else:
            sentence = (
                f"{subject}: {verb_phrase} ({word} traffic is otherwise not restricted by this policy)."
            )
        sentences.append(sentence[0].upper() + sentence[1:])
    if not sentences:
        sentences.append(f"{subject[0].upper() + subject[1:]}: this policy restricts nothing.")
    if selects:
        sentences.append(f"Applies to: {', '.join(selects)}.")
    else:
        sentences.append("Applies to no workload found in the input.")
    sentences.extend(f"Not modelled: {note}." for note in policy.notes)
    return PolicyExplanation(str(policy.ref), policy.ref.kind, tuple(selects), tuple(sentences))


def explain_model(model: Model) -> list[PolicyExplanation]:
    """An explanation for each policy of the model, with the workloads it selects."""
    explanations = []
    for policy in model.policies:
        selects = []
        for workload in model.workloads:
            endpoint = Endpoint.pod(workload.namespace, workload.label_map, workload.named_ports)
            if policy in model.policies_for(endpoint) and workload.qualified_name not in selects:
                selects.append(workload.qualified_name)
        explanations.append(explain_policy(policy, selects))
    return explanations
