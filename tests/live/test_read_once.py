"""One run, one read of the live state: ``drift`` with its connectivity section lists every kind
once per namespace, so drift, ownership and connectivity describe the same moment."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from test_drift_from_cluster import EXAMPLE_VALUES, SERVER_SET, drift, example_objects

from autodeploy_netpol.sources.platform import pod_selectors

# Counting requests needs the emulator's log: skipped on a real cluster (marker "scripted").
pytestmark = [pytest.mark.live, pytest.mark.asyncio, pytest.mark.scripted]


def list_requests(kmock) -> Counter[tuple[str, str | None]]:
    """(resource plural, namespace) of every list request the emulator answered, and
    ("get namespace", name) for each get of a Namespace."""
    counted: Counter[tuple[str, str | None]] = Counter()
    for request in kmock:
        if request.method == "GET" and request.resource is not None and request.name is None:
            counted[request.resource.plural, request.namespace] += 1
    if kmock.namespace_lists:
        counted["namespaces", None] += kmock.namespace_lists
    for name in getattr(kmock, "namespace_gets", []):
        counted["get namespace", name] += 1
    return counted


async def test_drift_with_connectivity_lists_each_kind_once(seeder) -> None:
    kmock = seeder.kmock
    namespace = seeder.namespace()
    for item in example_objects(namespace):
        seeder.add({**item, "metadata": {k: v for k, v in item["metadata"].items() if k not in SERVER_SET}})
    labels = {"app": "production", "release": "production", "tier": "web", "track": "stable"}
    seeder.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "production", "namespace": namespace},
            "spec": {"template": {"metadata": {"labels": labels}}},
        }
    )
    deploy = [EXAMPLE_VALUES, "--release", "production", "--namespace", namespace, "--project-id", "42"]

    result = await asyncio.to_thread(
        drift, *deploy, "--kubeconfig", seeder.kubeconfig, "--request-timeout", "10s", "--format", "json"
    )

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["connectivity"]["verdict"] == "changes"
    assert report["connectivity"]["workloads"] >= 1
    assert list_requests(kmock) == {
        ("networkpolicies", namespace): 1,
        ("ciliumnetworkpolicies", namespace): 1,
        ("namespaces", None): 1,
        ("ciliumclusterwidenetworkpolicies", None): 1,
        ("deployments", namespace): 1,
        ("statefulsets", namespace): 1,
        ("daemonsets", namespace): 1,
        ("replicasets", namespace): 1,
        ("jobs", namespace): 1,
        ("replicationcontrollers", namespace): 1,
        # the cluster-scoped tiers: ClusterNetworkPolicy v1beta1, else v1alpha2 (one list each
        # when the server has no v1beta1), and the v1alpha1 kinds
        ("clusternetworkpolicies", None): 2,
        ("adminnetworkpolicies", None): 1,
        ("baselineadminnetworkpolicies", None): 1,
        # user-defined networks (OVN-Kubernetes)
        ("userdefinednetworks", namespace): 1,
        ("clusteruserdefinednetworks", None): 1,
        # detection for the suggested policy (the example's networkPolicy block has no spec): the
        # classes once, the pods of known controllers by one label selector per label key
        ("ingressclasses", None): 1,
        ("gatewayclasses", None): 1,
        ("gateways", None): 1,
        ("pods", None): len(pod_selectors()),
    }
    versions = [
        request.resource.version
        for request in kmock
        if request.resource is not None and request.resource.plural == "clusternetworkpolicies"
    ]
    assert versions == ["v1beta1", "v1alpha2"]


async def test_drift_without_connectivity_lists_only_the_policies(seeder) -> None:
    namespace = seeder.namespace()
    deploy = [EXAMPLE_VALUES, "--release", "production", "--namespace", namespace, "--project-id", "42"]

    result = await asyncio.to_thread(
        drift,
        *deploy,
        "--kubeconfig",
        seeder.kubeconfig,
        "--no-connectivity",
        "--format",
        "json",
        # both namespaces set: nothing to detect
        env={"NETPOL_INGRESS_NAMESPACE": "ingress-nginx", "NETPOL_MONITORING_NAMESPACE": "monitoring"},
    )

    assert result.exit_code == 1, result.output
    # one get of the namespace itself: a namespace that does not exist is an error, not "all missing"
    assert list_requests(seeder.kmock) == {
        ("get namespace", namespace): 1,
        ("networkpolicies", namespace): 1,
        ("ciliumnetworkpolicies", namespace): 1,
    }


async def test_a_values_file_with_its_own_spec_detects_nothing(seeder, tmp_path) -> None:
    namespace = seeder.namespace()
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  enabled: true\n  spec:\n    podSelector: {}\n    ingress: []\n")

    result = await asyncio.to_thread(
        drift,
        values,
        "-r",
        "production",
        "-n",
        namespace,
        "--kubeconfig",
        seeder.kubeconfig,
        "--no-connectivity",
    )

    assert result.exit_code == 1, result.output
    assert not {plural for plural, _ in list_requests(seeder.kmock)} & {"ingressclasses", "pods", "gateways"}
