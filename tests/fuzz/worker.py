"""A worker process that runs the real CLI on fuzz cases, one after another, and measures each.

Started by ``tests/fuzz/fuzz_support.py`` (``python worker.py``); reads one JSON case per line on
standard input — ``{"argv": [...], "stdin_file": PATH | null, "env": {...}, "cwd": "..."}`` — runs
``autodeploy-netpol ARGV`` through click's CliRunner (the same code path as the console script,
without paying interpreter start-up for every case) and answers one JSON line: the exit code, the
output (standard output and error together), the seconds taken and the peak resident memory of
the case (the kernel's high-water mark is reset before each case).

The process has an address-space limit, so a case that tries to allocate without bound fails
here (and shows as a crashed worker or exit 70) instead of taking the machine down; the parent
kills the worker when a case runs past its deadline.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    except OSError:
        pass


def main() -> None:
    limit = int(os.environ.get("NETPOL_FUZZ_ADDRESS_SPACE_MB", "3072")) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main as cli

    base_env = dict(os.environ)
    print(json.dumps({"ready": True, "rss_mb": _peak_rss_mb()}), flush=True)
    for line in sys.stdin:
        case = json.loads(line)
        # standard input comes from a file the parent wrote: no copy of it in this process's memory
        stdin = open(case["stdin_file"], "rb") if case.get("stdin_file") else None  # noqa: SIM115
        os.chdir(case["cwd"])
        env = {**{k: None for k in base_env if k.startswith(("NETPOL_", "KUBE", "CI_", "HELM_"))}, **case.get("env", {})}
        _reset_peak()
        started = time.monotonic()
        runner = CliRunner()
        try:
            result = runner.invoke(cli, case["argv"], input=stdin, env=env, catch_exceptions=True)
            if stdin is not None:
                stdin.close()
            code = result.exit_code
            output = result.output
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                # an exception click's runner caught: the CLI let it escape (a crash)
                output += f"\nUNCAUGHT {type(result.exception).__name__}: {result.exception}"
                code = -1
        except BaseException as error:  # the runner itself failed (e.g. MemoryError while capturing)
            code, output = -2, f"RUNNER {type(error).__name__}: {error}"
        seconds = time.monotonic() - started
        if len(output) > 40_000:  # keep where messages start and how the run ended
            output = output[:20_000] + "\n[...]\n" + output[-20_000:]
        answer = {"exit": code, "output": output, "seconds": seconds, "rss_mb": _peak_rss_mb()}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
