"""The connectivity graphs of the posted notes, drawn by the pinned ``mermaid`` package in Debian's
Chromium (playwright-core, ``executablePath``) from the Markdown as posted: every graph renders
without error, shows the endpoints and changes it stands for, and hostile names stay text.

Each test draws a whole note body (tests/mermaid_page.py): the drift comment of the bundled example
through the real CLI, the same with a policies-only snapshot (hypothetical endpoints), a change too
big to draw one by one (collapsed), ``diff --format markdown``, and a note whose every endpoint is
an attack on the graph.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from gitlab_markdown import FRAGMENTS, mermaid_blocks
from mermaid_page import draw_note

from autodeploy_netpol.cli import main
from autodeploy_netpol.report.escape import MERMAID_LABEL_MAX, one_line
from autodeploy_netpol.report.markdown import render_markdown
from autodeploy_netpol.report.mermaid import MAX_EDGES, MAX_NODES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
ENV = {"HELM_RELEASE_NAME": "production", "KUBE_NAMESPACE": "shop-42-production", "CI_PROJECT_ID": "42"}
#: What an SVG drawn from the tool's graphs is made of; anything else came from a label.
SVG_ELEMENTS = {
    "circle", "defs", "div", "feDropShadow", "filter", "foreignObject", "g", "marker", "p", "path",
    "polygon", "rect", "span", "style", "svg", "line", "text", "tspan", "br",
}  # fmt: skip


def drift_note(*live: str) -> str:
    args = ["drift", str(EXAMPLE / ".gitlab" / "auto-deploy-values.yaml"), "--format", "markdown"]
    for path in live:
        args += ["--live", str(EXAMPLE / path)]
    result = CliRunner(env=ENV).invoke(main, args)
    assert result.exit_code == 1, result.output
    return result.output


def drawn(browser, mermaid_js, tmp_path: Path, markdown: str, graphs: int = 1) -> list[dict]:
    assert len(mermaid_blocks(markdown)) == graphs
    note = draw_note(browser, mermaid_js, tmp_path, markdown)
    assert note.blocked_requests == [] and note.page_errors == [], note
    assert len(note.graphs) == graphs
    for graph in note.graphs:
        assert graph["error"] is None, graph["error"]
        assert graph["kind"] == "flowchart-v2"
        assert set(graph["elements"]) <= SVG_ELEMENTS, set(graph["elements"]) - SVG_ELEMENTS
        assert graph["links"] == 0
    return note.graphs


def test_the_example_drift_comment_draws_the_real_endpoints(browser, mermaid_js, tmp_path):
    (graph,) = drawn(browser, mermaid_js, tmp_path, drift_note("live-snapshot.yaml", "cluster.yaml"))
    assert sorted(graph["nodes"]) == ["monitoring/prometheus", "shop-42-production/production"]
    assert sorted(graph["edgeLabels"]) == ["+ TCP 9090", "\u2212 TCP 5005,9100"]
    assert graph["edges"] == 2 and graph["dashedNodes"] == 0


def test_hypothetical_endpoints_are_drawn_as_such(browser, mermaid_js, tmp_path):
    (graph,) = drawn(browser, mermaid_js, tmp_path, drift_note("live-snapshot.yaml"))
    assert sorted(graph["nodes"]) == [
        "monitoring/(hypothetical) any pod",
        "shop-42-production/(hypothetical) pods of Deployment production",
    ]
    assert graph["dashedNodes"] == 2


def _section(added: list[tuple[str, str, str]], removed: list[tuple[str, str, str]]) -> dict:
    def pairs(items: list[tuple[str, str, str]]) -> list[dict[str, str]]:
        return [{"src": src, "dst": dst, "allowed": allowed} for src, dst, allowed in items]

    return {
        "verdict": "changes",
        "added": [],
        "removed": [],
        "addedPairs": pairs(added),
        "removedPairs": pairs(removed),
        "workloads": 3,
        "notes": [],
    }


def _report(section: dict) -> dict:
    return {
        "kind": "DriftReport",
        "scope": {"namespace": "shop"},
        "summary": {"verdict": "in-sync"},
        "connectivity": section,
    }


def test_a_change_too_big_to_draw_one_by_one_is_collapsed_and_renders(browser, mermaid_js, tmp_path):
    added = [(f"team{i % 7}/client-{i}", f"shop/api-{i % 9}", "TCP 8080") for i in range(120)]
    removed = [(f"shop/api-{i}", f"10.0.{i}.0/24", "TCP 5432") for i in range(30)]
    markdown = render_markdown(_report(_section(added, removed)))
    (graph,) = drawn(browser, mermaid_js, tmp_path, markdown)
    assert sorted(graph["nodes"]) == sorted(
        [*(f"team{i}/*" for i in range(7)), "shop/*", "outside the cluster"]
    )
    assert len(graph["nodes"]) <= MAX_NODES and graph["edges"] <= MAX_EDGES
    assert "+ 120 connections" not in graph["edgeLabels"]  # split per namespace pair
    assert sum(int(label.split()[1]) for label in graph["edgeLabels"] if label.startswith("+")) == 120
    assert "\u2212 30 connections" in graph["edgeLabels"]
    assert "collapsed into their namespaces" in markdown


def test_diff_markdown_draws_its_change(browser, mermaid_js, tmp_path):
    before = tmp_path / "before.yaml"
    after = tmp_path / "after.yaml"
    cluster = (EXAMPLE / "cluster.yaml").read_text()
    before.write_text(cluster)
    after.write_text(
        cluster + "\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny, namespace: shop-42-production}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
    )
    result = CliRunner().invoke(
        main, ["diff", "--before", str(before), "--after", str(after), "--format", "markdown"]
    )
    assert result.exit_code == 1, result.output
    (graph,) = drawn(browser, mermaid_js, tmp_path, result.output)
    assert "shop-42-production/production" in graph["nodes"]
    assert graph["edgeLabels"] and all(label.startswith("\u2212 ") for label in graph["edgeLabels"])


#: Attacks on the graph itself (ending a label, new statements, directives, HTML) and the note's.
GRAPH_ATTACKS = (
    'web"] --> evil["x', "web]\n  click n0 href \"https://evil.example\"", "%%{init: {'securityLevel': 'loose'}}%%",
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "a|b", "`**bold**`", "#quot;", "&lt;b&gt;",
    "x\n```\n/label ~x", "n0:::hypothetical", "classDef x fill:red", "style n0 fill:red", "a --> b", "(( ))",
)  # fmt: skip


def test_hostile_endpoint_names_render_as_their_text(browser, mermaid_js, tmp_path):
    """Every attack (and every fragment of tests/gitlab_markdown.py, alone and after a namespace) as
    an endpoint name, 20 to a note, all notes drawn on one page: every graph renders, each node
    shows its name itself (on one line, shortened past the label limit) and nothing in the SVG
    comes from a name."""
    names = sorted({*GRAPH_ATTACKS, *FRAGMENTS, *(f"ns/{fragment}" for fragment in FRAGMENTS)})
    names = [name for name in names if name.strip()]
    chunks = [names[start : start + 20] for start in range(0, len(names), 20)]
    notes = [
        render_markdown(_report(_section([(name, "shop/web", "TCP 80") for name in chunk], [])))
        for chunk in chunks
    ]
    graphs = drawn(browser, mermaid_js, tmp_path, "\n\n".join(notes), graphs=len(chunks))

    def shown(name: str) -> str:
        flat = one_line(name)
        flat = flat if len(flat) <= MERMAID_LABEL_MAX else flat[: MERMAID_LABEL_MAX - 1] + "…"
        return seen(flat)

    def seen(text: str) -> str:  # the browser collapses white space; textContent.trim() drops a BOM
        return " ".join(text.replace("\ufeff", " ").split())

    for chunk, graph in zip(chunks, graphs, strict=True):
        assert sorted(seen(node) for node in graph["nodes"]) == sorted([*map(shown, chunk), "shop/web"])
        assert graph["edgeLabels"] == ["+ TCP 80"] * len(chunk)


def test_the_readme_screenshot_comes_from_make_screenshot(browser, mermaid_js, tmp_path):
    """`make screenshot` (tools/readme_screenshot.py) draws the example's comment; the README shows
    the picture it wrote (docs/drift-comment.png), not one made by hand."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "readme_screenshot", root / "tools" / "readme_screenshot.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = tmp_path / "comment.png"
    (graph,) = module.screenshot(output)
    assert sorted(graph["nodes"]) == ["monitoring/prometheus", "shop-42-production/production"]
    for png in (output, root / "docs" / "drift-comment.png"):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert 600 < width < 1200 and 200 < height < 1200, (png, width, height)
    assert "](docs/drift-comment.png)" in (root / "README.md").read_text()
    assert "tools/readme_screenshot.py $(SCREENSHOT)" in (root / "Makefile").read_text()
