"""Writing Kubernetes objects and values as YAML the way kubectl and Helm users expect to read them.

Helm and kubectl read YAML with Go's yaml.v2, which takes more plain scalars for booleans and
numbers than PyYAML does (``y``, ``n``, ``1e3``, ``0o17``). A string that Go would read as
something else is therefore written quoted (``sources.goyaml``): a label ``y`` stays a string
in the merged values file Helm reads and in the objects kubectl applies.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..sources.goyaml import dump

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def dump_yaml(data: Any) -> str:
    """One YAML document, keys in their given order, block style."""
    return dump(data)


def dump_stream(objects: Iterable[dict[str, Any]]) -> str:
    """A YAML stream with ``---`` before each document, as ``helm template`` prints it."""
    return "".join(f"---\n{dump_yaml(obj)}" for obj in objects)
