"""The import budget: `validate`, `render` and `suggest` never import the Kubernetes client,
python-gitlab, the Helm engine or the connectivity engine; a valid file not even jsonschema.

Start-up is most of what these commands cost in a pipeline (bench/peers.py measures them against
`helm template`), so each runs through the real CLI entry point in a fresh interpreter, which then
reports what it imported.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
INVALID = Path(__file__).parents[2] / "tests" / "fixtures" / "bad-values" / "cidr-invalid.yaml"
#: top-level packages: the Kubernetes client and its HTTP stack, python-gitlab, helm-python-sdk
HEAVY_PACKAGES = ("kubernetes", "helm_python", "gitlab", "urllib3", "requests", "pydantic", "rich")
#: modules of this tool: the Helm engine, the connectivity engine (the policy model) and the drift
#: comparison built on it, the GitLab edge, and the cluster reader with its kubeconfig resolution
#: (plain `suggest` declares the cluster options of --from-flows, and must not pay for the reader)
HEAVY_MODULES = (
    "autodeploy_netpol.sources.cluster",
    "autodeploy_netpol.sources.kubeconfig",
    "autodeploy_netpol.desired.helm_engine",
    "autodeploy_netpol.policy",
    "autodeploy_netpol.checks.drift",
    "autodeploy_netpol.gitlab",
)

# Run the console script's entry point (autodeploy_netpol.cli:run) in a fresh interpreter, then
# report what it imported and its exit code.
PROGRAM = """
import json, sys
from autodeploy_netpol.cli import run
sys.argv[0] = "autodeploy-netpol"
try:
    run()
except SystemExit as exit:
    code = exit.code
packages, modules = json.loads(HEAVY)
imported = sorted({name.split(".")[0] for name in sys.modules} & set(packages))
imported += sorted(m for m in modules if m in sys.modules)
validator = "jsonschema" in sys.modules
report = {"code": code, "heavy": imported, "jsonschema": validator, "click": "click" in sys.modules}
sys.stderr.write("\\nIMPORTS " + json.dumps(report) + "\\n")
"""


def _run(args, prelude=""):
    heavy = json.dumps([HEAVY_PACKAGES, HEAVY_MODULES])
    done = subprocess.run(
        [sys.executable, "-c", prelude + PROGRAM.replace("HEAVY", repr(heavy)), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return done, json.loads(done.stderr.rsplit("IMPORTS ", 1)[1])


@pytest.mark.parametrize(
    "args",
    [
        ["validate", str(EXAMPLE)],
        ["validate", str(EXAMPLE), "--format", "json"],
        ["render", str(EXAMPLE), "--release", "production", "--namespace", "shop-1-production"],
        ["render", str(EXAMPLE), "--release", "production", "--format", "json"],
        ["suggest", "--release", "review-x", "--ingress-namespace", "traefik"],
        ["suggest", "--release", "production"],
        ["suggest", "--release", "production", "--format", "json"],
    ],
    ids=["validate", "validate-json", "render", "render-json", "suggest", "suggest-release", "suggest-json"],
)
def test_no_heavy_imports(args):
    done, report = _run(args)
    assert report["code"] == 0, done.stderr  # the command really ran
    assert done.stdout.strip()
    assert report["heavy"] == [], f"{args[0]} imported {report['heavy']}"
    assert not report["jsonschema"], f"{args[0]} imported jsonschema for a valid file"
    # the plain forms of validate and render start without click (cli/fast.py); suggest uses it
    assert report["click"] == (args[0] == "suggest"), args


def test_an_invalid_file_is_described_by_jsonschema_and_still_imports_nothing_heavy():
    done, report = _run(["validate", str(INVALID)])
    assert report["code"] == 2, done.stderr
    assert "is not a valid CIDR" in done.stdout
    assert report["heavy"] == []
    assert not report["click"]


def test_a_line_for_click_still_imports_nothing_heavy():
    done, report = _run(["render", str(EXAMPLE), "--release", "production", "--format", "yaml", "--format", "json"])
    assert report["click"] and report["code"] == 0, done.stderr  # a repeated option: click's to read
    assert report["heavy"] == []


def test_the_check_sees_heavy_imports():
    """The same probe notices a heavy import when there is one (so the tests above can fail)."""
    _, report = _run(["validate", str(EXAMPLE)], prelude="import kubernetes, jsonschema\n")
    assert report["heavy"][:1] == ["kubernetes"]
    assert report["jsonschema"]
    _, report = _run(["validate", str(EXAMPLE)], prelude="import autodeploy_netpol.policy\n")
    assert report["heavy"] == ["autodeploy_netpol.policy"]


def test_the_check_sees_the_connectivity_engine(tmp_path):
    """`suggest --from-flows` needs the engine: the probe sees it there, and only there."""
    flows = tmp_path / "flows.csv"
    flows.write_text("ingress-nginx,app=nginx,shop,app=production;tier=web;release=production,,TCP,5000\n")
    done, report = _run(["suggest", "--from-flows", str(flows), "-r", "production"])
    assert report["code"] == 0, done.stderr
    assert "autodeploy_netpol.policy" in report["heavy"]
