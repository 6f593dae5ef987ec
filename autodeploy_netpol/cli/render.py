"""``autodeploy-netpol render``."""

from __future__ import annotations

import json
import os

import click

from ..desired import compute_desired
from ..errors import InputError, Location
from ..manifests import dump_stream, dump_yaml
from ..values import read_values
from .common import handle_errors
from .options import context_from_options, deploy_context_options, values_argument


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol render --release production --namespace shop-42-production
  autodeploy-netpol render --track canary --values-out merged-values.yaml
  HELM_RELEASE_NAME=review-x KUBE_NAMESPACE=shop-42-review-x autodeploy-netpol render --format json
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
@handle_errors
def render(
    values: str | None, values_out: str | None, output_format: str, **options: str | bool | None
) -> int:
    """Print the NetworkPolicy / CiliumNetworkPolicy objects the deploy will create.

    Objects are named and labelled as the auto-deploy-app chart does (<release>-auto-deploy,
    the chart's shared labels); canary and rollout tracks render the release <release>-<track>.
    Nothing is printed when the policies are disabled.
    """
    context = context_from_options(**options)  # type: ignore[arg-type]
    values_file = read_values(values)
    desired = compute_desired(values_file, context)
    for warning in desired.warnings:
        click.echo(str(warning), err=True)
    if values_out:
        _write_values(values_out, desired.merged_values, values_file.path if values_file.exists else None)
    if output_format == "json":
        click.echo(json.dumps({"apiVersion": "v1", "kind": "List", "items": desired.objects}, indent=2))
    elif desired.objects:
        click.echo(dump_stream(desired.objects), nl=False)
    if not desired.objects:
        click.echo(
            "networkPolicy and ciliumNetworkPolicy are disabled: the deploy creates no policy objects",
            err=True,
        )
    return 0


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
