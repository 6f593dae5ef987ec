"""``autodeploy-netpol render --chart DIR``: real Helm through the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autodeploy_netpol.desired.overlay import apply_overlay

pytestmark = pytest.mark.helm

FIXTURE_CHART = Path(__file__).resolve().parents[2] / "fixtures" / "charts" / "auto-deploy-app"

VALUES = (Path(__file__).resolve().parents[2] / "fixtures" / "values" / "extension.yaml").read_text()
DEPLOY = ["--release", "production", "--namespace", "shop-42-production", "--project-id", "42"]


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE_CHART, tmp_path / "chart"))


@pytest.fixture
def values(tmp_path: Path) -> Path:
    path = tmp_path / "auto-deploy-values.yaml"
    path.write_text(VALUES)
    return path


def test_real_helm_prints_what_the_model_prints(cli, chart, values):
    apply_overlay(chart)
    with_helm = cli("render", values, *DEPLOY, "--chart", chart)
    with_model = cli("render", values, *DEPLOY, "--chart-version", "2.39.0", "--overlays")
    assert with_helm.exit_code == 0, with_helm.output
    assert with_helm.stdout == with_model.stdout
    assert with_helm.stdout.count("kind: NetworkPolicy") == 4
    assert "name: production-auto-deploy-default-deny" in with_helm.stdout
    assert "app.gitlab.com/proj: '42'" in with_helm.stdout


def test_canary_track_renders_the_canary_release(cli, chart, values):
    apply_overlay(chart)
    result = cli("render", values, *DEPLOY, "--track", "canary", "--chart", chart, "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"name": "production-canary-auto-deploy"' in result.stdout
    assert '"app": "production"' in result.stdout


def test_a_chart_without_overlays_warns_that_helm_ignores_the_extension(cli, chart, values):
    result = cli("render", values, *DEPLOY, "--chart", chart)
    assert result.exit_code == 0
    assert "networkPolicy.policies.to-db is not deployed" in result.stderr
    assert "the chart overlays are not laid" in result.stderr
    assert "autodeploy-netpol overlay chart/" in result.stderr
    assert result.stdout.count("kind: NetworkPolicy") == 1  # only the chart's own


def test_a_template_error_exits_2_with_the_template_and_line(cli, chart, values):
    (chart / "templates" / "network-policy.yaml").write_text('{{ fail "no policies here" }}\n')
    result = cli("render", values, *DEPLOY, "--chart", chart)
    assert result.exit_code == 2
    assert f"{chart}/templates/network-policy.yaml:1:" in result.stderr
    assert "no policies here" in result.stderr
    assert "Traceback" not in result.output


def test_not_a_chart_exits_2(cli, tmp_path, values):
    result = cli("render", values, *DEPLOY, "--chart", tmp_path)
    assert result.exit_code == 2
    assert "no Chart.yaml" in result.stderr


def test_the_helm_cli_and_the_sdk_engines_print_the_same(cli, chart, values, helm_bin):
    # helm_bin: the pinned Helm 3 CLI, first on PATH for the session.
    apply_overlay(chart)
    with_cli = cli("render", values, *DEPLOY, "--chart", chart, "--engine", "helm-cli")
    with_sdk = cli("render", values, *DEPLOY, "--chart", chart, "--engine", "helm-python-sdk")
    assert with_cli.exit_code == 0, with_cli.output
    assert with_cli.stdout == with_sdk.stdout
    assert with_cli.stdout.count("kind: NetworkPolicy") == 4


def test_asking_for_the_helm_cli_without_one_exits_2(cli, chart, values, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # the suite puts the pinned helm on PATH: hide it
    result = cli("render", values, *DEPLOY, "--chart", chart, "--engine", "helm-cli")
    assert result.exit_code == 2
    assert "`helm` is not on PATH" in result.stderr


def test_without_any_helm_engine_the_error_names_both(chart, values, tmp_path):
    # A real process with no `helm` on PATH and helm_python made unimportable.
    program = "import sys; sys.modules['helm_python'] = None; from autodeploy_netpol.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", program, "render", str(values), *DEPLOY, "--chart", str(chart)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 2
    assert "no Helm engine available" in result.stderr
    assert "helm CLI" in result.stderr and "autodeploy-netpol[helm]" in result.stderr


def test_cilium_alerts_null_on_a_pre_2_40_chart_exits_2(cli, chart, tmp_path):
    # The 2.39 template reads .alerts.enabled; the chart's version, read from Chart.yaml, tells.
    apply_overlay(chart)
    values = tmp_path / "values.yaml"
    values.write_text("ciliumNetworkPolicy:\n  enabled: true\n  alerts: null\n")
    result = cli("render", values, *DEPLOY, "--chart", chart)
    assert result.exit_code == 2
    assert "alerts" in result.stderr and "Traceback" not in result.output


def test_a_chart_without_a_version_exits_2(cli, chart, values):
    (chart / "Chart.yaml").write_text("apiVersion: v1\nname: auto-deploy-app\n")
    result = cli("render", values, *DEPLOY, "--chart", chart)
    assert result.exit_code == 2
    assert "Chart.yaml has no version" in result.stderr


def test_api_versions_and_kube_version_reach_the_templates(cli, chart, tmp_path):
    template = chart / "templates" / "network-policy.yaml"
    gate = (
        '{{- if and .Values.networkPolicy.enabled (.Capabilities.APIVersions.Has "policy.example/v1")'
        ' (semverCompare "<1.25-0" .Capabilities.KubeVersion.Version) -}}'
    )
    template.write_text(template.read_text().replace("{{- if .Values.networkPolicy.enabled -}}", gate))
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  enabled: true\n")
    plain = cli("render", values, *DEPLOY, "--chart", chart)
    told = cli(
        "render",
        values,
        *DEPLOY,
        "--chart",
        chart,
        "--api-version",
        "policy.example/v1",
        "--kube-version",
        "v1.24.3",
    )
    assert plain.exit_code == told.exit_code == 0
    assert "kind: NetworkPolicy" not in plain.stdout
    assert "kind: NetworkPolicy" in told.stdout


def test_yaml_dates_elsewhere_in_the_values_file_reach_helm_as_text(cli, chart, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  enabled: true\npodAnnotations:\n  since: 2001-01-01\n")
    result = cli("render", values, *DEPLOY, "--chart", chart)
    assert result.exit_code == 0, result.output
    assert "name: production-auto-deploy" in result.stdout
