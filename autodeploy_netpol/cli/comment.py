"""``autodeploy-netpol comment``: the drift report as one merge-request comment per environment.

:func:`post_report_comment` is shared with ``drift --mr-comment``: both render the report with
the Markdown renderer (summary first, one ``<details>`` per object, cluster data escaped) and
hand it to the GitLab edge.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from ..errors import ExitCode, GitLabError, InputError
from .common import env_default, handle_errors, print_error

F = TypeVar("F", bound=Callable[..., Any])

#: Where the environment name comes from when ``--environment`` is not given.
ENVIRONMENT_VARIABLES = ("NETPOL_ENVIRONMENT", "CI_ENVIRONMENT_NAME")

comment_optional_option = click.option(
    "--comment-optional",
    is_flag=True,
    help="A failed merge-request comment is a warning, not exit code 3.",
)


def section_option(name: str) -> Callable[[F], F]:
    """``--section`` / ``--comment-section``: Markdown files added after the drift report."""
    return click.option(
        name,
        "sections",
        multiple=True,
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help="Markdown to add to the comment after the drift report, e.g. the output of "
        "'audit --format markdown' on recorded flows. Repeatable.",
    )


def read_sections(paths: Sequence[str]) -> list[str]:
    """The section files' text (exit 2 on a missing or unreadable file, before anything is posted)."""
    from ..sources.yamlio import read_text

    return [read_text(path).strip() for path in paths]


#: Said in place of a section too long for the note (the full text is in the job's artifacts).
SECTION_TOO_LONG = "_A further section (e.g. the audit of recorded flows) is too long for this comment; see the job's artifacts._"


def fit_sections(sections: Sequence[str], room: int) -> str:
    """The extra sections as they go into the note: together at most half of ``room``, so the drift
    report keeps its summary; a section that does not fit is replaced by a pointer to the artifacts."""
    budget = room // 2
    parts: list[str] = []
    for text in sections:
        if not text:
            continue
        if len(text) + 2 > budget:
            text = SECTION_TOO_LONG
        parts.append(text)
        budget -= len(text) + 2
    return "".join(f"\n\n{text}" for text in parts)


def environment_option(help_text: str) -> Callable[[F], F]:
    """``--environment``, defaulting to NETPOL_ENVIRONMENT or CI_ENVIRONMENT_NAME."""
    return click.option(
        "--environment",
        metavar="NAME",
        default=lambda: env_default(*ENVIRONMENT_VARIABLES),
        show_default=False,
        help=help_text,
    )


def require_environment(environment: str | None) -> str:
    """The environment the comment is about: without one there is no comment to find or keep (exit 2)."""
    if not environment:
        raise InputError(
            "no environment name for the merge-request comment",
            hint="pass --environment (one comment is kept per environment) or set NETPOL_ENVIRONMENT "
            "(GitLab sets CI_ENVIRONMENT_NAME in jobs with an environment)",
        )
    return environment


def notice(text: str) -> None:
    """A line for the job log that needs no action and changes no exit code."""
    click.echo(f"notice: {text}", err=True)


