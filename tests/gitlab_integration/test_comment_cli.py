"""``comment`` and ``drift --mr-comment`` end to end: the real CLI, python-gitlab and the fake GitLab."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path

import yaml
from click.testing import CliRunner, Result
from conftest import BOT_TOKEN, IID, NOTES_PATH, OTHER_TOKEN, PROJECT
from fake_gitlab import FakeGitLab
from markdown_it import MarkdownIt

from autodeploy_netpol.cli import main
from autodeploy_netpol.gitlab import note_marker

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"
VALUES = EXAMPLE / ".gitlab" / "auto-deploy-values.yaml"
SNAPSHOT = EXAMPLE / "live-snapshot.yaml"
DEPLOY = ["--release", "production", "--namespace", "shop-42-production", "--project-id", "42"]
USER = "GET /api/v4/user"
LIST = f"GET {NOTES_PATH}"
CREATE = f"POST {NOTES_PATH}"
#: Variables that must not leak in from the machine running the tests.
CLEAN = {
    name: None
    for name in (
        "GITLAB_TOKEN",
        "CI_JOB_TOKEN",
        "CI_ENVIRONMENT_NAME",
        "NETPOL_ENVIRONMENT",
        "CI_JOB_URL",
        "CI_PROJECT_URL",
        "CI_MERGE_REQUEST_PROJECT_URL",
        "CI_SERVER_TLS_CA_FILE",
        "HELM_RELEASE_NAME",
        "CI_ENVIRONMENT_SLUG",
        "KUBE_NAMESPACE",
        "NO_COLOR",
        "CI_OPEN_MERGE_REQUESTS",
        "CI_PROJECT_PATH",
        "KUBE_CONTEXT",
        "CI",
        "GITLAB_CI",
    )
}
HOSTILE = "@all <img src=x onerror=alert(1)> [x](javascript:alert(1)) </details><script>alert(2)</script> ```"


def run(environ: dict[str, str], *args: object) -> Result:
    result = CliRunner().invoke(
        main, [str(arg) for arg in args], env={**CLEAN, **environ}, catch_exceptions=False
    )
    for text in (result.stdout, result.stderr):
        assert BOT_TOKEN not in text and OTHER_TOKEN not in text
    return result


def drift_report(tmp_path: Path, snapshot: Path = SNAPSHOT, name: str = "drift.json") -> Path:
    report = tmp_path / name
    result = run(
        {}, "drift", VALUES, *DEPLOY, "--live", snapshot, "--environment", "production", "-q", "-o", report
    )
    assert result.exit_code == 1, result.output
    return report


def test_comment_creates_then_leaves_then_updates(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    report = drift_report(tmp_path)

    first = run(ci_environ, "comment", "--report", report)
    assert first.exit_code == 0, first.output
    assert fake.routes() == [USER, LIST, CREATE]
    [note] = fake.notes_of(PROJECT, IID)
    assert note["body"].startswith(note_marker("production") + "\n### Network policy drift in `production`")
    assert "merge-request comment for environment 'production' created" in first.stderr

    fake.requests.clear()
    second = run(ci_environ, "comment", "--report", report)
    assert second.exit_code == 0 and fake.routes() == [USER, LIST]
    assert "unchanged" in second.stderr

    in_sync = tmp_path / "live-in-sync.yaml"
    live = yaml.safe_load(SNAPSHOT.read_text())
    live["items"] = [item for item in live["items"] if not item["metadata"]["name"].endswith("allow-debug")]
    in_sync.write_text(yaml.safe_dump(live))
    fake.requests.clear()
    third = run(ci_environ, "comment", "--report", drift_report(tmp_path, in_sync, "drift2.json"))
    assert third.exit_code == 0, third.output
    assert fake.routes() == [USER, LIST, f"PUT {NOTES_PATH}/{note['id']}"]
    assert "1 changed, 0 missing, 0 unexpected" in fake.notes_of(PROJECT, IID)[0]["body"]


def test_environment_defaults_to_the_reports_own(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    report = tmp_path / "drift.json"
    document = json.loads(drift_report(tmp_path).read_text())
    document["environment"] = "staging"
    report.write_text(json.dumps(document))
    assert run(ci_environ, "comment", "--report", report).exit_code == 0
    assert fake.notes_of(PROJECT, IID)[0]["body"].startswith(note_marker("staging"))
    other = run({**ci_environ, "NETPOL_ENVIRONMENT": "review"}, "comment", "--report", report)
    assert other.exit_code == 0
    assert fake.notes_of(PROJECT, IID)[1]["body"].startswith(note_marker("review"))


def test_markdown_out_writes_the_report(fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path) -> None:
    markdown = tmp_path / "drift.md"
    result = run(ci_environ, "comment", "--report", drift_report(tmp_path), "--markdown-out", markdown)
    assert result.exit_code == 0
    assert markdown.read_text().startswith("### Network policy drift in `production`")


def test_a_401_exits_3_with_a_readable_message(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    report = drift_report(tmp_path)
    fake.fail("GET", "/api/v4/user", 401, body={"message": "401 Unauthorized: token {token} revoked"})

    result = run(ci_environ, "comment", "--report", report)

    assert result.exit_code == 3
    assert "error: GitLab rejected the token in NETPOL_GITLAB_TOKEN (401 Unauthorized)" in result.stderr
    assert "hint: the token is expired, revoked or mistyped" in result.stderr
    assert "Traceback" not in result.output
    assert fake.writes() == []


def test_comment_optional_turns_the_failure_into_a_warning(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    fake.fail("GET", "/api/v4/user", 401)
    result = run(ci_environ, "comment", "--report", drift_report(tmp_path), "--comment-optional")
    assert result.exit_code == 0
    assert "warning: merge-request comment not posted (--comment-optional): GitLab rejected" in result.stderr


def test_only_a_job_token_is_a_notice_that_explains(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    environ = {**ci_environ, "NETPOL_GITLAB_TOKEN": None}
    result = run(environ, "comment", "--report", drift_report(tmp_path))  # type: ignore[arg-type]
    assert result.exit_code == 0
    assert "notice: merge-request comment skipped: only CI_JOB_TOKEN is available" in result.stderr
    assert "project access token with the 'api' scope" in result.stderr
    assert fake.requests == []


def test_no_token_is_a_notice_and_comment_exits_0(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    environ = {**ci_environ, "NETPOL_GITLAB_TOKEN": None, "CI_JOB_TOKEN": None}
    result = run(environ, "comment", "--report", drift_report(tmp_path))  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    assert (
        "notice: merge-request comment skipped: no GitLab token: set NETPOL_GITLAB_TOKEN or GITLAB_TOKEN"
        in result.stderr
    )
    assert "The report is in the job log and artifacts" in result.stderr
    assert fake.requests == []


def test_drift_mr_comment_without_a_token_keeps_drifts_exit_code(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    environ = {**ci_environ, "NETPOL_GITLAB_TOKEN": None, "CI_JOB_TOKEN": None}
    args = ["drift", VALUES, *DEPLOY, "--live", SNAPSHOT, "--environment", "production", "--mr-comment"]
    result = run(environ, *args, "-o", tmp_path / "drift.json")  # type: ignore[arg-type]
    assert result.exit_code == 1, result.output  # drift found: the report's own code
    assert "notice: merge-request comment skipped" in result.stderr
    assert (tmp_path / "drift.json").is_file() and fake.requests == []


def test_comment_without_an_environment_is_a_usage_error(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    report = tmp_path / "drift.json"
    assert run({}, "drift", VALUES, *DEPLOY, "--live", SNAPSHOT, "-q", "-o", report).exit_code == 1
    result = run(ci_environ, "comment", "--report", report)
    assert result.exit_code == 2, result.output
    assert "error: no environment name for the merge-request comment" in result.stderr
    assert fake.requests == []


def test_drift_mr_comment_without_an_environment_is_a_usage_error_before_reading(
    ci_environ: dict[str, str],
) -> None:
    result = run(ci_environ, "drift", VALUES, *DEPLOY, "--live", "/nonexistent/snapshot.yaml", "--mr-comment")
    assert result.exit_code == 2
    assert "no environment name" in result.stderr and "nonexistent" not in result.stderr


def test_branch_pipelines_comment_on_this_projects_open_merge_requests(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    fake.add_merge_request(PROJECT, 9)
    environ = {
        **ci_environ,
        "CI_MERGE_REQUEST_IID": None,
        "CI_PROJECT_PATH": "shop/api",
        "CI_OPEN_MERGE_REQUESTS": f"shop/api!{IID},upstream/api!3,shop/api!9",
    }
    result = run(environ, "comment", "--report", drift_report(tmp_path), "--environment", "production")  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    assert len(fake.notes_of(PROJECT, IID)) == 1 and len(fake.notes_of(PROJECT, 9)) == 1
    assert (
        "notice: not commenting on upstream/api!3: the merge request is in another project" in result.stderr
    )


def test_open_merge_requests_only_in_other_projects_is_a_notice(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    environ = {
        **ci_environ,
        "CI_MERGE_REQUEST_IID": None,
        "CI_PROJECT_PATH": "shop/api",
        "CI_OPEN_MERGE_REQUESTS": "upstream/api!3",
    }
    result = run(environ, "comment", "--report", drift_report(tmp_path), "--environment", "production")  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    assert "no merge request of this project in CI_OPEN_MERGE_REQUESTS" in result.stderr
    assert fake.requests == []


def test_no_merge_request_at_all_stays_an_access_error(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    environ = {**ci_environ, "CI_MERGE_REQUEST_IID": None}
    result = run(environ, "comment", "--report", drift_report(tmp_path), "--environment", "production")  # type: ignore[arg-type]
    assert result.exit_code == 3
    assert "CI_MERGE_REQUEST_IID is not set and CI_OPEN_MERGE_REQUESTS is empty" in result.stderr


def test_a_bad_report_is_an_input_error(ci_environ: dict[str, str], tmp_path: Path) -> None:
    report = tmp_path / "drift.json"
    report.write_text('{"drift": "no"')
    result = run(ci_environ, "comment", "--report", report)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_drift_mr_comment_retries_a_500(fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path) -> None:
    fake.fail("POST", NOTES_PATH, 500)
    result = run(
        ci_environ,
        "drift",
        VALUES,
        *DEPLOY,
        "--live",
        SNAPSHOT,
        "--environment",
        "production",
        "--mr-comment",
    )
    assert result.exit_code == 1, result.output  # drift found; the comment was posted on the second attempt
    assert fake.routes() == [USER, LIST, CREATE, USER, LIST, CREATE]
    assert len(fake.notes_of(PROJECT, IID)) == 1


def test_drift_keeps_its_report_when_posting_fails(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    fake.fail("POST", NOTES_PATH, 403, body={"message": "403 Forbidden"})
    outputs = [tmp_path / "drift.json", tmp_path / "drift.md", tmp_path / "drift.xml"]
    args = ["drift", VALUES, *DEPLOY, "--live", SNAPSHOT, "--environment", "production", "--mr-comment"]
    result = run(ci_environ, *args, *(item for path in outputs for item in ("-o", path)))

    assert result.exit_code == 3
    assert "1 changed, 0 missing, 1 unexpected" in result.stdout
    assert all(path.stat().st_size > 0 for path in outputs)
    assert "may not write notes on merge request !7 of project 42 (403 Forbidden)" in result.stderr

    optional = run(ci_environ, *args, "--comment-optional")
    assert optional.exit_code == 1  # drift's own exit code


# -- cluster data cannot inject ----------------------------------------------------------------

ALLOWED_TAGS = {
    "details", "summary", "p", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "a", "br", "hr", "blockquote",
}  # fmt: skip


class RenderedNote(HTMLParser):
    """The HTML a CommonMark renderer makes of the note: tags, links, and text outside code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.prose: list[str] = []
        self._code_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in {"code", "pre"}:
            self._code_depth += 1
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"code", "pre"}:
            self._code_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._code_depth == 0:
            self.prose.append(data)


