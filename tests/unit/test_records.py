"""autodeploy_netpol.records: the record classes behave as the dataclasses they replace."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import pickle
from typing import ClassVar

import pytest

from autodeploy_netpol.errors import Location
from autodeploy_netpol.kube.manifests import FixedOrigin, Manifest
from autodeploy_netpol.records import FrozenRecordError, field, record, replace


@record(frozen=True, order=True)
class Point:
    x: int
    y: int = 0
    label: str | None = None
    tags: list[str] = field(default_factory=list)
    kind: ClassVar[str] = "point"


@dataclasses.dataclass(frozen=True, order=True)
class DataPoint:
    x: int
    y: int = 0
    label: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    kind: ClassVar[str] = "point"


@record
class Box:
    items: list[int] = field(default_factory=list)
    name: str = "box"


def test_construction_defaults_and_factories():
    assert Point(1).tags == [] and Point(1).tags is not Point(1).tags
    point = Point(1, label="a")
    assert (point.x, point.y, point.label) == (1, 0, "a")
    assert Point(x=2, y=3) == Point(2, 3)
    assert Point.kind == "point" and Point.__match_args__ == ("x", "y", "label", "tags")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing required argument: 'x'"),
        ((1, 2, None, [], 5), {}, "takes 5 positional arguments but 6 were given"),
        ((1,), {"z": 1}, "unexpected keyword argument 'z'"),
        ((1,), {"x": 1}, "multiple values for argument 'x'"),
    ],
)
def test_wrong_arguments_are_type_errors(args, kwargs, message):
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)


def test_same_repr_equality_hash_and_order_as_a_dataclass():
    pairs = [
        (Point(1, 2, "a"), DataPoint(1, 2, "a")),
        (Point(1, 3), DataPoint(1, 3)),
        (Point(0), DataPoint(0)),
    ]
    for ours, theirs in pairs:
        assert repr(ours).removeprefix("Point") == repr(theirs).removeprefix("DataPoint")
    for (a, da), (b, db) in itertools.pairwise(pairs):
        assert (a < b, a <= b, a > b, a >= b, a == b) == (da < db, da <= db, da > db, da >= db, da == db)
    assert Point(1, 2, "a", ["t"]) == Point(1, 2, "a", ["t"]) != Point(1, 2, "b", ["t"])
    assert hash(Location("f", 1, 2)) == hash(Location("f", 1, 2)) == hash(("f", 1, 2))
    assert Point(1) != DataPoint(1)  # another class is never equal
    with pytest.raises(TypeError):
        _ = Point(1) < DataPoint(2)  # type: ignore[operator]
    assert sorted([Location("b", 2), Location("a", 9), Location("a", 1)]) == [
        Location("a", 1),
        Location("a", 9),
        Location("b", 2),
    ]


def test_frozen_and_mutable():
    point = Point(1)
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.y  # type: ignore[misc]
    box = Box()
    box.items.append(1)
    box.name = "crate"
    assert box == Box([1], "crate")
    with pytest.raises(TypeError, match="unhashable"):
        hash(box)


def test_replace():
    point = Point(1, 2, "a")
    assert replace(point, y=5) == Point(1, 5, "a")
    assert point.y == 2
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(point, z=1)


def test_slots_records_copy_and_pickle():
    manifest = Manifest("NetworkPolicy", {"metadata": {"name": "web"}}, FixedOrigin(Location("f.yaml", 3, 1)))
    assert not hasattr(manifest, "__dict__")
    assert manifest.name == "web" and manifest.prefix == ()
    assert copy.deepcopy(manifest) == manifest
    assert pickle.loads(pickle.dumps(manifest)) == manifest
    assert pickle.loads(pickle.dumps(Location("f.yaml", 1, 2))) == Location("f.yaml", 1, 2)
    with pytest.raises(FrozenRecordError):
        manifest.kind = "Pod"  # type: ignore[misc]


def test_definition_errors():
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @record
        class Wrong:
            a: int = 0
            b: int

    with pytest.raises(ValueError, match="mutable default"):

        @record
        class Shared:
            a: list[int] = []  # noqa: RUF012


def _define(kind: str) -> type:
    if kind == "subclass":

        @record(frozen=True)
        class Sub(Point):
            z: int = 0

        return Sub
    if kind == "dataclass base":

        @record
        class FromData(DataPoint):
            z: int = 0

        return FromData
    if kind == "post_init":

        @record
        class Checked:
            a: int

            def __post_init__(self) -> None:
                raise AssertionError("never called by a record")

        return Checked
    if kind == "own repr":

        @record
        class Shown:
            a: int

            def __repr__(self) -> str:
                return "shown"

        return Shown
    if kind == "own hash":

        @record(frozen=True)
        class Hashed:
            a: int

            def __hash__(self) -> int:
                return 0

        return Hashed
    if kind == "InitVar":

        @record
        class Init:
            a: int
            b: dataclasses.InitVar[int]

        return Init
    if kind == "KW_ONLY":

        @record
        class Keywords:
            a: int
            _: dataclasses.KW_ONLY
            b: int = 0

        return Keywords
    assert kind == "dataclasses.field"

    @record
    class Foreign:
        a: list[int] = dataclasses.field(default_factory=list)

    return Foreign


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("subclass", "inheriting the fields of Point"),
        ("dataclass base", "inheriting the fields of DataPoint"),
        ("post_init", "__post_init__"),
        ("own repr", "its own __repr__"),
        ("own hash", "its own __hash__"),
        ("InitVar", "b: dataclasses.InitVar"),
        ("KW_ONLY", "_: dataclasses.KW_ONLY"),
        ("dataclasses.field", "dataclasses.field"),
    ],
)
def test_what_a_record_would_do_otherwise_than_a_dataclass_is_refused(kind, message):
    """Each of these a dataclass honours; a record would silently lose it (fields of the base, the
    check in __post_init__, the class's own method, a field that is no field)."""
    with pytest.raises(TypeError, match=f"record .*: not supported: .*{message}"):
        _define(kind)


def test_an_unhashable_default_is_refused_as_by_a_dataclass():
    with pytest.raises(ValueError, match="mutable default"):

        @record
        class Shared:
            box: Box = Box()  # one Box shared by every record: refused

    @record
    class Fine:
        where: Location = Location("f")  # frozen: hashable, safe to share

    assert Fine().where == Location("f")


def test_replace_copies_dataclasses_too():
    point = DataPoint(1, 2, "a")
    assert replace(point, y=5) == DataPoint(1, 5, "a")
    with pytest.raises(TypeError):
        replace(point, z=1)


# dataclasses' helpers that refuse a record, which mypy reads as a dataclass and cannot flag
_RECORD_BLIND = ("replace", "asdict", "astuple", "fields", "is_dataclass")


def test_the_package_uses_no_dataclasses_helper_a_record_would_break() -> None:
    """A record passed to ``dataclasses.replace`` is a TypeError at run time only (an exit 70 found
    after merging code written against dataclasses): the package uses records.replace, which
    takes both, and none of dataclasses' other helpers."""
    import ast
    from pathlib import Path

    import autodeploy_netpol

    found = []
    for path in sorted(Path(autodeploy_netpol.__file__).parent.rglob("*.py")):
        if path.name == "records.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "dataclasses":
                found += [
                    f"{path.name}: from dataclasses import {a.name}"
                    for a in node.names
                    if a.name in _RECORD_BLIND
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in _RECORD_BLIND
                and isinstance(node.value, ast.Name)
                and node.value.id == "dataclasses"
            ):
                found.append(f"{path.name}:{node.lineno}: dataclasses.{node.attr}")
    assert not found, "use autodeploy_netpol.records.replace instead:\n" + "\n".join(found)
