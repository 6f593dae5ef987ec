"""The proof that comes with a learned policy: what it keeps, and what it still lets through.

1. **Nothing recorded is dropped.** Every distinct connection of the recording that involves
   the app is replayed, with its flow count, through the audit engine
   (:class:`~autodeploy_netpol.checks.audit.Audit`) against the objects in place after the
   deploy: the suggestion plus the live policies the deploy leaves alone (none without a
   cluster or snapshot). Outside addresses are replayed as the blocks they were recorded in,
   each allowed only when the whole block is — stricter than replaying the addresses one by one.
   Any flow that would be dropped fails the proof.
2. **The slack.** The connectivity engine computes, for every endpoint of the recording and
   every pod of the app (the live state adds the app's pods the recording never saw), what the
   policies allow; whatever goes beyond the recorded connections — a pair never recorded, a
   port never used, addresses of a CIDR never seen — is listed. Selectors also admit pods that
   do not exist yet but will carry the same labels; no list can show those.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import ExitCode
from ...kube.labels import RELEASE_LABEL
from ...policy import ConnectionSet, Endpoint, IntervalSet
from ...policy.intervals import NO_CONNECTIONS, cidr_range, format_ip_range
from ...policy.inventory import build_inventory
from ...policy.policies import EGRESS, INGRESS
from ...sources.flows import POD, Peer, external_peer
from ..audit import Audit, AuditResult, PolicyReachability, after_deploy, cidr_boundaries
from .policy_set import LearnedPolicy
from .record import UNSTABLE_LABELS, Observations

#: Slack entries kept one by one (all are counted).
MAX_SLACK = 500


@dataclass(frozen=True)
class SlackEntry:
    """Connections the suggestion allows beyond the recording, between two endpoints."""

    source: str
    destination: str
    allowed: str  # every protocol/port allowed, e.g. "TCP 8080-8082"
    beyond: str  # what of it the recording never showed
    reason: str  # "pair not recorded", "ports not recorded", "addresses not recorded"


@dataclass(frozen=True)
class Proof:
    audit: AuditResult
    slack: tuple[SlackEntry, ...]
    slack_count: int
    endpoints: int
    #: what the engine does not model in the policies after the deploy (L7 rules, FQDNs …)
    caveats: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.audit.would_drop == 0

    @property
    def flows(self) -> int:
        return self.audit.flows


def _is_app(peer: Peer, namespace: str, releases: Sequence[str]) -> bool:
    return (
        peer.kind == POD
        and peer.namespace == namespace
        and any(key == RELEASE_LABEL and value in releases for key, value in peer.labels)
    )


def _ports(recorded: set[tuple[str, int]]) -> ConnectionSet:
    out = NO_CONNECTIONS
    for protocol, port in recorded:
        out = out.union(ConnectionSet.of(protocol, IntervalSet([(port, port)])))
    return out


def prove(
    learned: LearnedPolicy, observations: Observations, live: Sequence[Mapping[str, Any]] | None = None
) -> Proof:
    """Replay the recording against the suggestion (audit engine), then measure its slack
    (connectivity engine)."""
    namespace = learned.namespace
    releases = learned.settings.helm_releases
    live_objects = [dict(obj) for obj in live or ()]
    after_objects = after_deploy(
        learned.manifests(), live_objects, namespace=namespace, helm_release=learned.helm_release
    ).objects
    before = PolicyReachability.from_objects(live_objects)
    after = PolicyReachability.from_objects(after_objects)
    audit = Audit(before, after)
    recorded: dict[tuple[Peer, Peer], set[tuple[str, int]]] = {}
    app_peers: set[Peer] = set()
    other_peers: set[Peer] = set()
    for (source, destination, protocol, port), tally in observations.connections.items():
        source_app = _is_app(source, namespace, releases)
        destination_app = _is_app(destination, namespace, releases)
        if not (source_app or destination_app):
            continue
        audit.add(
            source,
            destination,
            protocol,
            port,
            flows=tally.flows,
            first_seen=tally.first,
            last_seen=tally.last,
            observed=tally.verdicts,
        )
        recorded.setdefault((source, destination), set()).add((protocol, port))
        for peer, is_app in ((source, source_app), (destination, destination_app)):
            (app_peers if is_app else other_peers).add(peer)
    blocks: dict[tuple[Peer, str, str, int], list[Any]] = {}
    for (app, direction, protocol, port), addresses in observations.addresses.items():
        if not _is_app(app, namespace, releases):
            continue
        app_peers.add(app)
        for network, tally in addresses.networks():
            outside = external_peer(str(network))
            source, destination = (outside, app) if direction == INGRESS else (app, outside)
            audit.add(
                source,
                destination,
                protocol,
                port,
                flows=tally.flows,
                first_seen=tally.first,
                last_seen=tally.last,
                observed=tally.verdicts,
            )
            blocks.setdefault((app, direction, protocol, port), []).append(network)
    caveats = tuple(after.notes())
    result = audit.result(observations.stats, caveats)
    slack = _Slack(learned, after, recorded, blocks, after_objects)
    slack.pairs(app_peers, other_peers, _live_app_endpoints(live_objects, namespace, releases, app_peers))
    slack.addresses(app_peers)
    return Proof(
        result, tuple(slack.entries[:MAX_SLACK]), len(slack.entries), len(app_peers | other_peers), caveats
    )


def _live_app_endpoints(
    live: Sequence[Mapping[str, Any]], namespace: str, releases: Sequence[str], seen: set[Peer]
) -> list[tuple[str, Endpoint]]:
    """The app's pods the live state has and the recording does not (as (name, endpoint))."""
    if not live:
        return []
    known = {(peer.namespace, peer.labels) for peer in seen}
    out = []
    for workload in build_inventory(live).workloads:
        labels = tuple(item for item in workload.labels if item[0] not in UNSTABLE_LABELS)
        if (
            workload.namespace == namespace
            and dict(labels).get(RELEASE_LABEL) in releases
            and (namespace, labels) not in known
        ):
            out.append((workload.qualified_name, Endpoint.pod(namespace, dict(labels))))
    return out


