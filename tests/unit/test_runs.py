"""The use cases in runs/: one read of each input per run, shared by every check."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest

from autodeploy_netpol.desired.compute import DeployContext
from autodeploy_netpol.desired.values import ValuesPath
from autodeploy_netpol.errors import ClusterError, ExitCode
from autodeploy_netpol.runs import inputs as run_inputs
from autodeploy_netpol.runs.connectivity import run_diff
from autodeploy_netpol.runs.drift import DesiredFromValues, DriftRequest, run_drift
from autodeploy_netpol.runs.inputs import LiveInput
from autodeploy_netpol.sources.live import Listing, LiveScope, read_live

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
VALUES = ValuesPath(str(EXAMPLE / ".gitlab" / "auto-deploy-values.yaml"))
SNAPSHOT = EXAMPLE / "live-snapshot.yaml"
CONTEXT = DeployContext(release="production", namespace="shop-42-production", project_id="42")


def test_drift_reads_the_live_state_once_and_no_check_changes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Any] = []
    real = run_inputs.read_live

    def counting(*args: Any, **kwargs: Any) -> Any:
        snapshot = real(*args, **kwargs)
        reads.append((snapshot, copy.deepcopy([item.data for item in snapshot.manifests])))
        return snapshot

    monkeypatch.setattr(run_inputs, "read_live", counting)
    run = run_drift(
        DriftRequest(DesiredFromValues(VALUES, CONTEXT), LiveInput((str(SNAPSHOT),)), helm_history=True)
    )
    assert run.exit_code == ExitCode.FINDINGS
    assert run.report.connectivity is not None and run.report.connectivity["verdict"] == "changes"
    [(snapshot, before)] = reads  # one read, shared by drift, ownership, history and connectivity
    assert [item.data for item in snapshot.manifests] == before


def test_drift_from_standard_input_has_its_connectivity_section() -> None:
    # The snapshot on standard input is read once: the connectivity section is analysed too (it
    # used to say "--live - (standard input) is read once: no connectivity").
    stdin = io.BytesIO(SNAPSHOT.read_bytes())
    from_stdin = run_drift(DriftRequest(DesiredFromValues(VALUES, CONTEXT), LiveInput(("-",))), stdin=stdin)
    from_file = run_drift(DriftRequest(DesiredFromValues(VALUES, CONTEXT), LiveInput((str(SNAPSHOT),))))
    assert from_stdin.report.live_source == "<stdin>"
    assert from_stdin.report.connectivity == from_file.report.connectivity
    assert from_stdin.report.drift == from_file.report.drift


def test_diff_reads_standard_input_once_for_both_sides(tmp_path: Path) -> None:
    deny_all = tmp_path / "deny-all.yaml"
    deny_all.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-all, namespace: shop}\nspec: {podSelector: {}}\n"
    )
    workload = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec: {template: {metadata: {labels: {app: web}}}}\n"
    )
    run = run_diff(["-"], ["-", str(deny_all)], stdin=io.BytesIO(workload.encode()))
    # both sides hold the workload: the second '-' got the same text, not an empty stream
    assert run.exit_code == ExitCode.FINDINGS
    assert {record.as_dict()["dst"] for record in run.diff.removed.connections()} == {"shop/web"}


class Lister:
    """A cluster reader that lists from memory and refuses some kinds, as RBAC would."""

    def __init__(self, forbidden: set[str]) -> None:
        self.forbidden = forbidden
        self.calls: list[str] = []

    def _listing(self, what: str, objects: list[dict[str, Any]]) -> Listing:
        self.calls.append(what)
        if what in self.forbidden:
            raise ClusterError(f"cannot list {what}: access denied (HTTP 403)")
        return Listing(objects, "cluster test, namespace 'shop'")

    def policies(self, namespace: str | None) -> Listing:
        policy = {"kind": "NetworkPolicy", "metadata": {"name": "web", "namespace": "shop"}, "spec": {}}
        return self._listing("policies", [policy])

    def clusterwide_policies(self) -> Listing:
        return self._listing("clusterwide", [])

    def cluster_policies(self) -> Listing:
        return self._listing("tiers", [])

    def networks(self, namespace: str | None) -> Listing:
        return self._listing("networks", [])

    def namespaces(self) -> Listing:
        return self._listing("namespaces", [{"kind": "Namespace", "metadata": {"name": "shop"}}])

    def workloads(self, namespace: str | None) -> Listing:
        return self._listing("workloads", [])

    def pods(self, namespace: str | None) -> Listing:
        return self._listing("pods", [])

    def namespace(self, name: str) -> dict[str, Any] | None:
        self.calls.append(f"get namespace {name}")
        if "get namespace" in self.forbidden:
            raise ClusterError(f"cannot get namespace {name}: access denied (HTTP 403)")
        return {"kind": "Namespace", "metadata": {"name": name}} if name == "shop" else None


def test_the_cluster_snapshot_says_what_could_not_be_read_and_why() -> None:
    lister = Lister({"namespaces", "pods", "tiers"})
    live = read_live(lister, LiveScope("shop", context=True, pods=True))
    # the namespaces are listed first (they also say whether "shop" exists); forbidden, a get does
    assert lister.calls == [
        "namespaces",
        "get namespace shop",
        "policies",
        "clusterwide",
        "tiers",
        "networks",
        "workloads",
        "pods",
    ]
    assert [item.kind for item in live.manifests] == ["NetworkPolicy"]
    assert live.unread_notes() == [
        "namespaces not read from the cluster (cannot list namespaces: access denied (HTTP 403)); "
        "evaluated without them",
        "cluster-scoped policy tiers (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) not "
        "read from the cluster (cannot list tiers: access denied (HTTP 403)); evaluated without them: an Admin-tier "
        "Deny or a Baseline-tier rule may change the result",
        "pods not read from the cluster (cannot list pods: access denied (HTTP 403)); workloads stand for them",
    ]
    assert str(live.manifests[0].locate(("spec",))) == "cluster test, namespace 'shop'"
    assert not live.from_snapshot and not live.has_namespaces


def test_unreadable_policies_fail_the_run() -> None:
    with pytest.raises(ClusterError, match="cannot list policies"):
        read_live(Lister({"policies"}), LiveScope("shop"))


def test_a_policies_only_scope_lists_nothing_else() -> None:
    lister = Lister(set())
    read_live(lister, LiveScope("shop"))
    assert lister.calls == ["get namespace shop", "policies"]


def test_a_namespace_that_does_not_exist_is_an_error_before_any_list() -> None:
    from autodeploy_netpol.sources.live import NamespaceNotFound

    lister = Lister(set())
    with pytest.raises(NamespaceNotFound, match="namespace shp not found; namespaces you can read: shop"):
        read_live(lister, LiveScope("shp"))
    assert lister.calls == ["get namespace shp", "namespaces"]


def test_a_namespace_nobody_may_read_is_checked_no_further() -> None:
    lister = Lister({"namespaces", "get namespace"})
    live = read_live(lister, LiveScope("shop"))
    assert live.notes == (
        "could not check that namespace shop exists: namespaces were not listed, and cannot get namespace shop: "
        "access denied (HTTP 403)",
    )
