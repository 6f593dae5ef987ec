"""`autodeploy-netpol drift` reading the cluster, end to end through the real CLI.

The example shop's live snapshot is put into the cluster under test; drift against the cluster
must then report exactly what drift against the snapshot reports. Runs on the emulator and, with
--kubeconfig, on a real cluster.
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from autodeploy_netpol.cli import main

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_VALUES = REPO / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
EXAMPLE_SNAPSHOT = REPO / "examples" / "shop" / "live-snapshot.yaml"
SNAPSHOT_NAMESPACE = "shop-42-production"
#: The CI variables drift would otherwise pick up from the environment.
CLEAN_ENV = dict.fromkeys(
    (
        "HELM_RELEASE_NAME",
        "CI_ENVIRONMENT_SLUG",
        "KUBE_NAMESPACE",
        "CI_PROJECT_ID",
        "NETPOL_INGRESS_NAMESPACE",
        "HELM_UPGRADE_VALUES_FILE",
        "AUTO_DEPLOY_CHART_VERSION",
        "CI_ENVIRONMENT_NAME",
        "CI_JOB_URL",
        "KUBECONFIG",
        "KUBE_CONTEXT",
        "NETPOL_IN_CLUSTER",
        "NETPOL_MONITORING_NAMESPACE",
        "CI",
        "GITLAB_CI",
    )
)

# Set by the API server; a real one refuses objects to be created that carry them.
SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


def example_objects(namespace: str) -> list[dict[str, Any]]:
    """The example snapshot's objects, moved to ``namespace`` (annotations included)."""
    document = yaml.safe_load(EXAMPLE_SNAPSHOT.read_text())
    objects = document["items"] if document.get("kind") == "List" else [document]
    moved = []
    for item in copy.deepcopy(objects):
        metadata = item["metadata"]
        metadata["namespace"] = namespace
        annotations = metadata.get("annotations") or {}
        if annotations.get("meta.helm.sh/release-namespace") == SNAPSHOT_NAMESPACE:
            annotations["meta.helm.sh/release-namespace"] = namespace
        moved.append(item)
    return moved


def drift(*args: Any, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main,
        ["drift", *map(str, args)],
        env={**CLEAN_ENV, "NO_COLOR": "1", **(env or {})},
        catch_exceptions=False,
    )


async def test_drift_against_the_cluster_matches_drift_against_a_snapshot(seeder, tmp_path: Path) -> None:
    namespace = seeder.namespace()
    objects = example_objects(namespace)
    for item in objects:
        seeder.add({**item, "metadata": {k: v for k, v in item["metadata"].items() if k not in SERVER_SET}})
    snapshot = tmp_path / "snapshot.yaml"
    snapshot.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objects}))
    deploy = [EXAMPLE_VALUES, "--release", "production", "--namespace", namespace, "--project-id", "42"]

    from_cluster = await asyncio.to_thread(
        drift, *deploy, "--kubeconfig", seeder.kubeconfig, "--request-timeout", "10s", "--format", "json"
    )
    from_snapshot = await asyncio.to_thread(drift, *deploy, "--live", snapshot, "--format", "json")

    assert from_cluster.exit_code == 1, from_cluster.output
    assert from_snapshot.exit_code == 1, from_snapshot.output
    cluster_report, snapshot_report = json.loads(from_cluster.stdout), json.loads(from_snapshot.stdout)
    entries = {(entry["change"], entry["name"]) for entry in cluster_report["drift"]}
    assert ("changed", "production-auto-deploy-allow-metrics") in entries
    assert ("unexpected", "production-auto-deploy-allow-debug") in entries
    assert cluster_report["drift"] == snapshot_report["drift"]


@pytest.mark.scripted
async def test_drift_without_access_exits_3_naming_the_missing_permission(seeder) -> None:
    kmock = seeder.kmock
    denial = {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "forbidden"}
    kmock["list", kmock.resource("networking.k8s.io", "v1", "networkpolicies")] << 403 << denial
    namespace = seeder.namespace()

    result = await asyncio.to_thread(
        drift,
        EXAMPLE_VALUES,
        "--release",
        "production",
        "--namespace",
        namespace,
        "--project-id",
        "42",
        "--kubeconfig",
        seeder.kubeconfig,
    )

    assert result.exit_code == 3, result.output
    assert f"error: cannot list networkpolicies.networking.k8s.io in namespace {namespace}" in result.output
    assert "deploy/rbac.yaml" in result.output


# --- the namespace of the run must exist (issue 15) --------------------------------------------


async def test_a_namespace_missing_from_the_cluster_is_an_error_naming_the_readable_ones(seeder) -> None:
    present = seeder.namespace()

    result = await asyncio.to_thread(
        drift,
        EXAMPLE_VALUES,
        "--release",
        "production",
        "--namespace",
        "shop-typo",
        "--kubeconfig",
        seeder.kubeconfig,
    )

    assert result.exit_code == 3, result.output
    assert "error: namespace shop-typo not found; namespaces you can read:" in result.output
    assert present in result.output
    assert "missing" not in result.output.split("hint:")[0].replace("not found", "")


@pytest.mark.scripted
async def test_a_missing_namespace_is_found_by_a_get_when_listing_namespaces_is_forbidden(seeder) -> None:
    seeder.kmock.namespace_lists_forbidden = True

    result = await asyncio.to_thread(
        drift, EXAMPLE_VALUES, "-r", "production", "-n", "shop-typo", "--kubeconfig", seeder.kubeconfig
    )

    assert result.exit_code == 3, result.output
    assert (
        "error: namespace shop-typo not found (a get on it answered 404); listing namespaces is forbidden"
        in result.output
    )


