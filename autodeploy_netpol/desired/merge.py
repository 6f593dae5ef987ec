"""Helm's value-merging semantics, expressed with deepmerge.

Helm coalesces values files in order: maps merge key by key, lists and scalars from the later
file replace the earlier ones whole, and a ``null`` removes the key (so a user can switch off a
chart default). ``--set`` values are applied last and win over every ``--values`` file.
"""

from __future__ import annotations

import copy

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def drop_nulls(value: Any) -> Any:
    """A map brought in whole keeps no ``null`` keys: Helm deletes them wherever they appear."""
    if isinstance(value, dict):
        return {key: drop_nulls(item) for key, item in value.items() if item is not None}
    return value


def _merge_maps(config: Any, path: list[Any], base: dict[Any, Any], nxt: dict[Any, Any]) -> dict[Any, Any]:
    for key, value in nxt.items():
        if value is None:
            base.pop(key, None)
        elif key in base and isinstance(base[key], dict) and isinstance(value, dict):
            base[key] = config.value_strategy([*path, key], base[key], value)
        else:
            base[key] = drop_nulls(value)
    return base


_MERGERS: dict[str, Any] = {}


def _merger(name: str) -> Any:
    """The deepmerge merger ``helm`` or ``layer``, built on first use: ``validate`` needs only
    :func:`drop_nulls`, and importing deepmerge (with ``typing``) is start-up it need not pay."""
    if not _MERGERS:
        from deepmerge import Merger

        _MERGERS["helm"] = Merger([(dict, [_merge_maps]), (list, ["override"])], ["override"], ["override"])
        # Layering two user-side values files before Helm sees them: nulls must survive, so that
        # Helm still deletes the chart default they point at.
        _MERGERS["layer"] = Merger([(dict, ["merge"]), (list, ["override"])], ["override"], ["override"])
    return _MERGERS[name]


def layer_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Combine two values files into one that Helm treats the same as passing both (nulls kept)."""
    result: dict[str, Any] = _merger("layer").merge(copy.deepcopy(base), copy.deepcopy(override))
    return result


def helm_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` overlaid with ``override`` the way Helm layers values; inputs are not changed."""
    result: dict[str, Any] = _merger("helm").merge(copy.deepcopy(base), copy.deepcopy(override))
    return result


def helm_merge_all(*layers: dict[str, Any]) -> dict[str, Any]:
    """Merge several layers in order (first is lowest priority)."""
    result: dict[str, Any] = {}
    for layer in layers:
        result = helm_merge(result, layer)
    return result
