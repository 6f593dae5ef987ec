"""The fast validity checks of the values schema agree with the jsonschema package.

``validate`` trusts two fast checks to say "valid" (desired/validate.py ``_known_valid``): the
schema compiled to Python at build time (tools/schema_gate.py → desired/_values_schema_gate.py)
and, for large files, jsonschema-rs. Neither may ever call valid what the reference validator
(jsonschema's Draft202012Validator on schemas/netpol-values.schema.json) finds a problem in — that
would hide an error. Calling valid data invalid only costs time (the reference then decides).
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from values_corpus import BAD, GOOD, corpus_files

from autodeploy_netpol.desired import _values_schema_gate as gate
from autodeploy_netpol.desired import validate
from autodeploy_netpol.desired.merge import drop_nulls
from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.yamlio import load_mapping

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("schema_gate", ROOT / "tools" / "schema_gate.py")
assert _spec is not None and _spec.loader is not None
schema_gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(schema_gate)

REFERENCE = Draft202012Validator(validate.values_schema())


def instance_of(data: Any) -> Any:
    """What validate_values hands the schema check: the checked blocks, nulls dropped."""
    if not isinstance(data, dict):
        return data
    return drop_nulls({key: data[key] for key in validate.CHECKED_KEYS if key in data})


def reference_valid(instance: Any) -> bool:
    return not any(True for _ in REFERENCE.iter_errors(instance))


def generated_valid(instance: Any) -> bool:
    try:
        gate.validate(instance)
    except Exception:
        return False
    return True


def rust_valid(instance: Any) -> bool:
    try:
        return bool(validate._rust_validator().is_valid(instance))
    except Exception:
        return False


CHECKS = {"generated": generated_valid, "jsonschema-rs": rust_valid}

# Every values file in the repository: the corpora, the chart-shape cases, the examples.
VALUES_FILES = sorted(
    {
        *corpus_files(BAD),
        *corpus_files(GOOD),
        *(ROOT / "tests" / "fixtures" / "charts" / "shapes" / "cases").glob("*.yaml"),
        *(ROOT / "tests" / "fixtures" / "values").glob("*.yaml"),
        ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml",
    }
)


def _load(path: Path) -> Any:
    """The file as the tool reads it; ``None`` for what it refuses (alias bombs, bad YAML …)."""
    try:
        return load_mapping(str(path)).data
    except InputError:
        return None


def _plain(data: Any) -> bool:
    """Data JSON can hold (a recursive alias cannot be validated by anything)."""
    try:
        json.dumps(data, default=str)
    except ValueError:
        return False
    return True


DOCUMENTS = [
    (path.name, data) for path in VALUES_FILES if isinstance(data := _load(path), dict) and _plain(data)
]


def test_the_generated_module_is_up_to_date():
    current = (ROOT / "autodeploy_netpol" / "desired" / "_values_schema_gate.py").read_text(encoding="utf-8")
    assert current == schema_gate.generate(schema_gate.SCHEMA.read_bytes()), (
        "desired/_values_schema_gate.py is stale: run `make schema-gate` and commit it"
    )


def test_the_module_records_the_schema_it_was_made_from():
    assert validate._schema_checksum() == gate.SCHEMA_CHECKSUM


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize(("name", "data"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_agrees_with_the_reference_on_every_values_file(check, name, data):
    instance = instance_of(data)
    assert CHECKS[check](instance) == reference_valid(instance)


def test_valid_files_take_the_fast_path(monkeypatch):
    """The corpus of valid files never imports jsonschema (the whole point of the checks)."""
    calls = []
    real = validate.Draft202012Validator if hasattr(validate, "Draft202012Validator") else None
    assert real is None  # jsonschema is imported inside _schema_problems only

    def spy(instance, *, large=False):
        result = original(instance, large=large)
        calls.append(result)
        return result

    original = validate._known_valid
    monkeypatch.setattr(validate, "_known_valid", spy)
    for path in corpus_files(GOOD):
        data = _load(path)
        if isinstance(data, dict):
            list(validate._schema_problems(_Values(data), instance_of(data)))
    assert calls and all(calls)


class _Values:
    """The little of a ValuesFile the schema check reads."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.exists = False
        self.path = "values.yaml"

    def locate(self, path: Any, *, key: bool = False) -> Any:
        from autodeploy_netpol.errors import Location

        return Location(self.path)


