"""The ``render`` use case: the policy objects the deploy will create, from the tool's model of
the auto-deploy-app chart or, with a chart directory, from real Helm."""

from __future__ import annotations

from ..desired.compute import DeployContext, Desired, compute_desired, uses_suggestion
from ..desired.suggest import ingress_class
from ..desired.values import ValuesPath, read_values
from ..errors import ExitCode
from ..records import record
from ..sources.collector import cycle_collector_paused

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from .inputs import LiveInput  # the cluster reader is imported only when a render detects


@record(frozen=True)
class HelmChart:
    """Render with real Helm from ``directory`` instead of the model."""

    directory: str
    #: ``helm-cli`` or ``helm-python-sdk``; ``None``: the CLI when on PATH, else the SDK
    engine: str | None = None
    #: for ``.Capabilities``: API versions the cluster serves (cilium.io/v2 is always added)
    api_versions: tuple[str, ...] = ()
    kube_version: str | None = None
    #: ``gitlab.app`` / ``gitlab.env`` as Auto Deploy sets them ($CI_PROJECT_PATH_SLUG, $CI_ENVIRONMENT_SLUG)
    app: str | None = None
    env: str | None = None


@record(frozen=True)
class RenderRequest:
    """What to render: a values file for a deploy, with the model or with a Helm chart."""

    values: ValuesPath
    context: DeployContext
    chart: HelmChart | None = None
    #: detect the ingress and monitoring namespaces (where nothing chose them) in this live state
    detect: LiveInput | None = None


@record(frozen=True)
class RenderRun:
    """The rendered objects, the merged values behind them and the warnings to show."""

    objects: list[dict[str, Any]]
    desired: Desired
    #: the values file that was read (``None`` when the default file does not exist)
    values_file: str | None
    warnings: tuple[str, ...]
    exit_code: int = ExitCode.OK
    #: what detection and the suggestion say (which namespaces it admits and why)
    notes: tuple[str, ...] = ()


def run_render(request: RenderRequest) -> RenderRun:
    """Compute (and, with a chart, render with Helm) the objects the deploy creates."""
    context = request.context
    notes: list[str] = []
    with cycle_collector_paused():  # big files: see sources/collector.py
        values_file = read_values(request.values)
        if (
            request.detect is not None
            and uses_suggestion("networkPolicy", values_file.block("networkPolicy"), context)
            and (context.ingress_detectable or context.monitoring_namespace is None)
        ):
            from .platform import apply_detection, detect_live

            detection = detect_live(request.detect, preferred_class=ingress_class(values_file.data))
            context, notes = apply_detection(context, detection)
        desired = compute_desired(values_file, context)
    warnings = [str(warning) for warning in desired.warnings]
    objects = desired.objects
    if request.chart is not None:
        from ..desired.helm_engine import DEFAULT_API_VERSIONS, auto_deploy_release, render_policies

        # What the chart at hand cannot render (the extension without its overlays …) was said by
        # compute_desired, which detected the chart's shape and overlays from the same directory.
        chart = request.chart
        release = auto_deploy_release(
            desired.context,
            app=chart.app,
            env=chart.env,
            api_versions=tuple(dict.fromkeys((*DEFAULT_API_VERSIONS, *chart.api_versions))),
            kube_version=chart.kube_version,
        )
        objects = render_policies(chart.directory, desired.merged_values, release, engine=chart.engine)
    return RenderRun(
        objects,
        desired,
        values_file.path if values_file.exists else None,
        tuple(warnings),
        notes=tuple(notes),
    )
