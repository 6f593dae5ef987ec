"""Label selectors (Kubernetes ``matchLabels`` / ``matchExpressions``), compiled once, matched fast.

The same :class:`Selector` serves NetworkPolicy pod and namespace selectors and Cilium endpoint
selectors; Cilium's label-source prefixes (``k8s:``, ``any:``) are removed when compiling, so a
Cilium selector is matched against the pod's labels plus the pseudo-labels Cilium gives every
endpoint (:func:`cilium_labels`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..kube.defaults import CILIUM_NAMESPACE_LABEL, CILIUM_NAMESPACE_LABELS_PREFIX, strip_kubernetes_source

IN, NOT_IN, EXISTS, DOES_NOT_EXIST = "In", "NotIn", "Exists", "DoesNotExist"
OPERATORS = (IN, NOT_IN, EXISTS, DOES_NOT_EXIST)


class SelectorError(InputError):
    """A selector that cannot be compiled; ``path`` is relative to the selector."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Requirement:
    """``key In (values)``, ``key NotIn (values)``, ``key Exists``, ``key DoesNotExist``."""

    key: str
    operator: str
    values: tuple[str, ...] = ()
    # hashed once: selectors and peers are dictionary keys in the analysis' caches
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.key, self.operator, self.values)))

    def __hash__(self) -> int:
        return self._hash

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == IN:
            return labels.get(self.key) in self.values
        if self.operator == NOT_IN:
            return labels.get(self.key) not in self.values
        if self.operator == EXISTS:
            return self.key in labels
        return self.key not in labels

    def describe(self) -> str:
        if self.operator == IN:
            return (
                f"{self.key}={self.values[0]}"
                if len(self.values) == 1
                else f"{self.key} in ({', '.join(self.values)})"
            )
        if self.operator == NOT_IN:
            return f"{self.key} not in ({', '.join(self.values)})"
        if self.operator == EXISTS:
            return f"has {self.key}"
        return f"no {self.key}"


@dataclass(frozen=True)
class Selector:
    """A conjunction of requirements; no requirement at all selects everything."""

    requirements: tuple[Requirement, ...] = ()
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash(self.requirements))

    def __hash__(self) -> int:
        return self._hash

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)

    @property
    def selects_all(self) -> bool:
        return not self.requirements

    def label_keys(self) -> set[str]:
        return {requirement.key for requirement in self.requirements}

    def with_requirement(self, requirement: Requirement) -> Selector:
        return Selector((*self.requirements, requirement))

    def describe(self) -> str:
        return ",".join(requirement.describe() for requirement in self.requirements) or "all"


MATCH_ALL = Selector()


#: Compiled ``{matchLabels: {...}}`` selectors, the common shape (a policy set repeats a few).
_PLAIN_SELECTORS: dict[tuple[bool, tuple[tuple[Any, Any], ...]], Selector] = {}
_PLAIN_LIMIT = 4096


def compile_selector(raw: Any, *, cilium: bool = False) -> Selector:
    """Compile a ``LabelSelector`` mapping; ``None`` is the empty selector.

    With ``cilium=True`` the ``k8s:``/``any:`` source prefixes are removed from keys
    (``reserved:`` and other sources are kept: they never match a pod label).
    """
    if raw is None:
        return MATCH_ALL
    if type(raw) is dict and len(raw) == 1 and type(raw.get("matchLabels")) is dict:
        labels = raw["matchLabels"]
        if all(type(value) is str for value in labels.values()):
            key = (cilium, tuple(labels.items()))
            cached = _PLAIN_SELECTORS.get(key)
            if cached is None:
                cached = _compile_selector(raw, cilium=cilium)
                if len(_PLAIN_SELECTORS) >= _PLAIN_LIMIT:
                    _PLAIN_SELECTORS.clear()
                _PLAIN_SELECTORS[key] = cached
            return cached
    return _compile_selector(raw, cilium=cilium)


def _compile_selector(raw: Any, *, cilium: bool) -> Selector:
    if raw is None:
        return MATCH_ALL
    if not isinstance(raw, Mapping):
        raise SelectorError(f"a label selector must be a mapping, not {type(raw).__name__}")
    requirements: list[Requirement] = []
    unknown = set(raw) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise SelectorError(f"unknown selector field {sorted(unknown)[0]!r}", (sorted(unknown)[0],))
    match_labels = raw.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError("matchLabels must be a mapping", ("matchLabels",))
    for key, value in match_labels.items():
        if value is None:
            value = ""
        if not isinstance(value, str | int | float | bool) or isinstance(value, bool):
            raise SelectorError(f"label value for {key!r} must be a string", ("matchLabels", str(key)))
        name = strip_kubernetes_source(str(key)) if cilium else str(key)
        requirements.append(Requirement(name, IN, (str(value),)))
    expressions = raw.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise SelectorError("matchExpressions must be a list", ("matchExpressions",))
    for index, expression in enumerate(expressions):
        where: tuple[str | int, ...] = ("matchExpressions", index)
        if not isinstance(expression, Mapping) or "key" not in expression or "operator" not in expression:
            raise SelectorError("a match expression needs 'key' and 'operator'", where)
        operator = str(expression["operator"])
        if operator not in OPERATORS:
            raise SelectorError(
                f"unknown operator {operator!r} (expected one of {', '.join(OPERATORS)})", where
            )
        values = expression.get("values") or []
        if not isinstance(values, list):
            raise SelectorError("values must be a list", (*where, "values"))
        if operator in (IN, NOT_IN) and not values:
            raise SelectorError(f"operator {operator} needs at least one value", where)
        if operator in (EXISTS, DOES_NOT_EXIST) and values:
            raise SelectorError(f"operator {operator} takes no values", where)
        key = str(expression["key"])
        name = strip_kubernetes_source(key) if cilium else key
        requirements.append(Requirement(name, operator, tuple(sorted(str(v) for v in values))))
    return Selector(tuple(requirements))


def cilium_labels(
    namespace: str, labels: Mapping[str, str], namespace_labels: Mapping[str, str]
) -> dict[str, str]:
    """What a Cilium endpoint selector sees for a pod: its labels plus namespace pseudo-labels."""
    view = dict(labels)
    view[CILIUM_NAMESPACE_LABEL] = namespace
    for key, value in namespace_labels.items():
        view[CILIUM_NAMESPACE_LABELS_PREFIX + key] = value
    return view
