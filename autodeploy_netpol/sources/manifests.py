"""The one manifest reader: every PATH a command takes (``drift --live/--desired``, ``audit
--live/--desired``, the PATHs of ``connectivity``, ``diff``, ``explain`` and ``lint``).

A PATH is

- a YAML or JSON file holding one or more documents;
- a directory: its ``.yaml``, ``.yml`` and ``.json`` files, read recursively in name order as
  ``kubectl apply -R -f`` walks them (symbolic links to directories are not followed); a note
  says how many files were read and how many other files were skipped;
- ``-``: standard input, read once per :class:`ManifestReader` however often ``-`` is given.

A document is one object, or a list whose ``items`` are objects: ``kind: List`` as ``kubectl
get -o yaml`` prints it, or a typed list such as ``NetworkPolicyList`` from the API, whose
items may leave out their ``kind`` (it is the list's kind without ``List``). A document
without ``kind`` but with ``items`` is a list too. ``.json`` files (and standard input that is
JSON) are parsed with the ``json`` module: several times faster than YAML, and faithful where
YAML 1.1 is not (U+0085 is a line break to YAML; C1 controls, which kubectl prints raw, are
refused by it). Positions for messages come from re-reading the text with the YAML reader, only
when a message needs one (none when the file is over the YAML size limit or YAML cannot read it).

Every object comes back as a :class:`~autodeploy_netpol.kube.manifests.Manifest` that can
locate a path inside it (file:line:column). Objects are checked only as far as every command
relies on: a non-empty ``kind``; ``metadata``, ``metadata.labels``/``annotations`` and
``spec`` mappings where present; ``metadata.name``/``namespace`` strings; policies need a
name.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from .. import limits
from ..errors import InputError, Location
from ..files import STDIN, STDIN_NAME, input_name, path_error
from ..kube.manifests import Manifest, PathElement
from ..kube.names import ALL_POLICY_KINDS, LIST
from .collector import cycle_collector_paused
from .yamlio import (
    YamlDocument,
    load_documents,
    parse_json,
    read_stdin,
    read_text,
)

if TYPE_CHECKING:
    from ..kube.manifests import Origin

SUFFIXES = (".yaml", ".yml", ".json")
_NAMED_KINDS = frozenset(ALL_POLICY_KINDS)
_SHAPE_HINT = "expected kubectl get -o yaml output: 'kind: List' with items, or objects separated by ---"


@dataclass(frozen=True)
class Manifests:
    """The objects read from some PATHs, in reading order, and what was noticed on the way."""

    items: tuple[Manifest, ...]
    sources: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The PATHs read, as reports name them (``<stdin>`` for ``-``)."""
        return ", ".join(self.sources)

    def objects(self, kinds: Collection[str] | None = None) -> list[dict[str, Any]]:
        """The bodies, all or those of ``kinds``."""
        return [item.data for item in self.items if kinds is None or item.kind in kinds]

    def select(self, kinds: Collection[str], *, what: str) -> Manifests:
        """Only the objects of ``kinds``; a note counts the others by kind (``what`` names the kept)."""
        kept = tuple(item for item in self.items if item.kind in kinds)
        skipped = Counter(item.kind for item in self.items if item.kind not in kinds)
        notes = self.notes
        if skipped:
            counts = ", ".join(f"{count} {kind}" for kind, count in sorted(skipped.items()))
            notes = (*notes, f"{self.source}: skipped objects that are not {what} ({counts})")
        return Manifests(kept, self.sources, notes)


