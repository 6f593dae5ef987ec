"""``audit`` reading the live policies from a cluster (the kmock emulator, or --kubeconfig)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from click.testing import CliRunner

from autodeploy_netpol.cli import main

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


def namespace_wide_policy(namespace: str) -> dict[str, Any]:
    """What the chart's default values render: every pod of the namespace may reach every pod."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "production-auto-deploy",
            "namespace": namespace,
            "annotations": {
                "meta.helm.sh/release-name": "production",
                "meta.helm.sh/release-namespace": namespace,
            },
        },
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]},
    }


DESIRED = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: production-auto-deploy}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 8080}]
"""


async def test_audit_reads_the_live_policies_from_the_cluster(seeder, tmp_path) -> None:
    shop = seeder.namespace({"team": "payments"})
    seeder.add(namespace_wide_policy(shop))
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny-web", "namespace": shop},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]},
        }
    )
    desired = tmp_path / "desired.yaml"
    desired.write_text(DESIRED)
    flows = tmp_path / "flows.csv"
    flows.write_text(
        f"{shop},app=web,{shop},app=api,,TCP,8080\n"  # allowed before and after
        f"{shop},app=worker,{shop},app=api,,TCP,8080\n"  # allowed now (namespace-wide), dropped after
        # allowed now by the namespace-wide policy; once the deploy narrows it to app=api, the
        # hand-written deny-web (which stays) is all that selects web: dropped
        f"{shop},app=api,{shop},app=web,,TCP,80\n"
    )
    args = [
        "audit",
        "--flows",
        str(flows),
        "--desired",
        str(desired),
        "--kubeconfig",
        seeder.kubeconfig,
        "-n",
        shop,
        "-r",
        "production",
        "--format",
        "json",
    ]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    report = json.loads(result.output[result.output.index("{") :])
    dropped = {(g["source"], g["destination"], g["port"]): g["would_drop"] for g in report["groups"]}
    assert dropped == {
        (f"{shop}/web", f"{shop}/api", 8080): 0,
        (f"{shop}/worker", f"{shop}/api", 8080): 1,
        (f"{shop}/api", f"{shop}/web", 80): 1,
    }
    api_to_web = next(g for g in report["groups"] if g["destination"] == f"{shop}/web")
    assert (api_to_web["denied_before"], api_to_web["would_drop"]) == (0, 1)
    assert report["partial"] is False and report["unread"] == []


@pytest.mark.scripted
async def test_a_partial_audit_verdict_is_said_in_every_format(seeder, tmp_path) -> None:
    """Workloads the Role may not list: the result is partial, and text, Markdown and JSON say so."""
    kmock = seeder.kmock
    shop = seeder.namespace()
    seeder.add(namespace_wide_policy(shop))
    denial = {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "deployments.apps is forbidden"}
    kmock["list", kmock.resource("apps", "v1", "deployments")] << 403 << denial
    desired = tmp_path / "desired.yaml"
    desired.write_text(DESIRED)
    flows = tmp_path / "flows.csv"
    flows.write_text(f"{shop},app=web,{shop},app=api,,TCP,8080\n")
    common = ["audit", "--flows", str(flows), "--desired", str(desired), "--kubeconfig", seeder.kubeconfig,
              "-n", shop, "-r", "production"]  # fmt: skip
    outputs = {}
    for fmt in ("text", "markdown", "json"):
        result = await asyncio.to_thread(CliRunner().invoke, main, [*common, "--format", fmt], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs[fmt] = result.stdout

    assert "Result (partial): passed" in outputs["text"]
    assert "partial verdict: workloads could not be read from the cluster" in outputs["text"]
    heading = outputs["markdown"].splitlines()[0]
    assert heading.startswith("### ✅ Recorded flows against the new policies (partial)")
    caveat = next(line for line in outputs["markdown"].splitlines() if line.startswith("> ⚠️ Partial verdict"))
    assert "workloads could not be read from the cluster" in caveat
    report = json.loads(outputs["json"])
    assert report["partial"] is True and report["unread"][0]["what"] == "workloads"
