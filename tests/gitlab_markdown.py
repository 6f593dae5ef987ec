"""A merge-request note as GitLab reads it, the rules every note body the tool posts must keep,
and hostile strings to try them with (shared by the unit, acceptance and GitLab tests).

How GitLab handles a note body, and what each rule below models:

1. Before rendering, quick actions run: a line that starts with ``/`` and a command name
   (``/label ~x``, ``/approve``, ``/merge``). GitLab skips code blocks and HTML blocks with
   regexes that end at the first line equal to ```` ``` ```` or ``</anything>``, so a ``</p>`` line
   ends the exclusion early; the rule here is therefore stricter than GitLab's: no line of the
   note starts with ``/`` at all, inside code or not (``\\r`` is deleted first, as GitLab does).
2. The body is rendered as CommonMark with GFM's tables, strikethrough and autolinks and with
   raw HTML (then sanitised): modelled with markdown-it-py, configured like GFM (linkify-it
   without bare domains, which GFM does not link). Rule: only the HTML elements the tool
   writes itself, ``<details>`` and ``<summary>`` exactly as many as the tool wrote (one per
   line of the note that starts with them), and no link but the ones the tool adds.
3. GitLab then runs filters over the text of that HTML outside ``code``, ``pre`` and ``a``:
   references (``@user``, ``#1``, ``!1``, ``~label``, ``%milestone``, ``$1``, ``&1``, …),
   autolinks for any ``scheme://`` and GFM's ``www.`` and e-mail autolinks, emoji, inline
   diffs. Rule: none of them can match any text node there.
4. A table row has exactly its header's cell count: GFM splits a row at every ``|`` not
   preceded by a backslash, even inside a code span (checked on the raw lines: markdown-it,
   like GitLab, quietly drops extra cells and pads missing ones).
5. No control character but ``\\n`` (no carriage return, no terminal escape, no line or
   paragraph separator, no bidi override, no lone surrogate).
6. A fenced ``mermaid`` block is drawn by GitLab as a diagram, so its text is a program, not
   inert code: a ``click`` line adds a link, ``%%{init}%%`` changes the settings, a ``"]`` in a
   label ends it and starts new nodes or edges. Rule: every line of every mermaid block is one
   of the statements the tool writes (the header, ``nN["label"]``, ``nA -->|"label"| nB`` or
   ``-.->``, ``linkStyle``, ``classDef`` and ``class`` with the tool's own styles), and labels
   hold only letters, digits, ``␠_.,/-`` and ``#<decimal>;`` entity codes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from hypothesis import strategies as st
from markdown_it import MarkdownIt

#: Every element the tool's own Markdown and HTML produce.
TOOL_TAGS = frozenset(
    {
        "h3", "p", "strong", "em", "code", "pre", "ul", "li", "blockquote",
        "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "a",
    }
)  # fmt: skip

_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

#: What GitLab's filters find in text nodes (reference patterns from its ``*ReferenceFilter``s,
#: generalised: any opener followed by what could start a reference).
TEXT_NODE_RULES: dict[str, re.Pattern[str]] = {
    "mention": re.compile(r"@[A-Za-z0-9_.-]"),
    "issue reference": re.compile(r"#\d|#[A-Za-z]"),
    "merge request reference": re.compile(r"!\d"),
    "label reference": re.compile(r"~[A-Za-z0-9_\"?&.-]"),
    "milestone reference": re.compile(r"%[A-Za-z0-9_\"?&.-]"),
    "snippet reference": re.compile(r"\$\d"),
    "epic reference": re.compile(r"&\d"),
    "iteration or vulnerability reference": re.compile(r"\*iteration:[\w\"]|\[vulnerability:[\w\"]", re.I),
    "autolink (scheme://)": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://"),
    "autolink (www.)": re.compile(r"www\.[A-Za-z0-9_-]", re.I),
    "autolink (e-mail)": re.compile(r"[A-Za-z0-9.+_-]@[A-Za-z0-9_-]"),
    "autolink (mailto:, xmpp:)": re.compile(r"(mailto|xmpp):[A-Za-z0-9.+_-]", re.I),
    "emoji": re.compile(r":[a-z0-9_+-]*[a-z][a-z0-9_+-]*:", re.I),
    "inline diff": re.compile(r"\{\+.*?\+\}|\[-.*?-\]"),
    "math": re.compile(r"\$`|\$\$"),
}


def gitlab_renderer() -> MarkdownIt:
    """CommonMark + raw HTML + GFM tables, strikethrough and autolinks (no bare domains)."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
        ["table", "strikethrough", "linkify"]
    )
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": True, "fuzzy_ip": False})
    return md


