"""``suggest --from-flows`` reading the live state from a cluster (the kmock emulator, or --kubeconfig)."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from autodeploy_netpol.cli import main

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

WEB = "app=production;tier=web;track=stable;release=production"


async def test_live_policies_of_the_cluster_are_merged_and_workloads_named(seeder, tmp_path) -> None:
    shop = seeder.namespace({"team": "payments"})
    # a hand-written policy that stays after the deploy: what it allows is not repeated
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-api", "namespace": shop},
            "spec": {
                "podSelector": {"matchLabels": {"tier": "web"}},
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 8080}]}
                ],
            },
        }
    )
    # the release's own policy: replaced by the deploy, so it does not count
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": "production-auto-deploy",
                "namespace": shop,
                "annotations": {
                    "meta.helm.sh/release-name": "production",
                    "meta.helm.sh/release-namespace": shop,
                },
            },
            "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]},
        }
    )
    seeder.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "production-sidekiq", "namespace": shop},
            "spec": {
                "selector": {"matchLabels": {"tier": "worker"}},
                "template": {
                    "metadata": {
                        "labels": {
                            "tier": "worker",
                            "track": "stable",
                            "release": "production",
                            "worker": "sidekiq",
                        }
                    },
                    "spec": {"containers": [{"name": "main", "image": "registry.example/app:1"}]},
                },
            },
        }
    )
    flows = tmp_path / "flows.csv"
    flows.write_text(
        f"{shop},app=api,{shop},{WEB},,TCP,8080\n"  # allowed by allow-api, which stays
        f"{shop},app=worker-x,{shop},{WEB},,TCP,9000\n"  # nothing allows it after the deploy
    )
    args = ["suggest", "--from-flows", str(flows), "-r", "production", "-n", shop]
    args += ["--kubeconfig", seeder.kubeconfig, "--format", "json"]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["settings"]["live"] == f"cluster, namespace {shop}"
    assert [(a["source"], a["port"], a["policies"]) for a in document["alreadyAllowed"]] == [
        (f"{shop}/api", 8080, [f"{shop}/allow-api"])
    ]
    web_rules = [rule for rule in document["rules"] if rule["component"] == "web"]
    assert [(rule["ports"], rule["peers"][0]["selector"]) for rule in web_rules] == [
        (["TCP 9000"], "pods {app=worker-x}")
    ]
    sidekiq = next(c for c in document["components"] if c["name"] == "sidekiq")
    assert sidekiq == {**sidekiq, "observed": False, "workloads": [f"{shop}/production-sidekiq"]}
    assert document["proof"]["passed"] is True
