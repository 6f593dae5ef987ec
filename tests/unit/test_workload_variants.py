"""Pods are grouped only when they are alike for every policy: a workload whose pods differ is
split into named variants (never a union stated as true for all); static pods stay pods of their
own; ReplicationControllers are workloads; directories are read recursively."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from autodeploy_netpol.cli import main
from autodeploy_netpol.policy import Model
from autodeploy_netpol.policy.analysis import analyse


def pod(name: str, labels: dict[str, str], owner: tuple[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "shop", "labels": labels}
    if owner is not None:
        metadata["ownerReferences"] = [
            {"apiVersion": "v1", "kind": owner[0], "name": owner[1], "controller": True}
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata}


CLIENT = pod("client", {"app": "client"})
#: only pods with version=v2 accept the client
V2_ONLY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}], "ports": [{"port": 80}]}],
    },
}
OPEN_V2 = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "v2", "namespace": "shop"},
    "spec": {"podSelector": {"matchLabels": {"version": "v2"}}, "ingress": [{}]},
}


def lines(objects: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {
        (src, dst): allowed for src, dst, allowed in analyse(Model.from_objects(objects)).merged().lines()
    }


def test_a_rolling_update_is_two_variants_named_by_what_differs() -> None:
    old = pod(
        "web-aaa-1", {"app": "web", "version": "v1", "pod-template-hash": "aaa"}, ("ReplicaSet", "web-aaa")
    )
    new = pod(
        "web-bbb-1", {"app": "web", "version": "v2", "pod-template-hash": "bbb"}, ("ReplicaSet", "web-bbb")
    )
    connections = lines([CLIENT, old, new, V2_ONLY, OPEN_V2])
    assert connections[("shop/client", "shop/web[pods with version=v1]")] == "TCP 80"
    assert connections[("shop/client", "shop/web[pods with version=v2]")] == "all"
    assert not any(dst == "shop/web" for _, dst in connections)  # never one union for both


def test_pods_no_policy_tells_apart_are_one_workload() -> None:
    # the revision hash differs, but no policy reads it: alike for every policy
    old = pod("web-aaa-1", {"app": "web", "pod-template-hash": "aaa"}, ("ReplicaSet", "web-aaa"))
    new = pod("web-bbb-1", {"app": "web", "pod-template-hash": "bbb"}, ("ReplicaSet", "web-bbb"))
    assert lines([CLIENT, old, new, V2_ONLY])[("shop/client", "shop/web")] == "TCP 80"


def test_replicas_that_are_alike_are_one_workload() -> None:
    replicas = [
        pod(
            f"web-aaa-{n}",
            {"app": "web", "version": "v2", "pod-template-hash": "aaa"},
            ("ReplicaSet", "web-aaa"),
        )
        for n in range(3)
    ]
    assert lines([CLIENT, *replicas, V2_ONLY])[("shop/client", "shop/web")] == "TCP 80"


def test_static_pods_of_a_node_stay_pods_of_their_own() -> None:
    etcd = pod("etcd-node1", {"component": "etcd"}, ("Node", "node1"))
    api = pod("kube-apiserver-node1", {"component": "kube-apiserver"}, ("Node", "node1"))
    names = {src for src, _ in lines([CLIENT, etcd, api])}
    assert {"shop/etcd-node1", "shop/kube-apiserver-node1"} <= names and "shop/node1" not in names


def test_a_replication_controller_is_a_workload() -> None:
    controller = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "legacy", "namespace": "shop"},
        "spec": {"template": {"metadata": {"labels": {"app": "web", "version": "v2"}}}},
    }
    assert lines([CLIENT, controller, V2_ONLY, OPEN_V2])[("shop/client", "shop/legacy")] == "all"


def test_a_directory_is_read_recursively(tmp_path: Path) -> None:
    nested = tmp_path / "cluster" / "shop" / "deep"
    nested.mkdir(parents=True)
    (tmp_path / "cluster" / "client.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: shop, labels: {app: client}}\n"
    )
    (nested / "web.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\n"
    )
    result = CliRunner().invoke(main, ["connectivity", str(tmp_path / "cluster")])
    assert result.exit_code == 0, result.output
    assert "shop/client => shop/web : all" in result.output and "2 workloads" in result.output


# --- a workload's fields of any type (hostile files): never an internal error --------------------

#: Every path inside a workload the engine reads (labels, owners, named ports), per kind.
_WORKLOAD_PATHS: dict[str, list[tuple[Any, ...]]] = {
    "Deployment": [
        ("metadata",),
        ("spec",),
        ("spec", "template"),
        ("spec", "template", "metadata"),
        ("spec", "template", "metadata", "labels"),
        ("spec", "template", "spec"),
        ("spec", "template", "spec", "containers"),
        ("spec", "template", "spec", "containers", 0),
        ("spec", "template", "spec", "containers", 0, "ports"),
        ("spec", "template", "spec", "containers", 0, "ports", 0),
        ("spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"),
        ("spec", "template", "spec", "initContainers"),
    ],
    "CronJob": [("spec", "jobTemplate"), ("spec", "jobTemplate", "spec"), ("spec", "jobTemplate", "spec", "template")],
    "Pod": [("metadata", "ownerReferences"), ("metadata", "ownerReferences", 0), ("spec", "containers")],
    "VirtualMachine": [
        ("spec", "template", "spec", "domain"),
        ("spec", "template", "spec", "domain", "devices"),
        ("spec", "template", "spec", "domain", "devices", "interfaces"),
        ("spec", "template", "spec", "domain", "devices", "interfaces", 0, "ports"),
        ("spec", "template", "spec", "domain", "devices", "interfaces", 0, "ports", 0, "port"),
    ],
}


def _workload(kind: str) -> dict[str, Any]:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
    }
    if kind == "Pod":
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "shop", "labels": {"app": "web"}, "ownerReferences": [
                {"kind": "ReplicaSet", "name": "web-1", "controller": True}
            ]},
            "spec": template["spec"],
        }
    if kind == "CronJob":
        return {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "c", "namespace": "shop"},
            "spec": {"jobTemplate": {"spec": {"template": template}}},
        }
    if kind == "VirtualMachine":
        vm_template = {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"domain": {"devices": {"interfaces": [{"name": "i", "ports": [{"name": "http", "port": 80}]}]}}},
        }
        return {
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": {"name": "vm", "namespace": "shop"},
            "spec": {"template": vm_template},
        }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "w", "namespace": "shop"},
        "spec": {"template": template},
    }


def _put(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


_ANY_VALUE = [None, True, False, 0, -1, 1.5, float("inf"), "", "x", "8080", [], [1], ["a"], {}, {"a": 1}, [{}], [[]]]


def test_a_workload_field_of_any_type_is_read_as_absent_never_an_internal_error() -> None:
    """Each path the engine reads, given every type a YAML or JSON file can hold there: the model
    is built and analysed (the field counts as absent), no exception escapes (exit 70 before: a
    container's ``ports: true`` was "'bool' object is not iterable")."""
    cases = 0
    for kind, paths in _WORKLOAD_PATHS.items():
        for path in paths:
            for value in _ANY_VALUE:
                workload = _workload(kind)
                _put(workload, path, value)
                analyse(Model.from_objects([CLIENT, V2_ONLY, workload]))
                cases += 1
    assert cases == sum(len(paths) for paths in _WORKLOAD_PATHS.values()) * len(_ANY_VALUE)


def test_named_ports_of_well_formed_workloads_are_still_read() -> None:
    from autodeploy_netpol.policy.inventory import workload_of

    for kind in _WORKLOAD_PATHS:
        workload = workload_of(_workload(kind), "shop")
        assert workload is not None, kind
        assert [port[0] for port in workload.named_ports] == ["http"], kind
        assert workload.label_map.get("app") == "web", kind
