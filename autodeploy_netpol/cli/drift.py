"""``autodeploy-netpol drift``: compare what the deploy will create with what is live."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import click

from .. import files
from ..checks.drift import IGNORE_RULE_HELP, IgnoreRule
from ..errors import ExitCode, InputError
from ..files import STDIN
from ..kube.releases import STABLE
from ..report import FORMATS, SUFFIX_FORMATS, render, report_document
from ..runs.drift import DesiredFromStream, DesiredFromValues, DriftRequest, DriftRun, run_drift
from ..runs.inputs import LiveInput
from ..sources.collector import cycle_collector_paused
from .cluster_options import (
    CLUSTER_OPTION_NAMES,
    access_from_options,
    cluster_access_options,
    namespace_from_options,
)
from .comment import (
    comment_optional_option,
    post_report_comment,
    read_sections,
    require_environment,
    section_option,
)
from .common import env_default, handle_errors
from .options import context_from_options, deploy_context_options, values_argument, values_path


@dataclass(frozen=True)
class OutputTarget:
    """One ``--output``: a format and a file."""

    output_format: str
    path: str

    @classmethod
    def parse(cls, text: str, default_format: str | None) -> OutputTarget:
        """``FORMAT:FILE``, or a FILE whose ending names the format (.json, .md, .xml, .txt)."""
        prefix, sep, rest = text.partition(":")
        if sep and prefix in FORMATS and rest:
            return cls(prefix, rest)
        suffix = os.path.splitext(text)[1].lower()
        inferred = SUFFIX_FORMATS.get(suffix) or default_format
        if inferred is None:
            raise InputError(
                f"--output {text!r}: cannot tell the format from the file name",
                hint="end the name in .json, .md, .xml (JUnit) or .txt, write FORMAT:FILE "
                "(e.g. junit:report.out), or pass --format",
            )
        return cls(inferred, text)


@click.command(
    epilog=f"""\b
Examples:
  # In a merge-request pipeline, against a snapshot (no cluster credentials needed):
  autodeploy-netpol drift --release production --namespace shop-42-production \\
      --live snapshot.yaml --output drift.json --output drift.md --output junit.xml
  # Against the cluster of the current kubeconfig context:
  autodeploy-netpol drift -r review-x -n shop-42-review-x --format json
  # A rendered stream over many namespaces, cluster-wide:
  autodeploy-netpol render -r production -n shop > desired.yaml
  autodeploy-netpol drift --desired desired.yaml --live cluster.yaml --all-namespaces
  # Stop before the deploy reverts hand edits (three-way with Helm's record):
  autodeploy-netpol drift -r production -n shop-42-production --fail-on-override --helm-history
  # Hide known differences:
  autodeploy-netpol drift --live snap/ --ignore 'netpol/legacy-*' --ignore metadata.labels.chart

\b
Exit codes: 0 no drift, 1 drift (after --ignore rules), 2 input error, 3 cluster error,
            4 with --fail-on-override: the deploy would override a UI or hand edit,
              collide with a policy Helm does not own, or run next to UI-editor policies,
            70 internal error (a bug; --debug prints the traceback).

