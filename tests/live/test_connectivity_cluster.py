"""connectivity and lint reading the cluster (the kmock emulator, or --kubeconfig) instead of PATHs."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from autodeploy_netpol.cli import main

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


def pod(namespace: str, name: str, labels: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "registry.example/app:1",
                    "ports": [{"name": "http", "containerPort": 8080}],
                }
            ]
        },
    }


async def test_connectivity_and_lint_read_the_cluster(seeder) -> None:
    shop = seeder.namespace({"team": "payments"})
    seeder.add(pod(shop, "web", {"app": "web"}))
    seeder.add(pod(shop, "api", {"app": "api"}))
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web", "namespace": shop},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": "http"}]}
                ],
            },
        }
    )
    args = ["connectivity", "--kubeconfig", seeder.kubeconfig, "-n", shop, "--format", "json"]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert {"src": f"{shop}/api", "dst": f"{shop}/web", "protocol": "TCP", "ports": "8080"} in report[
        "connections"
    ]
    assert not any(c["dst"] == f"{shop}/web" and c["src"] != f"{shop}/api" for c in report["connections"])
    assert report["partial"] is False
    args = ["lint", "--kubeconfig", seeder.kubeconfig, "-n", shop, "--format", "json"]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    findings = json.loads(result.output[result.output.index("{") :])["findings"]
    assert [f["check"] for f in findings if f["severity"] == "error"] == ["ingress-namespace-cannot-reach"]
    assert result.exit_code == 1


@pytest.mark.scripted
async def test_a_partial_connectivity_map_is_said_in_every_format(seeder) -> None:
    """Workloads the Role may not list: the map is partial, and each format says so."""
    kmock = seeder.kmock
    shop = seeder.namespace()
    seeder.add(pod(shop, "web", {"app": "web"}))
    denial = {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "deployments.apps is forbidden"}
    kmock["list", kmock.resource("apps", "v1", "deployments")] << 403 << denial
    outputs = {}
    for fmt in ("text", "markdown", "json", "csv"):
        args = ["connectivity", "--kubeconfig", seeder.kubeconfig, "-n", shop, "--format", fmt]
        result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs[fmt] = result

    assert "(partial: workloads could not be read from the cluster" in outputs["text"].stdout.splitlines()[0]
    assert outputs["markdown"].stdout.startswith("### Connectivity (partial)")
    report = json.loads(outputs["json"].stdout)
    assert report["partial"] is True and report["unread"][0]["what"] == "workloads"
    assert "warning: partial: workloads could not be read" in outputs["csv"].stderr
    assert "partial" not in outputs["csv"].stdout


async def test_connectivity_reads_the_cluster_scoped_tiers(seeder) -> None:
    """A ClusterNetworkPolicy listed from the cluster decides before the namespace's NetworkPolicies:
    its Admin-tier Deny wins over the NetworkPolicy that allows api → web."""
    shop = seeder.namespace({"team": "payments"})
    seeder.add(pod(shop, "web", {"app": "web"}))
    seeder.add(pod(shop, "api", {"app": "api"}))
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web", "namespace": shop},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]}],
            },
        }
    )
    seeder.add(
        {
            "apiVersion": "policy.networking.k8s.io/v1alpha2",
            "kind": "ClusterNetworkPolicy",
            "metadata": {"name": "no-api-to-web-but-8080"},
            "spec": {
                "tier": "Admin",
                "priority": 10,
                "subject": {
                    "pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}
                },
                "ingress": [
                    {
                        "name": "http-only",
                        "action": "Pass",
                        "from": [
                            {
                                "pods": {
                                    "namespaceSelector": {},
                                    "podSelector": {"matchLabels": {"app": "api"}},
                                }
                            }
                        ],
                        "protocols": [{"tcp": {"destinationPort": {"number": 8080}}}],
                    },
                    {
                        "name": "nothing-else",
                        "action": "Deny",
                        "from": [{"namespaces": {}}],
                    },
                ],
            },
        }
    )
    args = ["connectivity", "--kubeconfig", seeder.kubeconfig, "-n", shop, "--format", "json"]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    to_web = [c for c in report["connections"] if c["dst"] == f"{shop}/web"]
    assert to_web == [{"src": f"{shop}/api", "dst": f"{shop}/web", "protocol": "TCP", "ports": "8080"}], (
        report
    )
    assert not any("ClusterNetworkPolicy" in note and "skipped" in note for note in report["notes"]), report
