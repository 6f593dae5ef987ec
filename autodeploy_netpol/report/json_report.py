"""The JSON report, and reading one back (``comment --report drift.json``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ..errors import InputError, Location
from . import SCHEMA_RESOURCE, SCHEMA_VERSION


def render_json(document: Mapping[str, Any]) -> str:
    """The document as JSON: top-level members on their own lines, one list item per line.

    Values YAML typed as dates (or other non-JSON types) become strings. Items are written
    compactly so the C encoder does the work: ``indent`` would switch the json module to its
    pure-Python encoder, seconds for a report of 10,000 objects.
    """

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    members = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {dump(item)}" for item in value)
            members.append(f"  {dump(key)}: [\n{items}\n  ]")
        else:
            members.append(f"  {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(members) + "\n}\n"


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report document."""
    text = resources.files("autodeploy_netpol").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_report(path: str) -> dict[str, Any]:
    """Read a drift report written by ``drift --format json``, checked against the schema."""
    import jsonschema

    from .. import limits
    from ..sources.yamlio import load_documents, parse_json, read_text

    hint = "pass the file written by 'autodeploy-netpol drift --output drift.json'"
    text = read_text(path)
    document = parse_json(text, path, hint=hint)  # duplicate keys, depth, huge numbers: located
    if isinstance(document, dict) and document.get("schemaVersion") not in (None, SCHEMA_VERSION):
        version = str(document.get("schemaVersion"))[:40]
        raise InputError(
            f"drift report schemaVersion {version!r} is not {SCHEMA_VERSION}",
            location=Location(path),
            hint="re-render with the same autodeploy-netpol version that wrote the report",
        )
    validator = jsonschema.Draft202012Validator(report_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        message = " ".join(error.message.split())
        message = message if len(message) <= 300 else message[:297] + "..."
        location = Location(path)
        if len(text) <= limits.YAML_BYTES.value():  # JSON is YAML: the reader knows the line
            documents = load_documents(path, text=text)
            if documents:
                location = documents[0].locate(tuple(error.absolute_path))
        raise InputError(f"not a valid drift report: {where}: {message}", location=location, hint=hint)
    return dict(document)
