"""Label sets that satisfy selectors: pods standing in for the pods a policy talks about.

The engine answers questions about endpoints; a question about policies alone ("does one policy
allow something another does not, on some pod?") needs pods to ask about. Every selector only
looks at finitely many keys and values, so for each key a label is either absent, one of the
values some requirement names, or any other value: pods that agree on those states are
indistinguishable to the selectors. This module finds such label sets:

* :func:`satisfying_labels` - one label set a conjunction of requirements matches;
* :func:`membership_witnesses` - one label set per realizable combination of "inside" and
  "outside" a list of selectors (exact, by search over the states that matter).

Requirements are the engine's :class:`~.selectors.Requirement` over one flat key space; callers
put namespace labels and pod labels into it as Cilium does (see :func:`pod_view_requirements`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..kube.defaults import (
    CILIUM_NAMESPACE_LABEL,
    CILIUM_NAMESPACE_LABELS_PREFIX,
    CILIUM_RESERVED_PREFIX,
    NAMESPACE_NAME_LABEL,
)
from .selectors import EXISTS, IN, NOT_IN, Requirement, Selector

Requirements = Sequence[Requirement]


class _Other:
    """The state "some value no requirement names" of a key."""

    def __repr__(self) -> str:
        return "<other value>"


OTHER = _Other()
#: A key's state: absent (None), a value some requirement names, or OTHER.
State = str | _Other | None
Domain = frozenset[State]


class LabelSpace:
    """The states that matter for each key the given requirements mention."""

    def __init__(self, requirement_lists: Iterable[Requirements]) -> None:
        values: dict[str, set[str]] = {}
        for requirements in requirement_lists:
            for requirement in requirements:
                values.setdefault(requirement.key, set()).update(requirement.values)
        self.named: dict[str, frozenset[str]] = {key: frozenset(named) for key, named in values.items()}
        self.domains: dict[str, Domain] = {
            key: frozenset((None, OTHER, *named)) for key, named in self.named.items()
        }
        self._allowed: dict[Requirement, Domain] = {}

    def allowed(self, requirement: Requirement) -> Domain:
        """The states of ``requirement.key`` that satisfy it."""
        cached = self._allowed.get(requirement)
        if cached is None:
            full = self.domains[requirement.key]
            if requirement.operator == IN:
                cached = frozenset(requirement.values)
            elif requirement.operator == NOT_IN:
                cached = full - frozenset(requirement.values)
            elif requirement.operator == EXISTS:
                cached = full - {None}
            else:
                cached = frozenset({None})
            self._allowed[requirement] = cached
        return cached

    def narrow(self, fixed: Mapping[str, Domain], requirements: Requirements) -> dict[str, Domain] | None:
        """``fixed`` with every requirement imposed; None when some key is left without a state."""
        out = dict(fixed)
        for requirement in requirements:
            domain = out.get(requirement.key, self.domains[requirement.key]) & self.allowed(requirement)
            if not domain:
                return None
            out[requirement.key] = domain
        return out

    def solve(
        self, fixed: Mapping[str, Domain], excluded: Sequence[Requirements]
    ) -> dict[str, Domain] | None:
        """Domains within ``fixed`` under which every conjunction in ``excluded`` is false, or None.

        A conjunction is made false by violating one of its requirements: a depth-first search
        over which one (a conjunction already false under ``fixed`` costs nothing).
        """
        stack: list[tuple[int, dict[str, Domain]]] = [(0, dict(fixed))]
        while stack:
            position, domains = stack.pop()
            while position < len(excluded) and self._false(domains, excluded[position]):
                position += 1
            if position == len(excluded):
                return domains
            for requirement in reversed(excluded[position]):
                current = domains.get(requirement.key, self.domains[requirement.key])
                rest = current - self.allowed(requirement)
                if rest:
                    stack.append((position + 1, {**domains, requirement.key: rest}))
        return None

    def _false(self, domains: Mapping[str, Domain], conjunction: Requirements) -> bool:
        return any(not (domains.get(r.key, self.domains[r.key]) & self.allowed(r)) for r in conjunction)

    def labels(self, domains: Mapping[str, Domain]) -> dict[str, str]:
        """One label set within ``domains``: a key absent where it may be, else a named value, else
        a value no requirement names (``any``, or ``any-2`` ... when ``any`` is named)."""
        out: dict[str, str] = {}
        for key, domain in sorted(domains.items()):
            if None in domain:
                continue
            named = sorted(state for state in domain if isinstance(state, str))
            if named:
                out[key] = named[0]
                continue
            fresh, counter = "any", 1
            while fresh in self.named.get(key, ()):
                counter += 1
                fresh = f"any-{counter}"
            out[key] = fresh
        return out


def satisfying_labels(requirements: Requirements) -> dict[str, str] | None:
    """Labels that ``requirements`` (a conjunction) match, or None when they contradict each other."""
    space = LabelSpace([requirements])
    domains = space.narrow({}, requirements)
    return None if domains is None else space.labels(domains)


@dataclass(frozen=True)
class Witness:
    """A label set and the selectors (by position) it is inside."""

    labels: dict[str, str]
    inside: frozenset[int]


def membership_witnesses(
    base: Requirements, selectors: Sequence[Requirements], *, limit: int
) -> tuple[list[Witness], bool]:
    """One label set matching ``base`` for each realizable set of ``selectors`` it is inside.

    Exact: every label set matching ``base`` is inside exactly the selectors of one witness.
    Returns the witnesses and whether the search finished (False when it stopped at ``limit``).
    """
    space = LabelSpace([base, *selectors])
    start = space.narrow({}, base)
    if start is None:
        return [], True
    found: list[Witness] = []
    # (next selector, domains, selectors it must be outside of, selectors it is inside)
    stack: list[tuple[int, dict[str, Domain], tuple[Requirements, ...], frozenset[int]]] = [
        (0, start, (), frozenset())
    ]
    while stack:
        position, domains, outside, inside = stack.pop()
        if position == len(selectors):
            solved = space.solve(domains, outside)
            if solved is not None:
                found.append(Witness(space.labels(solved), inside))
                if len(found) >= limit:
                    return found, False
            continue
        selector = selectors[position]
        entered = space.narrow(domains, selector)
        if entered is not None and space.solve(entered, outside) is not None:
            stack.append((position + 1, entered, outside, inside | {position}))
        if space.solve(domains, (*outside, selector)) is not None:
            stack.append((position + 1, domains, (*outside, selector), inside))
    return found, True


# ----------------------------------------------------------------------------- pods as label sets


def _namespace_key(key: str) -> str:
    """The Cilium pseudo-label of a namespace's name stands for its ``kubernetes.io/metadata.name``."""
    if key == CILIUM_NAMESPACE_LABELS_PREFIX + NAMESPACE_NAME_LABEL:
        return CILIUM_NAMESPACE_LABEL
    return key


