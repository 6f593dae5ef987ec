"""``autodeploy-netpol overlay CHART_DIR``: lay the chart overlays onto an auto-deploy-app chart."""

from __future__ import annotations

import json

import click

from ..desired.overlay import Action, apply_overlay
from .common import handle_errors

EPILOG = """\b
Examples:
  # in the Auto Deploy job, after the chart was downloaded to chart/
  auto-deploy download_chart
  autodeploy-netpol overlay chart/
\b
  # machine-readable report
  autodeploy-netpol overlay chart/ --format json
\b
Running it again changes nothing. A file in the way that autodeploy-netpol did not write (or
that was edited since) stops the run before anything is written (exit 2).
"""


@click.command(epilog=EPILOG)
@click.argument("chart_dir", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--overlays",
    "overlay_dir",
    type=click.Path(exists=True, file_okay=False, path_type=str),
    default=None,
    help="Overlay directory to lay (default: the auto-deploy-app overlays shipped with the tool).",
)
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@handle_errors
def overlay(chart_dir: str, overlay_dir: str | None, output_format: str) -> int:
    """Add the network-policy templates the auto-deploy-app chart lacks to CHART_DIR.

    \b
    Adds: the suggested policy (networkPolicy.suggested), named policies
    (networkPolicy.policies / ciliumNetworkPolicy.policies), the CiliumNetworkPolicy that
    chart 2.40.0 removed (only on charts without one) and an opt-in default-deny policy
    with DNS egress (networkPolicy.defaultDeny). With those values off the chart renders
    exactly what it rendered before.
    """
    changes = apply_overlay(chart_dir, overlay_dir)
    if output_format == "json":
        payload = [{"path": c.path, "action": c.action.value, "reason": c.reason} for c in changes]
        click.echo(json.dumps({"chart": chart_dir, "files": payload}, indent=2))
        return 0
    for change in changes:
        reason = f" ({change.reason})" if change.reason else ""
        click.echo(f"{change.action.value:9} {change.path}{reason}")
    written = sum(c.action in (Action.ADDED, Action.UPDATED, Action.REMOVED) for c in changes)
    click.echo(
        f"{chart_dir}: {written} file{'s' if written != 1 else ''} changed"
        if written
        else f"{chart_dir}: up to date"
    )
    return 0
