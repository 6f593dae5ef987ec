"""Compile schemas/netpol-values.schema.json into a Python validity check, at build time.

``validate`` and ``render`` check the values blocks against the JSON Schema on every run. The
reference validator (the ``jsonschema`` package) costs more to import than the rest of a run,
so a valid file — the common case in a pipeline — is recognised by a check generated from the
schema with fastjsonschema's code generator, and ``jsonschema`` is imported only to describe
the problems of an invalid file (autodeploy_netpol/desired/validate.py). The schema stays the
source of truth: the generated module records the schema's checksum and is used only while the
checksum matches; ``tests/unit/test_schema_gate.py`` fails when it is stale.

    .venv/bin/python tools/schema_gate.py          # (re)write the module   (make schema-gate)
    .venv/bin/python tools/schema_gate.py --check  # exit 1 if it is stale

How the schema is prepared for the generator, so that "valid" means what it means to the
reference validator (JSON Schema 2020-12):

* ``$ref`` next to other keywords is applied together with them (2020-12), where the generator
  follows draft 7 and ignores the siblings: such a schema becomes ``allOf: [{$ref}, {siblings}]``;
* every ``$ref`` must point into the schema itself (``#...``): nothing is ever fetched, and the
  generator is given handlers that refuse every URI scheme;
* only keywords whose generated check agrees with the reference validator are allowed
  (:data:`KEYWORDS`); a schema using another one is refused here, loudly;
* no defaults are filled in and no formats asserted (the reference validator does neither).

The generated check stops at the first problem; it only ever answers "valid or not".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "netpol-values.schema.json"
MODULE = ROOT / "autodeploy_netpol" / "desired" / "_values_schema_gate.py"

#: Keywords whose generated check agrees with jsonschema's Draft202012Validator on the data a
#: YAML file can hold (enum and const values must be strings: Python's == treats 1 and true alike).
KEYWORDS = frozenset(
    {
        "$schema", "$id", "$ref", "$defs", "title", "description",  # annotations and structure
        "type", "enum", "const",
        "properties", "additionalProperties", "required", "propertyNames", "minProperties", "maxProperties",
        "items", "minItems", "maxItems", "uniqueItems",
        "pattern", "maxLength", "minLength",
        "minimum", "maximum",
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    }
)  # fmt: skip
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "$comment", "examples", "default"})
#: Keywords whose value is a map of names to schemas, or a list of schemas, or one schema.
_SCHEMA_MAPS = ("properties", "$defs")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("additionalProperties", "propertyNames", "items", "not", "if", "then", "else")


class SchemaError(Exception):
    """The schema uses something the generated check would not treat as the reference does."""


def checksum(raw: bytes) -> str:
    """What the generated module records of the schema file (a staleness check, not security)."""
    return f"{zlib.crc32(raw):08x}-{len(raw)}"


def prepare(schema: Any, where: str = "#") -> Any:
    """A copy of ``schema`` with the same meaning under the generator's rules (see above)."""
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, dict):
        raise SchemaError(f"{where}: a schema must be an object or a boolean")
    unknown = sorted(set(schema) - KEYWORDS - _ANNOTATIONS)
    if unknown:
        raise SchemaError(f"{where}: keyword(s) {', '.join(unknown)} not supported by the generated check")
    constants = [*schema.get("enum", []), *([schema["const"]] if "const" in schema else [])]
    if any(not isinstance(value, str) for value in constants):
        raise SchemaError(f"{where}: enum and const take only string values here")
    out: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in _SCHEMA_MAPS:
            out[keyword] = {name: prepare(sub, f"{where}/{keyword}/{name}") for name, sub in value.items()}
        elif keyword in _SCHEMA_LISTS:
            out[keyword] = [prepare(sub, f"{where}/{keyword}/{i}") for i, sub in enumerate(value)]
        elif keyword in _SCHEMA_VALUES:
            out[keyword] = prepare(value, f"{where}/{keyword}")
        else:
            out[keyword] = value
    reference = out.get("$ref")
    if reference is not None:
        if not isinstance(reference, str) or not reference.startswith("#"):
            raise SchemaError(f"{where}/$ref: only references into the schema itself (#...) are allowed")
        siblings = {k: v for k, v in out.items() if k not in _ANNOTATIONS and k not in ("$ref", "$defs")}
        if siblings:
            kept = {k: v for k, v in out.items() if k in _ANNOTATIONS or k == "$defs"}
            out = {**kept, "allOf": [{"$ref": reference}, siblings]}
    return out


def _refuse(uri: str) -> Any:
    raise SchemaError(f"refusing to fetch {uri}: the schema must not reference anything outside itself")


