"""Recorded connections → the narrowest policy set for the app's pods (pure).

Works on :class:`~.record.Observations` — distinct connections with their counts — so its cost
depends on how many distinct connections and address blocks the recording holds, not on how
many flows.

The app is every pod labelled ``release`` with the release or one of its tracks
(``production``, ``production-canary``, ``production-rollout``): the auto-deploy-app chart puts
that label on web *and* worker pods, while workers carry no ``app`` label (FACTS.md). Its pods
fall into *components*: pods alike but for their track (web; each worker).

What is proposed:

* the **main policy** (``networkPolicy.spec``) selects every pod of the app, of every track, and
  isolates it — pods the recording never saw included — with ``ingress: []`` (written out: the
  chart's default ``ingress`` list would otherwise survive Helm's merge) and, with ``--egress``,
  one egress rule: DNS to kube-dns, kept whether or not the recording holds DNS;
* one **NetworkPolicy per component** that received (or, with ``--egress``, opened) traffic,
  with one rule per set of peers that used exactly the same ports;
* one **CiliumNetworkPolicy per component** for peers a NetworkPolicy cannot name: Cilium's
  reserved identities (``host``, ``kube-apiserver``, ``remote-node`` …, and ``world`` when the
  recording has no address).

Peers are generalised along what is stable: pods by their labels without
:data:`~.record.UNSTABLE_LABELS`, the app's own pods by component and release, other
namespaces by ``kubernetes.io/metadata.name``, outside addresses as CIDRs (:mod:`.cidrs`).
Ports are the recorded ones; adjacent ports become ranges only with ``merge_port_ranges``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import InputError
from ...kube.labels import (
    APP_LABEL,
    HELM,
    HERITAGE_LABEL,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    RELEASE_LABEL,
    TIER_LABEL,
    TRACK_LABEL,
)
from ...kube.names import NETWORK_POLICY
from ...kube.releases import TRACKS, fullname
from ...policy.intervals import PROTOCOLS
from ...policy.inventory import build_inventory
from ...policy.policies import EGRESS, INGRESS
from ...sources.flows import EXTERNAL, POD, Peer, external_peer
from ..audit import PolicyReachability, after_deploy
from .cidrs import Network, join_blocks
from .policy_set import (
    CILIUM,
    COMPONENT,
    MAIN,
    NETWORK_POLICY_API,
    AlreadyAllowed,
    Component,
    Coverage,
    LearnedObject,
    LearnedPolicy,
    LearnedRule,
    LearnSettings,
    PeerEntry,
    PeerSelector,
    PortRange,
)
from .record import UNSTABLE_LABELS, Observations, Tally

#: Chart labels that say nothing a component's selector needs: their value is fixed by the chart
#: (``heritage: Helm``) or repeats ``app`` / the release.
_CHART_LABELS = {HERITAGE_LABEL: HELM, MANAGED_BY_LABEL: HELM}
#: DNS to kube-dns, as the chart overlays' default-deny policy allows it (a test keeps the two equal).
DNS_NAMESPACE = "kube-system"
DNS_LABELS = (("k8s-app", "kube-dns"),)
DNS_PORTS = (("UDP", 53), ("TCP", 53))
_PROTOCOL_ORDER = {name: index for index, name in enumerate(PROTOCOLS)}
_NAME_CHARS = re.compile(r"[^a-z0-9-]+")


# ---------------------------------------------------------------------------------------------
# Components


def selector_labels(labels: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The labels a learned selector names: stable ones, without those that are the same on every
    Helm-managed pod (``heritage: Helm``) or repeat another label (``app.kubernetes.io/name`` equal
    to ``app``, ``app.kubernetes.io/instance`` equal to ``release``)."""
    items = dict(labels)
    kept = []
    for key, value in sorted(items.items()):
        if key in UNSTABLE_LABELS or _CHART_LABELS.get(key) == value:
            continue
        if key == NAME_LABEL and value == items.get(APP_LABEL):
            continue
        if key == INSTANCE_LABEL and value == items.get(RELEASE_LABEL):
            continue
        kept.append((key, value))
    return tuple(kept)


