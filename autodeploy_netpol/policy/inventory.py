"""What is in the cluster, from manifests: namespaces, workloads (with their pods' labels and
named ports) and policies, split out of any mix of objects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kube.defaults import CONTAINER_PORT_PROTOCOL, NAMESPACE_NAME_LABEL
from ..kube.names import (
    ALL_POLICY_KINDS,
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CLUSTER_NETWORK_POLICY,
    WORKLOAD_KINDS,
)
from .endpoints import NamedPort


@dataclass(frozen=True, order=True)
class Workload:
    """Pods that share namespace, controller, labels and named ports (one equivalence class member).

    ``name`` is the controller's (Deployment name; the Pod name for a bare pod).
    """

    namespace: str
    name: str
    kind: str
    labels: tuple[tuple[str, str], ...]
    named_ports: tuple[NamedPort, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass
class Inventory:
    """Objects sorted by role. ``namespaces`` maps name → labels (metadata.name label added)."""

    policies: list[Mapping[str, Any]] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    #: indexes into the input of the objects that became policies (to locate errors)
    policy_origins: list[int] = field(default_factory=list)
    #: policies of kinds the engine reads but does not model (said in every report, never guessed)
    unmodelled: list[str] = field(default_factory=list)

    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        merged = {str(k): str(v) for k, v in (labels or {}).items()}
        merged.setdefault(NAMESPACE_NAME_LABEL, name)
        self.namespaces.setdefault(name, {}).update(merged)


def namespace_labels(name: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    """Namespace labels as the API server serves them since 1.21 (with ``kubernetes.io/metadata.name``)."""
    merged = {str(k): str(v) for k, v in (labels or {}).items()}
    merged.setdefault(NAMESPACE_NAME_LABEL, name)
    return merged


def _pod_template(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = manifest.get("kind")
    spec = manifest.get("spec") or {}
    if not isinstance(spec, Mapping):
        return None
    if kind == "Pod":
        return manifest
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template") if isinstance(spec, Mapping) else None
    return template if isinstance(template, Mapping) else None


def _named_ports(pod_spec: Mapping[str, Any]) -> tuple[NamedPort, ...]:
    ports: set[NamedPort] = set()
    containers = [*(pod_spec.get("containers") or []), *(pod_spec.get("initContainers") or [])]
    for container in containers:
        if not isinstance(container, Mapping):
            continue
        for port in container.get("ports") or []:
            if isinstance(port, Mapping) and port.get("name") and port.get("containerPort") is not None:
                try:
                    number = int(port["containerPort"])
                except (TypeError, ValueError):
                    continue
                ports.add(
                    (str(port["name"]), str(port.get("protocol") or CONTAINER_PORT_PROTOCOL).upper(), number)
                )
    return tuple(sorted(ports))


def _controller_name(manifest: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[str, str]:
    """(kind, name) of the controller owning a Pod or ReplicaSet, or the object itself."""
    metadata = manifest.get("metadata") or {}
    name = str(metadata.get("name") or metadata.get("generateName") or "(unnamed)")
    for owner in metadata.get("ownerReferences") or []:
        if not isinstance(owner, Mapping) or not owner.get("controller", True):
            continue
        owner_kind, owner_name = str(owner.get("kind")), str(owner.get("name"))
        if owner_kind == "ReplicaSet":
            template_hash = labels.get("pod-template-hash")
            if template_hash and owner_name.endswith(f"-{template_hash}"):
                return "Deployment", owner_name[: -len(template_hash) - 1]
        return owner_kind, owner_name
    return str(manifest.get("kind")), name


def workload_of(manifest: Mapping[str, Any], default_namespace: str = "default") -> Workload | None:
    """The workload a Pod or controller manifest stands for (``None`` when it has no pod template)."""
    template = _pod_template(manifest)
    if template is None:
        return None
    metadata = manifest.get("metadata") or {}
    template_metadata = template.get("metadata") or {}
    raw_labels = template_metadata.get("labels") or {}
    labels = (
        {str(k): "" if v is None else str(v) for k, v in raw_labels.items()}
        if isinstance(raw_labels, Mapping)
        else {}
    )
    namespace = str(metadata.get("namespace") or default_namespace)
    kind, name = (
        _controller_name(manifest, labels)
        if manifest.get("kind") in ("Pod", "ReplicaSet", "Job")
        else (
            str(manifest.get("kind")),
            str(metadata.get("name") or "(unnamed)"),
        )
    )
    pod_spec = template.get("spec") or {}
    named = _named_ports(pod_spec) if isinstance(pod_spec, Mapping) else ()
    return Workload(namespace, name, kind, tuple(sorted(labels.items())), named)


def build_inventory(objects: Iterable[Mapping[str, Any]], default_namespace: str = "default") -> Inventory:
    """Sort manifests into policies, namespaces and workloads; other kinds are ignored.

    Every namespace a workload or policy lives in exists, even without a Namespace object
    (with only the ``kubernetes.io/metadata.name`` label). Identical workloads (a Deployment
    and its ReplicaSet, or several replicas) collapse into one.
    """
    inventory = Inventory()
    seen: set[Workload] = set()
    for index, manifest in enumerate(objects):
        if type(manifest) is not dict and not isinstance(manifest, Mapping):
            continue
        kind = manifest.get("kind")
        metadata = manifest.get("metadata") or {}
        if type(metadata) is not dict and not isinstance(metadata, Mapping):
            metadata = {}
        if kind in ALL_POLICY_KINDS:
            inventory.policies.append(manifest)
            inventory.policy_origins.append(index)
            if kind != CILIUM_CLUSTERWIDE_NETWORK_POLICY:
                namespace = str(metadata.get("namespace") or default_namespace)
                if inventory.namespaces.get(namespace, {}).get(NAMESPACE_NAME_LABEL) != namespace:
                    inventory.add_namespace(namespace)  # (thousands of policies share a few namespaces)
        elif kind == CLUSTER_NETWORK_POLICY:
            spec: Mapping[str, Any] = manifest["spec"] if isinstance(manifest.get("spec"), Mapping) else {}
            inventory.unmodelled.append(
                f"ClusterNetworkPolicy {metadata.get('name')} (tier {spec.get('tier')}, priority "
                f"{spec.get('priority')}): not modelled - the analysis leaves out what it accepts, denies or "
                "passes to the next tier"
            )
        elif kind == "Namespace":
            labels = metadata.get("labels")
            inventory.add_namespace(
                str(metadata.get("name")), labels if isinstance(labels, Mapping) else None
            )
        elif kind in WORKLOAD_KINDS:
            workload = workload_of(manifest, default_namespace)
            if workload is not None and workload not in seen:
                seen.add(workload)
                inventory.workloads.append(workload)
                inventory.add_namespace(workload.namespace)
    inventory.workloads.sort()
    return inventory
