"""The includable CI template and the project's own pipeline, without gitlab-ci-local: the CLI calls
against the real command tree, the install defaults, the README's variable table, the deploy jobs'
handoff check run in bash and dash, and the project pipeline parsed by gitlab-ci-local when present."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from gcl import DEPLOY_JOBS, INCLUDE_AFTER, ROOT, TEMPLATE, Project, load_template, tool_version
from gitlab_ci_check import check_invocation, invocations, resolved_jobs

from autodeploy_netpol.cli import main

TEMPLATE_TEXT = TEMPLATE.read_text()
TEMPLATE_DOC = load_template(TEMPLATE_TEXT)
ENVIRONMENTS = ("review", "staging", "production")
SHELLS = [shell for shell in ("bash", "dash") if shutil.which(shell)]


def test_template_defines_the_documented_jobs_and_extends_every_deploy_job() -> None:
    visible = set(resolved_jobs(TEMPLATE_DOC))
    assert visible == {
        "netpol:validate",
        *(f"netpol:drift:{environment}" for environment in ENVIRONMENTS),
        *(f"netpol:values:{environment}" for environment in ENVIRONMENTS),
        *DEPLOY_JOBS,
    }
    for job, environment in DEPLOY_JOBS.items():
        assert TEMPLATE_DOC[job]["dependencies"] == ["build", f"netpol:values:{environment}"]
        assert set(TEMPLATE_DOC[job]) == {"dependencies", "before_script"}


@pytest.mark.parametrize("call", invocations(TEMPLATE_DOC), ids=str)
def test_every_cli_call_in_the_template_exists(call: Any) -> None:
    assert check_invocation(main, call) == []


def test_the_template_calls_the_commands_the_issue_asks_for() -> None:
    called = {(call.job, call.words[0]) for call in invocations(TEMPLATE_DOC)}
    assert {
        ("netpol:validate", "validate"),
        (".netpol:drift", "drift"),
        (".netpol:drift", "audit"),
        (".netpol:drift", "comment"),
        (".netpol:values", "render"),
        (".netpol:values", "overlay"),
    } <= called
    words = {word for call in invocations(TEMPLATE_DOC) for word in call.words}
    for option in ("--fail-on-override", "--environment", "--live", "--context", "--section", "--detect"):
        assert option in words


def test_install_defaults_resolve_only_names_the_project_owns() -> None:
    version = tool_version()
    variables = TEMPLATE_DOC["variables"]
    assert variables["NETPOL_VERSION"] == version
    assert variables["NETPOL_IMAGE"] == f"$CI_REGISTRY/tools/autodeploy-netpol:{version}"
    assert variables["NETPOL_PIP_INDEX_URL"] == ""
    assert "git+" not in TEMPLATE_TEXT and "pypi.org" not in TEMPLATE_TEXT
    installs = [line for line in TEMPLATE_TEXT.splitlines() if "pip install" in line]
    assert len(installs) == 2
    # The tool comes only from the project's index; the second call finds it installed, pinned.
    assert '--no-deps --index-url "$NETPOL_PIP_INDEX_URL" "autodeploy-netpol==$NETPOL_VERSION"' in installs[0]
    assert installs[1].endswith('"autodeploy-netpol==$NETPOL_VERSION"')


def readme_gitlab_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("## GitLab integration") :]


def test_the_readme_variable_table_is_the_templates() -> None:
    rows = re.findall(r"^\| `(NETPOL_[A-Z_]+)` \| ([^|]*) \|", readme_gitlab_section(), re.MULTILINE)
    documented = {name: default.strip() for name, default in rows}
    template = {name: str(value) for name, value in TEMPLATE_DOC["variables"].items()}
    assert set(documented) == set(template) | {"NETPOL_DISABLED", "NETPOL_GITLAB_TOKEN"}
    for name, value in template.items():
        assert documented[name] == (f"`{value}`" if value else "empty"), name


def test_the_readme_include_is_the_one_the_pipeline_tests_run() -> None:
    lines = "\n".join(line.strip() for line in readme_gitlab_section().splitlines())
    expected = "\n".join(line.strip() for line in INCLUDE_AFTER.format(ref=f"v{tool_version()}").splitlines())
    assert expected in lines


# -- the deploy jobs' handoff check, in the shells runners use --------------------------------------

CHECK = TEMPLATE_DOC[".netpol:handoff-check"]["before_script"][0]


def run_check(shell: str, workdir: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin", "NETPOL_ENVIRONMENTS": "review staging production", **variables}
    return subprocess.run(
        [shell, "-e", "-c", CHECK], cwd=workdir, env=environ, capture_output=True, text=True, check=False
    )


HANDED = {
    "CI_JOB_NAME": "canary",
    "CI_ENVIRONMENT_NAME": "production",
    "NETPOL_HANDOFF_ENVIRONMENT": "production",
    "NETPOL_HANDOFF_JOB": "netpol:values:production",
    "NETPOL_HANDOFF_VALUES_FILE": "netpol-values/production.yaml",
    "HELM_UPGRADE_VALUES_FILE": "netpol-values/production.yaml",
}


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("variables", "with_file", "code", "message"),
    [
        ({}, True, 0, "deploying with netpol-values/production.yaml from netpol:values:production"),
        ({}, False, 1, "its artifacts did not arrive"),
        ({"HELM_UPGRADE_VALUES_FILE": "deploy/values.yaml"}, True, 1, "outranks the dotenv"),
        (
            {"NETPOL_HANDOFF_ENVIRONMENT": ""},
            True,
            1,
            "did not receive the handoff of netpol:values:production",
        ),
        ({"NETPOL_HANDOFF_ENVIRONMENT": "staging"}, True, 1, "got 'staging'"),
        ({"NETPOL_HANDOFF_SKIPPED": "no-values-file"}, True, 0, "handed nothing over (no-values-file)"),
        ({"NETPOL_HANDOFF_ENVIRONMENT": "", "NETPOL_HANDOFF": "false"}, True, 0, "handoff off"),
        ({"NETPOL_HANDOFF_ENVIRONMENT": "", "NETPOL_DISABLED": "1"}, True, 0, "handoff off"),
        (
            {"NETPOL_HANDOFF_ENVIRONMENT": "", "NETPOL_ENVIRONMENTS": "review staging"},
            True,
            0,
            "not in NETPOL_ENVIRONMENTS",
        ),
        (
            {
                "CI_ENVIRONMENT_NAME": "review/feature-x",
                "NETPOL_HANDOFF_ENVIRONMENT": "review",
                "HELM_UPGRADE_VALUES_FILE": "netpol-values/review.yaml",
                "NETPOL_HANDOFF_VALUES_FILE": "netpol-values/review.yaml",
            },
            False,
            1,
            "netpol-values/review.yaml from netpol:values:review is not here",
        ),
    ],
)
def test_the_handoff_check(
    tmp_path: Path, shell: str, variables: dict[str, str], with_file: bool, code: int, message: str
) -> None:
    if with_file:
        (tmp_path / "netpol-values").mkdir()
        (tmp_path / "netpol-values" / "production.yaml").write_text("networkPolicy: {}\n")
    result = run_check(shell, tmp_path, **{**HANDED, **variables})
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stdout + result.stderr


# -- job scripts run as a runner runs them (the pipeline tests run them inside gitlab-ci-local) -----


def job_script(name: str) -> str:
    job = resolved_jobs(TEMPLATE_DOC)[name]
    return "\n".join([*job.get("before_script", []), *job.get("script", [])])


def run_job(
    name: str, workdir: Path, shell: str = "bash", **variables: str
) -> subprocess.CompletedProcess[str]:
    job = resolved_jobs(TEMPLATE_DOC)[name]
    environ = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(workdir),
        "CI_JOB_NAME": name,
        "CI_ENVIRONMENT_SLUG": job.get("variables", {}).get("NETPOL_ENVIRONMENT", ""),
        **{key: str(value) for key, value in TEMPLATE_DOC["variables"].items()},
        **{key: str(value) for key, value in job.get("variables", {}).items()},
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


def write_values(workdir: Path, text: str) -> None:
    (workdir / ".gitlab").mkdir(exist_ok=True)
    (workdir / ".gitlab" / "auto-deploy-values.yaml").write_text(text)


SHOP_VALUES = (ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml").read_text()


@pytest.mark.parametrize("shell", SHELLS)
def test_values_job_writes_the_merged_values_and_the_handoff(tmp_path: Path, shell: str) -> None:
    write_values(tmp_path, SHOP_VALUES)
    result = run_job("netpol:values:production", tmp_path, shell)
    assert result.returncode == 0, result.stderr
    dotenv = dict(line.split("=", 1) for line in (tmp_path / "netpol-values.env").read_text().splitlines())
    assert dotenv == {
        "NETPOL_HANDOFF_ENVIRONMENT": "production",
        "NETPOL_HANDOFF_JOB": "netpol:values:production",
        "HELM_UPGRADE_VALUES_FILE": "netpol-values/production.yaml",
        "NETPOL_HANDOFF_VALUES_FILE": "netpol-values/production.yaml",
    }
    merged = yaml.safe_load((tmp_path / "netpol-values" / "production.yaml").read_text())
    # the whole app: web and worker pods of every track of the release (issue 14), not `app`
    selector = merged["networkPolicy"]["spec"]["podSelector"]
    assert selector["matchExpressions"] == [
        {"key": "release", "operator": "In", "values": ["production", "production-canary", "production-rollout"]}
    ]
    assert selector["matchLabels"] is None  # deletes the chart's default `app` selector in Helm's merge
    objects = list(yaml.safe_load_all((tmp_path / "netpol-values" / "production-objects.yaml").read_text()))
    # in the order Helm renders them: the extension's named policy is a customResources entry now,
    # whose template sorts before the chart's network-policy template
    assert [item["metadata"]["name"] for item in objects if item] == [
        "production-auto-deploy-allow-metrics",
        "production-auto-deploy",
    ]


def test_values_job_fails_on_invalid_values(tmp_path: Path) -> None:
    write_values(tmp_path, "networkPolicy:\n  enabled: \"false\"\n")
    result = run_job("netpol:values:production", tmp_path)
    assert result.returncode == 2
    assert 'the string "false" switches it ON' in result.stderr + result.stdout


def test_an_image_without_the_tool_and_no_index_is_a_clear_error(tmp_path: Path) -> None:
    write_values(tmp_path, SHOP_VALUES)
    result = run_job("netpol:validate", tmp_path, PATH="/usr/bin:/bin", NETPOL_IMAGE="python:3.12-slim")
    assert result.returncode == 2
    assert "autodeploy-netpol is not installed in the image 'python:3.12-slim'" in result.stderr
    assert "NETPOL_PIP_INDEX_URL" in result.stderr


# -- the project's own pipeline --------------------------------------------------------------------


def test_project_pipeline_runs_lint_and_the_ci_entry_point() -> None:
    document = load_template((ROOT / ".gitlab-ci.yml").read_text())
    scripts = {name: " ".join(job["script"]) for name, job in document.items() if name in {"lint", "test"}}
    assert scripts == {"lint": "make lint", "test": "bash .ci/run"}
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    for call in invocations(document):  # none today; any that appears must exist
        assert check_invocation(main, call) == []


def test_project_pipeline_releases_on_version_tags_only(gitlab_ci_local: str, tmp_path: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    files = {
        name: (ROOT / name).read_text()
        for name in tracked
        if name.endswith((".yml", ".toml", ".txt", ".in", "Containerfile", ".sh"))
    }
    project = Project(
        tmp_path / "self", gitlab_ci_local, ci_yaml=(ROOT / ".gitlab-ci.yml").read_text(), files=files
    )
    release = {"package", "publish:package-registry", "publish:image"}
    assert project.created() == {"lint", "test"}
    scheduled = project.jobs({"CI_PIPELINE_SOURCE": "schedule"})
    assert {name for name, job in scheduled.items() if job["when"] != "never"} == {"lint", "test", "fuzz:nightly"}
    tagged = project.jobs({"CI_COMMIT_TAG": f"v{tool_version()}"}, unset=("CI_COMMIT_BRANCH",))
    assert {name for name, job in tagged.items() if job["when"] != "never"} == {"lint", "test", *release}
    for job in ("publish:package-registry", "publish:image"):
        assert [need["job"] for need in tagged[job]["needs"]] == ["package"]
