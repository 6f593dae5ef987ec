"""Safe YAML reading with positions: the one way this tool reads YAML (and JSON) input.

PyYAML's C parser composes the node graph; we construct Python objects from it with
PyYAML's safe constructor, adding what PyYAML leaves out:

* duplicate mapping keys are an error (PyYAML silently keeps the last one), and so is a key that
  is not a string (a number, date, boolean or null key: Helm turns some into strings, PyYAML keeps
  them as they are, and nothing downstream expects them);
* alias bombs ("billion laughs") and recursive aliases are refused before anything walks
  the expanded data, by sizing the node graph with memoisation (linear in distinct nodes);
* a value the constructor cannot represent (an integer of thousands of digits, a date out of
  range) is an error at its position;
* files are opened with :func:`~autodeploy_netpol.files.open_input` (regular files only: FIFOs,
  devices, link loops refused) and bounded in size (:mod:`~autodeploy_netpol.limits`); non-UTF-8
  bytes, tabs used as indentation and parse errors become
  :class:`~autodeploy_netpol.errors.InputError` with file:line:column and a hint.

JSON is YAML, but the json module reads it several times faster: :func:`parse_json` does, with
the same rules (duplicate keys, depth, huge integers) and positions in its messages.

The node graph is kept so a validator can turn a path inside the data back into a
file:line:column (:meth:`YamlDocument.locate`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain

import yaml
from yaml.events import (
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import files, limits
from ..errors import InputError, Location
from ..kube.manifests import PathElement as PathElement  # re-exported: the path type of locate()
from ..text import clip
from . import goyaml
from .collector import cycle_collector_paused

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

try:  # the C parser is what makes 5 MB files fast; fall back loudly-free when libyaml is absent
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing from the PyYAML build
    _BaseLoader = yaml.SafeLoader

#: An alias may repeat data, but the expanded document may not grow beyond this factor
#: of the written one (and never past MAX_EXPANDED_NODES in absolute terms).
ALIAS_EXPANSION_FACTOR = 10
MAX_EXPANDED_NODES = 5_000_000
#: Deepest nesting accepted. Real values files and manifests stay far below it; deeper input
#: would exhaust Python's recursion limit in the validator, the merge or the YAML writer.
MAX_DEPTH = 100

Path = tuple[PathElement, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


def format_path(path: Sequence[PathElement]) -> str:
    """``("networkPolicy", "spec", "ingress", 0)`` → ``networkPolicy.spec.ingress[0]``.

    Keys that are not plain identifiers (label keys such as ``app.kubernetes.io/name``)
    are written in brackets as JSON strings, so the path stays unambiguous and a key from the
    input cannot put a quote, a newline or a terminal escape sequence into a message (the same
    quoting as the key in "unknown key" messages).
    """
    out: list[str] = []
    for element in path:
        if isinstance(element, int):
            out.append(f"[{element}]")
        elif element and all(c.isalnum() or c in "_-" for c in element):
            out.append(f".{element}" if out else element)
        else:
            import json  # here, as below: json is start-up that a YAML input need not pay

            out.append(f"[{json.dumps(element)}]")
    return "".join(out) or "(top level)"


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader that refuses duplicate keys."""

    #: keep the last of repeated keys (as Helm and the API server read rendered manifests)
    allow_duplicates = False
    #: a key that is not a string is an error at its position (a date-like label key used to crash
    #: drift); the Go reader turns such keys into strings as Helm does instead
    string_keys = True

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._scalar_tags: dict[tuple[str, Any], str] = {}

    def resolve(self, kind: type, value: str, implicit: Any) -> str:
        # The C parser calls this Python method for every scalar; big files repeat the same keys
        # and values thousands of times (a fifth of the load time of a 5 MB file, see bench/).
        if kind is ScalarNode:
            key = (value, implicit)
            tag = self._scalar_tags.get(key)
            if tag is None:
                tag = self._scalar_tags[key] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _value in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                if not isinstance(key_node, ScalarNode):
                    raise _YamlProblem(
                        "a mapping or list is used as a key", key_node, "keys must be plain strings"
                    )
                key = self.construct_object(key_node, deep=True)
                if self.string_keys and not isinstance(key, str):
                    raise _YamlProblem(
                        f"the key {key_node.value!r} is read as {_key_kind(key)}, not as a string",
                        key_node,
                        f"quote the key ('{key_node.value}': ...) to make it a string; keys must be strings",
                    )
                first = seen.get(key)
                if first is not None and not self.allow_duplicates:
                    raise _YamlProblem(
                        f"duplicate key {key!r} (first defined on line {first.start_mark.line + 1})",
                        key_node,
                        "YAML keeps only one of them and PyYAML/Helm silently take the last; "
                        "remove or merge the duplicate",
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, _YamlProblem) or not isinstance(node, ScalarNode):
                raise
            raise _YamlProblem(_value_problem(node.value, exc), node, _VALUE_HINT) from None


