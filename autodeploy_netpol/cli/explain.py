"""``autodeploy-netpol explain PATH...``: each policy in plain words."""

from __future__ import annotations

import json

import click

from ..checks.explain import explain_model
from ..errors import ExitCode, InputError
from ..report.explain import explain_json, explain_markdown, explain_text
from .cluster_options import CLUSTER_OPTION_NAMES
from .common import handle_errors
from .connectivity_input import cluster_source_options, load

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
    **cluster: object,
) -> int:
    """Say in plain words what each policy lets in and out, and which workloads it applies to."""
    model, snapshot = load(paths, namespace, all_namespaces, {k: cluster[k] for k in CLUSTER_OPTION_NAMES})
    for note in snapshot.notes:
        click.echo(f"note: {note}", err=True)
    explanations = explain_model(model)
    if names:
        wanted = set(names)
        explanations = [
            e
            for e in explanations
            if e.policy in wanted or e.policy.split("/")[-1] in wanted or e.policy.split(":")[-1] in wanted
        ]
        if not explanations:
            raise InputError(
                f"no policy named {', '.join(names)} in the input", hint="names are NAME or NAMESPACE/NAME"
            )
    if output_format == "json":
        click.echo(json.dumps(explain_json(explanations), indent=2))
    elif output_format == "markdown":
        click.echo(explain_markdown(explanations), nl=False)
    else:
        click.echo(explain_text(explanations), nl=False)
    return ExitCode.OK
