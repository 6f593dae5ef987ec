"""Options shared by the commands that compute desired objects (render, drift, audit …).

The decorators import click when they are applied, not this module: cli/fast.py reads the plain
forms of ``validate`` and ``render`` and resolves their options with the functions here alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from ..desired.delivery import Delivery
from ..desired.shapes import DEFAULT_CHART_VERSION, ShapeRequest
from ..desired.suggest import DEFAULT_INGRESS_NAMESPACE
from ..desired.values import DEFAULT_VALUES_FILE, ValuesPath
from ..errors import InputError
from ..kube.releases import STABLE, TRACKS
from .common import env_default

#: a namespace name (RFC 1123 label); compiled on first use, by re's cache (start-up)
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from ..desired.compute import DeployContext


def values_argument(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the optional VALUES argument (a file; see :func:`values_path`)."""
    import click

    return click.argument("values", required=False, metavar="[VALUES]", type=click.Path(dir_okay=False))(
        function
    )


def values_path(values: str | None) -> ValuesPath:
    """VALUES as given, or ``${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}`` as Auto
    Deploy resolves it (where a missing file means "no network policy configured")."""
    if values is not None:
        return ValuesPath(values)
    return ValuesPath(env_default("HELM_UPGRADE_VALUES_FILE") or DEFAULT_VALUES_FILE, explicit=False)


CHART_OPTION_NAMES = ("image_version", "chart_version", "overlays", "no_handoff")


def chart_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add --image-version, --chart-version, --overlays/--no-overlays and --no-handoff: which chart
    the deploy uses and how the values reach it."""
    import click

    decorators = [
        click.option(
            "--image-version",
            metavar="TAG",
            help="auto-deploy-image tag of the deploy job, which decides the chart's shape and version. "
            "Default: $AUTO_DEPLOY_IMAGE_VERSION (GitLab's Deploy template pins it) unless $AUTO_DEVOPS_CHART "
            "names a chart of the project's own.",
        ),
        click.option(
            "--chart-version",
            metavar="VERSION",
            help="auto-deploy-app chart version, when the image does not say it. Default: "
            "$AUTO_DEVOPS_CHART_VERSION, then the helm.sh/chart label of the live objects (drift, audit), "
            f"then the newest shape (chart {DEFAULT_CHART_VERSION}).",
        ),
        click.option(
            "--overlays/--no-overlays",
            default=None,
            help="Whether the chart overlays are laid onto the chart (autodeploy-netpol overlay chart/). "
            "Default: $NETPOL_OVERLAY_CHART is true.",
        ),
        click.option(
            "--no-handoff",
            is_flag=True,
            help="Auto Deploy reads the values file as written, not the merged file of render --values-out "
            "(as with NETPOL_HANDOFF=false): the suggestion and the extension compiled into "
            "customResources are then not deployed.",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def shape_request(
    *, image_version: str | None = None, chart_version: str | None = None, chart_dir: str | None = None
) -> ShapeRequest:
    """What the options and Auto Deploy's variables say about the chart of the deploy."""
    image_origin = "--image-version"
    if image_version is None:
        image_version, image_origin = env_default("AUTO_DEPLOY_IMAGE_VERSION"), "AUTO_DEPLOY_IMAGE_VERSION"
    version_origin = "--chart-version"
    if chart_version is None:
        chart_version, version_origin = env_default("AUTO_DEVOPS_CHART_VERSION"), "AUTO_DEVOPS_CHART_VERSION"
    custom_chart = env_default("AUTO_DEVOPS_CHART") if image_origin != "--image-version" else None
    return ShapeRequest(
        chart_dir=chart_dir,
        image_version=image_version,
        image_origin=image_origin,
        chart_version=chart_version,
        chart_version_origin=version_origin,
        custom_chart=custom_chart,
    )


def delivery_from_options(*, overlays: bool | None = None, no_handoff: bool = False) -> Delivery:
    """How the values reach Helm: the options, else $NETPOL_HANDOFF and $NETPOL_OVERLAY_CHART."""
    if overlays is None:
        overlays = (env_default("NETPOL_OVERLAY_CHART") or "false").lower() == "true"
    handoff = not no_handoff and (env_default("NETPOL_HANDOFF") or "true").lower() != "false"
    return Delivery(handoff=handoff, overlays=overlays)


#: Auto Deploy's --set values that come straight from CI variables the job also sees.
_JOB_VALUES = (
    ("gitlab.app", "CI_PROJECT_PATH_SLUG"),
    ("gitlab.env", "CI_ENVIRONMENT_SLUG"),
    ("gitlab.envName", "CI_ENVIRONMENT_NAME"),
    ("gitlab.envURL", "CI_ENVIRONMENT_URL"),
    ("service.url", "CI_ENVIRONMENT_URL"),
)


