"""Audit: throughput and peak memory of `autodeploy-netpol audit` on a generated Hubble recording.

Whole process: the CLI runs as a subprocess under /usr/bin/time; CPU time is user + system of
that process (the "one core" number: audit is single-threaded), wall time and peak RSS
(maximum resident set size) come from the same measurement. Median of --runs runs.

    .venv/bin/python bench/audit.py                    # 10 million flows, plus a gzip run
    .venv/bin/python bench/audit.py --flows 1000000 --runs 1

The recording is written once to bench/out/ (git-ignored) and reused: `hubble observe -o jsonpb`
lines for a generated cluster (tests/unit/audit_support.py), about 1.2 KB each, mixing new
connections (TCP SYN, UDP), replies and packets of established connections as a real capture
does; plus a recording where every connection comes from a different outside address (the
worst case for caches). Targets (issue 8): >= 200,000 flows/s on one core and < 200 MB peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from audit_support import PORTS, GeneratedCluster, generate_cluster, hubble_line, random_peer  # noqa: E402

SEED = 2026
TEMPLATES = 5000
#: share of lines per kind, roughly what `hubble observe` records for request/response traffic
MIX = (("syn", 0.35), ("reply", 0.40), ("established", 0.25))


def bench_cluster() -> GeneratedCluster:
    return generate_cluster(SEED, namespaces=6, workloads_per_namespace=15, policies=40)


def _templates(cluster: GeneratedCluster) -> list[str]:
    """Distinct lines with %-placeholders for what changes per packet (time, uuid, source port)."""
    rng = random.Random(SEED)
    out = []
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    for index in range(TEMPLATES):
        source, destination = random_peer(rng, cluster), random_peer(rng, cluster)
        protocol, port = rng.choice(PORTS)
        kind = rng.choices(kinds, weights)[0]
        if kind == "established" and protocol != "TCP":
            kind = "syn"
        if kind == "reply":
            line = hubble_line(cluster, destination, source, protocol, 40000, second=index % 50, reply=True)
        else:
            line = hubble_line(
                cluster,
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
        layer4 = next(iter(flow["l4"].values()))
        layer4["source_port"] = 999999
        text = json.dumps(record, separators=(",", ":")).replace("%", "%%")
        out.append(text.replace("@TIME@", "%(t)s").replace("@UUID@", "%(u)s").replace("999999", "%(p)d"))
    return out


def write_recording(path: Path, flows: int, *, compress: bool) -> None:
    """Write ``flows`` lines (about one day of traffic, times increasing)."""
    if path.exists():
        return
    cluster = bench_cluster()
    templates = _templates(cluster)
    rng = random.Random(SEED + 1)
    picks = [rng.randrange(TEMPLATES) for _ in range(65536)]
    step = 86_400 * 10**9 // max(flows, 1)
    partial = path.with_suffix(path.suffix + ".partial")
    opener = (lambda p: gzip.open(p, "wt", compresslevel=1)) if compress else (lambda p: open(p, "w"))  # noqa: SIM115
    started = time.perf_counter()
    with opener(partial) as handle:
        batch = []
        for index in range(flows):
            nanos = index * step
            seconds, fraction = divmod(nanos, 10**9)
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
    """``flows`` new connections, each from a different outside address (internet clients)."""
    if path.exists():
        return
    cluster = bench_cluster()
    line = hubble_line(cluster, "world:203.0.113.7", cluster.workloads[0], "TCP", 443, second=1)
    template = line.replace("%", "%%").replace('"source":"203.0.113.7"', '"source":"%(ip)s"')
    partial = path.with_suffix(path.suffix + ".partial")
    with open(partial, "w") as handle:
        for index in range(flows):
            address = f"{11 + (index >> 24) % 200}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"
            handle.write(template % {"ip": address} + "\n")
    partial.rename(path)


def write_policies() -> tuple[Path, Path]:
    cluster = bench_cluster()
    live = OUT / "audit-live.json"
    desired = OUT / "audit-desired.json"
    live.write_text(json.dumps({"kind": "List", "items": [*cluster.live, *cluster.namespace_objects()]}))
    desired.write_text(json.dumps({"kind": "List", "items": cluster.desired}))
    return live, desired


def run_audit(flows: Path, live: Path, desired: Path) -> dict[str, float]:
    command = [
        "/usr/bin/time",
        "-f",
        "TIME %U %S %e %M",
        sys.executable,
        "-m",
        "autodeploy_netpol",
        "audit",
        "--flows",
        str(flows),
        "--desired",
        str(desired),
        "--live",
        str(live),
        "-n",
        "ns0",
        "-r",
        "app",
        "--format",
        "json",
        "--max-dropped",
        str(10**12),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"audit failed ({done.returncode}):\n{done.stderr[-2000:]}")
    user, system, wall, rss_kb = done.stderr.strip().splitlines()[-1].split()[1:]
    summary = json.loads(done.stdout)["summary"]
    return {
        "cpu": float(user) + float(system),
        "wall": float(wall),
        "rss_mb": int(rss_kb) / 1024,
        "lines": summary["lines"],
        "flows": summary["flows"],
        "would_drop": summary["would_drop"],
        "groups": summary["groups"],
    }


def parser_comparison(path: Path, lines: int = 200_000) -> list[tuple[str, float]]:
    """Lines/s for decoding alone: the standard json module, orjson (if installed), msgspec as used."""
    import msgspec

    from autodeploy_netpol.sources import flows as flow_module

    with open(path, "rb") as handle:
        sample = [handle.readline() for _ in range(lines)]
    decoders = [("json (standard library), whole object", json.loads)]
    try:
        import orjson

        decoders.append(("orjson, whole object", orjson.loads))
    except ImportError:
        pass
    decoders.append(("msgspec, typed (the fields audit reads)", flow_module._LINE_DECODER.decode))
    decoders.append(("msgspec, whole object", msgspec.json.decode))
    results = []
    for name, decode in decoders:
        started = time.process_time()
        for line in sample:
            decode(line)
        results.append((name, lines / (time.process_time() - started)))
    return results


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--flows", type=int, default=10_000_000, help="lines in the plain recording")
    options.add_argument(
        "--gzip-flows", type=int, default=1_000_000, help="lines in the gzipped recording (0: skip)"
    )
    options.add_argument("--runs", type=int, default=3)
    options.add_argument(
        "--address-flows", type=int, default=1_000_000, help="lines from distinct outside addresses (0: skip)"
    )
    args = options.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    live, desired = write_policies()
    recordings = [(OUT / f"audit-flows-{args.flows}.jsonl", args.flows, False)]
    if args.gzip_flows:
        recordings.append((OUT / f"audit-flows-{args.gzip_flows}.jsonl.gz", args.gzip_flows, True))
    if args.address_flows:
        recordings.append((OUT / f"audit-addresses-{args.address_flows}.jsonl", args.address_flows, False))
    rows = []
    for path, count, compress in recordings:
        if path.name.startswith("audit-addresses-"):
            write_address_recording(path, count)
        else:
            write_recording(path, count, compress=compress)
        runs = [run_audit(path, live, desired) for _ in range(args.runs)]
        cpu = statistics.median(run["cpu"] for run in runs)
        wall = statistics.median(run["wall"] for run in runs)
        rss = max(run["rss_mb"] for run in runs)
        first = runs[0]
        rows.append(
            f"| {path.name} ({path.stat().st_size / 2**20:,.0f} MiB) | {first['lines']:,} | {first['flows']:,} "
            f"| {first['groups']:,} | {cpu:.1f} s | {wall:.1f} s | {first['lines'] / cpu:,.0f} | {rss:.0f} MB |"
        )
    print(
        f"Runs: {args.runs} per file (median CPU and wall time, highest peak RSS); Python {sys.version.split()[0]}.\n"
    )
    print(
        "| recording | lines | new connections | groups | CPU (user+sys) | wall | lines/s of CPU | peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print("\nDecoding alone (in-process, 200,000 lines of the recording):\n")
    print("| decoder | lines/s of CPU |")
    print("|---|---:|")
    for name, speed in parser_comparison(recordings[0][0]):
        print(f"| {name} | {speed:,.0f} |")


if __name__ == "__main__":
    main()