class ManifestReader:
    """Reads PATHs into :class:`Manifests`. One reader per command run: standard input is read
    once, when ``-`` is first met, and every later ``-`` gets the same text."""

    def __init__(self, stdin: BinaryIO | None = None) -> None:
        self._stdin = stdin
        self._stdin_text: str | None = None

    def read(self, paths: Sequence[str], *, what: str = "manifest stream") -> Manifests:
        """Every object in ``paths`` (files, directories, ``-``); ``what`` names them in messages."""
        items: list[Manifest] = []
        notes: list[str] = []
        with cycle_collector_paused():  # big inputs: see sources/collector.py
            for path in paths:
                walked = path != STDIN and os.path.isdir(path)
                foreign: list[str] = []
                for file, text in self._files(path, what, notes):
                    found = _file_manifests(file, text, what, skip_foreign=walked)
                    if found is None:
                        foreign.append(os.path.relpath(file, path))
                    else:
                        items.extend(found)
                if foreign:
                    shown = ", ".join(foreign[:5]) + (
                        f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
                    )
                    notes.append(
                        f"{path}: skipped {_count(len(foreign), 'file')} holding no Kubernetes object "
                        f"(no document with a kind): {shown}"
                    )
        return Manifests(tuple(items), tuple(input_name(p) for p in paths), tuple(notes))

    def _files(self, path: str, what: str, notes: list[str]) -> list[tuple[str, str | None]]:
        if path == STDIN:
            return [(STDIN_NAME, self._read_stdin())]
        if os.path.isdir(path):
            files, skipped, directories = _walk(path)
            if not files:
                raise InputError(
                    f"the {what} directory holds no .yaml, .yml or .json file",
                    location=Location(path),
                    hint="point at a file, or at a directory of kubectl get -o yaml output",
                )
            where = f" in {directories + 1} directories" if directories else ""
            other = f"; skipped {_count(skipped, 'other file')}" if skipped else ""
            notes.append(f"{path}: read {_count(len(files), 'file')} (.yaml, .yml, .json){where}{other}")
            return [(file, None) for file in files]
        return [(path, None)]

    def _read_stdin(self) -> str:
        if self._stdin_text is None:
            stream = self._stdin if self._stdin is not None else sys.stdin.buffer
            self._stdin_text = read_stdin(stream, STDIN_NAME)  # bounded like a file
        return self._stdin_text


def read_manifests(paths: Sequence[str], *, what: str = "manifest stream") -> Manifests:
    """:meth:`ManifestReader.read` with a reader of its own (standard input read here)."""
    return ManifestReader().read(paths, what=what)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _walk(directory: str) -> tuple[list[str], int, int]:
    """(input files in name order, other files skipped, subdirectories entered).

    Every entry named like an input is read, so one that is not a readable regular file (a
    dangling link, a link loop, a FIFO) is an error naming it, not silently skipped.
    """
    files: list[str] = []
    skipped = directories = 0
    pending = [directory]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError as exc:
            raise path_error(current, exc, what="directory") from None
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
                directories += 1
            elif entry.name.endswith(SUFFIXES):
                files.append(entry.path)
            else:
                skipped += 1
    # Every level in name order, directories among files, as kubectl walks: a.yaml, sub/b.yaml, z.yaml.
    files.sort(key=lambda file: os.path.relpath(file, directory).split(os.sep))
    return files, skipped, directories


class _SourceFile:
    """A file (or standard input) that was read. Its YAML node graph, which positions come from,
    is not kept after reading (it is several times the size of the data): a position asked for
    later re-reads the file, once."""

    def __init__(self, name: str, text: str | None) -> None:
        self.name = name
        self._text = text  # kept for standard input only, which cannot be read again
        self._documents: list[YamlDocument] | None = None

    def document(self, index: int) -> YamlDocument | None:
        if self._documents is None:
            if self._text is None and _over_yaml_limit(self.name):
                return None  # a big JSON file: positions would cost too much; the file is named
            try:
                self._documents = load_documents(self.name, text=self._text)
            except InputError:  # JSON that YAML 1.1 cannot read: the file is named, not the line
                self._documents = []
        return self._documents[index] if index < len(self._documents) else None


def _over_yaml_limit(file: str) -> bool:
    try:
        return os.path.getsize(file) > limits.YAML_BYTES.value()
    except OSError:
        return True


@dataclass(frozen=True)
class _DocumentOrigin:
    """Document number ``index`` of a source file."""

    file: _SourceFile
    index: int

    def locate(self, path: Sequence[PathElement]) -> Location:
        document = self.file.document(self.index)
        return document.locate(path) if document is not None else Location(self.file.name)


def _holds_objects(documents: Sequence[Any]) -> bool:
    """Whether some document is a Kubernetes object or a list of them (has ``kind`` or ``items``)."""
    return any(isinstance(data, dict) and ("kind" in data or "items" in data) for data in documents)


