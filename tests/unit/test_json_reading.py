"""The fast JSON path keeps the YAML reader's rules: depth, duplicate keys, huge integers, positions."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.yamlio import MAX_DEPTH, json_depth_exceeds, parse_json

# Strings full of what confuses a bracket counter: brackets, quotes, backslashes, escapes.
TRICKY = st.text(alphabet='[]{}"\\\\ab/\n\t\u00e9\U0001f600', max_size=8)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TRICKY, children, max_size=3),
    max_leaves=60,
)


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def wrap(value: object, levels: int) -> object:
    for index in range(levels):
        value = [value] if index % 2 else {"k[": value}
    return value


@given(value=JSON_VALUES, extra=st.integers(min_value=0, max_value=2 * MAX_DEPTH), ascii_only=st.booleans())
def test_the_fast_depth_check_agrees_with_the_real_depth(value: object, extra: int, ascii_only: bool) -> None:
    value = wrap(value, extra)
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_depth_exceeds(text) == (depth(value) > MAX_DEPTH)
    assert json_depth_exceeds(text, limit=5) == (depth(value) > 5)


def test_too_deep_json_is_an_error_at_the_bracket_that_crosses_the_limit() -> None:
    text = '{"a": 1,\n "b": ' + "[" * 150 + "]" * 150 + "}"
    with pytest.raises(InputError, match="nested more than 100 levels deep") as caught:
        parse_json(text, "big.json")
    # the root mapping is level 1: the 100th '[' is level 101
    assert str(caught.value.location) == f"big.json:2:{7 + 99}"


def test_recursion_deep_json_is_the_same_error() -> None:
    with pytest.raises(InputError, match="nested more than 100 levels deep"):
        parse_json("[" * 100_000 + "]" * 100_000, "deep.json")


def test_a_5000_digit_integer_is_an_error_at_its_position() -> None:
    text = '{\n  "spec": {"port": ' + "9" * 5000 + "}\n}"
    with pytest.raises(InputError, match="has 5,000 digits") as caught:
        parse_json(text, "x.json")
    assert str(caught.value.location) == "x.json:2:20"


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(InputError, match=r"duplicate key 'a' \(first defined on line 1\)") as caught:
        parse_json('{"a": 1,\n "a": 2}', "d.json")
    assert str(caught.value.location) == "d.json:2:2"


def test_invalid_json_has_line_and_column() -> None:
    with pytest.raises(InputError, match="invalid JSON") as caught:
        parse_json('{"a": 1,\n  oops}', "bad.json")
    assert str(caught.value.location) == "bad.json:2:3"
