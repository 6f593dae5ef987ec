"""Running network-config-analyzer (NCA) and putting its answer and ours in one canonical form.

NCA lives in its own virtualenv (``.venv-nca``, ``make .venv-nca``: it pins a PyYAML that the
Kubernetes client refuses) and runs as a subprocess:
``nca --connectivity F --pod_list F --ns_list F -o txt_no_fw_rules --print_ipv6``, one line per
connected pair: ``src => dst : <connections>``.

Canonical form: ``{(src, dst): ConnectionSet}`` over TCP/UDP/SCTP, workloads as ``ns/name``,
address ranges cut at the union of both sides' boundaries so the two maps compare key by key.
"""

from __future__ import annotations

import os
import re
import subprocess
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from autodeploy_netpol.policy import Model
from autodeploy_netpol.policy.analysis import NodeKey, analyse
from autodeploy_netpol.policy.intervals import (
    ALL_CONNECTIONS,
    ALL_PORTS,
    NO_CONNECTIONS,
    PROTOCOLS,
    ConnectionSet,
    IntervalSet,
    ip_to_int,
)

REPO = Path(__file__).resolve().parents[2]
NCA = Path(os.environ.get("NCA_BIN", REPO / ".venv-nca" / "bin" / "nca"))

Canonical = dict[tuple[NodeKey, NodeKey], ConnectionSet]


def nca_available() -> bool:
    return NCA.exists()


def write_cluster(objects: Sequence[Mapping[str, Any]], directory: Path) -> Path:
    path = directory / "cluster.yaml"
    path.write_text(yaml.safe_dump_all([dict(o) for o in objects], sort_keys=False))
    return path


def run_nca(path: Path, timeout: float | None = None) -> str:
    """NCA's connectivity map for a snapshot file (pods, namespaces and policies in one file)."""
    result = subprocess.run(
        [
            str(NCA),
            "--connectivity",
            str(path),
            "--pod_list",
            str(path),
            "--ns_list",
            str(path),
            "-o",
            "txt_no_fw_rules",
            "--print_ipv6",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode not in (0, 1) or (" => " not in result.stdout and "=>" in result.stderr):
        raise RuntimeError(f"nca failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conns>.+)$")
_KEY = re.compile(r"(protocols|dst_ports|src_ports|icmp_type|icmp_code|methods|paths|hosts):")


def _node(token: str) -> list[NodeKey]:
    if "[" in token:
        return [token.split("[", 1)[0]]
    nodes: list[NodeKey] = []
    for part in token.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            nodes.append((ip_to_int(lo), ip_to_int(hi)))
        elif "/" in part:
            from autodeploy_netpol.policy.intervals import cidr_range

            nodes.append(cidr_range(part))
        else:
            value = ip_to_int(part)
            nodes.append((value, value))
    return nodes


def _ports(text: str) -> IntervalSet:
    ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return IntervalSet(ranges)


def _cube(text: str) -> ConnectionSet:
    """``{protocols:TCP,UDP,dst_ports:53,8080-8090}`` → ConnectionSet."""
    body = text.strip().strip("{}")
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(body))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        fields[match.group(1)] = body[match.end() : end].strip().rstrip(",")
    unknown = set(fields) - {"protocols", "dst_ports"}
    if unknown:
        raise ValueError(f"unexpected NCA dimension(s) {unknown} in {text!r}")
    protocols = [p.strip().upper() for p in fields.get("protocols", "TCP,UDP,SCTP").split(",")]
    ports = _ports(fields["dst_ports"]) if "dst_ports" in fields else ALL_PORTS
    result = NO_CONNECTIONS
    for protocol in protocols:
        if protocol in PROTOCOLS:
            result = result.union(ConnectionSet.of(protocol, ports))
    return result


def _connections(text: str) -> ConnectionSet:
    text = text.strip()
    if text == "All connections":
        return ALL_CONNECTIONS
    if text.startswith("All but "):
        return ALL_CONNECTIONS.difference(_connections(text[len("All but ") :]))
    result = NO_CONNECTIONS
    for cube in re.findall(r"\{[^}]*\}", text):
        result = result.union(_cube(cube))
    return result


def parse_nca(output: str) -> Canonical:
    edges: Canonical = {}
    for line in output.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        conns = _connections(match.group("conns"))
        if not conns:
            continue
        for src in _node(match.group("src")):
            for dst in _node(match.group("dst")):
                edges[(src, dst)] = edges.get((src, dst), NO_CONNECTIONS).union(conns)
    return edges


def ours(objects: Sequence[Mapping[str, Any]]) -> Canonical:
    return dict(analyse(Model.from_objects(objects), with_ipv6=True).merged().edges)


def align(left: Canonical, right: Canonical) -> tuple[Canonical, Canonical]:
    """Both maps with address ranges cut at the union of their boundaries."""
    cuts: set[int] = set()
    for edges in (left, right):
        for src, dst in edges:
            for node in (src, dst):
                if isinstance(node, tuple):
                    cuts.update((node[0], node[1] + 1))
    ordered = sorted(cuts)

    def pieces(node: NodeKey) -> list[NodeKey]:
        if not isinstance(node, tuple):
            return [node]
        lo, hi = node
        start, stop = bisect_left(ordered, lo), bisect_right(ordered, hi + 1)
        points = ordered[start:stop]
        return [(points[i], points[i + 1] - 1) for i in range(len(points) - 1)]

    def cut(edges: Canonical) -> Canonical:
        out: Canonical = {}
        for (src, dst), conns in edges.items():
            for s in pieces(src):
                for d in pieces(dst):
                    out[(s, d)] = out.get((s, d), NO_CONNECTIONS).union(conns)
        return out

    return cut(left), cut(right)


def differences(left: Canonical, right: Canonical, limit: int = 10) -> list[str]:
    """Human-readable differences between two canonical maps (empty when they agree)."""
    a, b = align(left, right)
    out = []
    for key in sorted(set(a) | set(b), key=str):
        mine, theirs = a.get(key, NO_CONNECTIONS), b.get(key, NO_CONNECTIONS)
        if mine != theirs:
            out.append(f"{key}: ours={mine.describe()} nca={theirs.describe()}")
            if len(out) >= limit:
                break
    return out
