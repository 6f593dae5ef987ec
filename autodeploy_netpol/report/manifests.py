"""Writing Kubernetes objects and values as YAML the way kubectl and Helm users expect to read them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(data: Any) -> str:
    """One YAML document, keys in their given order, block style."""
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text


def dump_stream(objects: Iterable[dict[str, Any]]) -> str:
    """A YAML stream with ``---`` before each document, as ``helm template`` prints it."""
    return "".join(f"---\n{dump_yaml(obj)}" for obj in objects)
