"""The ``drift`` use case: what the deploy will create against what is live.

One run reads its inputs once — the desired objects (computed from the values file, or a
rendered stream) and one :class:`~..sources.live.LiveSnapshot` — and every check reads those:
the comparison, ownership (with Helm's release record for ``--helm-history``) and the
connectivity section. The result is the typed report and the exit code; the CLI renders,
writes, posts and exits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from ..checks.drift import DriftReport, IgnoreRule, compare
from ..checks.ownership.check import check_ownership
from ..checks.ownership.conflicts import OwnershipWarning, exit_code
from ..checks.plan import HistoryReader
from ..desired.compute import DeployContext, compute_desired, uses_suggestion
from ..desired.shapes import live_chart_labels
from ..desired.suggest import ingress_class, track_releases
from ..desired.values import ValuesFile, ValuesPath, read_values
from ..errors import ExitCode, InputError, Location
from ..kube.manifests import Manifest
from ..kube.names import CLUSTER_SCOPED_POLICY_KINDS, DEPLOYABLE_POLICY_KINDS, NAMESPACE
from ..kube.releases import STABLE, helm_release
from ..records import replace  # records and dataclasses alike
from ..sources.collector import cycle_collector_paused
from ..sources.live import LiveScope, LiveSnapshot
from ..sources.platform import read_platform
from .inputs import LiveInput, RunInputs
from .locating import located
from .platform import apply_detection, detect_in_manifests

if TYPE_CHECKING:
    from ..checks.connectivity_section import ConnectivitySection


@dataclass(frozen=True)
class DesiredFromValues:
    """Compute the desired objects from a values file for a deploy."""

    values: ValuesPath
    context: DeployContext


@dataclass(frozen=True)
class DesiredFromStream:
    """Read the desired objects from a rendered stream (``--desired PATH``); other kinds are skipped."""

    path: str
    release: str | None = None
    namespace: str | None = None
    track: str = STABLE


@dataclass(frozen=True)
class DriftRequest:
    """Everything a drift run needs, resolved from options and environment by the CLI."""

    desired: DesiredFromValues | DesiredFromStream
    #: ``None``: no cluster and no snapshot (``--no-live``): what the deploy creates and allows
    live: LiveInput | None
    all_namespaces: bool = False
    ignore: tuple[IgnoreRule, ...] = ()
    connectivity: bool = True
    helm_history: bool = False
    fail_on_override: bool = False
    #: detect the ingress and monitoring namespaces in the live state where nothing chose them
    detect: bool = True


@dataclass(frozen=True)
class DriftRun:
    """What a run found: the report, ownership's warnings, and the exit code they lead to
    (before any merge-request comment, whose failure the CLI reports on top)."""

    report: DriftReport
    ownership_warnings: tuple[OwnershipWarning, ...]
    #: warnings from computing the desired objects (the values file), for standard error
    warnings: tuple[str, ...]
    exit_code: int
    #: where the values file's network-policy block is (None for a rendered stream)
    values_location: Location | None = None
    #: ``False`` for ``--no-live``: nothing was compared, the report shows what the deploy creates
    compared: bool = True


@dataclass(frozen=True)
class _Desired:
    objects: list[dict[str, Any]]
    source: str
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    namespace: str | None
    #: the Helm releases this deploy owns in ``namespace``
    releases: tuple[str, ...]
    release: str | None
    track: str
    #: the release's web and worker Deployments as the chart labels them (values only, with a namespace)
    app: list[dict[str, Any]] | None
    #: nothing named the chart (the newest shape was assumed): the live chart label may
    chart_from_default: bool = False
    location: Location | None = None
    values_file: ValuesFile | None = None
    #: the objects as read from a rendered stream, to place errors in it (none from values)
    manifests: tuple[Manifest, ...] = ()


def run_drift(request: DriftRequest, *, stdin: BinaryIO | None = None) -> DriftRun:
    """Compare, assess ownership and (unless turned off) connectivity, from one read of each input."""
    # Parsed manifests are acyclic, but with tens of thousands of them every automatic collection
    # walks them all again: half the run time of a 10,000-policy comparison (bench/drift.py).
    with cycle_collector_paused(), RunInputs(request.live or LiveInput(), stdin=stdin) as inputs:
        desired = _desired(request.desired, inputs, None)
        if request.live is None and desired.namespace is None and not request.all_namespaces:
            desired = _in_namespace(desired, UNKNOWN_NAMESPACE)
        namespace = desired.namespace
        connectivity = request.connectivity and not request.all_namespaces
        # a release can create cluster-scoped policies (customResources): read those kinds when it
        # renders one, or when Helm's record says its last deploy did (the deploy may delete it);
        # a snapshot keeps them whatever (reading them costs nothing there)
        cluster_scoped = any(obj.get("kind") in CLUSTER_SCOPED_POLICY_KINDS for obj in desired.objects)
        if (
            not cluster_scoped
            and request.helm_history
            and namespace
            and request.live is not None
            and not request.live.from_snapshot
        ):
            from ..sources.helm_releases import ClusterHistory

            recorded = ClusterHistory(inputs.cluster())
            cluster_scoped = any(
                obj.get("kind") in CLUSTER_SCOPED_POLICY_KINDS
                for release in desired.releases
                for obj in recorded(namespace, release) or ()
            )
        scope = LiveScope(
            None if request.all_namespaces else namespace,
            context=connectivity,
            cluster_policies=cluster_scoped,
        )
        if request.live is None:
            live = LiveSnapshot(NO_LIVE_SOURCE, (), (NO_LIVE_NOTE,))
        else:
            detecting = (
                request.detect and _detectable(request.desired, desired) and not request.all_namespaces
            )
            live = inputs.read_live(replace(scope, platform=detecting))
            if desired.chart_from_default:
                # Nothing named the chart: the chart label of the release's live objects does.
                desired = _desired(request.desired, inputs, live, values_file=desired.values_file)
            if detecting:
                desired = _with_detection(desired, request.desired, inputs, live)
        # an error about one object (a policy the engine cannot read) names its file and line
        with located((*desired.manifests, *live.manifests), fallback=f"{desired.source}, {live.source}"):
            report, warnings = _check(request, inputs, desired, live)
    if request.live is None:
        # nothing to compare with: every desired object shows as what the deploy creates, and
        # that is the report, not drift
        return DriftRun(report, (), desired.warnings, ExitCode.OK, desired.location, compared=False)
    drift_code = ExitCode.FINDINGS if report.has_drift else ExitCode.OK
    code = exit_code(drift_code, warnings, fail_on_override=request.fail_on_override)
    return DriftRun(report, tuple(warnings), desired.warnings, code, desired.location)


def _check(
    request: DriftRequest, inputs: RunInputs, desired: _Desired, live: LiveSnapshot
) -> tuple[DriftReport, list[OwnershipWarning]]:
    """The comparison, ownership and the connectivity section over the inputs read once."""
    namespace = desired.namespace
    history: HistoryReader | None = None
    if request.helm_history:
        from ..sources.helm_releases import ClusterHistory, SnapshotHistory

        history = SnapshotHistory(live.secrets) if live.from_snapshot else ClusterHistory(inputs.cluster())
    # One plan (made by compare, with Helm's record when read) for drift and ownership alike.
    report = compare(
        desired.objects,
        live.deployable_policies,
        namespace=namespace,
        releases=desired.releases,
        all_namespaces=request.all_namespaces,
        ignore=request.ignore,
        desired_source=desired.source,
        live_source=live.source,
        notes=[*desired.notes, *live.notes],
        history=history,
        unread_kinds=live.unread_kinds(),
    )
    ownership = check_ownership(
        desired.objects,
        live.policies,
        namespace=namespace,
        release=desired.release,
        track=desired.track,
        all_namespaces=request.all_namespaces,
        history=history,
        plan=report.plan,
    )
    report = replace(
        report,
        ownership=tuple(ownership.verdicts),
        warnings=tuple(ownership.warnings),
        notes=(*report.notes, *ownership.notes),
    )
    if request.connectivity:
        section = _connectivity(live, desired, report, request.all_namespaces, allowed=request.live is None)
        report = replace(report, connectivity=section)
    return report, list(ownership.warnings)


#: The namespace a ``--no-live`` run without one names: Helm puts the objects where the deploy runs.
UNKNOWN_NAMESPACE = "(deploy namespace)"


def _in_namespace(desired: _Desired, namespace: str) -> _Desired:
    app = desired.app
    if app is not None:
        app = [{**workload, "metadata": {**workload["metadata"], "namespace": namespace}} for workload in app]
    return replace(desired, namespace=namespace, app=app)


#: The live source of a run without cluster or snapshot, as the report names it.
NO_LIVE_SOURCE = "none (--no-live: no cluster access and no snapshot)"
NO_LIVE_NOTE = (
    "no live state: nothing was compared; the report lists what the deploy will create and what it allows"
)


def _detectable(source: DesiredFromValues | DesiredFromStream, desired: _Desired) -> bool:
    """Whether detection can still change the desired objects: computed from a values file whose
    networkPolicy block takes the suggestion, with the ingress or monitoring namespace chosen by
    nobody (otherwise detection would be reads for nothing)."""
    if not isinstance(source, DesiredFromValues) or desired.values_file is None:
        return False
    block = desired.values_file.block("networkPolicy")
    return uses_suggestion("networkPolicy", block, source.context) and (
        source.context.ingress_detectable or source.context.monitoring_namespace is None
    )


def _with_detection(
    desired: _Desired, source: DesiredFromValues | DesiredFromStream, inputs: RunInputs, live: LiveSnapshot
) -> _Desired:
    """The desired objects again, with the namespaces detected in ``live`` (a snapshot's objects or
    the cluster), and the detection's notes."""
    assert isinstance(source, DesiredFromValues) and desired.values_file is not None
    preferred = ingress_class(desired.values_file.data)
    if live.from_snapshot:
        detection = detect_in_manifests(live.manifests, preferred_class=preferred, source="the snapshot")
    else:
        # the namespaces (and the app namespace's workloads) the run has read already count
        detection = read_platform(
            inputs.cluster(),
            preferred_class=preferred,
            known=live.of_kinds((NAMESPACE,)),
            namespaces=not live.has_namespaces,
        )
    context, notes = apply_detection(source.context, detection)
    if context == source.context:
        return replace(desired, notes=(*desired.notes, *notes))
    again = _desired(replace(source, context=context), inputs, live, values_file=desired.values_file)
    return replace(again, notes=(*again.notes, *notes))


