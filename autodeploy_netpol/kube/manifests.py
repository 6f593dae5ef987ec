"""A Kubernetes object as the tool reads it: its kind, its body, and where it came from.

Every input path (files, directories, standard input, the cluster) yields :class:`Manifest`
records, so the checks see one shape whatever the source, and a message about an object can
point at its file:line:column (or name the cluster it was listed from).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import Location
from ..records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Origin(Protocol):
        """Where an object was read: turns a path inside it into a position in its source."""

        def locate(self, path: Sequence[PathElement]) -> Location:
            """The position of ``path`` (the nearest existing ancestor when it is absent)."""
            ...

#: A step of a path inside an object: a mapping key or a list index.
PathElement = str | int


@record(frozen=True)
class FixedOrigin:
    """An origin without positions inside it, e.g. an object listed from a cluster."""

    location: Location

    def locate(self, path: Sequence[PathElement]) -> Location:
        return self.location


@record(frozen=True, slots=True)
class Manifest:
    """One object. ``data`` is the body as read (``apiVersion``, ``kind``, ``metadata`` …);
    ``prefix`` is its path inside the document of ``origin`` (``("items", 3)`` in a List)."""

    kind: str
    data: dict[str, Any]
    origin: Origin
    prefix: tuple[PathElement, ...] = ()

    @property
    def name(self) -> str:
        """``metadata.name`` (empty when absent)."""
        return str((self.data.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str | None:
        """``metadata.namespace``, or ``None`` (cluster-scoped, or left to the reader's namespace)."""
        namespace = (self.data.get("metadata") or {}).get("namespace")
        return str(namespace) if namespace else None

    def locate(self, path: Sequence[PathElement] = ()) -> Location:
        """Where ``path`` inside this object is in its source."""
        return self.origin.locate((*self.prefix, *path))

    def describe(self) -> str:
        """``NetworkPolicy shop/web`` — how messages name the object."""
        namespace = self.namespace
        return f"{self.kind} {namespace + '/' if namespace else ''}{self.name}"