def test_a_stale_module_is_not_trusted(monkeypatch):
    monkeypatch.setattr(gate, "SCHEMA_CHECKSUM", "00000000-0")
    assert not validate._known_valid({})
    assert validate._known_valid({}, large=True)  # jsonschema-rs reads the schema file itself


# --- generated data: mutations of real values files -------------------------------------------

LEAVES = [
    None, True, False, 0, 1, -1, 80, 65536, 1.5, 2.0, "", "x", "TCP", "tcp", "Ingress", "In", "Exists",
    "10.0.0.0/8", "a b", "-bad-", "abc\n", "a" * 64, [], {}, ["Ingress"], ["Ingress", "Ingress"],
    {"a": "b"}, {"matchLabels": {"app": 1}}, {"cidr": 1}, [{"port": "80"}], {"spec": None},
]  # fmt: skip


def _places(data: Any, prefix: tuple = ()) -> list[tuple]:
    places = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            places += _places(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            places += _places(value, (*prefix, index))
    return places


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    container = data
    for step in path[:-1]:
        container = container[step]
    container[path[-1]] = value
    return data


@st.composite
def mutated(draw) -> Any:
    _, seed = draw(st.sampled_from(DOCUMENTS))
    data = copy.deepcopy(instance_of(seed))
    for _ in range(draw(st.integers(1, 3))):
        places = _places(data)
        path = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "add-key", "append"]))
        target = data
        for step in path:
            target = target[step]
        if action == "add-key" and isinstance(target, dict):
            key = draw(st.sampled_from(["enabled", "spec", "ports", "port", "from", "extra", "matchLabels"]))
            target[key] = copy.deepcopy(draw(st.sampled_from(LEAVES)))
        elif action == "append" and isinstance(target, list):
            target.append(copy.deepcopy(draw(st.sampled_from(LEAVES))))
        else:
            data = _set(data, path, copy.deepcopy(draw(st.sampled_from(LEAVES))))
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=mutated())
def test_never_calls_valid_what_the_reference_rejects(instance):
    reference = reference_valid(instance)
    for name, check in CHECKS.items():
        if check(instance):
            assert reference, f"{name} calls valid what jsonschema rejects: {json.dumps(instance)[:500]}"


# --- preparing the schema for the generator ------------------------------------------------------


def test_ref_with_siblings_keeps_both():
    prepared = schema_gate.prepare({"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n", "minimum": 5})
    assert prepared["allOf"] == [{"$ref": "#/$defs/n"}, {"minimum": 5}]
    source = schema_gate.generate(json.dumps({"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n", "minimum": 5}).encode())
    namespace: dict[str, Any] = {}
    exec(compile(source, "generated", "exec"), namespace)
    with pytest.raises(namespace["JsonSchemaValueException"]):
        namespace["validate"](3)  # draft 7 would ignore the minimum next to $ref
    assert namespace["validate"](7) == 7
    with pytest.raises(namespace["JsonSchemaValueException"]):
        namespace["validate"]("7")


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"$ref": "https://example.com/schema.json"}, "only references into the schema itself"),
        ({"properties": {"a": {"$ref": "other.json#/x"}}}, "only references into the schema itself"),
        ({"dependentRequired": {"a": ["b"]}}, "not supported"),
        ({"format": "ipv4"}, "not supported"),
        ({"enum": ["a", 1]}, "only string values"),
        ({"const": True}, "only string values"),
    ],
)
def test_what_the_generator_cannot_match_is_refused(schema, words):
    with pytest.raises(schema_gate.SchemaError, match=words):
        schema_gate.generate(json.dumps(schema).encode())


def test_jsonschema_rs_never_fetches_a_reference(monkeypatch):
    """The retriever jsonschema-rs is given refuses every URI: a remote $ref is an error, never a fetch."""
    import jsonschema_rs

    monkeypatch.setattr(
        validate, "values_schema", lambda: {"$ref": "https://example.invalid/schema.json"}
    )
    validate._rust_validator.cache_clear()
    try:
        with pytest.raises(Exception, match="nothing outside the schema is fetched"):
            validate._rust_validator()
        assert not validate._known_valid({}, large=True)
    finally:
        validate._rust_validator.cache_clear()
    assert jsonschema_rs  # the real library, not a stand-in
