"""The netpol job's set-up cost: the release image (the tool already installed) vs the pip route.

Usage: .venv/bin/python bench/install_routes.py [--runs N]

Builds the wheel as the release job does, then, whole process each:
  * pip route, as the template does it on an image without the tool: a fresh virtualenv, the tool
    with `--no-deps` (here from the wheel file, standing in for the project's package registry),
    then `pip install autodeploy-netpol==V` for its dependencies from PyPI, with pip's cache warm
    and with `PIP_NO_CACHE_DIR=1` (a runner without a pip cache);
  * the image's install step (packaging/install.sh: hash-locked dependencies + the wheel) into a
    fresh virtualenv, cache warm: what the image build pays once, not every job;
  * image route: what the netpol:values job runs when the tool is installed (validate, render
    --values-out on the bundled example), timed in that virtualenv.
Network time to PyPI is part of the pip-route numbers; run it twice to see the spread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "shop"


def timed(command: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def fresh_venv(path: Path) -> tuple[Path, float]:
    start = time.perf_counter()
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin", time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9, help="runs of the job commands (image route)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist"), str(ROOT)],
            check=True,
            capture_output=True,
        )
        [wheel] = (work / "dist").glob("*.whl")
        version = wheel.name.split("-")[1]
        quiet = ["--disable-pip-version-check", "--quiet"]

        def pip_route(name: str, environ: dict[str, str]) -> float:
            bin_dir, made = fresh_venv(work / name)
            first = timed([str(bin_dir / "python"), "-m", "pip", "install", *quiet, "--no-deps", "--no-index", str(wheel)], env=environ)
            second = timed([str(bin_dir / "python"), "-m", "pip", "install", *quiet, f"autodeploy-netpol=={version}"], env=environ)
            return made + first + second

        warm = pip_route("pip-warm", dict(os.environ))
        cold = pip_route("pip-cold", {**os.environ, "PIP_NO_CACHE_DIR": "1"})
        bin_dir, made = fresh_venv(work / "image")
        image_build = made + timed(
            ["sh", str(ROOT / "packaging" / "install.sh"), str(ROOT / "requirements" / "runtime.txt"), str(wheel)],
            env={**os.environ, "PYTHON": str(bin_dir / "python")},
        )
        tool = str(bin_dir / "autodeploy-netpol")
        environ = {**os.environ, "CI_ENVIRONMENT_SLUG": "production"}
        job = []
        for _ in range(args.runs):
            job.append(
                timed([tool, "validate"], cwd=EXAMPLE, env=environ)
                + timed([tool, "render", "--values-out", str(work / "values.yaml")], cwd=EXAMPLE, env=environ)
            )
        median = statistics.median(job)
    print(f"wheel {wheel.name}")
    print("| route | what the job pays before/for its work | wall |")
    print("| --- | --- | ---: |")
    print(f"| pip route, pip cache warm | fresh venv + tool (--no-deps) + dependencies from PyPI | {warm:.1f} s |")
    print(f"| pip route, no pip cache | same, PIP_NO_CACHE_DIR=1 | {cold:.1f} s |")
    print(f"| (image build, once per release) | fresh venv + packaging/install.sh (locked deps + wheel) | {image_build:.1f} s |")
    print("| image route | nothing to install | 0 s |")
    print(f"| the netpol:values job's commands | validate + render --values-out, median of {args.runs} | {median:.2f} s |")


if __name__ == "__main__":
    main()
