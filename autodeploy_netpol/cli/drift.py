"""``autodeploy-netpol drift``: compare what the deploy will create with what is live."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import click

from ..checks.drift import IGNORE_RULE_HELP, IgnoreRule, compare
from ..checks.ownership.check import check_ownership
from ..checks.ownership.conflicts import exit_code
from ..checks.plan import HistoryReader
from ..errors import ExitCode, InputError, Location
from ..kube.labels import APP_LABEL, RELEASE_LABEL, TIER_LABEL, TRACK_LABEL, WEB_TIER
from ..kube.releases import STABLE, helm_release
from ..report import FORMATS, SUFFIX_FORMATS, render, report_document
from ..sources.cluster import ClusterReader
from ..sources.live import LiveState
from .cluster_options import CLUSTER_OPTION_NAMES, cluster_access_options, reader_from_options
from .comment import comment_optional_option, post_report_comment, read_sections, section_option
from .common import env_default, handle_errors
from .options import context_from_options, deploy_context_options, values_argument

if TYPE_CHECKING:
    from ..checks.connectivity_section import ConnectivitySection


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
              collide with a policy Helm does not own, or run next to UI-editor policies.

\b
{IGNORE_RULE_HELP}
"""
)
@values_argument
@deploy_context_options
@click.option(
    "--live",
    "live_path",
    metavar="PATH",
    help="Read live policies from a snapshot instead of the cluster (--kubeconfig ...): a YAML/JSON file "
    "(kubectl get networkpolicies,ciliumnetworkpolicies -o yaml) or a directory of them; - for stdin.",
)
@click.option(
    "--desired",
    "desired_path",
    metavar="PATH",
    help="Compare these objects instead of computing them from VALUES: a YAML stream such as the "
    "render or helm template output (other kinds are skipped), a file or a directory; - for stdin.",
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
    "or a FORMAT: prefix. Repeat for several files from one run.",
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
    help="Also create or update this environment's comment on the merge request "
    "(CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, NETPOL_GITLAB_TOKEN; see 'comment --help'). "
    "If posting fails the report is still printed and written, and the exit code is 3.",
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
    live_path: str | None,
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
    rules = [IgnoreRule.parse(text) for text in ignore_rules]
    targets = [OutputTarget.parse(text, None) for text in outputs]
    environment = environment or env_default("CI_ENVIRONMENT_NAME")
    job_url = job_url or env_default("CI_JOB_URL")

    cluster = {name: options.pop(name) for name in CLUSTER_OPTION_NAMES}
    if live_path is not None and (cluster["kubeconfig"] or cluster["context"]):
        raise InputError(
            "--live reads a snapshot, --kubeconfig/--context read the cluster: give one of them",
            hint="drop --live to compare with the cluster",
        )
    with _no_cycle_collection(), ExitStack() as stack:
        return _run(
            values=values,
            source=LiveSource(live_path, cluster, stack),
            desired_path=desired_path,
            all_namespaces=all_namespaces,
            output_format=output_format,
            targets=targets,
            rules=rules,
            environment=environment,
            job_url=job_url,
            verbose=verbose,
            quiet=quiet,
            mr_comment=mr_comment,
            comment_optional=comment_optional,
            comment_sections=read_sections(sections),
            fail_on_override=fail_on_override,
            helm_history=helm_history,
            connectivity=not no_connectivity,
            options=options,
        )


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while reading and comparing.

    Parsed manifests are acyclic, but with tens of thousands of them every collection walks
    them all again: measured at half the run time of a 10,000-policy comparison (bench/drift.py).
    Nothing here builds cycles worth collecting, and the collector resumes afterwards.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class LiveSource:
    """Where the live side comes from: a snapshot (``--live``), or the cluster.

    The cluster reader is opened on first use and closed with ``stack``; ``--helm-history``
    reads Helm's release Secrets from the same source.
    """

    def __init__(self, live_path: str | None, cluster: dict[str, Any], stack: ExitStack) -> None:
        self.live_path = live_path
        self.cluster = cluster
        self.stack = stack
        self._reader: ClusterReader | None = None

    def reader(self) -> ClusterReader:
        if self._reader is None:
            self._reader = self.stack.enter_context(reader_from_options(**self.cluster))
        return self._reader

    def policies(self, namespace: str | None) -> LiveState:
        """Live policies of ``namespace`` (every namespace when None)."""
        if self.live_path is not None:
            from ..sources.snapshot import read_snapshot

            return read_snapshot(self.live_path)
        return self.reader().policies(namespace)

    def history(self) -> HistoryReader:
        """Helm's last applied manifests, from the snapshot's release Secrets or the cluster's."""
        from ..sources.helm_releases import ClusterHistory, SnapshotHistory

        if self.live_path is not None:
            return SnapshotHistory(self.live_path)
        return ClusterHistory(self.reader())


def _run(
    *,
    values: str | None,
    source: LiveSource,
    desired_path: str | None,
    all_namespaces: bool,
    output_format: str,
    targets: list[OutputTarget],
    rules: list[IgnoreRule],
    environment: str | None,
    job_url: str | None,
    verbose: bool,
    quiet: bool,
    mr_comment: bool,
    comment_optional: bool,
    comment_sections: list[str],
    fail_on_override: bool,
    helm_history: bool,
    connectivity: bool,
    options: dict[str, Any],
) -> int:
    notes: list[str] = []
    app: dict[str, Any] | None = None
    if desired_path is not None:
        if values is not None:
            raise InputError("give either VALUES or --desired, not both")
        from ..sources.snapshot import read_manifests

        release = options.get("release") or env_default("HELM_RELEASE_NAME", "CI_ENVIRONMENT_SLUG")
        namespace = options.get("namespace") or env_default("KUBE_NAMESPACE")
        manifests = read_manifests(desired_path, what="desired stream")
        desired_objects, desired_source = manifests.objects, manifests.source
        track = str(options.get("track") or STABLE)
        releases = [helm_release(release, track)] if release else []
        notes.extend(manifests.notes)
    else:
        from ..desired.compute import compute_desired
        from ..desired.values import read_values

        context = context_from_options(**options, require_namespace=not all_namespaces)
        values_file = read_values(values)
        desired = compute_desired(values_file, context)
        for warning in desired.warnings:
            click.echo(str(warning), err=True)
        desired_objects, desired_source = desired.objects, values_file.path
        namespace = context.namespace
        releases = [context.helm_release]
        release, track = context.release, context.track
        if context.namespace:
            app = _app_workload(context.release, context.helm_release, context.namespace, context.track)
    if not namespace and not all_namespaces:
        raise InputError(
            "no namespace", hint="pass --namespace NS (or set KUBE_NAMESPACE), or --all-namespaces"
        )

    live = source.policies(None if all_namespaces else namespace)
    notes.extend(live.notes)
    history = source.history() if helm_history else None
    report = compare(
        desired_objects,
        live.objects,
        namespace=namespace,
        releases=releases,
        all_namespaces=all_namespaces,
        ignore=rules,
        desired_source=desired_source,
        live_source=live.source,
        notes=notes,
        history=history,
    )
    ownership = check_ownership(
        desired_objects,
        live.objects,
        namespace=namespace,
        release=release,
        track=track,
        all_namespaces=all_namespaces,
        history=history,
        plan=report.plan,
    )
    report = replace(
        report,
        ownership=tuple(ownership.verdicts),
        warnings=tuple(ownership.warnings),
        notes=(*report.notes, *ownership.notes),
    )
    if connectivity:
        report = replace(
            report,
            connectivity=_connectivity(source, desired_objects, report, namespace, all_namespaces, app),
        )
    document = report_document(report, environment=environment)
    artifact = next((target.path for target in targets if target.output_format == "json"), None)
    render_options = {
        "verbose": verbose,
        "environment": environment,
        "job_url": job_url,
        "artifact_path": artifact,
    }
    for target in targets:
        _write(target.path, render(document, target.output_format, **render_options))
    if not quiet:
        color = output_format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(render(document, output_format, color=color, **render_options), nl=False)
    if mr_comment:
        # After the report is out: a GitLab failure must not cost the printed or written report.
        posted = post_report_comment(
            document,
            environment,
            optional=comment_optional,
            artifact_path=artifact,
            job_url=job_url,
            sections=comment_sections,
        )
        if posted is not ExitCode.OK:
            return posted  # an access error (3) wins over drift and over --fail-on-override
    drift_code = ExitCode.FINDINGS if report.has_drift else ExitCode.OK
    return exit_code(drift_code, ownership.warnings, fail_on_override=fail_on_override)


def _app_workload(release: str, helm_release: str, namespace: str, track: str) -> dict[str, Any]:
    """The release's web pods as the auto-deploy-app chart labels them (app, release, tier, track),
    standing in when the live state has no workloads."""
    labels = {APP_LABEL: release, RELEASE_LABEL: helm_release, TIER_LABEL: WEB_TIER, TRACK_LABEL: track}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": helm_release, "namespace": namespace},
        "spec": {"template": {"metadata": {"labels": labels}}},
    }


