"""Drift at scale: ``autodeploy-netpol drift --desired --live --all-namespaces``, whole process.

Generated data (bench/drift_data.py, written under bench/out/): N namespaces x 10 policies,
5% of them drifted (changed / missing / unexpected), the live side as the API serves it
(server metadata, managedFields, defaults filled in). For each size the CLI runs as a child
process; wall time, CPU time (user+sys) and peak RSS are those of that child (``os.wait4``).
The drift counts the CLI reports are checked against what the generator planted.
Prints a Markdown table for bench/RESULTS.md.

    .venv/bin/python bench/drift.py [--sizes 1000,10000,50000] [--runs 5] [--yaml-row]
    .venv/bin/python bench/drift.py --one-namespace 3000 [--runs 9]

Target: < 3 s and < 300 MB at 1,000 namespaces x 10 policies.

``--one-namespace N`` measures the connectivity section instead: one namespace with N policies,
``drift -n`` with the section and with ``--no-connectivity``, runs interleaved so that both see
the same machine load. Target: the section costs less than the rest of drift (within 2x).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from drift_data import generate  # the generator next to this script

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CLI = str(Path(sys.executable).with_name("autodeploy-netpol"))
TARGET_SECONDS = 3.0
TARGET_MIB = 300


def dataset(namespaces: int, desired_format: str) -> Path:
    target = OUT / f"drift-{namespaces}x10-{desired_format}"
    if not (target / "expected.json").exists():
        generate(namespaces, 10, 0.05, str(OUT), desired_format)
    return target


def dataset_one_namespace(policies: int) -> Path:
    target = OUT / f"drift-1x{policies}-json"
    if not (target / "expected.json").exists():
        generate(1, policies, 0.05, str(OUT), "json")
    return target


def run_once(data: Path, report: str, scope: tuple[str, ...] = ("-A",)) -> tuple[float, float, float, int]:
    """(wall s, cpu s, peak RSS MiB, exit code) of one whole CLI process."""
    command = [
        CLI,
        "drift",
        "--desired",
        str(data / "desired"),
        "--live",
        str(data / "live"),
        *scope,
        "-q",
        "-o",
        report,
    ]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode not in (0, 1):
        sys.exit(f"drift failed ({child.returncode}): {stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode


def measure(namespaces: int, desired_format: str, runs: int) -> dict[str, object]:
    data = dataset(namespaces, desired_format)
    expected = json.loads((data / "expected.json").read_text())
    samples = []
    with tempfile.TemporaryDirectory() as scratch:
        report = os.path.join(scratch, "drift.json")
        for _ in range(runs):
            samples.append(run_once(data, report))
        summary = json.loads(Path(report).read_text())["summary"]
    found = {key: summary[key] for key in ("changed", "missing", "unexpected")}
    if found != expected or any(sample[3] != 1 for sample in samples):
        sys.exit(f"{data}: the CLI found {found}, the generator planted {expected}")
    size = sum(path.stat().st_size for path in data.rglob("*") if path.is_file()) / 2**20
    return {
        "namespaces": namespaces,
        "policies": namespaces * 10,
        "format": desired_format,
        "drifted": sum(expected.values()),
        "input_mib": size,
        "wall": statistics.median(sample[0] for sample in samples),
        "cpu": statistics.median(sample[1] for sample in samples),
        "rss": max(sample[2] for sample in samples),
        "runs": runs,
    }


def measure_section(policies: int, runs: int) -> None:
    """drift on one namespace with and without the connectivity section, interleaved."""
    data = dataset_one_namespace(policies)
    scope = ("-n", "proj-0-production")
    samples: dict[str, list[tuple[float, float, float, int]]] = {"with": [], "without": []}
    with tempfile.TemporaryDirectory() as scratch:
        report = os.path.join(scratch, "drift.json")
        for _ in range(runs):
            samples["with"].append(run_once(data, report, scope))
            section = json.loads(Path(report).read_text()).get("connectivity", {})
            samples["without"].append(run_once(data, report, (*scope, "--no-connectivity")))
    load = os.getloadavg()[0]
    print(
        f"One namespace, {policies:,} live policies, {runs} runs each (interleaved); load average "
        f"{load:.1f} on {os.cpu_count()} CPUs. Connectivity verdict: {section.get('verdict')}, "
        f"+{len(section.get('added', []))} / -{len(section.get('removed', []))} connections.\n"
    )
    print("| drift -n | median wall | median CPU (user+sys) | peak RSS |")
    print("| --- | ---: | ---: | ---: |")
    medians = {}
    for name, label in (("without", "--no-connectivity"), ("with", "with the connectivity section")):
        wall = statistics.median(sample[0] for sample in samples[name])
        cpu = statistics.median(sample[1] for sample in samples[name])
        rss = max(sample[2] for sample in samples[name])
        medians[name] = (wall, cpu)
        print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {rss:.0f} MiB |")
    wall_ratio = medians["with"][0] / medians["without"][0]
    cpu_ratio = medians["with"][1] / medians["without"][1]
    print(
        f"\nWith / without: {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x CPU "
        f"(target within 2x: {'met' if cpu_ratio <= 2 and wall_ratio <= 2 else 'MISSED'})."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="namespaces per dataset, comma-separated")
    parser.add_argument(
        "--runs", type=int, default=5, help="runs at the smallest size (1 run above 10,000 namespaces)"
    )
    parser.add_argument(
        "--yaml-row", action="store_true", help="also measure the smallest size with YAML desired input"
    )
    parser.add_argument(
        "--one-namespace",
        type=int,
        metavar="N",
        help="instead: one namespace with N policies, drift with vs without the connectivity section",
    )
    args = parser.parse_args()
    if args.one_namespace:
        measure_section(args.one_namespace, args.runs)
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = []
    for size in sizes:
        runs = args.runs if size <= 1000 else (3 if size <= 10000 else 1)
        rows.append(measure(size, "json", runs))
        print(f"measured {size} namespaces", file=sys.stderr)
    if args.yaml_row:
        rows.append(measure(sizes[0], "yaml", max(1, args.runs // 2)))
    load = os.getloadavg()[0]
    pressure = _cpu_pressure()
    print(
        f"Load average at the end: {load:.1f} on {os.cpu_count()} CPUs"
        + (f", CPU pressure (some, avg60) {pressure}%" if pressure else "")
        + ". Wall times include waiting for a CPU; CPU time is the work done.\n"
    )
    print(
        "| namespaces × policies | desired input | drifted objects | input size | runs "
        "| median wall | median CPU (user+sys) | peak RSS |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['namespaces']:,} × 10 = {row['policies']:,} | {row['format']} | {row['drifted']:,} "
            f"| {row['input_mib']:.0f} MiB | {row['runs']} | {row['wall']:.2f} s | {row['cpu']:.2f} s "
            f"| {row['rss']:.0f} MiB |"
        )
    base = next((row for row in rows if row["namespaces"] == 1000 and row["format"] == "json"), None)
    if base is not None:
        print(
            f"\nTarget at 1,000 × 10 (< {TARGET_SECONDS:.0f} s, < {TARGET_MIB} MB): "
            f"CPU {base['cpu']:.2f} s {'within' if base['cpu'] < TARGET_SECONDS else 'OVER'}, "
            f"wall {base['wall']:.2f} s {'within' if base['wall'] < TARGET_SECONDS else 'over (see load above)'}, "
            f"peak RSS {base['rss']:.0f} MiB {'within' if base['rss'] < TARGET_MIB else 'OVER'}."
        )


def _cpu_pressure() -> str | None:
    """Linux PSI: the share of time some task waited for a CPU over the last minute."""
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as handle:
            first = handle.readline().split()
    except OSError:
        return None
    return next((field.split("=")[1] for field in first if field.startswith("avg60=")), None)


if __name__ == "__main__":
    main()
