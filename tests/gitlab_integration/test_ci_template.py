"""The includable CI template and the project's own pipeline: parsed, checked against the real
command tree, and their job scripts executed in a shell the way a runner does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BOT_TOKEN, IID, NOTES_PATH, PROJECT
from fake_gitlab import FakeGitLab
from gitlab_ci_check import (
    AUTO_DEVOPS_STAGES,
    check_invocation,
    check_structure,
    invocations,
    jobs,
    resolved_jobs,
)

from autodeploy_netpol.cli import main
from autodeploy_netpol.gitlab import note_marker

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / ".gitlab" / "autodeploy-netpol.gitlab-ci.yml"
PROJECT_PIPELINE = ROOT / ".gitlab-ci.yml"
ENVIRONMENTS = ("review", "staging", "production")
#: The Auto DevOps job that deploys each environment, and its stage.
DEPLOY_STAGE = {"review": "review", "staging": "staging", "production": "production"}


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


TEMPLATE_DOC = load(TEMPLATE)


def test_template_defines_the_documented_jobs() -> None:
    visible = set(resolved_jobs(TEMPLATE_DOC))
    assert visible == {
        "netpol:validate",
        *(f"netpol:drift:{environment}" for environment in ENVIRONMENTS),
        *(f"netpol:values:{environment}" for environment in ENVIRONMENTS),
    }
    assert resolved_jobs(TEMPLATE_DOC)["netpol:validate"]["stage"] == "test"


def test_template_structure_and_rules_are_well_formed() -> None:
    assert check_structure(TEMPLATE_DOC, stages=AUTO_DEVOPS_STAGES) == []


@pytest.mark.parametrize("call", invocations(TEMPLATE_DOC), ids=str)
def test_every_cli_call_in_the_template_exists(call: Any) -> None:
    assert check_invocation(main, call) == []


def test_the_template_calls_the_commands_the_issue_asks_for() -> None:
    called = {(call.job, call.words[0]) for call in invocations(TEMPLATE_DOC)}
    assert ("netpol:validate", "validate") in called
    assert (".netpol:drift", "drift") in called
    assert (".netpol:values", "render") in called
    assert (".netpol:values", "overlay") in called
    drift_call = next(call for call in invocations(TEMPLATE_DOC) if call.words[0] == "drift")
    for option in (
        "--mr-comment",
        "--fail-on-override",
        "--environment",
        "--namespace",
        "--live",
        "--context",
    ):
        assert option in drift_call.words


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_drift_jobs_run_in_merge_request_pipelines_and_report_junit(environment: str) -> None:
    job = resolved_jobs(TEMPLATE_DOC)[f"netpol:drift:{environment}"]
    assert job["variables"]["NETPOL_ENVIRONMENT"] == environment
    assert job["environment"]["action"] == "prepare"
    run_rules = [rule for rule in job["rules"] if rule.get("when") != "never"]
    assert run_rules == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["artifacts"]["reports"]["junit"] == "netpol-report/drift-*.xml"
    assert job["artifacts"]["when"] == "always"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_values_jobs_hand_off_before_the_deploy_job(environment: str) -> None:
    job = resolved_jobs(TEMPLATE_DOC)[f"netpol:values:{environment}"]
    assert job["artifacts"]["reports"]["dotenv"] == "netpol-values.env"
    assert job["dependencies"] == []
    stages = list(AUTO_DEVOPS_STAGES)
    assert stages.index(job["stage"]) < stages.index(DEPLOY_STAGE[environment])
    assert all(
        "merge_request_event" not in rule.get("if", "") or rule.get("when") == "never" or "!=" in rule["if"]
        for rule in job["rules"]
    )


def test_project_pipeline_runs_lint_and_the_ci_entry_point() -> None:
    document = load(PROJECT_PIPELINE)
    assert check_structure(document, stages=tuple(document["stages"])) == []
    scripts = {name: " ".join(job["script"]) for name, job in jobs(document).items()}
    assert scripts == {"lint": "make lint", "test": "bash .ci/run"}
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "\nlint:" in (ROOT / "Makefile").read_text()


# -- the job scripts, executed ----------------------------------------------------------------

SHELLS = [shell for shell in ("bash", "dash") if shutil.which(shell)]


def job_script(name: str) -> str:
    """before_script and script of a job joined into one shell program, as the runner does."""
    job = resolved_jobs(TEMPLATE_DOC)[name]
    lines: list[str] = []
    for key in ("before_script", "script"):
        for item in job.get(key, []):
            lines.append(item)
    return "\n".join(lines)


def run_job(
    name: str, workdir: Path, shell: str = "bash", **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run a job's scripts with the template's and the job's variables, plus ``variables``."""
    job = resolved_jobs(TEMPLATE_DOC)[name]
    environ = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(workdir),
        "CI_PROJECT_NAME": "Shop",
        "CI_PROJECT_ID": "42",
        "CI_ENVIRONMENT_SLUG": job.get("variables", {}).get("NETPOL_ENVIRONMENT", ""),
        "CI_PIPELINE_SOURCE": "merge_request_event",
        **{key: str(value) for key, value in TEMPLATE_DOC["variables"].items()},
        **{key: str(value) for key, value in job.get("variables", {}).items()},
        "NETPOL_PIP_SPEC": "",
        **variables,
    }
    flags = ["-e", "-o", "pipefail"] if shell == "bash" else ["-e"]
    return subprocess.run(
        [shell, *flags, "-c", job_script(name)],
        cwd=workdir,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def write_values(workdir: Path, text: str = "networkPolicy:\n  enabled: true\n") -> None:
    (workdir / ".gitlab").mkdir(exist_ok=True)
    (workdir / ".gitlab" / "auto-deploy-values.yaml").write_text(text)


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("job", "variables", "with_values", "reason"),
    [
        ("netpol:validate", {}, False, "no values file at .gitlab/auto-deploy-values.yaml"),
        (
            "netpol:validate",
            {"HELM_UPGRADE_VALUES_FILE": "deploy/v.yaml"},
            True,
            "no values file at deploy/v.yaml",
        ),
        ("netpol:validate", {"NETPOL_DISABLED": "1"}, True, "NETPOL_DISABLED is set"),
        ("netpol:drift:production", {}, True, "no cluster access: no KUBECONFIG"),
        ("netpol:drift:staging", {"KUBECONFIG": "/k"}, True, "STAGING_ENABLED is not set"),
        (
            "netpol:drift:review",
            {"KUBECONFIG": "/k", "REVIEW_DISABLED": "true"},
            True,
            "REVIEW_DISABLED is set",
        ),
        (
            "netpol:drift:production",
            {"AUTO_DEVOPS_PLATFORM_TARGET": "ECS"},
            True,
            "Auto DevOps deploys to ECS, not to Kubernetes",
        ),
        (
            "netpol:drift:review",
            {"NETPOL_ENVIRONMENTS": "production"},
            True,
            "environment review is not in NETPOL_ENVIRONMENTS",
        ),
        ("netpol:values:staging", {}, True, "STAGING_ENABLED is not set"),
        ("netpol:values:production", {"NETPOL_HANDOFF": "false"}, True, "NETPOL_HANDOFF is not true"),
    ],
)
def test_jobs_skip_cleanly_with_a_reason(
    tmp_path: Path, shell: str, job: str, variables: dict[str, str], with_values: bool, reason: str
) -> None:
    if with_values:
        write_values(tmp_path)
    result = run_job(job, tmp_path, shell, **variables)
    assert result.returncode == 0, result.stderr
    assert f"netpol: SKIPPED: {reason}" in result.stdout
    assert not (tmp_path / "netpol-report").exists() and not (tmp_path / "netpol-values.env").exists()


