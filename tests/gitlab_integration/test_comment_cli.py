"""``comment`` and ``drift --mr-comment`` end to end: the real CLI, python-gitlab and the fake GitLab."""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner, Result
from conftest import BOT_TOKEN, IID, NOTES_PATH, OTHER_TOKEN, PROJECT
from fake_gitlab import FakeGitLab
from gitlab_markdown import assert_safe_note, check_note, hostile_texts
from hypothesis import HealthCheck, example, given, settings

from autodeploy_netpol.cli import main
from autodeploy_netpol.gitlab import note_marker
from autodeploy_netpol.gitlab.note import note_body

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

#: Fields of a live snapshot and a flow recording that a cluster (or whoever writes the file) controls.
CLUSTER_FIELDS = (
    "annotation", "label key", "label value", "field manager", "released policy name", "UI policy name",
    "pod selector key", "pod selector value", "cilium selector key", "cilium peer label", "workload name",
    "pod label", "flow namespace", "flow label", "flow pod", "flow workload", "malformed flow line", "CIDR",
)  # fmt: skip
E2E_EXAMPLES = settings(
    max_examples=int(os.environ.get("NOTE_INJECTION_E2E_EXAMPLES", "25")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def hostile_snapshot(directory: Path, h: dict[str, str], *, cidr: bool = False) -> Path:
    """The example's live snapshot with hostile strings in every field a cluster controls, plus a
    CiliumNetworkPolicy of the release whose selector KEY is hostile (the CRD validates values, not
    keys) and a workload for the connectivity section; with ``cidr``, a hostile ipBlock CIDR in the
    policy the deploy deletes (the connectivity section refuses such a policy: exit 2)."""
    live = yaml.safe_load(SNAPSHOT.read_text())
    for item in live["items"]:
        metadata = item["metadata"]
        metadata.setdefault("annotations", {})["note"] = h["annotation"]
        metadata.setdefault("labels", {})[h["label key"] or "k"] = h["label value"]
        for entry in metadata.get("managedFields", []):
            entry["manager"] = f"{entry['manager']} {h['field manager']}"
        if metadata["name"].endswith("allow-debug"):
            metadata["name"] = f"production-auto-deploy-{h['released policy name']}"
            if cidr:
                item["spec"]["ingress"][0]["from"].append({"ipBlock": {"cidr": h["CIDR"]}})
        if metadata["name"].endswith("allow-metrics"):
            item["spec"]["podSelector"]["matchLabels"][h["pod selector key"] or "k"] = h["pod selector value"]
    cilium = copy.deepcopy(live["items"][0])
    cilium.update(apiVersion="cilium.io/v2", kind="CiliumNetworkPolicy")
    cilium["metadata"]["name"] = "production-auto-deploy-cilium"
    cilium["spec"] = {
        "endpointSelector": {"matchLabels": {h["cilium selector key"] or "k": "v"}},
        "ingress": [{"fromEndpoints": [{"matchLabels": {"app": h["cilium peer label"]}}]}],
    }
    ui = copy.deepcopy(live["items"][-1])
    ui["metadata"]["name"] = f"ui-{h['UI policy name']}"
    workload = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": h["workload name"] or "w", "namespace": "shop-42-production"},
        "spec": {"template": {"metadata": {"labels": {"app": "production", "tier": h["pod label"]}}}},
    }
    live["items"] += [cilium, ui, workload]
    path = directory / ("hostile-cidr.json" if cidr else "hostile.json")
    # JSON in UTF-8, with the characters escaped that YAML cannot carry raw or reads as line breaks:
    # the snapshot reader is a YAML parser (it also refuses surrogate-pair escapes).
    text = re.sub(
        "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]",
        lambda match: f"\\u{ord(match.group()):04x}",
        json.dumps(live, ensure_ascii=False),
    )
    path.write_text(text)
    return path


def hostile_flows(directory: Path, h: dict[str, str]) -> Path:
    """Two recorded flows whose endpoints carry hostile names and labels, and a malformed line."""
    flow = json.loads((AUDIT_DATA / "hubble-flows.jsonl").read_text().splitlines()[0])
    for side in ("source", "destination"):
        endpoint = flow["flow"][side]
        endpoint["namespace"] = h["flow namespace"]
        endpoint["labels"] = [f"k8s:app={h['flow label']}", f"k8s:io.kubernetes.pod.namespace={h['flow namespace']}"]
        endpoint["pod_name"] = h["flow pod"]
        endpoint["workloads"] = [{"name": h["flow workload"], "kind": "Deployment"}]
    lines = [json.dumps(flow), json.dumps(flow).replace('"TCP"', '"UDP"'), h["malformed flow line"].replace("\n", " ")]
    path = directory / "flows.jsonl"
    path.write_text("\n".join(lines) + "\n", errors="surrogatepass")
    return path


#: What a snapshot the API server could never have held is refused with (exit 2): a hostile string
#: in a label key or value a selector reads (a warning when no selector reads it), or the same
#: hostile name given to two objects of one kind.
REFUSED_LABEL = re.compile(
    r"error: .+?:\d+:\d+: .+?(label (key|key prefix|value) .+? (is not valid|is not a DNS subdomain)"
    r"|given twice \(first at )",
    re.S,
)


def section(environ: dict[str, str], directory: Path, name: str, *args: object) -> Path | None:
    """``autodeploy-netpol <args> --format markdown`` written to a file, as a CI job would; ``None``
    when the command refuses the snapshot (exit 2, each invalid label at its file:line:column)."""
    result = run(environ, *args, "--format", "markdown")
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert REFUSED_LABEL.search(result.stderr), result.stderr
        return None
    assert result.exit_code in (0, 1), result.output
    path = directory / f"{name}.md"
    path.write_text(result.stdout)
    return path


@E2E_EXAMPLES
@given(values=hostile_texts(len(CLUSTER_FIELDS)))
# the same hostile string everywhere: invalid labels a selector reads, names given twice
@example(values=["\n/label ~security-approved\n"] * len(CLUSTER_FIELDS))
def test_cluster_strings_cannot_inject_into_the_comment(
    fake: FakeGitLab, ci_environ: dict[str, str], values: list[str]
) -> None:
    """A hostile cluster and flow recording through the real commands: drift (ownership warnings,
    the connectivity section) posts the note with lint, explain, connectivity and audit sections;
    the note GitLab receives keeps every rule of tests/gitlab_markdown.py."""
    # A lone surrogate makes a snapshot invalid (exit 2) and a Hubble line malformed, so none can
    # reach a note this way; the renderers' handling of them is in tests/unit/test_note_injection.py.
    h = {field: re.sub("[\ud800-\udfff]", "", value) for field, value in zip(CLUSTER_FIELDS, values, strict=True)}
    job = "https://gitlab.example.com/shop/-/jobs/9"
    environment = f"review-{len(fake.notes_of(PROJECT, IID))}"  # one new note per example
    environ = {**ci_environ, "CI_JOB_URL": job}
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        live = hostile_snapshot(directory, h)
        written = [
            section({}, directory, "lint", "lint", live),
            section({}, directory, "explain", "explain", live),
            section({}, directory, "connectivity", "connectivity", live),
            section(
                {}, directory, "audit", "audit", "--flows", hostile_flows(directory, h),
                "--desired", AUDIT_DATA / "desired.yaml", "--live", AUDIT_DATA / "live.yaml", "-n", "shop", "-r", "production",
            ),
        ]  # fmt: skip
        sections = [path for path in written if path is not None]
        args = ["drift", VALUES, *DEPLOY, "--live", live, "--environment", environment, "-v"]
        comment = [arg for path in sections for arg in ("--comment-section", path)]
        result = run(environ, *args, "--mr-comment", *comment, "-o", directory / "drift.json")
        assert result.exit_code == 1, result.output
    body = next(note["body"] for note in fake.notes_of(PROJECT, IID) if note["body"].startswith(note_marker(environment)))
    check = assert_safe_note(body, links=(job + "/",))
    headings = {"lint": "Policy lint", "explain": "plain words", "connectivity": "Connectivity"}
    expected = ["Network policy drift", "Recorded flows"]
    expected += [headings[path.stem] for path in sections if path.stem in headings]
    for heading in expected:
        assert heading in "".join(check.rendered.prose), heading

    with tempfile.TemporaryDirectory() as name:
        live = hostile_snapshot(Path(name), h, cidr=True)
        result = run({}, "drift", VALUES, *DEPLOY, "--live", live, "--no-connectivity", "-v", "--format", "markdown")
    assert result.exit_code == 1, result.output
    assert_safe_note(note_body("production", result.stdout))


def test_the_injection_check_sees_raw_cluster_strings() -> None:
    raw = f"owner {HOSTILE}\n/approve\n"
    problems = check_note(raw).problems
    assert any(problem.startswith("HTML the tool does not write: <img>") for problem in problems)
    assert any(problem.startswith("mention") for problem in problems)
    assert any(problem.startswith("line 2 starts with '/'") for problem in problems)


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
