"""A JSON Schema (draft 2020-12) evaluator for the keywords the values schema uses, and only those.

Why not the ``jsonschema`` library here: importing it (with ``referencing``, ``rpds``, ``attrs`` and
the bundled meta-schemas) costs about 100 ms of CPU, a third of ``validate``'s whole run, against a
target of 300 ms for the whole process (bench/RESULTS.md, "Values: validate and render"). The
values schema needs a dozen keywords; this module evaluates exactly those and refuses a schema that
uses any other, so an edit to ``schemas/netpol-values.schema.json`` cannot be silently ignored.
``tests/unit/test_schema_evaluator.py`` checks that it reports what ``jsonschema`` reports on the
whole values corpus and on generated documents.

Errors carry the attribute names of ``jsonschema.ValidationError`` that the validator reads
(``validator``, ``validator_value``, ``instance``, ``schema``, ``absolute_path``, ``message``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

#: Keywords that only annotate: never produce errors.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples"})
_KEYWORDS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "properties",
        "additionalProperties",
        "required",
        "propertyNames",
        "items",
        "uniqueItems",
        "maxItems",
        "maxLength",
        "pattern",
        "$defs",
    }
)


@dataclass
class SchemaError:
    """One keyword that failed, where, and on what."""

    validator: str
    validator_value: Any
    instance: Any
    schema: dict[str, Any]
    absolute_path: deque[str | int] = field(default_factory=deque)
    message: str = ""


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this evaluator does not implement."""


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":  # draft 2020-12: a number with a zero fractional part is an integer
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, int | float)
    raise UnsupportedSchema(f"unknown type {name!r}")


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0, containers compare item by item."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


class SchemaValidator:
    """Evaluates instances against one schema; ``$ref`` resolves to ``#/$defs/...`` in that schema."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self._check(schema)

    def _check(self, schema: Any) -> None:
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"a schema must be an object or a boolean, not {schema!r}")
        unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise UnsupportedSchema(f"keywords not implemented: {', '.join(sorted(unknown))}")
        if "$ref" in schema:
            self._resolve(schema["$ref"])
        for key in ("items", "additionalProperties", "propertyNames"):
            if key in schema:
                self._check(schema[key])
        for group in ("properties", "$defs"):
            for sub in schema.get(group, {}).values():
                self._check(sub)

    def _resolve(self, ref: str) -> Any:
        prefix = "#/$defs/"
        if not ref.startswith(prefix) or ref[len(prefix) :] not in self.root.get("$defs", {}):
            raise UnsupportedSchema(f"only local '#/$defs/<name>' references are supported, not {ref!r}")
        return self.root["$defs"][ref[len(prefix) :]]

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        """Every error, like ``jsonschema``'s ``iter_errors`` (not only the first)."""
        yield from self._descend(self.root, instance, ())

    def _descend(self, schema: Any, instance: Any, path: tuple[str | int, ...]) -> Iterator[SchemaError]:
        if schema is True:
            return
        if schema is False:
            yield SchemaError("false", False, instance, {}, deque(path), "False schema does not allow it")
            return
        for keyword, value in schema.items():
            if keyword == "$ref":
                yield from self._descend(self._resolve(value), instance, path)
            elif keyword in _KEYWORDS:
                for message in self._keyword(keyword, value, schema, instance, path):
                    if isinstance(message, SchemaError):
                        yield message
                    else:
                        yield SchemaError(keyword, value, instance, schema, deque(path), message)

    def _keyword(
        self, keyword: str, value: Any, schema: dict[str, Any], instance: Any, path: tuple[str | int, ...]
    ) -> Iterator[str | SchemaError]:
        if keyword == "type":
            names = value if isinstance(value, list) else [value]
            if not any(_is_type(instance, name) for name in names):
                yield f"{instance!r:.80} is not of type {', '.join(repr(n) for n in names)}"
        elif keyword == "enum":
            if not any(_same(instance, option) for option in value):
                yield f"{instance!r:.80} is not one of {value!r}"
        elif not isinstance(instance, dict | list | str):
            return
        elif isinstance(instance, dict):
            yield from self._object_keyword(keyword, value, schema, instance, path)
        elif isinstance(instance, list):
            if keyword == "items":
                for index, item in enumerate(instance):
                    yield from self._descend(value, item, (*path, index))
            elif keyword == "uniqueItems" and value:
                if any(_same(a, b) for i, a in enumerate(instance) for b in instance[i + 1 :]):
                    yield "has non-unique elements"
            elif keyword == "maxItems" and len(instance) > value:
                yield f"is expected to have at most {value} items"
        elif keyword == "maxLength" and len(instance) > value:
            yield f"{instance!r:.80} is longer than {value} characters"
        elif keyword == "pattern" and not _pattern(value).search(instance):
            yield f"{instance!r:.80} does not match {value!r}"

    def _object_keyword(
        self,
        keyword: str,
        value: Any,
        schema: dict[str, Any],
        instance: dict[Any, Any],
        path: tuple[str | int, ...],
    ) -> Iterator[str | SchemaError]:
        if keyword == "properties":
            for name, sub in value.items():
                if name in instance:
                    yield from self._descend(sub, instance[name], (*path, name))
        elif keyword == "additionalProperties":
            extras = [key for key in instance if key not in schema.get("properties", {})]
            if value is False:
                if extras:
                    yield f"Additional properties are not allowed ({', '.join(repr(k) for k in extras)} unexpected)"
            else:
                for key in extras:
                    yield from self._descend(value, instance[key], (*path, key))
        elif keyword == "required":
            for name in value:
                if name not in instance:
                    yield f"{name!r} is a required property"
        elif keyword == "propertyNames":
            for key in instance:  # errors about a key are reported at the object, on the key
                yield from self._descend(value, key, path)
