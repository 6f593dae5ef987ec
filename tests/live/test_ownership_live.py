"""Ownership over real HTTP: the fixture policies served by the kmock emulator, read back by the
real reader, judged exactly as from the snapshot files; Helm's release Secrets read from the API.

The objects carry the managedFields that an API server would have written; only the emulator
stores them as given (a real API server writes its own), so these tests are emulator-only.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from live_harness import EmulatorSeeder
from ownership_fixtures import FIXTURES, RELEASE, desired, live

from autodeploy_netpol.checks.ownership.conflicts import assess
from autodeploy_netpol.errors import ClusterError, ExitCode
from autodeploy_netpol.sources.helm_releases import ClusterHistory, read_release_secrets

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


@pytest.fixture
def emulator(seeder):
    if not isinstance(seeder, EmulatorSeeder):
        pytest.skip("managedFields are written by a real API server, not taken from the test")
    return seeder


def relocate(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The fixture object in the test's namespace (Helm's namespace annotation follows)."""
    moved = copy.deepcopy(obj)
    moved["metadata"]["namespace"] = namespace
    annotations = moved["metadata"].get("annotations") or {}
    if "meta.helm.sh/release-namespace" in annotations:
        annotations["meta.helm.sh/release-namespace"] = namespace
    return moved


def summary(report) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [
        (str(w.code), w.kind, w.name, tuple(f.to_json()["path"] for f in w.fields)) for w in report.warnings
    ]


@pytest.mark.parametrize(
    "fixture",
    [
        "helm-then-kubectl-edit",
        "helm-then-ui-update",
        "kubectl-edit-before-helm",
        "ui-created",
        "argocd",
        "no-managed-fields",
        "collision",
        "canary-edited",
    ],
)
async def test_served_policies_get_the_same_verdicts_as_the_snapshot(emulator, fixture: str) -> None:
    namespace = emulator.namespace()
    for obj in live(fixture):
        emulator.add(relocate(obj, namespace))

    state = await asyncio.to_thread(emulator.reader().policies, namespace)
    served = assess(desired(), state.objects, release=RELEASE, namespace=namespace)
    offline = assess(
        desired(), [relocate(o, namespace) for o in live(fixture)], release=RELEASE, namespace=namespace
    )

    assert len(served.verdicts) == len(live(fixture))
    assert [(v.kind, v.name, v.owner, v.reason) for v in served.verdicts] == [
        (v.kind, v.name, v.owner, v.reason) for v in offline.verdicts
    ]
    assert summary(served) == summary(offline)


async def test_override_fires_on_served_objects(emulator) -> None:
    namespace = emulator.namespace()
    for obj in live("helm-then-kubectl-edit"):
        emulator.add(relocate(obj, namespace))
    state = await asyncio.to_thread(emulator.reader().policies, namespace)
    (warning,) = assess(desired(), state.objects, release=RELEASE, namespace=namespace).warnings
    assert (str(warning.code), warning.fields[0].manager) == ("override", "kubectl-edit")


async def test_helm_history_is_read_from_the_release_secrets(emulator) -> None:
    namespace = emulator.namespace()
    for obj in live("helm-release-secrets") + live("helm-then-ui-update"):
        emulator.add(relocate(obj, namespace))
    reader = emulator.reader()

    secrets = await asyncio.to_thread(read_release_secrets, reader, namespace, RELEASE)
    assert sorted(s["metadata"]["name"] for s in secrets) == [
        f"sh.helm.release.v1.{RELEASE}.v{n}" for n in (2, 3, 4)
    ]
    applied = await asyncio.to_thread(ClusterHistory(reader), namespace, RELEASE)
    assert [p["metadata"]["name"] for p in applied or []] == ["production-auto-deploy"]
    list_request = next(
        r for r in emulator.kmock if r.resource is not None and r.resource.plural == "secrets"
    )
    assert list_request.params.get("labelSelector") == f"owner=helm,name={RELEASE}"

    state = await asyncio.to_thread(reader.policies, namespace)
    report = assess(desired(), state.objects, release=RELEASE, namespace=namespace, last_applied=applied)
    assert [str(w.code) for w in report.warnings] == ["override"]


