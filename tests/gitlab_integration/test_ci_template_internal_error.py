"""The CI template fails the job when the tool exits 70 (an internal error): no verdict is no pass.

Before exit code 70 existed an unexpected exception exited 1, which the template takes for "drift
found" and passes. A shim on PATH makes one command exit 70 the way the tool does (one line on
standard error); the template's own shell decides the job's fate.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, IID, PROJECT
from fake_gitlab import FakeGitLab
from gcl import ROOT
from test_ci_template import SHOP_VALUES, run_job, write_values


def crashing_tool(directory: Path, command: str) -> str:
    """A PATH whose autodeploy-netpol exits 70 for ``command`` and runs the real tool otherwise."""
    directory.mkdir()
    shim = directory / "autodeploy-netpol"
    real = Path(sys.executable).parent / "autodeploy-netpol"
    shim.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "{command}" ]; then echo "internal error: RuntimeError: boom" >&2; exit 70; fi\n'
        f'exec "{real}" "$@"\n'
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return f"{directory}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin"


@pytest.mark.parametrize("command", ["drift", "audit"])
def test_an_internal_error_fails_the_drift_job(tmp_path: Path, fake: FakeGitLab, command: str) -> None:
    write_values(tmp_path, SHOP_VALUES)
    flows = tmp_path / "flows.jsonl"
    flows.write_text((Path(__file__).parents[1] / "data" / "audit" / "hubble-flows.jsonl").read_text())
    variables = {
        "NETPOL_LIVE_SNAPSHOT": str(ROOT / "examples" / "shop" / "live-snapshot.yaml"),
        "KUBE_NAMESPACE": "shop-42-production",
        "CI_PROJECT_ID": PROJECT,
        "CI_PROJECT_PATH": "shop/api",
        "CI_MERGE_REQUEST_IID": str(IID),
        "CI_API_V4_URL": fake.api_url,
        "NETPOL_GITLAB_TOKEN": BOT_TOKEN,
        "NETPOL_FLOWS": str(flows),
        "PATH": crashing_tool(tmp_path / "bin", command),
    }

    result = run_job("netpol:drift:production", tmp_path, **variables)

    assert result.returncode == 70, result.stdout + result.stderr
    assert "internal error" in result.stderr
    assert fake.notes_of(PROJECT, IID) == []  # no comment claims a verdict
