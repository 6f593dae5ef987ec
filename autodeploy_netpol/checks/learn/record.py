"""Recorded flows → the distinct connections of the app's pods, counted as they stream by.

The reader (:func:`~autodeploy_netpol.sources.flows.read_flows`) already leaves out replies,
packets of established connections and L7 records; what arrives here is one
:class:`~autodeploy_netpol.sources.flows.Flow` per new connection. The recorder keeps, for
every distinct connection that has one of the app's pods at one end, how many flows it saw,
when first and last, and the verdicts the recording holds. Memory grows with distinct
connections, never with flows:

* endpoints are keyed by their *stable* labels (:data:`UNSTABLE_LABELS` left out), so the
  replicas of a Deployment, the pods of every revision, and a StatefulSet's pods are one peer;
* outside addresses are kept per (app pod, direction, protocol, port) as address blocks of
  ``--cidr-prefix`` bits; when more than :data:`MAX_BLOCKS` blocks pile up, the blocks are
  widened one bit at a time (the result depends on the set of addresses only, not on their
  order); :mod:`.cidrs` later joins them into a few CIDRs;
* flows that do not involve the app are counted, not kept.

The loop in :meth:`FlowRecorder.run` costs one dictionary lookup per flow once a connection is
known (bench/learn.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ...kube.labels import RELEASE_LABEL
from ...policy.policies import EGRESS, INGRESS
from ...sources.flows import EXTERNAL, POD, Flow, Peer, ReadStats

#: Labels that tell one pod, one revision or one run from the next. A selector on them would
#: match one pod, or stop matching at the next rollout, so learned selectors leave them out.
PER_POD_LABELS = frozenset(
    {
        "pod-template-hash",  # Deployment: the ReplicaSet revision
        "controller-revision-hash",  # StatefulSet, DaemonSet: the revision
        "pod-template-generation",  # DaemonSet (older clusters)
        "statefulset.kubernetes.io/pod-name",  # one pod of a StatefulSet
        "apps.kubernetes.io/pod-index",  # StatefulSet ordinal (Kubernetes 1.28+)
        "job-name",  # one run of a Job / CronJob
        "controller-uid",
        "batch.kubernetes.io/job-name",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-completion-index",
    }
)
#: Labels that change with every chart or image upgrade (the auto-deploy-app chart writes
#: ``chart: auto-deploy-app-<version>`` on every pod).
VERSION_LABELS = frozenset(
    {"chart", "helm.sh/chart", "app.kubernetes.io/version", "service.istio.io/canonical-revision"}
)
UNSTABLE_LABELS = PER_POD_LABELS | VERSION_LABELS
#: The label the auto-deploy-app chart puts on web *and* worker pods: the Helm release of the track.

#: Address blocks kept per (app pod, direction, protocol, port) before they are widened.
MAX_BLOCKS = 256
#: Flushed when full: these caches only save time.
MAX_CACHED = 200_000
#: Release names remembered for the "no flow involves the release" hint.
MAX_RELEASES_SEEN = 50


@dataclass(slots=True)
class Tally:
    """Flows of one connection: how many, first and last seen, and the recorded verdicts."""

    flows: int = 0
    first: str = ""
    last: str = ""
    verdicts: dict[str, int] = field(default_factory=dict)

    def absorb(self, other: Tally) -> None:
        """Add ``other``'s flows to this tally."""
        self.flows += other.flows
        if other.first and (not self.first or other.first < self.first):
            self.first = other.first
        if other.last > self.last:
            self.last = other.last
        for verdict, count in other.verdicts.items():
            self.verdicts[verdict] = self.verdicts.get(verdict, 0) + count


def total(tallies: Iterable[Tally]) -> Tally:
    """One tally for many."""
    out = Tally()
    for tally in tallies:
        out.absorb(tally)
    return out