def _desired(
    source: DesiredFromValues | DesiredFromStream,
    inputs: RunInputs,
    live: LiveSnapshot | None,
    *,
    values_file: ValuesFile | None = None,
) -> _Desired:
    if isinstance(source, DesiredFromStream):
        manifests = inputs.manifests.read([source.path], what="desired stream")
        policies = manifests.select(DEPLOYABLE_POLICY_KINDS, what="network policies")
        return _Desired(
            manifests=policies.items,
            objects=policies.objects(),
            source=policies.source,
            notes=policies.notes,
            warnings=(),
            namespace=source.namespace,
            # the release deployed: <release>-canary / -rollout for those tracks
            releases=(helm_release(source.release, source.track),) if source.release else (),
            release=source.release,
            track=source.track,
            app=None,
        )
    context = source.context
    values_file = values_file or read_values(source.values)
    labels: list[str] = []
    if live is not None:
        labels = live_chart_labels(live.policies, [context.helm_release]) or live_chart_labels(
            live.policies, track_releases(context.release)
        )
    computed = compute_desired(values_file, context, live_chart_labels=labels)
    # the release's web and worker Deployments as the chart writes them (they stand in for its pods)
    app = computed.workloads
    return _Desired(
        objects=computed.objects,
        source=values_file.path,
        notes=computed.notes,
        warnings=tuple(str(warning) for warning in computed.warnings),
        namespace=context.namespace,
        releases=(context.helm_release,),
        release=context.release,
        track=context.track,
        app=app,
        chart_from_default=computed.choice is not None and computed.choice.source == "default",
        location=_block_location(values_file),
        values_file=values_file,
    )


