"""The external test toolchain works: each tool runs for real and answers as the pinned version.

These are the tests that turn red when `make tools` (or .ci/run's apt-get of chromium) installs the
wrong thing, or nothing: under NETPOL_REQUIRE_TOOLS (CI) a missing tool fails here instead of
skipping.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from toolchain import CHROMIUM_FLAGS, TOOLS_BIN, BrowserError

TIMEOUT = 120


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env=env,
    )
    assert completed.returncode == 0, f"{command} exited {completed.returncode}:\n{completed.stderr}"
    return completed.stdout


def pinned_package_version(name: str) -> str:
    package = json.loads((Path(__file__).resolve().parents[2] / "tools" / "package.json").read_text())
    return package["dependencies"][name]


def test_helm_is_helm_3(helm_bin):
    version = run(helm_bin, "version", "--template", "{{ .Version }}")
    assert re.fullmatch(r"v3\.\d+\.\d+", version), version


def test_helm_renders_a_chart_offline(helm_bin, tmp_path):
    # A chart of our own, rendered with --set and a capability, as `helm template` does in a pipeline.
    chart = tmp_path / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: tiny\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("port: 80\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
        "data:\n  port: {{ .Values.port | quote }}\n"
        '  policy: {{ .Capabilities.APIVersions.Has "cilium.io/v2" | quote }}\n'
    )
    output = run(helm_bin, "template", "shop", chart, "--set", "port=8080", "--api-versions", "cilium.io/v2")
    assert "name: shop-cm" in output
    assert 'port: "8080"' in output
    assert 'policy: "true"' in output


def test_the_pinned_helm_is_first_on_path(helm_bin, kubectl_bin):
    path = os.environ["PATH"].split(os.pathsep)
    assert path[0] == str(TOOLS_BIN) == str(helm_bin.parent) == str(kubectl_bin.parent)


def test_kubectl_client_version(kubectl_bin):
    version = json.loads(run(kubectl_bin, "version", "--client", "--output=json"))
    assert re.fullmatch(r"v1\.\d+\.\d+", version["clientVersion"]["gitVersion"]), version


def test_gitlab_ci_local_is_the_pinned_version(gitlab_ci_local_bin):
    assert run(gitlab_ci_local_bin, "--version").strip() == pinned_package_version("gitlab-ci-local")
    assert pinned_package_version("gitlab-ci-local") == "4.70.1"  # newer releases crash on Node 20


@pytest.fixture
def tiny_ci_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository with a two-job .gitlab-ci.yml, and an environment with a throw-away HOME."""
    repository = tmp_path / "repo"
    repository.mkdir()
    (repository / ".gitlab-ci.yml").write_text(
        "stages: [test, deploy]\n"
        "unit:\n  stage: test\n  script: [echo unit-ran]\n"
        "ship:\n  stage: deploy\n  when: manual\n  script: [echo ship]\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    environment = {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "config", "user.email", "tests@example.invalid"],
        ["git", "config", "user.name", "tests"],
        ["git", "add", ".gitlab-ci.yml"],
        ["git", "commit", "-q", "-m", "ci"],
    ):
        run(*command, cwd=repository, env=environment)
    return repository, environment


def test_gitlab_ci_local_lists_the_jobs(gitlab_ci_local_bin, tiny_ci_repo):
    repository, environment = tiny_ci_repo
    jobs = json.loads(run(gitlab_ci_local_bin, "--list-json", cwd=repository, env=environment))
    assert [(job["name"], job["stage"], job["when"]) for job in jobs] == [
        ("unit", "test", "on_success"),
        ("ship", "deploy", "manual"),
    ]


def test_gitlab_ci_local_runs_a_shell_job(gitlab_ci_local_bin, tiny_ci_repo):
    repository, environment = tiny_ci_repo
    output = run(gitlab_ci_local_bin, "--no-color", "unit", cwd=repository, env=environment)
    assert "unit > unit-ran" in output
    assert "PASS" in output and "unit" in output


