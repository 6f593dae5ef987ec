"""Reading the PATHs of the connectivity commands into a :class:`~..connectivity.Model`.

A PATH is a YAML/JSON file or a directory of them (``.yaml``, ``.yml``, ``.json``, sorted,
not recursive), or ``-`` for standard input. A document is one object or a list
(``kind: List`` / ``PodList`` … with ``items``), as ``kubectl get -o yaml|json`` prints it.
Every kind is kept: policies, Namespaces, Pods and workload controllers; others are ignored.
A policy the engine cannot understand becomes an input error pointing at its file:line.

Without PATHs the commands read the cluster (:func:`cluster_source_options`): policies of the
namespace (or all with ``-A``), and, when the role allows, Namespaces, clusterwide Cilium
policies, workloads and pods.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from ..errors import ClusterError, InputError, Location
from ..policy import Model, PolicyError, build_inventory
from ..sources.yamlio import PathElement, YamlDocument, decode_utf8, load_documents, read_text

SUFFIXES = (".yaml", ".yml", ".json")
#: JSON files above this size are parsed with the json module (several times faster than the
#: YAML reader); positions for messages come from the YAML reader, only when one is needed.
FAST_JSON_BYTES = 256 * 1024

Locator = Callable[[tuple[str | int, ...]], Location]


@dataclass
class Snapshot:
    """Objects read from some PATHs, each with a way to find a path inside it in its file."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    locators: list[Locator] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: what could not be read (e.g. pods, when the role does not allow listing them)
    notes: list[str] = field(default_factory=list)

    def model(self) -> Model:
        """Compile into a model; a bad policy is an :class:`InputError` at its file:line."""
        inventory = build_inventory(self.objects)
        try:
            return Model.from_inventory(inventory)
        except PolicyError as error:
            # find which object failed: compile one by one (only on the error path)
            for index in inventory.policy_origins:
                try:
                    Model.build([self.objects[index]])
                except PolicyError as exact:
                    raise InputError(
                        f"{_describe(self.objects[index])}: {exact.message}",
                        hint=exact.hint,
                        location=self.locators[index](exact.path),
                    ) from None
            raise error

    def locate(self, manifest: Mapping[str, Any], path: tuple[str | int, ...]) -> Location | None:
        """Where ``path`` inside ``manifest`` (one of :attr:`objects`) is in its file."""
        for index, candidate in enumerate(self.objects):
            if candidate is manifest:
                return self.locators[index](path)
        return None

    @property
    def has_namespaces(self) -> bool:
        """Whether Namespace objects were given (else namespace labels are unknown)."""
        return any(manifest.get("kind") == "Namespace" for manifest in self.objects)