\b
{IGNORE_RULE_HELP}
"""
)
@values_argument
@deploy_context_options
@click.option(
    "--live",
    "live_paths",
    metavar="PATH",
    multiple=True,
    help="Read live policies from a snapshot instead of the cluster (--kubeconfig ...): a YAML/JSON file "
    "(kubectl get networkpolicies,ciliumnetworkpolicies -o yaml) or a directory of them, read recursively; "
    "- for stdin. Repeat it for several snapshots (the policies in one, namespaces and workloads in another).",
)
@click.option(
    "--no-live",
    is_flag=True,
    help="No cluster and no snapshot (e.g. no cluster access in CI): report what the deploy will create and "
    "what it allows (the rendered objects, and the connections into the app's pods after the deploy); exit 0. "
    "The namespace is then optional.",
)
@click.option(
    "--desired",
    "desired_path",
    metavar="PATH",
    help="Compare these objects instead of computing them from VALUES: a YAML stream such as the "
    "render or helm template output (other kinds are skipped), a file or a directory (recursive); - for stdin.",
)
@click.option(
    "--all-namespaces",
    "-A",
    is_flag=True,
    help="Compare every namespace: desired objects keep their own namespace; live ones are cluster-wide.",
)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="[FORMAT:]FILE",
    help="Also write the report to FILE, format from its ending (.json, .md, .xml = JUnit, .txt) "
    "or a FORMAT: prefix (codequality:FILE: the ownership warnings as a GitLab Code Quality report at the "
    "values file's network-policy block). Repeat for several files from one run.",
)
@click.option(
    "--ignore", "ignore_rules", multiple=True, metavar="RULE", help="Hide drift matching RULE (see below)."
)
@click.option(
    "--environment",
    metavar="NAME",
    help="Environment named in the report. Default: $CI_ENVIRONMENT_NAME.",
)
@click.option(
    "--job-url",
    metavar="URL",
    help="Job whose artifacts hold the full report, linked from Markdown. Default: $CI_JOB_URL.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also list objects in sync (with cosmetic differences) and other live policies.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing on standard output (write --output files only)."
)
@click.option(
    "--mr-comment",
    is_flag=True,
    help="Also create or update this environment's comment on the merge request(s) "
    "(CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID or CI_OPEN_MERGE_REQUESTS, NETPOL_GITLAB_TOKEN; "
    "see 'comment --help'). Without a token: a notice, and drift's own exit code. If posting fails the "
    "report is still printed and written, and the exit code is 3.",
)
@comment_optional_option
@section_option("--comment-section")
@click.option(
    "--fail-on-override",
    is_flag=True,
    help="Exit 4 when the deploy would revert a change made outside the pipeline (UI editor, kubectl), "
    "collide with a policy Helm does not own, or enable policies next to UI-editor ones.",
)
@click.option(
    "--no-connectivity",
    is_flag=True,
    help="Leave out the connectivity section (who can reach whom now and after the deploy; needs the "
    "live workloads and namespaces: from the cluster when the role allows, or in the --live snapshot).",
)
@click.option(
    "--helm-history",
    is_flag=True,
    help="Also read Helm's release record (Secret sh.helm.release.v1.<release>.v<N>) and compare live "
    "with what Helm last applied. Needs get/list on Secrets; off by default (see README).",
)
@cluster_access_options
@handle_errors
def drift(
    values: str | None,
    live_paths: tuple[str, ...],
    no_live: bool,
    desired_path: str | None,
    all_namespaces: bool,
    output_format: str,
    outputs: tuple[str, ...],
    ignore_rules: tuple[str, ...],
    environment: str | None,
    job_url: str | None,
    verbose: bool,
    quiet: bool,
    mr_comment: bool,
    comment_optional: bool,
    sections: tuple[str, ...],
    fail_on_override: bool,
    helm_history: bool,
    no_connectivity: bool,
    **options: Any,
) -> int:
    """Report how the live policies differ from those the deploy will create.

    Each object is missing (the deploy will create it), changed (each field path with its
    live and desired value; spec and metadata separately) or unexpected (live, owned by this
    release, not desired: the deploy will delete it). Differences that only the API
    server's defaults or the writing make (policyTypes, protocol TCP, empty selectors, list
    order ...) are not drift; -v shows them as cosmetic. Other live policies in the namespace
    are listed as context, with their owner.
    """
    environment = environment or env_default("CI_ENVIRONMENT_NAME")
    if mr_comment:
        require_environment(environment)  # a usage error before anything is read
    targets = tuple(OutputTarget.parse(text, None) for text in outputs)
    files.declare_inputs([values, *live_paths, desired_path, options.get("kubeconfig"), *sections])
    for target in targets:  # before any work: an output may not be an input, a FIFO or a device
        files.check_output(target.path)
    request = _request(
        values=values,
        live_paths=live_paths,
        no_live=no_live,
        desired_path=desired_path,
        all_namespaces=all_namespaces,
        ignore_rules=ignore_rules,
        fail_on_override=fail_on_override,
        helm_history=helm_history,
        connectivity=not no_connectivity,
        options=options,
    )
    output = ReportOutput(
        output_format=output_format,
        targets=targets,
        environment=environment,
        job_url=job_url or env_default("CI_JOB_URL"),
        verbose=verbose,
        quiet=quiet,
        mr_comment=mr_comment,
        comment_optional=comment_optional,
        comment_sections=tuple(read_sections(sections)),
        fail_on_override=fail_on_override,
    )
    # Rendering walks the whole report while every parsed manifest is still alive: the cycle
    # collector stays paused for that too, as during the run (see runs/drift.py).
    with cycle_collector_paused():
        return _report(run_drift(request), output)


@dataclass(frozen=True)
class ReportOutput:
    """Where the report goes: standard output (unless quiet), files, the merge-request comment."""

    output_format: str
    targets: tuple[OutputTarget, ...]
    environment: str | None
    job_url: str | None
    verbose: bool
    quiet: bool
    mr_comment: bool
    comment_optional: bool
    comment_sections: tuple[str, ...]
    fail_on_override: bool = False


def _report(run: DriftRun, output: ReportOutput) -> int:
    """Print, write and post the report of ``run``; the command's exit code."""
    for warning in run.warnings:
        click.echo(warning, err=True)
    document = report_document(
        run.report,
        environment=output.environment,
        fail_on_override=output.fail_on_override,
        compared=run.compared,
    )
    artifact = next((target.path for target in output.targets if target.output_format == "json"), None)
    render_options = {
        "verbose": output.verbose,
        "environment": output.environment,
        "job_url": output.job_url,
        "artifact_path": artifact,
        "values_location": run.values_location,
    }
    for target in output.targets:
        files.write_output(target.path, render(document, target.output_format, **render_options))
    if not output.quiet:
        color = output.output_format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(render(document, output.output_format, color=color, **render_options), nl=False)
    if output.mr_comment:
        # After the report is out: a GitLab failure must not cost the printed or written report.
        posted = post_report_comment(
            document,
            output.environment,
            optional=output.comment_optional,
            artifact_path=artifact,
            job_url=output.job_url,
            sections=output.comment_sections,
        )
        if posted is not ExitCode.OK:
            return posted  # an access error (3) wins over drift and over --fail-on-override
    return run.exit_code