class AddressTally:
    """Outside addresses seen on one (app pod, direction, protocol, port), as address blocks.

    ``prefix4`` / ``prefix6`` start at the ``--cidr-prefix`` bound and shrink (blocks widen)
    whenever more than :data:`MAX_BLOCKS` blocks of a family are held.
    """

    __slots__ = ("blocks4", "blocks6", "prefix4", "prefix6")

    def __init__(self, prefix4: int, prefix6: int) -> None:
        self.prefix4 = prefix4
        self.prefix6 = prefix6
        self.blocks4: dict[int, Tally] = {}
        self.blocks6: dict[int, Tally] = {}

    def block(self, ip: str) -> tuple[Tally, bool]:
        """The tally of the block holding ``ip``, and whether blocks were widened to make room."""
        address = ipaddress.ip_address(ip)
        if address.version == 4:
            key = int(address) >> (32 - self.prefix4)
            blocks = self.blocks4
        else:
            key = int(address) >> (128 - self.prefix6)
            blocks = self.blocks6
        tally = blocks.get(key)
        if tally is not None:
            return tally, False
        tally = blocks[key] = Tally()
        if len(blocks) <= MAX_BLOCKS:
            return tally, False
        self._widen(address.version)
        return self.block(ip)[0], True

    def _widen(self, version: int) -> None:
        blocks = self.blocks4 if version == 4 else self.blocks6
        prefix = self.prefix4 if version == 4 else self.prefix6
        while len(blocks) > MAX_BLOCKS and prefix > 0:
            wider: dict[int, Tally] = {}
            for key, tally in blocks.items():
                merged = wider.get(key >> 1)
                if merged is None:
                    wider[key >> 1] = tally
                else:
                    merged.absorb(tally)
            blocks, prefix = wider, prefix - 1
        if version == 4:
            self.blocks4, self.prefix4 = blocks, prefix
        else:
            self.blocks6, self.prefix6 = blocks, prefix

    def networks(self) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Tally]]:
        """The blocks as networks, IPv4 first, each in address order."""
        out: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Tally]] = []
        for key in sorted(self.blocks4):
            network = ipaddress.IPv4Network((key << (32 - self.prefix4), self.prefix4))
            out.append((network, self.blocks4[key]))
        for key in sorted(self.blocks6):
            network6 = ipaddress.IPv6Network((key << (128 - self.prefix6), self.prefix6))
            out.append((network6, self.blocks6[key]))
        return out

    def total(self) -> Tally:
        return total([*self.blocks4.values(), *self.blocks6.values()])


ConnectionKey = tuple[Peer, Peer, str, int]  # (source, destination, protocol, port), stable peers
AddressKey = tuple[Peer, str, str, int]  # (app pod, direction, protocol, port)


@dataclass
class Observations:
    """What the recording says about the app's pods.

    ``connections``: both ends inside the cluster (pods or Cilium entities), at least one a pod
    of the app. ``addresses``: an app pod and addresses outside the cluster. Peers carry their
    stable labels only. ``unrelated`` counts the flows that involve no pod of the app.
    """

    helm_releases: tuple[str, ...]
    namespace: str | None
    connections: dict[ConnectionKey, Tally]
    addresses: dict[AddressKey, AddressTally]
    unrelated: Tally
    app_namespaces: set[str]
    releases_seen: set[str]
    stats: ReadStats
    cidr_prefix4: int
    cidr_prefix6: int

    @property
    def app_flows(self) -> int:
        return sum(t.flows for t in self.connections.values()) + sum(
            a.total().flows for a in self.addresses.values()
        )


