"""The drift job in a real pipeline (gitlab-ci-local 4.70.1 with GitLab's Auto DevOps templates): the
branch pipeline of a branch with an open merge request, a snapshot for the cluster, the fake GitLab
for the comment. Exit codes 0 and 1 keep the job green, everything from 2 up fails it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, IID, NOTES_PATH, PROJECT
from fake_gitlab import FakeGitLab
from gcl import ROOT, Project, Run

from autodeploy_netpol.gitlab import note_marker

SHOP_VALUES = (ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml").read_text()
JOB = "netpol:drift:production"


@pytest.fixture
def project(gitlab_ci_local: str, tmp_path: Path) -> Project:
    return Project(
        tmp_path / "project",
        gitlab_ci_local,
        values=SHOP_VALUES,
        files={"netpol/live-snapshot.yaml": (ROOT / "examples" / "shop" / "live-snapshot.yaml").read_text()},
        branch="feature/netpol",
    )


def variables(fake: FakeGitLab | None = None, **extra: str) -> dict[str, str]:
    base = {
        "NETPOL_LIVE_SNAPSHOT": "netpol/live-snapshot.yaml",
        "KUBE_NAMESPACE": "shop-42-production",
        # this project's merge request, and one in another project (a fork's target)
        "CI_OPEN_MERGE_REQUESTS": f"shop/api!{IID},elsewhere/upstream!3",
        "CI_PROJECT_ID": PROJECT,
    }
    if fake is not None:
        base |= {"CI_API_V4_URL": fake.api_url, "NETPOL_GITLAB_TOKEN": BOT_TOKEN}
    return base | extra


def report_artifacts(run: Run) -> set[str]:
    folder = run.artifact(JOB, "netpol-report")
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


def test_without_a_token_the_job_is_green_and_the_report_is_in_log_and_artifacts(project: Project) -> None:
    run = project.run(JOB, variables=variables())
    assert run.returncode == 0, run.output[-3000:]
    assert JOB in run.passed()
    log = run.job_log(JOB)
    assert "no NETPOL_GITLAB_TOKEN in this pipeline" in log
    assert "production-auto-deploy-allow-metrics" in log  # the report itself, in the log
    assert report_artifacts(run) == {"drift-production.json", "drift-production.md", "drift-production.xml"}
    document = json.loads(run.artifact(JOB, "netpol-report/drift-production.json").read_text())
    assert document["environment"] == "production"


def test_with_a_token_the_merge_request_of_this_project_gets_the_comment(
    project: Project, fake: FakeGitLab
) -> None:
    run = project.run(JOB, variables=variables(fake))
    assert run.returncode == 0, run.output[-3000:]
    [note] = fake.notes_of(PROJECT, IID)
    assert note["body"].startswith(note_marker("production"))
    assert "not commenting on elsewhere/upstream!3: the merge request is in another project" in run.job_log(
        JOB
    )
    assert BOT_TOKEN not in run.output and BOT_TOKEN not in run.job_log(JOB)


def test_a_configured_token_that_fails_fails_the_job_unless_optional(
    project: Project, fake: FakeGitLab
) -> None:
    fake.fail("POST", NOTES_PATH, 403, times=10)
    run = project.run(JOB, variables=variables(fake))
    assert run.returncode != 0 and JOB in run.failed()
    assert "netpol: failed with exit code 3" in run.job_log(JOB)
    assert "drift-production.json" in report_artifacts(run)  # artifacts:when: always

    optional = project.run(JOB, variables=variables(fake, NETPOL_COMMENT_OPTIONAL="true"))
    assert optional.returncode == 0, optional.output[-3000:]


def test_an_override_conflict_fails_the_job_after_the_comment(project: Project, fake: FakeGitLab) -> None:
    run = project.run(JOB, variables=variables(fake, NETPOL_FAIL_ON_OVERRIDE="true"))
    assert JOB in run.failed()
    assert "netpol: failed with exit code 4" in run.job_log(JOB)
    assert len(fake.notes_of(PROJECT, IID)) == 1  # reviewers see why


def test_invalid_values_fail_the_drift_job_with_exit_code_2(gitlab_ci_local: str, tmp_path: Path) -> None:
    project = Project(
        tmp_path / "project",
        gitlab_ci_local,
        values="networkPolicy:\n  enabled: \"false\"\n",
        files={"netpol/live-snapshot.yaml": "items: []\n"},
        branch="feature/netpol",
    )
    run = project.run(JOB, variables=variables())
    assert JOB in run.failed()
    assert "netpol: failed with exit code 2" in run.job_log(JOB)


def test_any_other_exit_code_fails_the_job(project: Project, tmp_path: Path) -> None:
    """An internal error (issue 13 gives it its own code, not 0-4) must not pass as "drift found"."""
    shim = tmp_path / "shim"
    shim.mkdir()
    real = shutil.which("autodeploy-netpol", path=str(Path(sys.executable).parent))
    assert real
    tool = shim / "autodeploy-netpol"
    tool.write_text(
        f'#!/bin/sh\nif [ "$1" = drift ]; then echo "Traceback (most recent call last)" >&2; exit 70; fi\nexec "{real}" "$@"\n'
    )
    tool.chmod(0o755)
    run = project.run(JOB, variables=variables(), path_first=[shim])
    assert JOB in run.failed()
    assert "netpol: failed with exit code 70" in run.job_log(JOB)


def test_without_kube_namespace_the_job_asks_for_it_and_stays_green(project: Project) -> None:
    settings = variables()
    del settings["KUBE_NAMESPACE"]
    run = project.run(JOB, variables=settings)
    assert run.returncode == 0, run.output[-3000:]
    log = run.job_log(JOB)
    assert "netpol: SKIPPED: KUBE_NAMESPACE is not set for environment production" in log
    assert "production-42-<agent id>" in log