def _lazy_patterns(source: str) -> str:
    """fastjsonschema's ``REGEX_PATTERNS = {key: re.compile(...)}``, compiled on first use
    instead: a typical values file meets one pattern or none, and compiling all of them cost every
    validate and render start-up (bench/startup.py). Lookups stay ``REGEX_PATTERNS[key]``."""
    compiled = re.compile(r"re\.compile\(('(?:[^'\\]|\\.)*')\)")
    if compiled.search(source) is None and "re.compile" in source:
        raise SchemaError("fastjsonschema's REGEX_PATTERNS changed shape: review tools/schema_gate.py")
    sources = compiled.sub(r"\1", source).replace("REGEX_PATTERNS = {", "_PATTERN_SOURCES = {", 1)
    return "\n".join(
        [
            sources,
            "",
            "",
            "class _Patterns(dict):",
            '    """The patterns of the schema, each compiled when a check first needs it."""',
            "",
            "    def __missing__(self, key):",
            "        compiled = self[key] = re.compile(_PATTERN_SOURCES[key])",
            "        return compiled",
            "",
            "",
            "REGEX_PATTERNS = _Patterns()",
        ]
    )


_RAISE = re.compile(r"^(\s*)raise JsonSchemaValueException\(.*, rule='(\w+)'\)$", re.MULTILINE)


def _terse_raises(body: str) -> str:
    """Each ``raise JsonSchemaValueException(message, value=…, name=…, definition={…the schema
    part…}, rule=…)`` as ``raise JsonSchemaValueException(rule)``: the gate only tells valid from
    invalid (jsonschema describes problems), and the schema parts written into every raise made
    the module 420 kB, ~3 ms of unmarshalling on every validate and render (bench/startup.py).
    fastjsonschema's own ``detailed_exceptions=False`` fails on this schema (KeyError)."""
    terse, count = _RAISE.subn(r"\1raise JsonSchemaValueException('\2')", body)
    if count == 0 or "raise JsonSchemaValueException(" in _RAISE.sub("", body):
        raise SchemaError("fastjsonschema's raise statements changed shape: review tools/schema_gate.py")
    return terse


def generate(raw: bytes) -> str:
    """The source of the generated module for the schema file's bytes."""
    import fastjsonschema  # a build-time tool (the test extra), never imported at run time

    schema = prepare(json.loads(raw))
    handlers = {scheme: _refuse for scheme in ("http", "https", "file", "ftp", "urn", "")}
    code = fastjsonschema.compile_to_code(
        schema, handlers=handlers, use_default=False, use_formats=False, detailed_exceptions=True
    )
    header, _, body = code.partition("\nNoneType = type(None)\n")
    if not body:
        raise SchemaError("fastjsonschema's generated code changed shape: review tools/schema_gate.py")
    patterns = re.search(r"^REGEX_PATTERNS = .*?^}$", header, re.MULTILINE | re.DOTALL)
    root = re.search(r"^def (\w+)\(", body, re.MULTILINE)  # the root schema's function comes first
    if root is None:
        raise SchemaError("no validation function in the generated code")
    if "Decimal(" in body:
        raise SchemaError("the generated code computes with decimal (multipleOf?): not supported")
    return "\n".join(
        [
            f'"""Generated by tools/schema_gate.py (make schema-gate) from {SCHEMA.relative_to(ROOT)}',
            f"with fastjsonschema {fastjsonschema.VERSION}. Do not edit: regenerate.",
            "",
            "A validity check only (it stops at the first problem); problems are described by the",
            "jsonschema package (desired/validate.py).",
            '"""',
            "# ruff: noqa",
            "# mypy: ignore-errors",
            "# fmt: off",
            "import re",
            "",
            f'SCHEMA_CHECKSUM = "{checksum(raw)}"',
            "",
            "",
            "class JsonSchemaValueException(ValueError):",
            '    """The data is not valid (the first problem found)."""',
            "",
            "    def __init__(self, message, value=None, name=None, definition=None, rule=None):",
            "        super().__init__(message)",
            "",
            "",
            "JsonSchemaValuesException = JsonSchemaValueException",
            "",
            "",
            "class Decimal:",
            '    """Named in the generated type checks of numbers; data read from YAML never holds one."""',
            "",
            _lazy_patterns(patterns[0] if patterns else "REGEX_PATTERNS = {}"),
            "",
            "NoneType = type(None)",
            _terse_raises(body).rstrip("\n"),
            "",
            "",
            *([f"validate = {root[1]}", ""] if root[1] != "validate" else []),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the module is stale")
    options = parser.parse_args()
    source = generate(SCHEMA.read_bytes())
    current = MODULE.read_text(encoding="utf-8") if MODULE.exists() else ""
    if options.check:
        if current != source:
            print(f"{MODULE.relative_to(ROOT)} is stale: run make schema-gate", file=sys.stderr)
            return 1
        return 0
    if current != source:
        MODULE.write_text(source, encoding="utf-8")
        print(f"wrote {MODULE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
