"""Read tests: seed objects, read them back through the real reader over HTTP.

They run against the kmock emulator, and unchanged against a real cluster with --kubeconfig.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from autodeploy_netpol.kube.names import CILIUM_NETWORK_POLICY, NETWORK_POLICY
from autodeploy_netpol.sources.cluster import NETWORK_POLICIES

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


def network_policy(namespace: str, name: str, app: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
        },
        "spec": {
            "podSelector": {"matchLabels": {"app": app}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": app}}}]}],
        },
    }


def cilium_policy(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "web"}}]}],
        },
    }


def names(objects: list[dict[str, Any]], namespace: str, kind: str | None = None) -> set[str]:
    return {
        item["metadata"]["name"]
        for item in objects
        if item["metadata"].get("namespace") == namespace and (kind is None or item["kind"] == kind)
    }


async def test_reads_the_network_policies_of_one_namespace_as_the_api_serves_them(seeder) -> None:
    team, other = seeder.namespace(), seeder.namespace()
    seeder.add(network_policy(team, "web"))
    seeder.add(network_policy(team, "web-allow-ingress"))
    seeder.add(network_policy(other, "elsewhere"))

    state = await asyncio.to_thread(seeder.reader().policies, team)

    assert {item["metadata"]["namespace"] for item in state.objects} == {team}
    assert names(state.objects, team, NETWORK_POLICY) == {"web", "web-allow-ingress"}
    web = next(item for item in state.objects if item["metadata"]["name"] == "web")
    assert web["apiVersion"] == "networking.k8s.io/v1"
    assert web["kind"] == NETWORK_POLICY
    # API field names, not the Python client's snake_case models.
    assert web["spec"]["podSelector"] == {"matchLabels": {"app": "web"}}
    assert web["spec"]["policyTypes"] == ["Ingress"]
    assert "pod_selector" not in web["spec"]
    assert f"namespace '{team}'" in state.source


async def test_all_namespaces_lists_policies_everywhere(seeder) -> None:
    first, second = seeder.namespace(), seeder.namespace()
    seeder.add(network_policy(first, "one"))
    seeder.add(network_policy(second, "two"))

    state = await asyncio.to_thread(seeder.reader().policies, None)

    assert names(state.objects, first) == {"one"}
    assert names(state.objects, second) == {"two"}
    assert "all namespaces" in state.source


async def test_small_pages_still_return_every_policy(seeder) -> None:
    team = seeder.namespace()
    for index in range(5):
        seeder.add(network_policy(team, f"policy-{index}"))

    objects = await asyncio.to_thread(seeder.reader(page_size=2).list, NETWORK_POLICIES, team)

    assert names(objects, team) == {f"policy-{index}" for index in range(5)}


async def test_cilium_network_policies_are_read_with_the_network_policies(seeder) -> None:
    if not seeder.serves_cilium():
        pytest.skip("the cluster under test has no Cilium CRD")
    team = seeder.namespace()
    seeder.add(network_policy(team, "web"))
    seeder.add(cilium_policy(team, "web-l7"))

    state = await asyncio.to_thread(seeder.reader().policies, team)

    assert names(state.objects, team, CILIUM_NETWORK_POLICY) == {"web-l7"}
    assert names(state.objects, team, NETWORK_POLICY) == {"web"}
    cilium = next(item for item in state.objects if item["kind"] == CILIUM_NETWORK_POLICY)
    assert cilium["apiVersion"] == "cilium.io/v2"
    assert cilium["spec"]["endpointSelector"] == {"matchLabels": {"app": "web"}}
    assert state.notes == []


async def test_cilium_clusterwide_policies_are_read_at_the_cluster_scope(seeder) -> None:
    if not seeder.serves_cilium():
        pytest.skip("the cluster under test has no Cilium CRD")
    name = f"deny-world-{seeder.namespace()}"
    seeder.add(
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"endpointSelector": {}, "egressDeny": [{"toEntities": ["world"]}]},
        }
    )

    state = await asyncio.to_thread(seeder.reader().clusterwide_policies)

    ours = [item for item in state.objects if item["metadata"]["name"] == name]
    assert len(ours) == 1
    assert ours[0]["kind"] == "CiliumClusterwideNetworkPolicy" and ours[0]["apiVersion"] == "cilium.io/v2"
    assert ours[0]["spec"]["egressDeny"] == [{"toEntities": ["world"]}]
    assert "namespace" not in ours[0]["metadata"]
    assert state.notes == []


async def test_pods_namespaces_and_workloads_for_the_connectivity_engine(seeder) -> None:
    team = seeder.namespace(labels={"team": "payments"})
    labels = {"app": "web"}
    seeder.add(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": team, "labels": labels},
            "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9"}]},
        }
    )
    seeder.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": team, "labels": labels},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9"}]},
                },
            },
        }
    )
    reader = seeder.reader()

    pods = await asyncio.to_thread(reader.pods, team)
    namespaces = await asyncio.to_thread(reader.namespaces)
    workloads = await asyncio.to_thread(reader.workloads, team)

    assert names(pods.objects, team) == {"web-0"}
    assert pods.objects[0]["kind"] == "Pod" and pods.objects[0]["apiVersion"] == "v1"
    assert pods.objects[0]["metadata"]["labels"] == labels
    namespace = next(item for item in namespaces.objects if item["metadata"]["name"] == team)
    assert namespace["kind"] == "Namespace"
    assert namespace["metadata"]["labels"]["team"] == "payments"
    assert namespace["metadata"]["labels"]["kubernetes.io/metadata.name"] == team
    deployments = [item for item in workloads.objects if item["kind"] == "Deployment"]
    assert names(deployments, team) == {"web"}
    assert deployments[0]["apiVersion"] == "apps/v1"
    assert deployments[0]["spec"]["template"]["metadata"]["labels"] == labels


async def test_one_secret_is_read_and_a_missing_one_is_none(seeder) -> None:
    team = seeder.namespace()
    seeder.add(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "sh.helm.release.v1.web.v3", "namespace": team, "labels": {"owner": "helm"}},
            "type": "helm.sh/release.v1",
            "data": {"release": "SDRzSUFBQUFBQUFBLw=="},
        }
    )
    reader = seeder.reader()

    secret = await asyncio.to_thread(reader.secret, team, "sh.helm.release.v1.web.v3")
    missing = await asyncio.to_thread(reader.secret, team, "sh.helm.release.v1.web.v4")

    assert secret is not None
    assert secret["kind"] == "Secret"
    assert secret["type"] == "helm.sh/release.v1"
    assert secret["data"] == {"release": "SDRzSUFBQUFBQUFBLw=="}
    assert missing is None
