"""Field by field: how a live policy differs from the desired one (pure).

The one comparison of two normalized policies, shared by the plan (change or leave alone), drift
(the paths it reports) and ownership (which edited fields the deploy reverts). Paths are tuples
(``("spec", "ingress", 0, "from")``) until a renderer prints them; they use the desired object's
list indices, and an element that exists only in the live object is named by its live index.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..kube.names import CILIUM_POLICY_KINDS
from ..policy.normalize import NormalizedPolicy, canonical, written_spec
from ..sources.yamlio import PathElement, format_path

#: A field of a manifest: keys and list indices from the top (``("metadata", "labels", "app")``).
FieldPath = tuple[PathElement, ...]


class Scope(StrEnum):
    """Where in the object a change is."""

    SPEC = "spec"
    METADATA = "metadata"


class _Absent:
    """The value of a field that is not there (distinct from ``null``)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """One field that differs; ``ABSENT`` on the side where the field does not exist."""

    path: FieldPath
    live: Any = ABSENT
    desired: Any = ABSENT

    @property
    def scope(self) -> Scope:
        return Scope.METADATA if self.path[:1] == ("metadata",) else Scope.SPEC

    @functools.cached_property
    def text(self) -> str:
        """The path for people and for ``--ignore`` rules: ``spec.ingress[0].ports[1].port``."""
        return format_path(self.path)


def is_within(path: FieldPath, other: FieldPath) -> bool:
    """Whether one path is the other or below it, either way round (``spec.ingress`` and
    ``spec.ingress[0].from`` are within each other: writing a list writes its elements)."""
    shorter, longer = (path, other) if len(path) <= len(other) else (other, path)
    return longer[: len(shorter)] == shorter


def value_at(body: Any, path: FieldPath, *, stop_at_index: bool = False) -> Any:
    """The value at ``path`` in a manifest body, or ``ABSENT``.

    With ``stop_at_index`` the walk ends at the first list index: the list is what a writer sets.
    """
    for element in path:
        if isinstance(element, int):
            if stop_at_index:
                return body
            if not isinstance(body, list) or not 0 <= element < len(body):
                return ABSENT
            body = body[element]
        else:
            if not isinstance(body, dict) or element not in body:
                return ABSENT
            body = body[element]
    return body


def spec_body(policy: NormalizedPolicy) -> Any:
    """The part of a normalized policy that diff paths start from: ``{"spec": ...}`` for a
    NetworkPolicy, the ``{spec, specs}`` mapping of a Cilium(Clusterwide)NetworkPolicy."""
    return policy.spec if policy.kind in CILIUM_POLICY_KINDS else {"spec": policy.spec}


def written_body(manifest: Mapping[str, Any]) -> Any:
    """:func:`spec_body` of a manifest as written (before any default is filled in)."""
    spec = written_spec(manifest)
    return spec if manifest.get("kind") in CILIUM_POLICY_KINDS else {"spec": spec}


def diff_policies(
    desired: NormalizedPolicy, live: NormalizedPolicy
) -> tuple[tuple[FieldChange, ...], tuple[str, ...]]:
    """(changes, cosmetic) between two objects of the same identity.

    ``changes``: spec first, then labels and annotations; empty when the deploy changes nothing.
    ``cosmetic``: when there are no changes, why the two are nonetheless written differently.
    """
    changes: list[FieldChange] = []
    if not _identical(desired.spec, live.spec) and canonical(desired.spec) != canonical(live.spec):
        base: FieldPath = () if desired.kind in CILIUM_POLICY_KINDS else ("spec",)
        _diff(live.spec, desired.spec, base, changes)
    for section in ("labels", "annotations"):
        live_map: dict[str, Any] = getattr(live, section)
        desired_map: dict[str, Any] = getattr(desired, section)
        for key in [*desired_map, *(k for k in live_map if k not in desired_map)]:
            live_value = live_map.get(key, ABSENT)
            desired_value = desired_map.get(key, ABSENT)
            if live_value != desired_value or type(live_value) is not type(desired_value):
                changes.append(FieldChange(("metadata", section, key), live_value, desired_value))
    if changes:
        changes.sort(key=lambda change: change.scope != Scope.SPEC)
        return tuple(changes), ()
    return (), _cosmetic(desired, live)