# No class="mermaid" on the graph: Mermaid's start-on-load would render it before the script runs.
MERMAID_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>netpol</title>
<script src="{mermaid}"></script></head>
<body><pre id="graph">{graph}</pre></body></html>
"""

RENDER = """
module.exports = async ({ page, args }) => {
  await page.setViewportSize({ width: 800, height: 600 });
  await page.goto(args.url);
  const outcome = await page.evaluate(async () => {
    const mermaid = window.mermaid;
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
    const text = document.querySelector('#graph').textContent;
    try {
      await mermaid.parse(text);  // throws Mermaid's parse error, with line and expected tokens
      await mermaid.run({ nodes: [document.querySelector('#graph')] });
    } catch (error) {
      return { error: String(error && error.message ? error.message : error) };
    }
    const svg = document.querySelector('#graph svg');
    if (!svg) return { error: 'no <svg> was rendered' };
    // On a failure mermaid.run() may draw its "Syntax error" picture instead of throwing.
    if (svg.getAttribute('aria-roledescription') === 'error') return { error: 'Mermaid drew its error diagram' };
    return {
      error: null,
      kind: svg.getAttribute('aria-roledescription'),
      nodes: [...svg.querySelectorAll('g.node')].map((node) => node.textContent.trim()),
      edges: svg.querySelectorAll('g.edgePaths path').length,
    };
  });
  if (!outcome.error) await page.locator('#graph svg').screenshot({ path: args.screenshot });
  return outcome;
};
"""


def render_mermaid(browser, mermaid_js: Path, tmp_path: Path, graph: str) -> tuple[dict, Path]:
    page = tmp_path / "graph.html"
    page.write_text(MERMAID_PAGE.format(mermaid=mermaid_js.as_uri(), graph=graph), encoding="utf-8")
    screenshot = tmp_path / "graph.png"
    outcome = browser.run(RENDER, {"url": page.as_uri(), "screenshot": str(screenshot)})
    assert outcome.blocked_requests == [], "the page tried to reach the network"
    assert outcome.page_errors == [], outcome.page_errors
    assert outcome.browser_version, "no browser version reported"
    return outcome.result, screenshot


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_chromium_renders_a_mermaid_graph_and_takes_a_screenshot(browser, mermaid_js, tmp_path):
    result, screenshot = render_mermaid(
        browser, mermaid_js, tmp_path, "graph LR\n  web[web pods] -->|TCP 5000| db[(postgres)]"
    )
    assert result["error"] is None
    assert result["kind"] == "flowchart-v2"
    assert sorted(result["nodes"]) == ["postgres", "web pods"]
    assert result["edges"] >= 1
    width, height = png_size(screenshot)
    assert width > 100 and height > 20, (width, height)


def test_a_broken_mermaid_graph_is_reported_as_an_error(browser, mermaid_js, tmp_path):
    # The render check above can fail: Mermaid's parse error comes back instead of an SVG.
    result, screenshot = render_mermaid(browser, mermaid_js, tmp_path, "graph LR\n  a -->")
    assert result["error"] and "Parse error" in result["error"], result
    assert not screenshot.exists()


def test_a_failing_browser_script_is_an_error_with_its_message(browser):
    with pytest.raises(BrowserError, match="no such element here"):
        browser.run("module.exports = async () => { throw new Error('no such element here'); };")


def test_requests_off_this_machine_are_blocked(browser, tmp_path):
    page = tmp_path / "remote.html"
    page.write_text('<img src="http://blocked.invalid/x.png"><p>local</p>', encoding="utf-8")
    outcome = browser.run(
        "module.exports = async ({ page, args }) => {"
        " await page.goto(args.url); return await page.textContent('p'); };",
        {"url": page.as_uri()},
    )
    assert outcome.result == "local"
    assert outcome.blocked_requests == ["http://blocked.invalid/x.png"]


def test_chromium_starts_with_the_documented_flags(chromium_bin, tmp_path):
    # The flags Browser.run uses, on the bare binary: a headless dump of a data: page.
    page = "data:text/html,<p id=x>flags-ok</p>"
    command = [chromium_bin, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page]
    assert "flags-ok" in run(*command)
