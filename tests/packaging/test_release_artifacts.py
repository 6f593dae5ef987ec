"""The release as users install it: the sdist and wheel built as the release job builds them, the
wheel installed into a fresh virtualenv by packaging/install.sh (the image's one install step), and
the bundled example run through the installed `autodeploy-netpol` entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
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
    assert "autodeploy-netpol = autodeploy_netpol.cli:main" in entry_points
    assert not any(name.startswith("tests/") for name in names)


def test_the_sdist_builds_the_same_project(dist: Path) -> None:
    [sdist] = dist.glob(f"autodeploy_netpol-{VERSION}.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "autodeploy_netpol/cli/__init__.py"} <= names


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed the way the release image installs it."""
    target = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    [wheel] = dist.glob("*.whl")
    environ = {**os.environ, "PYTHON": str(target / "bin" / "python")}
    result = subprocess.run(
        [
            "sh",
            str(ROOT / "packaging" / "install.sh"),
            str(ROOT / "requirements" / "runtime.txt"),
            str(wheel),
        ],
        env=environ,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target / "bin" / "autodeploy-netpol"


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