def _component_labels(
    labels: Iterable[tuple[str, str]], releases: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """An app pod's labels that tell its component: its selector labels without release and track."""
    return tuple(
        (key, value)
        for key, value in selector_labels(labels)
        if key != RELEASE_LABEL and not (key == TRACK_LABEL and value in TRACKS)
    )


def _clean_name(text: str) -> str:
    return _NAME_CHARS.sub("-", text.lower()).strip("-")[:40].strip("-")


def _derived_name(workloads: Iterable[str], releases: Sequence[str]) -> str:
    """``shop/production-mailer`` → ``mailer``; the web Deployment (named after the release) → ``""``."""
    found = []
    for qualified in workloads:
        controller = qualified.split("/", 1)[-1]
        for release in sorted(releases, key=len, reverse=True):
            if controller == release:
                controller = ""
                break
            if controller.startswith(release + "-"):
                controller = controller[len(release) + 1 :]
                break
        if "{" in controller:  # a name made of labels (CSV without workload columns)
            continue
        cleaned = _clean_name(controller)
        if cleaned:
            found.append(cleaned)
    return min(found, default="")


def _name_components(
    keys: Sequence[tuple[tuple[str, str], ...]],
    workloads: Mapping[tuple[tuple[str, str], ...], set[str]],
    releases: Sequence[str],
) -> dict[tuple[tuple[str, str], ...], str]:
    names: dict[tuple[tuple[str, str], ...], str] = {}
    for key in keys:
        labels = dict(key)
        derived = _derived_name(workloads.get(key, ()), releases)
        if not derived:
            base = _clean_name(labels.get(TIER_LABEL, "")) or "pods"
            others = [
                _clean_name(value)
                for label, value in key
                if label not in (TIER_LABEL, APP_LABEL) and _clean_name(value)
            ]
            siblings = [k for k in keys if (_clean_name(dict(k).get(TIER_LABEL, "")) or "pods") == base]
            derived = base if len(siblings) == 1 or not others else f"{base}-{others[0]}"
        names[key] = derived
    used: dict[str, int] = {}
    for key in sorted(keys, key=lambda k: (names[k], k)):
        name = names[key]
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            names[key] = f"{name}-{used[name]}"
    return names


# ---------------------------------------------------------------------------------------------
# Building


@dataclass
class _Side:
    """Observations of one component in one direction, before rules are formed."""

    pods: dict[PeerSelector, dict[tuple[str, int], list[Tally]]] = field(default_factory=dict)
    names: dict[PeerSelector, set[str]] = field(default_factory=dict)
    entities: dict[PeerSelector, dict[tuple[str, int], list[Tally]]] = field(default_factory=dict)
    addresses: dict[tuple[str, int], list[tuple[Network, Tally]]] = field(default_factory=dict)

    def add_peer(self, selector: PeerSelector, name: str, protocol: str, port: int, tally: Tally) -> None:
        target = self.entities if selector.kind == "entity" else self.pods
        target.setdefault(selector, {}).setdefault((protocol, port), []).append(tally)
        self.names.setdefault(selector, set()).add(name)

    @property
    def empty(self) -> bool:
        return not (self.pods or self.entities or self.addresses)


def _port_ranges(ports: Iterable[tuple[str, int]], merge: bool) -> tuple[PortRange, ...]:
    ordered = sorted(set(ports), key=lambda p: (_PROTOCOL_ORDER.get(p[0], 9), p[1]))
    if not merge:
        return tuple(PortRange(protocol, port) for protocol, port in ordered)
    out: list[list[Any]] = []
    for protocol, port in ordered:
        if out and out[-1][0] == protocol and out[-1][2] + 1 == port:
            out[-1][2] = port
        else:
            out.append([protocol, port, port])
    return tuple(PortRange(p, lo, hi if hi != lo else 0) for p, lo, hi in out)


def _selector_rules(
    direction: str,
    peers: Mapping[PeerSelector, Mapping[tuple[str, int], list[Tally]]],
    names: Mapping[PeerSelector, set[str]],
    home: str,
    merge: bool,
    notes: Mapping[PeerSelector, str],
) -> list[LearnedRule]:
    """Peers that used exactly the same ports share a rule; a peer another peer of the same rule
    already selects is folded into it."""
    groups: dict[frozenset[tuple[str, int]], list[PeerSelector]] = {}
    for selector, ports in peers.items():
        groups.setdefault(frozenset(ports), []).append(selector)
    rules = []
    for port_set, selectors in groups.items():
        kept = [s for s in selectors if not any(other.implies(s) for other in selectors)]
        entries = []
        for selector in sorted(kept, key=lambda s: s.sort_key(home)):
            folded = [s for s in selectors if s == selector or selector.implies(s)]
            tallies = [t for s in folded for ts in peers[s].values() for t in ts]
            entry_names = sorted({n for s in folded for n in names.get(s, ())})
            entries.append(
                PeerEntry(selector, Coverage.of(tallies), tuple(entry_names), notes.get(selector, ""))
            )
        rules.append(
            LearnedRule(
                direction,
                tuple(entries),
                _port_ranges(port_set, merge),
                Coverage.join(entry.coverage for entry in entries),
            )
        )
    return sorted(rules, key=lambda r: (r.peers[0].selector.sort_key(home), [str(p) for p in r.ports]))


def _address_rules(
    direction: str, addresses: Mapping[tuple[str, int], list[tuple[Network, Tally]]], settings: LearnSettings
) -> list[LearnedRule]:
    """Per port, the recorded blocks joined into at most ``max_cidrs`` CIDRs; ports with the same
    CIDRs share a rule."""
    by_cidrs: dict[tuple[Network, ...], list[tuple[str, int]]] = {}
    blocks_of: dict[tuple[Network, ...], list[tuple[Network, Tally]]] = {}
    for port, blocks in addresses.items():
        cidrs = tuple(join_blocks([network for network, _ in blocks], settings.max_cidrs))
        by_cidrs.setdefault(cidrs, []).append(port)
        blocks_of.setdefault(cidrs, []).extend(blocks)
    rules = []
    for cidrs, ports in by_cidrs.items():
        entries = []
        for cidr in cidrs:
            inside = [
                (network, tally)
                for network, tally in blocks_of[cidrs]
                if network.version == cidr.version and network.subnet_of(cidr)  # type: ignore[arg-type]
            ]
            recorded = sorted({network for network, _ in inside}, key=lambda n: int(n.network_address))
            shown = [str(n) for n in recorded[:5]] + (
                [f"{len(recorded) - 5} more"] if len(recorded) > 5 else []
            )
            filled = sum(n.num_addresses for n in recorded) == cidr.num_addresses
            note = (
                ""
                if filled
                else f"widened from {len(recorded)} recorded block{'s' if len(recorded) != 1 else ''} (--max-cidrs)"
            )
            entries.append(
                PeerEntry(
                    PeerSelector("cidr", cidr=str(cidr)),
                    Coverage.of([tally for _, tally in inside]),
                    tuple(shown),
                    note,
                )
            )
        rules.append(
            LearnedRule(
                direction,
                tuple(entries),
                _port_ranges(ports, settings.merge_port_ranges),
                Coverage.join(e.coverage for e in entries),
            )
        )
    return sorted(rules, key=lambda r: (r.peers[0].selector.sort_key(""), [str(p) for p in r.ports]))


def _is_dns(peer: Peer, protocol: str, port: int) -> bool:
    return (
        (protocol, port) in DNS_PORTS
        and peer.kind == POD
        and peer.namespace == DNS_NAMESPACE
        and set(DNS_LABELS) <= set(peer.labels)
    )


class _Builder:
    def __init__(
        self, observations: Observations, settings: LearnSettings, live: Sequence[Mapping[str, Any]] | None
    ) -> None:
        self.obs = observations
        self.settings = settings
        self.releases = settings.helm_releases
        self.live = list(live) if live is not None else None
        self.notes: list[str] = []
        self.namespace = self._namespace()
        self.live_names: dict[tuple[str, tuple[tuple[str, str], ...]], set[str]] = {}
        self.live_app: list[tuple[tuple[tuple[str, str], ...], str]] = []
        self._read_live()
        self.components = self._components()
        self.allowed_live = self._live_reachability()
        self.already: list[AlreadyAllowed] = []

    # ---------------------------------------------------------------- inputs

    def _namespace(self) -> str:
        if self.settings.namespace:
            return self.settings.namespace
        found = sorted(self.obs.app_namespaces)
        if len(found) == 1:
            return found[0]
        release = self.settings.release
        if not found:
            raise self._nothing_recorded()
        raise InputError(
            f"pods of release {release!r} appear in {len(found)} namespaces of the recording: {', '.join(found)}",
            hint="pass --namespace NS (or set KUBE_NAMESPACE) to say which environment to learn for",
        )

    def _nothing_recorded(self) -> InputError:
        seen = sorted(self.obs.releases_seen)
        where = f" in namespace {self.settings.namespace!r}" if self.settings.namespace else ""
        hint = (
            f"releases (label release) in the recording: {', '.join(seen)}"
            if seen
            else "no pod in the recording carries the label `release`: is this an Auto DevOps environment?"
        )
        return InputError(
            f"no recorded flow involves a pod of release {self.settings.release!r}{where} "
            f"(label release in {', '.join(self.releases)})",
            hint=f"check --release and --namespace; {hint}",
        )

    def is_app(self, peer: Peer) -> bool:
        if peer.kind != POD or peer.namespace != self.namespace:
            return False
        return any(key == RELEASE_LABEL and value in self.releases for key, value in peer.labels)

    def _read_live(self) -> None:
        if self.live is None:
            return
        inventory = build_inventory(self.live)
        for workload in inventory.workloads:
            stable = tuple(item for item in workload.labels if item[0] not in UNSTABLE_LABELS)
            self.live_names.setdefault((workload.namespace, stable), set()).add(workload.qualified_name)
            release = dict(workload.labels).get(RELEASE_LABEL)
            if workload.namespace == self.namespace and release in self.releases:
                self.live_app.append((_component_labels(stable, self.releases), workload.qualified_name))
        if self.namespace not in inventory.namespaces and any(
            o.get("kind") == "Namespace" for o in self.live
        ):
            self.notes.append(f"namespace {self.namespace} is not in the live state")

    def _components(self) -> dict[tuple[tuple[str, str], ...], Component]:
        workloads: dict[tuple[tuple[str, str], ...], set[str]] = {}
        observed: set[tuple[tuple[str, str], ...]] = set()
        for peer in self._app_peers():
            key = _component_labels(peer.labels, self.releases)
            observed.add(key)
            workloads.setdefault(key, set()).add(peer.workload)
            workloads[key].update(self.live_names.get((peer.namespace, peer.labels), ()))
        for key, name in self.live_app:
            workloads.setdefault(key, set()).add(name)
        if not workloads:
            raise self._nothing_recorded()
        keys = sorted(workloads)
        names = _name_components(keys, workloads, self.releases)
        return {
            key: Component(names[key], key, self.releases, tuple(sorted(workloads[key])), key in observed)
            for key in keys
        }

    def _app_peers(self) -> list[Peer]:
        peers: set[Peer] = set()
        for source, destination, _, _ in self.obs.connections:
            peers.update(p for p in (source, destination) if self.is_app(p))
        for app, _, _, _ in self.obs.addresses:
            if self.is_app(app):
                peers.add(app)
        return sorted(peers, key=lambda p: (p.labels, p.workload))

    def component_of(self, peer: Peer) -> Component:
        return self.components[_component_labels(peer.labels, self.releases)]

    def app_selector(self) -> PeerSelector:
        return PeerSelector("pods", self.namespace, (), self.releases)

    def _live_reachability(self) -> PolicyReachability | None:
        """What the live policies that stay after the deploy allow, with the app's pods isolated."""
        if self.live is None:
            return None
        placeholder = {
            "apiVersion": NETWORK_POLICY_API,
            "kind": NETWORK_POLICY,
            "metadata": {"name": fullname(self.releases[0]), "namespace": self.namespace},
            "spec": {
                "podSelector": self.app_selector().pod_selector(),
                "policyTypes": ["Ingress", "Egress"],
            },
        }
        after = after_deploy(
            [placeholder], self.live, namespace=self.namespace, helm_release=self.releases[0]
        )
        return PolicyReachability.from_objects(after.objects)

    # ---------------------------------------------------------------- peers

    def peer_selector(self, peer: Peer) -> PeerSelector:
        if peer.kind == POD:
            if self.is_app(peer):
                return PeerSelector("pods", self.namespace, self.component_of(peer).labels, self.releases)
            return PeerSelector("pods", peer.namespace, selector_labels(peer.labels))
        if peer.kind == EXTERNAL:  # an outside address the recording did not give
            return PeerSelector("entity", entity="world")
        return PeerSelector("entity", entity=peer.entity)

    def peer_name(self, peer: Peer) -> str:
        if peer.kind == POD:
            live = sorted(self.live_names.get((peer.namespace, peer.labels), ()))
            return live[0] if len(live) == 1 else peer.workload
        return peer.workload

    def _live_allows(
        self, source: Peer, destination: Peer, protocol: str, port: int, direction: str
    ) -> tuple[str, ...] | None:
        """The live policies that already allow this side of the connection, or ``None``."""
        reach = self.allowed_live
        if reach is None:
            return None
        pair = reach.model.connectivity(reach.endpoint(source), reach.endpoint(destination))
        side = pair.ingress if direction == INGRESS else pair.egress
        if not side.allows(protocol, port):
            return None
        return pair.allowed_by or ("(no policy isolates the peer)",)

    # ---------------------------------------------------------------- build

    def build(self) -> LearnedPolicy:
        sides: dict[tuple[str, str], _Side] = {}  # (component name, direction)
        dns: list[Tally] = []
        open_egress: list[Tally] = []
        selector_notes: dict[PeerSelector, str] = {}

        def side(component: Component, direction: str) -> _Side:
            return sides.setdefault((component.name, direction), _Side())

        for (source, destination, protocol, port), tally in sorted(
            self.obs.connections.items(), key=lambda item: _connection_sort_key(item[0])
        ):
            if self.is_app(destination) and not self._already(
                source, destination, protocol, port, INGRESS, tally
            ):
                selector = self.peer_selector(source)
                if selector.kind == "pods" and not selector.labels and not selector.releases:
                    selector_notes[selector] = "no stable labels: every pod of the namespace"
                side(self.component_of(destination), INGRESS).add_peer(
                    selector, self.peer_name(source), protocol, port, tally
                )
            if self.is_app(source):
                if not self.settings.egress:
                    open_egress.append(tally)
                elif _is_dns(destination, protocol, port):
                    dns.append(tally)
                elif not self._already(source, destination, protocol, port, EGRESS, tally):
                    selector = self.peer_selector(destination)
                    if selector.kind == "pods" and not selector.labels and not selector.releases:
                        selector_notes[selector] = "no stable labels: every pod of the namespace"
                    side(self.component_of(source), EGRESS).add_peer(
                        selector, self.peer_name(destination), protocol, port, tally
                    )
        for (app, direction, protocol, port), addresses in sorted(
            self.obs.addresses.items(),
            key=lambda item: (item[0][0].labels, item[0][0].workload, *item[0][1:]),
        ):
            if not self.is_app(app):
                continue
            if direction == EGRESS and not self.settings.egress:
                open_egress.append(addresses.total())
                continue
            for network, tally in addresses.networks():
                outside = external_peer(str(network))
                source, destination = (outside, app) if direction == INGRESS else (app, outside)
                if self._already(source, destination, protocol, port, direction, tally):
                    continue
                side(self.component_of(app), direction).addresses.setdefault((protocol, port), []).append(
                    (network, tally)
                )
        objects = [self._main(dns)]
        for component in sorted(self.components.values(), key=lambda c: c.name):
            objects.extend(self._component_objects(component, sides, selector_notes))
        self._notes(dns, open_egress)
        return LearnedPolicy(
            self.settings,
            self.namespace,
            tuple(sorted(self.components.values(), key=lambda c: c.name)),
            tuple(objects),
            Coverage.of(dns),
            Coverage.of(open_egress),
            tuple(self.already),
            tuple(self.notes),
        )

    def _already(
        self, source: Peer, destination: Peer, protocol: str, port: int, direction: str, tally: Tally
    ) -> bool:
        policies = self._live_allows(source, destination, protocol, port, direction)
        if policies is None:
            return False
        self.already.append(
            AlreadyAllowed(
                direction,
                self.peer_name(source),
                self.peer_name(destination),
                protocol,
                port,
                tally.flows,
                policies,
            )
        )
        return True

    def _main(self, dns: list[Tally]) -> LearnedObject:
        egress: tuple[LearnedRule, ...] = ()
        types: tuple[str, ...] = ("Ingress",)
        if self.settings.egress:
            types = ("Ingress", "Egress")
            selector = PeerSelector("pods", DNS_NAMESPACE, DNS_LABELS)
            coverage = Coverage.of(dns)
            note = (
                f"DNS to kube-dns: {coverage.flows:,} recorded flow{'s' if coverage.flows != 1 else ''}"
                if dns
                else "DNS to kube-dns: kept although the recording holds no DNS flow (without it, name resolution breaks)"
            )
            egress = (
                LearnedRule(
                    EGRESS,
                    (PeerEntry(selector, coverage, ("kube-system/kube-dns",)),),
                    tuple(PortRange(protocol, port) for protocol, port in DNS_PORTS),
                    coverage,
                    note,
                ),
            )
        return LearnedObject(MAIN, None, (), egress, types, self.app_selector())

    def _component_objects(
        self, component: Component, sides: Mapping[tuple[str, str], _Side], notes: Mapping[PeerSelector, str]
    ) -> list[LearnedObject]:
        merge = self.settings.merge_port_ranges
        rules: dict[str, list[LearnedRule]] = {INGRESS: [], EGRESS: []}
        entity_rules: dict[str, list[LearnedRule]] = {INGRESS: [], EGRESS: []}
        for direction in (INGRESS, EGRESS):
            found = sides.get((component.name, direction))
            if found is None or found.empty:
                continue
            rules[direction] += _selector_rules(
                direction, found.pods, found.names, self.namespace, merge, notes
            )
            rules[direction] += _address_rules(direction, found.addresses, self.settings)
            entity_rules[direction] += _selector_rules(
                direction, found.entities, found.names, self.namespace, merge, notes
            )
        out = []
        if rules[INGRESS] or rules[EGRESS]:
            types = tuple(t for t, d in (("Ingress", INGRESS), ("Egress", EGRESS)) if rules[d])
            out.append(
                LearnedObject(COMPONENT, component, tuple(rules[INGRESS]), tuple(rules[EGRESS]), types)
            )
        if entity_rules[INGRESS] or entity_rules[EGRESS]:
            out.append(
                LearnedObject(
                    CILIUM, component, tuple(entity_rules[INGRESS]), tuple(entity_rules[EGRESS]), ()
                )
            )
        return out

    def _notes(self, dns: list[Tally], open_egress: list[Tally]) -> None:
        if self.settings.egress and not dns:
            self.notes.append(
                "DNS: the recording holds no DNS flow of the app; the egress rule to kube-dns (UDP/TCP 53) "
                "is kept anyway, as name resolution breaks without it"
            )
        if open_egress:
            flows = sum(t.flows for t in open_egress)
            self.notes.append(
                f"egress stays open: {flows:,} recorded flows from the app's pods were not learned "
                "(pass --egress to restrict outbound traffic too)"
            )
        unseen = [c for c in self.components.values() if not c.observed]
        if unseen:
            names = ", ".join(
                f"{c.name} ({', '.join(c.workloads)})" for c in sorted(unseen, key=lambda c: c.name)
            )
            self.notes.append(
                f"no traffic recorded for {names}: isolated by the main policy, nothing allowed"
            )


def _connection_sort_key(key: tuple[Peer, Peer, str, int]) -> tuple[Any, ...]:
    source, destination, protocol, port = key
    return (_peer_key(source), _peer_key(destination), protocol, port)


def _peer_key(peer: Peer) -> tuple[Any, ...]:
    return (peer.kind, peer.namespace, peer.labels, peer.entity, peer.ip, peer.workload)


def learn_policy(
    observations: Observations, settings: LearnSettings, live: Sequence[Mapping[str, Any]] | None = None
) -> LearnedPolicy:
    """The narrowest policy set for the app's pods that allows every recorded connection.

    ``live``: objects of the cluster (policies, namespaces, workloads) or ``None`` without a
    cluster or snapshot. With them, workloads are named as the cluster names them, components of
    the app the recording never saw are listed, and connections that live policies which stay
    after the deploy already allow are not repeated.

    Raises :class:`InputError` when no recorded flow involves the app, or its pods appear in
    several namespaces and ``settings.namespace`` does not say which.
    """
    return _Builder(observations, settings, live).build()
