"""``autodeploy-netpol validate`` (the body: cli/plain.py)."""

from __future__ import annotations

import click

from . import plain
from .common import format_option, handle_errors
from .options import chart_options, values_argument


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol validate
  autodeploy-netpol validate .gitlab/auto-deploy-values.yaml --format json
  autodeploy-netpol validate --image-version v2.50.0     # what that image's chart reads
  autodeploy-netpol validate -o codequality:gl-code-quality-report.json   # GitLab's MR widget
"""
)
@values_argument
@format_option
@chart_options
@click.option(
    "--chart",
    "chart_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Check against the chart in DIR (its templates say its shape).",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="[FORMAT:]FILE",
    help="Also write the problems to FILE: json (.json), text (.txt), or codequality:FILE, GitLab's Code "
    "Quality report (artifacts:reports:codequality: paths relative to $CI_PROJECT_DIR). Repeatable.",
)
@handle_errors
def validate(
    values: str | None,
    output_format: str,
    image_version: str | None,
    chart_version: str | None,
    overlays: bool | None,
    no_handoff: bool,
    chart_dir: str | None,
    outputs: tuple[str, ...],
) -> int:
    """Validate the networkPolicy, ciliumNetworkPolicy, extraLabels and customResources of a values file.

    VALUES defaults to ${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}; a missing
    default file means "no network policy configured". Every problem is listed with
    file:line:column. What the chart reads depends on its shape (chosen as render chooses it,
    said in a note): e.g. customResources entries are templates only from image v2.91.0 on.
    Exit 0 when valid, 2 when not.
    """
    return plain.validate(
        values, output_format, image_version, chart_version, overlays, no_handoff, chart_dir, outputs=outputs
    )
