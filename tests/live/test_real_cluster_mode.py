"""The real-cluster mode of these tests, checked without a cluster.

`pytest tests/live --kubeconfig FILE` seeds through pytest-helm-charts (kube_cluster, its
namespace factory, pykube). No cluster is at hand here, so the read tests run in that mode
against a stand-in that answers what pykube asks: this catches breakage of the real-cluster
harness (seeding, namespaces, skipping) that the emulator mode never exercises.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from live_harness import BUILT_IN, StandInCluster, write_kubeconfig

pytestmark = [pytest.mark.live, pytest.mark.scripted, pytest.mark.asyncio]

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.kmock(cls=StandInCluster)
async def test_read_tests_pass_in_real_cluster_mode(kmock, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", str(kmock.url).rstrip("/"))
    for resource in BUILT_IN:  # a real API server serves every built-in resource
        kmock.resources[f"{resource.api_version}/{resource.plural}"] = {}

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "tests/live/test_reading.py",
        "tests/live/test_drift_from_cluster.py",
        "--kubeconfig",
        kubeconfig,
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode()

    assert process.returncode == 0, output
    passed = re.search(r"(\d+) passed", output)
    assert passed is not None and int(passed.group(1)) >= 6, output
    # The stand-in has no Cilium: exactly the Cilium read tests are skipped, by the real-mode check.
    assert output.count("the cluster under test has no Cilium CRD") == 2, output
    # Seeding went through pykube into throw-away namespaces, which the fixture deleted afterwards.
    namespaces = {
        name: stored.deleted
        for (resource, _, name), stored in kmock.objects.items()
        if resource.plural == "namespaces"
    }
    assert namespaces and all(name.startswith("netpol-live-") for name in namespaces), namespaces
    assert all(namespaces.values()), namespaces
    policies = {name for (resource, _, name) in kmock.objects if resource.plural == "networkpolicies"}
    assert {"one", "two", "web", "policy-4"} <= policies
