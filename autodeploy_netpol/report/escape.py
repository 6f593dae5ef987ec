"""The one escaper for GitLab-flavoured Markdown.

Every renderer whose output can end up in a merge-request note (drift, the audit section,
connectivity and diff, lint, explain, the comment) writes text it did not make itself -
anything from a cluster, a snapshot, a flow file, a values file or a saved report - through
these primitives only. Whatever the input and wherever on a line the result is put:

* it is one line: newlines and every other control character (C0, DEL, C1, line and
  paragraph separators, bidi overrides, lone surrogates) become visible stand-ins, so untrusted
  text never starts a line of the note - no GitLab quick action (``/merge``), heading, list,
  quote, table row or HTML block;
* it makes no HTML, no link or autolink, and no GitLab reference or mention (``@user``,
  ``#1``, ``!1``, ``~label``, ``%milestone``, ``$1``, ``&1``, ``:emoji:``): code spans and
  ``<code>`` are never looked into by GitLab's filters; free text has Markdown punctuation
  backslash-escaped, HTML characters as entities, and a zero-width space after each character
  that starts a reference or an autolink, so it renders as itself and nothing else;
* table cells never contain a ``|`` that splits the row (GFM splits at a pipe even inside a
  code span: :func:`code_cell` writes it as ``\\|``, which GFM turns back into a pipe).

The test suite renders every note body with hostile strings in every field a cluster controls
and checks these promises on the raw note and on the rendered HTML (tests/gitlab_markdown.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Literal
from urllib.parse import quote

#: C0 controls (but as stand-ins below), DEL, C1 controls, line and paragraph separators, the
#: bidi marks and overrides, and lone surrogates (which cannot even be encoded as UTF-8).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_REPLACEMENT = "\ufffd"
_ZERO_WIDTH_SPACE = "\u200b"

# Characters that open a GitLab reference or mention (@user, #1, !1, ~label, %milestone, $1, &1),
# an autolink (scheme ':' '//', an e-mail's '@'), an emoji (:name:) or an inline diff ({+ +},
# [- -]); a zero-width space after each keeps every such pattern from matching.
_BREAK_AFTER = re.compile(r"([@#!~%$&:{\[])")
# GFM's e-mail autolink needs a letter or digit right before '@', its www autolink 'www.'.
_BREAK_BEFORE = re.compile(r"(?<=[A-Za-z0-9._+-])(?=@)|(?<=[wW]{3})(?=\.)")
# ASCII punctuation with a meaning in CommonMark or GFM (and '/' so nothing can pass for a quick
# action); '&', '<' and '>' are written as entities instead.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~^=:$/])")


def _stand_in(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ … ␟ (␊ for a newline)
    if code == 0x7F:
        return "\u2421"  # ␡
    return _REPLACEMENT


def one_line(value: object) -> str:
    """``value`` as text on one line: control characters shown as visible stand-ins."""
    return _UNSAFE.sub(_stand_in, str(value))


def _unreferenced(value: object) -> str:
    flat = one_line(value)
    flat = _BREAK_BEFORE.sub(_ZERO_WIDTH_SPACE, flat)
    return _BREAK_AFTER.sub(lambda match: match.group(1) + _ZERO_WIDTH_SPACE, flat)


def text(value: object) -> str:
    """Free text that renders as itself in a paragraph, list item, heading, table cell or link
    text: no Markdown, no HTML, no reference, mention or autolink."""
    escaped = html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", _unreferenced(value)), quote=False)
    # Four leading spaces would open an indented code block: the first ones as entities cannot.
    body = escaped.lstrip(" ")
    return "&#32;" * (len(escaped) - len(body)) + body


def html_text(value: object) -> str:
    """Free text inside raw HTML (e.g. ``<summary>``), where Markdown is not parsed: entities
    for HTML and for Markdown punctuation, no reference, mention or autolink."""
    return "".join(
        f"&#{ord(char)};" if char.isascii() and not char.isalnum() and char != " " else char
        for char in _unreferenced(value)
    )


def _code_span(flat: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    if not flat:
        return f"{fence} {fence}"
    # CommonMark strips one space from each end when both ends have one (and the content is
    # not all spaces); a padding space keeps edge backticks and spaces as they are.
    edges = flat[0] + flat[-1]
    pad = " " if "`" in edges or (" " in edges and flat.strip(" ")) else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def code(value: object) -> str:
    """Inline code that ``value`` cannot close (its delimiter is longer than any backtick run
    inside). Not for table cells: use :func:`code_cell` there."""
    return _code_span(one_line(value))


def code_cell(value: object) -> str:
    """Inline code for a table cell: its pipes written as ``\\|`` so they cannot split the row."""
    return _code_span(one_line(value).replace("|", "\\|"))


def html_code(value: object) -> str:
    """``<code>`` for raw HTML contexts such as ``<summary>``."""
    escaped = html.escape(one_line(value), quote=True)
    return "<code>" + escaped.replace("@", "&#64;") + "</code>"


def code_block(lines: Iterable[object], info: str = "") -> str:
    """A fenced block with one entry of ``lines`` per line, its fence longer than any backtick
    run inside. A line starting with ``/`` is shown one space in, so that GitLab cannot take it
    for a quick action (its own code-block exclusion is easily ended early)."""
    flat = [one_line(line) for line in lines]
    flat = [" " + line if line.startswith("/") else line for line in flat]
    longest = max((len(run) for line in flat for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([fence + one_line(info).replace("`", ""), *flat, fence])


def link(label: object, url: str) -> str:
    """``[label](url)`` for an http(s) URL, with the label escaped and the URL percent-encoded;
    any other URL gives the label alone."""
    if not re.match(r"https?://[^\s]", url, re.IGNORECASE):
        return text(label)
    target = quote(one_line(url), safe=":/?&=%#+,;@!$*'~")
    return f"[{text(label)}]({target})"


Alignment = Literal["left", "right", "center", ""]
_DELIMITERS = {"left": ":---", "right": "---:", "center": ":---:", "": "---"}
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def table(
    header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[Alignment] = ()
) -> list[str]:
    """The lines of a GFM table whose rows all have the header's cell count.

    Cells are already escaped (:func:`text`, :func:`code_cell`, or the renderer's own numbers and
    words); a cell with a line break or a pipe that would split the row is a bug in the renderer
    and raises ``ValueError`` instead of posting a broken table.
    """
    width = len(header)
    alignment = list(align) + [""] * (width - len(align))

    def row(cells: Sequence[str]) -> str:
        if len(cells) != width:
            raise ValueError(f"table row with {len(cells)} cells under a header of {width}: {cells!r}")
        for cell in cells:
            if "\n" in cell or "\r" in cell or _UNESCAPED_PIPE.search(cell):
                raise ValueError(f"table cell not escaped for a table: {cell!r}")
        return "| " + " | ".join(cells) + " |"

    return [row(header), row([_DELIMITERS[side] for side in alignment]), *(row(cells) for cells in rows)]


#: Characters a Mermaid label keeps as they are; everything else becomes an entity code.
_MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 _.,/\-]")
MERMAID_LABEL_MAX = 80


def mermaid_label(value: object, limit: int = MERMAID_LABEL_MAX) -> str:
    """Text for a quoted Mermaid label (``n1["…"]``, ``-->|"…"|``) that renders as itself: on one
    line, at most ``limit`` characters (then ``…``), and every character but letters, digits,
    space and ``_.,/-`` written as Mermaid's ``#<decimal>;`` entity code — so no quote, bracket,
    pipe, backtick, ``<`` or ``#`` can end the label, start Markdown or HTML in it, or break the
    code fence around the graph (the note's Markdown never looks inside a fenced block)."""
    flat = one_line(value)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return "".join(char if _MERMAID_PLAIN.match(char) else f"#{ord(char)};" for char in flat)
