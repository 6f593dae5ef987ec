"""The values schema's own evaluator reports exactly what the jsonschema library reports.

autodeploy_netpol.schema replaces jsonschema on the validate/render path for start-up time; this
differential test keeps it honest: the whole values corpus and generated documents give the same
errors (keyword, path, failing value) from both.
"""

from __future__ import annotations

import copy

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from values_corpus import BAD, GOOD, corpus_files

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.merge import drop_nulls
from autodeploy_netpol.schema import SchemaValidator, UnsupportedSchema
from autodeploy_netpol.validate import CHECKED_KEYS, values_schema
from autodeploy_netpol.yamlio import load_mapping

SCHEMA = values_schema()
OURS = SchemaValidator(SCHEMA)
THEIRS = jsonschema.Draft202012Validator(SCHEMA)


def _instance(data):
    return drop_nulls({key: data[key] for key in CHECKED_KEYS if key in data})


def _errors(validator, instance):
    return sorted(
        (tuple(str(p) for p in error.absolute_path), error.validator, repr(error.instance))
        for error in validator.iter_errors(instance)
    )


def _readable(paths):
    documents = []
    for path in paths:
        try:
            documents.append((path.name, load_mapping(str(path)).data))
        except InputError:
            continue  # files that fail before validation have nothing to compare
    return documents


CORPUS = _readable([*corpus_files(BAD), *corpus_files(GOOD)])
SEEDS = [data for _, data in CORPUS if any(key in data for key in CHECKED_KEYS)]


@pytest.mark.parametrize(("name", "data"), CORPUS, ids=[name for name, _ in CORPUS])
def test_same_errors_as_jsonschema_on_the_corpus(name, data):
    instance = _instance(data)
    assert _errors(OURS, instance) == _errors(THEIRS, instance)


def test_the_corpus_exercises_the_schema():
    keywords = {error.validator for _, data in CORPUS for error in OURS.iter_errors(_instance(data))}
    assert {"type", "enum", "additionalProperties", "required", "uniqueItems", "pattern"} <= keywords


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.floats(allow_nan=False),
    st.sampled_from(["TCP", "tcp", "Ingress", "In", "world", "x", "", "a_b", "A" * 60, "80"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["spec", "enabled", "podSelector", "ports", "x", "Bad_Key"]), inner),
    ),
    max_leaves=10,
)


def _places(data):
    found = []
    if isinstance(data, dict):
        for key in list(data):
            found.append((data, key))
            found.extend(_places(data[key]))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.append((data, index))
            found.extend(_places(item))
    return found


@st.composite
def documents(draw):
    data = copy.deepcopy(_instance(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        places = _places(data)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        if draw(st.booleans()):
            container[key] = draw(JSON)
        elif isinstance(container, dict):
            container[draw(st.sampled_from(["x", "Bad_Key", "matchLabels", "cidr", "ab-c"]))] = container.pop(
                key
            )
        else:
            container.append(copy.deepcopy(container[key]))  # duplicates for uniqueItems
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=documents())
def test_same_errors_as_jsonschema_on_generated_documents(instance):
    assert _errors(OURS, instance) == _errors(THEIRS, instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "minProperties": 1},
        {"$ref": "https://example.com/other.json"},
        {"$ref": "#/$defs/missing", "$defs": {}},
        {"properties": {"a": {"oneOf": [{"type": "string"}]}}},
    ],
)
def test_a_schema_with_unimplemented_keywords_is_refused(schema):
    with pytest.raises(UnsupportedSchema):
        SchemaValidator(schema)
