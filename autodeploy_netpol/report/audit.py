"""The audit result as text, JSON (``schemas/audit-report.schema.json``) or Markdown (pure).

Everything in a report that comes from a flow file — workload names, labels, addresses, file
names, messages — is untrusted: the text form replaces control characters (no terminal escape
sequences), the Markdown form writes it through :mod:`.escape`, the one escaper for GitLab
Markdown (code spans for names and addresses, escaped text for the rest).
"""

from __future__ import annotations

import re
from typing import Any

from ..checks.audit import AuditResult, FlowGroup
from .escape import code, code_cell, table, text

SCHEMA_ID = "https://gitlab.com/autodeploy-netpol/schemas/audit-report.schema.json"
#: Groups listed one by one in text and Markdown (JSON lists them all).
SHOWN_GROUPS = 25
_WELL_KNOWN_PORTS = {("UDP", 53): "DNS", ("TCP", 53): "DNS"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """Untrusted text for a terminal: control and bidi characters become ``?``."""
    return _CONTROL.sub("?", text)


def port_label(group: FlowGroup) -> str:
    """``TCP 8080`` or ``UDP 53 (DNS)``."""
    name = _WELL_KNOWN_PORTS.get((group.protocol, group.port))
    return f"{group.protocol} {group.port}" + (f" ({name})" if name else "")


def partial_caveat(result: AuditResult) -> str | None:
    """The sentence every format shows beside a partial verdict (objects not read), or ``None``."""
    if not result.unread:
        return None
    what = ", ".join(what for what, _ in result.unread)
    return (
        f"partial verdict: {what} could not be read from the cluster, so the flows were evaluated "
        "without them (the notes say why; grant the Role's optional rules to get a complete verdict)"
    )


def verdict(result: AuditResult, max_dropped: int) -> bool:
    """True when the audit passes: no more than ``max_dropped`` flows would be dropped."""
    return result.would_drop <= max_dropped


def _group_json(group: FlowGroup) -> dict[str, Any]:
    return {
        "source": group.source,
        "destination": group.destination,
        "protocol": group.protocol,
        "port": group.port,
        "flows": group.flows,
        "would_drop": group.would_drop,
        "newly_allowed": group.newly_allowed,
        "denied_before": group.denied_before,
        "drop_ratio": round(group.drop_ratio, 6),
        "first_seen": group.first_seen or None,
        "last_seen": group.last_seen or None,
        "observed": dict(sorted((k or "UNKNOWN", v) for k, v in group.observed.items())),
    }


def to_json(result: AuditResult, max_dropped: int) -> dict[str, Any]:
    """The report as a JSON-ready dict (see ``schemas/audit-report.schema.json``)."""
    stats = result.stats
    return {
        "$schema": SCHEMA_ID,
        "passed": verdict(result, max_dropped),
        "summary": {
            "files": list(stats.files),
            "lines": stats.lines,
            "flows": result.flows,
            "would_drop": result.would_drop,
            "newly_allowed": result.newly_allowed,
            "denied_before": result.denied_before,
            "max_dropped": max_dropped,
            "groups": len(result.groups),
            "skipped": dict(sorted(stats.skipped.items())),
            "malformed": stats.malformed,
            "from_node": result.from_node,
        },
        "malformed": [
            {"file": bad.file, "line": bad.line, "message": bad.message} for bad in stats.malformed_examples
        ],
        "groups": [_group_json(group) for group in result.groups],
        "notes": list(result.notes),
        "partial": bool(result.unread),
        "unread": [{"what": what, "reason": reason} for what, reason in result.unread],
    }


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%" if ratio else "0%"


def _seen(group: FlowGroup) -> tuple[str, str]:
    def short(time: str) -> str:  # seconds are enough to read; JSON keeps nanoseconds
        return time[:19].replace("T", " ") + "Z" if time else "-"

    return short(group.first_seen), short(group.last_seen)


def _summary_line(result: AuditResult) -> str:
    stats = result.stats
    files = len(stats.files)
    skipped = sum(stats.skipped.values())
    parts = [
        f"{_count(result.flows, 'new connection')} from {_count(stats.lines, 'line')} in {_count(files, 'file')}"
    ]
    if skipped:
        parts.append(f"{_count(skipped, 'record')} not counted")
    if stats.malformed:
        parts.append(_count(stats.malformed, "malformed line"))
    if result.from_node:
        parts.append(
            f"{_count(result.from_node, 'connection')} from the pods' own nodes (reserved:host) counted apart: "
            "Kubernetes always lets them in"
        )
    return ", ".join(parts)


def to_text(result: AuditResult, max_dropped: int) -> str:
    """The report for a terminal or a job log."""
    lines = [f"Audit of recorded flows: {_summary_line(result)}."]
    dropped = result.dropped_groups
    if dropped:
        lines.append(
            f"\nWould be DROPPED after the deploy: {_count(result.would_drop, 'flow')} in {_count(len(dropped), 'group')}"
        )
        lines.extend(_text_rows(dropped, "would_drop"))
    else:
        lines.append("\nNo recorded flow would be dropped by the policies after the deploy.")
    allowed = result.newly_allowed_groups
    if allowed:
        lines.append(
            f"\nNewly ALLOWED by the deploy: {_count(result.newly_allowed, 'flow')} in {_count(len(allowed), 'group')}"
        )
        lines.extend(_text_rows(allowed, "newly_allowed"))
    stats = result.stats
    if stats.skipped:
        lines.append("\nNot counted:")
        lines.extend(f"  {count:>12,}  {reason}" for reason, count in sorted(stats.skipped.items()))
    if stats.malformed:
        lines.append(
            f"\nMalformed lines: {stats.malformed:,}"
            + (" (first ones below)" if stats.malformed_examples else "")
        )
        lines.extend(
            f"  {plain(bad.file)}:{bad.line}: {plain(bad.message)}" for bad in stats.malformed_examples
        )
    lines.extend(f"\nnote: {plain(note)}" for note in result.notes)
    caveat = partial_caveat(result)
    partial = " (partial)" if caveat else ""
    if verdict(result, max_dropped):
        lines.append(
            f"\nResult{partial}: passed ({result.would_drop:,} dropped, at most {max_dropped:,} tolerated)"
        )
    else:
        lines.append(
            f"\nResult{partial}: FAILED ({_count(result.would_drop, 'flow')} would be dropped, "
            f"at most {max_dropped:,} tolerated)"
        )
    if caveat:
        lines.append(f"  {caveat}")
    return "\n".join(lines) + "\n"


def _text_rows(groups: list[FlowGroup], counter: str) -> list[str]:
    rows = []
    for group in groups[:SHOWN_GROUPS]:
        count = getattr(group, counter)
        first, last = _seen(group)
        share = _percent(count / group.flows)
        rows.append(
            f"  {plain(group.source)} -> {plain(group.destination)} : {port_label(group)}"
            f"  {count:,}/{group.flows:,} flows ({share})  seen {first} .. {last}"
        )
    if len(groups) > SHOWN_GROUPS:
        rows.append(f"  ... and {len(groups) - SHOWN_GROUPS} more groups (use --format json for all)")
    return rows


def to_markdown(result: AuditResult, max_dropped: int) -> str:
    """A section of the merge-request comment."""
    passed = verdict(result, max_dropped)
    mark = "✅" if passed else "❌"
    caveat = partial_caveat(result)
    out = [
        f"### {mark} Recorded flows against the new policies{' (partial)' if caveat else ''}",
        "",
        f"{_summary_line(result)}.",
        "",
    ]
    if caveat:
        out += [f"> ⚠️ {text(caveat[0].upper() + caveat[1:])}.", ""]
    dropped = result.dropped_groups
    if dropped:
        out.append(
            f"**{_count(result.would_drop, 'flow')} would be dropped** after this deploy (tolerated: {max_dropped:,})."
        )
        out.append("")
        out.extend(_markdown_table(dropped, "would_drop", "Would drop"))
    else:
        out.append("No recorded flow would be dropped after this deploy.")
    allowed = result.newly_allowed_groups
    if allowed:
        out += ["", f"**{_count(result.newly_allowed, 'flow')} newly allowed** by this deploy.", ""]
        out.extend(_markdown_table(allowed, "newly_allowed", "Newly allowed"))
    stats = result.stats
    details: list[str] = []
    if stats.skipped:
        details += [f"- {count:,} {text(reason)}" for reason, count in sorted(stats.skipped.items())]
    if stats.malformed:
        details.append(f"- {stats.malformed:,} malformed lines")
        details += [
            f"  - {code(f'{bad.file}:{bad.line}')}: {code(bad.message)}" for bad in stats.malformed_examples
        ]
    if details:
        out += ["", "<details><summary>Records not counted</summary>", "", *details, "", "</details>"]
    if result.notes:
        out += ["", *[f"> {code(note)}" for note in result.notes]]
    return "\n".join(out) + "\n"


def _markdown_table(groups: list[FlowGroup], counter: str, title: str) -> list[str]:
    cells = []
    for group in groups[:SHOWN_GROUPS]:
        count = getattr(group, counter)
        first, last = _seen(group)
        cells.append(
            [
                code_cell(group.source),
                code_cell(group.destination),
                text(port_label(group)),
                f"{count:,} of {group.flows:,}",
                _percent(count / group.flows),
                text(first),
                text(last),
            ]
        )
    rows = table(
        ["Source", "Destination", "Port", title, "Share", "First seen", "Last seen"],
        cells,
        ["", "", "", "right", "right"],
    )
    if len(groups) > SHOWN_GROUPS:
        rows += ["", f"… and {len(groups) - SHOWN_GROUPS} more groups in the JSON report."]
    return rows
