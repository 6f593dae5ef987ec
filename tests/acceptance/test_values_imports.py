"""`validate` and `render` start fast: they never import the Kubernetes client, Helm or python-gitlab."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
HEAVY = ("kubernetes", "helm_python", "gitlab", "urllib3", "requests")

# Run the real CLI entry point in a fresh interpreter, then report what it imported and its exit code.
PROGRAM = """
import json, sys
from autodeploy_netpol.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(HEAVY)))
sys.stderr.write("\\nIMPORTS " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


@pytest.mark.parametrize(
    "args",
    [
        ["validate", str(EXAMPLE)],
        ["validate", str(EXAMPLE), "--format", "json"],
        ["render", str(EXAMPLE), "--release", "production", "--namespace", "shop-1-production"],
        ["render", str(EXAMPLE), "--release", "production", "--format", "json"],
    ],
    ids=["validate", "validate-json", "render", "render-json"],
)
def test_no_heavy_imports(args):
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.replace("HEAVY", repr(json.dumps(HEAVY))), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    report = json.loads(done.stderr.rsplit("IMPORTS ", 1)[1])
    assert report["code"] == 0, done.stderr  # the command really ran
    assert done.stdout.strip()
    assert report["heavy"] == [], f"{args[0]} imported {report['heavy']}"


def test_the_check_sees_heavy_imports():
    """The same probe notices a heavy import when there is one (so the test above can fail)."""
    program = "import kubernetes\n" + PROGRAM.replace("HEAVY", repr(json.dumps(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", program, "validate", str(EXAMPLE)], capture_output=True, text=True, timeout=120
    )
    assert json.loads(done.stderr.rsplit("IMPORTS ", 1)[1])["heavy"][:1] == ["kubernetes"]
