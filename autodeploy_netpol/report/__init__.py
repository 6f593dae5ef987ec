"""Reports of a drift check: the JSON document, and text, Markdown and JUnit rendered from it.

The JSON document (:func:`report_document`, shape in ``schemas/drift-report.schema.json``) is
the one model every format is rendered from, so a saved ``drift.json`` artifact can be
re-rendered later (``autodeploy-netpol comment --report drift.json``) exactly as the drift
run would have rendered it. Renderers are pure: document in, text out.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from ..checks.diff import FieldChange
    from ..checks.drift import DriftEntry, DriftReport

# The drift records are imported where a report is built, not here: report.manifests writes the
# YAML of `render`, which must not pay for the comparison and the policy model (bench/values.py).

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "schemas/drift-report.schema.json"

#: Output formats and the file name endings they are inferred from (``--output drift.md``).
FORMATS = ("text", "json", "markdown", "junit", "codequality")
SUFFIX_FORMATS = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".xml": "junit",
    ".junit": "junit",
    ".txt": "text",
    ".log": "text",
}


def field_change_document(change: FieldChange) -> dict[str, Any]:
    """A field change as JSON: a side where the field is absent is left out."""
    from ..checks.diff import ABSENT

    out: dict[str, Any] = {"path": change.text, "scope": str(change.scope)}
    if change.live is not ABSENT:
        out["live"] = change.live
    if change.desired is not ABSENT:
        out["desired"] = change.desired
    return out


def entry_document(entry: DriftEntry) -> dict[str, Any]:
    """One drift entry as JSON."""
    from ..checks.diff import ABSENT
    from ..checks.drift import Change

    out: dict[str, Any] = {
        "kind": entry.kind,
        "namespace": entry.namespace,
        "name": entry.name,
        "change": str(entry.change),
    }
    if entry.owner:
        out["owner"] = entry.owner
    if entry.change is Change.CHANGED:
        out["scopes"] = [str(scope) for scope in entry.scopes]
        out["paths"] = [field_change_document(change) for change in entry.paths]
        if entry.cosmetic:
            out["kept"] = list(entry.cosmetic)
    elif entry.spec is not ABSENT:
        out["spec"] = entry.spec
    return out


def report_document(
    report: DriftReport,
    *,
    environment: str | None = None,
    fail_on_override: bool = False,
    compared: bool = True,
) -> dict[str, Any]:
    """The JSON report document (see ``schemas/drift-report.schema.json``); ``fail_on_override``
    records whether the run failed on override warnings (JUnit makes those failures then);
    ``compared`` is ``False`` for a run without live state (verdict ``no-live``: the "missing"
    objects are what the deploy will create)."""
    from ..checks.drift import Change

    verdict = ("drift" if report.has_drift else "in-sync") if compared else "no-live"
    summary = {
        "verdict": verdict,
        "changed": report.count(Change.CHANGED),
        "missing": report.count(Change.MISSING),
        "unexpected": report.count(Change.UNEXPECTED),
        "inSync": len(report.in_sync),
        "ignored": len(report.ignored),
        "context": len(report.context),
    }
    document: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "kind": "DriftReport",
        "tool": {"name": "autodeploy-netpol", "version": __version__},
        "environment": environment,
        "failOnOverride": fail_on_override,
        "scope": {
            "namespace": report.namespace,
            "allNamespaces": report.all_namespaces,
            "releases": list(report.releases),
        },
        "sources": {"desired": report.desired_source, "live": report.live_source},
        "summary": summary,
        "drift": [entry_document(entry) for entry in report.drift],
        "inSync": [
            {
                "kind": item.kind,
                "namespace": item.namespace,
                "name": item.name,
                "cosmetic": list(item.cosmetic),
            }
            for item in report.in_sync
        ],
        "ignored": [{**entry_document(item.entry), "rules": list(item.rules)} for item in report.ignored],
        "context": [
            {"kind": item.kind, "namespace": item.namespace, "name": item.name, "owner": item.owner}
            for item in report.context
        ],
        "notes": list(report.notes),
        "ownership": [verdict.to_json() for verdict in report.ownership],
        "warnings": [warning.to_json() for warning in report.warnings],
    }
    if report.connectivity is not None:
        document["connectivity"] = dict(report.connectivity)
    return document


def summary_line(document: Mapping[str, Any]) -> str:
    """``2 changed, 1 missing, 0 unexpected`` - the line CI logs and comments lead with."""
    summary = document.get("summary") or {}
    return ", ".join(f"{int(summary.get(key, 0))} {key}" for key in ("changed", "missing", "unexpected"))


def connectivity_caveat(section: Any) -> str | None:
    """The sentence every format shows beside a partial connectivity verdict, or ``None``.

    A verdict is partial when objects it depends on could not be read (the shipped
    least-privilege Role forbids listing Namespaces, workloads and cluster-wide policies): the
    engine judged without them, so the verdict covers only what was read.
    """
    if not isinstance(section, Mapping) or not section.get("partial"):
        return None
    unread = [str(item.get("what")) for item in section.get("unread") or [] if isinstance(item, Mapping)]
    what = ", ".join(unread) if unread else "some objects"
    return (
        f"partial verdict: {what} could not be read from the cluster, so connections that depend on "
        "them were judged without them (the notes say why; grant the Role's optional rules to get a "
        "complete verdict)"
    )


def object_label(item: Mapping[str, Any]) -> str:
    """``NetworkPolicy prod/web`` for an object in the document."""
    namespace = item.get("namespace") or ""
    name = item.get("name", "")
    return f"{item.get('kind', '')} {namespace}/{name}" if namespace else f"{item.get('kind', '')} {name}"


def render(document: Mapping[str, Any], output_format: str, **options: Any) -> str:
    """Render the document in one of :data:`FORMATS`.

    ``options``: ``verbose`` and ``color`` (text), ``environment``, ``job_url`` and
    ``max_chars`` (markdown), ``values_location`` (codequality: the file and line of the values
    file's network-policy block, where the ownership warnings are shown).
    """
    if output_format == "json":
        from .json_report import render_json

        return render_json(document)
    if output_format == "text":
        from .text import render_text

        return render_text(document, verbose=options.get("verbose", False), color=options.get("color", False))
    if output_format == "markdown":
        from .markdown import render_markdown

        kwargs = {
            key: options[key]
            for key in ("environment", "job_url", "max_chars", "artifact_path")
            if options.get(key) is not None
        }
        return render_markdown(document, **kwargs)
    if output_format == "junit":
        from .junit import render_junit

        return render_junit(document)
    if output_format == "codequality":
        from .codequality import drift_issues, render_codequality

        location = options.get("values_location")
        path = (
            location.file
            if location is not None
            else str((document.get("sources") or {}).get("desired") or "")
        )
        line = location.line if location is not None else 1
        return render_codequality(drift_issues(document, path=path, line=line) if path else [])
    raise ValueError(f"unknown format {output_format!r}")
