"""Drift's connectivity section (``report["connectivity"]``) for people: text and Markdown.

The section is JSON already (:mod:`..checks.connectivity_section`); this renders it without the
engine, so a drift report (or ``comment`` on a saved JSON report) stays light. Pairs are written
in the notation of ``connectivity``: one line per pair, ``src => dst : TCP 8080, UDP 53``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import connectivity_caveat
from .escape import code, code_cell, table, text
from .mermaid import change_graph

#: Pairs listed per direction in the comment's table; the JSON report has them all.
SECTION_ROWS = 20
#: Drifted objects named in the "changes no connection" line; the JSON report has them all.
OBJECTS_SHOWN = 10


def _change(added: int, removed: int) -> str:
    gain = "1 pair gains" if added == 1 else f"{added} pairs gain"
    lose = "1 pair loses" if removed == 1 else f"{removed} pairs lose"
    return f"after the deploy {gain} connections and {lose} connections"


def section_valid(section: Any) -> bool:
    return isinstance(section, Mapping) and section.get("verdict") in ("changes", "unchanged")


def section_pairs(section: Mapping[str, Any], direction: str) -> list[tuple[str, str, str]]:
    """``(src, dst, allowed)`` per pair of ``direction`` (``added`` or ``removed``).

    Reports carry ``addedPairs``/``removedPairs``; a report written before they existed has only
    the per-protocol records, joined here per pair as they come."""
    pairs = section.get(f"{direction}Pairs")
    if isinstance(pairs, list):
        return [
            (str(p.get("src", "")), str(p.get("dst", "")), str(p.get("allowed", "")))
            for p in pairs
            if isinstance(p, Mapping)
        ]
    joined: dict[tuple[str, str], list[str]] = {}
    for record in section.get(direction) or []:
        if isinstance(record, Mapping):
            key = (str(record.get("src", "")), str(record.get("dst", "")))
            joined.setdefault(key, []).append(f"{record.get('protocol', '')} {record.get('ports', '')}")
    return [(src, dst, ", ".join(parts)) for (src, dst), parts in joined.items()]


def unchanging_objects(section: Mapping[str, Any]) -> list[str]:
    """Drifted objects that change no connection between the endpoints (``cosmeticObjects`` in
    reports written before the field was renamed: such drift is never called cosmetic here)."""
    return [str(label) for label in section.get("unchangingObjects") or section.get("cosmeticObjects") or []]


def among(section: Mapping[str, Any]) -> str:
    """Which endpoints the verdict is about, from the section's workload count."""
    workloads = section.get("workloads")
    if not isinstance(workloads, int) or isinstance(workloads, bool):
        return ""
    if workloads == 0:
        return " (the live state lists no workload: every endpoint is hypothetical)"
    return f" among the {workloads} workload{'s' if workloads != 1 else ''} of the live state"


def section_lines(section: Any) -> list[tuple[str, str]]:
    """The section as ``(style, line)`` for the text report: verdict, pairs, objects, notes."""
    if not section_valid(section):
        return []
    if "allowed" in section:  # drift --no-live: what the policies let in, nothing compared
        pairs = _allowed_pairs(section)
        return [
            ("bold", "connectivity: after the deploy the policies allow into the app's pods only"),
            *(("", f"  {src} => {dst} : {allowed}") for src, dst, allowed in pairs),
        ]
    added, removed = section_pairs(section, "added"), section_pairs(section, "removed")
    lines: list[tuple[str, str]] = []
    caveat = connectivity_caveat(section)  # a partial verdict is said beside it
    head = "connectivity (partial)" if caveat else "connectivity"
    if section.get("verdict") == "unchanged" or not (added or removed):
        lines.append(("green", f"{head}: the deploy changes no connection{among(section)}"))
    else:
        lines.append(
            (
                "bold yellow",
                f"{head}: {_change(len(added), len(removed))}{among(section)}",
            )
        )
    if caveat:
        lines.append(("yellow", f"  {caveat}"))
    lines += [("yellow", f"  + {src} => {dst} : {allowed}") for src, dst, allowed in added]
    lines += [("cyan", f"  - {src} => {dst} : {allowed}") for src, dst, allowed in removed]
    lines += [
        ("dim", f"  changes no connection (still a change in what policies allow): {label}")
        for label in unchanging_objects(section)
    ]
    lines += [("dim", f"  note: {note}") for note in section.get("notes") or []]
    return lines


