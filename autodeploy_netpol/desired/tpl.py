"""A small, strict evaluator for the Go templates users write in ``customResources`` entries.

From image v2.91.0 the auto-deploy-app chart renders every ``customResources`` entry with
Helm's ``tpl``: ``toYaml`` of the entry, then the text as a Go template against the chart's
root context. This module evaluates the subset such entries use, with Go's and Helm's exact
semantics, and refuses everything else with :class:`NotCovered` (the caller then renders with
real Helm, or says it cannot):

* actions ``{{ … }}`` with trim markers ``{{- … -}}`` and comments ``{{/* … */}}``;
* pipelines ``a | f b``, parenthesised pipelines, string (``"…"``, ```…```), number and
  ``true``/``false``/``nil`` literals;
* fields ``.Release.Name``, ``.Release.Namespace``, ``.Release.Service``, ``.Chart.Name``,
  ``.Chart.Version``, ``.Values.…`` (from ``.`` or ``$``);
* functions ``quote``, ``squote``, ``upper``, ``lower``, ``trim``, ``trimSuffix``, ``trimPrefix``,
  ``trunc``, ``replace``, ``default``, ``toString``, ``printf`` (verbs ``%s %d %v %q %%``) and
  ``include`` of the chart's name helpers (``fullname``, ``appname``, ``trackableappname``, ``name``).

What Helm does that the subset follows: a missing map key prints as nothing (Helm removes
``<no value>``); a field of a missing value is an error ("nil pointer evaluating …"); function
arguments are typed (``upper 3`` fails); numbers from values files are float64 and print as Go
prints them (``1e+06``). Errors that Helm would also raise are :class:`TemplateError` (the
deploy fails); features outside the subset are :class:`NotCovered`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from ..records import field, record
from ..sources.goyaml import go_float_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

NO_VALUE = "<no value>"


class TemplateError(Exception):
    """Helm fails on this template too: the render (and the deploy) would fail."""


class NotCovered(Exception):
    """The template uses something this evaluator does not model; never guessed."""


class UnknownValue(NotCovered):
    """The template reads a value only the deploy job knows (Auto Deploy sets it with ``--set``):
    real Helm would not know it here either."""


@record(frozen=True)
class Helpers:
    """What the chart's named templates produce for this release (``include "fullname" .``)."""

    names: Mapping[str, str]


@record(frozen=True)
class RootContext:
    """The chart's root context (``$``) as ``tpl`` sees it."""

    release_name: str
    release_namespace: str
    chart_name: str
    chart_version: str
    values: Mapping[str, Any]
    helpers: Helpers
    #: dotted ``.Values`` paths the deploy job sets but this run does not know, and where they come from
    unknown: Mapping[str, str] = field(default_factory=dict)
    #: top-level values whose chart defaults the model knows completely (``None``: every one): a
    #: missing key under any other may be set by the chart's own values.yaml, which is not known
    complete: frozenset[str] | None = None

    def field(self, name: str) -> Any:
        if name == "Values":
            return self.values
        if name == "Release":
            return _Object(
                "Release", {"Name": self.release_name, "Namespace": self.release_namespace, "Service": "Helm"}
            )
        if name == "Chart":
            return _Object("Chart", {"Name": self.chart_name, "Version": self.chart_version})
        raise NotCovered(f".{name} (only .Release, .Chart and .Values are modelled)")


@record(frozen=True)
class _Object:
    """A Go struct of the context (``.Release``, ``.Chart``): only the modelled fields."""

    kind: str
    fields: Mapping[str, Any]


def render(text: str, root: RootContext) -> str:
    """Render ``text`` as Helm's ``tpl`` would, with ``<no value>`` removed as Helm does."""
    return "".join(_render_nodes(_parse(text), root)).replace(NO_VALUE, "")


def check_syntax(text: str) -> None:
    """Parse ``text``: :class:`TemplateError` when Helm cannot parse it either,
    :class:`NotCovered` when it uses something the evaluator does not model."""
    for node in _parse(text):
        if isinstance(node, _Action):
            _check_calls(node.pipeline)


