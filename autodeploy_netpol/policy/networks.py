"""Which network each namespace's pods are on: the cluster's pod network, or a primary
user-defined network of OVN-Kubernetes (``k8s.ovn.org/v1``).

A UserDefinedNetwork (namespaced) or ClusterUserDefinedNetwork (``spec.namespaceSelector``)
whose ``layer2``/``layer3`` ``role`` is ``Primary`` replaces the pod network of the namespaces it
serves — those carrying the ``k8s.ovn.org/primary-user-defined-network`` label, which OVN-Kubernetes
requires. Pods on different networks cannot reach each other whatever the policies say; every
network reaches addresses outside the cluster. Secondary networks (extra interfaces, with their
MultiNetworkPolicies) are not modelled: reports say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kube.defaults import DEFAULT_POD_NETWORK, PRIMARY_ROLE, PRIMARY_UDN_LABEL
from ..kube.names import CLUSTER_USER_DEFINED_NETWORK, OVN_GROUP, USER_DEFINED_NETWORK
from .selectors import SelectorError, compile_selector


@dataclass(frozen=True)
class Networks:
    """``namespace → network`` for namespaces off the pod network, and what was noticed."""

    of_namespace: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def network(self, namespace: str) -> str:
        return self.of_namespace.get(namespace, DEFAULT_POD_NETWORK)

    @property
    def any(self) -> bool:
        return bool(self.of_namespace)


NO_NETWORKS = Networks()


def is_network(manifest: Mapping[str, Any]) -> bool:
    """A (Cluster)UserDefinedNetwork of OVN-Kubernetes (the group decides when given)."""
    if manifest.get("kind") not in (USER_DEFINED_NETWORK, CLUSTER_USER_DEFINED_NETWORK):
        return False
    api_version = manifest.get("apiVersion")
    return api_version is None or str(api_version).split("/")[0] == OVN_GROUP


def _role(spec: Mapping[str, Any]) -> str | None:
    for topology in ("layer2", "layer3"):
        body = spec.get(topology)
        if isinstance(body, Mapping) and body.get("role"):
            return str(body["role"])
    return None


def primary_networks(
    manifests: Iterable[Mapping[str, Any]], namespaces: Mapping[str, Mapping[str, str]]
) -> Networks:
    """The primary network of each namespace the user-defined networks ``manifests`` serve."""
    of_namespace: dict[str, str] = {}
    notes: list[str] = []

    def claim(namespace: str, network: str) -> None:
        labels = namespaces.get(namespace, {})
        if PRIMARY_UDN_LABEL not in labels:
            notes.append(
                f"{network}: namespace {namespace} lacks the {PRIMARY_UDN_LABEL} label, so OVN-Kubernetes "
                "does not make it its primary network (its pods stay on the pod network)"
            )
            return
        previous = of_namespace.get(namespace)
        if previous is not None and previous != network:
            notes.append(
                f"namespace {namespace} is claimed by two primary networks ({previous}, {network}); {previous} is used"
            )
            return
        of_namespace[namespace] = network

    for manifest in manifests:
        metadata = manifest.get("metadata") or {}
        name = str(metadata.get("name") or "(unnamed)")
        kind = manifest.get("kind")
        if kind == USER_DEFINED_NETWORK:
            spec = manifest.get("spec") or {}
            namespace = str(metadata.get("namespace") or "default")
            network = f"{namespace}/{name} (UserDefinedNetwork)"
        else:
            spec = (manifest.get("spec") or {}).get("network") or {}
            network = f"{name} (ClusterUserDefinedNetwork)"
        role = _role(spec) if isinstance(spec, Mapping) else None
        if role != PRIMARY_ROLE:
            notes.append(f"{network}: role {role or '(none)'} — a secondary network is not modelled")
            continue
        if kind == USER_DEFINED_NETWORK:
            claim(namespace, network)
            continue
        try:
            selector = compile_selector((manifest.get("spec") or {}).get("namespaceSelector") or {})
        except SelectorError as error:
            notes.append(f"{network}: namespaceSelector not understood ({error.message}): ignored")
            continue
        for namespace, labels in sorted(namespaces.items()):
            if selector.matches(labels) and PRIMARY_UDN_LABEL in labels:
                claim(namespace, network)
    for namespace, labels in sorted(namespaces.items()):
        if PRIMARY_UDN_LABEL in labels and namespace not in of_namespace:
            notes.append(
                f"namespace {namespace} carries {PRIMARY_UDN_LABEL} but no primary user-defined network "
                "serves it (OVN-Kubernetes starts no pod there): its pods are analysed on the pod network"
            )
    return Networks(of_namespace, tuple(dict.fromkeys(notes)))
