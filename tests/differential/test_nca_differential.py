"""Differential test: our NetworkPolicy connectivity equals network-config-analyzer's (NCA 2.1.0).

Each case is a seeded synthetic cluster (namespaces, Deployments with replicas and bare Pods with
named ports, NetworkPolicies with every peer and port shape); both answers are normalised to
{(src, dst): TCP/UDP/SCTP port sets} with address ranges cut at the union of boundaries.
``nca_compatible`` leaves out the one shape where NCA departs from Kubernetes (README.md here).
NCA is slow (about a second per small case), so the suite runs a handful; bench/ sweeps more.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nca_support import differences, nca_available, ours, parse_nca, run_nca, write_cluster
from synthetic_cluster import generate_cluster

pytestmark = [
    pytest.mark.nca,
    pytest.mark.skipif(not nca_available(), reason="network-config-analyzer not installed (make .venv-nca)"),
]

CASES = [(seed, 20, 10) for seed in range(8)] + [(seed, 60, 30) for seed in (100, 101)]


@pytest.mark.parametrize(
    ("seed", "pods", "policies"), CASES, ids=[f"seed{s}-{p}pods-{n}pols" for s, p, n in CASES]
)
def test_connectivity_agrees_with_nca(seed: int, pods: int, policies: int, tmp_path: Path) -> None:
    cluster = generate_cluster(seed, pods=pods, policies=policies, nca_compatible=True)
    theirs = parse_nca(run_nca(write_cluster(cluster.objects, tmp_path), timeout=300))
    mine = ours(cluster.objects)
    assert theirs, "NCA printed no connection: the run or the parser is broken"
    assert differences(mine, theirs) == []


def test_parser_reads_every_nca_connection_form() -> None:
    output = "\n".join(
        [
            "global: cluster has 3 unique endpoints, 2 namespaces",
            "0.0.0.0-9.255.255.255 => ns/a[Deployment] : All connections",
            "ns/a[Deployment] => ns/b[Pod] : {protocols:TCP,UDP,dst_ports:53,8000-8010}",
            "ns/b[Pod] => ns/a[Deployment] : All but {protocols:TCP}",
            "ns/b[Pod] => ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff : {protocols:SCTP}",
        ]
    )
    edges = parse_nca(output)
    assert edges[((0, 167772159), "ns/a")].is_all()
    assert edges[("ns/a", "ns/b")].describe() == "TCP 53,8000-8010, UDP 53,8000-8010"
    assert edges[("ns/b", "ns/a")].describe() == "UDP all, SCTP all"
    assert len(edges) == 4
