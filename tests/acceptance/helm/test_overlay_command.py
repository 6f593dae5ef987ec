"""``autodeploy-netpol overlay`` through the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autodeploy_netpol.cli import main

FIXTURE_CHART = Path(__file__).resolve().parents[2] / "fixtures" / "charts" / "auto-deploy-app"


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE_CHART, tmp_path / "chart"))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_overlay_reports_what_it_added_then_is_idempotent(chart):
    first = run("overlay", str(chart))
    assert first.exit_code == 0, first.output
    assert "added     templates/zz-netpol-network-policies.yaml" in first.output
    assert "skipped   templates/zz-netpol-cilium-network-policy.yaml" in first.output
    assert "3 files changed" in first.output
    second = run("overlay", str(chart))
    assert second.exit_code == 0
    assert "up to date" in second.output and "added" not in second.output


def test_overlay_json_report(chart):
    result = run("overlay", str(chart), "--format", "json")
    assert result.exit_code == 0
    files = {entry["path"]: entry["action"] for entry in json.loads(result.output)["files"]}
    assert files["templates/_netpol-overlay-helpers.tpl"] == "added"
    assert files["templates/zz-netpol-cilium-network-policy.yaml"] == "skipped"


def test_overlay_refuses_a_file_it_did_not_write_with_exit_2(chart):
    (chart / "templates" / "zz-netpol-cilium-policies.yaml").write_text("kind: ConfigMap\n")
    result = run("overlay", str(chart))
    assert result.exit_code == 2
    assert (
        "zz-netpol-cilium-policies.yaml: the file exists and was not written by autodeploy-netpol"
        in result.output
    )
    assert "hint:" in result.output
    assert "Traceback" not in result.output


def test_overlay_on_something_that_is_not_a_chart_exits_2(tmp_path):
    result = run("overlay", str(tmp_path))
    assert result.exit_code == 2
    assert "no Chart.yaml" in result.output


def test_overlay_help_has_examples():
    result = run("overlay", "--help")
    assert result.exit_code == 0
    assert "autodeploy-netpol overlay chart/" in result.output