def _check_calls(node: Any) -> None:
    if isinstance(node, _Pipeline):
        for command in node.commands:
            _check_calls(command)
    elif isinstance(node, _Call):
        if node.name != "include" and node.name not in _FUNCTIONS:
            raise NotCovered(f'the function "{node.name}"')
        for arg in node.args:
            _check_calls(arg)
    elif isinstance(node, _Field) and node.chain and node.chain[0] not in ("Values", "Release", "Chart"):
        raise NotCovered(f".{node.chain[0]} (only .Release, .Chart and .Values are modelled)")


def uses_templates(text: str) -> bool:
    """Whether Helm's ``tpl`` would do anything with ``text``."""
    return "{{" in text


# --- lexing and parsing --------------------------------------------------------------------------------

@record(frozen=True)
class _Text:
    text: str


@record(frozen=True)
class _Action:
    pipeline: Any  # a parsed pipeline: list of commands


@lru_cache(maxsize=1024)  # the same template text recurs (names, labels of every entry); nodes are frozen
def _parse(text: str) -> tuple[_Text | _Action, ...]:
    nodes: list[_Text | _Action] = []
    position = 0
    trim_next = False
    while True:
        start = text.find("{{", position)
        if start < 0:
            chunk = text[position:]
            nodes.append(_Text(chunk.lstrip(" \t\r\n") if trim_next else chunk))
            break
        end = _action_end(text, start)
        inner = text[start + 2 : end]
        trim_left = (
            inner.startswith("- ") or inner.startswith("-\t") or inner.startswith("-\n") or inner == "-"
        )
        trim_right = inner.endswith(" -") or inner.endswith("\t-") or inner.endswith("\n-")
        chunk = text[position:start]
        if trim_next:
            chunk = chunk.lstrip(" \t\r\n")
        if trim_left:
            chunk = chunk.rstrip(" \t\r\n")
            inner = inner[1:]
        if trim_right:
            inner = inner[:-1]
        nodes.append(_Text(chunk))
        body = inner.strip(" \t\r\n")
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise TemplateError("unclosed comment")
        else:
            nodes.append(_Action(_Parser(body).pipeline_all()))
        trim_next = trim_right
        position = end + 2
    return tuple(nodes)


