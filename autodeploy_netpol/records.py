"""Record classes: what ``@dataclass`` gives the tool's value types, without its start-up cost.

``validate`` and ``render`` run on every push, and most of what they cost is start-up
(bench/peers.py, bench/startup.py). ``dataclasses`` imports ``inspect`` (with ``ast``, ``dis``,
``tokenize`` …, ~6 ms) and compiles the source of ``__init__``, ``__repr__``, ``__eq__`` … for
every class it decorates (~0.5 ms a class; the chart model alone has ~30). :func:`record` builds
the same methods from the field list with no code generation and imports nothing.

What it keeps of ``@dataclass``: fields from the class annotations in order (``ClassVar``
skipped), defaults and :func:`field` ``(default_factory=…)``, positional or keyword arguments,
``frozen`` (assignment raises :class:`FrozenRecordError`, an ``AttributeError`` as
``dataclasses.FrozenInstanceError`` is), ``__eq__`` (same class, fields in order), ``__hash__``
(frozen: of the fields; otherwise unhashable), ``order``, ``slots``, ``__repr__`` in dataclass
form and ``__match_args__``. :func:`replace` is ``dataclasses.replace``. Not kept: inheritance
between records, ``__post_init__``, ``InitVar``, ``kw_only``, per-field ``repr``/``compare``
(none is used by the classes built with it): :func:`record` refuses them with a ``TypeError``
when the class is made, as it refuses an ``__init__``, ``__repr__`` or ``__eq__`` (and, frozen, a
``__hash__``) of the class's own, which ``@dataclass`` would keep, rather than build a class that
silently behaves otherwise. mypy reads :func:`record` as a dataclass
(``dataclass_transform``), so constructor calls are checked as before.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:

    def dataclass_transform(**_: object) -> object:
        return lambda function: function


__all__ = ["FrozenRecordError", "field", "record", "replace"]

_MISSING = object()


class FrozenRecordError(AttributeError):
    """Assignment to a field of a frozen record."""


class _Field:
    __slots__ = ("default", "factory")

    def __init__(self, default: object, factory: object) -> None:
        self.default = default
        self.factory = factory


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default (``default_factory``: called for each new record), as ``dataclasses.field``."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(text, str) and (text.startswith(("ClassVar", "typing.ClassVar")))


@dataclass_transform(field_specifiers=(field,))
def record(
    cls: type[T] | None = None, /, *, frozen: bool = False, order: bool = False, slots: bool = False
) -> Any:
    """Make ``cls`` a record (module doc); used as ``@record`` or ``@record(frozen=True, …)``."""

    def wrap(cls: type[T]) -> type[T]:
        return _build(cls, frozen=frozen, order=order, slots=slots)

    return wrap if cls is None else wrap(cls)


def _refuse_unsupported(cls: Any, annotations: dict[str, object], *, frozen: bool, order: bool) -> None:
    """A ``TypeError`` for what a record would silently do otherwise than ``@dataclass`` (module doc)."""
    unsupported = [
        f"inheriting the fields of {base.__qualname__}"
        for base in cls.__mro__[1:]
        if "__record_fields__" in base.__dict__ or "__dataclass_fields__" in base.__dict__
    ]
    if hasattr(cls, "__post_init__"):
        unsupported.append("__post_init__")
    own = ("__init__", "__repr__", "__eq__", *(("__hash__",) if frozen else ()))
    own += ("__lt__", "__le__", "__gt__", "__ge__") if order else ()
    unsupported += [f"its own {name}" for name in own if name in cls.__dict__]
    for name, annotation in annotations.items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
        if str(text).removeprefix("dataclasses.").startswith(("InitVar", "KW_ONLY")):
            unsupported.append(f"{name}: {text}")
        elif type(cls.__dict__.get(name)).__module__ == "dataclasses":
            unsupported.append(f"dataclasses.field() for {name} (use records.field)")
    if unsupported:
        raise TypeError(f"record {cls.__qualname__}: not supported: {', '.join(unsupported)}")


def _build(cls: Any, *, frozen: bool, order: bool, slots: bool) -> Any:
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect costs start-up
    _refuse_unsupported(cls, annotations, frozen=frozen, order=order)
    names = tuple(name for name, annotation in annotations.items() if not _is_class_var(annotation))
    defaults: dict[str, object] = {}
    factories: dict[str, Callable[[], object]] = {}
    for name in names:
        if name not in cls.__dict__:
            if defaults or factories:
                raise TypeError(f"non-default argument {name!r} follows default argument")
            continue
        value = cls.__dict__[name]
        if isinstance(value, _Field):
            if value.factory is not None:
                factories[name] = value.factory  # type: ignore[assignment]
            elif value.default is not _MISSING:
                defaults[name] = value.default
            elif defaults or factories:
                raise TypeError(f"non-default argument {name!r} follows default argument")
        elif type(value).__hash__ is None:  # as @dataclass: an unhashable default is a shared mutable one
            raise ValueError(f"mutable default {type(value)} for field {name} is not allowed: use default_factory")
        else:
            defaults[name] = value
    qualname = cls.__qualname__
    count = len(names)
    setter = object.__setattr__

    def __init__(self: Any, *args: object, **kwargs: object) -> None:
        if len(args) > count:
            raise TypeError(f"{qualname}.__init__() takes {count + 1} positional arguments but {len(args) + 1} were given")
        for name, value in zip(names, args, strict=False):
            setter(self, name, value)
        for name in names[len(args) :]:
            if name in kwargs:
                value = kwargs.pop(name)
            elif name in defaults:
                value = defaults[name]
            elif name in factories:
                value = factories[name]()
            else:
                raise TypeError(f"{qualname}.__init__() missing required argument: {name!r}")
            setter(self, name, value)
        if kwargs:
            unexpected = next(iter(kwargs))
            if unexpected in names:
                raise TypeError(f"{qualname}.__init__() got multiple values for argument {unexpected!r}")
            raise TypeError(f"{qualname}.__init__() got an unexpected keyword argument {unexpected!r}")

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({inner})"

    def values(self: Any) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in names)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    namespace: dict[str, Any] = {
        "__init__": __init__,
        "__repr__": __repr__,
        "__eq__": __eq__,
        "__match_args__": names,
        "__record_fields__": names,
    }
    if frozen:

        def __hash__(self: Any) -> int:
            return hash(values(self))

        def __setattr__(self: Any, name: str, value: object) -> None:
            raise FrozenRecordError(f"cannot assign to field {name!r}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenRecordError(f"cannot delete field {name!r}")

        namespace.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    elif "__hash__" not in cls.__dict__:
        namespace["__hash__"] = None  # as @dataclass: equal by value, so not hashable
    if order:

        def compare(test: Callable[[tuple[object, ...], tuple[object, ...]], bool]) -> Any:
            def method(self: Any, other: object) -> Any:
                if other.__class__ is self.__class__:
                    return test(values(self), values(other))
                return NotImplemented

            return method

        namespace.update(
            __lt__=compare(lambda a, b: a < b),
            __le__=compare(lambda a, b: a <= b),
            __gt__=compare(lambda a, b: a > b),
            __ge__=compare(lambda a, b: a >= b),
        )
    for function_name, function in namespace.items():
        if callable(function):
            function.__qualname__ = f"{qualname}.{function_name}"
    if slots:
        body = {
            key: value
            for key, value in cls.__dict__.items()
            if key not in names and key not in ("__dict__", "__weakref__")
        }
        body["__slots__"] = names

        def __getstate__(self: Any) -> tuple[object, ...]:
            return values(self)

        def __setstate__(self: Any, state: tuple[object, ...]) -> None:
            for name, value in zip(names, state, strict=True):
                setter(self, name, value)

        body.update(namespace, __getstate__=__getstate__, __setstate__=__setstate__)
        return type(cls)(cls.__name__, cls.__bases__, body)
    for key, value in namespace.items():
        setattr(cls, key, value)
    for name in names:  # defaults live in the closure (as in a dataclass, the class keeps plain ones)
        if isinstance(cls.__dict__.get(name), _Field):
            delattr(cls, name)
    return cls


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes``: a record, or a dataclass (``dataclasses.replace``).

    The one ``replace`` of the package: ``dataclasses.replace`` refuses records, and mypy reads a
    record as a dataclass, so it could not tell (tests/unit/test_records.py keeps the package to
    this one).
    """
    names: tuple[str, ...] | None = getattr(type(obj), "__record_fields__", None)
    if names is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    for name in changes:
        if name not in names:
            raise TypeError(f"{type(obj).__qualname__} has no field {name!r}")
    return type(obj)(**{name: changes[name] if name in changes else getattr(obj, name) for name in names})