_RENDERER = gitlab_renderer()


class RenderedNote(HTMLParser):
    """The HTML of a rendered note: its tags in order, its links, and its text nodes outside
    ``code``, ``pre`` and ``a`` (where GitLab's filters look)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.links: list[str] = []
        self.prose: list[str] = []
        self._inert_depth = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in {"code", "pre", "a"}:
            self._inert_depth += 1
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        self.attributes.extend(f"{tag}[{name}={value}]" for name, value in attrs if (tag, name) != ("a", "href"))

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)
        if tag in {"code", "pre", "a"}:
            self._inert_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._inert_depth == 0:
            self.prose.append(data)

    @property
    def skeleton(self) -> list[str]:
        """The element structure, without text: equal for any text in the same places."""
        return self.tags + self.attributes


def render(body: str) -> RenderedNote:
    return RenderedNote(_RENDERER.render(body))


def visible_text(body: str) -> str:
    """What a reader sees of the note outside code (the escaper's zero-width spaces removed)."""
    return "".join(render(body).prose).replace("\u200b", "")


def gfm_cells(row: str) -> int:
    """How many cells GFM makes of a table row: split at each ``|`` not after a backslash."""
    inner = row.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return len(re.split(r"(?<!\\)\|", inner))


_DELIMITER_ROW = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def _fence_states(lines: Sequence[str]) -> list[bool]:
    """For each line: is it part of a fenced code block (fences included)?"""
    states = []
    fence: str | None = None
    for line in lines:
        opener = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence is None and opener:
            fence = opener.group(1)
            states.append(True)
        elif fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                fence = None
            states.append(True)
        else:
            states.append(False)
    return states


_MERMAID_LABEL = r'"(?:[A-Za-z0-9 _.,/\-]|#\d{1,7};)*"'
_MERMAID_STATEMENTS = (
    re.compile(r"flowchart (LR|TD|TB|RL|BT)"),
    re.compile(rf"  n\d+\[{_MERMAID_LABEL}\]"),
    re.compile(rf"  n\d+ (-->|-\.->)\|{_MERMAID_LABEL}\| n\d+"),
    re.compile(r"  linkStyle \d+(,\d+)* [a-z-]+:[#0-9a-z. ]+(,[a-z-]+:[#0-9a-z. ]+)*"),
    re.compile(r"  classDef [a-z]+ [a-z-]+:[#0-9a-z. ]+(,[a-z-]+:[#0-9a-z. ]+)*"),
    re.compile(r"  class n\d+(,n\d+)* [a-z]+"),
)


def mermaid_blocks(body: str) -> list[str]:
    """The text of every fenced block GitLab draws as a Mermaid diagram."""
    return [
        token.content
        for token in _RENDERER.parse(body)
        if token.type == "fence" and token.info.strip().split(" ")[0].lower() == "mermaid"
    ]


def mermaid_problems(body: str) -> list[str]:
    """Lines of mermaid blocks that are not one of the tool's own statements (rule 6)."""
    problems = []
    for block in mermaid_blocks(body):
        for line in block.rstrip("\n").split("\n"):
            if not any(statement.fullmatch(line) for statement in _MERMAID_STATEMENTS):
                problems.append(f"Mermaid line outside the tool's statements: {line[:80]!r}")
    return problems


def table_row_problems(body: str) -> list[str]:
    """Rows (outside fenced code) whose cell count is not their header's."""
    problems = []
    lines = body.split("\n")
    in_code = _fence_states(lines)
    index = 0
    while index < len(lines):
        line = lines[index]
        if (
            not in_code[index]
            and index + 1 < len(lines)
            and "|" in line
            and _DELIMITER_ROW.match(lines[index + 1])
            and gfm_cells(lines[index + 1]) == gfm_cells(line)
        ):
            width = gfm_cells(line)
            index += 2
            while index < len(lines) and lines[index].strip():
                cells = gfm_cells(lines[index])
                if cells != width:
                    problems.append(f"table row has {cells} cells, its header {width}: {lines[index]!r}")
                index += 1
            continue
        index += 1
    return problems


@dataclass
class NoteCheck:
    """The outcome of checking one note body: ``problems`` is empty when every rule holds."""

    body: str
    rendered: RenderedNote
    problems: list[str] = field(default_factory=list)


def check_note(body: str, *, links: Sequence[str] = ()) -> NoteCheck:
    """Check ``body`` against every rule of the module docstring; ``links`` are the URL prefixes
    the tool itself may link to (the job's artifacts)."""
    rendered = render(body)
    problems: list[str] = []
    for char in sorted(set(_CONTROL.findall(body))):
        problems.append(f"control character U+{ord(char):04X} in the note")
    for number, line in enumerate(body.replace("\r", "").split("\n"), 1):
        if line.startswith("/"):
            problems.append(f"line {number} starts with '/', a quick action: {line[:60]!r}")
    tags = Counter(tag for tag in rendered.tags if not tag.startswith("/"))
    for tag in sorted(set(tags) - TOOL_TAGS):
        problems.append(f"HTML the tool does not write: <{tag}>")
    lines = [line for line, in_code in zip(body.split("\n"), _fence_states(body.split("\n")), strict=True) if not in_code]
    written = {
        "details": sum(1 for line in lines if line.startswith("<details>")),
        "summary": sum(1 for line in lines if line.startswith(("<summary>", "<details><summary>"))),
    }
    for element, count in written.items():
        opened, closed = tags[element], rendered.tags.count(f"/{element}")
        if opened != count or closed != count:
            problems.append(f"<{element}>: the tool wrote {count}, the note has {opened} opened and {closed} closed")
    for link in rendered.links:
        if not any(link.startswith(prefix) for prefix in links):
            problems.append(f"link not written by the tool: {link!r}")
    for text in rendered.prose:
        for name, pattern in TEXT_NODE_RULES.items():
            match = pattern.search(text)
            if match:
                problems.append(f"{name} in the rendered text: {text[max(0, match.start() - 20):match.end() + 20]!r}")
    problems.extend(table_row_problems(body))
    problems.extend(mermaid_problems(body))
    return NoteCheck(body, rendered, problems)


def assert_safe_note(body: str, *, links: Sequence[str] = ()) -> NoteCheck:
    check = check_note(body, links=links)
    assert not check.problems, "\n".join(check.problems[:20]) + f"\n--- note ---\n{body[:4000]}"
    return check


# -- hostile strings ---------------------------------------------------------------------------

#: Pieces of attacks on a GitLab note; generated strings are made of these and random text.
FRAGMENTS: tuple[str, ...] = (
    "\n/label ~security-approved\n", "/approve", "\n/merge", "/unassign @root", "\r/close", "\r\n/shrug",
    "</p>", "\n</p>\n", "</details>", "<details>", "<summary>", "</summary>", "</code>", "</td>",
    "<img src=x onerror=alert(1)>", "<b>bold</b>", "<script>alert(1)</script>", "<!-- ", " -->",
    "<a href='https://evil.example'>", "javascript:alert(1)",
    "@all", "@root", "a@b", "#1", "!1", "~security", '~"a b"', "%v1", '%"m 1"', "$1", "&1",
    "*iteration:1", "[vulnerability:1]", "group/project#1",
    "[x](https://evil.example)", "![i](https://evil.example/i.png)", "<https://evil.example>",
    "https://evil.example/a", "www.evil.example", "ftp://evil.example", "mailto:a@evil.example",
    "user@evil.example", "xmpp:a@evil.example", "[x]: https://evil.example",
    "|", "\\|", "||", "`", "``", "```", "\n```\n", "~~~", "\\", "*", "_", "**b**", "~~s~~", "==m==",
    "{+ins+}", "[-del-]", ":smile:", "$$", "$`x`$", "[[_TOC_]]", "[^1]", "- [ ] ", "> ", ">>>",
    "# ", "\n# h1", "---", "\n===", "&lt;b&gt;", "&#64;all", "&amp;", "&#x2F;merge", "&#10;",
    "\x00", "\x1b[31m", "\t", "\x0b", "\x0c", "\x85", "\x9b", "\u2028", "\u2029", "\u202e", "\u2066",
    "\ufeff", "\u200b", "\ud800", "\udfff", "  ", "\n\n", "\n    indented", "\n| a | b |\n|---|---|\n",
    ".", "-", "0.0.0.0/0", "10.0.0.0/8\n/merge", "deadbeef", "GL-1", "\u00a0", "é", "𝔘",
)  # fmt: skip


def hostile_text(max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Strings built from attack fragments and random text (any code point, surrogates too)."""
    piece = st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(max_size=6),
        st.text(alphabet=st.characters(categories=("Cc", "Cf", "Zl", "Zp", "Cs")), max_size=2),
    )
    return st.lists(piece, min_size=1, max_size=max_pieces).map("".join)


def hostile_texts(count: int) -> st.SearchStrategy[list[str]]:
    return st.lists(hostile_text(), min_size=count, max_size=count)


def every_fragment() -> Iterable[str]:
    """Each fragment alone and after a word (so one that must start a line also appears mid-line)."""
    for fragment in FRAGMENTS:
        yield fragment
        yield "word " + fragment