class _Slack:
    def __init__(
        self,
        learned: LearnedPolicy,
        after: PolicyReachability,
        recorded: Mapping[tuple[Peer, Peer], set[tuple[str, int]]],
        blocks: Mapping[tuple[Peer, str, str, int], list[Any]],
        after_objects: Sequence[Mapping[str, Any]],
    ) -> None:
        self.learned = learned
        self.after = after
        self.model = after.model
        self.recorded = recorded
        self.blocks = blocks
        self.after_objects = after_objects
        self.entries: list[SlackEntry] = []
        self.names: dict[Peer, str] = {}

    def _add(
        self, source: str, destination: str, allowed: ConnectionSet, beyond: ConnectionSet, reason: str
    ) -> None:
        self.entries.append(SlackEntry(source, destination, allowed.describe(), beyond.describe(), reason))

    def pairs(self, app: set[Peer], others: set[Peer], unseen: Sequence[tuple[str, Endpoint]]) -> None:
        """Endpoint pairs (an app pod at the constrained end) and the ports allowed beyond the recording."""
        egress = self.learned.settings.egress
        self.names = _unique_names(app | others)
        endpoints = [(self.names[peer], self.after.endpoint(peer), peer) for peer in _ordered(app | others)]
        targets: list[tuple[str, Endpoint, Peer | None]] = [
            (self.names[peer], self.after.endpoint(peer), peer) for peer in _ordered(app)
        ]
        targets += [(name, endpoint, None) for name, endpoint in unseen]
        done: set[tuple[Endpoint, Endpoint]] = set()
        for target_name, target, target_peer in targets:
            directions = [INGRESS, EGRESS] if egress else [INGRESS]
            for direction in directions:
                for other_name, other, other_peer in endpoints:
                    if other == target:
                        continue
                    source, destination = (other, target) if direction == INGRESS else (target, other)
                    if (source, destination) in done:
                        continue
                    done.add((source, destination))
                    allowed = self.model.connectivity(source, destination).allowed
                    if not allowed:
                        continue
                    pair = (other_peer, target_peer) if direction == INGRESS else (target_peer, other_peer)
                    seen = self.recorded.get(pair) if None not in pair else None  # type: ignore[arg-type]
                    beyond = allowed.difference(_ports(seen or set()))
                    if beyond:
                        names = (
                            (other_name, target_name) if direction == INGRESS else (target_name, other_name)
                        )
                        self._add(
                            *names, allowed, beyond, "ports not recorded" if seen else "pair not recorded"
                        )

    def addresses(self, app: set[Peer]) -> None:
        """Address ranges (cut wherever a policy's CIDR begins or ends) allowed beyond the recorded blocks."""
        cuts = sorted(set(cidr_boundaries(self.after_objects)))
        if not cuts:
            return
        ranges = [(lo, hi - 1) for lo, hi in itertools.pairwise(cuts) if hi > lo]
        directions = [INGRESS, EGRESS] if self.learned.settings.egress else [INGRESS]
        for peer in _ordered(app):
            target = self.after.endpoint(peer)
            for direction in directions:
                for lo, hi in ranges:
                    outside = Endpoint.address_range(lo, hi)
                    pair = (outside, target) if direction == INGRESS else (target, outside)
                    allowed = self.model.connectivity(*pair).allowed
                    if not allowed:
                        continue
                    beyond = NO_CONNECTIONS
                    for protocol, ports in allowed.items():
                        for single in _expand(protocol, ports):
                            if not self._covered(peer, direction, single, lo, hi):
                                beyond = beyond.union(single)
                    if beyond:
                        text = format_ip_range(lo, hi)
                        name = self.names.get(peer, peer.workload)
                        names = (text, name) if direction == INGRESS else (name, text)
                        reason = (
                            "addresses not recorded"
                            if self._recorded_in(peer, direction, lo, hi)
                            else "pair not recorded"
                        )
                        self._add(*names, allowed, beyond, reason)

    def _recorded_in(self, peer: Peer, direction: str, lo: int, hi: int) -> bool:
        """Whether any block recorded for this app pod and direction lies in [lo, hi]."""
        return any(
            IntervalSet([_span(network)]).overlaps(lo, hi)
            for (app, way, _, _), networks in self.blocks.items()
            if app == peer and way == direction
            for network in networks
        )

    def _covered(self, peer: Peer, direction: str, connections: ConnectionSet, lo: int, hi: int) -> bool:
        """Whether recorded addresses on this one port fill the range [lo, hi] entirely."""
        items = connections.items()
        if len(items) != 1 or "-" in items[0][1] or items[0][0] == "all" or items[0][1] == "all":
            return False
        protocol, port = items[0][0], int(items[0][1])
        # Only single addresses count as recorded: a block widened by --cidr-prefix (or to bound
        # memory) holds addresses the recording never showed.
        networks = self.blocks.get((peer, direction, protocol, port), [])
        covered = IntervalSet(_span(network) for network in networks if network.num_addresses == 1)
        return covered.contains_range(lo, hi)


