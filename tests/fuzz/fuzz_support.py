"""The fuzz suite's machinery: a measuring worker process, two sizes of run, the promises checked.

Every case runs the real CLI (``autodeploy-netpol ARGV``) in a worker process (``worker.py``)
that has an address-space limit and reports, per case, the exit code, the output, the seconds
and the peak resident memory. A case that hangs past its deadline kills the worker (a failure);
a case that crashes it is a failure too. After each case :func:`check` asserts the promises of
the README: no traceback, a documented exit code (never 70, an internal error), an error that
names the input it is about, bounded time and memory.

Sizes (``NETPOL_FUZZ_PROFILE``): ``ci`` (default, part of ``make test``: about a minute) and
``nightly`` (thousands of inputs; run it on a schedule or by hand). ``NETPOL_FUZZ_EXAMPLES``
overrides the examples per family. ``NETPOL_FUZZ_REPORT=FILE`` writes the inputs tried and the
failures per family as JSON at the end of the session.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")

PROFILE = os.environ.get("NETPOL_FUZZ_PROFILE", "ci")
#: Examples per family: the CI size keeps the whole suite near a minute on a loaded two-core runner.
EXAMPLES = int(os.environ.get("NETPOL_FUZZ_EXAMPLES", {"ci": "25", "nightly": "1000"}.get(PROFILE, "25")))
#: What one case may take. Inputs are at most a few MiB; the limits are generous for loaded machines
#: and still far below what the bugs this suite found took (minutes, gigabytes).
CASE_SECONDS = float(os.environ.get("NETPOL_FUZZ_CASE_SECONDS", "30"))
CASE_RSS_MB = float(os.environ.get("NETPOL_FUZZ_CASE_RSS_MB", "700"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=PROFILE == "ci" or bool(os.environ.get("CI")),
    # scratch is a directory per test call; each example makes its own directory inside it (case_dir)
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    print_blob=True,
)

#: Every exit code the README documents; 70 is documented too, but it means a bug: a failure here.
DOCUMENTED = {0, 1, 2, 3, 4, 5}


@dataclass
class Outcome:
    exit: int | str
    output: str
    seconds: float
    rss_mb: float


class Worker:
    """One worker process, restarted after a case kills it or runs past its deadline."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self.base_rss_mb = 0.0

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._buffer = b""
        ready = self._read_line(120)
        assert ready is not None, "the fuzz worker did not start"
        self.base_rss_mb = json.loads(ready)["rss_mb"]

    def _read_line(self, timeout: float) -> bytes | None:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(self.process.stdout.fileno(), 1 << 20)
                if not chunk:
                    return None
                self._buffer += chunk
        finally:
            selector.close()
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def run(self, argv: Sequence[str], *, cwd: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Outcome:
        if self.process is None or self.process.poll() is not None:
            self._start()
        assert self.process is not None and self.process.stdin is not None
        stdin_file = None
        if stdin is not None:
            stdin_file = os.path.join(cwd, ".stdin")
            Path(stdin_file).write_bytes(stdin)
        case = {"argv": list(argv), "cwd": cwd, "stdin_file": stdin_file, "env": env or {}}
        try:
            self.process.stdin.write((json.dumps(case) + "\n").encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            self.stop()
            return Outcome("crash", "the worker was gone", 0.0, 0.0)
        line = self._read_line(CASE_SECONDS)
        if line is None:
            crashed = self.process.poll() is not None
            self.stop()
            return Outcome("crash" if crashed else "timeout", "", CASE_SECONDS, 0.0)
        answer = json.loads(line)
        return Outcome(answer["exit"], answer["output"], answer["seconds"], answer["rss_mb"])

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@dataclass
class Tally:
    """Inputs tried and failures found, per family (the numbers the issue's closing note asks for)."""

    tried: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    exits: dict[str, Counter[str]] = field(default_factory=dict)
    slowest: dict[str, float] = field(default_factory=dict)
    largest: dict[str, float] = field(default_factory=dict)


TALLY = Tally()


@pytest.fixture(scope="session")
def worker() -> Iterator[Worker]:
    running = Worker()
    yield running
    running.stop()


@pytest.fixture(scope="session", autouse=True)
def _report() -> Iterator[None]:
    yield
    target = os.environ.get("NETPOL_FUZZ_REPORT")
    if target:
        Path(target).write_text(
            json.dumps(
                {
                    "profile": PROFILE,
                    "examples_per_family": EXAMPLES,
                    "tried": dict(TALLY.tried),
                    "failed": dict(TALLY.failed),
                    "exit_codes": {family: dict(codes) for family, codes in TALLY.exits.items()},
                    "slowest_seconds": TALLY.slowest,
                    "largest_rss_mb": TALLY.largest,
                    "failure_examples": TALLY.examples,
                },
                indent=2,
            )
        )


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A fresh directory per call (hypothesis runs many examples in one test call: see :func:`case_dir`)."""
    base = Path(tempfile.mkdtemp(prefix="netpol-fuzz-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def case_dir(base: Path) -> Path:
    """A new empty directory for one example under ``base``."""
    return Path(tempfile.mkdtemp(dir=base))


_TRACEBACK = "Traceback (most recent call last)"


def check(
    family: str,
    outcome: Outcome,
    *,
    allowed: set[int],
    names: Sequence[str],
    must_name_on: set[int] = frozenset({2}),  # type: ignore[assignment]
) -> None:
    """The promises, for one case: counted in the tally, asserted (hypothesis shrinks a failure)."""
    TALLY.tried[family] += 1
    TALLY.exits.setdefault(family, Counter())[str(outcome.exit)] += 1
    TALLY.slowest[family] = max(TALLY.slowest.get(family, 0.0), outcome.seconds)
    TALLY.largest[family] = max(TALLY.largest.get(family, 0.0), outcome.rss_mb)
    problems: list[str] = []
    if outcome.exit in ("timeout", "crash"):
        problems.append(f"the case {outcome.exit}ed the worker (over {CASE_SECONDS:g}s or out of memory)")
    elif outcome.exit == 70:
        problems.append("exit 70: an internal error")
    elif not isinstance(outcome.exit, int) or outcome.exit < 0:
        problems.append(f"the CLI let an exception escape ({outcome.exit})")
    elif outcome.exit not in allowed or outcome.exit not in DOCUMENTED:
        problems.append(f"exit code {outcome.exit}, expected one of {sorted(allowed)}")
    if _TRACEBACK in outcome.output:
        problems.append("a traceback in the output")
    named = any(name and name in outcome.output for name in names)
    if isinstance(outcome.exit, int) and outcome.exit in must_name_on and not named:
        problems.append(f"exit {outcome.exit} without naming the input ({', '.join(names)})")
    if outcome.seconds > CASE_SECONDS:
        problems.append(f"took {outcome.seconds:.1f}s")
    if outcome.rss_mb > CASE_RSS_MB:
        problems.append(f"peak memory {outcome.rss_mb:.0f} MiB")
    if problems:
        TALLY.failed[family] += 1
        TALLY.examples.setdefault(family, [])
        if len(TALLY.examples[family]) < 10:
            TALLY.examples[family].append("; ".join(problems) + " | " + outcome.output[-600:])
    assert not problems, "; ".join(problems) + "\n--- output ---\n" + outcome.output[-3000:]


def location_in(output: str, name: str) -> bool:
    """Whether ``output`` points into ``name`` with a line (``name:12`` or ``name:12:3``)."""
    return re.search(re.escape(name) + r":\d+", output) is not None


def run_case(worker: Worker, argv: Sequence[Any], *, cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Outcome:
    return worker.run([str(arg) for arg in argv], cwd=str(cwd), stdin=stdin, env=env)
