"""The text report for a terminal or a CI log (rich; colour only when asked, i.e. on a TTY)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from . import object_label, summary_line
from .drift_connectivity import section_lines
from .escape import one_line

#: Longest value shown inline; the JSON report has the whole value.
MAX_VALUE_CHARS = 160

_CHANGE_STYLE = {"changed": "yellow", "missing": "red", "unexpected": "magenta"}
_CHANGE_MEANING = {
    "changed": "the deploy will overwrite the live fields",
    "missing": "not live: the deploy will create it",
    "unexpected": "live, not desired: the deploy will delete it",
}


def value_text(value: Any, *, limit: int = MAX_VALUE_CHARS) -> str:
    """A value on one line as compact JSON, cut at ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def change_text(change: Mapping[str, Any]) -> str:
    """``live 8080 → desired 80``; a side without the field says "absent"."""
    live = value_text(change["live"]) if "live" in change else "(absent)"
    desired = value_text(change["desired"]) if "desired" in change else "(absent)"
    return f"live {live} → desired {desired}"


def render_text(
    document: Mapping[str, Any], *, verbose: bool = False, color: bool = False, width: int = 120
) -> str:
    """The report for people: one block per drifted object, then the summary line.

    ``verbose`` adds objects in sync (with cosmetic differences), ignored drift and the
    other live policies with their owners.
    """
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        width=width,
        highlight=False,
        soft_wrap=True,
    )
    _connectivity(console, document.get("connectivity"))
    for entry in document.get("drift", []):
        _entry(console, entry)
    for warning in document.get("warnings", []):
        severity = str(warning.get("severity", "warning")) if isinstance(warning, Mapping) else "warning"
        style = _SEVERITY_STYLE.get(severity, "bold yellow")
        console.print(Text(f"{severity}: ", style=style) + Text(_warning_text(warning)))
        for detail in warning.get("details", []) if isinstance(warning, Mapping) else []:
            console.print(Text(f"    {detail}", style="dim"))
    if verbose:
        for entry in document.get("ignored", []):
            _entry(console, entry, ignored=True)
        for item in document.get("inSync", []):
            line = Text("in sync      ", style="green") + Text(object_label(item))
            console.print(line)
            for reason in item.get("cosmetic", []):
                console.print(Text(f"  cosmetic: {reason}", style="dim"))
        for item in document.get("context", []):
            console.print(
                Text("context      ", style="cyan")
                + Text(f"{object_label(item)} (owner: {item.get('owner')})")
            )
        for item in document.get("ownership", []):
            console.print(Text("ownership    ", style="cyan") + Text(_ownership_text(item)))
            for evidence in item.get("evidence", []):
                console.print(Text(f"  evidence: {evidence}", style="dim"))
    for note in document.get("notes", []):
        console.print(Text("note: ", style="dim") + Text(str(note)))
    summary = document.get("summary") or {}
    if summary.get("verdict") == "no-live":
        count = int(summary.get("missing", 0))
        console.print(
            Text(
                f"no live state: nothing compared; the deploy will create {count} "
                f"polic{'y' if count == 1 else 'ies'}",
                style="bold",
            )
        )
        return buffer.getvalue()
    verdict = summary.get("verdict") == "drift"
    tail = (
        f" ({summary.get('inSync', 0)} in sync, {summary.get('ignored', 0)} ignored, "
        f"{summary.get('context', 0)} other live {'policy' if summary.get('context') == 1 else 'policies'})"
    )
    console.print(Text(summary_line(document), style="bold red" if verdict else "bold green") + Text(tail))
    return buffer.getvalue()


def _connectivity(console: Console, section: Any) -> None:
    """Who can newly / no longer reach whom after the deploy (see :mod:`.drift_connectivity`)."""
    for style, line in section_lines(section):
        console.print(Text(one_line(line), style=style))  # names from the cluster: no escape sequence


def _entry(console: Console, entry: Mapping[str, Any], *, ignored: bool = False) -> None:
    change = str(entry.get("change", ""))
    head = Text(f"{change:<12} ", style="dim" if ignored else _CHANGE_STYLE.get(change, ""))
    head.append(object_label(entry), style="bold")
    extra = [_CHANGE_MEANING.get(change, "")] if change != "changed" else []
    if entry.get("owner"):
        extra.append(f"owner: {entry['owner']}")
    if ignored:
        extra.append("ignored by " + ", ".join(entry.get("rules", [])))
    if extra:
        head.append(f"  ({'; '.join(part for part in extra if part)})")
    console.print(head)
    paths = entry.get("paths", [])
    for scope in ("spec", "metadata"):
        changes = [change for change in paths if change.get("scope") == scope]
        if not changes:
            continue
        console.print(Text(f"  {scope}:", style="dim"))
        for field in changes:
            console.print(Text(f"    {field['path']}: ") + Text(change_text(field)))
    for note in entry.get("kept", []):
        console.print(Text(f"  {note}", style="dim"))


_SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}


def _warning_text(warning: Mapping[str, Any] | Any) -> str:
    if isinstance(warning, Mapping):
        subject = object_label(warning) if warning.get("name") else ""
        message = warning.get("reason") or warning.get("message") or ""
        kind = warning.get("code") or warning.get("type") or ""
        return " ".join(part for part in (f"[{kind}]" if kind else "", subject, str(message)) if part)
    return str(warning)


def _ownership_text(item: Mapping[str, Any]) -> str:
    return f"{object_label(item)}: {item.get('owner', 'unknown')} ({item.get('reason', '')})"