def _span(network: Any) -> tuple[int, int]:
    return cidr_range(str(network))


def _expand(protocol: str, ports: str) -> list[ConnectionSet]:
    """One connection set per single port of ``ports`` when it is a short range, else the range."""
    if ports == "all":
        return [ConnectionSet.of("ANY" if protocol == "all" else protocol, IntervalSet([(1, 65535)]))]
    lo, _, hi = ports.partition("-")
    low, high = int(lo), int(hi or lo)
    name = "ANY" if protocol == "all" else protocol
    if high - low > 64:
        return [ConnectionSet.of(name, IntervalSet([(low, high)]))]
    return [ConnectionSet.of(name, IntervalSet([(port, port)])) for port in range(low, high + 1)]


def _unique_names(peers: set[Peer]) -> dict[Peer, str]:
    """Workload names, with the labels that tell apart endpoints sharing one (the tracks of a
    component recorded without workload names: ``shop/production {track=canary}``)."""
    by_name: dict[str, list[Peer]] = {}
    for peer in peers:
        by_name.setdefault(peer.workload, []).append(peer)
    names = {}
    for name, group in by_name.items():
        if len(group) == 1:
            names[group[0]] = name
            continue
        shared = set.intersection(*(set(peer.labels) for peer in group))
        for peer in group:
            differing = ",".join(f"{k}={v}" for k, v in peer.labels if (k, v) not in shared)
            names[peer] = f"{name} {{{differing}}}" if differing else name
    return names


def _ordered(peers: set[Peer]) -> list[Peer]:
    return sorted(peers, key=lambda p: (p.kind, p.namespace, p.labels, p.entity, p.ip, p.workload))


@dataclass(frozen=True)
class LearnOutcome:
    """A learned policy with everything its report shows: the recording's aggregate, the proof,
    where the live state came from (``"snapshot live.yaml"``, ``"cluster, namespace shop"``,
    ``"none …"``) and the notes of reading it."""

    observations: Observations
    learned: LearnedPolicy
    proof: Proof
    live_source: str = "none (no --live or cluster)"
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> ExitCode:
        """0 when the proof holds; :attr:`ExitCode.PROOF` when recorded flows would be dropped."""
        return ExitCode.OK if self.proof.passed else ExitCode.PROOF


__all__ = ["MAX_SLACK", "LearnOutcome", "Proof", "SlackEntry", "prove"]
