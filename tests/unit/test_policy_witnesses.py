"""Label sets standing in for pods: one per kind of pod a list of selectors can tell apart."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from autodeploy_netpol.policy.selectors import Requirement, Selector, compile_selector
from autodeploy_netpol.policy.witnesses import (
    POD_BASE,
    membership_witnesses,
    pod_view_requirements,
    satisfying_labels,
    split_pod_view,
)

KEYS = ("app", "tier")
VALUES = ("a", "b")

requirements = st.builds(
    Requirement,
    st.sampled_from(KEYS),
    st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
    st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True).map(lambda v: tuple(sorted(v))),
).map(lambda r: Requirement(r.key, r.operator, r.values if r.operator in ("In", "NotIn") else ()))
conjunctions = st.lists(requirements, max_size=3).map(tuple)


def _matches(conjunction: tuple[Requirement, ...], labels: dict[str, str]) -> bool:
    return Selector(conjunction).matches(labels)


def _every_label_set() -> list[dict[str, str]]:
    states = (None, "a", "b", "c")  # absent, the named values, another value
    return [
        {key: value for key, value in zip(KEYS, combo, strict=True) if value is not None}
        for combo in itertools.product(states, repeat=len(KEYS))
    ]


@given(conjunctions)
def test_satisfying_labels_are_exact(conjunction: tuple[Requirement, ...]) -> None:
    labels = satisfying_labels(conjunction)
    if labels is None:
        assert not any(_matches(conjunction, candidate) for candidate in _every_label_set())
    else:
        assert _matches(conjunction, labels)


def test_satisfying_labels_prefer_absent_then_named_values() -> None:
    selector = compile_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "Exists"},
                {"key": "track", "operator": "NotIn", "values": ["canary"]},
            ],
        }
    )
    assert satisfying_labels(selector.requirements) == {"app": "web", "tier": "any"}
    contradiction = compile_selector(
        {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}
    )
    assert satisfying_labels(contradiction.requirements) is None


@given(conjunctions, st.lists(conjunctions, max_size=4))
def test_witnesses_cover_every_kind_of_label_set_exactly_once(
    base: tuple[Requirement, ...], selectors: list[tuple[Requirement, ...]]
) -> None:
    witnesses, complete = membership_witnesses(base, selectors, limit=1000)
    assert complete
    patterns = [w.inside for w in witnesses]
    assert len(patterns) == len(set(patterns))  # one witness per kind
    for witness in witnesses:  # each witness is what it says
        assert _matches(base, witness.labels)
        assert witness.inside == {i for i, s in enumerate(selectors) if _matches(s, witness.labels)}
    for labels in _every_label_set():  # every label set has its witness
        if _matches(base, labels):
            assert {i for i, s in enumerate(selectors) if _matches(s, labels)} in patterns


def test_the_search_stops_at_its_limit_and_says_so() -> None:
    selectors = [(Requirement(f"k{i}", "Exists"),) for i in range(12)]  # 4,096 kinds of label sets
    witnesses, complete = membership_witnesses((), selectors, limit=100)
    assert len(witnesses) == 100 and not complete


def test_pod_view_puts_namespace_and_pod_labels_in_one_space() -> None:
    pod = compile_selector({"matchLabels": {"app": "web"}})
    namespaces = compile_selector({"matchLabels": {"kubernetes.io/metadata.name": "shop", "team": "a"}})
    requirements = pod_view_requirements(pod, cilium=False, namespace_selector=namespaces)
    assert requirements is not None
    labels = satisfying_labels((*POD_BASE, *requirements))
    assert labels is not None
    assert split_pod_view(labels) == (
        "shop",
        {"kubernetes.io/metadata.name": "shop", "team": "a"},
        {"app": "web"},
    )
    reserved = compile_selector({"matchLabels": {"reserved:host": ""}}, cilium=True)
    assert pod_view_requirements(reserved, cilium=True) is None  # never a pod
