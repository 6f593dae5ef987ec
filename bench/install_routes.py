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
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "shop"


CPU = [0.0]  # user+sys of every child process so far


def timed(command: list[str], **kwargs: object) -> float:
    """Wall time of one command; its CPU time is added to CPU[0]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[0] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall


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

        def pip_route(name: str, environ: dict[str, str]) -> tuple[float, float]:
            CPU[0] = 0.0
            bin_dir, made = fresh_venv(work / name)
            first = timed([str(bin_dir / "python"), "-m", "pip", "install", *quiet, "--no-deps", "--no-index", str(wheel)], env=environ)
            second = timed([str(bin_dir / "python"), "-m", "pip", "install", *quiet, f"autodeploy-netpol=={version}"], env=environ)
            return made + first + second, CPU[0]

        warm = pip_route("pip-warm", dict(os.environ))
        cold = pip_route("pip-cold", {**os.environ, "PIP_NO_CACHE_DIR": "1"})
        CPU[0] = 0.0
        bin_dir, made = fresh_venv(work / "image")
        image_build = made + timed(
            ["sh", str(ROOT / "packaging" / "install.sh"), str(ROOT / "requirements" / "runtime.txt"), str(wheel)],
            env={**os.environ, "PYTHON": str(bin_dir / "python")},
        )
        image_cpu = CPU[0]
        tool = str(bin_dir / "autodeploy-netpol")
        environ = {**os.environ, "CI_ENVIRONMENT_SLUG": "production"}
        job, job_cpu = [], []
        for _ in range(args.runs):
            CPU[0] = 0.0
            job.append(
                timed([tool, "validate"], cwd=EXAMPLE, env=environ)
                + timed([tool, "render", "--values-out", str(work / "values.yaml")], cwd=EXAMPLE, env=environ)
            )
            job_cpu.append(CPU[0])
        median, median_cpu = statistics.median(job), statistics.median(job_cpu)
    print(f"wheel {wheel.name}")
    print("| route | what the job pays before/for its work | wall | CPU (children) |")
    print("| --- | --- | ---: | ---: |")
    print(f"| pip route, pip cache warm | fresh venv + tool (--no-deps) + dependencies from PyPI | {warm[0]:.1f} s | {warm[1]:.1f} s |")
    print(f"| pip route, no pip cache | same, PIP_NO_CACHE_DIR=1 | {cold[0]:.1f} s | {cold[1]:.1f} s |")
    print(
        f"| (image build, once per release) | fresh venv + packaging/install.sh (locked deps + wheel) | {image_build:.1f} s | {image_cpu:.1f} s |"
    )
    print("| image route | nothing to install | 0 s | 0 s |")
    print(
        f"| the netpol:values job's commands | validate + render --values-out, median of {args.runs} | {median:.2f} s | {median_cpu:.2f} s |"
    )


if __name__ == "__main__":
    main()
