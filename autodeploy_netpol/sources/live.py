"""The live side of a run: what is in the cluster, read once and shared by every check.

:func:`read_live` builds one :class:`LiveSnapshot` from either a snapshot (``--live PATH``, read
with the one manifest reader) or the cluster (:class:`~autodeploy_netpol.sources.cluster.ClusterReader`).
Drift, ownership, the connectivity section and audit all read that same snapshot, so against a
cluster every kind is listed once per run and every section describes the same moment.

Policies must be readable (a failure is the run's error); the context the connectivity engine
uses beside them — Namespaces (their labels), CiliumClusterwideNetworkPolicies, the cluster-scoped
policy tiers (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy), OVN-Kubernetes
user-defined networks, workloads and pods — is read when the run asks for it and the role allows it; what could not be read is kept
as :class:`Unread` (what, and the API server's reason) for the report to say.

This module does not import the cluster client: the reader comes in as a :class:`ClusterLister`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import ClusterError, InputError, Location
from ..kube.manifests import FixedOrigin, Manifest
from ..kube.names import (
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CLUSTER_NETWORK_POLICY,
    CLUSTER_SCOPED_POLICY_KINDS,
    CONTROLLER_KINDS,
    DEPLOYABLE_POLICY_KINDS,
    NAMESPACE,
    NETWORK_KINDS,
    PLATFORM_KINDS,
    POD,
    POLICY_KINDS,
    SECRET,
    TIERED_POLICY_KINDS,
    VM_KINDS,
)
from .manifests import ManifestReader


@dataclass(frozen=True)
class Listing:
    """Objects of some kinds listed from a cluster, plus notes (e.g. "Cilium CRD not installed")."""

    objects: list[dict[str, Any]]
    source: str
    notes: list[str] = field(default_factory=list)


class ClusterLister(Protocol):
    """What :func:`read_live` needs of the cluster reader (``sources.cluster.ClusterReader``)."""

    def policies(self, namespace: str | None) -> Listing: ...

    def clusterwide_policies(self) -> Listing: ...

    def cluster_policies(self) -> Listing: ...

    def networks(self, namespace: str | None) -> Listing: ...

    def namespaces(self) -> Listing: ...

    def workloads(self, namespace: str | None) -> Listing: ...

    def pods(self, namespace: str | None) -> Listing: ...

    def namespace(self, name: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class LiveScope:
    """What a run reads: the policies of ``namespace`` (``None``: every namespace), plus the
    connectivity ``context`` (Namespaces, clusterwide Cilium policies, workloads) and ``pods``."""

    namespace: str | None
    context: bool = False
    #: list pods from the cluster too (a snapshot's pods are kept with the context: they cost nothing)
    pods: bool = False
    #: keep what ingress and monitoring detection reads from a snapshot (IngressClasses, Gateway
    #: API objects, Namespaces, pods and workloads of every namespace); the cluster's is read apart
    platform: bool = False
    #: list the cluster-scoped policies from the cluster too (a release can create them through
    #: customResources); a snapshot always keeps them
    cluster_policies: bool = False

    def kinds(self) -> tuple[str, ...]:
        """The kinds kept from a snapshot (Helm's release Secrets are always kept)."""
        # a release's cluster-scoped policies are kept from a snapshot whatever: the plan takes
        # those whose Helm annotations name a release of the namespace, and no other
        kinds: tuple[str, ...] = (*POLICY_KINDS, SECRET, *CLUSTER_SCOPED_POLICY_KINDS)
        if self.context or self.pods or self.platform:
            kinds += (
                CILIUM_CLUSTERWIDE_NETWORK_POLICY,
                *TIERED_POLICY_KINDS,
                NAMESPACE,
                *CONTROLLER_KINDS,
                POD,
                *VM_KINDS,
                *NETWORK_KINDS,
            )
        if self.platform:
            kinds += PLATFORM_KINDS
        return tuple(dict.fromkeys(kinds))


class NamespaceNotFound(ClusterError):
    """The namespace of the run does not exist in the cluster (exit 3): "everything missing" would
    be a lie."""


#: Names listed in a "namespace not found" message; the rest are counted.
_NAMES_SHOWN = 30


def _some(names: Sequence[str]) -> str:
    shown = ", ".join(sorted(names)[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown or "none"


@dataclass(frozen=True)
class Unread:
    """Objects a run wanted but could not read (e.g. RBAC forbids listing them), and why."""

    what: str
    reason: str
    #: what the run does without them
    consequence: str

    def __str__(self) -> str:
        return f"{self.what} not read from the cluster ({self.reason}); {self.consequence}"


@dataclass(frozen=True)
class LiveSnapshot:
    """The live state of one run: every object read, in reading order, and what was noticed."""

    source: str
    manifests: tuple[Manifest, ...]
    notes: tuple[str, ...] = ()
    unread: tuple[Unread, ...] = ()
    #: ``True`` when read from a snapshot PATH, ``False`` from the cluster
    from_snapshot: bool = False

    def of_kinds(self, kinds: Sequence[str]) -> list[dict[str, Any]]:
        """The bodies of the objects of ``kinds``, in reading order."""
        return [item.data for item in self.manifests if item.kind in kinds]

    @property
    def policies(self) -> list[dict[str, Any]]:
        """NetworkPolicies and CiliumNetworkPolicies: what drift and ownership compare."""
        return self.of_kinds(POLICY_KINDS)

    @property
    def deployable_policies(self) -> list[dict[str, Any]]:
        """Every policy kind a release can create, cluster-scoped ones included (when read)."""
        return self.of_kinds(DEPLOYABLE_POLICY_KINDS)

    def unread_kinds(self) -> tuple[str, ...]:
        """The cluster-scoped policy kinds that could not be read (a role without cluster access)."""
        return tuple(
            kind for kind in CLUSTER_SCOPED_POLICY_KINDS if any(u.what.startswith(kind) for u in self.unread)
        )

    @property
    def secrets(self) -> list[dict[str, Any]]:
        """Secrets saved in a snapshot (Helm's release records, for ``--helm-history``)."""
        return self.of_kinds((SECRET,))

    def engine_objects(self) -> list[dict[str, Any]]:
        """Everything the connectivity engine reads: policies, Namespaces, workloads and pods."""
        return [item.data for item in self.manifests if item.kind != SECRET]

    @property
    def has_namespaces(self) -> bool:
        """Whether Namespace objects were read (else namespace labels are unknown)."""
        return any(item.kind == NAMESPACE for item in self.manifests)

    def unread_notes(self) -> list[str]:
        """One sentence per kind that could not be read."""
        return [str(unread) for unread in self.unread]


def read_live(
    origin: Sequence[str] | ClusterLister, scope: LiveScope, *, reader: ManifestReader | None = None
) -> LiveSnapshot:
    """The live state from snapshot PATHs (read with ``reader``) or from the cluster."""
    if isinstance(origin, Sequence) and not isinstance(origin, str):
        return _from_snapshot(origin, scope, reader or ManifestReader())
    if isinstance(origin, str):
        raise TypeError("read_live takes a sequence of PATHs, not one string")
    return _from_cluster(origin, scope)


def _from_snapshot(paths: Sequence[str], scope: LiveScope, reader: ManifestReader) -> LiveSnapshot:
    read = reader.read(paths, what="snapshot")
    if scope.namespace is not None:
        _check_snapshot_namespace(read.items, scope.namespace, read.source)
    what = (
        "network policies" if not (scope.context or scope.pods) else "policies, namespaces, workloads or pods"
    )
    kept = read.select(scope.kinds(), what=what)
    return LiveSnapshot(kept.source, kept.items, kept.notes, from_snapshot=True)


def _check_snapshot_namespace(items: Sequence[Manifest], namespace: str, source: str) -> None:
    """A snapshot that describes other namespaces and not this one was taken from the wrong place:
    comparing with it would report every desired object as missing."""
    present = {item.namespace for item in items if item.namespace}
    present |= {item.name for item in items if item.kind == NAMESPACE}
    unplaced = any(
        item.namespace is None and item.kind not in (NAMESPACE, CILIUM_CLUSTERWIDE_NETWORK_POLICY)
        for item in items
    )
    if not present or namespace in present or unplaced:
        return  # empty, or objects without a namespace (taken to be in this one): nothing to say
    raise InputError(
        f"namespace {namespace} is not in the snapshot {source}; namespaces in it: {_some(sorted(present))}",
        hint=f"check --namespace / KUBE_NAMESPACE, or take the snapshot in that namespace "
        f"(kubectl get networkpolicies,ciliumnetworkpolicies -n {namespace} -o yaml)",
    )


def _check_cluster_namespace(
    cluster: ClusterLister, namespace: str, listed: Listing | None, listing_error: ClusterError | None
) -> list[str]:
    """Raise :class:`NamespaceNotFound` when ``namespace`` does not exist; the notes of the check.

    The namespaces listed for the run (``listed``) answer it; otherwise a get on the namespace (a
    Role in it can grant that), then a list for the message. A namespace nobody may read is a note.
    """
    if listed is not None:
        names = [str((obj.get("metadata") or {}).get("name") or "") for obj in listed.objects]
        if namespace in names:
            return []
        raise NamespaceNotFound(
            f"namespace {namespace} not found; namespaces you can read: {_some(names)} ({listed.source})",
            hint="check --namespace / KUBE_NAMESPACE and the kubeconfig context (--context / KUBE_CONTEXT): "
            "the deploy creates the namespace only when it runs",
        )
    try:
        found = cluster.namespace(namespace)
    except ClusterError as exc:
        listing = (
            f"listing namespaces is forbidden ({listing_error.message})"
            if listing_error
            else "namespaces were not listed"
        )
        return [f"could not check that namespace {namespace} exists: {listing}, and {exc.message}"]
    if found is not None:
        return []
    if listing_error is None:
        try:
            listed = cluster.namespaces()
        except ClusterError as exc:
            listing_error = exc
        else:
            return _check_cluster_namespace(cluster, namespace, listed, None)
    raise NamespaceNotFound(
        f"namespace {namespace} not found (a get on it answered 404); listing namespaces is forbidden, "
        f"so the ones you can read are not known ({listing_error.message})",
        hint="check --namespace / KUBE_NAMESPACE and the kubeconfig context (--context / KUBE_CONTEXT): "
        "the deploy creates the namespace only when it runs",
    )


def _from_cluster(cluster: ClusterLister, scope: LiveScope) -> LiveSnapshot:
    manifests: list[Manifest] = []
    notes: list[str] = []
    unread: list[Unread] = []

    def add(listing: Listing) -> None:
        origin = FixedOrigin(Location(listing.source))
        manifests.extend(Manifest(str(obj.get("kind")), obj, origin) for obj in listing.objects)
        notes.extend(listing.notes)

    namespaces: Listing | None = None
    namespaces_error: ClusterError | None = None
    if scope.context:
        try:
            namespaces = cluster.namespaces()
        except ClusterError as exc:
            namespaces_error = exc
    if scope.namespace is not None:
        notes.extend(_check_cluster_namespace(cluster, scope.namespace, namespaces, namespaces_error))
    policies = cluster.policies(scope.namespace)
    add(policies)
    optional: list[tuple[str, Callable[[], Listing], str]] = []
    if scope.context:
        if namespaces is not None:
            add(namespaces)
        else:
            assert namespaces_error is not None
            unread.append(Unread("namespaces", namespaces_error.message, "evaluated without them"))
        optional += [
            ("CiliumClusterwideNetworkPolicies", cluster.clusterwide_policies, "evaluated without them"),
            (
                "cluster-scoped policy tiers (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy)",
                cluster.cluster_policies,
                "evaluated without them: an Admin-tier Deny or a Baseline-tier rule may change the result",
            ),
            (
                "user-defined networks",
                lambda: cluster.networks(scope.namespace),
                "every pod is taken to be on the pod network",
            ),
            ("workloads", lambda: cluster.workloads(scope.namespace), "evaluated without them"),
        ]
    if scope.pods:
        optional.append(("pods", lambda: cluster.pods(scope.namespace), "workloads stand for them"))
    if scope.cluster_policies and not scope.context:  # with the context they are read already
        compared = "the release's objects of this kind are not compared"
        optional.append((CILIUM_CLUSTERWIDE_NETWORK_POLICY, cluster.clusterwide_policies, compared))
        optional.append((CLUSTER_NETWORK_POLICY, cluster.cluster_policies, compared))
    for what, read, consequence in optional:
        try:
            listing = read()
        except ClusterError as exc:
            unread.append(Unread(what, exc.message, consequence))
            continue
        add(listing)
    return LiveSnapshot(policies.source, tuple(manifests), tuple(notes), tuple(unread))
