"""MR comment: whole-process time of `autodeploy-netpol comment` against a local fake GitLab.

The CLI runs as a subprocess (python-gitlab, real HTTP to the fake server from
tests/gitlab_integration/fake_gitlab.py, GitLab's 100-notes-per-page maximum). Cases: the first
run that creates the note, a rerun with the same report (no write), on merge requests with 0, 1,000
and 10,000 other notes, where the listing pages through them all. Median of --runs runs; CPU time
(user + system) and peak RSS of the CLI process from /usr/bin/time. Wall time includes the fake
server, which runs in this process and is slower than GitLab at paging 10,000 notes.

    .venv/bin/python bench/gitlab_comment.py
    .venv/bin/python bench/gitlab_comment.py --runs 3 --notes 0 1000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "gitlab_integration"))

from fake_gitlab import FakeGitLab  # noqa: E402

CLI = str(Path(sys.executable).parent / "autodeploy-netpol")
TOKEN = "glpat-bench-token-0000000000"
EXAMPLE = ROOT / "examples" / "shop"


def write_report(directory: Path) -> Path:
    report = directory / "drift.json"
    subprocess.run(
        [CLI, "drift", str(EXAMPLE / ".gitlab" / "auto-deploy-values.yaml"), "--release", "production",
         "--namespace", "shop-42-production", "--project-id", "42", "--live", str(EXAMPLE / "live-snapshot.yaml"),
         "--environment", "production", "-q", "-o", str(report)],
        check=False,
        capture_output=True,
    )  # fmt: skip
    assert report.exists()
    return report


def timed_run(report: Path, fake: FakeGitLab) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of one `comment` process."""
    environ = {
        **os.environ,
        "CI_API_V4_URL": fake.api_url,
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "7",
        "NETPOL_GITLAB_TOKEN": TOKEN,
    }
    start = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", CLI, "comment", "--report", str(report)],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"comment failed: {result.stderr}")
    peak, user, system = result.stderr.strip().splitlines()[-1].split()
    return elapsed, float(user) + float(system), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--notes", type=int, nargs="+", default=[0, 1000, 10000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        report = write_report(Path(scratch))
        for other_notes in args.notes:
            for case in ("create", "unchanged"):
                timings, cpu, peaks, requests = [], [], [], 0
                for _ in range(args.runs):
                    with FakeGitLab() as fake:
                        bot = fake.add_user(TOKEN, 101, "bot")
                        human = fake.add_user("glpat-human", 202, "human")
                        fake.add_merge_request("42", 7)
                        for number in range(other_notes):
                            fake.add_note("42", 7, human, f"review comment {number}")
                        if case == "unchanged":
                            timed_run(report, fake)  # creates the note; the measured run finds it
                            fake.requests.clear()
                        elapsed, seconds, peak = timed_run(report, fake)
                        requests = len(fake.requests)
                        assert len([n for n in fake.notes_of("42", 7) if n["author"]["id"] == bot["id"]]) == 1
                    timings.append(elapsed)
                    cpu.append(seconds)
                    peaks.append(peak)
                row = (
                    other_notes,
                    case,
                    requests,
                    statistics.median(timings),
                    statistics.median(cpu),
                    max(peaks),
                )
                rows.append(row)
    print(
        "| other notes on the MR | run | HTTP requests | median wall (s) | median CPU (s) | peak RSS (MB) |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for other_notes, case, requests, wall, seconds, peak in rows:
        print(f"| {other_notes:,} | {case} | {requests} | {wall:.2f} | {seconds:.2f} | {peak / 1024:.0f} |")


if __name__ == "__main__":
    main()
