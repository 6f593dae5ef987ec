"""Where the CPU of a plain `validate` (or `render`) goes: the layers it imports, then the command.

Each run is a fresh interpreter that imports the layers in the order the command needs them and
notes ``time.process_time()`` after each (the standard library's share first, so each row is what
that layer adds), then runs ``validate`` (``--render``: ``render`` with the flags of
bench/peers.py) of the typical values file through the console script's start (cli/fast.py).
Median of ``--runs`` runs per row. This is the floor bench/peers.py's first rows are compared
against ``helm template`` with. The probe imports nothing the command does not: ``typing``,
``inspect``/``dataclasses``, ``json``, ``copy`` and ``contextlib`` are not on the plain paths any more
(tests/acceptance/test_values_imports.py), and the probe reports its stages without json.

    .venv/bin/python bench/startup.py [--runs 11] [--render]
"""

from __future__ import annotations

import argparse
import ast
import compileall
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import values as values_bench  # noqa: E402 - the typical values file

PROBE = """
import sys, time
marks = [("interpreter start-up (site included)", time.process_time())]
def mark(label):
    marks.append((label, time.process_time()))
import re, enum, functools, collections; mark("re, enum, functools, collections")
import yaml; mark("yaml (PyYAML with libyaml)")
import autodeploy_netpol.cli.fast; mark("autodeploy_netpol.cli.fast (the entry's parser)")
import autodeploy_netpol.cli.plain; mark("autodeploy_netpol.cli.plain (command bodies, the values file, the checks)")
import autodeploy_netpol.runs.validate, autodeploy_netpol.desired._values_schema_gate; mark("runs.validate, the compiled schema check")
if sys.argv[1] == "render":
    import autodeploy_netpol.runs.render, autodeploy_netpol.report.manifests; mark("runs.render: the chart model, customResources, tpl, the YAML writer")
import io
from autodeploy_netpol.cli.fast import fast_command
command = fast_command(sys.argv[1:])
out, err = sys.stdout, sys.stderr
sys.stdout = sys.stderr = io.StringIO()
try:
    command()
except SystemExit:
    pass
sys.stdout, sys.stderr = out, err
mark(sys.argv[1] + (" itself (read, check, render, print)" if sys.argv[1] == "render" else " itself (read, check, print)"))
stages = [(marks[0][0], marks[0][1])] + [(b[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])]
sys.stderr.write("STAGES " + repr(stages) + "\\n")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--render", action="store_true", help="render (bench/peers.py's flags) instead of validate")
    options = parser.parse_args()
    compileall.compile_dir(str(ROOT / "autodeploy_netpol"), quiet=1)
    typical = values_bench.generate()["typical"]
    command = ["validate", str(typical)]
    if options.render:
        command = ["render", str(typical), "--release", "production", "--namespace", "shop-42-production"]
        command += ["--project-id", "42", "--chart-version", "2.100.2"]
    samples: dict[str, list[float]] = {}
    for _ in range(options.runs):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *command],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        for label, seconds in ast.literal_eval(done.stderr.rsplit("STAGES ", 1)[1].strip()):
            samples.setdefault(label, []).append(seconds * 1000)
    print("| stage | median CPU |")
    print("| --- | ---: |")
    for label, values in samples.items():
        print(f"| {label} | {statistics.median(values):.1f} ms |")
    totals = [sum(run) for run in zip(*samples.values(), strict=True)]
    print(f"| total | {statistics.median(totals):.1f} ms |")


if __name__ == "__main__":
    main()