def section_markdown(section: Any) -> list[str]:
    """The section for the merge-request comment: the verdict, the change as a Mermaid picture,
    the table of every change (up to :data:`SECTION_ROWS` per direction), which drifted objects
    change no connection, and the section's notes (folded)."""
    if not section_valid(section):
        return []
    if "allowed" in section:
        return _allowed_markdown(_allowed_pairs(section))
    added, removed = section_pairs(section, "added"), section_pairs(section, "removed")
    said = among(section)
    scope = (" " if said.startswith(" ") else "") + text(said.lstrip(" "))  # a space between words
    caveat = connectivity_caveat(section)  # a partial verdict is said beside it
    head = "**Connectivity** (partial)" if caveat else "**Connectivity**"
    warning = [f"> ⚠️ {text(caveat[0].upper() + caveat[1:])}.", ""] if caveat else []
    if section.get("verdict") == "unchanged" or not (added or removed):
        lines = [f"🔒 {head}: the deploy changes no connection{scope}.", "", *warning]
    else:
        hypothetical = [str(name) for name in section.get("hypothetical") or []]
        lines = [
            f"🔓 {head}: {_change(len(added), len(removed))}{scope}.",
            "",
            *warning,
            *change_graph(added, removed, hypothetical=hypothetical).markdown(),
            "",
        ]
        rows = [("➕", pair) for pair in added[:SECTION_ROWS]] + [
            ("➖", pair) for pair in removed[:SECTION_ROWS]
        ]
        lines += table(
            ["", "From", "To", "Allowed"],
            [[sign, code_cell(src), code_cell(dst), text(allowed)] for sign, (src, dst, allowed) in rows],
        )
        hidden = max(0, len(added) - SECTION_ROWS) + max(0, len(removed) - SECTION_ROWS)
        if hidden:
            lines.append(f"\n_{hidden} more changed pairs in the JSON report._")
        lines.append("")
    unchanging = unchanging_objects(section)
    if unchanging:
        shown = ", ".join(code(label) for label in unchanging[:OBJECTS_SHOWN])
        more = f" and {len(unchanging) - OBJECTS_SHOWN} more" if len(unchanging) > OBJECTS_SHOWN else ""
        lines += [
            f"Drift that changes no connection{scope} (it still changes what the policies allow): "
            f"{shown}{more}.",
            "",
        ]
    notes = [str(note) for note in section.get("notes") or [] if str(note).strip()]
    if notes:
        lines += [
            "<details><summary>Connectivity notes</summary>",
            "",
            *(f"- {text(note)}" for note in notes),
            "",
            "</details>",
            "",
        ]
    return lines


def _allowed_pairs(section: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(src, dst, allowed)`` per pair of the ``allowed`` records (drift --no-live)."""
    joined: dict[tuple[str, str], list[str]] = {}
    for record in section.get("allowed") or []:
        if isinstance(record, Mapping):
            key = (str(record.get("src", "")), str(record.get("dst", "")))
            joined.setdefault(key, []).append(f"{record.get('protocol', '')} {record.get('ports', '')}")
    return [(src, dst, ", ".join(parts)) for (src, dst), parts in joined.items()]


def _allowed_markdown(pairs: list[tuple[str, str, str]]) -> list[str]:
    """Without live state: every connection into the app's pods that the policies allow."""
    if not pairs:
        return ["🔒 **Connectivity**: after the deploy nothing may connect to the app's pods.", ""]
    lines = [
        f"🔒 **Connectivity**: after the deploy the policies let {len(pairs)} "
        f"source{'s' if len(pairs) != 1 else ''} into the app's pods, and nothing else:",
        "",
    ]
    lines += table(
        ["From", "To", "Allowed"],
        [[code_cell(src), code_cell(dst), text(allowed)] for src, dst, allowed in pairs[:SECTION_ROWS]],
    )
    if len(pairs) > SECTION_ROWS:
        lines.append(f"\n_{len(pairs) - SECTION_ROWS} more in the JSON report._")
    lines.append("")
    return lines