_VALUE_HINT = "quote the value to keep it as a string"


def _value_problem(value: str, exc: BaseException) -> str:
    """What is wrong with a scalar the constructor could not turn into a value."""
    shown = clip(value, 40)
    if "integer string conversion" in str(exc):
        return f"the integer {shown!r} has {len(value):,} digits, more than the {sys.get_int_max_str_digits():,} allowed"
    return f"cannot read the value {shown!r}: {exc}"


def _key_kind(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "a boolean (YAML reads yes/no/on/off/true/false so)"
    if isinstance(key, int | float):
        return "a number"
    return f"a {type(key).__name__}"  # date, datetime, bytes (!!binary)


class _GoLoader(_Loader):
    """The same loader, reading plain scalars as Helm does (Go's yaml.v2, ``sources.goyaml``):
    ``y``/``on`` are booleans, ``1e3`` a number, non-string keys become strings."""

    string_keys = False

    def resolve(self, kind: type, value: str, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            key = (value, True)
            tag = self._scalar_tags.get(key)
            if tag is None:
                tag = self._scalar_tags[key] = goyaml.plain_scalar(value)[0]
            return tag
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if all(type(key) is str for key in mapping):
            return mapping
        seen: dict[str, Any] = {}
        if isinstance(node, MappingNode):
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                text = goyaml.json_key(key)
                if text in seen and seen[text] != key_node.value:
                    raise _YamlProblem(
                        f"duplicate key {text!r}: Helm reads {key_node.value} as the key {text!r}",
                        key_node,
                        "remove or merge the duplicate; quote keys such as on: or 1: to keep them as written",
                    )
                seen[text] = key_node.value
        return {goyaml.json_key(key): value for key, value in mapping.items()}


for _tag in (goyaml.BOOL, goyaml.INT, goyaml.FLOAT, goyaml.NULL):
    _GoLoader.add_constructor(_tag, goyaml.construct_go_scalar)


class _YamlProblem(ValueError):
    def __init__(self, message: str, node: Node, hint: str) -> None:
        super().__init__(message)
        self.message, self.node, self.hint = message, node, hint


class YamlDocument:
    """One YAML document: the data plus the node graph that knows where everything is.

    The node graph of a document read by the fast reader (:func:`iter_documents`) is composed
    when a position is first asked for: a valid file never pays for it.
    """

    def __init__(
        self,
        file: str,
        data: Any,
        root: Node | None,
        start_line: int = 1,
        *,
        compose: Callable[[], Node | None] | None = None,
        spelled_booleans: bool = True,
    ) -> None:
        self.file = file
        self.data = data
        self._root = root
        #: 1-based line where the document starts in its file (for multi-document streams).
        self.start_line = start_line
        self._compose = compose
        #: Whether a boolean may be written other than ``true``/``false`` (``yes``, ``on``, ``y`` …);
        #: the fast reader knows when none is, so checks of how a boolean is spelled need not
        #: compose the node graph (:meth:`scalar`) to find out.
        self.spelled_booleans = spelled_booleans

    @property
    def root(self) -> Node | None:
        """The document's node graph (composed now if it was not kept)."""
        if self._compose is not None:
            self._root, self._compose = self._compose(), None
        return self._root

    def __repr__(self) -> str:
        return f"YamlDocument({self.file!r}, start_line={self.start_line})"

    def locate(self, path: Sequence[PathElement], *, key: bool = False) -> Location:
        """Where ``path`` is in the file; the nearest existing ancestor if it is absent.

        With ``key=True`` and a mapping key as the last element, point at the key rather
        than at its value (for "unknown key" messages).
        """
        node = self.root
        if node is None:
            return Location(self.file, self.start_line, 1)
        node, _ = self._walk(node, path, key=key)
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    def scalar(self, path: Sequence[PathElement]) -> tuple[str, str | None] | None:
        """The text and quoting style (``None`` plain, ``"'"``, ``'"'``, ``"|"``, ``">"``) of the
        scalar at ``path`` as written, or ``None`` when there is no scalar there."""
        if self.root is None:
            return None
        node, found = self._walk(self.root, path, key=False, exact=True)
        if not found or not isinstance(node, ScalarNode):
            return None
        return node.value, node.style

    @staticmethod
    def _walk(
        node: Node, path: Sequence[PathElement], *, key: bool, exact: bool = False
    ) -> tuple[Node, bool]:
        for index, element in enumerate(path):
            last = index == len(path) - 1
            child: Node | None = None
            if isinstance(node, MappingNode) and not isinstance(element, int):
                for key_node, value_node in reversed(node.value):
                    if isinstance(key_node, ScalarNode) and key_node.value == str(element):
                        # An empty value ('from:' with nothing after it) has its mark past the colon,
                        # at the end of the line; the key is where a person looks.
                        if exact:
                            child = value_node
                        else:
                            child = key_node if (key and last) or _is_empty(value_node) else value_node
                        break
            elif (
                isinstance(node, SequenceNode) and isinstance(element, int) and 0 <= element < len(node.value)
            ):
                child = node.value[element]
            if child is None:
                return node, False
            node = child
        return node, True


def _is_empty(node: Node) -> bool:
    """A value left out after 'key:' (an implicit null, no characters of its own)."""
    return isinstance(node, ScalarNode) and node.value == "" and node.start_mark.index == node.end_mark.index


def read_text(
    path: str, *, limit: limits.Limit = limits.INPUT_BYTES, what: str = "file", stdin: bool = False
) -> str:
    """Read a whole input file as UTF-8 text, with clear errors for the usual mistakes.

    Only regular files are read (:func:`~autodeploy_netpol.files.open_input`), of at most ``limit``
    bytes (refused from the file's size, before reading). ``stdin``: the option also takes ``-``.
    """
    hint = limit.hint
    if limit is limits.YAML_BYTES:
        hint = _YAML_LIMIT_HINT
    raw = files.read_input(path, max_bytes=limit.value(), what=what, limit_hint=hint, stdin=stdin)
    return decode_utf8(raw, path)


def read_stdin(stream: Any, name: str = files.STDIN_NAME) -> str:
    """Standard input as UTF-8 text, bounded like a file."""
    limit = limits.INPUT_BYTES
    return decode_utf8(files.read_stream(stream, name, max_bytes=limit.value(), limit_hint=limit.hint), name)


def decode_utf8(raw: bytes, path: str) -> str:
    """Decode bytes as UTF-8 (a leading byte-order mark is allowed), or say where it breaks."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            # PowerShell 5's '>' and some Windows editors write UTF-16 with a byte-order mark.
            raise InputError(
                "the file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8",
                location=Location(path, 1, 1),
                hint="save the file as UTF-8; YAML files for Helm must be UTF-8",
            ) from None
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            location=Location(path, line, column),
            hint="save the file as UTF-8; YAML files for Helm must be UTF-8",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _tab_at(text: str, line: int, column: int) -> bool:
    """Is the parser stuck on a tab used as indentation (the C parser does not say so)?"""
    lines = text.split("\n", line + 1)
    if line >= len(lines):
        return False
    current = lines[line]
    indent = current[: len(current) - len(current.lstrip(" \t"))]
    return "\t" in indent or current[column : column + 1] == "\t"


_NO_CONSTRUCTOR = "could not determine a constructor for the tag"


def _parse_error(exc: yaml.YAMLError, path: str, text: str = "") -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    location = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if "\\t" in problem or (mark is not None and _tab_at(text, mark.line, mark.column)):
        return InputError(
            "a tab character is used where YAML allows only spaces (indentation)",
            location=location,
            hint="replace the tab with spaces; YAML forbids tabs in indentation",
        )
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark is not mark:
        # PyYAML stops where the damage shows (often the next line, or the end of the file);
        # where the unclosed thing started is what a person needs to find.
        context = f"{context} that starts at {context_mark.line + 1}:{context_mark.column + 1}"
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    hint = "fix the YAML syntax at this position"
    if problem.startswith("mapping values are not allowed"):
        hint = (
            "a ': ' starts a key here: check this line's indentation against the lines above, "
            "or quote a value that contains ': '"
        )
    elif problem.startswith(_NO_CONSTRUCTOR):
        message = f"invalid YAML: unsupported tag{problem[len(_NO_CONSTRUCTOR) :]}"
        hint = "values files hold plain data: remove the tag"
    return InputError(message, location=location, hint=hint)


def _check_expansion(root: Node, path: str) -> None:
    """Refuse alias bombs, recursive aliases and runaway nesting without expanding anything.

    One iterative post-order walk over the distinct collection nodes (scalars are leaves and are
    counted inline: they are most of a document, and a 5 MB file has hundreds of thousands).
    """
    if isinstance(root, ScalarNode):
        return
    sizes: dict[int, int] = {}  # expanded node count of each distinct collection
    heights: dict[int, int] = {}  # collection levels from a node down to its deepest collection
    on_stack: set[int] = set()
    written = 0  # scalar nodes as written in the file (an alias to a scalar adds nothing)
    # Iterative: deep documents must not hit Python's recursion limit.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        ident = id(node)
        if done:
            on_stack.discard(ident)
            total, height = 1, 0
            for child in _children(node):
                if child.__class__ is ScalarNode:
                    total += 1
                    written += 1
                else:
                    total += sizes[id(child)]
                    height = max(height, heights[id(child)])
            sizes[ident] = total
            heights[ident] = height + 1
            continue
        if ident in sizes:
            continue
        on_stack.add(ident)
        stack.append((node, True))
        for child in _children(node):
            if child.__class__ is ScalarNode:
                continue
            if id(child) in on_stack:
                raise InputError(
                    "recursive alias: an anchor refers to itself",
                    location=Location(path, child.start_mark.line + 1, child.start_mark.column + 1),
                    hint="values files cannot hold recursive data; remove the alias",
                )
            if id(child) not in sizes:
                stack.append((child, False))
    if heights[id(root)] > MAX_DEPTH:
        raise _too_deep(path, _first_too_deep_node(root, heights).start_mark)
    expanded = sizes[id(root)]
    distinct = len(sizes) + written
    if expanded > MAX_EXPANDED_NODES or expanded > max(ALIAS_EXPANSION_FACTOR * distinct, 100_000):
        raise InputError(
            f"aliases expand {distinct:,} written nodes to {_count(expanded)} (an alias bomb)",
            location=Location(path, root.start_mark.line + 1, root.start_mark.column + 1),
            hint="write the data out instead of nesting aliases of aliases",
        )


def _too_deep(path: str, mark: Any) -> InputError:
    """The one error for runaway nesting, whether our limit or the parser's fires first."""
    return too_deep(Location(path, mark.line + 1, mark.column + 1))


def too_deep(location: Location) -> InputError:
    """Data nested beyond :data:`MAX_DEPTH` at ``location`` (YAML, JSON, or a cluster's answer)."""
    return InputError(
        f"data nested more than {MAX_DEPTH} levels deep",
        location=location,
        hint="values files and manifests are a few levels deep; look for runaway brackets or indentation",
    )


def _first_too_deep_node(root: Node, heights: dict[int, int]) -> Node:
    """The first collection, in document order, at nesting level ``MAX_DEPTH + 1`` (root = 1).

    The same collection :func:`_first_too_deep_mark` finds in the event stream: descending from
    the root, always into the first child whose subtree still reaches that level.
    """
    node, level = root, 1
    while level <= MAX_DEPTH:
        needed = MAX_DEPTH + 1 - level
        node = next(
            child
            for child in _children(node)
            if child.__class__ is not ScalarNode and heights[id(child)] >= needed
        )
        level += 1
    return node


def _first_too_deep_mark(text: str, error: yaml.YAMLError | None = None) -> Any | None:
    """Where the first collection beyond ``MAX_DEPTH`` starts, scanning the parser's events.

    Used when the parser itself gives up on deep nesting (libyaml since PyYAML 6.0.4 refuses
    1,000 levels) before a node graph exists for :func:`_check_expansion` to measure; ``None``
    when no collection goes beyond the limit before the parse error. Only the text before the
    ``error``'s position is scanned: the scanner looks ahead before it emits a collection's start,
    so on the whole text it would stop at the same error before showing the depth.
    """
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        lines = text.split("\n", mark.line + 1)
        if mark.line < len(lines):
            text = "\n".join([*lines[: mark.line], lines[mark.line][: mark.column]])
    loader = _BaseLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return None


def _count(number: int) -> str:
    return f"{number:,}" if number < 10**15 else f"more than {10**15:,}"


def _children(node: Node) -> Iterable[Node]:
    if node.__class__ is SequenceNode:
        return node.value  # type: ignore[no-any-return]
    if node.__class__ is MappingNode:
        return chain.from_iterable(node.value)
    return ()


def _construct(loader: _Loader, root: Node, path: str) -> Any:
    try:
        return loader.construct_document(root)
    except _YamlProblem as problem:
        mark = problem.node.start_mark
        raise InputError(
            problem.message, location=Location(path, mark.line + 1, mark.column + 1), hint=problem.hint
        ) from None
    except yaml.YAMLError as exc:
        raise _parse_error(exc, path) from None


_YAML_LIMIT_HINT = (
    f"reading YAML with positions takes about 60 bytes of memory per byte; for a big snapshot use "
    f"JSON (kubectl get -o json, read up to {limits.INPUT_BYTES.variable}), or raise "
    f"{limits.YAML_BYTES.variable}"
)


def check_yaml_size(text: str, path: str) -> None:
    """Refuse YAML text over :data:`~autodeploy_netpol.limits.YAML_BYTES` before parsing it."""
    maximum = limits.YAML_BYTES.value()
    if len(text) > maximum:
        raise InputError(
            f"{len(text):,} characters of YAML, over the {maximum:,}-byte limit for YAML",
            location=Location(path),
            hint=_YAML_LIMIT_HINT,
        )


def iter_documents(
    text: str, path: str, *, go_scalars: bool = False, allow_duplicates: bool = False
) -> Iterator[YamlDocument]:
    """Parse every document of a YAML stream; empty documents are skipped.

    ``go_scalars``: read plain scalars as Helm and kubectl do (``sources.goyaml``), not PyYAML.
    ``allow_duplicates``: a repeated key keeps its last value, as Go's yaml.v2 reads it (for what
    Helm rendered; in the user's files a repeated key is an error).
    """
    check_yaml_size(text, path)
    loader_class = _GoLoader if go_scalars else _Loader
    documents = _plain_documents(text, path, loader_class)
    if documents is not None:
        yield from documents
        return
    yield from _full_documents(text, path, loader_class, allow_duplicates=allow_duplicates)


def _full_documents(
    text: str, path: str, loader_class: type[_Loader] | None = None, *, allow_duplicates: bool = False
) -> Iterator[YamlDocument]:
    """The reference reader: compose each document's node graph, check it, construct from it."""
    loader = (loader_class or _Loader)(text)
    loader.allow_duplicates = allow_duplicates
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                root = loader.get_node()
            except yaml.YAMLError as exc:
                # Whichever limit on nesting fires first, the parser's or ours, the user reads ours.
                deep = _first_too_deep_mark(text, exc)
                if deep is not None:
                    raise _too_deep(path, deep) from None
                raise _parse_error(exc, path, text) from None
            if root is None:
                continue
            _check_expansion(root, path)
            data = _construct(loader, root, path)
            if data is None:
                continue
            yield YamlDocument(path, data, root, start_line=root.start_mark.line + 1)
    finally:
        loader.dispose()


# --- JSON ------------------------------------------------------------------------------------------

_JSON_KEEP = b'"[]{}'
_JSON_DELETE = bytes(byte for byte in range(256) if byte not in _JSON_KEEP)
# the JSON patterns are compiled by re on first use: a YAML input needs neither (start-up)
_JSON_STRINGS = rb'"[^"]*"'
_JSON_PARENS = bytes.maketrans(b"[{]}", b"(())")
_JSON_TOKENS = r'"(?:[^"\\]|\\.)*"|[\[\]{}]'


def json_depth_exceeds(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests collections more than ``limit`` deep, at the speed of C.

    Escaped quotes and backslashes are dropped first, then every byte but quotes and brackets;
    what is left between quotes (brackets inside strings) goes; then each pass removes the
    innermost ``()`` pairs, so the number of passes is the depth. Meant for well-formed JSON; on
    malformed text the answer does not matter, the JSON parser refuses it.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Removing an adjacent pair of quotes keeps every other bracket inside or outside a string.
    compact = raw.translate(None, _JSON_DELETE).replace(b'""', b"")
    brackets = re.sub(_JSON_STRINGS, b"", compact).translate(_JSON_PARENS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"()", b"")
    return bool(brackets)


def _json_too_deep_location(text: str, path: str) -> Location:
    """Where the first collection beyond :data:`MAX_DEPTH` opens (error path only: a Python scan)."""
    depth = 0
    for token in re.finditer(_JSON_TOKENS, text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return _offset_location(text, token.start(), path)
        elif char in "]}":
            depth -= 1
    return Location(path)


def _offset_location(text: str, offset: int, path: str) -> Location:
    line = text.count("\n", 0, offset) + 1
    return Location(path, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


class _DuplicateJsonKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateJsonKey(key)
            seen.add(key)
    return out


def parse_json(text: str, path: str, *, hint: str = "fix the JSON syntax at this position") -> Any:
    """JSON text as data, with the YAML reader's rules and positions in every message.

    Duplicate keys, nesting beyond :data:`MAX_DEPTH` and integers beyond Python's digit limit are
    :class:`InputError` at their file:line:column, as is invalid JSON.
    """
    import json

    if json_depth_exceeds(text):
        raise too_deep(_json_too_deep_location(text, path))
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateJsonKey as duplicate:
        if len(text) <= limits.YAML_BYTES.value():
            list(iter_documents(text, path))  # the YAML reader names the line of both keys
        raise InputError(
            f"duplicate key {duplicate.key!r} in a JSON object",
            location=Location(path),
            hint="JSON readers keep only one of them; remove or merge the duplicate",
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}", location=Location(path, exc.lineno, exc.colno), hint=hint
        ) from None
    except ValueError as exc:  # an integer with more digits than Python converts
        digits = sys.get_int_max_str_digits()
        found = re.search(rf"-?\d{{{digits + 1},}}", text) if digits else None
        if found is None:
            raise InputError(f"invalid JSON value: {exc}", location=Location(path), hint=hint) from None
        raise InputError(
            _value_problem(found.group(), exc),
            location=_offset_location(text, found.start(), path),
            hint="quote the number to keep it as a string",
        ) from None
    except RecursionError:  # pragma: no cover - json_depth_exceeds refuses such nesting first
        raise too_deep(Location(path)) from None


# --- the fast reader ----------------------------------------------------------------------------
#
# Composing the node graph and constructing from it costs about four times what the C parser's
# events cost (bench/values.py: 5 MB of YAML, 1.8 s against 0.4 s), and a valid file never needs
# the graph: positions are only asked for to report a problem. So a stream is first read from the
# parser's events straight into data, with the same resolver and the same safe constructors. Only
# plain data takes that path: anything the reference reader treats specially — an anchor or alias,
# a tag, a merge key, a duplicate or non-string key, a value other than a string, number, boolean
# or null, nesting beyond MAX_DEPTH, too many nodes, a syntax error — makes the whole stream go
# through the reference reader instead, which reads it (or refuses it) exactly as before. The
# node graph of a document read fast is composed when a position is first asked for.

_BOOL_TAG = "tag:yaml.org,2002:bool"
_FAST_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "null", "bool", "int", "float")
)


class _NotPlain(Exception):
    """The stream holds something only the reference reader handles."""


_MISSING: Any = object()


def _plain_documents(text: str, path: str, loader_class: type[_Loader] | None = None) -> list[YamlDocument] | None:
    """Every document of ``text`` read from the parser's events, or ``None`` if the reference
    reader has to read it (see above). ``loader_class`` resolves and constructs the scalars
    (``_GoLoader``: as Helm reads them); a repeated key always goes to the reference reader."""
    loader = (loader_class or _Loader)(text)
    try:
        return _read_events(loader, text, path)
    except Exception:
        return None
    finally:
        loader.dispose()


def _read_events(loader: Any, text: str, path: str) -> list[YamlDocument]:
    get_event = loader.get_event
    resolve = loader.resolve
    constructors = loader.yaml_constructors
    scalar_event, mapping_start, sequence_start = ScalarEvent, MappingStartEvent, SequenceStartEvent
    mapping_end, sequence_end = MappingEndEvent, SequenceEndEvent
    # Scalar text -> value, for plain scalars and for the others (quoted, literal, folded): files
    # repeat the same keys and values thousands of times. Without a tag, a scalar's "implicit"
    # flags follow from whether it is plain, so the text alone is the key.
    plain: dict[str, Any] = {}
    other: dict[str, Any] = {}
    documents: list[YamlDocument] = []
    stack: list[tuple[Any, bool]] = []  # the enclosing collections: (container, is a mapping)
    container: Any = None  # the collection being filled (None at the document's top)
    is_mapping = False
    key: Any = _MISSING  # a mapping's key waiting for its value
    root: Any = _MISSING
    root_line = 0
    ordinal = -1  # documents started, as the reference reader counts them (get_node calls)
    nodes = 0
    spelled = False  # a boolean written other than true/false (see YamlDocument.spelled_booleans)
    while True:
        event = get_event()
        kind = event.__class__
        if kind is scalar_event:
            if event.anchor is not None or event.tag is not None:
                raise _NotPlain
            text_value = event.value
            memo = plain if event.implicit[0] else other
            try:
                value = memo[text_value]
            except KeyError:
                tag = resolve(ScalarNode, text_value, event.implicit)
                if tag not in _FAST_SCALAR_TAGS:
                    raise _NotPlain from None
                if tag == _BOOL_TAG and text_value.lower() not in ("true", "false"):
                    spelled = True
                node = ScalarNode(tag, text_value, event.start_mark, event.end_mark)
                value = memo[text_value] = constructors[tag](loader, node)
            nodes += 1
            if is_mapping:
                if key is _MISSING:
                    if value.__class__ is not str or value in container:
                        raise _NotPlain
                    key = value
                else:
                    container[key] = value
                    key = _MISSING
            elif container is not None:
                container.append(value)
            else:
                root, root_line = value, event.start_mark.line
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None:
                raise _NotPlain
            new: Any = {} if kind is mapping_start else []
            nodes += 1
            if is_mapping:
                if key is _MISSING:
                    raise _NotPlain  # a collection used as a key
                container[key] = new
                key = _MISSING
            elif container is not None:
                container.append(new)
            else:
                root, root_line = new, event.start_mark.line
            stack.append((container, is_mapping))
            if len(stack) > MAX_DEPTH:
                raise _NotPlain
            container, is_mapping = new, kind is mapping_start
        elif kind is mapping_end or kind is sequence_end:
            container, is_mapping = stack.pop()
        elif kind is DocumentStartEvent:
            ordinal += 1
            root = _MISSING
        elif kind is DocumentEndEvent:
            if root is not None and root is not _MISSING:
                compose = partial(_compose_root, text, ordinal, loader.__class__)
                documents.append(YamlDocument(path, root, None, root_line + 1, compose=compose))
        elif kind is StreamEndEvent:
            break
        elif kind is not StreamStartEvent:
            raise _NotPlain  # an alias
    if nodes > MAX_EXPANDED_NODES:
        raise _NotPlain
    for document in documents:
        document.spelled_booleans = spelled
    return documents


def _compose_root(text: str, ordinal: int, loader_class: type[_Loader]) -> Node | None:
    """The node graph of document number ``ordinal`` (0-based, as the reference reader counts)."""
    loader = loader_class(text)
    try:
        root: Node | None = None
        for _ in range(ordinal + 1):
            if not loader.check_node():
                return None
            root = loader.get_node()
        return root
    finally:
        loader.dispose()


def load_documents(
    path: str, *, text: str | None = None, what: str = "file", go_scalars: bool = False
) -> list[YamlDocument]:
    """Read a (multi-document) YAML or JSON file (``what`` names it in messages)."""
    if text is None:
        text = read_text(path, what=what, limit=limits.YAML_BYTES)
    with cycle_collector_paused():
        return list(iter_documents(text, path, go_scalars=go_scalars))


def load_mapping(
    path: str, *, text: str | None = None, what: str = "values file", go_scalars: bool = False
) -> YamlDocument:
    """Read a file that must hold exactly one YAML mapping (or nothing: an empty mapping)."""
    documents = load_documents(path, text=text, what=what, go_scalars=go_scalars)
    if not documents:
        return YamlDocument(path, {}, None)
    if len(documents) > 1:
        raise InputError(
            f"the {what} holds {len(documents)} YAML documents; Helm reads a values file as one",
            location=Location(path, documents[1].start_line, 1),
            hint="remove the '---' separators or split the file",
        )
    document = documents[0]
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        kind = {"list": "a list", "str": "a string", "int": "a number", "float": "a number"}.get(kind, kind)
        raise InputError(
            f"the {what} must be a YAML mapping at the top level, not {kind}",
            location=document.locate(()),
            hint="a values file looks like 'networkPolicy:\\n  enabled: true'",
        )
    return document
