"""What is in the cluster, from manifests: namespaces, workloads (with their pods' labels and
named ports) and policies, split out of any mix of objects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kube.defaults import CONTAINER_PORT_PROTOCOL, NAMESPACE_NAME_LABEL
from ..kube.names import (
    KUBEVIRT_GROUP,
    NETWORK_KINDS,
    NODE,
    POD,
    POLICY_KINDS,
    REPLICA_SET,
    UNMODELLED_NETWORK_KINDS,
    VIRTUAL_MACHINE_INSTANCE,
    VM_KINDS,
    WORKLOAD_KINDS,
)
from .endpoints import NamedPort
from .networks import is_network
from .policies import COMPILED_KINDS, is_compiled


@dataclass(frozen=True, order=True)
class Workload:
    """Pods that share namespace, controller, labels and named ports (one equivalence class member).

    ``name`` is the controller's (Deployment name; the Pod name for a bare pod or a static pod).
    A controller whose pods differ (the two ReplicaSets of a rolling update, a pod template
    beside pods created from an older one) is several Workload entries with one ``qualified_name``:
    :func:`display_names` names each variant.
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
    #: OVN-Kubernetes user-defined networks (see :mod:`.networks`)
    networks: list[Mapping[str, Any]] = field(default_factory=list)
    #: objects the engine does not model, counted by kind (``Kind (group)`` when the group matters)
    unmodelled: dict[str, int] = field(default_factory=dict)
    #: namespaces a Namespace object describes (the others are known by name only)
    described: set[str] = field(default_factory=set)

    def unmodelled_notes(self) -> list[str]:
        """One line for the kinds that change traffic but are not modelled (each with what that
        means), one for the kinds that do not change who can reach whom."""
        return unmodelled_notes(self.unmodelled)

    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        merged = {str(k): str(v) for k, v in (labels or {}).items()}
        merged.setdefault(NAMESPACE_NAME_LABEL, name)
        self.namespaces.setdefault(name, {}).update(merged)


def _kind_label(manifest: Mapping[str, Any]) -> str:
    kind = str(manifest.get("kind"))
    group = str(manifest.get("apiVersion") or "").rpartition("/")[0]
    if kind in COMPILED_KINDS or kind in NETWORK_KINDS or kind in VM_KINDS:
        return (
            f"{kind} ({manifest.get('apiVersion')})"  # a kind the engine reads, from another group or version
        )
    return f"{kind} ({group})" if kind in UNMODELLED_NETWORK_KINDS and group else kind


def unmodelled_notes(counts: Mapping[str, int]) -> list[str]:
    """Notes for objects the engine read and did not model (see :meth:`Inventory.unmodelled_notes`)."""
    notes = []
    quiet: list[str] = []
    for label, count in sorted(counts.items()):
        kind = label.split(" (", 1)[0]
        effect = UNMODELLED_NETWORK_KINDS.get(kind)
        objects = f"{count} object{'s' if count != 1 else ''}"
        if effect is not None:
            notes.append(f"kind {label} ({objects}) not modelled: {effect}")
        elif kind in COMPILED_KINDS or kind in NETWORK_KINDS or kind in VM_KINDS:
            notes.append(
                f"kind {label} ({objects}) not modelled: an API group or version the engine does not read"
            )
        else:
            quiet.append(f"{label} ({count})")
    if quiet:
        notes.append(f"kinds not modelled, no effect on who can reach whom: {', '.join(quiet)}")
    return notes


