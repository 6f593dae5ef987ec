"""Options shared by the commands that compute desired objects (render, drift, audit …)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from ..desired.chart import DEFAULT_CHART_VERSION
from ..desired.compute import DEFAULT_SOURCE, DeployContext
from ..desired.suggest import DEFAULT_INGRESS_NAMESPACE
from ..desired.values import DEFAULT_VALUES_FILE, ValuesPath
from ..errors import InputError
from ..kube.releases import STABLE, TRACKS
from .common import env_default

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

values_argument = click.argument(
    "values", required=False, metavar="[VALUES]", type=click.Path(dir_okay=False)
)


def values_path(values: str | None) -> ValuesPath:
    """VALUES as given, or ``${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}`` as Auto
    Deploy resolves it (where a missing file means "no network policy configured")."""
    if values is not None:
        return ValuesPath(values)
    return ValuesPath(env_default("HELM_UPGRADE_VALUES_FILE") or DEFAULT_VALUES_FILE, explicit=False)


def deploy_context_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add --release, --namespace, --track, --ingress-namespace, --project-id, --chart-version, --no-suggest."""
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
            "--chart-version",
            metavar="VERSION",
            help=f"auto-deploy-app chart version for the chart labels. Default: $AUTO_DEPLOY_CHART_VERSION, "
            f"then {DEFAULT_CHART_VERSION}.",
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
    no_suggest: bool = False,
    require_namespace: bool = False,
) -> DeployContext:
    """Resolve options and environment defaults into a :class:`DeployContext`."""
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
        ingress_namespace, ingress_source = (
            env_default("NETPOL_INGRESS_NAMESPACE"),
            "NETPOL_INGRESS_NAMESPACE",
        )
    monitoring_source = "--monitoring-namespace" if monitoring_namespace else ""
    if not monitoring_namespace and env_default("NETPOL_MONITORING_NAMESPACE"):
        monitoring_namespace = env_default("NETPOL_MONITORING_NAMESPACE")
        monitoring_source = "NETPOL_MONITORING_NAMESPACE"
    for option, value in (("ingress", ingress_namespace), ("monitoring", monitoring_namespace)):
        if value and (len(value) > 63 or not _DNS_LABEL.match(value)):
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
        chart_version=chart_version or env_default("AUTO_DEPLOY_CHART_VERSION") or DEFAULT_CHART_VERSION,
        suggest=not no_suggest,
    )
