"""The one escaper for GitLab-flavoured Markdown: each primitive, for any string, renders as the
string itself (control characters shown as stand-ins) and nothing else, wherever it is placed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from gitlab_markdown import assert_safe_note, gitlab_renderer, hostile_text
from hypothesis import example, given, settings
from hypothesis import strategies as st

from autodeploy_netpol.report.escape import (
    code,
    code_block,
    code_cell,
    html_code,
    html_text,
    link,
    mermaid_label,
    one_line,
    table,
    text,
)

MD = gitlab_renderer()
ANY = st.one_of(hostile_text(), st.text(max_size=30))
EXAMPLES = settings(max_examples=300)


class _Text(HTMLParser):
    """All text of some HTML, and the text inside <code> elements."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.all: list[str] = []
        self.code: list[str] = []
        self._in_code = 0
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_code += tag == "code"

    def handle_endtag(self, tag: str) -> None:
        self._in_code -= tag == "code"

    def handle_data(self, data: str) -> None:
        self.all.append(data)
        if self._in_code:
            self.code.append(data)


def visible(markdown: str) -> str:
    return "".join(_Text(MD.render(markdown)).all).replace("\u200b", "")


def code_text(markdown: str) -> str:
    return "".join(_Text(MD.render(markdown)).code)


def test_one_line_shows_control_characters() -> None:
    assert one_line("a\nb\r\tc\x1b[0m\x7f") == "a␊b␍␉c␛[0m␡"
    assert one_line("\u202egnp.exe\u2028\ud800\x85") == "\ufffdgnp.exe\ufffd\ufffd\ufffd"
    assert one_line("web-1 app.kubernetes.io/name") == "web-1 app.kubernetes.io/name"
    assert one_line(42) == "42"


@EXAMPLES
@given(ANY)
@example("    \n/label ~security-approved\n")  # four leading spaces: an indented code block
def test_text_renders_as_itself_and_nothing_else(value: str) -> None:
    for placed in (
        f"{text(value)}",
        f"- {text(value)}",
        f"### {text(value)}",
        f"| A |\n|---|\n| {text(value)} |",
        f"see {link(value, 'https://gitlab.example.com/job')}",
    ):
        check = assert_safe_note(placed, links=("https://gitlab.example.com/job",))
        assert set(check.rendered.tags) <= {"p", "ul", "li", "/p", "/ul", "/li", "h3", "/h3", "table", "/table",
                                            "thead", "/thead", "tbody", "/tbody", "tr", "/tr", "th", "/th",
                                            "td", "/td", "a", "/a"}  # fmt: skip
    # CommonMark trims a paragraph's outer whitespace; everything else shows as written (the
    # zero-width spaces the escaper adds are invisible).
    assert visible(text(value)).strip() == one_line(value).replace("\u200b", "").strip()


@EXAMPLES
@given(ANY)
def test_code_span_shows_any_text_exactly(value: str) -> None:
    span = code(value)
    assert "\n" not in span
    assert_safe_note(f"owner {span}")
    assert code_text(f"owner {span}") == (one_line(value) or " ")


@EXAMPLES
@given(ANY, ANY)
def test_code_cells_keep_the_row_whole(left: str, right: str) -> None:
    lines = table(["A", "B"], [[code_cell(left), code_cell(right)]])
    check = assert_safe_note("\n".join(lines))
    assert check.rendered.tags.count("td") == 2
    assert code_text("\n".join(lines)) == (one_line(left) or " ") + (one_line(right) or " ")


@EXAMPLES
@given(ANY)
def test_html_contexts(value: str) -> None:
    note = f"<details>\n<summary>{html_code(value)} {html_text(value)}</summary>\n\nbody\n\n</details>\n"
    assert_safe_note(note)
    summary = re.search(r"<summary>(.*)</summary>", MD.render(note), re.S)
    assert summary is not None
    rendered = _Text(summary.group(1))
    assert "".join(rendered.code) == one_line(value)
    shown = "".join(rendered.all).replace("\u200b", "")
    assert shown == (one_line(value) + " " + one_line(value)).replace("\u200b", "")


@EXAMPLES
@given(st.lists(ANY, max_size=5), ANY)
def test_code_block_shows_its_lines(lines: list[str], inside: str) -> None:
    block = code_block(["before", *lines, inside], "diff")
    assert_safe_note(f"<details>\n<summary>x</summary>\n\n{block}\n\n</details>\n")
    expected = [one_line(line) for line in ["before", *lines, inside]]
    shown = code_text(block).split("\n")[:-1]
    # only a line starting with '/' moves one space in, so GitLab cannot run it as a quick action
    assert shown == [" " + line if line.startswith("/") else line for line in expected]


def test_link_only_for_web_urls() -> None:
    assert link("job artifacts", "https://gitlab.example.com/g/p/-/jobs/7/artifacts/file/a b(1).json") == (
        "[job artifacts](https://gitlab.example.com/g/p/-/jobs/7/artifacts/file/a%20b%281%29.json)"
    )
    assert link("x", "javascript:alert(1)") == "x"
    assert link("x", "") == "x"


@pytest.mark.parametrize(
    "cells",
    [["a|b", "c"], ["a\nb", "c"], ["a"], ["a", "b", "c"]],
    ids=["unescaped pipe", "newline", "too few", "too many"],
)
def test_table_refuses_a_cell_that_breaks_the_row(cells: list[str]) -> None:
    with pytest.raises(ValueError):
        table(["A", "B"], [cells])


def test_table_alignment() -> None:
    assert table(["n", "name"], [["1", code_cell("a|b")]], ["right"]) == [
        "| n | name |",
        "| ---: | --- |",
        "| 1 | `a\\|b` |",
    ]


def test_words_stay_readable() -> None:
    assert text("web api") == "web api"
    assert re.fullmatch(r"`+ ?`a` ?`+", code("`a`"))
    assert "<" not in text("<b>")


@EXAMPLES
@given(ANY)
def test_mermaid_label_is_inert_and_decodes_to_the_text(value: str) -> None:
    """Only plain characters and ``#<decimal>;`` codes: nothing ends the quoted label, and
    Mermaid's decoding of the codes gives back the text (on one line, within the limit)."""
    label = mermaid_label(value, limit=40)
    assert re.fullmatch(r"(?:[A-Za-z0-9 _.,/\-]|#\d+;)*", label)
    decoded = re.sub(r"#(\d+);", lambda match: chr(int(match.group(1))), label)
    flat = one_line(value)
    assert decoded == (flat if len(flat) <= 40 else flat[:39] + "…")


def test_mermaid_label_examples() -> None:
    assert mermaid_label('shop/web"] --> x') == "shop/web#34;#93; --#62; x"
    assert mermaid_label("ns/(hypothetical) any pod") == "ns/#40;hypothetical#41; any pod"
    assert mermaid_label("#1 <b>") == "#35;1 #60;b#62;"
