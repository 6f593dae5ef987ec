"""Ingress controller and monitoring stack detection against the cluster, over real HTTP (issue 15).

The suggested policy must admit the namespace the cluster's ingress controller runs in (not
GitLab's long-gone ``gitlab-managed-apps``) and, when the app exposes metrics, the monitoring
stack's; each finding is reported with its evidence. Runs on the emulator and, with --kubeconfig,
on a real cluster (where the throw-away namespaces carry generated names).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_drift_from_cluster import CLEAN_ENV

from autodeploy_netpol.cli import main

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

VALUES = """\
prometheus:
  metrics: true
service:
  internalPort: 8080
networkPolicy:
  enabled: true
"""


def run(*args: Any, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, [*map(str, args)], env={**CLEAN_ENV, "NO_COLOR": "1", **(env or {})}, catch_exceptions=False
    )


def pod(namespace: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "registry.example/c:1"}]},
    }


def seed_platform(seeder) -> tuple[str, str, str]:
    """An app namespace, an ingress-nginx install (IngressClass + controller pod) and Prometheus."""
    app, ingress, monitoring = seeder.namespace(), seeder.namespace(), seeder.namespace()
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {
                "name": f"nginx-{ingress}",
                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            },
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
    )
    seeder.add(pod(ingress, "ingress-nginx-controller-7f9c", {"app.kubernetes.io/name": "ingress-nginx"}))
    seeder.add(pod(monitoring, "prometheus-k8s-0", {"app.kubernetes.io/name": "prometheus"}))
    return app, ingress, monitoring


def suggested_spec(report: dict[str, Any]) -> dict[str, Any]:
    [entry] = [e for e in report["drift"] if e["name"] == "production-auto-deploy"]
    return entry["spec"]


async def test_drift_admits_the_detected_ingress_and_monitoring_namespaces(seeder, tmp_path: Path) -> None:
    app, ingress, monitoring = seed_platform(seeder)
    values = tmp_path / "values.yaml"
    values.write_text(VALUES)

    result = await asyncio.to_thread(
        run,
        "drift",
        values,
        "-r",
        "production",
        "-n",
        app,
        "--kubeconfig",
        seeder.kubeconfig,
        "--format",
        "json",
    )

    assert result.exit_code == 1, result.output  # the policy is missing: drift
    report = json.loads(result.stdout)
    spec = suggested_spec(report)
    admitted = [
        peer["namespaceSelector"]["matchLabels"]
        for rule in spec["ingress"]
        for peer in rule["from"]
        if "namespaceSelector" in peer
    ]
    assert {"kubernetes.io/metadata.name": ingress} in admitted
    assert {"kubernetes.io/metadata.name": monitoring} in admitted
    [metrics_rule] = [rule for rule in spec["ingress"] if rule.get("ports")]
    assert metrics_rule["ports"] == [{"port": 8080, "protocol": "TCP"}]
    notes = "\n".join(report["notes"])
    assert (
        f"ingress controller detected: ingress-nginx in namespace {ingress} (IngressClass nginx-{ingress} "
        f"(the default class) names controller k8s.io/ingress-nginx; 1 pod labelled "
        f"app.kubernetes.io/name=ingress-nginx in namespace {ingress})" in notes
    )
    assert f"monitoring stack detected: Prometheus in namespace {monitoring}" in notes
    assert "no NETPOL_INGRESS_NAMESPACE is set" not in result.stderr  # nothing left to warn about


async def test_a_variable_wins_over_detection(seeder, tmp_path: Path) -> None:
    app, ingress, _ = seed_platform(seeder)
    values = tmp_path / "values.yaml"
    values.write_text(VALUES)

    result = await asyncio.to_thread(
        run,
        "drift",
        values,
        "-r",
        "production",
        "-n",
        app,
        "--kubeconfig",
        seeder.kubeconfig,
        "--format",
        "json",
        env={"NETPOL_INGRESS_NAMESPACE": "traefik"},
    )

    report = json.loads(result.stdout)
    text = json.dumps(suggested_spec(report))
    assert '"kubernetes.io/metadata.name": "traefik"' in text and ingress not in text


async def test_without_a_controller_the_default_is_admitted_with_a_warning(seeder, tmp_path: Path) -> None:
    app = seeder.namespace()
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  enabled: true\n")

    result = await asyncio.to_thread(
        run,
        "drift",
        values,
        "-r",
        "production",
        "-n",
        app,
        "--kubeconfig",
        seeder.kubeconfig,
        "--format",
        "json",
    )

    report = json.loads(result.stdout)
    assert '"kubernetes.io/metadata.name": "ingress-nginx"' in json.dumps(suggested_spec(report))
    assert "no ingress controller detected" in "\n".join(report["notes"])
    assert "admits the ingress controller from namespace ingress-nginx, the default" in result.stderr
    assert "must exist" in result.stderr


async def test_lint_reads_the_cluster_and_warns_when_the_scraper_is_cut_off(seeder, tmp_path: Path) -> None:
    app, ingress, monitoring = seed_platform(seeder)
    seeder.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": app},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {
                        "labels": {"app": "web"},
                        "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9102"},
                    },
                    "spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]},
                },
            },
        }
    )
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web", "namespace": app},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ingress}}}
                        ]
                    }
                ],
            },
        }
    )

    result = await asyncio.to_thread(run, "lint", "-A", "--kubeconfig", seeder.kubeconfig, "--format", "json")

    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    [cut] = [f for f in findings if f["check"] == "monitoring-cannot-scrape"]
    assert (
        f"{app}/web: the monitoring stack in namespace {monitoring} cannot scrape TCP 9102" in cut["message"]
    )
    assert not [f for f in findings if f["check"].startswith("ingress-namespace")]
    assert f"ingress controller detected: ingress-nginx in namespace {ingress}" in result.stderr


async def test_lint_of_one_namespace_detects_the_controller_in_another(seeder) -> None:
    app, ingress, _ = seed_platform(seeder)
    seeder.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web", "namespace": app},
            "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]},
        }
    )
    seeder.add(pod(app, "web-1", {"app": "web"}))

    result = await asyncio.to_thread(run, "lint", "-n", app, "--kubeconfig", seeder.kubeconfig)

    assert (
        f"note: ingress controller detected: ingress-nginx in namespace {ingress} (IngressClass nginx-{ingress} "
        "(the default class) names controller k8s.io/ingress-nginx;" in result.stderr
    )
    assert (
        f"error[ingress-namespace-cannot-reach] {app}/web: {app}/web-1: no pod in the ingress controller's namespace {ingress}"
        in result.stdout
    )
    assert result.exit_code == 1