def post_report_comment(
    report: Mapping[str, Any],
    environment: str | None,
    *,
    optional: bool,
    artifact_path: str | None = None,
    job_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    sections: Sequence[str] = (),
) -> ExitCode:
    """Render ``report`` as Markdown and create or update the environment's comment on each merge
    request of this pipeline (``CI_MERGE_REQUEST_IID``, else this project's ``CI_OPEN_MERGE_REQUESTS``).

    ``environment`` defaults to the report's own (none at all: :class:`InputError`, exit 2);
    ``artifact_path`` names the full report in the job's artifacts for the comment's link to
    ``job_url`` (default ``CI_JOB_URL``). Returns ``ExitCode.OK`` on success and when there is
    nothing to post with: no token (``NETPOL_GITLAB_TOKEN``/``GITLAB_TOKEN``) or no merge request of
    this project (a notice says so); ``ExitCode.ACCESS`` when a configured token fails (the error is
    printed), or ``ExitCode.OK`` with a warning when ``optional``. Never raises for GitLab problems,
    so a caller that already printed or wrote the report keeps it.
    """
    from ..gitlab import (
        MergeRequestNotes,
        NoToken,
        body_room,
        merge_requests_from_environment,
        target_from_environment,
        token_from_environment,
    )
    from ..report.markdown import render_markdown

    variables = os.environ if environ is None else environ
    environment = require_environment(environment or report.get("environment") or None)
    try:
        token_from_environment(variables)
    except NoToken as missing:
        notice(
            f"merge-request comment skipped: {missing.message}. The report is in the job log and artifacts."
            + (f" To get the comment: {missing.hint}." if missing.hint else "")
        )
        return ExitCode.OK
    worst = ExitCode.OK
    try:
        requests = merge_requests_from_environment(variables)
        for text in requests.notes:
            notice(text)
        if not requests.iids:
            notice(f"merge-request comment skipped: no merge request of this project in {requests.source}")
            return ExitCode.OK
        room = body_room(environment)
        extra = fit_sections(sections, room)
        markdown = render_markdown(
            dict(report),
            environment=environment,
            job_url=job_url or variables.get("CI_JOB_URL") or None,
            max_chars=room - len(extra),
            artifact_path=artifact_path,
        )
        if extra:
            markdown = markdown.rstrip("\n") + extra + "\n"
        project_url = variables.get("CI_MERGE_REQUEST_PROJECT_URL") or variables.get("CI_PROJECT_URL")
    except GitLabError as error:
        return _comment_failed(error, optional)
    for iid in requests.iids:
        try:
            target = target_from_environment(variables, merge_request_iid=iid)
            outcome = MergeRequestNotes(target, project_url=project_url).publish(environment, markdown)
        except GitLabError as error:
            worst = max(worst, _comment_failed(error, optional))
            continue
        click.echo(outcome.describe(), err=True)
    return worst


def _comment_failed(error: GitLabError, optional: bool) -> ExitCode:
    if optional:
        click.echo(f"warning: merge-request comment not posted (--comment-optional): {error}", err=True)
        return ExitCode.OK
    print_error(error)
    return ExitCode.ACCESS


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol comment --report drift.json --environment production
  autodeploy-netpol comment --report drift.json --environment staging --comment-optional
  autodeploy-netpol comment --report drift.json --markdown-out drift.md
  autodeploy-netpol comment --report drift.json --section audit.md

\b
Needs, as GitLab CI sets them: CI_API_V4_URL, CI_PROJECT_ID, and the merge request:
CI_MERGE_REQUEST_IID (merge-request pipelines), else each merge request of this project in
CI_OPEN_MERGE_REQUESTS (branch pipelines of a branch with open merge requests; CI_PROJECT_PATH
tells this project's from others). A token in NETPOL_GITLAB_TOKEN (or GITLAB_TOKEN): a project
access token with the api scope and the Reporter role; CI_JOB_TOKEN cannot create notes.
Without a token the comment is skipped with a notice (exit 0); a token that fails is exit 3
unless --comment-optional. No environment name at all is a usage error (exit 2).
"""
)
@click.option(
    "--report",
    "report_path",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Drift report in JSON (drift --format json).",
)
@environment_option(
    "Environment the report is about; one comment is kept per environment. "
    "Default: $NETPOL_ENVIRONMENT, $CI_ENVIRONMENT_NAME, then the report's own."
)
@click.option(
    "--markdown-out",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the rendered Markdown here (e.g. as a job artifact).",
)
@section_option("--section")
@comment_optional_option
@handle_errors
def comment(
    report_path: str,
    environment: str | None,
    markdown_out: str | None,
    sections: tuple[str, ...],
    comment_optional: bool,
) -> int:
    """Post the drift report to the merge request, or update the comment already there.

    One comment per environment, found by a hidden marker; only comments written by the token's
    own user are edited, and nothing is written when the report did not change.
    """
    from .. import files
    from ..report.json_report import load_report

    files.declare_inputs([report_path, *sections])
    if markdown_out:
        files.check_output(markdown_out, what="Markdown report")
    report = load_report(report_path)
    environment = require_environment(environment or report.get("environment") or None)
    section_texts = read_sections(sections)
    if markdown_out:
        from ..report.markdown import render_markdown

        markdown = render_markdown(
            report,
            environment=environment,
            job_url=os.environ.get("CI_JOB_URL") or None,
            artifact_path=report_path,
        )
        files.write_output(markdown_out, markdown, what="Markdown report")
    return post_report_comment(
        report, environment, optional=comment_optional, artifact_path=report_path, sections=section_texts
    )
