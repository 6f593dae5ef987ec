"""Render time: the chart-contract model vs real Helm, on the fixture auto-deploy-app chart.

Whole-process timings of the CLI (``autodeploy-netpol render`` with and without ``--chart``),
median of several runs, peak RSS of the child; plus the per-render cost of helm-python-sdk
when one process renders many values files from a chart loaded once (what the agreement
test does). Prints a Markdown table for bench/RESULTS.md.

    .venv/bin/python bench/helm_render.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CHART = ROOT / "tests" / "fixtures" / "charts" / "auto-deploy-app"
CLI = str(Path(sys.executable).with_name("autodeploy-netpol"))

VALUES = ROOT / "tests" / "fixtures" / "values" / "extension.yaml"

# Runs one command as a child and reports its wall time and peak RSS (KiB, Linux).
_MEASURE = textwrap.dedent(
    """\
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(done.stderr.decode())
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps([elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))
    """
)

# N renders in one process, chart loaded once.
_MANY = textwrap.dedent(
    """\
    import json, sys, time
    from autodeploy_netpol.desired.helm_engine import HelmRelease, auto_deploy_set_values, open_chart
    chart_dir, count = sys.argv[1], int(sys.argv[2])
    start = time.perf_counter()
    chart = open_chart(chart_dir, engine="helm-python-sdk")
    loaded = time.perf_counter()
    for number in range(count):
        values = {"networkPolicy": {"enabled": True, "policies": {f"p{number}": {"spec": {"podSelector": {}}}}}}
        release = HelmRelease(f"r{number}", "ns", auto_deploy_set_values(release_override=f"r{number}", track="stable"))
        assert len(chart.render(values, release)) == 2
    done = time.perf_counter()
    print(json.dumps([loaded - start, (done - loaded) / count]))
    """
)


def measure(command: list[str], runs: int) -> tuple[float, float, int]:
    """Median wall seconds, median CPU seconds and the largest peak RSS (KiB) over ``runs`` runs."""
    times, cpu, peaks = [], [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True
        )
        elapsed, used, peak = json.loads(out.stdout)
        times.append(elapsed)
        cpu.append(used)
        peaks.append(peak)
    return statistics.median(times), statistics.median(cpu), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--many", type=int, default=300, help="renders in one process")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        chart = Path(scratch) / "chart"
        shutil.copytree(FIXTURE_CHART, chart)
        subprocess.run([CLI, "overlay", str(chart)], check=True, stdout=subprocess.DEVNULL)
        values = VALUES
        render = [CLI, "render", str(values), "--release", "production", "--namespace", "shop-42-production"]

        rows = [("model (`render`)", [*render, "--chart-version", "2.39.0"])]
        rows.append(
            (
                "helm-python-sdk (`render --chart`)",
                [*render, "--chart", str(chart), "--engine", "helm-python-sdk"],
            )
        )
        if shutil.which("helm"):
            rows.append(
                ("helm CLI (`render --chart`)", [*render, "--chart", str(chart), "--engine", "helm-cli"])
            )

        print(
            f"Fixture chart + overlays, 5 policy objects; median of {arguments.runs} runs, "
            f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}.\n"
        )
        print("| engine | whole process, median wall | median CPU (user+sys) | peak RSS |")
        print("| --- | ---: | ---: | ---: |")
        for name, command in rows:
            seconds, used, peak = measure(command, arguments.runs)
            print(f"| {name} | {seconds * 1000:.0f} ms | {used * 1000:.0f} ms | {peak / 1024:.0f} MiB |")
        if not shutil.which("helm"):
            print("| helm CLI (`render --chart`) | not measured: no `helm` on PATH | | |")

        out = subprocess.run(
            [sys.executable, "-c", _MANY, str(chart), str(arguments.many)],
            capture_output=True,
            text=True,
            check=True,
        )
        load, per_render = json.loads(out.stdout)
        print(
            f"\nhelm-python-sdk, one process, chart loaded once ({load * 1000:.0f} ms to load): "
            f"{per_render * 1000:.2f} ms per render over {arguments.many} values files."
        )


if __name__ == "__main__":
    main()
