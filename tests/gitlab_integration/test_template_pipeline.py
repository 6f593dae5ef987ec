"""The CI template in a real pipeline: gitlab-ci-local 4.70.1 runs a project that includes GitLab's
Auto DevOps templates and this one, as the README says. The deploy jobs run GitLab's own scripts
against a probe `auto-deploy` that records what each received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from gcl import (
    BUILD_STANDIN,
    DEPLOY_JOBS,
    INCLUDE_AFTER,
    INCLUDE_BEFORE,
    ROOT,
    Project,
    Run,
)

SHOP_VALUES = (ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml").read_text()
AGENT = {"KUBECONFIG": "/builds/agent/kubeconfig"}  # rules only test that it is set

#: Auto DevOps mode -> (variables, branch, manual jobs to start, deploy jobs that must run).
MODES: dict[str, tuple[dict[str, str], str, tuple[str, ...], set[str]]] = {
    "plain": ({}, "main", (), {"production"}),
    "review": ({}, "feature/netpol", (), {"review"}),
    "staging": ({"STAGING_ENABLED": "1"}, "main", ("production_manual",), {"staging", "production_manual"}),
    "canary": (
        {"CANARY_ENABLED": "1"},
        "main",
        ("canary", "production_manual"),
        {"canary", "production_manual"},
    ),
    "staging+canary": (
        {"STAGING_ENABLED": "1", "CANARY_ENABLED": "1"},
        "main",
        ("canary", "production_manual"),
        {"staging", "canary", "production_manual"},
    ),
    "incremental manual": (
        {"INCREMENTAL_ROLLOUT_MODE": "manual"},
        "main",
        tuple(f"rollout {n}%" for n in (10, 25, 50, 100)),
        {f"rollout {n}%" for n in (10, 25, 50, 100)},
    ),
    "incremental timed": (
        {"INCREMENTAL_ROLLOUT_MODE": "timed"},
        "main",
        (),
        {f"timed rollout {n}%" for n in (10, 25, 50, 100)},
    ),
}


def new_project(tmp_path: Path, executable: str, name: str = "project", **kwargs: Any) -> Project:
    kwargs.setdefault("values", SHOP_VALUES)
    return Project(tmp_path / name, executable, **kwargs)


@pytest.fixture(scope="module", params=sorted(MODES))
def mode_run(
    request: pytest.FixtureRequest, gitlab_ci_local: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Run]]:
    mode = request.param
    variables, branch, manual, _ = MODES[mode]
    overlay = mode in {"canary", "review"}
    project = Project(
        tmp_path_factory.mktemp("mode") / "project", gitlab_ci_local, values=SHOP_VALUES, branch=branch
    )
    if overlay:  # the project's own chart (ours, a fixture), overlaid by the values job
        project.copy_tree(ROOT / "tests" / "fixtures" / "charts" / "auto-deploy-app", "chart")
        project.commit("own chart")
    extra = {"NETPOL_OVERLAY_CHART": "true"} if overlay else {}
    yield (
        mode,
        project.run(
            variables={**AGENT, **variables, **extra}, manual=manual, validate_schema=mode == "plain"
        ),
    )


def test_every_deploy_job_of_every_mode_gets_its_environments_merged_values(
    mode_run: tuple[str, Run],
) -> None:
    mode, run = mode_run
    expected = MODES[mode][3]
    assert run.returncode == 0, run.output[-4000:]
    deploys = run.deploys()
    assert set(deploys) == expected, run.output[-4000:]
    for job, probe in deploys.items():
        environment = DEPLOY_JOBS[job]
        values_job = f"netpol:values:{environment}"
        assert probe["env"]["HELM_UPGRADE_VALUES_FILE"] == f"netpol-values/{environment}.yaml"
        assert probe["env"]["NETPOL_HANDOFF_JOB"] == values_job
        # The very file the values job wrote, arrived as an artifact, before the deploy ran.
        written = run.artifact(values_job, f"netpol-values/{environment}.yaml").read_text()
        assert probe["values"] == written
        merged = yaml.safe_load(written)
        assert merged["networkPolicy"]["enabled"] is True
        assert merged["networkPolicy"]["spec"]["podSelector"]  # the suggestion, resolved for the release
        assert merged["replicaCount"] == 2  # the rest of the user's values file is kept
        # build's dotenv still arrives: the image tag Auto Deploy deploys.
        assert probe["env"]["CI_APPLICATION_TAG"] and len(probe["env"]["CI_APPLICATION_TAG"]) == 40
        assert f"netpol: deploying with netpol-values/{environment}.yaml from {values_job}" in run.job_log(
            job
        )
        if mode in {"canary", "review"}:
            assert "zz-netpol-network-policies.yaml" in probe["chart_templates"]
            assert "network-policy.yaml" in probe["chart_templates"]  # the project's chart, overlaid
        else:
            assert probe["chart_templates"] is None


def test_values_jobs_run_only_for_environments_that_are_deployed(mode_run: tuple[str, Run]) -> None:
    mode, run = mode_run
    environments = {DEPLOY_JOBS[job] for job in MODES[mode][3]}
    values_jobs = {job for job in run.passed() | run.failed() if job.startswith("netpol:values:")}
    assert values_jobs == {f"netpol:values:{environment}" for environment in environments}


# -- which jobs exist: every Auto DevOps mode, branch, tag and merge-request pipelines ------------


def production_jobs(created: set[str]) -> set[str]:
    return {job for job in created if DEPLOY_JOBS.get(job) == "production"}


RULE_CASES: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
    ("main", {}, ()),
    ("main", {"STAGING_ENABLED": "1"}, ()),
    ("main", {"CANARY_ENABLED": "1"}, ()),
    ("main", {"STAGING_ENABLED": "1", "INCREMENTAL_ROLLOUT_MODE": "manual"}, ()),
    ("main", {"INCREMENTAL_ROLLOUT_MODE": "timed"}, ()),
    ("main", {"INCREMENTAL_ROLLOUT_ENABLED": "1"}, ()),
    ("main", {"INCREMENTAL_ROLLOUT_MODE": "sometimes"}, ()),  # no production deploy at all
    ("main", {"INCREMENTAL_ROLLOUT_MODE": "sometimes", "CANARY_ENABLED": "1"}, ()),
    ("main", {"CI_DEPLOY_FREEZE": "1", "STAGING_ENABLED": "1"}, ()),  # staging still deploys
    ("main", {"STAGING_ENABLED": "1", "NETPOL_ENVIRONMENTS": "staging"}, ()),
    ("feature/x", {}, ()),
    ("feature/x", {"REVIEW_DISABLED": "1"}, ()),
    ("feature/x", {"CI_COMMIT_TAG": "v1.2.3"}, ("CI_COMMIT_BRANCH",)),  # a tag pipeline
]


@pytest.fixture(scope="module")
def rules_project(gitlab_ci_local: str, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("rules") / "project", gitlab_ci_local, values=SHOP_VALUES)


@pytest.mark.parametrize(("branch", "variables", "unset"), RULE_CASES, ids=str)
def test_a_values_job_exists_exactly_when_its_environment_is_deployed(
    rules_project: Project, branch: str, variables: dict[str, str], unset: tuple[str, ...]
) -> None:
    predefined = {"CI_COMMIT_BRANCH": branch, "CI_COMMIT_REF_NAME": branch}
    created = rules_project.created({**predefined, **AGENT, **variables}, unset)
    listed = set(variables.get("NETPOL_ENVIRONMENTS", "review staging production").split())
    for environment in ("review", "staging", "production"):
        deployed = {job for job in created if DEPLOY_JOBS.get(job) == environment}
        has_values = f"netpol:values:{environment}" in created
        assert has_values == (bool(deployed) and environment in listed), (environment, sorted(created))
    assert not any(job.startswith("netpol:drift:") for job in created)  # no open merge request


def test_without_cluster_access_no_deploy_or_values_or_drift_job_is_created(rules_project: Project) -> None:
    # A Kubernetes-executor runner sets KUBERNETES_SERVICE_HOST in every pod: not access to the deploy cluster.
    created = rules_project.created(
        {
            "CI_OPEN_MERGE_REQUESTS": "shop/api!7",
            "KUBERNETES_SERVICE_HOST": "10.0.0.1",
            "STAGING_ENABLED": "1",
        }
    )
    assert "netpol:validate" in created and "build" in created
    assert not {job for job in created if job.startswith("netpol:") and job != "netpol:validate"}
    assert not set(DEPLOY_JOBS) & created


MR_EVENT = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "7",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/x",
    "CI_COMMIT_REF_NAME": "feature/x",
}


def test_one_pipeline_per_push_merge_request_events_get_no_jobs(rules_project: Project) -> None:
    """GitLab creates a merge-request pipeline only when a job would run in it. With Auto DevOps
    and this template none does: every push makes exactly one (branch) pipeline."""
    for variables in ({}, AGENT, {**AGENT, "NETPOL_LIVE_SNAPSHOT": "snapshot.yaml", "KUBE_NAMESPACE": "ns"}):
        assert rules_project.created({**MR_EVENT, **variables}, unset=("CI_COMMIT_BRANCH",)) == set()


def test_drift_runs_in_the_branch_pipeline_of_a_branch_with_an_open_merge_request(
    rules_project: Project,
) -> None:
    branch = {"CI_COMMIT_BRANCH": "feature/x", "CI_COMMIT_REF_NAME": "feature/x", **AGENT}
    without_mr = rules_project.created(branch)
    with_mr = rules_project.created({**branch, "CI_OPEN_MERGE_REQUESTS": "shop/api!7"})
    assert with_mr - without_mr == {"netpol:drift:review", "netpol:drift:production"}
    staged = rules_project.created({**branch, "CI_OPEN_MERGE_REQUESTS": "shop/api!7", "STAGING_ENABLED": "1"})
    assert "netpol:drift:staging" in staged
    snapshot_only = rules_project.created(
        {
            "CI_COMMIT_BRANCH": "feature/x",
            "CI_OPEN_MERGE_REQUESTS": "shop/api!7",
            "NETPOL_LIVE_SNAPSHOT": "s.yaml",
        }
    )
    assert {"netpol:drift:review", "netpol:drift:production"} <= snapshot_only
    in_cluster = rules_project.created(
        {"CI_COMMIT_BRANCH": "feature/x", "CI_OPEN_MERGE_REQUESTS": "shop/api!7", "NETPOL_IN_CLUSTER": "true"}
    )
    assert "netpol:drift:production" in in_cluster


def test_with_merge_request_pipelines_enabled_the_checks_move_there(rules_project: Project) -> None:
    """NETPOL_ENABLE_MR_PIPELINES follows GitLab's AST_ENABLE_MR_PIPELINES: for projects that already
    have merge-request pipelines, validate and drift run there and not in the branch pipeline beside
    it; the values jobs stay in the branch pipeline, where the deploy jobs are."""
    switches = {"NETPOL_ENABLE_MR_PIPELINES": "true", "AST_ENABLE_MR_PIPELINES": "true", **AGENT}
    in_mr = rules_project.created({**MR_EVENT, **switches}, unset=("CI_COMMIT_BRANCH",))
    assert {"netpol:validate", "netpol:drift:review", "netpol:drift:production"} <= in_mr
    assert not {job for job in in_mr if job.startswith("netpol:values:")}
    branch = {
        "CI_COMMIT_BRANCH": "feature/x",
        "CI_COMMIT_REF_NAME": "feature/x",
        "CI_OPEN_MERGE_REQUESTS": "shop/api!7",
    }
    in_branch = rules_project.created({**branch, **switches})
    assert {job for job in in_branch if job.startswith("netpol:")} == {"netpol:values:review"}
    assert "review" in in_branch


def test_disabled_creates_no_netpol_job_and_leaves_deploys_alone(rules_project: Project) -> None:
    created = rules_project.created({**AGENT, "NETPOL_DISABLED": "1", "CI_OPEN_MERGE_REQUESTS": "shop/api!7"})
    assert not {job for job in created if job.startswith("netpol:")}
    assert "production" in created


def test_the_template_changes_nothing_of_the_deploy_jobs_but_dependencies_and_the_check(
    gitlab_ci_local: str, tmp_path: Path
) -> None:
    with_template = new_project(tmp_path, gitlab_ci_local, "with").preview()
    without = new_project(
        tmp_path,
        gitlab_ci_local,
        "without",
        ci_yaml="include:\n  - template: Auto-DevOps.gitlab-ci.yml\n" + BUILD_STANDIN,
    ).preview()
    for job, environment in DEPLOY_JOBS.items():
        ours, theirs = dict(with_template[job]), dict(without[job])
        assert theirs["dependencies"] == ["build"]
        assert ours.pop("dependencies") == ["build", f"netpol:values:{environment}"]
        assert ours.pop("before_script")[0].startswith('case "$CI_ENVIRONMENT_NAME"')
        theirs.pop("dependencies")
        theirs.pop("before_script", None)
        assert ours == theirs, job


# -- include order and a broken handoff ---------------------------------------------------------


def test_including_the_template_before_auto_devops_merges_the_same(
    gitlab_ci_local: str, tmp_path: Path
) -> None:
    project = new_project(tmp_path, gitlab_ci_local)
    before = new_project(
        tmp_path, gitlab_ci_local, "before", ci_yaml=INCLUDE_BEFORE.format(ref=project.ref) + BUILD_STANDIN
    )
    assert project.preview()["production"] == before.preview()["production"]
    run = before.run(variables=AGENT)
    assert run.returncode == 0, run.output[-3000:]
    assert run.deploys()["production"]["env"]["HELM_UPGRADE_VALUES_FILE"] == "netpol-values/production.yaml"


def test_a_deploy_job_that_misses_the_handoff_fails_and_says_why(
    gitlab_ci_local: str, tmp_path: Path
) -> None:
    """A file merged after the template (here the project's own .gitlab-ci.yml) that sets the deploy
    job's dependencies again: without the check the deploy would apply the raw values file."""
    ref_project = new_project(tmp_path, gitlab_ci_local, "reference")
    broken = (
        INCLUDE_AFTER.format(ref=ref_project.ref) + BUILD_STANDIN + "production:\n  dependencies: [build]\n"
    )
    project = new_project(tmp_path, gitlab_ci_local, ci_yaml=broken)
    run = project.run(variables=AGENT)
    assert run.returncode != 0
    assert "production" in run.failed()
    assert "production" not in run.deploys()  # stopped before `auto-deploy deploy`
    log = run.job_log("production")
    assert "did not receive the handoff of netpol:values:production" in log
    assert "include the template LAST" in log


def test_handoff_off_deploys_the_values_file_as_it_is(gitlab_ci_local: str, tmp_path: Path) -> None:
    run = new_project(tmp_path, gitlab_ci_local).run(variables={**AGENT, "NETPOL_HANDOFF": "false"})
    assert run.returncode == 0, run.output[-3000:]
    probe = run.deploys()["production"]
    assert probe["env"]["HELM_UPGRADE_VALUES_FILE"] is None
    assert probe["values"] == SHOP_VALUES
    assert "handoff off" in run.job_log("production")


def test_no_values_file_hands_over_nothing_and_the_deploy_runs(gitlab_ci_local: str, tmp_path: Path) -> None:
    run = new_project(tmp_path, gitlab_ci_local, values=None).run(variables=AGENT)
    assert run.returncode == 0, run.output[-3000:]
    assert run.deploys()["production"]["values"] is None
    assert "handed nothing over (no-values-file)" in run.job_log("production")
    assert "netpol: SKIPPED: no values file" in run.job_log("netpol:values:production")


def test_invalid_values_stop_the_pipeline_before_any_deploy(gitlab_ci_local: str, tmp_path: Path) -> None:
    run = new_project(tmp_path, gitlab_ci_local, values="networkPolicy:\n  enabled: \"false\"\n").run(
        variables=AGENT
    )
    assert run.returncode != 0
    assert {"netpol:validate"} <= run.failed()
    assert run.deploys() == {}
    assert 'the string "false" switches it ON' in run.job_log("netpol:validate")