def _action_end(text: str, start: int) -> int:
    """Index of the ``}}`` closing the action at ``start`` (strings may hold ``}}``)."""
    index = start + 2
    while index < len(text):
        char = text[index]
        if char in '"`':
            close = _string_end(text, index)
            index = close + 1
            continue
        if text.startswith("}}", index):
            return index
        index += 1
    raise TemplateError('unclosed action: "{{" without "}}"')


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    index = start + 1
    while index < len(text):
        if text[index] == "\\" and quote == '"':
            index += 2
            continue
        if text[index] == quote:
            return index
        if text[index] == "\n" and quote == '"':
            break
        index += 1
    raise TemplateError("unterminated quoted string")


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\\n]|\\.)*")
      | (?P<raw>`[^`]*`)
      | (?P<char>'(?:[^'\\]|\\.)*')
      | (?P<number>[-+]?(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?))
      | (?P<field>(?:\$[A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
      | (?P<variable>\$[A-Za-z0-9_]*)
      | (?P<assign>:?=)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[|()])
      | (?P<other>\S)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset(
    {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
)


@record(frozen=True)
class _Literal:
    value: Any


@record(frozen=True)
class _Field:
    root: str  # "." or "$"
    chain: tuple[str, ...]


@record(frozen=True)
class _Call:
    name: str
    args: tuple[Any, ...]


@record(frozen=True)
class _Pipeline:
    commands: tuple[Any, ...]  # each: _Call, or an operand (_Literal, _Field, _Pipeline)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                break
            kind = match.lastgroup or "other"
            self.tokens.append((kind, match[kind]))
            position = match.end()
        if text[position:].strip():
            raise TemplateError(f"unexpected {text[position:].strip()[:20]!r} in action")
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def pipeline_all(self) -> _Pipeline:
        if not self.tokens:
            raise TemplateError("missing value for command")
        first = self.tokens[0]
        if first[0] == "ident" and first[1] in _KEYWORDS:
            raise NotCovered(f'the "{first[1]}" action')
        if any(kind in ("variable", "assign") for kind, _ in self.tokens):
            raise NotCovered("template variables")
        pipeline = self.pipeline()
        if self.peek() is not None:
            raise TemplateError(f"unexpected {self.peek()[1]!r} in action")  # type: ignore[index]
        return pipeline

    def pipeline(self) -> _Pipeline:
        commands = [self.command()]
        while self.peek() == ("punct", "|"):
            self.take()
            commands.append(self.command())
        return _Pipeline(tuple(commands))

    def command(self) -> Any:
        operands = []
        while (token := self.peek()) is not None and token not in (("punct", "|"), ("punct", ")")):
            operands.append(self.operand())
        if not operands:
            raise TemplateError("missing value for command")
        head = operands[0]
        if isinstance(head, _Call) and not head.args:
            return _Call(head.name, tuple(operands[1:]))
        if len(operands) > 1:
            raise TemplateError(f"can't give argument to non-function {_describe(head)}")
        return head

    def operand(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return _Literal(_go_unquote(text))
        if kind == "raw":
            return _Literal(text[1:-1])
        if kind == "char":
            raise NotCovered("character constants")
        if kind == "number":
            return _Literal(_go_number(text))
        if kind == "field":
            if text == ".":
                return _Field(".", ())
            if text.startswith("$"):
                name, _, rest = text.partition(".")
                if name != "$":
                    raise NotCovered("template variables")
                return _Field("$", tuple(rest.split(".")))
            return _Field(".", tuple(text[1:].split(".")))
        if kind == "ident":
            if text in ("true", "false"):
                return _Literal(text == "true")
            if text == "nil":
                return _Literal(None)
            if text in _KEYWORDS:
                raise NotCovered(f'the "{text}" action')
            return _Call(text, ())
        if kind == "punct" and text == "(":
            inner = self.pipeline()
            if self.peek() != ("punct", ")"):
                raise TemplateError("unclosed left paren")
            self.take()
            return inner
        if kind == "variable":
            if text == "$":
                return _Field("$", ())
            raise NotCovered("template variables")
        raise TemplateError(f"unexpected {text!r} in operand")


def _go_unquote(text: str) -> str:
    body = text[1:-1]
    escapes = {
        "n": "\n",
        "t": "\t",
        "r": "\r",
        '"': '"',
        "\\": "\\",
        "a": "\a",
        "b": "\b",
        "f": "\f",
        "v": "\v",
        "'": "'",
    }
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        code = body[index + 1] if index + 1 < len(body) else ""
        if code in escapes:
            out.append(escapes[code])
            index += 2
        elif code in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = body[index + 2 : index + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise TemplateError(f"invalid syntax in string {text}")
            out.append(chr(int(digits, 16)))
            index += 2 + width
        else:
            raise NotCovered(f"the escape \\{code} in a string")
    return "".join(out)


def _go_number(text: str) -> int | float:
    plain = text.replace("_", "")
    try:
        return int(plain, 0)
    except ValueError:
        pass
    try:
        return float(plain)
    except ValueError:
        raise TemplateError(f"bad number syntax: {text!r}") from None


def _describe(node: Any) -> str:
    if isinstance(node, _Field):
        return (node.root if node.root == "$" else "") + "".join(f".{part}" for part in node.chain) or "."
    if isinstance(node, _Literal):
        return repr(node.value)
    return "command"


# --- evaluation ----------------------------------------------------------------------------------------


def _render_nodes(nodes: tuple[_Text | _Action, ...], root: RootContext) -> list[str]:
    out = []
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        else:
            out.append(go_print(_evaluate(node.pipeline, root)))
    return out


def _evaluate(node: Any, root: RootContext, piped: tuple[Any, ...] = ()) -> Any:
    if isinstance(node, _Pipeline):
        value: tuple[Any, ...] = ()
        for index, command in enumerate(node.commands):
            if index > 0 and not isinstance(command, _Call):
                raise TemplateError(f"non executable command in pipeline stage {index + 1}")
            value = (_evaluate(command, root, value),)
        return value[0]
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Field):
        return _field(node, root)
    if isinstance(node, _Call):
        args = [_evaluate(arg, root) for arg in node.args] + list(piped)
        if node.name == "include":
            return _include(args, root)
        function = _FUNCTIONS.get(node.name)
        if function is None:
            raise NotCovered(f'the function "{node.name}"')
        return function(*args) if _arity_ok(node.name, len(args)) else None
    raise NotCovered("this construct")


def _field(node: _Field, root: RootContext) -> Any:
    value: Any = root
    walked = node.root if node.root == "$" else ""
    chain = node.chain
    if chain[:1] == ("Values",) and root.unknown:
        dotted = ".".join(chain[1:])
        for path, source in root.unknown.items():
            if dotted == path or dotted.startswith(path + ".") or path.startswith(dotted + ".") or not dotted:
                raise UnknownValue(
                    f".Values.{dotted or '...'}, which Auto Deploy sets with --set {path}={source}"
                )
    for depth, name in enumerate(chain):
        if (
            isinstance(value, Mapping)
            and name not in value
            and chain[:1] == ("Values",)
            and root.complete is not None
            and (depth < 2 or chain[1] not in root.complete)
        ):
            dotted = ".".join(chain[1:])
            raise UnknownValue(
                f".Values.{dotted}, which the chart's own values.yaml may set (the tool knows the chart's "
                "defaults only for its policy values)"
            )
        if isinstance(value, RootContext):
            value = value.field(name)
        elif isinstance(value, _Object):
            if name not in value.fields:
                raise NotCovered(f".{value.kind}.{name}")
            value = value.fields[name]
        elif isinstance(value, Mapping):
            value = value.get(name)
        elif value is None:
            raise TemplateError(f"nil pointer evaluating interface {{}}.{name}")
        else:
            raise TemplateError(f"can't evaluate field {name} in type {_go_type(value)}")
        walked += f".{name}"
    return value


def _include(args: list[Any], root: RootContext) -> str:
    if len(args) != 2:
        raise TemplateError(f"wrong number of args for include: want 2 got {len(args)}")
    name, context = args
    if not isinstance(name, str):
        raise TemplateError("include: the template name must be a string")
    if context is not root:
        raise NotCovered(f'include "{name}" with a context other than . or $')
    if name not in root.helpers.names:
        raise NotCovered(f'include "{name}" (only the chart\'s name helpers are modelled)')
    return root.helpers.names[name]


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return "interface {}"


def go_print(value: Any) -> str:
    """How ``{{ value }}`` prints (Go's ``fmt.Sprint``): maps and lists are not modelled."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, RootContext | _Object):
        raise NotCovered("printing a context object")
    raise NotCovered(f"printing a {_go_type(value)}")


# --- functions ---------------------------------------------------------------------------------------


def _arity_ok(name: str, count: int) -> bool:
    want = _ARITY.get(name)
    if want is None:
        return True
    low, high = want
    if not low <= count <= high:
        expected = str(low) if low == high else f"{low} or more"
        raise TemplateError(f"wrong number of args for {name}: want {expected} got {count}")
    return True


def _string_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TemplateError(
            f"error calling {name}: wrong type for value; expected string; got {_go_type(value)}"
        )
    return value


def _int_arg(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TemplateError(
            f"error calling {name}: wrong type for value; expected int; got {_go_type(value)}"
        )
    return value


def _strval(value: Any) -> str:
    """sprig's ``strval``: strings as they are, everything else as ``fmt.Sprintf("%v")``."""
    if isinstance(value, str):
        return value
    if value is None:
        return NO_VALUE
    return go_print(value)


def _go_quote(text: str) -> str:
    """Go's ``%q`` / ``strconv.Quote``."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif char in "\a\b\f\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not char.isprintable():
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _quote(*values: Any) -> str:
    return " ".join(_go_quote(_strval(v)) for v in values if v is not None)


def _squote(*values: Any) -> str:
    return " ".join(f"'{_strval(v)}'" for v in values if v is not None)


def _empty(value: Any) -> bool:
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    if isinstance(value, str | list | Mapping):
        return len(value) == 0
    return False


def _default(default: Any, *given: Any) -> Any:
    if not given or _empty(given[0]):
        return default
    return given[0]


def _trunc(count: Any, text: Any) -> str:
    length = _int_arg("trunc", count)
    data = _string_arg("trunc", text).encode("utf-8")
    if length < 0 and len(data) + length > 0:
        data = data[len(data) + length :]
    elif length >= 0 and len(data) > length:
        data = data[:length]
    return data.decode("utf-8", errors="replace")


#: compiled by re on first use: only printf needs it
_PRINTF_VERB = r"(?s)%(?P<flags>[-+# 0]*)(?P<width>\d*)(?:\.(?P<precision>\d+))?(?P<verb>.)"


def _printf(template: Any, *args: Any) -> str:
    fmt = _string_arg("printf", template)
    out: list[str] = []
    position = 0
    used = 0
    for match in re.finditer(_PRINTF_VERB, fmt):
        out.append(fmt[position : match.start()])
        position = match.end()
        verb = match["verb"]
        if verb == "%":
            out.append("%")
            continue
        if match["flags"] or match["width"] or match["precision"] is not None:
            raise NotCovered("printf flags, widths and precisions")
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[used]
        used += 1
        out.append(_format_verb(verb, value))
    out.append(fmt[position:])
    if used < len(args):
        extra = ", ".join(f"{_go_type(v)}={_strval(v)}" for v in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _format_verb(verb: str, value: Any) -> str:
    if verb == "v":
        return _strval(value) if value is not None else "<nil>"
    if verb == "s":
        if isinstance(value, str):
            return value
        if value is None:
            return "%!s(<nil>)"
        return f"%!s({_go_type(value)}={go_print(value)})"
    if verb == "d":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if value is None:
            return "%!d(<nil>)"
        return f"%!d({_go_type(value)}={go_print(value)})"
    if verb == "q":
        if isinstance(value, str):
            return _go_quote(value)
        raise NotCovered(f"printf %q of a {_go_type(value)}")
    raise NotCovered(f"the printf verb %{verb}")


def _two_strings(name: str, function: Callable[[str, str], str]) -> Callable[..., str]:
    def call(a: Any, b: Any) -> str:
        return function(_string_arg(name, a), _string_arg(name, b))

    return call


def _one_string(name: str, function: Callable[[str], str]) -> Callable[..., str]:
    def call(a: Any) -> str:
        return function(_string_arg(name, a))

    return call


def _replace(old: Any, new: Any, text: Any) -> str:
    return _string_arg("replace", text).replace(_string_arg("replace", old), _string_arg("replace", new))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "quote": _quote,
    "squote": _squote,
    "upper": _one_string("upper", str.upper),
    "lower": _one_string("lower", str.lower),
    "trim": _one_string("trim", lambda s: s.strip(" \t\n\r\v\f\x85\xa0")),
    "trimSuffix": _two_strings(
        "trimSuffix", lambda suffix, s: s[: -len(suffix)] if suffix and s.endswith(suffix) else s
    ),
    "trimPrefix": _two_strings(
        "trimPrefix", lambda prefix, s: s[len(prefix) :] if s.startswith(prefix) else s
    ),
    "trunc": _trunc,
    "replace": _replace,
    "default": _default,
    "toString": lambda value: _strval(value),
    "printf": _printf,
}
_ARITY: dict[str, tuple[int, int]] = {
    "upper": (1, 1),
    "lower": (1, 1),
    "trim": (1, 1),
    "trimSuffix": (2, 2),
    "trimPrefix": (2, 2),
    "trunc": (2, 2),
    "replace": (3, 3),
    "default": (1, 2),
    "toString": (1, 1),
    "printf": (1, 10_000),
}
