"""Where the CPU of a plain `validate` goes: the layers it imports, then the command itself.

Each run is a fresh interpreter that imports the layers in the order the command needs them and
notes ``time.process_time()`` after each (the standard library's share first, so each row is what
that layer adds), then runs ``validate`` of the typical values file through the console script's
start (cli/fast.py). Median of ``--runs`` runs per row. This is the floor bench/peers.py's first
row is compared against ``helm template`` with.

    .venv/bin/python bench/startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import compileall
import json
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
import typing; mark("typing (deepmerge and click import it)")
import inspect; mark("inspect (dataclasses imports it)")
import dataclasses; mark("dataclasses")
import json; mark("json")
import yaml; mark("yaml (PyYAML with libyaml)")
import deepmerge; mark("deepmerge")
import autodeploy_netpol.cli.fast; mark("autodeploy_netpol.cli.fast (the entry's parser)")
import autodeploy_netpol.cli.plain; mark("autodeploy_netpol.cli.plain (command bodies, the values file)")
import autodeploy_netpol.runs.validate, autodeploy_netpol.desired._values_schema_gate; mark("runs.validate (the checks), the compiled schema check")
import contextlib, io
from autodeploy_netpol.cli.fast import fast_command
command = fast_command(["validate", sys.argv[1]])
with contextlib.redirect_stdout(io.StringIO()):
    try:
        command()
    except SystemExit:
        pass
mark("validate itself (read, check, print)")
out = [(marks[0][0], marks[0][1])] + [(b[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])]
sys.stderr.write("STAGES " + json.dumps(out) + "\\n")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    compileall.compile_dir(str(ROOT / "autodeploy_netpol"), quiet=1)
    typical = values_bench.generate()["typical"]
    samples: dict[str, list[float]] = {}
    for _ in range(options.runs):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(typical)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        for label, seconds in json.loads(done.stderr.rsplit("STAGES ", 1)[1]):
            samples.setdefault(label, []).append(seconds * 1000)
    print("| stage | median CPU |")
    print("| --- | ---: |")
    for label, values in samples.items():
        print(f"| {label} | {statistics.median(values):.1f} ms |")
    totals = [sum(run) for run in zip(*samples.values(), strict=True)]
    print(f"| total | {statistics.median(totals):.1f} ms |")


if __name__ == "__main__":
    main()