def _identical(a: Any, b: Any) -> bool:
    """Equal as written, types included (``==`` alone takes ``1`` for ``true``); a fast path."""
    if a != b:
        return False
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (TypeError, ValueError):  # keys of mixed types, values JSON cannot hold
        return False


def _cosmetic(desired: NormalizedPolicy, live: NormalizedPolicy) -> tuple[str, ...]:
    """Why two objects that compare equal are written differently (empty when they are not)."""
    if desired.raw_spec == live.raw_spec and desired.raw_annotations == live.raw_annotations:
        return ()
    live_notes = set(live.normalizations)
    desired_notes = set(desired.normalizations)
    reasons = [f"desired {note}" for note in desired.normalizations if note not in live_notes]
    reasons += [f"live {note}" for note in live.normalizations if note not in desired_notes]
    if desired.raw_spec != live.raw_spec and not reasons:
        reasons.append("the same rules, peers or ports, in another order or repeated")
    if desired.raw_annotations != live.raw_annotations:
        reasons.append("annotations differ only in tool bookkeeping (Helm release, kubectl last-applied)")
    return tuple(reasons)


def _diff(live: Any, desired: Any, path: FieldPath, out: list[FieldChange]) -> None:
    if isinstance(live, dict) and isinstance(desired, dict):
        for key in [*desired, *(k for k in live if k not in desired)]:
            live_value = live.get(key, ABSENT)
            desired_value = desired.get(key, ABSENT)
            if live_value is ABSENT or desired_value is ABSENT:
                out.append(FieldChange((*path, key), live_value, desired_value))
            elif canonical(live_value) != canonical(desired_value):
                _diff(live_value, desired_value, (*path, key), out)
        return
    if isinstance(live, list) and isinstance(desired, list):
        _diff_set(live, desired, path, out)
        return
    out.append(FieldChange(path, live, desired))


def _diff_set(live: list[Any], desired: list[Any], path: FieldPath, out: list[FieldChange]) -> None:
    """Diff two lists with set semantics; pair up similar leftover mappings to show inner changes."""
    live_keys = [canonical(item) for item in live]
    desired_keys = [canonical(item) for item in desired]
    live_set = set(live_keys)
    desired_set = set(desired_keys)
    only_desired = [
        (i, item)
        for i, (item, key) in enumerate(zip(desired, desired_keys, strict=True))
        if key not in live_set
    ]
    only_live = [
        (i, item) for i, (item, key) in enumerate(zip(live, live_keys, strict=True)) if key not in desired_set
    ]
    # Repeats are not drift: keep the first of each.
    only_desired = _first_of_each(only_desired)
    only_live = _first_of_each(only_live)
    unpaired_live = list(only_live)
    # One rule replaced by another: show the fields inside it even when none is shared.
    lone_pair = len(only_desired) == 1 and len(only_live) == 1
    for index, item in only_desired:
        partner = _most_similar(item, unpaired_live)
        if partner is None and lone_pair and isinstance(item, dict) and isinstance(only_live[0][1], dict):
            partner = only_live[0]
        if partner is None:
            out.append(FieldChange((*path, index), ABSENT, item))
            continue
        unpaired_live.remove(partner)
        _diff(partner[1], item, (*path, index), out)
    for index, item in unpaired_live:
        out.append(FieldChange((*path, index), item, ABSENT))


def _first_of_each(items: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    seen: set[Any] = set()
    result = []
    for index, item in items:
        key = canonical(item)
        if key not in seen:
            seen.add(key)
            result.append((index, item))
    return result


def _most_similar(item: Any, candidates: list[tuple[int, Any]]) -> tuple[int, Any] | None:
    """The candidate mapping sharing most fields with ``item``; None unless some field is shared."""
    if not isinstance(item, dict):
        return None
    best: tuple[int, Any] | None = None
    best_score = 0
    fields = {(key, canonical(value)) for key, value in item.items()}
    for candidate in candidates:
        if not isinstance(candidate[1], dict):
            continue
        score = len(fields & {(key, canonical(value)) for key, value in candidate[1].items()})
        if score > best_score:
            best, best_score = candidate, score
    return best


__all__ = [
    "ABSENT",
    "FieldChange",
    "FieldPath",
    "Scope",
    "diff_policies",
    "is_within",
    "spec_body",
    "value_at",
    "written_body",
]
