"""``autodeploy-netpol lint PATH...``: policy mistakes, with severity; exit 1 on errors and warnings."""

from __future__ import annotations

import json
from typing import Any

import click

from .. import files
from ..desired.suggest import DEFAULT_INGRESS_NAMESPACE
from ..errors import InputError
from ..kube.releases import STABLE, TRACKS
from ..report.lint import lint_json, lint_markdown, lint_text
from ..runs.connectivity import LintDesired, LintRun, run_lint
from .cluster_options import cluster_source_options, object_source_from_options
from .common import env_default, handle_errors, output_target, write_output
from .options import context_from_options, values_path

#: ``--output`` formats of lint, and the file endings that name them.
OUTPUT_FORMATS = ("json", "text", "markdown", "codequality")
OUTPUT_SUFFIXES = {".json": "json", ".txt": "text", ".md": "markdown"}

EPILOG = """
\b
Examples:
  autodeploy-netpol lint snapshot/
  kubectl get ns,pods,deploy,sts,ds,netpol,cnp -A -o yaml | autodeploy-netpol lint -
  autodeploy-netpol lint snapshot/ --ingress-namespace ingress-nginx --format json
  autodeploy-netpol lint snapshot/ --format markdown > lint.md   # then: comment --section lint.md
  # the policies the deploy will create, after the deploy, located at the values file's lines:
  autodeploy-netpol lint --values .gitlab/auto-deploy-values.yaml -r production --live snapshot/
  autodeploy-netpol lint --values .gitlab/auto-deploy-values.yaml -r production --no-live \\
      -o codequality:gl-code-quality-report.json

\b
Checks: selector-matches-nothing, peer-matches-nothing, namespace-selector-matches-nothing,
egress-without-dns, ingress-namespace-cannot-reach, ingress-namespace-missing,
monitoring-cannot-scrape, isolates-and-allows-nothing (warnings and errors: exit 1);
shadowed-rule, not-modelled (info: exit 0).
"""


@click.command("lint", epilog=EPILOG)
@click.argument("paths", nargs=-1, required=False, metavar="[PATH]...")
@click.option(
    "--ingress-namespace",
    metavar="NS",
    help="Namespace of the ingress controller that must reach the apps. Default: $NETPOL_INGRESS_NAMESPACE, "
    f"then the one detected in the input (IngressClasses, Gateway API classes, controller pods), then "
    f"{DEFAULT_INGRESS_NAMESPACE}. A namespace missing from an input that lists namespaces is a finding.",
)
@click.option(
    "--monitoring-namespace",
    metavar="NS",
    help="Namespace of the monitoring stack that must scrape the apps (pods annotated prometheus.io/scrape, "
    "and with --values the app's metrics port). Default: $NETPOL_MONITORING_NAMESPACE, then the one "
    "detected in the input (Prometheus, OpenTelemetry Collector, Grafana Alloy/Agent, vmagent pods).",
)
@click.option(
    "--values",
    "values",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Lint the state after the deploy: the policies this values file makes (findings at its lines) in "
    "place of the live ones they replace. Needs the release (-r, $HELM_RELEASE_NAME, $CI_ENVIRONMENT_SLUG).",
)
@click.option(
    "--release",
    "-r",
    metavar="NAME",
    help="With --values: the release. Default: $HELM_RELEASE_NAME, then $CI_ENVIRONMENT_SLUG.",
)
@click.option(
    "--track",
    type=click.Choice(TRACKS),
    default=STABLE,
    show_default=True,
    help="With --values: the deploy track.",
)
@click.option(
    "--no-live", is_flag=True, help="With --values: no PATH and no cluster, the values file's policies alone."
)
@click.option(
    "--live",
    "live_paths",
    multiple=True,
    metavar="PATH",
    help="The live state as snapshot PATHs (the same as giving PATHs).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Report format; markdown is a section for the merge-request comment (comment --section).",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="[FORMAT:]FILE",
    help="Also write the findings to FILE: json (.json), text (.txt), markdown (.md), or codequality:FILE, GitLab's Code "
    "Quality report (artifacts:reports:codequality; paths relative to $CI_PROJECT_DIR). Repeatable.",
)
@cluster_source_options
@handle_errors
def command(
    paths: tuple[str, ...],
    namespace: str | None,
    all_namespaces: bool,
    ingress_namespace: str | None,
    monitoring_namespace: str | None,
    values: str | None,
    release: str | None,
    track: str,
    no_live: bool,
    live_paths: tuple[str, ...],
    output_format: str,
    outputs: tuple[str, ...],
    **cluster: Any,
) -> int:
    """Find policy mistakes: selectors that match nothing, missing DNS, an unreachable app, dead rules."""
    targets = [output_target(text, OUTPUT_FORMATS, OUTPUT_SUFFIXES) for text in outputs]
    paths = (*paths, *live_paths)
    files.declare_inputs([*paths, values, cluster.get("kubeconfig")])
    for _, target in targets:  # before any work: an output may not be an input, a FIFO or a device
        files.check_output(target)
    if (release or track != STABLE or no_live) and values is None:
        raise InputError(
            "--release, --track and --no-live go with --values", hint="lint --values FILE -r RELEASE ..."
        )
    if no_live and paths:
        raise InputError("give either PATHs (the live state) or --no-live, not both")
    desired = None
    if values is not None:
        source = None if no_live else object_source_from_options(paths, namespace, all_namespaces, cluster)
        where = source.namespace if source is not None and not paths else None
        # the context takes the namespaces from the options, else the variables, else detection
        context = context_from_options(
            release=release,
            namespace=where or namespace,
            track=track,
            ingress_namespace=ingress_namespace,
            monitoring_namespace=monitoring_namespace,
        )
        desired = LintDesired(values_path(values), context)
        run = run_lint(source, ingress_namespace=None, desired=desired)
    else:
        run = run_lint(
            object_source_from_options(paths, namespace, all_namespaces, cluster),
            ingress_namespace=ingress_namespace or env_default("NETPOL_INGRESS_NAMESPACE"),
            monitoring_namespace=monitoring_namespace or env_default("NETPOL_MONITORING_NAMESPACE"),
        )
    for note in run.notes:
        click.echo(f"note: {note}", err=True)
    for target_format, path in targets:
        write_output(path, _render(run, target_format))
    click.echo(_render(run, output_format), nl=False)
    return run.exit_code


def _render(run: LintRun, output_format: str) -> str:
    findings = [located.finding for located in run.findings]
    locations = [str(located.location) if located.location is not None else "" for located in run.findings]
    if output_format == "json":
        return json.dumps(lint_json(findings, locations), indent=2) + "\n"
    if output_format == "markdown":
        return lint_markdown(findings, locations)
    if output_format == "codequality":
        from ..report.codequality import SEVERITY_OF, Issue, render_codequality

        return render_codequality(
            Issue(
                description=(f"{located.finding.policy}: " if located.finding.policy else "")
                + located.finding.message
                + (f" (hint: {located.finding.hint})" if located.finding.hint else ""),
                check=f"lint/{located.finding.check}",
                severity=SEVERITY_OF.get(located.finding.severity, "major"),
                path=located.location.file,
                line=located.location.line,
                identity=f"{located.finding.policy}\0{located.finding.message}",
            )
            for located in run.findings
            # a finding outside any file (a cluster object) has no line to show in the merge request
            if located.location is not None and located.location.line
        )
    return lint_text(findings, locations)
