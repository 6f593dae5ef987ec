"""Detection in a run: the ingress controller's and the monitoring stack's namespaces from the run's
live state (a snapshot's objects, or the cluster), applied to the deploy where nothing chose them.

Shared by drift, render, lint, suggest and ``detect``; the finding and its evidence become notes of
the run's report (and so of the merge-request comment).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..desired.compute import DeployContext
from ..errors import ClusterError
from ..kube.manifests import Manifest
from ..kube.names import WORKLOAD_KINDS
from ..records import replace  # records and dataclasses alike
from ..sources.platform import Detection, detect, read_platform
from .inputs import LiveInput, RunInputs


def detect_in_objects(
    objects: Iterable[Mapping[str, Any]], *, preferred_class: str | None = None, source: str = "the input"
) -> Detection:
    """Detect from objects already read (a snapshot, a manifest stream). Their pods and workloads
    are the pods; without any, namespace names are the fallback."""
    objects = list(objects)
    pods_read = any(obj.get("kind") in WORKLOAD_KINDS for obj in objects)
    notes = (
        () if pods_read else (f"detection: {source} holds no pods or workloads; namespace names stand in",)
    )
    return detect(objects, pods_read=pods_read, preferred_class=preferred_class, notes=notes)


def detect_in_manifests(manifests: Sequence[Manifest], **options: Any) -> Detection:
    return detect_in_objects((item.data for item in manifests), **options)


def detect_live(live: LiveInput, *, preferred_class: str | None = None) -> Detection:
    """Detect from a run's live input on its own: the snapshot's objects, or a read of the cluster."""
    with RunInputs(live) as inputs:
        if live.from_snapshot:
            read = inputs.manifests.read(list(live.snapshot), what="snapshot")
            return detect_in_manifests(read.items, preferred_class=preferred_class, source="the snapshot")
        try:
            cluster = inputs.cluster()
        except ClusterError as exc:  # no access: the defaults apply, with their warning
            return Detection(notes=(f"detection skipped: {exc.message}",))
        return read_platform(cluster, preferred_class=preferred_class)


def apply_detection(context: DeployContext, detection: Detection) -> tuple[DeployContext, list[str]]:
    """``context`` with the detected namespaces where no option or variable chose one, and the
    notes that say what was found (with its evidence) or not."""
    notes = list(detection.notes)
    if context.ingress_detectable:
        found = detection.ingress
        if found is not None:
            context = replace(
                context, ingress_namespace=found.namespace, ingress_source=f"detected: {found.describe()}"
            )
            notes.append(f"ingress controller detected: {found.describe()}")
            if found.caveat:
                notes.append(found.caveat)
        else:
            notes.append(
                f"no ingress controller detected: the suggested policy admits namespace {context.ingress_namespace} "
                "(the default), which must exist and run your ingress controller; set NETPOL_INGRESS_NAMESPACE "
                "if it runs elsewhere"
            )
    if context.monitoring_namespace is None and detection.monitoring is not None:
        found = detection.monitoring
        context = replace(context, monitoring_namespace=found.namespace, monitoring_source="detected")
        notes.append(f"monitoring stack detected: {found.describe()}")
    return context, notes
