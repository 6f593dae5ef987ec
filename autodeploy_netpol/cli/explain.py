"""``autodeploy-netpol explain PATH...``: each policy in plain words."""

from __future__ import annotations

import json
from typing import Any

import click

from ..report.explain import explain_json, explain_markdown, explain_text
from ..runs.connectivity import run_explain
from .cluster_options import cluster_source_options, object_source_from_options
from .common import handle_errors

EPILOG = """
\b
Examples:
  autodeploy-netpol explain snapshot/
  autodeploy-netpol explain rendered.yaml pods.yaml --policy shop/production-auto-deploy
  autodeploy-netpol explain snapshot/ --format markdown

\b
Give the pods/workloads and namespaces too, so each policy says which workloads it applies to.
"""


@click.command("explain", epilog=EPILOG)
@click.argument("paths", nargs=-1, required=False, metavar="[PATH]...")
@click.option(
    "--policy", "names", multiple=True, metavar="[NS/]NAME", help="Only these policies (repeatable)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@cluster_source_options
@handle_errors
def command(
    paths: tuple[str, ...],
    namespace: str | None,
    all_namespaces: bool,
    names: tuple[str, ...],
    output_format: str,
    **cluster: Any,
) -> int:
    """Say in plain words what each policy lets in and out, and which workloads it applies to."""
    run = run_explain(object_source_from_options(paths, namespace, all_namespaces, cluster), names)
    for note in run.notes:
        click.echo(f"note: {note}", err=True)
    explanations = run.explanations
    if output_format == "json":
        click.echo(json.dumps(explain_json(explanations), indent=2))
    elif output_format == "markdown":
        click.echo(explain_markdown(explanations), nl=False)
    else:
        click.echo(explain_text(explanations), nl=False)
    return run.exit_code