async def test_a_release_without_secrets_has_no_history(emulator) -> None:
    namespace = emulator.namespace()
    assert await asyncio.to_thread(ClusterHistory(emulator.reader()), namespace, RELEASE) is None


@pytest.mark.scripted
async def test_forbidden_secrets_say_what_helm_history_needs(emulator) -> None:
    kmock = emulator.kmock
    denial = 'secrets is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "secrets"'
    (
        kmock["list", kmock.resource("", "v1", "secrets")]
        << 403
        << {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": denial,
            "reason": "Forbidden",
            "code": 403,
        }
    )
    with pytest.raises(ClusterError) as caught:
        await asyncio.to_thread(read_release_secrets, emulator.reader(), "team-a", RELEASE)
    error = caught.value
    assert error.exit_code == ExitCode.ACCESS
    assert "cannot list secrets" in error.message
    assert error.hint is not None and "--helm-history" in error.hint and "get/list on secrets" in error.hint


# --- the drift command against the emulator ----------------------------------------------------


async def run_drift(emulator, namespace: str, *args: str):
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main

    command = [
        "drift",
        str(FIXTURES / "auto-deploy-values.yaml"),
        "--release",
        RELEASE,
        "--namespace",
        namespace,
        "--project-id",
        "42",
        "--kubeconfig",
        emulator.kubeconfig,
        *args,
    ]
    env = {
        name: None for name in ("HELM_RELEASE_NAME", "CI_ENVIRONMENT_SLUG", "KUBE_NAMESPACE", "CI_PROJECT_ID")
    }
    return await asyncio.to_thread(CliRunner().invoke, main, command, env=env, catch_exceptions=False)


async def test_cli_against_the_cluster_exits_4_on_override(emulator) -> None:
    namespace = emulator.namespace()
    for obj in live("helm-then-kubectl-edit"):
        emulator.add(relocate(obj, namespace))
    result = await run_drift(emulator, namespace, "--fail-on-override")
    assert result.exit_code == 4, result.output
    assert f"warning: [override] NetworkPolicy {namespace}/production-auto-deploy" in result.stdout


async def test_cli_helm_history_from_the_cluster(emulator) -> None:
    namespace = emulator.namespace()
    for obj in live("helm-then-ui-update") + live("helm-release-without-policy"):
        emulator.add(relocate(obj, namespace))
    without = await run_drift(emulator, namespace, "--fail-on-override")
    assert "[override]" in without.stdout and "[collision]" not in without.stdout
    result = await run_drift(emulator, namespace, "--fail-on-override", "--helm-history")
    assert result.exit_code == 4, result.output
    assert "error: [collision]" in result.stdout and "[override]" not in result.stdout


@pytest.mark.scripted
async def test_cli_forbidden_secrets_exit_3_over_4(emulator) -> None:
    namespace = emulator.namespace()
    for obj in live("helm-then-kubectl-edit"):
        emulator.add(relocate(obj, namespace))
    kmock = emulator.kmock
    (
        kmock["list", kmock.resource("", "v1", "secrets")]
        << 403
        << {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "secrets is forbidden",
            "reason": "Forbidden",
            "code": 403,
        }
    )
    result = await run_drift(emulator, namespace, "--fail-on-override", "--helm-history")
    assert result.exit_code == 3, result.output
    assert "--helm-history reads Helm's release Secrets" in result.stderr


async def test_cli_fail_on_override_ignores_what_the_tool_calls_harmless(emulator) -> None:
    """Both methods, but the UI policy allows everything already: a warning that reverts and widens
    nothing does not fail the job (exit 1 for the drift, not 4), and the JSON says so."""
    import json

    namespace = emulator.namespace()
    objects = live("ui-created")
    objects[1]["spec"]["ingress"] = [{}]  # the UI policy allows every peer already
    for obj in objects:
        emulator.add(relocate(obj, namespace))

    result = await run_drift(emulator, namespace, "--fail-on-override", "--format", "json")

    assert result.exit_code in (ExitCode.OK, ExitCode.FINDINGS), result.output
    document = json.loads(result.stdout)
    [both] = [w for w in document["warnings"] if w["code"] == "both-methods"]
    assert both["failsOnOverride"] is False and "allows nothing beyond them" in both["reason"]
    assert document["failOnOverride"] is True
