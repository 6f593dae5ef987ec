"""``autodeploy-netpol lint PATH...``: policy mistakes, with severity; exit 1 on errors and warnings."""

from __future__ import annotations

import json

import click

from ..checks.lint import Finding, lint_model
from ..errors import ExitCode, Severity
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
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
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
    if output_format == "json":
        payload = {
            "findings": [
                {
                    "severity": f.severity,
                    "check": f.check,
                    "policy": f.policy,
                    "message": f.message,
                    "hint": f.hint,
                    "location": _location(snapshot, f, model.policies).rstrip(": ") or None,
                }
                for f in findings
            ]
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for f in findings:
            policy = f"{f.policy}: " if f.policy else ""
            click.echo(f"{_location(snapshot, f, model.policies)}{f.severity}[{f.check}] {policy}{f.message}")
            if f.hint:
                click.echo(f"  hint: {f.hint}")
        counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
        errors, warnings, notes = counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
        click.echo(f"{errors} errors, {warnings} warnings, {notes} notes")
    return ExitCode.FINDINGS if any(f.fails for f in findings) else ExitCode.OK
