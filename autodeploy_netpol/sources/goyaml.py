"""YAML scalars the way Helm reads them: Go's yaml.v2 (through sigs.k8s.io/yaml).

Helm reads values files, and the Kubernetes tools read manifests, with YAML 1.1 rules as
Go's yaml.v2 implements them, which differ from PyYAML's:

* booleans: ``y``/``Y``/``n``/``N`` too (and ``yes``/``no``/``on``/``off``/``true``/``false`` in
  three spellings each);
* integers: Go's ``ParseInt(s, 0, 64)`` after dropping ``_`` (``0x1F``, ``0o17``, ``0b101``,
  ``017``), no sexagesimal ``1:20``;
* floats: ``1e3`` and ``1.`` (no ``.`` needed), ``.inf``, ``.nan``;
* timestamp-like text (``2001-01-01``) stays a string;
* non-string mapping keys become strings the way JSON needs them (``on:`` → ``"true"``).

:func:`plain_scalar` says what a plain (unquoted) scalar is; :class:`GoResolver` plugs it into
PyYAML for reading (``sources.yamlio``) and for writing, where a string that Go would read as
something else must be quoted (``report.manifests``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable

import yaml
from yaml.nodes import ScalarNode

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_FALSE = frozenset({"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
_SPECIAL_FLOATS = {
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}  # fmt: skip
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)\Z")
_INT64 = 2**63
_UINT64 = 2**64

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MERGE = "tag:yaml.org,2002:merge"


def _go_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)`` (then ParseUint), ``None`` when it fails."""
    if not _GO_INT.match(text):
        return None
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if len(digits.lstrip("0")) > 70:  # past any 64-bit value in any base (and Python's digit limit)
        return None
    lowered = digits.lower()
    if lowered.startswith("0x"):
        value = int(lowered[2:], 16)
    elif lowered.startswith("0b"):
        value = int(lowered[2:], 2)
    elif lowered.startswith("0o"):
        value = int(lowered[2:], 8)
    elif len(lowered) > 1 and lowered.startswith("0"):
        value = int(lowered[1:], 8)
    else:
        value = int(lowered)
    value *= sign
    if -_INT64 <= value < _UINT64:
        return value
    return None


def plain_scalar(text: str) -> tuple[str, Any]:
    """The tag and value yaml.v2 gives a plain scalar ``text`` (a string unless it resolves)."""
    if text in _NULL:
        return NULL, None
    if text == "<<":
        return MERGE, text
    if text in _TRUE:
        return BOOL, True
    if text in _FALSE:
        return BOOL, False
    if text in _SPECIAL_FLOATS:
        return FLOAT, _SPECIAL_FLOATS[text]
    first = text[0]
    if first.isdigit() or first in "+-.":
        plain = text.replace("_", "")
        if first != ".":
            number = _go_int(plain)
            if number is not None:
                return INT, number
        if _YAML_STYLE_FLOAT.match(plain):
            value = float(plain)
            if not math.isinf(value):  # Go's ParseFloat fails out of range: the text stays a string
                return FLOAT, value
        if first != "." and re.fullmatch(r"-?0[bB][01]+", plain):
            return INT, int(plain.replace("0b", "").replace("0B", ""), 2)
    return STR, text


def json_key(key: Any) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON object key."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return go_float_text(key)
    return str(key)


def go_float_text(value: float) -> str:
    """``strconv.FormatFloat(value, 'g', -1, 64)``, which is also how Go templates print a
    float64: the shortest digits, in exponent form from 1e+06 up and below 1e-04 (``1e+06``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    # repr() is the shortest text that reads back as the same float, like Go's precision -1.
    from decimal import Decimal  # here: only a float needs it (start-up)

    parts = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, parts.digits)).rstrip("0")
    exponent = int(parts.exponent) + (len(parts.digits) - len(digits))
    point = len(digits) + exponent  # digits[:point] . digits[point:]
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


class GoResolver(yaml.resolver.BaseResolver):
    """PyYAML resolver with yaml.v2's rules for plain scalars (see :func:`plain_scalar`)."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return plain_scalar(value)[0]
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return, no-untyped-call]


def construct_go_scalar(loader: yaml.constructor.SafeConstructor, node: ScalarNode) -> Any:
    """The value of a scalar tagged by :class:`GoResolver` (explicit tags fall back to PyYAML)."""
    tag, value = plain_scalar(node.value)
    if tag == node.tag:
        return value
    return None if node.tag == NULL else node.value


def _key_less(a: str, b: str) -> bool:
    """yaml.v2's order of two string keys (``sorter.go``): runs of digits compare as numbers,
    letters as characters, and where a letter meets a non-letter the non-letter comes first —
    unless the keys were inside a run of digits up to there."""
    digits = False
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y:
            digits = x.isdecimal()
            continue
        x_letter, y_letter = x.isalpha(), y.isalpha()
        if x_letter and y_letter:
            return x < y
        if x_letter or y_letter:
            return x_letter if digits else y_letter
        x_number = y_number = 0
        if x == "0" or y == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    x_number = y_number = 1
                    break
                j -= 1
        x_end = i
        while x_end < len(a) and a[x_end].isdecimal():
            x_number = x_number * 10 + int(a[x_end])
            x_end += 1
        y_end = i
        while y_end < len(b) and b[y_end].isdecimal():
            y_number = y_number * 10 + int(b[y_end])
            y_end += 1
        if x_number != y_number:
            return x_number < y_number
        if x_end != y_end:
            return x_end < y_end
        return x < y
    return len(a) < len(b)


def _key_compare(a: str, b: str) -> int:
    return -1 if _key_less(a, b) else (1 if _key_less(b, a) else 0)


_KEY = functools.cmp_to_key(_key_compare)
#: Keys of letters and punctuation below "A" only: byte order is yaml.v2's order for them.
_BYTE_ORDERED = re.compile(r"[A-Za-z\x20-\x2f\x3a-\x40]*\Z")


def sorted_keys(keys: Iterable[Any]) -> list[Any]:
    """``keys`` in the order Helm's ``toYaml`` writes them (yaml.v2's key order)."""
    keys = list(keys)
    if all(isinstance(key, str) and _BYTE_ORDERED.match(key) for key in keys):
        return sorted(keys)
    return sorted(keys, key=lambda key: _KEY(json_key(key)))


_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class GoSafeDumper(_BaseDumper):  # type: ignore[misc]
    """PyYAML's safe dumper, quoting a string that Go's yaml.v2 *or* PyYAML would read as
    something else (``y``, ``1e3`` for Go; ``2001-01-01``, ``1:20`` for PyYAML)."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            tag = plain_scalar(value)[0]
            if tag != STR:
                return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


def dump(data: Any) -> str:
    """One YAML document, keys in their given order, block style, readable alike by Helm,
    kubectl (Go) and this tool (PyYAML)."""
    text: str = yaml.dump(
        data, Dumper=GoSafeDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    return text
