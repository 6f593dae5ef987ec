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


def agent_kubeconfig(path: Path, server: str, *, namespace: str | None = None) -> Path:
    """Two agents' contexts, no current-context: without KUBE_CONTEXT nothing is selected.
    ``namespace``: the agent's ``default_namespace``, written into its context."""
    contexts = {AGENT: server, "platform/agents:staging": "https://127.0.0.1:9"}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": name, "cluster": {"server": url}} for name, url in contexts.items()],
                "users": [{"name": "agent", "user": {"token": TOKEN}}],
                "contexts": [
                    {
                        "name": name,
                        "context": {
                            "cluster": name,
                            "user": "agent",
                            **({"namespace": namespace} if namespace and name == AGENT else {}),
                        },
                    }
                    for name in contexts
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


VALUES_JOB = "netpol:values:production"


async def test_values_and_drift_jobs_admit_the_ingress_namespace_detected_in_the_agents_cluster(
    seeder: Seeder, agent_setup: tuple[Project, dict[str, str]]
) -> None:
    """No NETPOL_INGRESS_NAMESPACE: both jobs detect the controller in the cluster of KUBE_CONTEXT, so
    the merged values file the deploy receives admits the namespace the comment shows."""
    project, variables = agent_setup
    ingress = seeder.namespace()
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
    )
    seeder.add(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "ingress-nginx-controller-5c8d",
                "namespace": ingress,
                "labels": {"app.kubernetes.io/name": "ingress-nginx"},
            },
            "spec": {"containers": [{"name": "controller", "image": "registry.example/controller:1"}]},
        }
    )

    run = await asyncio.to_thread(project.run, VALUES_JOB, JOB, variables=variables)

    assert run.returncode == 0, run.output[-3000:]
    merged = yaml.safe_load(run.artifact(VALUES_JOB, "netpol-values/production.yaml").read_text())
    admitted = merged["networkPolicy"]["spec"]["ingress"][0]["from"][1]
    assert admitted == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ingress}}}
    assert f"ingress controller detected: ingress-nginx in namespace {ingress}" in run.job_log(VALUES_JOB)
    report = json.loads(run.artifact(JOB, "netpol-report/drift-production.json").read_text())
    # the live policy admits ingress-nginx (the example's): drift shows the change to the detected one
    [suggested] = [entry for entry in report["drift"] if entry["name"] == "production-auto-deploy"]
    assert suggested["change"] == "changed"
    assert {"live": "ingress-nginx", "desired": ingress}.items() <= suggested["paths"][0].items()
    assert any(note.startswith("ingress controller detected: ingress-nginx") for note in report["notes"])


async def test_without_kube_namespace_the_drift_job_uses_the_agent_contexts_namespace(
    seeder: Seeder, agent_setup: tuple[Project, dict[str, str]], tmp_path: Path
) -> None:
    """As Auto Deploy: no KUBE_NAMESPACE, the namespace comes from the context KUBE_CONTEXT selects
    (the agent's default_namespace)."""
    project, variables = agent_setup
    namespace = variables.pop("KUBE_NAMESPACE")
    kubeconfig = agent_kubeconfig(
        tmp_path / "agent-kubeconfig-ns", str(seeder.kmock.url).rstrip("/"), namespace=namespace
    )

    run = await asyncio.to_thread(project.run, JOB, variables={**variables, "KUBECONFIG": str(kubeconfig)})

    assert run.returncode == 0, run.job_log(JOB)[-3000:]
    assert "SKIPPED" not in run.job_log(JOB)
    report = json.loads(run.artifact(JOB, "netpol-report/drift-production.json").read_text())
    assert report["scope"]["namespace"] == namespace
    assert ("unexpected", "production-auto-deploy-allow-debug") in {
        (entry["change"], entry["name"]) for entry in report["drift"]
    }


async def test_a_context_without_a_namespace_fails_the_job_naming_it(
    agent_setup: tuple[Project, dict[str, str]],
) -> None:
    project, variables = agent_setup
    del variables["KUBE_NAMESPACE"]

    run = await asyncio.to_thread(project.run, JOB, variables=variables)

    assert JOB in run.failed()
    log = run.job_log(JOB)
    assert "netpol: failed with exit code 2" in log
    assert f"context '{AGENT}' sets no namespace" in log
