"""The fast YAML reader (libyaml's events straight into data) reads exactly what the reference
reader (node graph, checks, safe constructor) reads, and hands everything else to it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources import yamlio

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    path
    for pattern in ("tests/**/*.yaml", "tests/**/*.yml", "examples/**/*.yaml", "deploy/*.yaml", "schemas/*.json")
    for path in ROOT.glob(pattern)
    if "node_modules" not in path.parts
)


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types and key order (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def reference(text: str, loader_class: type | None = None) -> list[yamlio.YamlDocument] | InputError:
    try:
        return list(yamlio._full_documents(text, "f.yaml", loader_class))
    except InputError as error:
        return error


#: PyYAML's reading of plain scalars, and Helm's (go_scalars: values files, rendered manifests)
LOADERS = pytest.mark.parametrize("loader_class", [yamlio._Loader, yamlio._GoLoader], ids=["pyyaml", "go"])


def assert_agrees(text: str, loader_class: type | None = None) -> bool:
    """The fast reader's documents equal the reference's; ``True`` if the fast reader read them."""
    fast = yamlio._plain_documents(text, "f.yaml", loader_class)
    expected = reference(text, loader_class)
    if fast is None:
        return False
    assert not isinstance(expected, InputError), f"fast read what the reference refuses: {expected}"
    assert len(fast) == len(expected)
    for mine, theirs in zip(fast, expected, strict=True):
        assert same(mine.data, theirs.data)
        assert mine.start_line == theirs.start_line
        assert mine.root is not None and theirs.root is not None
        assert (mine.root.start_mark.line, mine.root.start_mark.column) == (
            theirs.root.start_mark.line,
            theirs.root.start_mark.column,
        )
    return True


@LOADERS
def test_every_yaml_file_of_the_repository(loader_class):
    read_fast = 0
    for path in FILES:
        try:
            text = yamlio.read_text(str(path))
        except InputError:
            continue
        read_fast += assert_agrees(text, loader_class)
    assert read_fast > 200  # the fast path is really taken


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchor and alias
        "base: &b {p: 1}\nderived:\n  <<: *b\n  q: 2\n",  # merge key
        "a: !!str 1\n",  # explicit tag
        "a: ! 1\n",  # non-specific tag
        "a: 1\na: 2\n",  # duplicate key
        "1: a\n",  # a non-string key
        "? [a]\n: b\n",  # a collection as a key
        "when: 2024-01-01\n",  # a timestamp
        "data: !!binary aGk=\n",
        "v: =\n",  # the value tag PyYAML cannot construct
        "a: [\n",  # a syntax error
        "a:\n\tb: 1\n",  # a tab
        "x: " + "[" * 150 + "]" * 150 + "\n",  # deeper than MAX_DEPTH
    ],
)
def test_the_reference_reader_decides_what_is_not_plain_data(text):
    assert yamlio._plain_documents(text, "f.yaml") is None
    fast_or_not = reference(text)
    try:
        via_iter = list(yamlio.iter_documents(text, "f.yaml"))
    except InputError as error:
        assert isinstance(fast_or_not, InputError) and str(error) == str(fast_or_not)
    else:
        assert not isinstance(fast_or_not, InputError)
        assert [d.data for d in via_iter] == [d.data for d in fast_or_not]


def test_positions_are_composed_when_first_asked_for():
    text = "---\n# second document\nnetworkPolicy:\n  spec:\n    podSelectr: {}\n"
    [document] = yamlio._plain_documents(text, "v.yaml") or []
    assert document._compose is not None  # nothing composed yet
    assert document.start_line == 3
    location = document.locate(("networkPolicy", "spec", "podSelectr"), key=True)
    assert (location.line, location.column) == (5, 5)
    assert document._compose is None


def test_documents_are_counted_as_the_reference_counts_them():
    text = "---\n---\n~\n---\na: 1\n---\n# empty\n---\nb: [1]\n"
    assert_agrees(text)
    documents = yamlio._plain_documents(text, "s.yaml") or []
    assert [d.data for d in documents] == [{"a": 1}, {"b": [1]}]
    assert documents[1].locate(("b", 0)).line == 9


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["yes", "no", "on", "off", "~", "null", "0x1F", "0o17", "017", "1_000", "1:30", ".inf", "-.nan", "1e3", ""]),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(data=DATA, style=st.sampled_from([None, False, True]), go=st.booleans())
def test_generated_documents(data, style, go):
    text = yaml.safe_dump({"root": data}, default_flow_style=style, allow_unicode=True)
    assert_agrees(text, yamlio._GoLoader if go else yamlio._Loader)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab:- \n[]{},'\"#&*!?|>~0123456789.")), max_size=60), go=st.booleans())
def test_generated_text(text, go):
    try:
        assert_agrees(text, yamlio._GoLoader if go else yamlio._Loader)
    except yaml.YAMLError:  # pragma: no cover - both readers turn these into InputError
        raise


@pytest.mark.parametrize("text", ["on: 1\n", "1: a\n", "a: 1\na: 2\n", "<<: {a: 1}\n"])
def test_go_keys_that_are_not_strings_and_repeats_go_to_the_reference_reader(text):
    assert yamlio._plain_documents(text, "f.yaml", yamlio._GoLoader) is None


def test_helm_reading_of_plain_scalars_is_kept_on_the_fast_path():
    text = "a: y\nb: 1e3\nc: 0o17\nd: '1e3'\n"
    [fast] = yamlio._plain_documents(text, "f.yaml", yamlio._GoLoader) or []
    [slow] = reference(text, yamlio._GoLoader)
    assert same(fast.data, slow.data)
    assert fast.data != (yamlio._plain_documents(text, "f.yaml") or [None])[0].data  # PyYAML reads them otherwise


@LOADERS
@pytest.mark.parametrize(("text", "spelled"), [("a: true\nb: False\n", False), ("a: yes\n", True), ("a: 'on'\n", False)])
def test_the_fast_reader_knows_whether_a_boolean_is_spelled_otherwise(loader_class, text, spelled):
    [document] = yamlio._plain_documents(text, "f.yaml", loader_class) or []
    assert document.spelled_booleans is spelled


def test_validate_of_a_valid_file_composes_no_node_graph():
    """The 5 MB budget rests on it: composing the graph costs ~3 s and ~150 MiB there (bench/)."""
    from autodeploy_netpol.desired.values import ValuesPath
    from autodeploy_netpol.runs.validate import run_validate

    run = run_validate(ValuesPath(str(ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml")))
    assert run.exit_code == 0
    assert run.values_file.document is not None
    assert run.values_file.document._compose is not None  # still not composed
