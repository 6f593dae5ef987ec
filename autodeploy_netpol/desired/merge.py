"""Helm's value-merging semantics.

Helm coalesces values files in order: maps merge key by key, lists and scalars from the later
file replace the earlier ones whole, and a ``null`` removes the key (so a user can switch off a
chart default). ``--set`` values are applied last and win over every ``--values`` file.

Two recursive functions of a few lines each, in plain Python: they replaced the deepmerge
package, whose import (with ``typing``) cost every ``render`` ~4 ms of start-up (issue 18,
bench/startup.py) for what amounts to "two maps merge key by key, anything else: the later wins".
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


def _helm_maps(base: dict[Any, Any], nxt: dict[Any, Any]) -> dict[Any, Any]:
    """``nxt`` laid over ``base`` (changed in place) as Helm layers values."""
    for key, value in nxt.items():
        if value is None:
            base.pop(key, None)
        elif key in base and isinstance(base[key], dict) and isinstance(value, dict):
            base[key] = _helm_maps(base[key], value)
        else:
            base[key] = drop_nulls(value)
    return base


def _layer_maps(base: dict[Any, Any], nxt: dict[Any, Any]) -> dict[Any, Any]:
    """``nxt`` laid over ``base`` (changed in place), nulls kept."""
    for key, value in nxt.items():
        if key in base and isinstance(base[key], dict) and isinstance(value, dict):
            base[key] = _layer_maps(base[key], value)
        else:
            base[key] = value
    return base


def _over(base: Any, nxt: Any, maps: Any) -> Any:
    """Two maps merge; anything else: the later value wins."""
    return maps(base, nxt) if isinstance(base, dict) and isinstance(nxt, dict) else nxt


def layer_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Combine two values files into one that Helm treats the same as passing both (nulls kept)."""
    # Layering two user-side values files before Helm sees them: nulls must survive, so that
    # Helm still deletes the chart default they point at.
    return _over(deep_copy(base), deep_copy(override), _layer_maps)


def helm_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` overlaid with ``override`` the way Helm layers values; inputs are not changed."""
    return _over(deep_copy(base), deep_copy(override), _helm_maps)


def helm_merge_all(*layers: dict[str, Any]) -> dict[str, Any]:
    """Merge several layers in order (first is lowest priority)."""
    result: dict[str, Any] = {}
    for layer in layers:
        # helm_merge(result, layer), without copying the result again: it is this call's own
        result = _over(result, deep_copy(layer), _helm_maps)
    return result