def _connectivity(
    source: LiveSource,
    desired_objects: list[dict[str, Any]],
    report: Any,
    namespace: str | None,
    all_namespaces: bool,
    app: dict[str, Any] | None,
) -> ConnectivitySection:
    """The connectivity section: live objects of every kind vs the state after the deploy."""
    from ..checks.connectivity_section import connectivity_section, has_workloads

    notes: list[str] = []
    if all_namespaces:
        # cluster-wide runs compare thousands of policies: the all-pairs analysis (twice, with
        # stand-in pods) would cost more than the whole comparison; the commands do it on demand
        return {
            "verdict": "not-analysed",
            "notes": [
                "not analysed with --all-namespaces: run 'autodeploy-netpol diff --before ... --after ...'"
            ],
        }
    if source.live_path == "-":
        return {
            "verdict": "not-analysed",
            "notes": ["--live - (standard input) is read once: no connectivity"],
        }
    if source.live_path is not None:
        from .connectivity_input import read_paths

        live_objects: list[dict[str, Any]] = read_paths([source.live_path]).objects
    else:
        from .audit import read_cluster

        live_objects = read_cluster(source.reader(), None if all_namespaces else namespace, notes)
    if app is not None and not has_workloads(live_objects):
        live_objects.append(app)
        notes.append(
            "no workload in the live state: the release's web pods are modelled from the chart's labels"
        )
    drifted = [(entry.kind, entry.namespace, entry.name, str(entry.change)) for entry in report.drift]
    section = connectivity_section(live_objects, desired_objects, drifted, namespace=namespace or "default")
    section["notes"] = [*notes, *section["notes"]]
    return section


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write report: {exc.strerror or exc}", location=Location(path)) from exc
