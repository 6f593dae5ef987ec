"""``autodeploy-netpol lint PATH...``: policy mistakes, with severity; exit 1 on errors and warnings."""

from __future__ import annotations

import json

import click

from ..checks.lint import Finding, lint_model
from ..errors import ExitCode
from ..report.lint import lint_json, lint_markdown, lint_text
from .cluster_options import CLUSTER_OPTION_NAMES
from .common import env_default, handle_errors
from .connectivity_input import Snapshot, cluster_source_options, load

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


def _location(snapshot: Snapshot, finding: Finding, model_policies: tuple) -> str:  # type: ignore[type-arg]
    if finding.policy_index < 0:
        return ""
    location = snapshot.locate(model_policies[finding.policy_index].manifest, finding.path)
    return f"{location}: " if location is not None else ""


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
    **cluster: object,
) -> int:
    """Find policy mistakes: selectors that match nothing, missing DNS, an unreachable app, dead rules."""
    model, snapshot = load(paths, namespace, all_namespaces, {k: cluster[k] for k in CLUSTER_OPTION_NAMES})
    for note in snapshot.notes:
        click.echo(f"note: {note}", err=True)
    findings = lint_model(
        model, ingress_namespace=ingress_namespace, namespaces_known=snapshot.has_namespaces
    )
    locations = [_location(snapshot, f, model.policies).rstrip(": ") for f in findings]
    if output_format == "json":
        click.echo(json.dumps(lint_json(findings, locations), indent=2))
    elif output_format == "markdown":
        click.echo(lint_markdown(findings, locations), nl=False)
    else:
        click.echo(lint_text(findings, locations), nl=False)
    return ExitCode.FINDINGS if any(f.fails for f in findings) else ExitCode.OK
