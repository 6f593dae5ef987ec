"""The release as users install it: the sdist and wheel built as the release job builds them, the
wheel installed into a fresh virtualenv by packaging/install.sh (the image's one install step), and
the bundled example run through the installed `autodeploy-netpol` entry point."""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = next(
    line.split('"')[1]
    for line in (ROOT / "pyproject.toml").read_text().splitlines()
    if line.startswith("version = ")
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # As the package job: build (from the test lock) without isolation, setuptools/wheel from the lock.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def test_the_wheel_carries_the_package_data(dist: Path) -> None:
    [wheel] = dist.glob(f"autodeploy_netpol-{VERSION}-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "autodeploy_netpol/py.typed",
        "autodeploy_netpol/schemas/netpol-values.schema.json",
        "autodeploy_netpol/schemas/drift-report.schema.json",
        "autodeploy_netpol/deploy/rbac.yaml",
        "autodeploy_netpol/chart_overlays/auto-deploy-app/templates/zz-netpol-network-policies.yaml",
    ):
        assert needed in names
    entry_points = (
        zipfile.ZipFile(wheel).read(f"autodeploy_netpol-{VERSION}.dist-info/entry_points.txt").decode()
    )
    assert "autodeploy-netpol = autodeploy_netpol.cli:run" in entry_points
    assert not any(name.startswith("tests/") for name in names)


def test_the_sdist_builds_the_same_project(dist: Path) -> None:
    [sdist] = dist.glob(f"autodeploy_netpol-{VERSION}.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "autodeploy_netpol/cli/__init__.py"} <= names


def clean_environ(home: Path) -> dict[str, str]:
    # Nothing of the test venv may leak in: the installed entry point must stand alone.
    keep = {"PATH", "LANG", "LC_ALL", "TMPDIR"}
    environ = {key: value for key, value in os.environ.items() if key in keep}
    environ["PATH"] = "/usr/bin:/bin"
    environ["HOME"] = str(home)
    environ["TMPDIR"] = str(home)
    return environ


def test_the_installed_entry_point_runs_the_bundled_example(installed: Path, tmp_path: Path) -> None:
    version = subprocess.run([installed, "--version"], capture_output=True, text=True, check=True)
    assert VERSION in version.stdout
    # The package's own modules, not the checkout's.
    where = subprocess.run(
        [installed.parent / "python", "-c", "import autodeploy_netpol; print(autodeploy_netpol.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert str(installed.parent.parent) in where
    demo = subprocess.run(
        ["bash", str(ROOT / "examples" / "demo.sh"), str(installed)],
        env=clean_environ(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "### Network policy drift" in demo.stdout
    assert "production-auto-deploy-allow-metrics" in demo.stdout
    assert (tmp_path / "autodeploy-netpol-demo" / "drift.json").is_file()


def test_the_installed_package_finds_its_data_files(installed: Path, tmp_path: Path) -> None:
    rbac = subprocess.run(
        [installed, "rbac", "-n", "shop-42-production"], capture_output=True, text=True, check=False
    )
    assert rbac.returncode == 0, rbac.stderr
    assert "kind: Role" in rbac.stdout
    chart = tmp_path / "chart"
    shutil.copytree(ROOT / "tests" / "fixtures" / "charts" / "auto-deploy-app", chart)
    overlay = subprocess.run([installed, "overlay", str(chart)], capture_output=True, text=True, check=False)
    assert overlay.returncode == 0, overlay.stderr
    assert (chart / "templates" / "zz-netpol-network-policies.yaml").is_file()


# -- the template's pip route, against a package-registry index ------------------------------------


class _Index(http.server.BaseHTTPRequestHandler):
    """GitLab's PyPI API for one project, as pip sees it: a PEP 503 page per package, files by hash."""

    wheel: Path
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        digest = hashlib.sha256(self.wheel.read_bytes()).hexdigest()
        if self.path.rstrip("/") == f"{INDEX_PATH}/autodeploy-netpol":
            body = f'<html><body><a href="../../files/{digest}/{self.wheel.name}#sha256={digest}">{self.wheel.name}</a></body></html>'
            self._answer(200, body.encode(), "text/html")
        elif self.path == f"/api/v4/projects/77/packages/pypi/files/{digest}/{self.wheel.name}":
            self._answer(200, self.wheel.read_bytes(), "application/octet-stream")
        else:
            self._answer(404, b"404 Not Found", "text/plain")

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


INDEX_PATH = "/api/v4/projects/77/packages/pypi/simple"


@pytest.fixture(scope="module")
def dependencies_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the tool's locked dependencies and not the tool."""
    target = tmp_path_factory.mktemp("deps") / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    subprocess.run(
        [
            target / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            ROOT / "requirements" / "runtime.txt",
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return target / "bin"


@pytest.fixture(scope="module")
def pip_route(
    dist: Path, dependencies_only: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The template's validate job on an image without the tool, with NETPOL_PIP_INDEX_URL pointing at
    a package-registry index served here: the job output and the index's request log."""
    from gitlab_integration.gcl import TEMPLATE, load_template

    workdir = tmp_path_factory.mktemp("job")
    [wheel] = dist.glob("*.whl")
    handler = type("Index", (_Index,), {"wheel": wheel, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        document = load_template(TEMPLATE.read_text())
        script = "\n".join(
            [*document[".netpol:base"]["before_script"], *document["netpol:validate"]["script"]]
        )
        (workdir / ".gitlab").mkdir()
        shutil.copy(ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml", workdir / ".gitlab")
        environ = {
            **{key: str(value) for key, value in document["variables"].items()},
            "PATH": f"{dependencies_only}:/usr/bin:/bin",  # python3 is the venv's; no autodeploy-netpol yet
            "HOME": str(workdir),
            "NETPOL_IMAGE": "python:3.12-slim",
            "NETPOL_PIP_INDEX_URL": f"http://127.0.0.1:{server.server_port}{INDEX_PATH}",
            "NETPOL_VERSION": VERSION,
        }
        job = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=workdir,
            env=environ,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.shutdown()
    return job, handler.requests


def test_the_templates_pip_route_installs_from_the_package_registry_only(
    pip_route: tuple[subprocess.CompletedProcess[str], list[str]], dependencies_only: Path
) -> None:
    job, requests = pip_route
    assert job.returncode == 0, job.stdout + job.stderr
    assert ".gitlab/auto-deploy-values.yaml: valid" in job.stdout
    assert (dependencies_only / "autodeploy-netpol").exists()
    # The registry was asked for the tool and nothing else.
    assert {path.split("/")[-2] for path in requests if path.startswith(INDEX_PATH)} == {"autodeploy-netpol"}


@pytest.fixture(scope="module")
def installed(
    dist: Path, dependencies_only: Path, pip_route: tuple[subprocess.CompletedProcess[str], list[str]]
) -> Path:
    """The same virtualenv after the pip route, the tool replaced by the image's install step
    (packaging/install.sh: the locked dependencies, already there, then the wheel). One dependency
    install serves both routes: it is the slow part."""
    python = dependencies_only / "python"
    subprocess.run([python, "-m", "pip", "uninstall", "--yes", "--quiet", "autodeploy-netpol"], check=True)
    [wheel] = dist.glob("*.whl")
    result = subprocess.run(
        [
            "sh",
            str(ROOT / "packaging" / "install.sh"),
            str(ROOT / "requirements" / "runtime.txt"),
            str(wheel),
        ],
        env={**os.environ, "PYTHON": str(python)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return dependencies_only / "autodeploy-netpol"