def namespace_labels(name: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    """Namespace labels as the API server serves them since 1.21 (with ``kubernetes.io/metadata.name``)."""
    merged = {str(k): str(v) for k, v in (labels or {}).items()}
    merged.setdefault(NAMESPACE_NAME_LABEL, name)
    return merged


def _is_vm(manifest: Mapping[str, Any]) -> bool:
    api_version = manifest.get("apiVersion")
    return manifest.get("kind") in VM_KINDS and (
        api_version is None or str(api_version).split("/")[0] == KUBEVIRT_GROUP
    )


def _map(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else empty: a field of the wrong type (which the API server
    would have refused) counts as absent. Only labels and named ports are read from a workload."""
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def _seq(value: Any) -> list[Any]:
    """``value`` when it is a list, else empty (as :func:`_map`)."""
    return value if isinstance(value, list) else []


def _pod_template(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = manifest.get("kind")
    spec = manifest.get("spec") or {}
    if not isinstance(spec, Mapping):
        return None
    if kind in ("Pod", VIRTUAL_MACHINE_INSTANCE):
        return manifest
    if kind == "CronJob":
        spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    template = spec.get("template")
    return template if isinstance(template, Mapping) else None


def _vm_named_ports(vm_spec: Mapping[str, Any]) -> tuple[NamedPort, ...]:
    """Named ports of a KubeVirt VM: ``domain.devices.interfaces[].ports[]`` (``port``, ``protocol``)."""
    ports: set[NamedPort] = set()
    devices = _map(_map(vm_spec.get("domain")).get("devices"))
    for interface in _seq(devices.get("interfaces")):
        for port in _seq(_map(interface).get("ports")):
            if isinstance(port, Mapping) and port.get("name") and isinstance(port.get("port"), int):
                ports.add(
                    (
                        str(port["name"]),
                        str(port.get("protocol") or CONTAINER_PORT_PROTOCOL).upper(),
                        port["port"],
                    )
                )
    return tuple(sorted(ports))


def _named_ports(pod_spec: Mapping[str, Any]) -> tuple[NamedPort, ...]:
    ports: set[NamedPort] = set()
    for container in (*_seq(pod_spec.get("containers")), *_seq(pod_spec.get("initContainers"))):
        for port in _seq(_map(container).get("ports")):
            if isinstance(port, Mapping) and port.get("name") and port.get("containerPort") is not None:
                try:
                    number = int(port["containerPort"])
                except (TypeError, ValueError, OverflowError):
                    continue
                ports.add(
                    (str(port["name"]), str(port.get("protocol") or CONTAINER_PORT_PROTOCOL).upper(), number)
                )
    return tuple(sorted(ports))


def _controller_name(manifest: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[str, str]:
    """(kind, name) of the controller owning a Pod or ReplicaSet, or the object itself.

    A static pod's mirror pod is "owned" by its Node, which controls no pods: it stays a Pod of
    its own (every static pod of a node differs). An owner reference without a kind names its
    owner as a Pod would (netpol-analyzer does the same).
    """
    metadata = _map(manifest.get("metadata"))
    name = str(metadata.get("name") or metadata.get("generateName") or "(unnamed)")
    for owner in _seq(metadata.get("ownerReferences")):
        if not isinstance(owner, Mapping) or not owner.get("controller", True):
            continue
        owner_kind, owner_name = str(owner.get("kind") or POD), str(owner.get("name"))
        if owner_kind == NODE:
            break
        if owner_kind == REPLICA_SET:
            template_hash = labels.get("pod-template-hash")
            if template_hash and owner_name.endswith(f"-{template_hash}"):
                return "Deployment", owner_name[: -len(template_hash) - 1]
        return owner_kind, owner_name
    return str(manifest.get("kind")), name


def workload_of(manifest: Mapping[str, Any], default_namespace: str = "default") -> Workload | None:
    """The workload a Pod, controller or KubeVirt VM manifest stands for (``None`` when it has no
    pod template). A VirtualMachine's pod (virt-launcher) carries its template's labels."""
    template = _pod_template(manifest)
    if template is None:
        return None
    metadata = _map(manifest.get("metadata"))
    raw_labels = _map(_map(template.get("metadata")).get("labels"))
    labels = {str(k): "" if v is None else str(v) for k, v in raw_labels.items()}
    namespace = str(metadata.get("namespace") or default_namespace)
    kind, name = (
        _controller_name(manifest, labels)
        if manifest.get("kind") in ("Pod", "ReplicaSet", "Job", VIRTUAL_MACHINE_INSTANCE)
        else (
            str(manifest.get("kind")),
            str(metadata.get("name") or "(unnamed)"),
        )
    )
    reader = _vm_named_ports if manifest.get("kind") in VM_KINDS else _named_ports
    named = reader(_map(template.get("spec")))
    return Workload(namespace, name, kind, tuple(sorted(labels.items())), named)


#: Labels a controller puts on the pods of each revision (Deployment, StatefulSet, DaemonSet).
REVISION_LABELS = ("pod-template-hash", "controller-revision-hash", "pod-template-generation")


def _variant_label(
    labels: Mapping[str, str],
    ports: tuple[NamedPort, ...],
    shared: Mapping[str, str],
    keys: set[str],
    shared_ports: set[NamedPort],
) -> str:
    """``pods with version=v2``, ``pods without version``, ``pods with port http=TCP/8080``."""
    having = [f"{key}={value}" for key, value in sorted(labels.items()) if shared.get(key) != value]
    having += [
        f"port {name}={protocol}/{number}"
        for name, protocol, number in ports
        if (name, protocol, number) not in shared_ports
    ]
    lacking = sorted(keys - set(labels))
    parts = []
    if having:
        parts.append("with " + ",".join(having))
    if lacking:
        parts.append("without " + ",".join(lacking))
    return "pods " + " ".join(parts) if parts else "other pods"


def display_names(workloads: Iterable[Workload]) -> dict[Workload, str]:
    """How reports name each workload: ``ns/name``, or when pods of one controller differ (in
    labels or named ports) each kind of pod as a variant, ``ns/web[pods with version=v2]`` — named
    by what sets it apart from the others (``no version``: a label the others carry)."""
    groups: dict[str, list[Workload]] = {}
    for workload in workloads:
        group = groups.setdefault(workload.qualified_name, [])
        if workload not in group:
            group.append(workload)
    names: dict[Workload, str] = {}
    for name, group in groups.items():
        identities = {(w.labels, w.named_ports) for w in group}
        if len(identities) == 1:
            for workload in group:
                names[workload] = name
            continue
        label_sets = [dict(w.labels) for w in group]
        shared = {k: v for k, v in label_sets[0].items() if all(other.get(k) == v for other in label_sets)}
        keys = {key for labels in label_sets for key in labels}
        shared_ports = set(group[0].named_ports).intersection(*(set(w.named_ports) for w in group))
        # the hash labels controllers add differ between every two revisions: name the variants
        # by the other labels when those tell them apart (web[pods with version=v2])
        plain = {
            workload: _variant_label(
                {k: v for k, v in workload.labels if k not in REVISION_LABELS},
                workload.named_ports,
                shared,
                keys - set(REVISION_LABELS),
                shared_ports,
            )
            for workload in group
        }
        distinct = len(set(plain.values())) == len(identities)
        for workload in group:
            variant = (
                plain[workload]
                if distinct
                else _variant_label(dict(workload.labels), workload.named_ports, shared, keys, shared_ports)
            )
            names[workload] = f"{name}[{variant}]"
    return names


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
        if is_compiled(manifest):
            inventory.policies.append(manifest)
            inventory.policy_origins.append(index)
            if kind in POLICY_KINDS:
                namespace = str(metadata.get("namespace") or default_namespace)
                if inventory.namespaces.get(namespace, {}).get(NAMESPACE_NAME_LABEL) != namespace:
                    inventory.add_namespace(namespace)  # (thousands of policies share a few namespaces)
        elif kind == "Namespace":
            inventory.described.add(str(metadata.get("name")))
            labels = metadata.get("labels")
            inventory.add_namespace(
                str(metadata.get("name")), labels if isinstance(labels, Mapping) else None
            )
        elif is_network(manifest):
            inventory.networks.append(manifest)
        elif kind in WORKLOAD_KINDS or (kind in VM_KINDS and _is_vm(manifest)):
            workload = workload_of(manifest, default_namespace)
            if workload is not None and workload not in seen:
                seen.add(workload)
                inventory.workloads.append(workload)
                inventory.add_namespace(workload.namespace)
        else:
            label = _kind_label(manifest)
            inventory.unmodelled[label] = inventory.unmodelled.get(label, 0) + 1
    inventory.workloads.sort()
    return inventory
