"""Connectivity reports: text, JSON, CSV and Markdown from a :class:`ConnectivityMap` or diff.

Pure: records in, strings out. The JSON shape is documented in
``schemas/connectivity.schema.json``. The Markdown forms (e.g. a section of the merge-request
comment) write workload names, labels and notes through :mod:`.escape`; a diff's Markdown starts
with the change as a Mermaid picture (:mod:`.mermaid`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from ..policy.analysis import Connection, ConnectivityDiff, ConnectivityMap
from .escape import code_cell, table, text
from .mermaid import change_graph

FORMATS = ("text", "json", "csv", "markdown")


#: What could not be read from the cluster and why: (what, reason) pairs.
Unread = tuple[tuple[str, str], ...]


def partial_caveat(unread: Unread) -> str | None:
    """The sentence shown beside a partial connectivity map (objects not read), or ``None``."""
    if not unread:
        return None
    what = ", ".join(item for item, _ in unread)
    return (
        f"partial: {what} could not be read from the cluster, so connections that depend on them "
        "were judged without them (grant the Role's optional rules to get a complete map)"
    )


def connectivity_json(result: ConnectivityMap, unread: Unread = ()) -> dict[str, Any]:
    return {
        "connections": [record.as_dict() for record in result.connections()],
        "workloads": result.workloads,
        "not_modelled": result.notes,
        "partial": bool(unread),
        "unread": [{"what": what, "reason": reason} for what, reason in unread],
        "warnings": result.warnings,
        "notes": result.reading,
    }


def _diff_notes(diff: ConnectivityDiff) -> tuple[list[str], list[str], list[str]]:
    """(not modelled, warnings, reading notes) of both sides, each once."""
    return (
        sorted(set(diff.added.notes) | set(diff.removed.notes)),
        sorted(set(diff.added.warnings) | set(diff.removed.warnings)),
        sorted(set(diff.added.reading) | set(diff.removed.reading)),
    )


def diff_json(diff: ConnectivityDiff) -> dict[str, Any]:
    not_modelled, warnings, reading = _diff_notes(diff)
    return {
        "added": [record.as_dict() for record in diff.added.connections()],
        "removed": [record.as_dict() for record in diff.removed.connections()],
        "not_modelled": not_modelled,
        "warnings": warnings,
        "notes": reading,
    }


def _text_lines(result: ConnectivityMap, prefix: str = "") -> list[str]:
    lines: list[str] = []
    previous = None
    for src, dst, conns in result.lines():
        if previous is not None and src != previous and not prefix:
            lines.append("")  # one block per source
        previous = src
        lines.append(f"{prefix}{src} => {dst} : {conns}")
    return lines


def _notes_text(notes: Sequence[str], warnings: Sequence[str] = (), reading: Sequence[str] = ()) -> list[str]:
    lines: list[str] = []
    if warnings:
        lines += [
            "",
            "Warnings (the API server would reject these; read anyway):",
            *(f"  {w}" for w in warnings),
        ]
    if notes:
        lines += [
            "",
            "Not modelled (reported, never assumed allowed or denied):",
            *(f"  {note}" for note in notes),
        ]
    if reading:
        lines += ["", "Notes:", *(f"  {note}" for note in reading)]
    return lines


def side_notes(result: ConnectivityMap) -> list[str]:
    """Warnings, not-modelled parts and reading notes as lines for standard error (CSV output)."""
    return [
        *(f"warning: {w}" for w in result.warnings),
        *(f"not modelled: {n}" for n in result.notes),
        *(f"note: {n}" for n in result.reading),
    ]


def diff_side_notes(diff: ConnectivityDiff) -> list[str]:
    not_modelled, warnings, reading = _diff_notes(diff)
    return side_notes(ConnectivityMap({}, [], not_modelled, warnings, reading))


def connectivity_text(result: ConnectivityMap, unread: Unread = ()) -> str:
    lines = _text_lines(result)
    if not lines:
        lines = ["no connection is allowed between the workloads found"]
    head = f"{len(result.edges)} connected pairs among {len(result.workloads)} workloads"
    caveat = partial_caveat(unread)
    if caveat:
        head = f"{head} ({caveat})"
    return "\n".join([head, "", *lines, *_notes_text(result.notes, result.warnings, result.reading)]) + "\n"


def diff_text(diff: ConnectivityDiff) -> str:
    notes = _notes_text(*_diff_notes(diff))
    if not diff.changed:
        return "\n".join(["no change in connectivity", *notes]) + "\n"
    lines = [
        f"connectivity changes: {len(diff.added.edges)} pairs gain, {len(diff.removed.edges)} pairs lose"
    ]
    if diff.added.edges:
        lines += ["", "Added (newly allowed):", *_text_lines(diff.added, "  + ")]
    if diff.removed.edges:
        lines += ["", "Removed (no longer allowed):", *_text_lines(diff.removed, "  - ")]
    return "\n".join([*lines, *notes]) + "\n"


def _csv(records: list[Connection], change: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((["change"] if change is not None else []) + ["src", "dst", "protocol", "ports"])
    for record in records:
        row = [record.src, record.dst, record.protocol, record.ports]
        writer.writerow(([change] if change is not None else []) + row)
    return buffer.getvalue()


def connectivity_csv(result: ConnectivityMap) -> str:
    return _csv(result.connections())


def diff_csv(diff: ConnectivityDiff) -> str:
    added = _csv(diff.added.connections(), "added")
    removed = _csv(diff.removed.connections(), "removed").split("\n", 1)[1]
    return added + removed


def _markdown_table(result: ConnectivityMap) -> list[str]:
    return table(
        ["From", "To", "Allowed"],
        [[code_cell(src), code_cell(dst), text(conns)] for src, dst, conns in result.lines()],
    )


def _markdown_notes(
    notes: Sequence[str], warnings: Sequence[str] = (), reading: Sequence[str] = ()
) -> list[str]:
    lines: list[str] = []
    for title, items in (
        ("Warnings: the API server would reject these (read anyway)", warnings),
        ("Not modelled", notes),
        ("Notes", reading),
    ):
        if items:
            lines += [
                "",
                f"<details><summary>{title}</summary>",
                "",
                *(f"- {text(item)}" for item in items if item.strip()),
                "",
                "</details>",
            ]
    return lines


def connectivity_markdown(result: ConnectivityMap, unread: Unread = ()) -> str:
    caveat = partial_caveat(unread)
    lines = [
        "### Connectivity (partial)" if caveat else "### Connectivity",
        "",
        f"{len(result.edges)} connected pairs among {len(result.workloads)} workloads.",
        "",
    ]
    if caveat:
        lines += [f"> ⚠️ {text(caveat[0].upper() + caveat[1:])}.", ""]
    lines += (
        _markdown_table(result) if result.edges else ["No connection is allowed between the workloads found."]
    )
    return "\n".join([*lines, *_markdown_notes(result.notes, result.warnings, result.reading)]) + "\n"


def diff_markdown(diff: ConnectivityDiff, title: str = "Connectivity changes") -> str:
    lines = [f"### {text(title)}", ""]
    if not diff.changed:
        lines.append("No change in who can reach whom.")
    else:
        lines += [*change_graph(diff.added.lines(), diff.removed.lines()).markdown(), ""]
    if diff.added.edges:
        lines += [f"**Newly allowed** ({len(diff.added.edges)} pairs)", "", *_markdown_table(diff.added), ""]
    if diff.removed.edges:
        lines += [
            f"**No longer allowed** ({len(diff.removed.edges)} pairs)",
            "",
            *_markdown_table(diff.removed),
            "",
        ]
    return "\n".join([*lines, *_markdown_notes(*_diff_notes(diff))]).rstrip("\n") + "\n"


def render_connectivity(result: ConnectivityMap, output_format: str, unread: Unread = ()) -> str:
    """``unread``: what could not be read from the cluster (a partial map; CSV, a plain table of
    connections, has no place for it: the command says it on standard error)."""
    if output_format == "json":
        return json.dumps(connectivity_json(result, unread), indent=2) + "\n"
    if output_format == "csv":
        return connectivity_csv(result)
    if output_format == "markdown":
        return connectivity_markdown(result, unread)
    return connectivity_text(result, unread)


def render_diff(diff: ConnectivityDiff, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(diff_json(diff), indent=2) + "\n"
    if output_format == "csv":
        return diff_csv(diff)
    if output_format == "markdown":
        return diff_markdown(diff)
    return diff_text(diff)
