"""Learning: throughput and peak memory of `suggest --from-flows`, next to `audit` on the same file.

Whole process: each CLI run is a subprocess under /usr/bin/time; CPU time is user + system of
that process (single-threaded: the "one core" figure), wall time and peak RSS (maximum resident
set size) come from the same measurement. Median of --runs runs.

    .venv/bin/python bench/learn.py                      # 10 million lines, plus 1 million
    .venv/bin/python bench/learn.py --flows 1000000 --runs 1

Recordings are written once to bench/out/ (git-ignored): `hubble observe -o jsonpb` lines for a
generated Auto DevOps environment (tests/learn_support.py: the release's web pods of two tracks
and its workers, other workloads, the ingress controller, monitoring, kube-dns, Cilium's
reserved identities, outside addresses), about 1.3 KB each, mixing new connections, replies and
packets of established connections as bench/audit.py does; two thirds of the connections involve
the app. Three measurements:

1. `suggest --from-flows F --egress --format json` and `audit --flows F --desired <the learned
   manifests> --no-live` on the same file: the learner must read at the audit reader's speed and
   stay under 200 MB for 10 million lines (issue 17);
2. a recording where every connection comes from a different outside address (the worst case for
   memory: the addresses are aggregated into blocks as they stream by);
3. in-process, the policy construction and its proof on the recorder's aggregate, for a small and
   a large recording of the same traffic: the cost must not grow with the number of flows.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from audit_support import hubble_line  # noqa: E402
from learn_support import OUTSIDE, PORTS, generate_environment  # noqa: E402

SEED = 2026
TEMPLATES = 5000
MIX = (("syn", 0.35), ("reply", 0.40), ("established", 0.25))


def _connections(rng: random.Random, count: int):
    env = generate_environment(SEED)
    app = env.app
    everything = [
        *env.cluster.workloads,
        "host",
        "kube-apiserver",
        "remote-node",
        *(f"world:{ip}" for ip in OUTSIDE),
    ]
    out = []
    for _ in range(count):
        protocol, port = rng.choice(PORTS)
        roll = rng.random()
        if roll < 0.45:
            out.append((rng.choice(everything), rng.choice(app), protocol, port))
        elif roll < 0.67:
            out.append((rng.choice(app), rng.choice(everything), protocol, port))
        else:
            a, b = rng.sample(env.others, 2)
            out.append((a, b, protocol, port))
    return env, out


def _templates() -> list[str]:
    """Distinct lines with %-placeholders for what changes per packet (time, uuid, source port)."""
    rng = random.Random(SEED)
    env, connections = _connections(rng, TEMPLATES)
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    out = []
    for index, (source, destination, protocol, port) in enumerate(connections):
        kind = rng.choices(kinds, weights)[0]
        if kind == "established" and protocol != "TCP":
            kind = "syn"
        if kind == "reply":
            line = hubble_line(
                env.cluster, destination, source, protocol, 40000, second=index % 50, reply=True
            )
        else:
            line = hubble_line(
                env.cluster,
                source,
                destination,
                protocol,
                port,
                second=index % 50,
                established=kind == "established",
            )
        record = json.loads(line)
        flow = record["flow"]
        flow["time"] = record["time"] = "@TIME@"
        flow["uuid"] = "@UUID@"
        next(iter(flow["l4"].values()))["source_port"] = 999999
        text = json.dumps(record, separators=(",", ":")).replace("%", "%%")
        out.append(text.replace("@TIME@", "%(t)s").replace("@UUID@", "%(u)s").replace("999999", "%(p)d"))
    return out


def write_recording(path: Path, flows: int) -> None:
    if path.exists():
        return
    templates = _templates()
    rng = random.Random(SEED + 1)
    picks = [rng.randrange(TEMPLATES) for _ in range(65536)]
    step = 86_400 * 10**9 // max(flows, 1)
    partial = path.with_suffix(path.suffix + ".partial")
    started = time.perf_counter()
    with open(partial, "w") as handle:
        batch = []
        for index in range(flows):
            seconds, fraction = divmod(index * step, 10**9)
            minutes, second = divmod(seconds, 60)
            hours, minute = divmod(minutes, 60)
            stamp = f"2026-11-20T{hours:02d}:{minute:02d}:{second:02d}.{fraction:09d}Z"
            batch.append(
                templates[picks[index & 65535] if index < 65536 else picks[(index * 7919) & 65535]]
                % {"t": stamp, "u": f"00000000-0000-4000-8000-{index:012d}", "p": 32768 + index % 28000}
            )
            if len(batch) == 10000:
                handle.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            handle.write("\n".join(batch) + "\n")
    partial.rename(path)
    print(f"wrote {path.name}: {flows:,} lines in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def write_address_recording(path: Path, flows: int) -> None:
    """``flows`` new connections to the web pods, each from a different outside address."""
    if path.exists():
        return
    env = generate_environment(SEED)
    web = env.components["web"][0]
    line = hubble_line(env.cluster, "world:203.0.113.7", web, "TCP", 443, second=1)
    template = line.replace("%", "%%").replace('"source":"203.0.113.7"', '"source":"%(ip)s"')
    partial = path.with_suffix(path.suffix + ".partial")
    with open(partial, "w") as handle:
        for index in range(flows):
            address = f"{11 + (index >> 24) % 200}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"
            handle.write(template % {"ip": address} + "\n")
    partial.rename(path)


def timed(args: list[str], ok: tuple[int, ...] = (0,)) -> tuple[dict[str, float], str]:
    command = ["/usr/bin/time", "-f", "TIME %U %S %e %M", sys.executable, "-m", "autodeploy_netpol", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in ok:
        raise SystemExit(f"{args[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    user, system, wall, rss_kb = done.stderr.strip().splitlines()[-1].split()[1:]
    return {
        "cpu": float(user) + float(system),
        "wall": float(wall),
        "rss_mb": int(rss_kb) / 1024,
    }, done.stdout


def learn(path: Path) -> tuple[dict[str, float], dict]:
    measure, out = timed(
        [
            "suggest",
            "--from-flows",
            str(path),
            "-r",
            "production",
            "-n",
            "shop",
            "--egress",
            "--format",
            "json",
        ]
    )
    return measure, json.loads(out)


def audit(path: Path, desired: Path) -> dict[str, float]:
    measure, _ = timed(
        [
            "audit",
            "--flows",
            str(path),
            "--desired",
            str(desired),
            "--no-live",
            "-n",
            "shop",
            "-r",
            "production",
            "--format",
            "json",
        ],
    )
    return measure


def construction(path: Path) -> dict[str, float]:
    """In-process: reading (recorder) vs building the policy and proving it on the aggregate."""
    from autodeploy_netpol.checks.learn import FlowRecorder, LearnSettings, learn_policy, prove
    from autodeploy_netpol.sources.flows import ReadStats, read_flows

    settings = LearnSettings("production", "shop", egress=True)
    recorder = FlowRecorder(settings.helm_releases, "shop")
    stats = ReadStats()
    started = time.process_time()
    recorder.run(read_flows([str(path)], stats))
    read = time.process_time() - started
    observations = recorder.observations(stats)
    started = time.process_time()
    learned = learn_policy(observations, settings)
    built = time.process_time() - started
    started = time.process_time()
    proof = prove(learned, observations)
    proven = time.process_time() - started
    return {
        "lines": stats.lines,
        "connections": len(observations.connections)
        + sum(len(a.networks()) for a in observations.addresses.values()),
        "read": read,
        "build": built,
        "prove": proven,
        "flows": proof.flows,
    }


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--flows", type=int, default=10_000_000, help="lines in the large recording")
    options.add_argument("--small", type=int, default=1_000_000, help="lines in the small recording")
    options.add_argument(
        "--address-flows", type=int, default=1_000_000, help="lines from distinct addresses (0: skip)"
    )
    options.add_argument("--runs", type=int, default=3)
    args = options.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    recordings = []
    for count in dict.fromkeys([args.small, args.flows]):
        path = OUT / f"learn-flows-{count}.jsonl"
        write_recording(path, count)
        recordings.append(path)
    if args.address_flows:
        path = OUT / f"learn-addresses-{args.address_flows}.jsonl"
        write_address_recording(path, args.address_flows)
        recordings.append(path)
    print(
        f"Runs: {args.runs} per command and file (median CPU and wall, highest peak RSS); Python {sys.version.split()[0]}.\n"
    )
    print(
        "| recording | command | lines | app flows | CPU (user+sys) | wall | lines/s of CPU | peak RSS | proof |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for path in recordings:
        # suggest and audit take turns, so that a change in the machine's load hits both alike
        runs = [learn(path)]
        document = runs[0][1]
        lines = document["recording"]["lines"]
        desired = OUT / f"{path.stem}-learned.json"
        desired.write_text(json.dumps({"kind": "List", "items": document["objects"]}))
        audits = []
        with_audit = not path.name.startswith("learn-addresses-")
        for index in range(args.runs):
            if index:
                runs.append(learn(path))
            if with_audit:
                audits.append(audit(path, desired))
        rows = [("suggest --from-flows", [m for m, _ in runs])]
        if with_audit:
            rows.append(("audit (the learned policy)", audits))
        for name, measures in rows:
            cpu = statistics.median(m["cpu"] for m in measures)
            wall = statistics.median(m["wall"] for m in measures)
            rss = max(m["rss_mb"] for m in measures)
            proof = (
                f"{document['proof']['wouldDrop']} dropped, {document['proof']['slackCount']} slack"
                if name.startswith("suggest")
                else ""
            )
            app_flows = f"{document['recording']['appFlows']:,}" if name.startswith("suggest") else "—"
            print(
                f"| {path.name} ({path.stat().st_size / 2**20:,.0f} MiB) | {name} | {lines:,} | "
                f"{app_flows} | {cpu:.1f} s | {wall:.1f} s | {lines / cpu:,.0f} | {rss:.0f} MB | {proof} |"
            )
    print(
        "\nIn-process, one run each: reading the recording vs building and proving the policy on its aggregate.\n"
    )
    print("| recording | lines | distinct connections | read | build | prove |")
    print("|---|---:|---:|---:|---:|---:|")
    for path in recordings:
        phases = construction(path)
        print(
            f"| {path.name} | {phases['lines']:,} | {phases['connections']:,} | {phases['read']:.2f} s | "
            f"{phases['build'] * 1000:.0f} ms | {phases['prove'] * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