def hostile_snapshot(tmp_path: Path) -> Path:
    live = yaml.safe_load(SNAPSHOT.read_text())
    for item in live["items"]:
        metadata = item["metadata"]
        metadata.setdefault("annotations", {})["note"] = HOSTILE
        metadata.setdefault("labels", {})["team"] = HOSTILE
        for entry in metadata.get("managedFields", []):
            entry["manager"] = f"{entry['manager']} {HOSTILE}"
        if metadata["name"].endswith("allow-debug"):
            metadata["name"] = f"production-auto-deploy-{HOSTILE}"
        if metadata["name"].endswith("allow-metrics"):
            item["spec"]["podSelector"]["matchLabels"]["tier"] = HOSTILE
    extra = copy.deepcopy(live["items"][-1])
    extra["metadata"]["name"] = f"ui-{HOSTILE}"
    live["items"].append(extra)
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(live))
    return path


def test_cluster_strings_cannot_inject_into_the_comment(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    environ = {**ci_environ, "CI_JOB_URL": "https://gitlab.example.com/shop/-/jobs/9"}
    args = ["drift", VALUES, *DEPLOY, "--live", hostile_snapshot(tmp_path), "--environment", "production"]
    result = run(environ, *args, "--mr-comment", "-v", "-o", tmp_path / "drift.json")
    assert result.exit_code == 1, result.output
    [note] = fake.notes_of(PROJECT, IID)
    body = note["body"]
    assert "onerror" in body  # the hostile strings are in the comment...

    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(body)
    rendered = RenderedNote()
    rendered.feed(html)
    assert rendered.tags <= ALLOWED_TAGS, rendered.tags - ALLOWED_TAGS  # ...but make no <img>/<script>
    assert all(link.startswith("https://gitlab.example.com/shop/-/jobs/9/") for link in rendered.links)
    prose = "".join(rendered.prose)
    assert "@all" not in prose  # no mention outside code spans
    assert html.count("<details>") == html.count("</details>")


def test_the_injection_check_sees_raw_cluster_strings() -> None:
    rendered = RenderedNote()
    rendered.feed(MarkdownIt("commonmark", {"html": True}).render(f"owner {HOSTILE}\n"))
    assert {"img", "script"} <= rendered.tags
    assert "@all" in "".join(rendered.prose)


def test_a_second_drift_run_on_the_same_state_writes_nothing(
    fake: FakeGitLab, ci_environ: dict[str, str]
) -> None:
    args = ["drift", VALUES, *DEPLOY, "--live", SNAPSHOT, "--environment", "production", "--mr-comment", "-q"]
    environ = {**ci_environ, "CI_JOB_URL": "https://gitlab.example.com/shop/-/jobs/9"}
    assert run(environ, *args).exit_code == 1
    fake.requests.clear()
    # The same job again (a retry), same cluster state: the rendered body is identical, nothing is written.
    rerun = run(environ, *args)
    assert rerun.exit_code == 1 and "unchanged" in rerun.stderr
    assert fake.writes() == [] and len(fake.notes_of(PROJECT, IID)) == 1
    # Another pipeline links another job's artifacts: the link is part of the body, so the note is updated.
    assert run({**environ, "CI_JOB_URL": "https://gitlab.example.com/shop/-/jobs/10"}, *args).exit_code == 1
    assert [request.method for request in fake.writes()] == ["PUT"]


AUDIT_DATA = ROOT / "tests" / "data" / "audit"


def audit_markdown(tmp_path: Path) -> Path:
    """The audit of recorded flows as Markdown, as a scheduled job would leave it for the MR pipeline."""
    out = tmp_path / "audit.md"
    result = run(
        {},
        "audit",
        "--flows",
        AUDIT_DATA / "hubble-flows.jsonl",
        "--desired",
        AUDIT_DATA / "desired.yaml",
        "--live",
        AUDIT_DATA / "live.yaml",
        "-n",
        "shop",
        "-r",
        "production",
        "--format",
        "markdown",
        "-o",
        out,
    )
    assert result.exit_code == 1, result.output  # the recorded flows include ones the deploy drops
    return out


def test_comment_carries_the_audit_section_after_the_drift_report(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    audit = audit_markdown(tmp_path)
    result = run(ci_environ, "comment", "--report", drift_report(tmp_path), "--section", audit)
    assert result.exit_code == 0, result.output
    [note] = fake.notes_of(PROJECT, IID)
    body = note["body"]
    drift_at = body.index("### Network policy drift")
    audit_at = body.index(audit.read_text().strip().splitlines()[0])
    assert drift_at < audit_at
    assert body.rstrip().endswith(audit.read_text().strip().splitlines()[-1])


def test_drift_mr_comment_takes_comment_sections(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    audit = audit_markdown(tmp_path)
    result = run(
        ci_environ,
        "drift",
        VALUES,
        *DEPLOY,
        "--live",
        SNAPSHOT,
        "--environment",
        "production",
        "-q",
        "--mr-comment",
        "--comment-section",
        audit,
    )
    assert result.exit_code == 1, result.output
    [note] = fake.notes_of(PROJECT, IID)
    assert audit.read_text().strip().splitlines()[0] in note["body"]


def test_a_missing_section_file_is_an_input_error_before_any_request(
    fake: FakeGitLab, ci_environ: dict[str, str], tmp_path: Path
) -> None:
    report = drift_report(tmp_path)
    fake.requests.clear()
    result = run(ci_environ, "comment", "--report", report, "--section", tmp_path / "nope.md")
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert fake.routes() == []


def test_a_section_too_long_for_the_note_becomes_a_pointer() -> None:
    from autodeploy_netpol.cli.comment import SECTION_TOO_LONG, fit_sections

    assert fit_sections(["short"], 100) == "\n\nshort"
    assert fit_sections(["x" * 60], 100) == f"\n\n{SECTION_TOO_LONG}"
    assert fit_sections(["", "a"], 100) == "\n\na"
