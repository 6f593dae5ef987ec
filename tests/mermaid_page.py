"""A note's Markdown drawn as GitLab shows it: the HTML of the note with every ``mermaid`` fenced
block rendered by the pinned ``mermaid`` package in headless Chromium (playwright-core).

Shared by tests/smoke/test_mermaid_render.py (every graph of the posted notes renders, hostile
labels stay text) and tools/readme_screenshot.py (``make screenshot``: the README's picture of the
example's merge-request comment, taken the same way).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitlab_markdown import gitlab_renderer

#: The look of a note, near enough to GitLab's for a screenshot (system fonts, no network).
STYLE = """
body { margin: 0; background: #fff; }
#note { font: 14px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #333238;
        padding: 16px 20px; width: 860px; }
#note code { font-family: "DejaVu Sans Mono", monospace; font-size: 12.5px; background: #ececef;
             padding: 1px 4px; border-radius: 4px; }
#note table { border-collapse: collapse; margin: 8px 0; }
#note th, #note td { border: 1px solid #dcdcde; padding: 4px 10px; text-align: left; }
#note th { background: #fbfafd; }
#note h3 { font-size: 17px; margin: 0 0 10px; }
#note .mermaid-graph { margin: 8px 0; }
#note .mermaid-graph svg { max-width: 100%; }
"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>note</title>
<style>{style}</style>
<script src="{mermaid}"></script></head>
<body><div id="note">{body}</div></body></html>
"""

# Draws each graph on its own (as GitLab does, in its own frame), so one that fails is named.
SCRIPT = """
module.exports = async ({ page, args }) => {
  await page.setViewportSize({ width: 900, height: 700 });
  await page.goto(args.url);
  const graphs = await page.evaluate(async () => {
    const mermaid = window.mermaid;
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
    const out = [];
    for (const element of document.querySelectorAll('.mermaid-graph')) {
      const text = element.textContent;
      try {
        await mermaid.parse(text);
        await mermaid.run({ nodes: [element] });
      } catch (error) {
        out.push({ error: String(error && error.message ? error.message : error) });
        continue;
      }
      const svg = element.querySelector('svg');
      if (!svg) { out.push({ error: 'no <svg> was rendered' }); continue; }
      if (svg.getAttribute('aria-roledescription') === 'error') {
        out.push({ error: 'Mermaid drew its error diagram' });
        continue;
      }
      const box = svg.getBoundingClientRect();
      out.push({
        error: null,
        kind: svg.getAttribute('aria-roledescription'),
        nodes: [...svg.querySelectorAll('g.node')].map((node) => node.textContent.trim()),
        edgeLabels: [...svg.querySelectorAll('g.edgeLabel')].map((label) => label.textContent.trim()),
        edges: svg.querySelectorAll('g.edgePaths path, g.edges path.flowchart-link').length,
        elements: [...new Set([...svg.querySelectorAll('*')].map((node) => node.localName))].sort(),
        links: svg.querySelectorAll('a').length,
        dashedNodes: [...svg.querySelectorAll('g.node.hypothetical')].length,
        width: box.width,
        height: box.height,
      });
    }
    return out;
  });
  if (args.screenshot && graphs.every((graph) => !graph.error)) {
    await page.locator('#note').screenshot({ path: args.screenshot });
  }
  return graphs;
};
"""

_MERMAID_BLOCK = re.compile(r'<pre><code class="language-mermaid">(.*?)</code></pre>', re.S)


@dataclass
class DrawnNote:
    """What Chromium drew: one entry per mermaid block (``error`` None when it rendered)."""

    graphs: list[dict[str, Any]]
    page_errors: list[str]
    console_errors: list[str]
    blocked_requests: list[str]


def note_html(markdown: str) -> str:
    """The note as HTML (GitLab-flavoured, see tests/gitlab_markdown.py) with each mermaid block
    turned into the element Mermaid draws in (its text unchanged)."""
    rendered = gitlab_renderer().render(markdown)
    return _MERMAID_BLOCK.sub(lambda match: f'<pre class="mermaid-graph">{match.group(1)}</pre>', rendered)


def draw_note(
    browser: Any, mermaid_js: Path, workdir: Path, markdown: str, screenshot: Path | None = None
) -> DrawnNote:
    """Draw ``markdown`` in Chromium (``browser`` a tests/toolchain.py Browser); with ``screenshot``,
    a PNG of the whole note is written there when every graph rendered."""
    page = workdir / "note.html"
    page.write_text(
        PAGE.format(style=STYLE, mermaid=html.escape(mermaid_js.as_uri()), body=note_html(markdown)),
        encoding="utf-8",
    )
    run = browser.run(SCRIPT, {"url": page.as_uri(), "screenshot": str(screenshot) if screenshot else None})
    return DrawnNote(run.result, run.page_errors, run.console_errors, run.blocked_requests)
