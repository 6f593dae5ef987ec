"""Hostile inputs, whole process: what issue 13 measured before the hardening, measured again.

Generates in bench/out/hardening/ the inputs the red-team pass used — a 50 MB values file, a 1 MB
gzip that inflates to one 1 GiB line, a 2 MB gzip of newlines — and runs the installed console
script (.venv/bin/autodeploy-netpol) on each, and on /dev/zero as a flow file, with a wall-clock
limit. Reports the exit code, the wall time, the CPU time and the peak RSS of the child (os.wait4),
and the first line of its error output.

    .venv/bin/python bench/hardening.py [--limit 120]

Before the hardening (issue 13): 34 s and 3.3 GB; 2.1 GB RSS; still running after 400 s; MemoryError.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "hardening"
CLI = str(Path(sys.executable).with_name("autodeploy-netpol"))
DESIRED = ROOT / "tests" / "data" / "audit" / "desired.yaml"


def big_values(path: Path, size: int = 50 * 1000 * 1000) -> None:
    """A values file of ``size`` bytes: the chart keys, then many extraLabels."""
    if path.exists() and path.stat().st_size >= size:
        return
    with path.open("w") as out:
        out.write("networkPolicy:\n  enabled: true\nextraLabels:\n")
        written, index = 0, 0
        while written < size:
            line = f"  label-{index:09d}: value-{index:09d}\n"
            out.write(line)
            written += len(line)
            index += 1


def gzip_stream(path: Path, chunk: bytes, total: int) -> None:
    """``total`` bytes of ``chunk`` repeated, gzip-compressed at level 9, without holding them."""
    if path.exists():
        return
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        block = chunk * (1024 * 1024 // len(chunk))
        for _ in range(total // len(block)):
            out.write(compressor.compress(block))
        out.write(compressor.flush())


def measure(argv: list[str], limit: float) -> tuple[str, float, float, float, str]:
    started = time.monotonic()
    process = subprocess.Popen([CLI, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = started + limit
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            wall = time.monotonic() - started
            return f"killed after {limit:g}s", wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, ""
        time.sleep(0.05)
    wall = time.monotonic() - started
    assert process.stderr is not None
    first = process.stderr.read().decode(errors="replace").strip().splitlines()[:1]
    code = str(os.waitstatus_to_exitcode(status))
    return code, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, first[0] if first else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a run is killed")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    values = OUT / "values-50MB.yaml"
    one_line = OUT / "one-line-1GiB.jsonl.gz"
    newlines = OUT / "newlines.jsonl.gz"
    big_values(values)
    gzip_stream(one_line, b"x" * 64, 1024 * 1024 * 1024)
    gzip_stream(newlines, b"\n", 2 * 1024 * 1024 * 1024)
    audit = ["audit", "--desired", str(DESIRED), "--no-live", "-r", "production", "-n", "shop", "--flows"]
    cases = [
        (f"validate, values file of {values.stat().st_size / 1e6:.0f} MB", ["validate", str(values)]),
        (f"audit, gzip of {one_line.stat().st_size / 1e6:.1f} MB inflating to one 1 GiB line", [*audit, str(one_line)]),
        (f"audit, gzip of {newlines.stat().st_size / 1e6:.1f} MB of newlines (2 GiB inflated)", [*audit, str(newlines)]),
        ("audit, /dev/zero as the flow file", [*audit, "/dev/zero"]),
    ]
    print(f"{'case':<64} {'exit':>6} {'wall':>8} {'CPU':>8} {'peak RSS':>10}  first line of stderr")
    for name, argv in cases:
        code, wall, cpu, rss, first = measure(argv, args.limit)
        print(f"{name:<64} {code:>6} {wall:>7.2f}s {cpu:>7.2f}s {rss:>7.0f} MiB  {first[:110]}")


if __name__ == "__main__":
    main()
