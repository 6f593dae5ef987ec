"""``autodeploy-netpol suggest``."""

from __future__ import annotations

import json

import click

from ..desired.suggest import DEFAULT_INGRESS_NAMESPACE, suggested_block, suggestion_yaml
from .common import env_default, handle_errors


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol suggest --release production
  autodeploy-netpol suggest --release production --ingress-namespace ingress-nginx >> .gitlab/auto-deploy-values.yaml
"""
)
@click.option(
    "--release",
    "-r",
    metavar="NAME",
    help="Release name. Default: $HELM_RELEASE_NAME, then $CI_ENVIRONMENT_SLUG.",
)
@click.option(
    "--ingress-namespace",
    metavar="NS",
    help=f"Ingress controller namespace. Default: $NETPOL_INGRESS_NAMESPACE, then {DEFAULT_INGRESS_NAMESPACE}.",
)
@click.option(
    "--format", "output_format", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@handle_errors
def suggest(release: str | None, ingress_namespace: str | None, output_format: str) -> int:
    """Print the suggested networkPolicy block, commented, ready to paste into the values file.

    It selects the app's pods (app=<release>) and allows ingress only from pods of the same app and
    from the ingress controller's namespace. It is disabled: nothing is enforced until enabled: true.
    """
    release = release or env_default("HELM_RELEASE_NAME", "CI_ENVIRONMENT_SLUG")
    app = release or "<release>"
    namespace = ingress_namespace or env_default("NETPOL_INGRESS_NAMESPACE") or DEFAULT_INGRESS_NAMESPACE
    if output_format == "json":
        click.echo(json.dumps({"networkPolicy": suggested_block(app, namespace)}, indent=2))
    else:
        click.echo(suggestion_yaml(app, namespace, release=release), nl=False)
    return 0
