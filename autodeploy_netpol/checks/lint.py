"""Lint: policy mistakes that connectivity makes visible, each a :class:`Finding` with a severity.

Checks (``Finding.check``):

* ``selector-matches-nothing`` — a policy's pod/endpoint selector selects no workload of the
  input (GitLab's documented ``app.gitlab.com/env`` pod label is an annotation: it never matches);
* ``peer-matches-nothing`` — a from/to selector that matches no workload;
* ``namespace-selector-matches-nothing`` — a namespaceSelector (or Cilium namespace-label
  selector) that matches no namespace of the input (GitLab's ``app.gitlab.com/managed_by``
  label exists only on namespaces GitLab created); only when Namespace objects are given;
* ``egress-without-dns`` — egress is isolated and nothing allows UDP 53;
* ``ingress-namespace-cannot-reach`` — no pod of the ingress controller's namespace can reach
  an app whose ingress is isolated (``tier: worker`` pods are skipped: they take no web traffic);
* ``isolates-and-allows-nothing`` — a policy isolates pods and, with every other policy
  counted, nothing at all is allowed in that direction;
* ``shadowed-rule`` — a rule whose peers and ports are all covered by another rule applying to
  at least the same pods (judged on the workloads of the input);
* ``not-modelled`` — Cilium L7 rules, toFQDNs … that the engine reports rather than models;
* cluster-scoped tiers (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy):
  ``tier-priority-clash`` — two policies of the Admin tier with the same priority select the same
  pods (the API leaves their order to the implementation); ``shadowed-tier-rule`` — a rule that
  is never reached because an earlier rule of its tier (first match wins: by priority, then in
  order) matches all its traffic for at least the same pods; ``pass-with-nothing-after`` — a Pass
  rule with nothing after it to decide (in the Baseline tier, or in the Admin tier when no
  NetworkPolicy and no Baseline policy selects those pods in that direction): the traffic it
  passes on is allowed, as if no policy applied.

Severities: ``error`` and ``warning`` fail ``lint`` (exit 1); ``info`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..desired.suggest import DEFAULT_INGRESS_NAMESPACE
from ..errors import Severity
from ..kube.defaults import ADMIN_TIER, BASELINE_TIER, CILIUM_NAMESPACE_LABELS_PREFIX, PASS
from ..kube.labels import (
    GITLAB_APP_ANNOTATION,
    GITLAB_ENV_ANNOTATION,
    GITLAB_MANAGED_BY_LABEL,
    TIER_LABEL,
    WORKER_TIER,
)
from ..policy.analysis import ClassIndex, address_boundaries
from ..policy.endpoints import Endpoint
from ..policy.engine import Model
from ..policy.policies import EGRESS, INGRESS, AddressPeer, CiliumEndpointPeer, Path, PodPeer, Policy, Rule
from ..policy.selectors import Selector

#: GitLab puts these on pods as annotations, and labels namespaces with them only sometimes.
GITLAB_ANNOTATION_KEYS = (GITLAB_ENV_ANNOTATION, GITLAB_APP_ANNOTATION)


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str
    policy: str
    message: str
    hint: str = ""
    #: where in the policy manifest (for file:line), and which compiled policy it is
    path: Path = ()
    policy_index: int = -1

    @property
    def fails(self) -> bool:
        return self.severity in (Severity.ERROR, Severity.WARNING)


def _gitlab_hint(selector: Selector) -> str:
    keys = selector.label_keys()
    if any(key.endswith(annotation) for key in keys for annotation in GITLAB_ANNOTATION_KEYS):
        return (
            "GitLab sets app.gitlab.com/app and app.gitlab.com/env as pod annotations, not labels, so a "
            "selector on them matches nothing; select on the chart's pod labels "
            "(app=<release>, release=<release>, tier=web)"
        )
    return ""


def _namespace_hint(selector: Selector) -> str:
    if any(key.endswith(GITLAB_MANAGED_BY_LABEL) for key in selector.label_keys()):
        return (
            "GitLab labels a namespace app.gitlab.com/managed_by=gitlab only when GitLab itself created it; "
            "select the namespace by name: kubernetes.io/metadata.name: <namespace>"
        )
    return "every namespace carries kubernetes.io/metadata.name: <name>; select by that label to be sure"


@dataclass(frozen=True)
class ScrapeTarget:
    """Pods the monitoring stack scrapes: their namespace, labels (a subset of the pods') and port."""

    namespace: str
    labels: tuple[tuple[str, str], ...]
    port: int
    #: why we think they are scraped (``prometheus.io/port annotation``, ``values: prometheus.metrics``)
    why: str


class _Linter:
    def __init__(self, model: Model, ingress_namespace: str, namespaces_known: bool) -> None:
        self.model = model
        self.ingress_namespace = ingress_namespace
        self.namespaces_known = namespaces_known
        self.index = ClassIndex(model, address_boundaries(model.policies), with_ipv6=True)
        self.findings: list[Finding] = []
        self.subject_bits = [self.index.subject_bits(policy) for policy in model.policies]
        self.has_workloads = bool(model.workloads)
        #: namespaces whose pods the input describes: a peer in other namespaces cannot be judged
        self.workload_namespaces = {w.namespace for w in model.workloads}
        self.dns_servers = [
            Endpoint.pod(w.namespace, w.label_map, w.named_ports)
            for w in model.workloads
            if w.label_map.get("k8s-app") == "kube-dns"
        ] or [
            Endpoint.pod("kube-system", {"k8s-app": "kube-dns"}, (("dns", "UDP", 53), ("dns-tcp", "TCP", 53)))
        ]

    def add(
        self, severity: Severity, check: str, policy_index: int, message: str, hint: str = "", path: Path = ()
    ) -> None:
        policy = str(self.model.policies[policy_index].ref) if policy_index >= 0 else ""
        self.findings.append(Finding(severity, check, policy, message, hint, path, policy_index))

    def workloads_of(self, bits: int) -> list[str]:
        names: list[str] = []
        for index in range(self.index.pod_count):
            if bits >> index & 1:
                names.extend(self.index.workload_names[index])
        return sorted(set(names))

    # ------------------------------------------------------------------------- selectors

    def selectors(self) -> None:
        for number, policy in enumerate(self.model.policies):
            if self.has_workloads and not self.subject_bits[number]:
                noun = "endpointSelector" if policy.cilium else "podSelector"
                self.add(
                    Severity.WARNING,
                    "selector-matches-nothing",
                    number,
                    f"{noun} {policy.subject.describe()} selects no workload"
                    + (f" in namespace {policy.namespace}" if policy.namespace else ""),
                    _gitlab_hint(policy.subject) or "check the labels of the pods this policy is meant for",
                    (*policy.path, "endpointSelector" if policy.cilium else "podSelector"),
                )
            for rule in policy.rules:
                for peer_number, peer in enumerate(rule.peers or ()):
                    self.peer(number, policy, rule, peer_number, peer)

    def peer(self, number: int, policy: Policy, rule: Rule, peer_number: int, peer: object) -> None:
        path = rule.peer_paths[peer_number] if peer_number < len(rule.peer_paths) else rule.path
        if isinstance(peer, PodPeer):
            if peer.namespace_selector is not None and self.namespaces_known:
                matching = [
                    name
                    for name, labels in self.model.namespaces.items()
                    if peer.namespace_selector.matches(labels)
                ]
                if not matching:
                    self.add(
                        Severity.WARNING,
                        "namespace-selector-matches-nothing",
                        number,
                        f"namespaceSelector {peer.namespace_selector.describe()} matches no namespace",
                        _namespace_hint(peer.namespace_selector),
                        path,
                    )
                    return
            other_namespaces = peer.namespace is None and not (self.workload_namespaces - {policy.namespace})
            if self.has_workloads and not other_namespaces and not self.index.peer_bits(peer):
                where = "the same namespace" if peer.namespace is not None else "the selected namespaces"
                self.add(
                    Severity.WARNING,
                    "peer-matches-nothing",
                    number,
                    f"podSelector {peer.pod_selector.describe()} matches no workload in {where}",
                    _gitlab_hint(peer.pod_selector) or "check the labels of the pods this rule is meant for",
                    path,
                )
        elif isinstance(peer, CiliumEndpointPeer):
            keys = peer.selector.label_keys()
            if any(key.startswith("reserved:") for key in keys):
                return
            namespace_keys = {
                k: k.removeprefix(CILIUM_NAMESPACE_LABELS_PREFIX)
                for k in keys
                if k.startswith(CILIUM_NAMESPACE_LABELS_PREFIX)
            }
            if namespace_keys and self.namespaces_known:
                namespace_selector = Selector(
                    tuple(
                        type(r)(namespace_keys[r.key], r.operator, r.values)
                        for r in peer.selector.requirements
                        if r.key in namespace_keys
                    )
                )
                if not any(namespace_selector.matches(labels) for labels in self.model.namespaces.values()):
                    self.add(
                        Severity.WARNING,
                        "namespace-selector-matches-nothing",
                        number,
                        f"namespace labels {namespace_selector.describe()} match no namespace",
                        _namespace_hint(namespace_selector),
                        path,
                    )
                    return
            if self.has_workloads and not self.index.peer_bits(peer):
                self.add(
                    Severity.WARNING,
                    "peer-matches-nothing",
                    number,
                    f"endpoint selector {peer.selector.describe()} matches no workload",
                    _gitlab_hint(peer.selector)
                    or (
                        "a namespaced CiliumNetworkPolicy only selects endpoints of its own namespace "
                        "unless the selector names k8s:io.kubernetes.pod.namespace "
                        "or io.cilium.k8s.namespace.labels.*"
                    ),
                    path,
                )

    # ------------------------------------------------------------------------------ DNS

    def dns(self) -> None:
        if not self.has_workloads:
            for number, policy in enumerate(self.model.policies):
                if policy.isolates_egress and not any(self._allows_dns(rule) for rule in policy.rules):
                    self.add(
                        Severity.WARNING,
                        "egress-without-dns",
                        number,
                        "isolates egress without allowing DNS (UDP 53), unless another policy allows it",
                        _DNS_HINT,
                        (*policy.path, "egress"),
                    )
            return
        for index in range(self.index.pod_count):
            endpoint = self.index.endpoints[index]
            side = self.model.side(endpoint, EGRESS)
            if not side.isolated or any(self._allows_dns(rule) for rule in side.allow):
                continue
            isolating = [
                n
                for n, p in enumerate(self.model.policies)
                if p.isolates_egress and self.subject_bits[n] >> index & 1
            ]
            self.add(
                Severity.WARNING,
                "egress-without-dns",
                isolating[0] if isolating else -1,
                f"{', '.join(self.index.workload_names[index])}: egress is isolated by "
                f"{', '.join(side.policies)} and no rule allows DNS (UDP 53)",
                _DNS_HINT,
                (*self.model.policies[isolating[0]].path, "egress") if isolating else (),
            )

    def _allows_dns(self, rule: Rule) -> bool:
        """UDP 53 to the cluster DNS (kube-dns pods, or kube-system/k8s-app=kube-dns) or to any address."""
        if rule.direction != EGRESS or rule.deny or rule.peers == ():
            return False
        if not rule.ports.resolve((("dns", "UDP", 53),)).allows("UDP", 53):
            return False
        if rule.peers is None or any(isinstance(peer, AddressPeer) for peer in rule.peers):
            return True
        return any(self.model.rule_matches(rule, server) for server in self.dns_servers)

    # ------------------------------------------------------------------------ ingress path

    def ingress_reachability(self) -> None:
        sources = [
            Endpoint.pod(w.namespace, w.label_map, w.named_ports)
            for w in self.model.workloads
            if w.namespace == self.ingress_namespace
        ] or [Endpoint.pod(self.ingress_namespace, {})]
        for index in range(self.index.pod_count):
            endpoint = self.index.endpoints[index]
            if (
                endpoint.namespace in (self.ingress_namespace, "kube-system")
                or endpoint.label_map.get(TIER_LABEL) == WORKER_TIER
            ):
                continue
            side = self.model.side(endpoint, INGRESS)
            if not side.isolated:
                continue
            if any(self.model.connectivity(source, endpoint).allowed for source in sources):
                continue
            isolating = [
                n
                for n, p in enumerate(self.model.policies)
                if p.isolates_ingress and self.subject_bits[n] >> index & 1
            ]
            self.add(
                Severity.ERROR,
                "ingress-namespace-cannot-reach",
                isolating[0] if isolating else -1,
                f"{', '.join(self.index.workload_names[index])}: no pod in the ingress controller's "
                f"namespace {self.ingress_namespace} can reach it "
                f"(ingress isolated by {', '.join(side.policies)})",
                f"allow from namespaceSelector kubernetes.io/metadata.name: {self.ingress_namespace} "
                "(or set --ingress-namespace / NETPOL_INGRESS_NAMESPACE to where the controller runs)",
                (*self.model.policies[isolating[0]].path, "ingress") if isolating else (),
            )

    def ingress_namespace_exists(self) -> None:
        """The ingress controller's namespace missing from an input that lists namespaces: every
        policy that admits it admits nothing, and the reachability check has no pod to go by."""
        if not self.namespaces_known or self.ingress_namespace in self.model.namespaces:
            return
        isolated = [
            index
            for index in range(self.index.pod_count)
            if self.model.side(self.index.endpoints[index], INGRESS).isolated
        ]
        self.add(
            Severity.WARNING if isolated else Severity.INFO,
            "ingress-namespace-missing",
            -1,
            f"the ingress controller's namespace {self.ingress_namespace} does not exist"
            + (
                ": a policy that admits it lets no ingress traffic in"
                if isolated
                else " (no pod is isolated for ingress yet)"
            ),
            "set --ingress-namespace / NETPOL_INGRESS_NAMESPACE to the namespace your ingress controller "
            "runs in (kubectl get ingressclass,pods -A -l app.kubernetes.io/component=controller)",
        )

    # ------------------------------------------------------------------------- monitoring

    def scrapers(self, monitoring_namespace: str, targets: Sequence[ScrapeTarget]) -> None:
        """Scraped pods that the monitoring stack's namespace cannot reach on their metrics port."""
        sources = [
            Endpoint.pod(w.namespace, w.label_map, w.named_ports)
            for w in self.model.workloads
            if w.namespace == monitoring_namespace
        ] or [Endpoint.pod(monitoring_namespace, {})]
        for index in range(self.index.pod_count):
            endpoint = self.index.endpoints[index]
            for target in targets:
                if endpoint.namespace != target.namespace or any(
                    endpoint.label_map.get(key) != value for key, value in target.labels
                ):
                    continue
                side = self.model.side(endpoint, INGRESS)
                if not side.isolated:
                    continue
                if any(
                    self.model.connectivity(source, endpoint).allowed.allows("TCP", target.port)
                    for source in sources
                ):
                    continue
                isolating = [
                    n
                    for n, p in enumerate(self.model.policies)
                    if p.isolates_ingress and self.subject_bits[n] >> index & 1
                ]
                self.add(
                    Severity.WARNING,
                    "monitoring-cannot-scrape",
                    isolating[0] if isolating else -1,
                    f"{', '.join(self.index.workload_names[index])}: the monitoring stack in namespace "
                    f"{monitoring_namespace} cannot scrape TCP {target.port} ({target.why}; ingress isolated "
                    f"by {', '.join(side.policies)})",
                    f"allow from namespaceSelector kubernetes.io/metadata.name: {monitoring_namespace} on port "
                    f"{target.port} (the suggested policy does when NETPOL_MONITORING_NAMESPACE is set or detected)",
                    (*self.model.policies[isolating[0]].path, "ingress") if isolating else (),
                )
                break

    # ---------------------------------------------------------------------- allows nothing

    def allows_nothing(self) -> None:
        for number, policy in enumerate(self.model.policies):
            for direction, isolates, word in (
                (INGRESS, policy.isolates_ingress, "inbound"),
                (EGRESS, policy.isolates_egress, "outbound"),
            ):
                if not isolates:
                    continue
                own = [rule for rule in policy.rules if rule.direction == direction and not rule.deny]
                if not self.has_workloads:
                    if not own:
                        self.add(
                            Severity.INFO,
                            "isolates-and-allows-nothing",
                            number,
                            f"default-deny for {word} traffic: this policy allows none itself",
                            "",
                            (*policy.path, direction),
                        )
                    continue
                if any(self._effective(rule) for rule in own):
                    continue
                bits = self.subject_bits[number]
                starved = [
                    index
                    for index in range(self.index.pod_count)
                    if bits >> index & 1
                    and not any(
                        self._effective(rule)
                        for rule in self.model.side(self.index.endpoints[index], direction).allow
                    )
                ]
                if starved:
                    names = [name for index in starved for name in self.index.workload_names[index]]
                    self.add(
                        Severity.WARNING,
                        "isolates-and-allows-nothing",
                        number,
                        f"isolates {', '.join(sorted(set(names)))} for {word} traffic "
                        "and no policy allows any",
                        f"add an {direction} rule for the traffic these pods need, "
                        "or remove the policy if they need none",
                        (*policy.path, direction),
                    )

    def _effective(self, rule: Rule) -> bool:
        if rule.peers == () or (rule.peers is not None and not self.index.rule_bits(rule)):
            return False
        return bool(rule.ports.numeric) or bool(rule.ports.named)

    # ----------------------------------------------------------------------------- shadow

    def shadowed(self) -> None:
        if not self.has_workloads:
            return
        entries: list[tuple[int, int, Rule, int]] = []  # (policy number, rule number, rule, peer bits)
        for number, policy in enumerate(self.model.policies):
            if not self.subject_bits[number]:
                continue
            for rule_number, rule in enumerate(policy.rules):
                bits = self.index.rule_bits(rule)
                if bits and (rule.ports.numeric or rule.ports.named):
                    entries.append((number, rule_number, rule, bits))
        groups: dict[tuple[str, bool], list[tuple[int, int, Rule, int]]] = {}
        for entry in entries:
            groups.setdefault((entry[2].direction, entry[2].deny), []).append(entry)
        for group in groups.values():
            for position, (number, _, rule, bits) in enumerate(group):
                subject = self.subject_bits[number]
                for other_position, (other_number, _, other, other_bits) in enumerate(group):
                    if other_position == position:
                        continue
                    other_subject = self.subject_bits[other_number]
                    if subject & ~other_subject or bits & ~other_bits or not _ports_covered(rule, other):
                        continue
                    mutual = (
                        not (other_subject & ~subject)
                        and not (other_bits & ~bits)
                        and _ports_covered(other, rule)
                    )
                    if mutual and other_position > position:
                        continue  # equal rules: report the later one only
                    self.add(
                        Severity.INFO,
                        "shadowed-rule",
                        number,
                        f"{'.'.join(map(str, rule.path))} is fully covered by {other.policy} "
                        f"{'.'.join(map(str, other.path))} (same or wider pods, peers and ports)",
                        "remove the redundant rule, or narrow the wider one if it allows more than intended",
                        rule.path,
                    )
                    break

    # ------------------------------------------------------------------------ tiers

    def tiers(self) -> None:
        tiered = [(number, policy) for number, policy in enumerate(self.model.policies) if policy.tier]
        if not tiered:
            return
        self.priority_clashes([(n, p) for n, p in tiered if p.tier == ADMIN_TIER])
        if self.has_workloads:
            for tier in (ADMIN_TIER, BASELINE_TIER):
                in_order = sorted(((n, p) for n, p in tiered if p.tier == tier), key=lambda e: e[1].order)
                for direction in (INGRESS, EGRESS):
                    self.shadowed_tier_rules(in_order, direction)
        self.passes(tiered)

    def priority_clashes(self, admin: list[tuple[int, Policy]]) -> None:
        for position, (number, policy) in enumerate(admin):
            for other_number, other in admin[:position]:
                if policy.priority != other.priority:
                    continue
                shared = self.subject_bits[number] & self.subject_bits[other_number]
                if self.has_workloads and not shared:
                    continue
                both = (
                    f"both select {', '.join(self.workloads_of(shared)[:5])}"
                    if shared
                    else "they may select the same pods"
                )
                self.add(
                    Severity.WARNING,
                    "tier-priority-clash",
                    number,
                    f"priority {policy.priority} is also the priority of {other.ref} in the Admin tier, and "
                    f"{both}: the API leaves the order of equal priorities to the implementation",
                    "give each policy a priority of its own (lower is evaluated first)",
                    (*policy.path, "priority"),
                )
                break

    def shadowed_tier_rules(self, in_order: list[tuple[int, Policy]], direction: str) -> None:
        earlier: list[tuple[int, Rule, int]] = []  # (policy number, rule, peer bits) in evaluation order
        for number, policy in in_order:
            subject = self.subject_bits[number]
            for rule in policy.tier_rules:
                if rule.direction != direction:
                    continue
                bits = self.index.rule_bits(rule)
                if not subject or not bits:
                    continue  # selects or matches nothing: the selector checks say so
                for other_number, other, other_bits in earlier:
                    if subject & ~self.subject_bits[other_number] or bits & ~other_bits:
                        continue
                    if not _ports_covered(rule, other):
                        continue
                    same = other.action == rule.action
                    self.add(
                        Severity.INFO if same else Severity.WARNING,
                        "shadowed-tier-rule",
                        number,
                        f"{rule.describe_origin()} ({rule.action}) is never reached: "
                        f"{other.describe_origin()} ({other.action}, {other.tier_position()}) comes first "
                        "and matches all its traffic for the same pods",
                        "remove the rule"
                        if same
                        else "move the rule before the wider one (a lower priority, or earlier in the list)",
                        rule.path,
                    )
                    break
                else:
                    earlier.append((number, rule, bits))

    def passes(self, tiered: list[tuple[int, Policy]]) -> None:
        for number, policy in tiered:
            for rule in policy.tier_rules:
                if rule.action != PASS:
                    continue
                if policy.tier == BASELINE_TIER:
                    why = "it is in the Baseline tier, the last layer"
                else:
                    subject = self.subject_bits[number]
                    if not self.has_workloads or not subject:
                        continue
                    deciding = [
                        other
                        for other_number, other in enumerate(self.model.policies)
                        if other.tier != ADMIN_TIER
                        and self.subject_bits[other_number] & subject
                        and (
                            any(r.direction == rule.direction for r in other.tier_rules)
                            if other.tier
                            else (other.isolates_ingress if rule.direction == INGRESS else other.isolates_egress)
                        )
                    ]
                    if deciding:
                        continue
                    why = (
                        f"no NetworkPolicy and no Baseline policy selects {', '.join(self.workloads_of(subject)[:5])} "
                        f"for {rule.direction}"
                    )
                self.add(
                    Severity.WARNING,
                    "pass-with-nothing-after",
                    number,
                    f"{rule.describe_origin()} passes traffic on, but nothing comes after it ({why}): "
                    "the traffic is allowed as if no policy applied",
                    "use Accept if allowing is meant, or add the NetworkPolicy / Baseline policy that should decide",
                    rule.path,
                )

    def notes(self) -> None:
        for number, policy in enumerate(self.model.policies):
            for note in policy.notes:
                self.add(
                    Severity.INFO,
                    "not-modelled",
                    number,
                    note,
                    "connectivity reports neither allow nor deny this part",
                    policy.path,
                )


_DNS_HINT = (
    "add an egress rule to kube-dns: to namespaceSelector kubernetes.io/metadata.name: kube-system, "
    "podSelector k8s-app: kube-dns, ports UDP 53 (and TCP 53)"
)


def _ports_covered(rule: Rule, other: Rule) -> bool:
    if other.ports.is_all:
        return True
    return rule.ports.numeric.issubset(other.ports.numeric) and set(rule.ports.named) <= set(
        other.ports.named
    )


def lint_model(
    model: Model,
    *,
    ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE,
    namespaces_known: bool = True,
    monitoring_namespace: str | None = None,
    scrape_targets: Sequence[ScrapeTarget] = (),
) -> list[Finding]:
    """Every finding for the model, most severe first. ``monitoring_namespace`` and
    ``scrape_targets``: where the scrapers run and which pods they scrape (checked when both are
    given)."""
    linter = _Linter(model, ingress_namespace, namespaces_known)
    linter.selectors()
    linter.dns()
    linter.ingress_namespace_exists()
    linter.ingress_reachability()
    if monitoring_namespace is not None and scrape_targets:
        linter.scrapers(monitoring_namespace, scrape_targets)
    linter.allows_nothing()
    linter.shadowed()
    linter.tiers()
    linter.notes()
    if not model.workloads:
        linter.add(
            Severity.INFO,
            "no-workloads",
            -1,
            "no Pod or workload in the input: checks that need pods were skipped",
            "pass the pods too, e.g. kubectl get ns,pods,deploy,sts,ds,netpol -A -o yaml",
        )
    return sorted(linter.findings, key=lambda f: (f.severity.rank, f.policy, f.check, f.message))