SHOP_VALUES = (ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml").read_text()


def test_validate_job_fails_the_pipeline_on_invalid_values(tmp_path: Path) -> None:
    write_values(tmp_path, "networkPolicy:\n  enabled: maybe\n")
    result = run_job("netpol:validate", tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'must be true or false, not the string "maybe"' in result.stdout + result.stderr


def test_validate_job_passes_on_the_example(tmp_path: Path) -> None:
    write_values(tmp_path, SHOP_VALUES)
    result = run_job("netpol:validate", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SKIPPED" not in result.stdout


def test_values_job_hands_the_merged_values_to_auto_deploy(tmp_path: Path) -> None:
    write_values(tmp_path, SHOP_VALUES)
    result = run_job("netpol:values:production", tmp_path, CI_PIPELINE_SOURCE="push")
    assert result.returncode == 0, result.stderr
    dotenv = (tmp_path / "netpol-values.env").read_text()
    assert dotenv == "HELM_UPGRADE_VALUES_FILE=netpol-values/production.yaml\n"
    merged = yaml.safe_load((tmp_path / "netpol-values" / "production.yaml").read_text())
    assert merged["networkPolicy"]["enabled"] is True
    # The suggested policy is resolved for this environment's release (CI_ENVIRONMENT_SLUG).
    assert merged["networkPolicy"]["spec"]["podSelector"]["matchLabels"] == {"app": "production"}
    objects = list(yaml.safe_load_all((tmp_path / "netpol-values" / "production-objects.yaml").read_text()))
    assert [(item["kind"], item["metadata"]["name"]) for item in objects if item] == [
        ("NetworkPolicy", "production-auto-deploy"),
        ("NetworkPolicy", "production-auto-deploy-allow-metrics"),
    ]
    assert not (tmp_path / "chart").exists()


def test_values_job_lays_the_overlays_onto_the_projects_chart(tmp_path: Path) -> None:
    write_values(tmp_path, SHOP_VALUES)
    shutil.copytree(ROOT / "tests" / "fixtures" / "charts" / "auto-deploy-app", tmp_path / "chart")
    before = {path.name for path in (tmp_path / "chart" / "templates").iterdir()}
    result = run_job(
        "netpol:values:production", tmp_path, CI_PIPELINE_SOURCE="push", NETPOL_OVERLAY_CHART="true"
    )
    assert result.returncode == 0, result.stderr
    after = {path.name for path in (tmp_path / "chart" / "templates").iterdir()}
    assert after > before


def drift_job_variables(fake: FakeGitLab, **extra: str) -> dict[str, str]:
    return {
        "NETPOL_LIVE_SNAPSHOT": str(ROOT / "examples" / "shop" / "live-snapshot.yaml"),
        "KUBE_NAMESPACE": "shop-42-production",
        "CI_API_V4_URL": fake.api_url,
        "CI_MERGE_REQUEST_IID": str(IID),
        "CI_JOB_TOKEN": "job-token",
        "NETPOL_GITLAB_TOKEN": BOT_TOKEN,
        "CI_JOB_URL": "https://gitlab.example.com/shop/-/jobs/9",
        **extra,
    }


def test_drift_job_writes_the_reports_and_comments(tmp_path: Path, fake: FakeGitLab) -> None:
    write_values(tmp_path, SHOP_VALUES)
    result = run_job("netpol:drift:production", tmp_path, **drift_job_variables(fake))

    assert result.returncode == 0, result.stdout + result.stderr  # drift (exit 1) does not fail the job
    report = tmp_path / "netpol-report"
    document = json.loads((report / "drift-production.json").read_text())
    assert document["environment"] == "production"
    assert ET.parse(report / "drift-production.xml").getroot().tag in {"testsuites", "testsuite"}
    assert (report / "drift-production.md").read_text().startswith("### Network policy drift in `production`")
    [note] = fake.notes_of(PROJECT, IID)
    assert note["body"].startswith(note_marker("production"))
    assert BOT_TOKEN not in result.stdout + result.stderr


def test_drift_job_fails_when_the_comment_cannot_be_posted(tmp_path: Path, fake: FakeGitLab) -> None:
    write_values(tmp_path, SHOP_VALUES)
    fake.fail("POST", NOTES_PATH, 403)
    result = run_job("netpol:drift:production", tmp_path, **drift_job_variables(fake))
    assert result.returncode == 3
    assert (tmp_path / "netpol-report" / "drift-production.json").exists()  # artifacts:when: always keeps it

    optional = run_job(
        "netpol:drift:production", tmp_path, **drift_job_variables(fake, NETPOL_COMMENT_OPTIONAL="true")
    )
    assert optional.returncode == 0


def test_drift_job_fails_on_override_when_asked(tmp_path: Path, fake: FakeGitLab) -> None:
    write_values(tmp_path, SHOP_VALUES)
    variables = drift_job_variables(fake, NETPOL_COMMENT="false")
    assert run_job("netpol:drift:production", tmp_path, **variables).returncode == 0
    strict = run_job("netpol:drift:production", tmp_path, **{**variables, "NETPOL_FAIL_ON_OVERRIDE": "true"})
    # The example's allow-metrics policy was edited with kubectl after Helm: the deploy reverts it.
    assert strict.returncode == 4, strict.stdout + strict.stderr
    assert fake.requests == []


def test_drift_job_reads_the_cluster_with_the_agents_context(tmp_path: Path) -> None:
    write_values(tmp_path, SHOP_VALUES)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\n'
        "users: [{name: u, user: {token: t}}]\n"
        'contexts: [{name: "shop/agent:production", context: {cluster: c, user: u}}]\n'
    )
    result = run_job(
        "netpol:drift:production",
        tmp_path,
        KUBECONFIG=str(kubeconfig),
        KUBE_CONTEXT="shop/agent:staging",
        KUBE_NAMESPACE="shop-42-production",
        NETPOL_COMMENT="false",
    )
    # KUBE_CONTEXT reached drift as --context: the agent context it names is looked up (and missing).
    assert result.returncode == 3
    assert "context 'shop/agent:staging' does not exist" in result.stderr
    assert "shop/agent:production" in result.stderr


def test_drift_job_audits_recorded_flows_into_the_comment(tmp_path: Path, fake: FakeGitLab) -> None:
    write_values(tmp_path, SHOP_VALUES)
    flows = ROOT / "tests" / "data" / "audit" / "hubble-flows.jsonl"
    result = run_job(
        "netpol:drift:production", tmp_path, **drift_job_variables(fake, NETPOL_FLOWS=str(flows))
    )

    assert result.returncode == 0, result.stdout + result.stderr
    report = tmp_path / "netpol-report"
    assert "summary" in json.loads((report / "audit-production.json").read_text())
    audit_heading = (report / "audit-production.md").read_text().splitlines()[0]
    [note] = fake.notes_of(PROJECT, IID)
    assert note["body"].index("### Network policy drift") < note["body"].index(audit_heading)


def test_drift_job_without_the_flows_file_says_so(tmp_path: Path, fake: FakeGitLab) -> None:
    write_values(tmp_path, SHOP_VALUES)
    result = run_job(
        "netpol:drift:production",
        tmp_path,
        **drift_job_variables(fake, NETPOL_FLOWS=str(tmp_path / "none.jsonl")),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "which is not there: no audit section" in result.stdout
    assert not (tmp_path / "netpol-report" / "audit-production.md").exists()
