"""The plan predicts what real Helm 3 writes: ``helm upgrade`` against the emulator, after hand edits.

A chart written for this test renders the objects of its values. Release revision 1 is installed
with the real Helm 3 CLI (the suite's pinned one); people then edit the live objects (a label, an
annotation, a key of ``podSelector.matchLabels``, a list; a CiliumNetworkPolicy's rules); then the
plan is made from the live state, the new manifest and Helm's record of revision 1
(``--helm-history``), and ``helm upgrade`` runs. Every object Helm leaves must be the plan's
``after``, as normalized objects compare — so the three-way merge (NetworkPolicy) and Helm 3's
merge patch for custom resources are checked against Helm itself, not against a description.
(Helm computes its patch client-side; the emulator applies it as a merge patch, which for a
NetworkPolicy — no list has a merge key — is what the API server's strategic merge does.)
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from autodeploy_netpol.checks.diff import diff_policies
from autodeploy_netpol.checks.plan import Action, plan_deploy
from autodeploy_netpol.policy.normalize import normalize_policy
from autodeploy_netpol.sources.cluster import ClusterReader
from autodeploy_netpol.sources.helm_releases import ClusterHistory

pytestmark = [pytest.mark.live, pytest.mark.asyncio, pytest.mark.scripted]  # scripted: seeds hand edits in the emulator

RELEASE = "web"
PLURALS = {"NetworkPolicy": "networkpolicies", "CiliumNetworkPolicy": "ciliumnetworkpolicies"}

NETPOL: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "web-netpol", "labels": {"release": RELEASE}, "annotations": {"owner": "team-a"}},
    "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
    },
}
CILIUM: dict[str, Any] = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "web-cilium", "labels": {"release": RELEASE}},
    "spec": {
        "endpointSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "api"}}]}],
        "egress": [{"toEndpoints": [{"matchLabels": {"app": "db"}}]}],
    },
}
UNCHANGED: dict[str, Any] = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "web-dns", "labels": {"release": RELEASE}},
    "spec": {"endpointSelector": {}, "egress": [{"toEntities": ["cluster"]}]},
}


def _chart(root: Path) -> Path:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: objects\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("objects: []\n")
    (chart / "templates" / "objects.yaml").write_text(
        "{{- range .Values.objects }}\n---\n{{ toYaml . }}\n{{- end }}\n"
    )
    return chart


def _helm(binary: Path, kubeconfig: str, *args: str) -> None:
    environment = {**os.environ, "KUBECONFIG": kubeconfig, "HELM_CACHE_HOME": str(Path(kubeconfig).parent)}
    completed = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr


def _deploy(binary: Path, kubeconfig: str, chart: Path, namespace: str, objects: list[dict[str, Any]]) -> None:
    values = chart.parent / "values.yaml"
    values.write_text(yaml.safe_dump({"objects": objects}))
    _helm(
        binary,
        kubeconfig,
        "upgrade",
        "--install",
        RELEASE,
        str(chart),
        "--namespace",
        namespace,
        "--values",
        str(values),
        "--disable-openapi-validation",
    )


def _live(reader: ClusterReader, namespace: str) -> list[dict[str, Any]]:
    return list(reader.policies(namespace).objects)


def _by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects}


async def test_the_plans_after_is_what_helm_upgrade_leaves(seeder, helm_bin, tmp_path):
    namespace = seeder.namespace()
    # what Helm's REST mapper needs from discovery: kinds and verbs of what it writes
    verbs = ["get", "list", "watch", "create", "update", "patch", "delete"]
    for key, kind in (
        ("networking.k8s.io/v1/networkpolicies", "NetworkPolicy"),
        ("cilium.io/v2/ciliumnetworkpolicies", "CiliumNetworkPolicy"),
        ("v1/secrets", "Secret"),
    ):
        seeder.kmock.resources[key] = {"kind": kind, "namespaced": True, "verbs": verbs}
    kubeconfig = seeder.kubeconfig
    chart = _chart(tmp_path)
    # the emulator answers on this event loop: everything that talks to it runs in a thread
    await asyncio.to_thread(_deploy, helm_bin, kubeconfig, chart, namespace, [NETPOL, CILIUM, UNCHANGED])
    reader = seeder.reader()

    # people edit the live objects
    live = _by_name(await asyncio.to_thread(_live, reader, namespace))
    edited_netpol = copy.deepcopy(live["web-netpol"])
    edited_netpol["metadata"]["labels"]["team"] = "payments"
    edited_netpol["metadata"]["annotations"]["note"] = "reviewed"
    edited_netpol["spec"]["podSelector"]["matchLabels"]["extra"] = "by-hand"
    edited_netpol["spec"]["ingress"] = [{"from": [{"namespaceSelector": {}}]}]
    edited_cilium = copy.deepcopy(live["web-cilium"])
    edited_cilium["spec"]["ingress"] = [{"fromEntities": ["world"]}]
    edited_cilium["metadata"]["labels"]["team"] = "payments"
    edited_unchanged = copy.deepcopy(live["web-dns"])
    edited_unchanged["spec"]["egress"] = [{"toEntities": ["world"]}]
    for edited in (edited_netpol, edited_cilium, edited_unchanged):
        # stored whole (a GET of one object carries apiVersion and kind; Helm reads them)
        group, _, version = edited["apiVersion"].rpartition("/")
        resource = seeder.kmock.resource(group, version, PLURALS[edited["kind"]])
        seeder.kmock.objects[resource, namespace, edited["metadata"]["name"]] = edited

    # the new values: the NetworkPolicy loses its annotation and gets another ingress; the
    # CiliumNetworkPolicy another egress; the third is unchanged
    new_netpol = copy.deepcopy(NETPOL)
    del new_netpol["metadata"]["annotations"]
    new_netpol["spec"]["ingress"] = [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]}]
    new_cilium = copy.deepcopy(CILIUM)
    new_cilium["spec"]["egress"] = [{"toEndpoints": [{"matchLabels": {"app": "cache"}}]}]
    # objects made by hand with Helm's ownership metadata, which the new values render too: Helm
    # adopts them (not in its record: the new manifest counts as the previous one)
    owned = {
        "labels": {"app.kubernetes.io/managed-by": "Helm", "team": "payments"},
        "annotations": {"meta.helm.sh/release-name": RELEASE, "meta.helm.sh/release-namespace": namespace},
    }
    adopted_netpol = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web-adopted", "namespace": namespace, **copy.deepcopy(owned)},
        "spec": {"podSelector": {"matchLabels": {"app": "old", "extra": "x"}}, "policyTypes": ["Egress"]},
    }
    adopted_cilium = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "web-adopted-cilium", "namespace": namespace, **copy.deepcopy(owned)},
        "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["world"]}]},
    }
    for adopted in (adopted_netpol, adopted_cilium):
        group, _, version = adopted["apiVersion"].rpartition("/")
        resource = seeder.kmock.resource(group, version, PLURALS[adopted["kind"]])
        seeder.kmock.objects[resource, namespace, adopted["metadata"]["name"]] = adopted
    want_netpol = copy.deepcopy(NETPOL)
    want_netpol["metadata"] = {"name": "web-adopted", "labels": {"release": RELEASE}}
    want_cilium = copy.deepcopy(CILIUM)
    want_cilium["metadata"] = {"name": "web-adopted-cilium", "labels": {"release": RELEASE}}
    desired = [new_netpol, new_cilium, UNCHANGED, want_netpol, want_cilium]

    before = await asyncio.to_thread(_live, reader, namespace)
    history = ClusterHistory(reader)
    record = await asyncio.to_thread(history, namespace, RELEASE)
    assert record is not None and len(record) == 3
    plan = plan_deploy(
        desired, before, namespace=namespace, releases=[RELEASE], history=lambda ns, release: record
    )
    predicted = {entry.name: entry for entry in plan.entries}
    assert {name: entry.action for name, entry in predicted.items()} == {
        "web-netpol": Action.CHANGE,
        "web-cilium": Action.CHANGE,
        "web-dns": Action.KEEP,  # Helm 3 sends an empty merge patch: the hand edit stays
        "web-adopted": Action.CHANGE,
        "web-adopted-cilium": Action.KEEP,  # adopted custom resource: Helm 3 leaves it as it is
    }

    await asyncio.to_thread(_deploy, helm_bin, kubeconfig, chart, namespace, desired)
    after = _by_name(await asyncio.to_thread(_live, reader, namespace))
    for name, entry in predicted.items():
        assert entry.after is not None
        want = normalize_policy(entry.after, namespace=namespace)
        got = normalize_policy(after[name], namespace=namespace)
        changes, _ = diff_policies(want, got)
        assert changes == (), f"{name}: predicted {json.dumps(entry.after)[:600]}\nhelm left {json.dumps(after[name])[:600]}"

    # what that means, spelled out
    netpol = after["web-netpol"]
    assert netpol["metadata"]["labels"]["team"] == "payments"  # someone else's: kept
    assert netpol["metadata"]["annotations"]["note"] == "reviewed"  # kept
    assert "owner" not in netpol["metadata"]["annotations"]  # the previous release's: removed
    assert netpol["spec"]["podSelector"]["matchLabels"] == {"app": "web", "extra": "by-hand"}
    assert netpol["spec"]["ingress"] == new_netpol["spec"]["ingress"]  # a list: replaced
    cilium = after["web-cilium"]
    assert cilium["spec"]["ingress"] == [{"fromEntities": ["world"]}]  # the values did not change it
    assert cilium["spec"]["egress"] == new_cilium["spec"]["egress"]
    assert after["web-dns"]["spec"]["egress"] == [{"toEntities": ["world"]}]
    assert after["web-adopted"]["spec"]["podSelector"]["matchLabels"] == {"app": "web", "extra": "x"}
    assert after["web-adopted-cilium"]["spec"] == adopted_cilium["spec"]
