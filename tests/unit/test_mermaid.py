"""The connectivity change as a Mermaid flowchart: nodes, gained and lost edges told apart,
hypothetical endpoints marked, collapsing beyond a readable size (the drawing itself is checked
in Chromium by tests/smoke/test_mermaid_render.py)."""

from __future__ import annotations

import re

from autodeploy_netpol.report.escape import mermaid_label
from autodeploy_netpol.report.mermaid import GAINED_STYLE, LOST_STYLE, MAX_EDGES, change_graph


def test_gained_and_lost_edges_differ_in_line_colour_and_label() -> None:
    graph = change_graph(
        [("monitoring/prometheus", "shop/web", "TCP 9090")],
        [("monitoring/prometheus", "shop/web", "TCP 5005,9100")],
    )
    assert graph.lines == (
        "flowchart LR",
        '  n0["monitoring/prometheus"]',
        '  n1["shop/web"]',
        '  n0 -->|"#43; TCP 9090"| n1',
        '  n0 -.->|"#8722; TCP 5005,9100"| n1',
        f"  linkStyle 0 {GAINED_STYLE}",
        f"  linkStyle 1 {LOST_STYLE}",
    )
    assert "newly allowed" in graph.caption and "no longer allowed" in graph.caption
    assert "collapsed" not in graph.caption
    block = graph.markdown()[0]
    assert block.startswith("```mermaid\n") and block.endswith("\n```")


def test_hypothetical_endpoints_are_dashed_and_said_so() -> None:
    graph = change_graph(
        [("monitoring/(hypothetical) any pod", "shop/web", "TCP 9090")],
        [],
        hypothetical=["monitoring/(hypothetical) any pod"],
    )
    assert "  class n0 hypothetical" in graph.lines
    assert "hypothetical" in graph.caption


def test_beyond_a_readable_size_workloads_collapse_into_namespaces() -> None:
    added = [(f"team{i % 3}/client-{i}", f"shop/api-{i % 5}", "TCP 8080") for i in range(30)]
    removed = [("shop/api-0", "10.0.0.0-10.0.0.255", "TCP 5432"), ("shop/api-1", "0.0.0.0/0", "UDP 53")]
    graph = change_graph(added, removed)
    nodes = [line for line in graph.lines if re.fullmatch(r'  n\d+\[".*"\]', line)]
    assert sorted(nodes) == sorted(
        [
            f'  n{i}["{mermaid_label(name)}"]'
            for i, name in enumerate(["team0/*", "shop/*", "team1/*", "team2/*", "outside the cluster"])
        ]
    )
    assert '|"#43; 10 connections"|' in "\n".join(graph.lines)
    assert "collapsed into their namespaces" in graph.caption and "table below" in graph.caption


def test_beyond_that_only_the_busiest_edges_are_drawn() -> None:
    added = [(f"ns{i}/a", f"ns{i + 100}/b", "TCP 80") for i in range(MAX_EDGES + 10)]
    added += [("ns0/c", "ns100/d", "TCP 81")]  # one more pair on the first edge
    graph = change_graph(added, [])
    edges = [line for line in graph.lines if "-->" in line]
    assert len(edges) == MAX_EDGES
    assert '|"#43; 2 connections"|' in edges[0]
    assert (
        f"The {MAX_EDGES} busiest arrows are drawn ({MAX_EDGES + 1} of {MAX_EDGES + 11} connection changes)"
        in graph.caption
    )