def _block_location(values_file: ValuesFile) -> Location:
    """The values file's network-policy block (the first there is), else the file itself."""
    for name in ("networkPolicy", "ciliumNetworkPolicy"):
        if name in values_file.data:
            return values_file.locate((name,), key=True)
    return Location(values_file.path, 1)


def _connectivity(
    live: LiveSnapshot, desired: _Desired, report: DriftReport, all_namespaces: bool, *, allowed: bool = False
) -> ConnectivitySection:
    """The connectivity section: live objects of every kind vs the state after the deploy."""
    if all_namespaces:
        # cluster-wide runs compare thousands of policies: the all-pairs analysis (twice, with
        # stand-in pods) would cost more than the whole comparison; the commands do it on demand
        return {
            "verdict": "not-analysed",
            "notes": [
                "not analysed with --all-namespaces: run 'autodeploy-netpol diff --before ... --after ...'"
            ],
        }
    # the engine is imported only when a section is analysed (not for -A, nor --no-connectivity)
    from ..checks.connectivity_section import HYPOTHETICAL, connectivity_section, has_workloads

    notes = live.unread_notes()
    live_objects: Sequence[Mapping[str, Any]] = live.engine_objects()
    stand_ins: list[dict[str, Any]] = []
    if desired.app and desired.namespace and not has_workloads(live_objects):
        for workload in desired.app:
            metadata = dict(workload.get("metadata") or {})
            metadata["name"] = (
                f"{HYPOTHETICAL} pods of {workload.get('kind', 'Deployment')} {metadata.get('name', '')}"
            )
            stand_ins.append({**workload, "metadata": metadata})
        live_objects = [*live_objects, *stand_ins]
        notes.append(
            "no workload in the live state: the release's web and worker pods are modelled from the chart's "
            f"labels ({HYPOTHETICAL} pods of Deployment …)"
        )
    drifted = [(entry.kind, entry.namespace, entry.name, str(entry.change)) for entry in report.drift]
    # what the deploy leaves in place of each desired object: Helm's patch keeps some live fields
    after = (
        [dict(entry.after) for entry in report.plan.entries if entry.desired is not None and entry.after]
        if report.plan is not None
        else desired.objects
    )
    namespace = desired.namespace or "default"
    into = None
    if allowed and desired.app:
        # the web pods: the first workload the chart writes that is not a worker
        apps = stand_ins or desired.app
        web = next((w for w in apps if _template_labels(w).get("tier") != "worker"), apps[0])
        into = f"{namespace}/{web['metadata']['name']}"
    try:
        section = connectivity_section(live_objects, after, drifted, namespace=namespace, allowed_into=into)
    except InputError as error:
        # the section is one part of the report: input it cannot model (policies it cannot compile
        # are left out one by one already) loses the section, said so, never the drift report
        return {"verdict": "not-analysed", "notes": [*notes, "not analysed: " + " ".join(str(error).split())]}
    section["notes"] = [*notes, *section["notes"]]
    if live.unread:  # said wherever the verdict is shown (report.connectivity_caveat)
        section["partial"] = True
        section["unread"] = [{"what": unread.what, "reason": unread.reason} for unread in live.unread]
    return section


def _template_labels(workload: Mapping[str, Any]) -> dict[str, Any]:
    template = (workload.get("spec") or {}).get("template") or {}
    return dict((template.get("metadata") or {}).get("labels") or {})