def deploy_context_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add --release, --namespace, --track, --ingress-namespace, --monitoring-namespace, --project-id,
    --no-suggest and the
    chart options (--image-version, --chart-version, --overlays, --no-handoff)."""
    import click

    function = chart_options(function)
    decorators = [
        click.option(
            "--release",
            "-r",
            metavar="NAME",
            help="Release name. Default: $HELM_RELEASE_NAME, then $CI_ENVIRONMENT_SLUG.",
        ),
        click.option(
            "--namespace", "-n", metavar="NS", help="Namespace of the environment. Default: $KUBE_NAMESPACE."
        ),
        click.option(
            "--track",
            type=click.Choice(TRACKS),
            default=STABLE,
            show_default=True,
            help="Deploy track; canary and rollout deploy the release <release>-<track>.",
        ),
        click.option(
            "--ingress-namespace",
            metavar="NS",
            help=f"Namespace of the ingress controller for the suggested policy. Default: "
            f"$NETPOL_INGRESS_NAMESPACE, then the one detected in the cluster or snapshot (where the command "
            f"reads one), then {DEFAULT_INGRESS_NAMESPACE} (with a warning: it must exist).",
        ),
        click.option(
            "--monitoring-namespace",
            metavar="NS",
            help="Namespace of the monitoring stack (Prometheus, OpenTelemetry collector, Grafana Alloy) the "
            "suggested policy admits on the app's metrics port. Default: $NETPOL_MONITORING_NAMESPACE, then "
            "the one detected in the cluster or snapshot.",
        ),
        click.option(
            "--project-id",
            metavar="ID",
            help="GitLab project ID (label app.gitlab.com/proj). Default: $CI_PROJECT_ID.",
        ),
        click.option(
            "--no-suggest",
            is_flag=True,
            help="Keep the chart's namespace-wide default spec when the values file gives none.",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def context_from_options(
    *,
    release: str | None,
    namespace: str | None,
    track: str = STABLE,
    ingress_namespace: str | None = None,
    monitoring_namespace: str | None = None,
    project_id: str | None = None,
    chart_version: str | None = None,
    image_version: str | None = None,
    overlays: bool | None = None,
    no_handoff: bool = False,
    chart_dir: str | None = None,
    no_suggest: bool = False,
    require_namespace: bool = False,
) -> DeployContext:
    """Resolve options and environment defaults into a :class:`DeployContext`."""
    from ..desired.compute import DEFAULT_SOURCE, DeployContext  # the chart model: not for validate

    release = release or env_default("HELM_RELEASE_NAME", "CI_ENVIRONMENT_SLUG")
    if not release:
        raise InputError(
            "no release name",
            hint="pass --release NAME, or set HELM_RELEASE_NAME or CI_ENVIRONMENT_SLUG as Auto Deploy does",
        )
    namespace = namespace or env_default("KUBE_NAMESPACE")
    if require_namespace and not namespace:
        raise InputError(
            "no namespace", hint="pass --namespace NS, or set KUBE_NAMESPACE as Auto Deploy does"
        )
    ingress_source = "--ingress-namespace" if ingress_namespace else DEFAULT_SOURCE
    if not ingress_namespace and env_default("NETPOL_INGRESS_NAMESPACE"):
        ingress_namespace, ingress_source = env_default("NETPOL_INGRESS_NAMESPACE"), "NETPOL_INGRESS_NAMESPACE"
    monitoring_source = "--monitoring-namespace" if monitoring_namespace else ""
    if not monitoring_namespace and env_default("NETPOL_MONITORING_NAMESPACE"):
        monitoring_namespace = env_default("NETPOL_MONITORING_NAMESPACE")
        monitoring_source = "NETPOL_MONITORING_NAMESPACE"
    for option, value in (("ingress", ingress_namespace), ("monitoring", monitoring_namespace)):
        if value and (len(value) > 63 or not re.match(_DNS_LABEL, value)):
            raise InputError(
                f"{value!r} is not a valid namespace name (the {option} namespace)",
                hint="a namespace is a lowercase DNS label, e.g. ingress-nginx",
            )
    return DeployContext(
        release=release,
        namespace=namespace,
        track=track,
        project_id=project_id or env_default("CI_PROJECT_ID"),
        ingress_namespace=ingress_namespace or DEFAULT_INGRESS_NAMESPACE,
        ingress_source=ingress_source,
        monitoring_namespace=monitoring_namespace or None,
        monitoring_source=monitoring_source,
        chart=shape_request(image_version=image_version, chart_version=chart_version, chart_dir=chart_dir),
        delivery=delivery_from_options(overlays=overlays, no_handoff=no_handoff),
        suggest=not no_suggest,
        job_values=tuple(
            (key, value) for key, name in _JOB_VALUES if (value := os.environ.get(name)) is not None
        ),
    )
