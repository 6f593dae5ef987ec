"""Helm's value-merging semantics.

Helm coalesces values files in order: maps merge key by key, lists and scalars from the later
file replace the earlier ones whole, and a ``null`` removes the key (so a user can switch off a
chart default). ``--set`` values are applied last and win over every ``--values`` file.

The merge is deepmerge's, with one strategy of ours for maps (Helm's ``null`` deletes a key,
and a map brought in whole loses its nulls). deepmerge is imported on the first merge, not with
the module: ``validate`` never merges, and its start-up is measured against ``helm template``
(issue 18, bench/peers.py).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


_ATOMIC = (str, int, float, bool, type(None))


def deep_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy(value)`` for values as read (dicts, lists, scalars): the same copy — a map
    or list that appears twice (a YAML alias) is copied once and stays shared — without
    deepcopy's dispatch per object, and without importing copy (with weakref) unless a value of
    another type turns up, which copy.deepcopy then copies (same memo)."""
    if memo is None:
        memo = {}
    kind = type(value)
    if kind is dict:
        done = memo.get(id(value))
        if done is not None:
            return done
        copied: dict[Any, Any] = {}
        memo[id(value)] = copied
        for key, item in value.items():
            copied[key if type(key) in _ATOMIC else deep_copy(key, memo)] = (
                item if type(item) in _ATOMIC else deep_copy(item, memo)
            )
        return copied
    if kind is list:
        done = memo.get(id(value))
        if done is not None:
            return done
        items: list[Any] = []
        memo[id(value)] = items
        for item in value:
            items.append(item if type(item) in _ATOMIC else deep_copy(item, memo))
        return items
    if kind in _ATOMIC:
        return value
    import copy

    return copy.deepcopy(value, memo)


def drop_nulls(value: Any) -> Any:
    """A map brought in whole keeps no ``null`` keys: Helm deletes them wherever they appear."""
    if isinstance(value, dict):
        return {key: drop_nulls(item) for key, item in value.items() if item is not None}
    return value


def _merge_maps(config: Any, path: list[Any], base: dict[Any, Any], nxt: dict[Any, Any]) -> dict[Any, Any]:
    """deepmerge's strategy for two maps, as Helm layers values (``base`` changed in place)."""
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
    """``helm`` (nulls delete) or ``layer`` (nulls kept, for Helm to delete later): maps merge key
    by key, lists and scalars are replaced, a type conflict is won by the later value."""
    if not _MERGERS:
        from deepmerge import Merger

        _MERGERS["helm"] = Merger([(dict, [_merge_maps]), (list, ["override"])], ["override"], ["override"])
        _MERGERS["layer"] = Merger([(dict, ["merge"]), (list, ["override"])], ["override"], ["override"])
    return _MERGERS[name]


def layer_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Combine two values files into one that Helm treats the same as passing both (nulls kept)."""
    # Layering two user-side values files before Helm sees them: nulls must survive, so that
    # Helm still deletes the chart default they point at.
    result: dict[str, Any] = _merger("layer").merge(deep_copy(base), deep_copy(override))
    return result


def helm_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` overlaid with ``override`` the way Helm layers values; inputs are not changed."""
    result: dict[str, Any] = _merger("helm").merge(deep_copy(base), deep_copy(override))
    return result


def helm_merge_all(*layers: dict[str, Any]) -> dict[str, Any]:
    """Merge several layers in order (first is lowest priority)."""
    result: dict[str, Any] = {}
    for layer in layers:
        # helm_merge(result, layer), without copying the result again: it is this call's own
        result = _merger("helm").merge(result, deep_copy(layer))
    return result
