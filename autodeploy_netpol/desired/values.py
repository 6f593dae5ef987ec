"""The values box: read an auto-deploy-values file and pick out the network-policy blocks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, Location
from ..sources.yamlio import YamlDocument, load_mapping

DEFAULT_VALUES_FILE = ".gitlab/auto-deploy-values.yaml"
#: The blocks this tool reads; everything else in the file belongs to the chart.
BLOCKS = ("networkPolicy", "ciliumNetworkPolicy")


@dataclass
class ValuesFile:
    """A values file as read: its path, its parsed document (``None`` if there is no file)."""

    path: str
    document: YamlDocument | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.document is not None

    def block(self, name: str) -> dict[str, Any] | None:
        """The user's ``networkPolicy`` / ``ciliumNetworkPolicy`` block, if it is a mapping."""
        value = self.data.get(name)
        return value if isinstance(value, dict) else None

    def locate(self, path: tuple[str | int, ...], *, key: bool = False) -> Location:
        if self.document is None:
            return Location(self.path)
        return self.document.locate(path, key=key)


def default_values_path() -> str:
    """``${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}``, as Auto Deploy resolves it."""
    return os.environ.get("HELM_UPGRADE_VALUES_FILE") or DEFAULT_VALUES_FILE


def read_values(path: str | None) -> ValuesFile:
    """Read the values file.

    ``path=None`` means the default location: a missing default file is "no network policy
    configured", not an error. An explicitly named file must exist.
    """
    if path is None:
        default = default_values_path()
        if not os.path.exists(default):
            return ValuesFile(default, None, {})
        path = default
    elif not os.path.exists(path):
        raise InputError(
            "values file not found",
            location=Location(path),
            hint="check the path; without an argument the tool reads "
            "${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}",
        )
    document = load_mapping(path)
    return ValuesFile(path, document, document.data)
