"""The Markdown report for a GitLab merge-request comment, rendered from the JSON document alone.

Layout: the verdict and counts first, then one collapsible ``<details>`` per drifted object,
then what was ignored and the other live policies. The whole text stays under ``max_chars``
(GitLab refuses notes over 1,000,000 characters): each object's block is cut on its own,
closing its code fence, and objects that no longer fit are counted and pointed to the full
report artifact.

Everything that comes from the cluster or from input files - names, namespaces, labels,
annotations, values, owners, field paths, messages - is written through :mod:`.escape`, the one
escaper for GitLab-flavoured Markdown: names and values in code spans, code blocks or
``<code>`` elements, free text escaped, so no line of the note can start with untrusted text
(no quick action) and no HTML, link, reference or ``@`` mention can come from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..sources.yamlio import format_path
from . import object_label, summary_line
from .drift_connectivity import section_markdown
from .escape import code, code_block, html_code, html_text, link, table, text

#: GitLab's note limit is 1,000,000 characters; stay a little under it.
DEFAULT_MAX_CHARS = 950_000
#: Longest value written in a diff line; the JSON artifact has the whole value.
MAX_VALUE_CHARS = 1_000
#: Room kept for the closing lines (omitted counts, artifact link).
_TRAILER_RESERVE = 700


def _value(value: Any) -> str:
    dumped = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return dumped if len(dumped) <= MAX_VALUE_CHARS else dumped[: MAX_VALUE_CHARS - 1] + "…"


def _artifact_url(job_url: str | None, artifact_path: str | None) -> str | None:
    if not job_url or not job_url.lower().startswith(("https://", "http://")):
        return None
    base = job_url.rstrip("/")
    return f"{base}/artifacts/file/{artifact_path}" if artifact_path else f"{base}/artifacts/browse"


def _path(path: Any) -> str:
    """A field path as printed: a string as it is, a tuple of keys and indices formatted."""
    if isinstance(path, Sequence) and not isinstance(path, str):
        return format_path(list(path))
    return str(path)


def render_markdown(
    report: Mapping[str, Any],
    *,
    environment: str | None = None,
    job_url: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    artifact_path: str | None = None,
) -> str:
    """Render a drift report document (``drift --format json``) as an MR comment.

    ``environment`` defaults to the document's own; ``job_url`` (``CI_JOB_URL``) adds a link
    to the job's artifacts (``artifact_path`` names the full report file in them). The
    result is at most ``max_chars`` characters.
    """
    environment = environment if environment is not None else report.get("environment")
    url = _artifact_url(job_url, artifact_path)
    summary = report.get("summary") or {}
    drift = list(report.get("drift") or [])
    counts = {
        key: int(summary.get(key, 0))
        for key in ("changed", "missing", "unexpected", "inSync", "ignored", "context")
    }
    has_drift = summary.get("verdict") == "drift" if "verdict" in summary else bool(drift)

    head: list[str] = []
    title = "Network policy drift" + (f" in {code(environment)}" if environment else "")
    head.append(f"### {title}")
    head.append("")
    head.extend(_connectivity_lines(report.get("connectivity")))
    scope = report.get("scope") or {}
    where = (
        "all namespaces"
        if scope.get("allNamespaces")
        else f"namespace {code(scope.get('namespace') or '')}"
    )
    releases = list(scope.get("releases") or [])
    shown = ", ".join(code(release) for release in releases[:10])
    if len(releases) > 10:
        shown += f" and {len(releases) - 10} more"
    if summary.get("verdict") == "no-live":
        head.append(
            f"ℹ️ **No live state** (no cluster access, no snapshot): nothing was compared. The deploy will "
            f"create {counts['missing']} polic{'y' if counts['missing'] == 1 else 'ies'} in {where}"
            + (f", release {shown}" if releases else "")
            + ":"
        )
    else:
        verdict = "⚠️ **Drift found**" if has_drift else "✅ **No drift**"
        head.append(f"{verdict}: {summary_line(report)}")
        head.append("")
        head += table(
            ["changed", "missing", "unexpected", "in sync", "ignored", "other live policies"],
            [[str(counts[key]) for key in ("changed", "missing", "unexpected", "inSync", "ignored", "context")]],
            ["right"] * 6,
        )
        head.append("")
        head.append(f"Compared {where}" + (f", release {shown}" if releases else "") + ".")
    if url:
        head.append(f"Full report: {link('job artifacts', url)}")
    head.append("")
    for warning in report.get("warnings") or []:
        icon = "ℹ️" if isinstance(warning, Mapping) and warning.get("severity") == "info" else "⚠️"
        head.append(f"- {icon} {_warning(warning)}")
        details = list(warning.get("details") or []) if isinstance(warning, Mapping) else []
        # a blank detail would be an indented '-' line: a heading underline for the line above
        details = [detail for detail in details if str(detail).strip()]
        for detail in details[:_WARNING_DETAILS]:
            head.append(f"  - {text(detail)}")
        if len(details) > _WARNING_DETAILS:
            head.append(f"  - … {len(details) - _WARNING_DETAILS} more in the JSON report")
    for remark in report.get("notes") or []:
        head.append(f"- Note: {text(remark)}")
    note = "\n".join(head).rstrip("\n") + "\n"

    budget = max_chars - _TRAILER_RESERVE
    per_object = max(1_500, max_chars // 20)
    omitted = 0
    for index, entry in enumerate(drift):
        block = _object_block(entry, per_object)
        if len(note) + len(block) + 1 > budget:
            omitted = len(drift) - index
            break
        note += "\n" + block
    sections = [
        _list_section(
            "Ignored by --ignore rules",
            [
                f"{code(object_label(item))} {text(item.get('change', ''))} — rules: "
                + ", ".join(code(rule) for rule in item.get("rules", []))
                for item in report.get("ignored") or []
            ],
        ),
        _list_section(
            "Other live policies (not touched by this deploy)",
            [
                f"{code(object_label(item))} — owner {code(item.get('owner', 'unknown'))}"
                for item in report.get("context") or []
            ],
        ),
        _list_section(
            "Ownership",
            [
                f"{code(object_label(item))} — {code(item.get('owner', 'unknown'))}: "
                f"{text(item.get('reason', ''))}"
                for item in report.get("ownership") or []
            ],
        ),
    ]
    for section in sections:
        if not section:
            continue
        if omitted or len(note) + len(section) + 1 > budget:
            section = _cut_section(section, budget - len(note) - 1)
            if not section:
                continue
        note += "\n" + section
    trailer: list[str] = []
    if omitted:
        objects = f"{omitted} more drifted object{'s' if omitted != 1 else ''}"
        where = f"in the {link('job artifacts', url)}" if url else "(JSON artifact)"
        trailer.append(
            f"_{objects} not shown to stay under GitLab's comment size limit; see the full report {where}._"
        )
    if trailer:
        note += "\n" + "\n".join(trailer) + "\n"
    if len(note) > max_chars:  # only when max_chars is smaller than the fixed parts
        cut = note[: max(0, max_chars - 2)]
        return cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
    return note


def _connectivity_lines(section: Any) -> list[str]:
    """The connectivity section, shown first: the picture and the table of what the deploy opens
    and closes (rendered by :func:`.drift_connectivity.section_markdown`, in ``connectivity``'s notation)."""
    return section_markdown(section)


def _object_block(entry: Mapping[str, Any], limit: int) -> str:
    change = str(entry.get("change", ""))
    scopes = entry.get("scopes") or []
    what = {
        "missing": "missing — the deploy will create it",
        "unexpected": "unexpected — the deploy will delete it",
        "changed": "changed" + (f" ({', '.join(html_text(scope) for scope in scopes)})" if scopes else ""),
    }.get(change, html_text(change))
    lines = [
        "<details>",
        f"<summary>{html_code(object_label(entry))} {what}</summary>",
        "",
    ]
    if entry.get("owner"):
        lines.append(f"Live object owned by {code(entry['owner'])}.")
        lines.append("")
    paths = list(entry.get("paths") or [])
    closing = ["", "</details>", ""]
    used = sum(len(line) + 1 for line in lines + closing) + 40  # 40: fence lines and "more" note
    body: list[str] = []
    cut_at = None
    for index, field in enumerate(paths):
        piece = [f"  {_path(field.get('path', ''))}  ({field.get('scope', '')})"]
        piece.append("- " + (_value(field["live"]) if "live" in field else "(absent)") + "   # live")
        piece.append("+ " + (_value(field["desired"]) if "desired" in field else "(absent)") + "   # desired")
        size = sum(len(line) + 1 for line in piece)
        if used + size > limit:
            cut_at = index
            break
        used += size
        body.extend(piece)
    if body:
        lines.append(code_block(body, "diff"))
    if cut_at is not None:
        lines.append("")
        lines.append(f"_{len(paths) - cut_at} more changed fields not shown; see the full report._")
    if "spec" in entry and not paths:
        lines.extend(_spec_block(entry["spec"], change, limit - used))
    kept = [str(note) for note in entry.get("kept") or []]
    if kept:
        # what Helm's patch leaves different from the values: said, never counted as drift
        shown = [f"- {html_text(note[:MAX_VALUE_CHARS])}" for note in kept[:5]]
        if len(kept) > 5:
            shown.append(f"- _{len(kept) - 5} more_")
        lines.extend(["", "Kept by Helm's patch (not drift):", *shown])
    return "\n".join(lines + closing)


def _spec_block(spec: Any, change: str, room: int) -> list[str]:
    """The spec the deploy creates (missing) or deletes (unexpected) as YAML, cut to ``room``."""
    import yaml

    title = "The deploy will create:" if change == "missing" else "The deploy will delete this live spec:"
    dumped = yaml.safe_dump(spec, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    all_lines = dumped.rstrip("\n").split("\n")
    used = len(title) + 2 + 20  # title, blank line, fence lines
    kept: list[str] = []
    for line in all_lines:
        line = line if len(line) <= MAX_VALUE_CHARS else line[: MAX_VALUE_CHARS - 1] + "…"
        if used + len(line) + 1 > room:
            break
        kept.append(line)
        used += len(line) + 1
    if not kept:
        return []
    out = [title, "", code_block(kept, "yaml")]
    if len(kept) < len(all_lines):
        out += ["", f"_{len(all_lines) - len(kept)} more lines not shown; see the full report._"]
    return out


def _list_section(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return "\n".join(
        [
            "<details>",
            f"<summary>{html_text(title)} ({len(items)})</summary>",
            "",
            *(f"- {item}" for item in items),
            "",
            "</details>",
            "",
        ]
    )


def _cut_section(section: str, room: int) -> str:
    """Keep whole list lines of a section that fit in ``room``, closing the ``<details>``."""
    closing = "\n_… cut to stay under the size limit._\n\n</details>\n"
    if room < len(closing) + 200:
        return ""
    lines = section.split("\n")
    kept: list[str] = []
    size = len(closing)
    for line in lines:
        if line == "</details>":
            break
        if size + len(line) + 1 > room:
            break
        kept.append(line)
        size += len(line) + 1
    if len(kept) < 3:
        return ""
    return "\n".join(kept) + closing


#: Detail lines shown per warning; the JSON report has them all.
_WARNING_DETAILS = 6


def _warning(warning: Any) -> str:
    if not isinstance(warning, Mapping):
        return text(warning)
    parts = []
    kind = str(warning.get("code") or warning.get("type") or "").strip()
    if kind:
        parts.append(f"**{text(kind)}**")
    if warning.get("name"):
        parts.append(code(object_label(warning)))
    message = str(warning.get("reason") or warning.get("message") or "").strip()
    if message:
        parts.append(text(message))
    return " ".join(parts)
