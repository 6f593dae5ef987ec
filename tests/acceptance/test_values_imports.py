"""The import budget: `validate`, `render` and `suggest` never import the Kubernetes client,
python-gitlab, the Helm engine or the connectivity engine; a valid file not even jsonschema, and
`validate` not the chart model (the objects a deploy renders) either.

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
TEMPLATED = (
    Path(__file__).parents[2]
    / "tests"
    / "fixtures"
    / "charts"
    / "shapes"
    / "cases"
    / "custom-resource-single.yaml"
)
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

#: the chart model: what `render` needs and `validate` does not (desired/delivery.py decides what
#: a deploy would not create without it)
CHART_MODEL = (
    "autodeploy_netpol.desired.compute",
    "autodeploy_netpol.desired.chart",
    "autodeploy_netpol.desired.custom_resources",
    "autodeploy_netpol.desired.tpl",
    "autodeploy_netpol.desired.extension",
    "autodeploy_netpol.report.manifests",
)
#: standard-library modules that cost start-up and that neither command needs on its plain path
#: (issue 18, bench/startup.py): typing (annotations only: TYPE_CHECKING), inspect and ast (which
#: dataclasses imports: autodeploy_netpol.records), tempfile (only written outputs), pathlib
#: (only --chart), json (only --format json and messages about an invalid file), decimal, copy
#: (desired.merge.deep_copy), contextlib, zlib, ipaddress (canonical IPv4 CIDRs are read directly);
#: render's merge imports deepmerge, and with it typing and contextlib
STARTUP_STDLIB = (
    "typing",
    "inspect",
    "ast",
    "dataclasses",
    "tempfile",
    "pathlib",
    "json",
    "decimal",
    "copy",
    "contextlib",
    "zlib",
    "ipaddress",
)

# Run the console script's entry point (autodeploy_netpol.cli:run) in a fresh interpreter, then
# report what it imported and its exit code.
# Modules the interpreter holds before the tool is imported (site and the .pth files of the
# environment: a newer setuptools installs the editable package with a finder that imports pathlib,
# contextlib and ipaddress) are the environment's, not the command's: they are left out.
PROGRAM = """
import sys
preloaded = set(sys.modules)
PRELUDE
from autodeploy_netpol.cli import run
sys.argv[0] = "autodeploy-netpol"
try:
    run()
except SystemExit as exit:
    code = exit.code
stdlib_seen = [m for m in STDLIB if m in sys.modules and m not in preloaded]  # before json
import json
packages, modules, model = json.loads(HEAVY)
imported = sorted({name.split(".")[0] for name in sys.modules} & set(packages))
imported += sorted(m for m in modules if m in sys.modules)
validator = "jsonschema" in sys.modules
report = {"code": code, "heavy": imported, "jsonschema": validator, "click": "click" in sys.modules,
          "model": [m for m in model if m in sys.modules], "stdlib": stdlib_seen,
          "preloaded": [m for m in STDLIB if m in preloaded]}
sys.stderr.write("\\nIMPORTS " + json.dumps(report) + "\\n")
"""


def _run(args, prelude=""):
    heavy = json.dumps([HEAVY_PACKAGES, HEAVY_MODULES, CHART_MODEL])
    program = PROGRAM.replace("HEAVY", repr(heavy)).replace("STDLIB", repr(STARTUP_STDLIB))
    done = subprocess.run(
        [sys.executable, "-c", program.replace("PRELUDE", prelude), *args],
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


@pytest.mark.parametrize(
    "args",
    [
        ["validate", str(EXAMPLE)],
        ["validate", str(EXAMPLE), "--format", "json"],
        ["validate", str(INVALID)],
        ["validate", str(EXAMPLE), "--chart-version", "2.80.1", "--no-handoff"],
        ["validate", str(TEMPLATED)],
    ],
    ids=["valid", "json", "invalid", "older-shape", "templated-entry"],
)
def test_validate_does_not_import_the_chart_model(args):
    """The chart model, the customResources renderer and the tpl evaluator are render's: a plain
    `validate` checks the values without them (only a template in an entry brings in the tpl
    syntax check, which is not the model)."""
    done, report = _run(args)
    assert report["code"] in (0, 2), done.stderr
    assert done.stdout.strip()
    model = [m for m in report["model"] if not (args[-1] == str(TEMPLATED) and m.endswith(".tpl"))]
    assert model == [], f"validate imported {report['model']}"


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (["validate", str(EXAMPLE)], []),
        # render merges values with deepmerge (Helm's merge semantics), which imports typing and
        # contextlib: the price of the dependency, paid on the first merge and only by render
        (
            ["render", str(EXAMPLE), "--release", "production", "--namespace", "shop-1-production"],
            ["typing", "contextlib"],
        ),
        # the checks word a problem with a template's text before knowing it is templated
        (["render", str(TEMPLATED), "--release", "production"], ["typing", "json", "contextlib"]),
        # writing a file atomically needs tempfile (and shutil, which it imports, zlib)
        (
            ["render", str(EXAMPLE), "--release", "production", "--values-out", "VALUES_OUT"],
            ["typing", "tempfile", "contextlib", "zlib"],
        ),
    ],
    ids=["validate", "render", "render-templated", "render-values-out"],
)
def test_plain_validate_and_render_skip_costly_standard_modules(args, needed, tmp_path):
    """What start-up the plain forms save stays saved: the probe runs in a fresh interpreter
    (the json module the probe itself needs is imported after the command)."""
    args = [str(tmp_path / "merged.yaml") if arg == "VALUES_OUT" else arg for arg in args]
    done, report = _run(args)
    assert report["code"] == 0, done.stderr
    needed = [m for m in needed if m not in report["preloaded"]]  # the environment's, if it has them
    assert report["stdlib"] == needed, f"{args[0]} imported {report['stdlib']}"


def test_the_check_sees_costly_standard_modules():
    _, report = _run(["validate", str(EXAMPLE), "--format", "json"], prelude="import typing\n")
    assert {"typing", "json"} <= set(report["stdlib"])


def test_render_imports_the_chart_model():
    """The probe sees the model where it is needed (so the test above can fail)."""
    done, report = _run(["render", str(EXAMPLE), "--release", "production"])
    assert report["code"] == 0, done.stderr
    assert "autodeploy_netpol.desired.chart" in report["model"]
    assert "autodeploy_netpol.desired.compute" in report["model"]


def test_an_invalid_file_is_described_by_jsonschema_and_still_imports_nothing_heavy():
    done, report = _run(["validate", str(INVALID)])
    assert report["code"] == 2, done.stderr
    assert "is not a valid CIDR" in done.stdout
    assert report["heavy"] == []
    assert not report["click"]


def test_a_line_for_click_still_imports_nothing_heavy():
    done, report = _run(
        ["render", str(EXAMPLE), "--release", "production", "--format", "yaml", "--format", "json"]
    )
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