def _file_manifests(
    file: str, text: str | None, what: str, *, skip_foreign: bool = False
) -> list[Manifest] | None:
    """The objects of one file; with ``skip_foreign`` (a file met while walking a directory)
    ``None`` when no document in it is a Kubernetes object — a stray JSON report, a values file
    — rather than an error (a file that holds objects is still checked document by document)."""
    source = _SourceFile(file, text)
    if text is None:
        text = read_text(file, what=what, stdin=True)  # every manifest input also takes -
    # JSON is read as JSON: valid JSON is not always YAML 1.1 (kubectl prints C1 controls raw, and
    # YAML takes U+0085 for a line break inside a string). Positions for messages still come from
    # the YAML reader, lazily. A .json file must be JSON; other text that starts like a JSON object
    # (`kubectl get -o json | … -`) is YAML when it is not JSON.
    is_json = file.endswith(".json")
    if is_json or text.lstrip("\ufeff \t\r\n").startswith("{"):
        try:
            return _json_manifests(source, text, what, skip_foreign=skip_foreign)
        except InputError:
            if is_json:
                raise
    documents = load_documents(file, text=text)
    if skip_foreign and documents and not _holds_objects([document.data for document in documents]):
        return None
    manifests: list[Manifest] = []
    for index, document in enumerate(documents):
        manifests.extend(_document_manifests(document.data, document, _DocumentOrigin(source, index), what))
    return manifests


def _json_manifests(source: _SourceFile, text: str, what: str, *, skip_foreign: bool) -> list[Manifest] | None:
    """The objects of a JSON file read with the json module (parse_json keeps the YAML reader's
    rules and locates its own errors)."""
    data = parse_json(
        text,
        source.name,
        hint="JSON input must be what kubectl get -o json prints; YAML is read from .yaml/.yml files",
    )
    if skip_foreign and not _holds_objects([data]):
        return None
    origin = _DocumentOrigin(source, 0)
    return list(_document_manifests(data, origin, origin, what))


def _is_list(data: Mapping[str, Any]) -> bool:
    kind = data.get("kind")
    if isinstance(kind, str):
        return kind.endswith(LIST)
    return kind is None and "items" in data


def _document_manifests(data: Any, where: Origin, origin: Origin, what: str) -> Iterator[Manifest]:
    """The objects of one document; ``where`` locates problems now, ``origin`` goes on the records."""
    if not isinstance(data, dict):
        raise InputError(
            f"a {what} document must be a Kubernetes object (a mapping), not {type(data).__name__}",
            location=where.locate(()),
            hint=_SHAPE_HINT,
        )
    if not _is_list(data):
        yield _manifest(data, where, origin, (), what)
        return
    kind = data.get("kind")
    items = data.get("items")
    if items is None:
        return
    if not isinstance(items, list):
        raise InputError(f"'items' of a {kind or 'list'} must be a list", location=where.locate(("items",)))
    # A typed list from the API (NetworkPolicyList) leaves the kind out of its items.
    item_kind = kind[: -len(LIST)] if isinstance(kind, str) and kind != LIST else ""
    for index, item in enumerate(items):
        if item_kind and isinstance(item, dict) and "kind" not in item:
            item = {"kind": item_kind, **item}
        yield _manifest(item, where, origin, ("items", index), what)


def _manifest(
    data: Any, where: Origin, origin: Origin, prefix: tuple[PathElement, ...], what: str
) -> Manifest:
    def problem(message: str, *path: PathElement, hint: str | None = None) -> InputError:
        return InputError(message, location=where.locate((*prefix, *path)), hint=hint)

    if not isinstance(data, dict):
        raise problem(
            f"an object in the {what} must be a mapping, not {type(data).__name__}", hint=_SHAPE_HINT
        )
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise problem("object without 'kind'", hint="every object needs apiVersion, kind and metadata.name")
    metadata = data.get("metadata")
    if metadata is None and kind in _NAMED_KINDS:
        raise problem(f"{kind} without metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise problem(f"{kind}: metadata must be a mapping", "metadata")
        name = metadata.get("name")
        if kind in _NAMED_KINDS and (not isinstance(name, str) or not name):
            raise problem(f"{kind} without metadata.name", "metadata")
        if name is not None and not isinstance(name, str):
            raise problem(f"{kind}: metadata.name must be a string", "metadata", "name")
        label = f"{kind} {name}" if name else kind
        namespace = metadata.get("namespace")
        if namespace is not None and not isinstance(namespace, str):
            raise problem(f"{label}: metadata.namespace must be a string", "metadata", "namespace")
        for section in ("labels", "annotations"):
            value = metadata.get(section)
            if value is None and section in metadata:
                del metadata[section]  # `labels: null` is no labels, as the API server reads it
            elif value is not None and not isinstance(value, dict):
                raise problem(f"{label}: metadata.{section} must be a mapping", "metadata", section)
    spec = data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        label = f"{kind} {(metadata or {}).get('name') or ''}".rstrip()
        raise problem(f"{label}: spec must be a mapping", "spec")
    return Manifest(kind, data, origin, prefix)
