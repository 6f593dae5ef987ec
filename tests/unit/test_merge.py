import copy

import pytest

from autodeploy_netpol.desired.merge import helm_merge, helm_merge_all

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
