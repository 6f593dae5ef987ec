"""What the API server would refuse to store, found in manifests read from files.

A snapshot (``kubectl get -o yaml``) cannot hold two objects of one kind with the same namespace
and name, a Namespace twice, or a label the API server rejects; a file that does was merged or
edited by hand, and analysing it would describe a cluster that cannot exist. :func:`admission_problems`
lists each such object with its file:line:column. Objects given in *different* PATHs are not
duplicates: a later PATH replaces an earlier one's object of the same identity, as ``kubectl apply``
would (``diff --after snapshot.yaml rendered.yaml``) — see :func:`latest_objects`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .label_syntax import LABEL_KEY_HINT, LABEL_VALUE_HINT, label_key_problem, label_value_problem
from .manifests import Manifest, PathElement
from .names import (
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CLUSTER_NETWORK_POLICY,
    CLUSTER_USER_DEFINED_NETWORK,
    NAMESPACE,
    NODE,
)

#: Kinds without a namespace (the ones the tool reads).
CLUSTER_SCOPED = frozenset(
    (
        NAMESPACE,
        NODE,
        CILIUM_CLUSTERWIDE_NETWORK_POLICY,
        ADMIN_NETWORK_POLICY,
        BASELINE_ADMIN_NETWORK_POLICY,
        CLUSTER_NETWORK_POLICY,
        CLUSTER_USER_DEFINED_NETWORK,
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "GatewayClass",
    )
)


@dataclass(frozen=True)
class AdmissionProblem:
    """One thing the API server would refuse: the error to report, the object's kind, and for a
    label the key (``None`` for a duplicate), so a caller can judge whether its analysis depends on it."""

    error: InputError
    kind: str
    label_key: str | None = None


@dataclass(frozen=True, order=True)
class Identity:
    """What names an object in a cluster: API group, kind, namespace ('' when cluster-scoped), name."""

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def identity(manifest: Manifest, default_namespace: str = "default") -> Identity:
    api_version = str(manifest.data.get("apiVersion") or "")
    group = api_version.rpartition("/")[0]
    namespace = "" if manifest.kind in CLUSTER_SCOPED else (manifest.namespace or default_namespace)
    return Identity(group, manifest.kind, namespace, manifest.name)


def _labels_at(data: Mapping[str, Any]) -> Iterator[tuple[tuple[PathElement, ...], Any]]:
    """(path, labels mapping) of an object's labels and of its pod template's."""
    metadata = data.get("metadata")
    if isinstance(metadata, Mapping):
        yield ("metadata", "labels"), metadata.get("labels")
    spec = data.get("spec")
    if not isinstance(spec, Mapping):
        return
    template_path: tuple[PathElement, ...] = ("spec", "template")
    if data.get("kind") == "CronJob":
        job = (
            (spec.get("jobTemplate") or {}).get("spec")
            if isinstance(spec.get("jobTemplate"), Mapping)
            else None
        )
        spec = job if isinstance(job, Mapping) else {}
        template_path = ("spec", "jobTemplate", "spec", "template")
    template = spec.get("template")
    if isinstance(template, Mapping) and isinstance(template.get("metadata"), Mapping):
        yield (*template_path, "metadata", "labels"), template["metadata"].get("labels")


def label_problems(manifest: Manifest) -> list[AdmissionProblem]:
    """Label keys and values the API server rejects, in an object and its pod template."""
    problems: list[AdmissionProblem] = []
    for path, labels in _labels_at(manifest.data):
        if not isinstance(labels, Mapping):
            continue
        for key, value in labels.items():
            where = (*path, key)
            problem = label_key_problem(str(key))
            if problem is not None:
                error = InputError(
                    f"{manifest.describe()}: {problem}", location=manifest.locate(where), hint=LABEL_KEY_HINT
                )
                problems.append(AdmissionProblem(error, manifest.kind, str(key)))
            problem = label_value_problem("" if value is None else value)
            if problem is not None:
                error = InputError(
                    f"{manifest.describe()}: {problem} (label {key})",
                    location=manifest.locate(where),
                    hint=LABEL_VALUE_HINT,
                )
                problems.append(AdmissionProblem(error, manifest.kind, str(key)))
    return problems


def duplicate_problems(
    manifests: Sequence[Manifest], default_namespace: str = "default"
) -> list[AdmissionProblem]:
    """Two objects with one identity in ``manifests`` (one PATH): the second names the first."""
    first: dict[Identity, Manifest] = {}
    problems: list[AdmissionProblem] = []
    for manifest in manifests:
        if not manifest.name:
            continue
        key = identity(manifest, default_namespace)
        seen = first.get(key)
        if seen is None:
            first[key] = manifest
            continue
        what = "Namespace defined twice" if manifest.kind == NAMESPACE else f"{key} given twice"
        error = InputError(
            f"{what} (first at {seen.locate()})",
            location=manifest.locate(("metadata", "name")),
            hint="a cluster holds one object per kind, namespace and name: remove one, or give them in "
            "separate PATHs (a later PATH replaces an earlier one's object)",
        )
        problems.append(AdmissionProblem(error, manifest.kind))
    return problems


def admission_problems(
    manifests: Sequence[Manifest], default_namespace: str = "default"
) -> list[AdmissionProblem]:
    """Everything the API server would reject in the objects of one PATH, in input order."""
    problems = duplicate_problems(manifests, default_namespace)
    for manifest in manifests:
        problems.extend(label_problems(manifest))
    return problems


def latest_objects(
    groups: Sequence[Sequence[Manifest]], default_namespace: str = "default"
) -> tuple[list[Manifest], int]:
    """The objects of several PATHs, a later object replacing an earlier one of the same identity
    (as ``kubectl apply`` of the files in turn would); also how many objects of an earlier PATH a
    later PATH replaced (duplicates within one PATH are :func:`duplicate_problems`' to report)."""
    position: dict[Identity, tuple[int, int]] = {}
    out: list[Manifest | None] = []
    replaced = 0
    for number, group in enumerate(groups):
        for manifest in group:
            key = identity(manifest, default_namespace) if manifest.name else None
            if key is not None and key in position:
                where, source = position[key]
                out[where] = None
                replaced += source != number
            if key is not None:
                position[key] = (len(out), number)
            out.append(manifest)
    return [item for item in out if item is not None], replaced
