"""What ownership costs in a drift run: whole-process ``drift --desired --live --all-namespaces``.

Generates, per namespace, the ten policies of release ``production`` (desired: as ``render`` prints
them; live: as the API serves them, with Helm's annotations and managedFields) in two shapes:

* ``helm only`` - every live policy written by Helm alone: ownership classifies and stops early;
* ``edited`` - additionally 5% of the pipeline's policies edited with ``kubectl edit`` after Helm
  (an override to compute, with the desired-vs-live diff) and one GitLab UI-editor policy per
  namespace next to them (a both-methods widening check for each of the ten desired policies).

Each run is a fresh ``autodeploy-netpol`` process; wall and CPU time (user+sys) are the median of
``--runs`` runs, peak RSS the largest seen. Prints a Markdown table.

    .venv/bin/python bench/ownership.py [--sizes 100,1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "ownership"
CLI = [sys.executable, "-m", "autodeploy_netpol"]
POLICIES_PER_NAMESPACE = 10


def _items(name: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())["items"])


def _renamed(obj: dict[str, Any], namespace: str, index: int) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    metadata = out["metadata"]
    metadata["name"] = "production-auto-deploy" if index == 0 else f"production-auto-deploy-p{index}"
    metadata["namespace"] = namespace
    if "meta.helm.sh/release-namespace" in (metadata.get("annotations") or {}):
        metadata["annotations"]["meta.helm.sh/release-namespace"] = namespace
    return out


def generate(directory: Path, namespaces: int, edited: bool) -> tuple[Path, Path]:
    """Write desired.json and live.json; returns their paths."""
    desired_template = yaml.safe_load((FIXTURES / "desired.yaml").read_text())
    helm_only = _items("helm-only")[0]
    kubectl_edited = _items("helm-then-kubectl-edit")[0]
    ui_policy = next(o for o in _items("ui-created") if o["metadata"]["name"] == "allow-inbound-http")
    desired: list[dict[str, Any]] = []
    live: list[dict[str, Any]] = []
    count = 0
    for n in range(namespaces):
        namespace = f"shop-{n}-production"
        for index in range(POLICIES_PER_NAMESPACE):
            desired.append(_renamed(desired_template, namespace, index))
            # Every twentieth pipeline policy (5%) was edited by hand.
            source = kubectl_edited if edited and count % 20 == 0 else helm_only
            live.append(_renamed(source, namespace, index))
            count += 1
        if edited:
            ui = copy.deepcopy(ui_policy)
            ui["metadata"]["namespace"] = namespace
            live.append(ui)
    desired_path, live_path = directory / "desired.json", directory / "live.json"
    desired_path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": desired}))
    live_path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": live}))
    return desired_path, live_path


def measure(args: list[str], runs: int) -> tuple[float, float, float, int]:
    """(median wall s, median CPU s, peak RSS MiB, exit code) over ``runs`` fresh processes."""
    walls, cpus, peak, code = [], [], 0, 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        peak = max(peak, after.ru_maxrss)  # kilobytes on Linux; the maximum over children so far
        code = done.returncode
        if code not in (0, 1, 4):
            sys.exit(f"drift failed ({code}): {done.stderr.decode()}")
    return statistics.median(walls), statistics.median(cpus), peak / 1024, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="namespaces per data set, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in options.sizes.split(",")):
            for edited in (False, True):
                directory = Path(tmp) / f"{size}-{edited}"
                directory.mkdir()
                desired, live = generate(directory, size, edited)
                out = directory / "drift.json"
                args = [
                    *CLI,
                    "drift",
                    "--desired",
                    str(desired),
                    "--live",
                    str(live),
                    "--all-namespaces",
                    "--format",
                    "json",
                    "--output",
                    str(out),
                    "--quiet",
                ]
                wall, cpu, rss, code = measure(args, options.runs)
                document = json.loads(out.read_text())
                codes: dict[str, int] = {}
                for warning in document["warnings"]:
                    codes[warning["code"]] = codes.get(warning["code"], 0) + 1
                rows.append(
                    (
                        size,
                        "edited" if edited else "helm only",
                        len(document["ownership"]),
                        ", ".join(f"{n} {c}" for c, n in sorted(codes.items())) or "none",
                        wall,
                        cpu,
                        rss,
                        code,
                    )
                )
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; median of {options.runs} runs\n"
    )
    print(
        "| namespaces × 10 | live policies | ownership verdicts | warnings | wall | CPU | peak RSS | exit |"
    )
    print("| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for size, shape, verdicts, warnings, wall, cpu, rss, code in rows:
        print(
            f"| {size} | {shape} | {verdicts} | {warnings} | {wall:.2f} s | {cpu:.2f} s | {rss:.0f} MiB | {code} |"
        )


if __name__ == "__main__":
    main()
