"""``autodeploy-netpol render``."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from ..errors import InputError, Location
from ..report.manifests import dump_stream, dump_yaml
from ..runs.inputs import LiveInput
from ..runs.render import HelmChart, RenderRequest, run_render
from .cluster_options import CLUSTER_OPTION_NAMES, access_from_options, cluster_access_options
from .common import env_default, handle_errors
from .options import context_from_options, deploy_context_options, values_argument, values_path


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol render --release production --namespace shop-42-production
  autodeploy-netpol render --track canary --values-out merged-values.yaml
  HELM_RELEASE_NAME=review-x KUBE_NAMESPACE=shop-42-review-x autodeploy-netpol render --format json
\b
  # render with real Helm from the chart the job deploys (after `autodeploy-netpol overlay chart/`)
  autodeploy-netpol render --chart chart/ --release production --namespace shop-42-production
\b
  # the ingress controller's and monitoring stack's namespaces detected in the agent's cluster
  autodeploy-netpol render --detect --context "$KUBE_CONTEXT" --values-out merged-values.yaml
  autodeploy-netpol render --live snapshot/ --values-out merged-values.yaml
"""
)
@values_argument
@deploy_context_options
@click.option(
    "--values-out",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write the complete merged values file for `helm upgrade --values` (never the input file).",
)
@click.option(
    "--format", "output_format", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@click.option(
    "--chart",
    "chart_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Render with real Helm from this chart directory (the helm CLI if on PATH, else helm-python-sdk) "
    "instead of the tool's model of the auto-deploy-app chart.",
)
@click.option(
    "--engine",
    type=click.Choice(["helm-cli", "helm-python-sdk"]),
    help="Helm engine for --chart. Default: the helm CLI when on PATH, otherwise helm-python-sdk.",
)
@click.option(
    "--api-version",
    "api_versions",
    metavar="GROUP/VERSION",
    multiple=True,
    help="For --chart: an API version the cluster serves, for .Capabilities.APIVersions (repeatable; "
    "cilium.io/v2 is always given).",
)
@click.option("--kube-version", metavar="VERSION", help="For --chart: the cluster's Kubernetes version.")
@click.option(
    "--detect",
    is_flag=True,
    help="Detect the ingress controller's and monitoring stack's namespaces in the cluster (where no option "
    "or variable sets them) for the suggested policy; implied by --kubeconfig, --context and --in-cluster. "
    "Nothing read is a note, not an error: the defaults then apply, with their warning.",
)
@click.option(
    "--live",
    "live_paths",
    multiple=True,
    metavar="PATH",
    type=click.Path(exists=True),
    help="Detect them in this snapshot (file or directory) instead of the cluster.",
)
@cluster_access_options
@handle_errors
def render(
    values: str | None,
    values_out: str | None,
    output_format: str,
    chart_dir: str | None,
    engine: str | None,
    api_versions: tuple[str, ...],
    kube_version: str | None,
    detect: bool,
    live_paths: tuple[str, ...],
    **options: Any,
) -> int:
    """Print the NetworkPolicy / CiliumNetworkPolicy objects the deploy will create.

    Objects are named and labelled as the auto-deploy-app chart does (<release>-auto-deploy,
    the chart's shared labels); canary and rollout tracks render the release <release>-<track>.
    Nothing is printed when the policies are disabled.

    With --chart the objects come from real Helm, with the values layered as Auto Deploy
    layers them (its --set values win over the merged values file).
    """
    if chart_dir is not None and not options.get("chart_version"):
        from ..desired.helm_engine import chart_version

        options["chart_version"] = chart_version(chart_dir)  # the chart at hand, not a guess
    chart = None
    if chart_dir is not None:
        chart = HelmChart(
            chart_dir,
            engine=engine,
            api_versions=api_versions,
            kube_version=kube_version,
            app=env_default("CI_PROJECT_PATH_SLUG"),
            env=env_default("CI_ENVIRONMENT_SLUG"),
        )
    cluster = {name: options.pop(name) for name in CLUSTER_OPTION_NAMES}
    live = None
    if live_paths:
        live = LiveInput(snapshot=live_paths)
    elif detect or cluster["kubeconfig"] or cluster["context"] or cluster["in_cluster"]:
        live = LiveInput(cluster=access_from_options(**cluster))
    request = RenderRequest(values_path(values), context_from_options(**options), chart, detect=live)
    run = run_render(request)
    for note in run.notes:
        click.echo(f"note: {note}", err=True)
    for warning in run.warnings:
        click.echo(warning, err=True)
    if values_out:
        _write_values(values_out, run.desired.merged_values, run.values_file)
    objects = run.objects
    if output_format == "json":
        click.echo(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2))
    elif objects:
        click.echo(dump_stream(objects), nl=False)
    if not objects:
        click.echo(
            "networkPolicy and ciliumNetworkPolicy are disabled: the deploy creates no policy objects",
            err=True,
        )
    return run.exit_code


def _write_values(path: str, merged: dict[str, object], source: str | None) -> None:
    if source and os.path.exists(path) and os.path.samefile(path, source):
        raise InputError(
            "--values-out names the input values file",
            location=Location(path),
            hint="the user's values file is never rewritten; write the merged values to a new file",
        )
    header = (
        "# Merged by autodeploy-netpol: the values file with networkPolicy/ciliumNetworkPolicy resolved.\n"
    )
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(header + dump_yaml(merged))
    except OSError as exc:
        raise InputError(
            f"cannot write merged values: {exc.strerror or exc}", location=Location(path)
        ) from exc
