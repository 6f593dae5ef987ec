"""Connectivity engine vs network-config-analyzer (NCA 2.1.0), side by side, whole process.

    .venv/bin/python bench/connectivity.py                       # 100/50, 400/200, 5000/2000
    .venv/bin/python bench/connectivity.py --sizes 100:50 --runs 5
    .venv/bin/python bench/connectivity.py --profile random --sizes 100:50,400:200
    .venv/bin/python bench/connectivity.py --sweep 100           # differential sweep: 100 seeds vs NCA
    .venv/bin/python bench/connectivity.py --sizes 5000:2000 --cluster-policies 100 --nca-timeout 1

For each size a seeded synthetic cluster (``generate_cluster(seed, pods=, policies=,
nca_compatible=True, profile=)``: namespaces, Deployments with replicas and bare Pods with named
ports, NetworkPolicies) is written to one YAML file. Profile ``namespaced`` (default) is how
clusters with many policies look: a default-deny per namespace and policies that each open one
app to a few peers; ``random`` makes every policy random, which leaves most pods open (dense
connectivity: the output grows with pods², and so does any tool's time). Both tools read that file in a fresh process:
``autodeploy-netpol connectivity FILE --format json`` and ``nca --connectivity FILE --pod_list FILE
--ns_list FILE -o txt_no_fw_rules``. Wall time is the median of ``--runs`` runs, CPU
time (user+sys) and peak RSS come from ``/usr/bin/time``. NCA runs once per size, within
``--nca-timeout`` seconds. Both outputs are normalised (tests/differential/nca_support.py) and
compared: "identical" means the same (src, dst, protocol, ports) sets. Prints a Markdown table.

``--cluster-policies N`` measures what the cluster-scoped tiers cost: the same cluster with N
ClusterNetworkPolicies added (``generate_cluster_network_policies``: Admin and Baseline tiers,
Accept/Deny/Pass rules; ``--guardrails-only``: Deny and Pass only), our CLI only (no peer reads
the tiers), with the ratio to the run without them; the issue's bound is at most 2x at 5000 pods /
2000 policies with 100 cluster policies. What an Accept opens adds pairs to the output, which any
tool pays for in proportion: the table gives the connection records without and with the tiers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "differential"))
sys.path.insert(0, str(REPO / "tests"))  # the synthetic cluster generator is test support

from nca_support import NCA, differences, nca_available, parse_nca, write_cluster  # noqa: E402
from synthetic_cluster import generate_cluster, generate_cluster_network_policies  # noqa: E402

from autodeploy_netpol.policy.intervals import (  # noqa: E402
    ALL_PORTS,
    NO_CONNECTIONS,
    ConnectionSet,
    IntervalSet,
    cidr_range,
    ip_to_int,
)

CLI = REPO / ".venv" / "bin" / "autodeploy-netpol"
SIZES = [(100, 50), (400, 200), (5000, 2000)]


def measure(
    command: list[str], stdout_path: Path, timeout: float | None
) -> tuple[float, float, float] | None:
    """(wall s, CPU s, peak RSS MiB) of one whole-process run, or None on timeout."""
    with open(stdout_path, "w") as out, tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        # a session of its own, so a timeout ends the measured process too, not only /usr/bin/time
        process = subprocess.Popen(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", stats.name, *command],
            stdout=out,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None
        wall = time.perf_counter() - start
        user, system, rss_kib = stats.read().split()[-3:]
    return wall, float(user) + float(system), int(rss_kib) / 1024


def _node(text: str) -> str | tuple[int, int]:
    if "/" in text and not text[0].isdigit() and ":" not in text.split("/")[0]:
        return text  # a workload ns/name
    if "-" in text and "/" not in text:
        lo, hi = text.split("-", 1)
        return (ip_to_int(lo), ip_to_int(hi))
    try:
        return cidr_range(text)
    except ValueError:
        return text


def ours_from_json(path: Path) -> dict:
    """Our JSON report back into the canonical {(src, dst): ConnectionSet} form."""
    edges: dict = {}
    for record in json.loads(path.read_text())["connections"]:
        ports = (
            ALL_PORTS
            if record["ports"] == "all"
            else IntervalSet([tuple(int(p) for p in (record["ports"].split("-") * 2)[:2])])
        )
        protocol = "ANY" if record["protocol"] == "all" else record["protocol"]
        key = (_node(record["src"]), _node(record["dst"]))
        edges[key] = edges.get(key, NO_CONNECTIONS).union(ConnectionSet.of(protocol, ports))
    return edges


def bench_size(
    pods: int,
    policies: int,
    runs: int,
    nca_timeout: float,
    seed: int,
    profile: str,
    cluster_policies: int = 0,
    accepts: bool = True,
) -> dict:
    cluster = generate_cluster(seed, pods=pods, policies=policies, nca_compatible=True, profile=profile)
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        snapshot = write_cluster(cluster.objects, workdir)
        ours_out = workdir / "ours.json"
        samples = [
            measure([str(CLI), "connectivity", str(snapshot), "--format", "json"], ours_out, None)
            for _ in range(runs)
        ]
        ours = [s for s in samples if s is not None]
        if cluster_policies:
            tiered_dir = workdir / "tiered"
            tiered_dir.mkdir()
            tiered = write_cluster(
                [
                    *cluster.objects,
                    *generate_cluster_network_policies(seed, cluster_policies, accepts=accepts),
                ],
                tiered_dir,
            )
            tiered_out = workdir / "tiered.json"
            tiered_samples = [
                measure([str(CLI), "connectivity", str(tiered), "--format", "json"], tiered_out, None)
                for _ in range(runs)
            ]
            with_tiers = [s for s in tiered_samples if s is not None]
            tiered_pairs = json.loads(tiered_out.read_text())["connections"]
        else:
            with_tiers, tiered_pairs = [], []
        row = {
            "pods": pods,
            "policies": policies,
            "objects": len(cluster.objects),
            "bytes": snapshot.stat().st_size,
            "ours_wall": statistics.median(s[0] for s in ours),
            "ours_cpu": statistics.median(s[1] for s in ours),
            "ours_rss": max(s[2] for s in ours),
        }
        if with_tiers:
            row["tiers_wall"] = statistics.median(s[0] for s in with_tiers)
            row["tiers_cpu"] = statistics.median(s[1] for s in with_tiers)
            row["tiers_rss"] = max(s[2] for s in with_tiers)
            row["tiers_records"] = len(tiered_pairs)
            row["records"] = len(json.loads(ours_out.read_text())["connections"])
        mine = ours_from_json(ours_out)
        row["pairs"] = len({key for key in mine if isinstance(key[0], str) and isinstance(key[1], str)})
        if not nca_available():
            row["nca"] = "not installed"
            return row
        nca_out = workdir / "nca.txt"
        # no --print_ipv6: our report shows IPv6 ranges only when a policy uses IPv6, as NCA does
        command = [
            str(NCA),
            "--connectivity",
            str(snapshot),
            "--pod_list",
            str(snapshot),
            "--ns_list",
            str(snapshot),
            "-o",
            "txt_no_fw_rules",
        ]
        result = measure(command, nca_out, nca_timeout)
        if result is None:
            row["nca"] = f"not finished in {nca_timeout:.0f} s"
            return row
        row["nca_wall"], row["nca_cpu"], row["nca_rss"] = result
        diffs = differences(mine, parse_nca(nca_out.read_text()))
        row["identical"] = "yes" if not diffs else f"NO ({len(diffs)}+ differences, e.g. {diffs[0]})"
    return row


def sweep(count: int, pods: int, policies: int) -> None:
    from nca_support import ours, run_nca

    failures = 0
    started = time.perf_counter()
    for seed in range(count):
        cluster = generate_cluster(10_000 + seed, pods=pods, policies=policies, nca_compatible=True)
        with tempfile.TemporaryDirectory() as directory:
            diffs = differences(
                ours(cluster.objects), parse_nca(run_nca(write_cluster(cluster.objects, Path(directory))))
            )
        if diffs:
            failures += 1
            print(f"seed {10_000 + seed}: {diffs[:3]}")
    elapsed = time.perf_counter() - started
    print(
        f"sweep: {count} clusters of {pods} pods / {policies} policies (seeds 10000-{10_000 + count - 1}), "
        f"{failures} with differences, {elapsed:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(f"{p}:{n}" for p, n in SIZES), help="pods:policies,...")
    parser.add_argument("--runs", type=int, default=3, help="runs of our CLI per size (median)")
    parser.add_argument("--nca-timeout", type=float, default=900.0, help="seconds NCA may take per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=("namespaced", "random"), default="namespaced")
    parser.add_argument(
        "--sweep", type=int, default=0, help="instead: differential sweep over this many seeds"
    )
    parser.add_argument("--sweep-size", default="40:20", help="pods:policies of the sweep clusters")
    parser.add_argument(
        "--cluster-policies",
        type=int,
        default=0,
        help="also time the cluster with this many ClusterNetworkPolicies",
    )
    parser.add_argument(
        "--guardrails-only",
        action="store_true",
        help="the ClusterNetworkPolicies only Deny and Pass (no Accept opening more pairs)",
    )
    args = parser.parse_args()
    if args.sweep:
        pods, policies = (int(x) for x in args.sweep_size.split(":"))
        sweep(args.sweep, pods, policies)
        return
    print(
        f"profile {args.profile}, seed {args.seed}; CPUs: {os.cpu_count()}, "
        f"load average: {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}\n"
    )
    print(
        "| pods / policies | objects (YAML) | connected workload pairs | ours: wall (median) | ours: CPU | ours: peak RSS "
        "| NCA: wall | NCA: CPU | NCA: peak RSS | speed-up (wall) | identical |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    tiered: list[str] = []
    for item in args.sizes.split(","):
        pods, policies = (int(x) for x in item.split(":"))
        row = bench_size(
            pods,
            policies,
            args.runs,
            args.nca_timeout,
            args.seed,
            args.profile,
            args.cluster_policies,
            not args.guardrails_only,
        )
        ours_cells = f"{row['ours_wall']:.2f} s | {row['ours_cpu']:.2f} s | {row['ours_rss']:.0f} MiB"
        if "nca_wall" in row:
            nca_cells = f"{row['nca_wall']:.2f} s | {row['nca_cpu']:.2f} s | {row['nca_rss']:.0f} MiB"
            speedup = f"{row['nca_wall'] / row['ours_wall']:.0f}x"
            identical = row["identical"]
        else:
            nca_cells, speedup, identical = f"{row['nca']} | | ", "", "not compared"
        print(
            f"| {pods} / {policies} | {row['objects']} ({row['bytes'] / 1e6:.1f} MB) | {row['pairs']} | {ours_cells} "
            f"| {nca_cells} | {speedup} | {identical} |",
            flush=True,
        )
        if "tiers_wall" in row:
            tiered.append(
                f"| {pods} / {policies} + {args.cluster_policies} | {row['ours_wall']:.2f} s | {row['tiers_wall']:.2f} s "
                f"| {row['tiers_cpu']:.2f} s | {row['tiers_rss']:.0f} MiB | {row['tiers_wall'] / row['ours_wall']:.2f}x "
                f"| {row['records']} → {row['tiers_records']} |"
            )
    if tiered:
        print(
            "\nWith ClusterNetworkPolicies (our CLI only):\n\n| pods / policies + cluster policies | wall without "
            "| wall with (median) | CPU with | peak RSS with | cost (wall) | connection records without → with |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(tiered))


if __name__ == "__main__":
    main()
