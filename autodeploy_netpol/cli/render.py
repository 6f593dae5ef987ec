"""``autodeploy-netpol render`` (the body: cli/plain.py)."""

from __future__ import annotations

from typing import Any

import click

from . import plain
from .cluster_options import cluster_access_options
from .common import handle_errors
from .fast import RENDER_FORMATS
from .options import deploy_context_options, values_argument


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
    "--format",
    "output_format",
    type=click.Choice(RENDER_FORMATS),
    default=RENDER_FORMATS[0],
    show_default=True,
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
    """Print the policy objects the deploy will create.

    NetworkPolicy and CiliumNetworkPolicy objects named and labelled as the auto-deploy-app chart
    does (<release>-auto-deploy, the chart's shared labels), and the policies of customResources
    (NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, ClusterNetworkPolicy),
    through Helm's tpl from image v2.91.0 on. Canary and rollout tracks render the release
    <release>-<track>. Nothing is printed when no policy is enabled.

    The chart's shape is chosen from --chart, --image-version ($AUTO_DEPLOY_IMAGE_VERSION),
    --chart-version ($AUTO_DEVOPS_CHART_VERSION), else the newest; a note on standard error says
    which and why. --values-out compiles the values extension (named policies, default-deny,
    Cilium policies) into customResources on charts that have them, so the stock chart deploys it.

    With --chart the objects come from real Helm, with the values layered as Auto Deploy
    layers them (its --set values win over the merged values file).
    """
    return plain.render(
        values,
        values_out,
        output_format,
        chart_dir,
        engine,
        api_versions,
        kube_version,
        detect=detect,
        live_paths=live_paths,
        **options,
    )