class FlowRecorder:
    """Counts the flows of the app's pods: those labelled ``release`` with one of ``helm_releases``
    (the web and worker pods of every track), in ``namespace`` (any, when ``None``)."""

    def __init__(
        self,
        helm_releases: Sequence[str],
        namespace: str | None = None,
        *,
        cidr_prefix4: int = 32,
        cidr_prefix6: int = 128,
    ) -> None:
        self.helm_releases = tuple(helm_releases)
        self._releases = frozenset(helm_releases)
        self.namespace = namespace
        self.cidr_prefix4 = cidr_prefix4
        self.cidr_prefix6 = cidr_prefix6
        self.connections: dict[ConnectionKey, Tally] = {}
        self.addresses: dict[AddressKey, AddressTally] = {}
        self.unrelated = Tally()
        self.app_namespaces: set[str] = set()
        self.releases_seen: set[str] = set()
        # raw (source, destination, protocol, port) → the tally its flows count towards
        self._cache: dict[tuple[Peer, Peer, str, int], Tally] = {}
        self._is_app: dict[Peer, bool] = {}
        self._stable: dict[Peer, Peer] = {}

    # ------------------------------------------------------------------------------ per peer

    def is_app(self, peer: Peer) -> bool:
        """Whether ``peer`` is one of the app's pods (cached)."""
        known = self._is_app.get(peer)
        if known is None:
            known = False
            if peer.kind == POD:
                release = next((value for key, value in peer.labels if key == RELEASE_LABEL), None)
                if release is not None:
                    if len(self.releases_seen) < MAX_RELEASES_SEEN:
                        self.releases_seen.add(release)
                    if release in self._releases and (
                        self.namespace is None or peer.namespace == self.namespace
                    ):
                        known = True
                        self.app_namespaces.add(peer.namespace)
            if len(self._is_app) >= MAX_CACHED:
                self._is_app.clear()
            self._is_app[peer] = known
        return known

    def stable(self, peer: Peer) -> Peer:
        """``peer`` with its stable labels only (cached)."""
        if peer.kind != POD:
            return peer
        found = self._stable.get(peer)
        if found is None:
            labels = tuple(item for item in peer.labels if item[0] not in UNSTABLE_LABELS)
            found = (
                peer
                if len(labels) == len(peer.labels)
                else Peer(
                    POD,
                    workload=peer.workload,
                    namespace=peer.namespace,
                    labels=labels,
                    namespace_labels=peer.namespace_labels,
                )
            )
            if len(self._stable) >= MAX_CACHED:
                self._stable.clear()
            self._stable[peer] = found
        return found

    # ------------------------------------------------------------------------------ per flow

    def _miss(self, source: Peer, destination: Peer, protocol: str, port: int) -> Tally:
        source_app = self.is_app(source)
        destination_app = self.is_app(destination)
        widened = False
        if not (source_app or destination_app):
            tally = self.unrelated
        elif destination.kind == EXTERNAL and destination.ip:
            tally, widened = self._address(source, EGRESS, protocol, port, destination.ip)
        elif source.kind == EXTERNAL and source.ip:
            tally, widened = self._address(destination, INGRESS, protocol, port, source.ip)
        else:
            key = (self.stable(source), self.stable(destination), protocol, port)
            found = self.connections.get(key)
            if found is None:
                found = self.connections[key] = Tally()
            tally = found
        cache = self._cache
        if widened or len(cache) >= MAX_CACHED:
            cache.clear()  # cached blocks may have been merged away
        cache[(source, destination, protocol, port)] = tally
        return tally

    def _address(self, app: Peer, direction: str, protocol: str, port: int, ip: str) -> tuple[Tally, bool]:
        key = (self.stable(app), direction, protocol, port)
        addresses = self.addresses.get(key)
        if addresses is None:
            addresses = self.addresses[key] = AddressTally(self.cidr_prefix4, self.cidr_prefix6)
        return addresses.block(ip)

    def run(self, flows: Iterable[Flow]) -> None:
        """Count every flow of ``flows``."""
        # Hot path (bench/learn.py): one dictionary lookup per flow once the connection is known.
        cache = self._cache
        miss = self._miss
        for flow in flows:
            source, destination, protocol, port, time, verdict = flow
            tally = cache.get((source, destination, protocol, port))
            if tally is None:
                tally = miss(source, destination, protocol, port)
            tally.flows += 1
            if time:
                if time > tally.last:
                    tally.last = time
                if time < tally.first or not tally.first:
                    tally.first = time
            verdicts = tally.verdicts
            verdicts[verdict] = verdicts.get(verdict, 0) + 1

    def observations(self, stats: ReadStats) -> Observations:
        """What was counted so far."""
        return Observations(
            helm_releases=self.helm_releases,
            namespace=self.namespace,
            connections=self.connections,
            addresses=self.addresses,
            unrelated=self.unrelated,
            app_namespaces=set(self.app_namespaces),
            releases_seen=set(self.releases_seen),
            stats=stats,
            cidr_prefix4=self.cidr_prefix4,
            cidr_prefix6=self.cidr_prefix6,
        )
