"""``autodeploy-netpol drift`` against a cluster over real HTTP (kmock's emulator, or --kubeconfig).

The CLI runs in a worker thread while the emulator serves on the test's event loop. The seeded
objects are what the deploy renders, as a person or Helm would apply them; a real API server
fills in its defaults (protocol, policyTypes) and its own metadata, which normalization must
treat as cosmetic, so the same assertions hold on both.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from autodeploy_netpol.cli import main
from autodeploy_netpol.desired.compute import DeployContext, compute_desired
from autodeploy_netpol.desired.values import read_values

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

EXAMPLE_VALUES = (
    Path(__file__).resolve().parents[2] / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
)
CI_ENV = (
    "HELM_RELEASE_NAME",
    "CI_ENVIRONMENT_SLUG",
    "KUBE_NAMESPACE",
    "CI_PROJECT_ID",
    "CI_ENVIRONMENT_NAME",
    "CI_JOB_URL",
)


def rendered(namespace: str) -> list[dict[str, Any]]:
    """The example's policies as the deploy creates them, placed in ``namespace``, with Helm's annotations."""
    desired = compute_desired(
        read_values(str(EXAMPLE_VALUES)), DeployContext(release="production", namespace=namespace)
    )
    for manifest in desired.objects:
        manifest["metadata"]["namespace"] = namespace
        manifest["metadata"]["annotations"] = {
            "meta.helm.sh/release-name": "production",
            "meta.helm.sh/release-namespace": namespace,
        }
    return desired.objects


async def drift(seeder: Any, *args: str) -> Result:
    env = {name: None for name in CI_ENV}
    command = [
        "drift",
        str(EXAMPLE_VALUES),
        "--release",
        "production",
        "--kubeconfig",
        seeder.kubeconfig,
        *args,
    ]
    return await asyncio.to_thread(CliRunner().invoke, main, command, env=env, catch_exceptions=False)


async def test_a_clean_deploy_is_in_sync(seeder) -> None:
    namespace = seeder.namespace()
    for manifest in rendered(namespace):
        seeder.add(manifest)

    result = await drift(seeder, "--namespace", namespace)

    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().splitlines()[-1].startswith("0 changed, 0 missing, 0 unexpected (2 in sync")


async def test_hand_edits_in_the_cluster_are_reported(seeder) -> None:
    namespace, elsewhere = seeder.namespace(), seeder.namespace()
    objects = rendered(namespace)
    metrics = next(obj for obj in objects if obj["metadata"]["name"].endswith("-allow-metrics"))
    metrics["spec"]["ingress"][0]["ports"][0]["port"] = 9100
    leftover = json.loads(json.dumps(metrics))
    leftover["metadata"]["name"] = "production-auto-deploy-allow-debug"
    for manifest in [metrics, leftover]:
        seeder.add(manifest)
    # The same names in another namespace must not count.
    for manifest in rendered(elsewhere):
        seeder.add(manifest)

    result = await drift(seeder, "--namespace", namespace, "--format", "json")

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert {(entry["name"], entry["change"]) for entry in document["drift"]} == {
        ("production-auto-deploy", "missing"),
        ("production-auto-deploy-allow-debug", "unexpected"),
        ("production-auto-deploy-allow-metrics", "changed"),
    }
    changed = next(entry for entry in document["drift"] if entry["change"] == "changed")
    assert changed["paths"] == [
        {"path": "spec.ingress[0].ports[0].port", "scope": "spec", "live": 9100, "desired": 9090}
    ]
    assert namespace in document["sources"]["live"]


@pytest.mark.scripted
async def test_forbidden_listing_exits_3_naming_the_role(seeder) -> None:
    kmock = seeder.kmock
    namespace = seeder.namespace()
    denied = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": "Forbidden",
        "code": 403,
        "message": "networkpolicies.networking.k8s.io is forbidden",
    }
    kmock["list", kmock.resource("networking.k8s.io", "v1", "networkpolicies")] << 403 << denied

    result = await drift(seeder, "--namespace", namespace)

    assert result.exit_code == 3
    assert "cannot list networkpolicies" in result.stderr and "deploy/rbac.yaml" in result.stderr
    assert "Traceback" not in result.output
