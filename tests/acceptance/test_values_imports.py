"""`validate`, `render` and plain `suggest` start fast: they never import the Kubernetes client, Helm,
python-gitlab or the connectivity engine (`suggest --from-flows` does, and only then)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
HEAVY = ("kubernetes", "helm_python", "gitlab", "urllib3", "requests")
#: The project's own heavy parts: the connectivity engine, the Helm engine, the flow reader and learner.
HEAVY_OWN = (
    "autodeploy_netpol.policy",
    "autodeploy_netpol.desired.helm_engine",
    "autodeploy_netpol.sources.flows",
    "autodeploy_netpol.checks",
)

# Run the real CLI entry point in a fresh interpreter, then report what it imported and its exit code.
PROGRAM = """
import json, sys
from autodeploy_netpol.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(HEAVY)))
own = sorted({prefix for prefix in json.loads(HEAVY_OWN) for name in sys.modules if name == prefix or name.startswith(prefix + ".")})
sys.stderr.write("\\nIMPORTS " + json.dumps({"code": code, "heavy": heavy + own}) + "\\n")
"""


@pytest.mark.parametrize(
    ("args", "own"),
    [
        (["validate", str(EXAMPLE)], False),
        (["validate", str(EXAMPLE), "--format", "json"], False),
        (["render", str(EXAMPLE), "--release", "production", "--namespace", "shop-1-production"], False),
        (["render", str(EXAMPLE), "--release", "production", "--format", "json"], False),
        (["suggest", "--release", "production"], True),
        (["suggest", "--release", "production", "--format", "json"], True),
    ],
    ids=["validate", "validate-json", "render", "render-json", "suggest", "suggest-json"],
)
def test_no_heavy_imports(args, own):
    """``own``: nor the project's heavy parts (HEAVY_OWN) - plain ``suggest`` needs none of them."""
    done = subprocess.run(
        [sys.executable, "-c", program(), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    report = json.loads(done.stderr.rsplit("IMPORTS ", 1)[1])
    assert report["code"] == 0, done.stderr  # the command really ran
    assert done.stdout.strip()
    heavy = report["heavy"] if own else [name for name in report["heavy"] if name not in HEAVY_OWN]
    assert heavy == [], f"{args[0]} imported {heavy}"


def program() -> str:
    return PROGRAM.replace("HEAVY_OWN", repr(json.dumps(HEAVY_OWN))).replace("HEAVY", repr(json.dumps(HEAVY)))


def test_the_check_sees_heavy_imports():
    """The same probe notices a heavy import when there is one (so the test above can fail)."""
    done = subprocess.run(
        [sys.executable, "-c", "import kubernetes\n" + program(), "validate", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stderr.rsplit("IMPORTS ", 1)[1])["heavy"][:1] == ["kubernetes"]


def test_the_check_sees_the_connectivity_engine(tmp_path):
    """`suggest --from-flows` needs the engine: the probe sees it there."""
    flows = tmp_path / "flows.csv"
    flows.write_text("ingress-nginx,app=nginx,shop,app=production;tier=web;release=production,,TCP,5000\n")
    done = subprocess.run(
        [sys.executable, "-c", program(), "suggest", "--from-flows", str(flows), "-r", "production"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stderr.rsplit("IMPORTS ", 1)[1])
    assert report["code"] == 0, done.stderr
    assert "autodeploy_netpol.policy" in report["heavy"]
