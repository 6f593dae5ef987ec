"""Offline manifests: a snapshot of the cluster (``--live PATH``) or a desired stream (``--desired PATH``).

A path is a YAML or JSON file, or a directory of such files (``.yaml``, ``.yml``, ``.json``,
read in sorted name order, not recursively). A file holds one or more YAML documents; each
document is one object, or a list whose ``items`` are objects: ``kind: List`` as
``kubectl get -o yaml`` prints it, or a typed list such as ``NetworkPolicyList`` from the
API (whose items carry no ``kind``: it comes from the list). ``-`` reads standard input.

Only NetworkPolicy and CiliumNetworkPolicy objects are kept; other kinds (a ``helm template``
stream holds Deployments and Services too) are counted in a note.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, Location
from ..kube.names import POLICY_KINDS
from .live import LiveState
from .yamlio import PathElement, YamlDocument, decode_utf8, load_documents, read_text

SUFFIXES = (".yaml", ".yml", ".json")
#: JSON files above this size are parsed with the json module (several times faster than
#: YAML); errors are then located by re-reading the file with the YAML reader.
FAST_JSON_BYTES = 256 * 1024


@dataclass(frozen=True)
class Manifests:
    """Policy objects read from a path, and what was noticed on the way."""

    objects: list[dict[str, Any]]
    source: str
    notes: list[str]


def read_snapshot(path: str) -> LiveState:
    """Read a snapshot of live policies (``--live PATH``)."""
    manifests = read_manifests(path, what="snapshot")
    return LiveState(objects=manifests.objects, source=manifests.source, notes=manifests.notes)


def read_manifests(
    path: str, *, what: str = "manifest stream", kinds: Collection[str] = POLICY_KINDS
) -> Manifests:
    """Read the policy objects (or other ``kinds``) in a file, a directory of files, or ``-`` (standard input)."""
    files: list[tuple[str, str | None]]
    if path == "-":
        raw = sys.stdin.buffer.read()
        files = [("<stdin>", decode_utf8(raw, "<stdin>"))]
        source = "<stdin>"
    elif os.path.isdir(path):
        names = sorted(name for name in os.listdir(path) if name.endswith(SUFFIXES))
        if not names:
            raise InputError(
                f"the {what} directory holds no .yaml, .yml or .json file",
                location=Location(path),
                hint="point at a file, or at a directory of kubectl get -o yaml output",
            )
        files = [(os.path.join(path, name), None) for name in names]
        source = path
    else:
        files = [(path, None)]
        source = path
    objects: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for file, text in files:
        for manifest in _file_objects(file, text, what):
            if manifest.get("kind") in kinds:
                objects.append(manifest)
            else:
                skipped[str(manifest.get("kind"))] += 1
    notes = []
    if skipped:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(skipped.items()))
        notes.append(f"{source}: skipped objects that are not network policies ({kinds})")
    return Manifests(objects=objects, source=source, notes=notes)


def _file_objects(file: str, text: str | None, what: str) -> list[dict[str, Any]]:
    if text is None and file.endswith(".json") and os.path.getsize(file) > FAST_JSON_BYTES:
        text = read_text(file)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON: {exc.msg}",
                location=Location(file, exc.lineno, exc.colno),
                hint=f"the {what} must be JSON or YAML as kubectl get -o json|yaml prints it",
            ) from None
        try:
            return list(_document_objects(data, None, file, what))
        except InputError:
            pass  # JSON is YAML, and the YAML reader below knows the line of the problem
    objects: list[dict[str, Any]] = []
    for document in load_documents(file, text=text):
        objects.extend(_document_objects(document.data, document, file, what))
    return objects


def _document_objects(
    data: Any, document: YamlDocument | None, file: str, what: str
) -> Iterator[dict[str, Any]]:
    def where(path: tuple[PathElement, ...]) -> Location:
        return document.locate(path) if document is not None else Location(file)

    if not isinstance(data, dict):
        raise InputError(
            f"a {what} document must be a Kubernetes object (a mapping), not {type(data).__name__}",
            location=where(()),
            hint="expected kubectl get -o yaml output: 'kind: List' with items, or objects separated by ---",
        )
    kind = data.get("kind")
    if "items" in data or (isinstance(kind, str) and kind.endswith("List")):
        items = data.get("items") or []
        if not isinstance(items, list):
            raise InputError(f"'items' of a {kind or 'list'} must be a list", location=where(("items",)))
        # A typed list from the API (NetworkPolicyList) leaves the kind out of its items.
        item_kind = kind[: -len("List")] if isinstance(kind, str) and kind.endswith("List") else ""
        for index, item in enumerate(items):
            if isinstance(item, dict) and "kind" not in item and item_kind:
                item = {"kind": item_kind, **item}
            yield _object(item, ("items", index), where, what)
        return
    yield _object(data, (), where, what)


def _object(data: Any, path: tuple[PathElement, ...], where: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(f"an object in the {what} must be a mapping", location=where(path))
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InputError(
            "object without 'kind'",
            location=where(path),
            hint="every object needs apiVersion, kind and metadata.name",
        )
    if kind not in POLICY_KINDS:
        return dict(data)
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        raise InputError(f"{kind} without metadata", location=where(path))
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f"{kind} without metadata.name", location=where((*path, "metadata")))
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise InputError(
            f"{kind} {name}: metadata.namespace must be a string",
            location=where((*path, "metadata", "namespace")),
        )
    for section in ("labels", "annotations"):
        value = metadata.get(section)
        if value is not None and not isinstance(value, dict):
            raise InputError(
                f"{kind} {name}: metadata.{section} must be a mapping",
                location=where((*path, "metadata", section)),
            )
    spec = data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise InputError(f"{kind} {name}: spec must be a mapping", location=where((*path, "spec")))
    return dict(data)
