"""``autodeploy-netpol lint PATH...``: policy mistakes, with severity; exit 1 on errors and warnings."""

from __future__ import annotations

import json
from typing import Any

import click

from ..report.lint import lint_json, lint_markdown, lint_text
from ..runs.connectivity import run_lint
from .cluster_options import cluster_source_options, object_source_from_options
from .common import env_default, handle_errors

DEFAULT_INGRESS_NAMESPACE = "gitlab-managed-apps"

EPILOG = """
\b
Examples:
  autodeploy-netpol lint snapshot/
  kubectl get ns,pods,deploy,sts,ds,netpol,cnp -A -o yaml | autodeploy-netpol lint -
  autodeploy-netpol lint snapshot/ --ingress-namespace ingress-nginx --format json
  autodeploy-netpol lint snapshot/ --format markdown > lint.md   # then: comment --section lint.md

\b
Checks: selector-matches-nothing, peer-matches-nothing, namespace-selector-matches-nothing,
egress-without-dns, ingress-namespace-cannot-reach, isolates-and-allows-nothing (warnings and
errors: exit 1); shadowed-rule, not-modelled (info: exit 0).
"""


@click.command("lint", epilog=EPILOG)
@click.argument("paths", nargs=-1, required=False, metavar="[PATH]...")
@click.option(
    "--ingress-namespace",
    default=lambda: env_default("NETPOL_INGRESS_NAMESPACE") or DEFAULT_INGRESS_NAMESPACE,
    show_default=f"$NETPOL_INGRESS_NAMESPACE or {DEFAULT_INGRESS_NAMESPACE}",
    help="Namespace of the ingress controller that must reach the apps.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Report format; markdown is a section for the merge-request comment (comment --section).",
)
@cluster_source_options
@handle_errors
def command(
    paths: tuple[str, ...],
    namespace: str | None,
    all_namespaces: bool,
    ingress_namespace: str,
    output_format: str,
    **cluster: Any,
) -> int:
    """Find policy mistakes: selectors that match nothing, missing DNS, an unreachable app, dead rules."""
    run = run_lint(
        object_source_from_options(paths, namespace, all_namespaces, cluster),
        ingress_namespace=ingress_namespace,
    )
    for note in run.notes:
        click.echo(f"note: {note}", err=True)
    findings = [located.finding for located in run.findings]
    locations = [str(located.location) if located.location is not None else "" for located in run.findings]
    if output_format == "json":
        click.echo(json.dumps(lint_json(findings, locations), indent=2))
    elif output_format == "markdown":
        click.echo(lint_markdown(findings, locations), nl=False)
    else:
        click.echo(lint_text(findings, locations), nl=False)
    return run.exit_code
