"""``metadata.managedFields``: who wrote which field of a live object, how and when.

The API server records, for every field manager, the set of fields it currently owns in the
``FieldsV1`` trie format (``f:<field>``, ``k:<json key of a list item>``, ``v:<json set value>``,
``i:<index>``, ``.`` for the node itself) plus the operation (``Update`` or ``Apply``) and the
time of its last change. This module turns that into typed records with plain paths, so
ownership can say "kubectl-edit changed spec.ingress at ...".
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...sources.yamlio import format_path
from ...text import ascii_int


@dataclass(frozen=True)
class ListItemKey:
    """An item of an associative list picked by its key fields (``k:{"port":80,"protocol":"TCP"}``)."""

    fields: tuple[tuple[str, Any], ...]

    def __str__(self) -> str:
        return "[" + ",".join(f"{key}={value}" for key, value in self.fields) + "]"


@dataclass(frozen=True)
class SetValue:
    """A member of a set-like list (``v:"TCP"``)."""

    value: Any

    def __str__(self) -> str:
        return f"[={json.dumps(self.value)}]"


PathElement = str | int | ListItemKey | SetValue
FieldPath = tuple[PathElement, ...]


def path_text(path: FieldPath) -> str:
    """A path for people: ``spec.podSelector.matchLabels["app.kubernetes.io/name"]``."""
    text = ""
    for element in path:
        if isinstance(element, str) and element and (element.isidentifier() or _PLAIN.fullmatch(element)):
            text += f".{element}" if text else element
        elif isinstance(element, str | int):
            piece = format_path((element,))
            text += piece if (not text or piece.startswith("[")) else "." + piece
        else:
            text += str(element)
    return text or "(object)"


_PLAIN = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ManagedFieldsEntry:
    """One ``metadata.managedFields`` entry; its field set is turned into paths on first use."""

    manager: str
    operation: str
    time: datetime | None
    time_text: str
    api_version: str
    subresource: str
    #: The FieldsV1 trie as served.
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @functools.cached_property
    def paths(self) -> frozenset[FieldPath]:
        """Leaf paths owned by this manager (the most specific nodes of its field set)."""
        return frozenset(_leaves(self.fields, ()))

    @functools.cached_property
    def _spec(self) -> tuple[tuple[str, FieldPath], ...]:
        spec = self.fields.get("f:spec")
        if spec is None:
            return ()
        return tuple(sorted((path_text(p), p) for p in _leaves(spec, ("spec",))))

    @property
    def spec_paths(self) -> tuple[FieldPath, ...]:
        """Owned paths under ``spec``, sorted for stable output (only the spec part is parsed)."""
        return tuple(path for _, path in self._spec)

    @property
    def spec_texts(self) -> tuple[str, ...]:
        """:attr:`spec_paths` for people."""
        return tuple(text for text, _ in self._spec)

    @property
    def writes(self) -> bool:
        """Whether this manager owns any field at all."""
        return bool(self.fields)


def parse_time(text: Any) -> datetime | None:
    """RFC 3339 time as the API server writes it (``2024-03-01T10:00:00Z``); None when absent or bad."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _element(key: str) -> PathElement | None:
    kind, _, rest = key.partition(":")
    if kind == "f":
        return rest
    if kind == "i":
        index = ascii_int(rest.lstrip("-"))
        return None if index is None else -index if rest.startswith("-") else index
    try:
        decoded = json.loads(rest)
    except ValueError:
        return None
    if kind == "k" and isinstance(decoded, dict):
        return ListItemKey(tuple(sorted(decoded.items())))
    if kind == "v":
        return SetValue(decoded)
    return None


def _leaves(trie: Any, prefix: FieldPath) -> Iterator[FieldPath]:
    if not isinstance(trie, Mapping) or not trie:
        if prefix:
            yield prefix
        return
    children = [key for key in trie if key != "."]
    if not children and prefix:
        yield prefix  # {".": {}} alone: the node itself
    for key in children:
        element = _element(str(key))
        if element is None:
            continue  # an encoding this version does not know: skip rather than guess
        yield from _leaves(trie[key], (*prefix, element))


def parse_managed_fields(obj: Mapping[str, Any]) -> list[ManagedFieldsEntry]:
    """All managedFields entries of a live object, in the order the API server lists them."""
    raw = (obj.get("metadata") or {}).get("managedFields") or []
    entries: list[ManagedFieldsEntry] = []
    if not isinstance(raw, list):
        return entries
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        fields = item.get("fieldsV1") if item.get("fieldsType", "FieldsV1") == "FieldsV1" else None
        entries.append(
            ManagedFieldsEntry(
                manager=str(item.get("manager") or ""),
                operation=str(item.get("operation") or ""),
                time=parse_time(item.get("time")),
                time_text=str(item.get("time") or ""),
                api_version=str(item.get("apiVersion") or ""),
                subresource=str(item.get("subresource") or ""),
                fields=fields if isinstance(fields, Mapping) else {},
            )
        )
    return entries
