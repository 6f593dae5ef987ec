"""The learned policy set as typed records: settings, rules, peers, ports, objects (pure).

:mod:`.build` fills them from the recorded connections; :mod:`.proof` and the renderers in
``report/learn.py`` read them. Every record turns itself into manifest fragments
(``network_policy()``, ``cilium()``, ``spec()``, ``manifest()``), so the values block, the
manifests and the JSON document are written from one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import ip_network
from typing import Any

from ...desired.chart import DEFAULT_CHART_VERSION, chart_defaults, render_objects
from ...desired.compute import DeployContext
from ...desired.merge import helm_merge_all
from ...kube.defaults import NAMESPACE_NAME_LABEL
from ...kube.labels import RELEASE_LABEL
from ...kube.names import CILIUM_NETWORK_POLICY, NETWORK_POLICY
from ...kube.releases import TRACKS, fullname
from ...policy.policies import INGRESS
from .record import Tally, total

NETWORK_POLICY_API = "networking.k8s.io/v1"
CILIUM_API = "cilium.io/v2"
#: Object names of the component policies: ``<release>-learned-<component>`` (``-cilium`` for
#: the CiliumNetworkPolicy). In ``customResources`` the release is ``{{ .Release.Name }}``, which
#: the chart renders with ``tpl`` (auto-deploy-image v2.91.0 on), so that the stable, canary and
#: rollout releases each own their copy.
NAME_INFIX = "learned"
RELEASE_TEMPLATE = "{{ .Release.Name }}"


@dataclass(frozen=True)
class LearnSettings:
    """What to learn: for which release and namespace, which directions, how to generalise."""

    release: str
    namespace: str | None = None
    egress: bool = False
    cidr_prefix4: int = 32
    cidr_prefix6: int = 128
    max_cidrs: int = 16
    merge_port_ranges: bool = False
    chart_version: str = DEFAULT_CHART_VERSION

    @property
    def helm_releases(self) -> tuple[str, ...]:
        """The Helm releases of every track: ``production``, ``production-canary`` …"""
        return tuple(DeployContext(self.release, track=track).helm_release for track in TRACKS)


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Coverage:
    """The recorded flows a rule (or a peer of it) stands on."""

    flows: int = 0
    connections: int = 0
    first: str = ""
    last: str = ""
    verdicts: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, tallies: Sequence[Tally]) -> Coverage:
        summed = total(tallies)
        return cls(
            summed.flows,
            len(tallies),
            summed.first,
            summed.last,
            tuple(sorted((verdict or "unknown", count) for verdict, count in summed.verdicts.items())),
        )

    @classmethod
    def join(cls, items: Iterable[Coverage]) -> Coverage:
        items = list(items)
        firsts = [c.first for c in items if c.first]
        verdicts: dict[str, int] = {}
        for item in items:
            for verdict, count in item.verdicts:
                verdicts[verdict] = verdicts.get(verdict, 0) + count
        return cls(
            sum(c.flows for c in items),
            sum(c.connections for c in items),
            min(firsts) if firsts else "",
            max((c.last for c in items), default=""),
            tuple(sorted(verdicts.items())),
        )


@dataclass(frozen=True)
class PeerSelector:
    """Whom a rule names: pods (``namespace`` + ``labels``, and for the app's own pods
    ``releases``), an outside block (``cidr``) or a Cilium entity (``entity``)."""

    kind: str  # "pods", "cidr" or "entity"
    namespace: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    releases: tuple[str, ...] = ()
    cidr: str = ""
    entity: str = ""

    def sort_key(self, home: str) -> tuple[Any, ...]:
        order = {"pods": 0, "cidr": 1, "entity": 2}[self.kind]
        if self.kind == "cidr":
            network = ip_network(self.cidr)
            return (order, network.version, int(network.network_address), network.prefixlen)
        return (order, self.namespace != home, self.namespace, self.labels, self.releases, self.entity)

    def pod_selector(self) -> dict[str, Any]:
        selector: dict[str, Any] = {}
        if self.labels:
            selector["matchLabels"] = dict(self.labels)
        if self.releases:
            selector["matchExpressions"] = [
                {"key": RELEASE_LABEL, "operator": "In", "values": list(self.releases)}
            ]
        return selector

    def network_policy_peer(self, home: str) -> dict[str, Any]:
        """The NetworkPolicy peer (``from``/``to`` item) for a policy in namespace ``home``."""
        if self.kind == "cidr":
            return {"ipBlock": {"cidr": self.cidr}}
        if self.namespace == home:
            return {"podSelector": self.pod_selector()}
        return {
            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: self.namespace}},
            "podSelector": self.pod_selector(),
        }

    def implies(self, other: PeerSelector) -> bool:
        """Whether every pod ``other`` selects is selected by this selector too."""
        return (
            self.kind == other.kind == "pods"
            and self.namespace == other.namespace
            and (not self.releases or set(other.releases) <= set(self.releases))
            and set(self.labels) <= set(other.labels)
            and self != other
        )

    def describe(self, home: str) -> str:
        if self.kind == "cidr":
            return self.cidr
        if self.kind == "entity":
            return f"entity {self.entity}"
        labels = ",".join(f"{k}={v}" for k, v in self.labels)
        if self.releases:
            labels = ",".join(filter(None, [labels, f"release in ({','.join(self.releases)})"]))
        where = "" if self.namespace == home else f"namespace {self.namespace}, "
        return f"{where}pods {{{labels}}}" if labels else f"{where}every pod"


@dataclass(frozen=True)
class PortRange:
    protocol: str
    port: int
    end_port: int = 0  # 0: a single port

    def network_policy(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"protocol": self.protocol, "port": self.port}
        if self.end_port:
            entry["endPort"] = self.end_port
        return entry

    def cilium(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"port": str(self.port), "protocol": self.protocol}
        if self.end_port:
            entry["endPort"] = self.end_port
        return entry

    def __str__(self) -> str:
        return f"{self.protocol} {self.port}" + (f"-{self.end_port}" if self.end_port else "")


@dataclass(frozen=True)
class PeerEntry:
    """One peer of a rule, with the flows it stands for and the workloads (or blocks) behind it."""

    selector: PeerSelector
    coverage: Coverage
    names: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class LearnedRule:
    """One ingress or egress rule: these peers, these ports."""

    direction: str
    peers: tuple[PeerEntry, ...]
    ports: tuple[PortRange, ...]
    coverage: Coverage
    note: str = ""

    def network_policy(self, home: str) -> dict[str, Any]:
        key = "from" if self.direction == INGRESS else "to"
        rule: dict[str, Any] = {key: [peer.selector.network_policy_peer(home) for peer in self.peers]}
        if self.ports:
            rule["ports"] = [port.network_policy() for port in self.ports]
        return rule

    def cilium(self) -> dict[str, Any]:
        key = "fromEntities" if self.direction == INGRESS else "toEntities"
        rule: dict[str, Any] = {key: [peer.selector.entity for peer in self.peers]}
        if self.ports:
            rule["toPorts"] = [{"ports": [port.cilium() for port in self.ports]}]
        return rule


@dataclass(frozen=True)
class Component:
    """Pods of the app that are alike but for their track: the web pods, or one worker."""

    name: str
    labels: tuple[tuple[str, str], ...]
    releases: tuple[str, ...]
    workloads: tuple[str, ...]
    observed: bool

    @property
    def peer(self) -> PeerSelector:
        return PeerSelector("pods", "", self.labels, self.releases)

    def selector(self) -> dict[str, Any]:
        return self.peer.pod_selector()


MAIN, COMPONENT, CILIUM = "main", "component", "cilium"


@dataclass(frozen=True)
class LearnedObject:
    """One policy of the suggestion."""

    role: str  # MAIN, COMPONENT or CILIUM
    component: Component | None
    ingress: tuple[LearnedRule, ...]
    egress: tuple[LearnedRule, ...]
    policy_types: tuple[str, ...]
    #: MAIN only: the selector of every pod of the app
    app_selector: PeerSelector | None = None

    @property
    def kind(self) -> str:
        return CILIUM_NETWORK_POLICY if self.role == CILIUM else NETWORK_POLICY

    @property
    def api_version(self) -> str:
        return CILIUM_API if self.role == CILIUM else NETWORK_POLICY_API

    @property
    def rules(self) -> tuple[LearnedRule, ...]:
        return (*self.ingress, *self.egress)

    def name(self, helm_release: str) -> str:
        """The object name for one release (``production``, ``production-canary`` …)."""
        if self.role == MAIN or self.component is None:
            return fullname(helm_release)
        suffix = "-cilium" if self.role == CILIUM else ""
        return f"{helm_release}-{NAME_INFIX}-{self.component.name}{suffix}"

    def spec(self, home: str) -> dict[str, Any]:
        if self.role == CILIUM:
            assert self.component is not None
            cilium: dict[str, Any] = {"endpointSelector": self.component.selector()}
            if self.ingress:
                cilium["ingress"] = [rule.cilium() for rule in self.ingress]
            if self.egress:
                cilium["egress"] = [rule.cilium() for rule in self.egress]
            return cilium
        selector = self.app_selector if self.role == MAIN else self.component.peer if self.component else None
        assert selector is not None
        spec: dict[str, Any] = {
            "podSelector": selector.pod_selector(),
            "policyTypes": list(self.policy_types),
        }
        if "Ingress" in self.policy_types:
            spec["ingress"] = [rule.network_policy(home) for rule in self.ingress]
        if "Egress" in self.policy_types:
            spec["egress"] = [rule.network_policy(home) for rule in self.egress]
        return spec

    def manifest(self, helm_release: str, namespace: str, *, template: bool = False) -> dict[str, Any]:
        """The object as the deploy of ``helm_release`` creates it in ``namespace``, or (``template``)
        as ``customResources`` lists it: the name through ``tpl``, the namespace left to Helm."""
        metadata: dict[str, Any] = {"name": self.name(RELEASE_TEMPLATE if template else helm_release)}
        if not template:
            metadata["namespace"] = namespace
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": metadata,
            "spec": self.spec(namespace),
        }


@dataclass(frozen=True)
class AlreadyAllowed:
    """A recorded connection a live policy that stays after the deploy already allows."""

    direction: str
    source: str
    destination: str
    protocol: str
    port: int
    flows: int
    policies: tuple[str, ...]


@dataclass(frozen=True)
class LearnedPolicy:
    """The suggestion: its objects (main policy first), components, and what the rules stand on."""

    settings: LearnSettings
    namespace: str
    components: tuple[Component, ...]
    objects: tuple[LearnedObject, ...]
    dns: Coverage  # DNS flows the main policy's DNS rule covers (empty without --egress)
    egress_not_learned: Coverage  # flows the app's pods opened while egress stays open
    already_allowed: tuple[AlreadyAllowed, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def main(self) -> LearnedObject:
        return self.objects[0]

    @property
    def extra_objects(self) -> tuple[LearnedObject, ...]:
        """What one NetworkPolicy cannot express: the ``customResources`` entries."""
        return self.objects[1:]

    @property
    def helm_release(self) -> str:
        return self.settings.helm_releases[0]

    def values(self, *, enabled: bool = False) -> dict[str, Any]:
        """The block for ``.gitlab/auto-deploy-values.yaml``."""
        block: dict[str, Any] = {
            "networkPolicy": {"enabled": enabled, "spec": self.main.spec(self.namespace)}
        }
        if self.extra_objects:
            block["customResources"] = [
                obj.manifest(self.helm_release, self.namespace, template=True) for obj in self.extra_objects
            ]
        return block

    def manifests(self, helm_release: str | None = None) -> list[dict[str, Any]]:
        """The objects the deploy of ``helm_release`` (default: the stable track) creates, with
        their namespace: the main policy as the chart renders it, then the custom resources."""
        release = helm_release or self.helm_release
        context = DeployContext(self.settings.release, track=_track_of(release, self.settings))
        values = helm_merge_all(
            chart_defaults(self.settings.chart_version),
            {"networkPolicy": {"enabled": True, "spec": self.main.spec(self.namespace)}},
            context.set_values(),
        )
        main = render_objects(values, release=release, chart_version=self.settings.chart_version)
        objects = [{**obj, "metadata": {**obj["metadata"], "namespace": self.namespace}} for obj in main]
        objects += [obj.manifest(release, self.namespace) for obj in self.extra_objects]
        return objects


def _track_of(helm_release: str, settings: LearnSettings) -> str:
    for track, name in zip(TRACKS, settings.helm_releases, strict=True):
        if name == helm_release:
            return track
    return "stable"
