"""The ``audit`` use case: which recorded flows the policies after the deploy would drop.

The desired objects (computed from the values file, or a rendered stream with every kind it
holds) and one :class:`~..sources.live.LiveSnapshot` (a snapshot, the cluster, or nothing with
``--no-live``) are read once; every flow is evaluated against the policies in place now and
after the deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from ..checks.audit import Audit, AuditResult, PolicyReachability, after_deploy
from ..desired.compute import DeployContext, compute_desired, uses_suggestion
from ..desired.shapes import live_chart_labels
from ..desired.suggest import ingress_class, track_releases
from ..desired.values import ValuesPath, read_values
from ..errors import ExitCode
from ..kube.manifests import Manifest
from ..kube.names import NAMESPACE
from ..sources.flows import ReadStats, read_flows
from ..sources.live import LiveScope
from ..sources.platform import read_platform
from .inputs import LiveInput, RunInputs
from .locating import located
from .platform import apply_detection, detect_in_manifests


@dataclass(frozen=True)
class AuditRequest:
    """Everything an audit run needs, resolved from options and environment by the CLI."""

    flow_files: tuple[str, ...]
    #: the deploy (namespace and release are required)
    context: DeployContext
    #: the live state; ``None``: no cluster and no snapshot (``--no-live``)
    live: LiveInput | None
    #: the values file, read unless ``desired_path`` is given
    values: ValuesPath
    desired_path: str | None = None
    all_namespaces: bool = False
    #: flows that may be dropped before the run fails
    max_dropped: int = 0


@dataclass(frozen=True)
class AuditRun:
    """The aggregated result, and exit 1 when more than ``max_dropped`` flows would be dropped."""

    result: AuditResult
    exit_code: int


def run_audit(request: AuditRequest, *, stdin: BinaryIO | None = None) -> AuditRun:
    """Evaluate every recorded flow before and after the deploy."""
    context = request.context
    namespace = context.namespace or ""
    notes: list[str] = []
    unread: list[tuple[str, str]] = []
    read: list[Manifest] = []
    sources: list[str] = []
    with RunInputs(request.live or LiveInput(), stdin=stdin) as inputs:
        values = read_values(request.values) if request.desired_path is None else None
        detecting = (
            values is not None
            and request.live is not None
            and not request.all_namespaces
            and uses_suggestion("networkPolicy", values.block("networkPolicy"), context)
            and (context.ingress_detectable or context.monitoring_namespace is None)
        )
        live: list[dict[str, Any]] = []
        if request.live is None:
            notes.append("--no-live: the cluster is taken to have no policy besides the desired ones")
        else:
            snapshot = inputs.read_live(
                LiveScope(None if request.all_namespaces else namespace, context=True, platform=detecting)
            )
            live = snapshot.engine_objects()
            notes += [*snapshot.notes, *snapshot.unread_notes()]
            unread += [(item.what, item.reason) for item in snapshot.unread]
            read.extend(snapshot.manifests)
            sources.append(snapshot.source)
            if detecting and values is not None:
                # the namespaces the suggestion admits, detected as drift and render detect them
                preferred = ingress_class(values.data)
                if snapshot.from_snapshot:
                    detection = detect_in_manifests(
                        snapshot.manifests, preferred_class=preferred, source="the snapshot"
                    )
                else:
                    detection = read_platform(
                        inputs.cluster(),
                        preferred_class=preferred,
                        known=snapshot.of_kinds((NAMESPACE,)),
                        namespaces=not snapshot.has_namespaces,
                    )
                context, detected = apply_detection(context, detection)
                notes += detected
        desired: list[dict[str, Any]]
        if request.desired_path is not None:
            # every kind: a helm template stream's workloads give the engine pods and named ports
            stream = inputs.manifests.read([request.desired_path], what="desired stream")
            desired = stream.objects()
            read.extend(stream.items)
            sources.append(stream.source)
        else:
            assert values is not None
            # when nothing else names the chart, the release's live objects' chart label does
            labels = live_chart_labels(live, [context.helm_release]) or live_chart_labels(
                live, track_releases(context.release)
            )
            computed = compute_desired(values, context, live_chart_labels=labels)
            desired = computed.objects
            notes = [*computed.notes, *(str(warning) for warning in computed.warnings), *notes]
    # a policy the engine cannot read is an error at its file and line
    with located(read, fallback=", ".join(sources)):
        before = PolicyReachability.from_objects(live)
        planned = after_deploy(desired, live, namespace=namespace, helm_release=context.helm_release)
        after = PolicyReachability.from_objects(planned.objects)
    notes += planned.notes
    stats = ReadStats()
    audit = Audit(before, after)
    audit.run(read_flows(request.flow_files, stats))
    result = audit.result(stats, [*notes, *after.notes()], unread)
    passed = result.would_drop <= request.max_dropped
    return AuditRun(result, ExitCode.OK if passed else ExitCode.FINDINGS)
