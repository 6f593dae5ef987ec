import copy
import datetime
import random

import pytest

from autodeploy_netpol.desired.merge import deep_copy, helm_merge, helm_merge_all

CASES = [
    ("maps merge key by key", {"a": {"x": 1}}, {"a": {"y": 2}}, {"a": {"x": 1, "y": 2}}),
    ("scalar replaces", {"a": 1}, {"a": 2}, {"a": 2}),
    ("list replaces whole", {"a": [1, 2, 3]}, {"a": [4]}, {"a": [4]}),
    ("empty list replaces", {"a": [1]}, {"a": []}, {"a": []}),
    ("null deletes a key", {"a": 1, "b": 2}, {"a": None}, {"b": 2}),
    ("null deletes a nested key", {"a": {"x": 1, "y": 2}}, {"a": {"x": None}}, {"a": {"y": 2}}),
    ("null deletes a whole map", {"a": {"x": 1}}, {"a": None}, {}),
    ("null for an unknown key leaves nothing", {}, {"a": None}, {}),
    ("nulls inside a new map are dropped", {}, {"a": {"x": None, "y": 1}}, {"a": {"y": 1}}),
    ("map replaces scalar", {"a": 1}, {"a": {"x": 1}}, {"a": {"x": 1}}),
    ("scalar replaces map", {"a": {"x": 1}}, {"a": 1}, {"a": 1}),
    ("list of maps is not merged item by item", {"a": [{"x": 1}]}, {"a": [{"y": 2}]}, {"a": [{"y": 2}]}),
    ("false is a value, not a deletion", {"a": True}, {"a": False}, {"a": False}),
    ("empty map merges to nothing new", {"a": {"x": 1}}, {"a": {}}, {"a": {"x": 1}}),
]


@pytest.mark.parametrize(("name", "base", "override", "expected"), CASES, ids=[c[0] for c in CASES])
def test_helm_semantics(name, base, override, expected):
    before = (copy.deepcopy(base), copy.deepcopy(override))
    assert helm_merge(base, override) == expected
    assert (base, override) == before, "inputs must not change"


def test_result_does_not_alias_inputs():
    override = {"a": {"list": [1]}}
    result = helm_merge({}, override)
    result["a"]["list"].append(2)
    assert override == {"a": {"list": [1]}}


def test_merge_all_applies_layers_in_order():
    assert helm_merge_all({"a": 1, "b": 1}, {"a": 2}, {"b": None, "c": 3}) == {"a": 2, "c": 3}


def _shape(value, seen=None):
    """The value with every map and list numbered by first appearance: equal for two values
    exactly when they are equal and share the same parts."""
    seen = {} if seen is None else seen
    if isinstance(value, dict | list):
        if id(value) in seen:
            return ("shared", seen[id(value)])
        seen[id(value)] = len(seen)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return (type(value).__name__, seen[id(value)], [(key, _shape(item, seen)) for key, item in items])
    return (type(value).__name__, value)


def _value(rnd, pool, depth):
    scalars = [None, True, False, 0, 1, -2, 1.5, "", "a", "production", datetime.date(2024, 1, 2), (1, 2)]
    roll = rnd.random()
    if pool and roll < 0.1:
        return rnd.choice(pool)  # a YAML alias: the same object again
    if depth > 3 or roll < 0.4:
        return rnd.choice(scalars)
    made = (
        {rnd.choice(["a", "b", "c", 1, True]): _value(rnd, pool, depth + 1) for _ in range(rnd.randint(0, 4))}
        if roll < 0.75
        else [_value(rnd, pool, depth + 1) for _ in range(rnd.randint(0, 3))]
    )
    pool.append(made)
    return made


def _generated_values():
    rnd = random.Random(18)
    for _ in range(2000):
        yield _value(rnd, [], 0)


def test_deep_copy_is_copy_deepcopy():
    for value in _generated_values():
        ours, theirs = deep_copy(value), copy.deepcopy(value)
        assert _shape(ours) == _shape(theirs) == _shape(value)
        if isinstance(value, dict | list):
            assert ours is not value
