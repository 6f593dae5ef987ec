"""Lint findings as text, JSON or Markdown (a section for the merge-request comment). Pure.

``locations`` go with ``findings`` one for one: where in the input each finding's policy is
(``file:line:column``), or ``""`` when unknown. Policy names, messages and hints carry names
and labels from the cluster; the Markdown form writes them through :mod:`.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..checks.lint import Finding
from ..errors import Severity
from .escape import code_cell, table, text

#: Findings listed one by one in the Markdown section (the JSON output has them all).
SHOWN_FINDINGS = 50
_ICONS = {Severity.ERROR: "⛔", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {severity: sum(1 for f in findings if f.severity == severity) for severity in Severity}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _located(findings: Sequence[Finding], locations: Sequence[str]) -> list[tuple[Finding, str]]:
    return [(finding, locations[index] if index < len(locations) else "") for index, finding in enumerate(findings)]


def lint_text(findings: Sequence[Finding], locations: Sequence[str] = ()) -> str:
    """One line per finding (``file:line: severity[check] policy: message``), hints indented."""
    lines = []
    for finding, location in _located(findings, locations):
        where = f"{location}: " if location else ""
        policy = f"{finding.policy}: " if finding.policy else ""
        lines.append(f"{where}{finding.severity}[{finding.check}] {policy}{finding.message}")
        if finding.hint:
            lines.append(f"  hint: {finding.hint}")
    counts = _counts(findings)
    lines.append(f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, {counts[Severity.INFO]} notes")
    return "\n".join(lines) + "\n"


def lint_json(findings: Sequence[Finding], locations: Sequence[str] = ()) -> dict[str, Any]:
    """The findings as a JSON-ready document."""
    return {
        "findings": [
            {
                "severity": finding.severity,
                "check": finding.check,
                "policy": finding.policy,
                "message": finding.message,
                "hint": finding.hint,
                "location": location or None,
            }
            for finding, location in _located(findings, locations)
        ]
    }


def lint_markdown(findings: Sequence[Finding], locations: Sequence[str] = ()) -> str:
    """A section for the merge-request comment: the counts, then a table of the findings."""
    counts = _counts(findings)
    failing = counts[Severity.ERROR] + counts[Severity.WARNING]
    verdict = "❌" if failing else "✅"
    lines = [
        f"### {verdict} Policy lint",
        "",
        f"{_plural(counts[Severity.ERROR], 'error')}, {_plural(counts[Severity.WARNING], 'warning')}, "
        f"{_plural(counts[Severity.INFO], 'note')}.",
    ]
    if findings:
        rows = []
        for finding, location in _located(findings, locations)[:SHOWN_FINDINGS]:
            said = text(finding.message) + (f" — hint: {text(finding.hint)}" if finding.hint else "")
            rows.append(
                [
                    f"{_ICONS.get(finding.severity, '')} {text(finding.severity)}",
                    code_cell(finding.check),
                    code_cell(finding.policy) if finding.policy else "",
                    code_cell(location) if location else "",
                    said,
                ]
            )
        lines += ["", *table(["Severity", "Check", "Policy", "Where", "Finding"], rows)]
        if len(findings) > SHOWN_FINDINGS:
            lines += ["", f"_… and {len(findings) - SHOWN_FINDINGS} more findings (lint --format json)._"]
    return "\n".join(lines) + "\n"