def pod_view_requirements(
    pod_selector: Selector,
    *,
    cilium: bool,
    namespace: str | None = None,
    namespace_selector: Selector | None = None,
) -> tuple[Requirement, ...] | None:
    """A selector of pods as requirements on the Cilium view of a pod (its labels plus namespace
    pseudo-labels), where a namespace's name and its ``kubernetes.io/metadata.name`` are one key.

    ``pod_selector`` is a Kubernetes selector (``cilium=False``), scoped by ``namespace`` or
    ``namespace_selector``, or a Cilium endpoint selector (already scoped). None when the
    selector can match no pod (it names a reserved identity).
    """
    out: list[Requirement] = []
    for requirement in pod_selector.requirements:
        if cilium and requirement.key.startswith(CILIUM_RESERVED_PREFIX):
            return None
        key = _namespace_key(requirement.key) if cilium else requirement.key
        out.append(Requirement(key, requirement.operator, requirement.values))
    if namespace is not None:
        out.append(Requirement(CILIUM_NAMESPACE_LABEL, IN, (namespace,)))
    if namespace_selector is not None:
        for requirement in namespace_selector.requirements:
            key = (
                CILIUM_NAMESPACE_LABEL
                if requirement.key == NAMESPACE_NAME_LABEL
                else CILIUM_NAMESPACE_LABELS_PREFIX + requirement.key
            )
            out.append(Requirement(key, requirement.operator, requirement.values))
    return tuple(out)


#: Every pod is in a namespace.
POD_BASE: tuple[Requirement, ...] = (Requirement(CILIUM_NAMESPACE_LABEL, EXISTS),)


def split_pod_view(view: Mapping[str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
    """(namespace, namespace labels, pod labels) of a label set over the Cilium view of a pod."""
    namespace = view[CILIUM_NAMESPACE_LABEL]
    namespace_labels = {NAMESPACE_NAME_LABEL: namespace}
    pod_labels: dict[str, str] = {}
    for key, value in view.items():
        if key == CILIUM_NAMESPACE_LABEL:
            continue
        if key.startswith(CILIUM_NAMESPACE_LABELS_PREFIX):
            namespace_labels[key.removeprefix(CILIUM_NAMESPACE_LABELS_PREFIX)] = value
        else:
            pod_labels[key] = value
    return namespace, namespace_labels, pod_labels


__all__ = [
    "OTHER",
    "POD_BASE",
    "LabelSpace",
    "Witness",
    "membership_witnesses",
    "pod_view_requirements",
    "satisfying_labels",
    "split_pod_view",
]
