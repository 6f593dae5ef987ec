"""The template's drift job reading a cluster the 2026 way: gitlab-ci-local runs the job with a
KUBECONFIG as the GitLab agent writes it (one context per agent, named
`<agent configuration project>:<agent name>`, no current context) and KUBE_CONTEXT selecting one;
the cluster is the kmock emulator, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from gitlab_integration.gcl import ROOT, Project
from live_harness import TOKEN, EmulatorSeeder, Seeder
from test_drift_from_cluster import SERVER_SET, example_objects

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

JOB = "netpol:drift:production"
AGENT = "platform/agents:production"


def agent_kubeconfig(path: Path, server: str) -> Path:
    """Two agents' contexts, no current-context: without KUBE_CONTEXT nothing is selected."""
    contexts = {AGENT: server, "platform/agents:staging": "https://127.0.0.1:9"}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": name, "cluster": {"server": url}} for name, url in contexts.items()],
                "users": [{"name": "agent", "user": {"token": TOKEN}}],
                "contexts": [
                    {"name": name, "context": {"cluster": name, "user": "agent"}} for name in contexts
                ],
            }
        )
    )
    return path


@pytest.fixture
def agent_setup(seeder: Seeder, gitlab_ci_local: str, tmp_path: Path) -> tuple[Project, dict[str, str]]:
    if not isinstance(seeder, EmulatorSeeder):
        pytest.skip("builds an agent-style kubeconfig around the emulator's URL")
    namespace = seeder.namespace()
    for item in example_objects(namespace):
        seeder.add({**item, "metadata": {k: v for k, v in item["metadata"].items() if k not in SERVER_SET}})
    kubeconfig = agent_kubeconfig(tmp_path / "agent-kubeconfig", str(seeder.kmock.url).rstrip("/"))
    project = Project(
        tmp_path / "project",
        gitlab_ci_local,
        values=(ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml").read_text(),
        branch="feature/netpol",
    )
    variables = {
        "KUBECONFIG": str(kubeconfig),
        "KUBE_CONTEXT": AGENT,
        "KUBE_NAMESPACE": namespace,
        "CI_OPEN_MERGE_REQUESTS": "shop/api!7",
        "CI_PROJECT_ID": "42",
    }
    return project, variables


async def test_the_drift_job_reads_the_cluster_of_the_agent_context(
    agent_setup: tuple[Project, dict[str, str]],
) -> None:
    project, variables = agent_setup
    run = await asyncio.to_thread(project.run, JOB, variables=variables)
    assert run.returncode == 0, run.job_log(JOB)[-3000:]  # drift found (exit 1) keeps the job green
    report = json.loads(run.artifact(JOB, "netpol-report/drift-production.json").read_text())
    entries = {(entry["change"], entry["name"]) for entry in report["drift"]}
    assert ("changed", "production-auto-deploy-allow-metrics") in entries
    assert ("unexpected", "production-auto-deploy-allow-debug") in entries


async def test_a_context_that_is_not_in_the_kubeconfig_fails_the_job(
    agent_setup: tuple[Project, dict[str, str]],
) -> None:
    project, variables = agent_setup
    run = await asyncio.to_thread(
        project.run, JOB, variables={**variables, "KUBE_CONTEXT": "platform/agents:typo"}
    )
    assert JOB in run.failed()
    log = run.job_log(JOB)
    assert "netpol: failed with exit code 3" in log
    assert "platform/agents:typo" in log and AGENT in log  # names the contexts there are
