"""The values box: read an auto-deploy-values file and pick out the network-policy blocks."""

from __future__ import annotations

import os

from ..errors import InputError, Location
from ..records import field, record
from ..sources.yamlio import YamlDocument, load_mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

DEFAULT_VALUES_FILE = ".gitlab/auto-deploy-values.yaml"
#: The blocks this tool reads; everything else in the file belongs to the chart.
BLOCKS = ("networkPolicy", "ciliumNetworkPolicy")


@record
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


@record(frozen=True)
class ValuesPath:
    """Which values file to read: one named on the command line (``explicit``: it must exist),
    or Auto Deploy's default location (the CLI resolves ``$HELM_UPGRADE_VALUES_FILE``), where a
    missing file means "no network policy configured"."""

    path: str
    explicit: bool = True


def read_values(path: ValuesPath | str) -> ValuesFile:
    """Read the values file (a plain string is a file named explicitly)."""
    where = path if isinstance(path, ValuesPath) else ValuesPath(path)
    if not os.path.lexists(where.path):  # a dangling link is an error, not "no file"
        if not where.explicit:
            return ValuesFile(where.path, None, {})
        raise InputError(
            "values file not found",
            location=Location(where.path),
            hint="check the path; without an argument the tool reads "
            "${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}",
        )
    # Read as Helm reads it (Go's yaml.v2): `enabled: y` is true, `1e3` a number.
    document = load_mapping(where.path, go_scalars=True)
    return ValuesFile(where.path, document, document.data)
