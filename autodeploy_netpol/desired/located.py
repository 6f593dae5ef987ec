"""The desired objects as manifests located in the values file they come from.

A finding about a policy the deploy will create (lint, a Code Quality report) should point at the
line of ``.gitlab/auto-deploy-values.yaml`` a reviewer changes, not at a rendered stream nobody
reads. Each rendered object comes from one block of the values file — ``networkPolicy`` (its
``spec``), ``networkPolicy.policies.<key>``, ``networkPolicy.suggested``,
``networkPolicy.defaultDeny``, ``ciliumNetworkPolicy`` and ``ciliumNetworkPolicy.policies.<key>``
— and a path inside the object's ``spec`` is the same path inside that block's ``spec``. Where the
file does not spell a path out (a spec the suggestion or the chart's default fills in), the
position is that of the nearest part that is written: the block itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Location
from ..kube.manifests import Manifest, PathElement
from ..kube.releases import fullname, object_name
from .chart import DEFAULT_DENY_SUFFIX, SUGGESTED_SUFFIX
from .values import ValuesFile


@dataclass(frozen=True)
class ValuesOrigin:
    """Positions inside one rendered object, found in the values-file block it comes from."""

    values: ValuesFile
    block: tuple[PathElement, ...]

    def locate(self, path: Sequence[PathElement]) -> Location:
        if path and path[0] == "spec":
            return self.values.locate((*self.block, *path))
        return self.values.locate(self.block, key=True)


def source_block(
    obj: Mapping[str, Any], values: Mapping[str, Any], helm_release: str
) -> tuple[PathElement, ...]:
    """The values-file block a rendered policy object comes from (by the chart's naming)."""
    kind = obj.get("kind")
    block_name = "ciliumNetworkPolicy" if kind == "CiliumNetworkPolicy" else "networkPolicy"
    name = str((obj.get("metadata") or {}).get("name") or "")
    override = values.get("nameOverride")
    base = fullname(helm_release, override if isinstance(override, str) else None)
    block = values.get(block_name)
    if name == base or not isinstance(block, Mapping):
        return (block_name,)
    if block_name == "networkPolicy":
        for suffix in (SUGGESTED_SUFFIX, DEFAULT_DENY_SUFFIX):
            if name == object_name(base, suffix) and isinstance(
                block.get(_suffix_key(suffix)), Mapping
            ):
                return (block_name, _suffix_key(suffix))
    for key in block.get("policies") or {}:
        if name == object_name(base, str(key)):
            return (block_name, "policies", str(key))
    return (block_name,)


def _suffix_key(suffix: str) -> str:
    return {SUGGESTED_SUFFIX: "suggested", DEFAULT_DENY_SUFFIX: "defaultDeny"}[suffix]


def located_objects(
    objects: Sequence[Mapping[str, Any]], values: ValuesFile, *, helm_release: str
) -> list[Manifest]:
    """``objects`` (as :func:`~.compute.compute_desired` renders them) as manifests located in
    ``values``."""
    return [
        Manifest(
            str(obj.get("kind")),
            dict(obj),
            ValuesOrigin(values, source_block(obj, values.data, helm_release)),
        )
        for obj in objects
    ]