def _request(
    *,
    values: str | None,
    live_paths: tuple[str, ...],
    no_live: bool,
    desired_path: str | None,
    all_namespaces: bool,
    ignore_rules: tuple[str, ...],
    fail_on_override: bool,
    helm_history: bool,
    connectivity: bool,
    options: dict[str, Any],
) -> DriftRequest:
    """The options and the environment (CI variables, kubeconfig options) as a typed request."""
    rules = tuple(IgnoreRule.parse(text) for text in ignore_rules)
    cluster = {name: options.pop(name) for name in CLUSTER_OPTION_NAMES}
    if live_paths and (cluster["kubeconfig"] or cluster["context"] or cluster["in_cluster"]):
        raise InputError(
            "--live reads a snapshot, --kubeconfig/--context/--in-cluster read the cluster: give one of them",
            hint="drop --live to compare with the cluster",
        )
    if no_live and (
        live_paths or cluster["kubeconfig"] or cluster["context"] or cluster["in_cluster"]
    ):
        raise InputError(
            "--no-live reads neither a snapshot nor the cluster: it goes without --live, --kubeconfig, "
            "--context and --in-cluster"
        )
    if no_live and (all_namespaces or helm_history):
        raise InputError("--no-live has no live state for --all-namespaces or --helm-history")
    access = access_from_options(**cluster)
    if not all_namespaces:
        options["namespace"] = namespace_from_options(
            options.get("namespace"),
            access if not live_paths and not no_live else None,
            required=not no_live,
            alternatives=", or --all-namespaces",
        )
    desired: DesiredFromValues | DesiredFromStream
    if desired_path is not None:
        if values is not None:
            raise InputError("give either VALUES or --desired, not both")
        if desired_path == STDIN and STDIN in live_paths:
            raise InputError(
                "--desired - and --live - both name standard input",
                hint="write one of them to a file first",
            )
        namespace = options.get("namespace") or env_default("KUBE_NAMESPACE")
        desired = DesiredFromStream(
            desired_path,
            release=options.get("release") or env_default("HELM_RELEASE_NAME", "CI_ENVIRONMENT_SLUG"),
            namespace=namespace,
            track=str(options.get("track") or STABLE),
        )
    else:
        desired = DesiredFromValues(
            values_path(values),
            context_from_options(**options, require_namespace=not all_namespaces and not no_live),
        )
    return DriftRequest(
        desired=desired,
        live=None if no_live else LiveInput(live_paths, access),
        all_namespaces=all_namespaces,
        ignore=rules,
        connectivity=connectivity,
        helm_history=helm_history,
        fail_on_override=fail_on_override,
    )