@pytest.mark.scripted
async def test_a_namespace_nobody_may_read_is_a_note_not_an_error(seeder) -> None:
    namespace = seeder.namespace()
    seeder.kmock.namespace_lists_forbidden = True
    seeder.kmock.forbidden_namespace_gets = {namespace}

    result = await asyncio.to_thread(
        drift,
        EXAMPLE_VALUES,
        "-r",
        "production",
        "-n",
        namespace,
        "--kubeconfig",
        seeder.kubeconfig,
        "--format",
        "json",
    )

    assert result.exit_code == 1, result.output
    notes = json.loads(result.stdout)["notes"]
    assert any(note.startswith(f"could not check that namespace {namespace} exists") for note in notes)


async def test_the_namespace_defaults_to_the_kubeconfig_contexts(seeder, tmp_path: Path) -> None:
    """kubectl semantics: no --namespace and no KUBE_NAMESPACE → the selected context's namespace."""
    namespace = seeder.namespace()
    config = yaml.safe_load(Path(seeder.kubeconfig).read_text())
    for context in config["contexts"]:
        context["context"]["namespace"] = namespace
    config["current-context"] = ""
    kubeconfig = tmp_path / "with-namespace"
    kubeconfig.write_text(yaml.safe_dump(config))
    name = config["contexts"][0]["name"]

    result = await asyncio.to_thread(
        drift,
        EXAMPLE_VALUES,
        "-r",
        "production",
        "--kubeconfig",
        str(kubeconfig),
        "--format",
        "json",
        env={"KUBE_CONTEXT": name},
    )

    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["scope"]["namespace"] == namespace


# --- in CI, the runner pod's cluster is no cluster access (issue 15) ------------------------------


async def test_in_ci_kubernetes_service_host_alone_never_reaches_that_cluster(seeder, tmp_path: Path) -> None:
    """A Kubernetes-executor job pod: KUBERNETES_SERVICE_HOST names the runner's own cluster (here
    the emulator). Without KUBECONFIG or the opt-in the job has no cluster access and sends nothing."""
    if not hasattr(seeder, "kmock"):
        pytest.skip("counts the requests the emulator received")
    namespace = seeder.namespace()
    url = str(seeder.kmock.url).rstrip("/")
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    before = len(list(seeder.kmock))

    result = await asyncio.to_thread(
        drift,
        EXAMPLE_VALUES,
        "-r",
        "production",
        "-n",
        namespace,
        env={
            "CI": "true",
            "GITLAB_CI": "true",
            "HOME": str(tmp_path),
            "KUBERNETES_SERVICE_HOST": host,
            "KUBERNETES_SERVICE_PORT": port,
        },
    )

    assert result.exit_code == 3, result.output
    assert "error: no cluster access: set KUBECONFIG (GitLab agent) or NETPOL_IN_CLUSTER=true" in result.output
    assert len(list(seeder.kmock)) == before  # not one request to the runner's cluster


@pytest.mark.scripted
async def test_a_partial_connectivity_verdict_is_said_in_every_format(seeder, tmp_path: Path) -> None:
    """The shipped least-privilege Role forbids listing Namespaces, workloads and cluster-wide
    policies: the verdict is then partial, and text, Markdown, JUnit and JSON all say so beside it.
    (The harness serves Namespace lists itself, so the denial scripted here is the workloads'.)"""
    kmock = seeder.kmock
    namespace = seeder.namespace()
    for item in example_objects(namespace):
        seeder.add({**item, "metadata": {k: v for k, v in item["metadata"].items() if k not in SERVER_SET}})
    denial = {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "deployments.apps is forbidden"}
    kmock["list", kmock.resource("apps", "v1", "deployments")] << 403 << denial
    outputs = {fmt: tmp_path / f"drift.{suffix}" for fmt, suffix in (("json", "json"), ("markdown", "md"), ("junit", "xml"))}

    result = await asyncio.to_thread(
        drift,
        EXAMPLE_VALUES, "--release", "production", "--namespace", namespace, "--project-id", "42",
        "--kubeconfig", seeder.kubeconfig, "--request-timeout", "10s",
        *[arg for fmt, path in outputs.items() for arg in ("-o", f"{fmt}:{path}")],
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "connectivity (partial): " in result.stdout
    assert "partial verdict: workloads could not be read from the cluster" in result.stdout
    document = json.loads(outputs["json"].read_text())
    section = document["connectivity"]
    assert section["partial"] is True and section["unread"][0]["what"] == "workloads"
    assert "403" in section["unread"][0]["reason"]
    markdown = outputs["markdown"].read_text()
    assert "**Connectivity** (partial):" in markdown
    caveat = next(line for line in markdown.splitlines() if line.startswith("> ⚠️ Partial verdict"))
    assert "workloads could not be read from the cluster" in caveat  # escaped text, read as itself
    assert "| ➕ |" in markdown  # the connections are listed as ever
    import xml.etree.ElementTree as ET

    case = ET.fromstring(outputs["junit"].read_text()).find("testsuite[@name='connectivity']/testcase")
    assert case is not None and case.get("name", "").startswith("connectivity (partial): ")
    skipped = case.find("skipped")
    assert skipped is not None and "workloads could not be read" in skipped.get("message", "")