def _describe(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata") or {}
    namespace = metadata.get("namespace")
    return f"{manifest.get('kind')} {namespace + '/' if namespace else ''}{metadata.get('name')}"


def read_paths(paths: Sequence[str]) -> Snapshot:
    """Read every PATH (files, directories, ``-``) into one :class:`Snapshot`."""
    snapshot = Snapshot()
    for path in paths:
        for file, text in _files(path):
            fast = _json_document(file) if text is None and file.endswith(".json") else None
            for document in [fast] if fast is not None else load_documents(file, text=text):
                _add_document(snapshot, document)
        snapshot.sources.append(path)
    return snapshot


class _JsonDocument(YamlDocument):
    """A JSON file read by the json module; :meth:`locate` re-reads it with the YAML reader."""

    def locate(self, path: Sequence[PathElement], *, key: bool = False) -> Location:
        documents = load_documents(self.file)
        return documents[0].locate(path, key=key) if documents else Location(self.file)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey
    return out


def _json_document(file: str) -> YamlDocument | None:
    """A big JSON file through the json module; ``None`` (read it as YAML) when small or when
    it has a problem, so that the YAML reader reports the problem with its line."""
    try:
        if os.path.getsize(file) <= FAST_JSON_BYTES:
            return None
    except OSError:
        return None
    try:
        data = json.loads(read_text(file), object_pairs_hook=_no_duplicates)
    except (json.JSONDecodeError, _DuplicateKey):
        return None
    return _JsonDocument(file, data, None)


def _files(path: str) -> Iterable[tuple[str, str | None]]:
    if path == "-":
        return [("<stdin>", decode_utf8(sys.stdin.buffer.read(), "<stdin>"))]
    if os.path.isdir(path):
        names = sorted(name for name in os.listdir(path) if name.endswith(SUFFIXES))
        if not names:
            raise InputError(
                "the directory holds no .yaml, .yml or .json file",
                location=Location(path),
                hint="point at a file, or at a directory of kubectl get -o yaml output",
            )
        return [(os.path.join(path, name), None) for name in names]
    if not os.path.exists(path):
        raise InputError("no such file or directory", location=Location(path), hint="check the path")
    return [(path, None)]


def _add_document(snapshot: Snapshot, document: YamlDocument) -> None:
    data = document.data
    if not isinstance(data, Mapping):
        raise InputError(
            f"a document must be a Kubernetes object (a mapping), not {type(data).__name__}",
            location=document.locate(()),
            hint="expected kubectl get -o yaml output: 'kind: List' with items, or objects separated by ---",
        )
    kind = data.get("kind")
    if "items" in data and (kind is None or (isinstance(kind, str) and kind.endswith("List"))):
        items = data.get("items") or []
        if not isinstance(items, list):
            raise InputError("'items' of a list must be a list", location=document.locate(("items",)))
        item_kind = kind[: -len("List")] if isinstance(kind, str) and kind != "List" else ""
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise InputError("a list item must be an object", location=document.locate(("items", index)))
            if "kind" not in item and item_kind:
                item = {"kind": item_kind, **item}
            _add_object(snapshot, dict(item), document, ("items", index))
        return
    _add_object(snapshot, dict(data), document, ())


def _add_object(
    snapshot: Snapshot, manifest: dict[str, Any], document: YamlDocument, prefix: tuple[str | int, ...]
) -> None:
    if not isinstance(manifest.get("kind"), str):
        raise InputError(
            "object without 'kind'",
            location=document.locate(prefix),
            hint="every object needs apiVersion, kind and metadata",
        )
    metadata = manifest.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InputError("metadata must be a mapping", location=document.locate((*prefix, "metadata")))
    snapshot.objects.append(manifest)
    snapshot.locators.append(_locator(document, prefix))


def _locator(document: YamlDocument, prefix: tuple[str | int, ...]) -> Locator:
    def locate(path: tuple[str | int, ...]) -> Location:
        return document.locate((*prefix, *path))

    return locate


def model_from_paths(paths: Sequence[str]) -> tuple[Model, Snapshot]:
    snapshot = read_paths(paths)
    return snapshot.model(), snapshot


F = TypeVar("F", bound=Callable[..., Any])


def cluster_source_options(function: F) -> F:
    """``--namespace``/``-n``, ``--all-namespaces``/``-A`` and the cluster access options,
    used when a command is given no PATH."""
    from .cluster_options import cluster_access_options

    function = click.option(
        "--all-namespaces", "-A", is_flag=True, help="Without PATH: read every namespace of the cluster."
    )(function)
    function = click.option(
        "--namespace",
        "-n",
        default=None,
        metavar="NS",
        help="Without PATH: the namespace to read from the cluster. Default: $KUBE_NAMESPACE.",
    )(function)
    return cluster_access_options(function)


def read_cluster_objects(namespace: str | None, **cluster: Any) -> Snapshot:
    """Policies of ``namespace`` (``None``: all), plus Namespaces, clusterwide Cilium policies,
    workloads and pods when the role allows listing them (otherwise a note says what is missing)."""
    from .audit import read_cluster
    from .cluster_options import reader_from_options

    snapshot = Snapshot()
    with reader_from_options(**cluster) as reader:
        objects = read_cluster(reader, namespace, snapshot.notes)
        try:
            objects.extend(reader.pods(namespace).objects)
        except ClusterError as exc:
            snapshot.notes.append(f"pods not read from the cluster ({exc.message}); workloads stand for them")
        target = reader.target
        source = f"{target.context or 'in-cluster'} ({target.server})"
    where = Location(f"cluster {source}")

    def in_cluster(path: tuple[str | int, ...]) -> Location:
        return where

    for manifest in objects:
        snapshot.objects.append(manifest)
        snapshot.locators.append(in_cluster)
    snapshot.sources.append(source)
    return snapshot


def load(
    paths: Sequence[str], namespace: str | None, all_namespaces: bool, cluster: dict[str, Any]
) -> tuple[Model, Snapshot]:
    """The model from PATHs, or from the cluster when there is none."""
    if paths:
        return model_from_paths(paths)
    namespace = namespace or os.environ.get("KUBE_NAMESPACE") or None
    if not namespace and not all_namespaces:
        raise InputError(
            "no PATH and no namespace to read from the cluster",
            hint="give snapshot PATHs, or --namespace NS (or KUBE_NAMESPACE), or --all-namespaces",
        )
    snapshot = read_cluster_objects(None if all_namespaces else namespace, **cluster)
    return snapshot.model(), snapshot
