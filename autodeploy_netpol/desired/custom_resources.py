"""``customResources``: the objects the auto-deploy-app chart writes out as they are.

From image v2.51.0 the chart renders every entry of ``customResources`` with ``toYaml``; what
the deploy gets depends on the shape (:mod:`.shapes`):

* ``d-cr``, ``d-cr-rewrite`` (v2.51.0 - v2.80.0): no ``---`` between entries, so two entries or
  more run into ONE document with repeated keys. Helm's YAML reader keeps the last value of
  each key: the deploy gets one object, the last entry's kind, metadata and spec, plus the
  top-level keys only earlier entries set. :func:`render_custom_resources` returns exactly that.
* ``d-cr-separator`` (v2.80.1 - v2.90.0): each entry its own document, written literally: a
  ``{{ .Release.Name }}`` stays in the name (which the API server then rejects).
* ``d-cr-tpl`` (v2.91.0 on): each entry through Helm's ``tpl``. Every string holding ``{{`` is
  written as ``toYaml`` would write it (plain, single- or double-quoted), rendered by the
  evaluator in :mod:`.tpl`, and read back as YAML the way Helm reads it — so ``'{{ .Release.Name
  | quote }}'`` gives the string ``"production"`` with its quotes, as it does in a deploy. An
  entry using what the evaluator does not model goes to ``fallback`` (real Helm), or is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import yaml

from ..errors import InputError
from ..kube.names import DEPLOYABLE_POLICY_KINDS
from ..records import field, record
from ..sources.goyaml import STR, plain_scalar, sorted_keys
from ..sources.yamlio import iter_documents
from . import tpl
from .shapes import ChartShape

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    Fallback = Callable[[int | str, Any], list[Any]]

#: The policy kinds the tool takes from customResources (and renders, compares and analyses).
POLICY_KINDS_IN_ENTRIES = DEPLOYABLE_POLICY_KINDS



class EntryProblem(Exception):
    """An entry the deploy cannot render (``fails``) or the model will not guess (``not covered``)."""

    def __init__(
        self, index: int | str, path: tuple[Any, ...], message: str, hint: str | None, *, fails: bool
    ) -> None:
        super().__init__(message)
        self.index = index
        self.path = path
        self.message = message
        self.hint = hint
        self.fails = fails


@record(frozen=True)
class RenderedEntry:
    """What one entry (or, without separators, all of them) becomes: the objects Helm sends."""

    #: the entries it came from (several when they ran into one document)
    indices: tuple[int | str, ...]
    manifests: list[Any] = field(default_factory=list)
    #: "as written", "tpl" (the model's evaluator), "helm" (real Helm), "merged" (no separator)
    how: str = "as written"


def entries_of(value: Any) -> list[tuple[int | str, Any]]:
    """The entries as the chart's ``range`` visits them: a list in order, a mapping by sorted key."""
    if isinstance(value, list):
        return list(enumerate(value))
    if isinstance(value, dict):
        return [(key, value[key]) for key in sorted(value)]
    return []


def render_custom_resources(
    value: Any,
    *,
    shape: ChartShape,
    root: tpl.RootContext,
    fallback: Fallback | None = None,
) -> list[RenderedEntry]:
    """The objects the chart of ``shape`` makes of ``customResources`` (see the module doc).

    Raises :class:`EntryProblem` for an entry Helm cannot render either (the deploy fails) or
    that the model does not cover and ``fallback`` is ``None``.
    """
    if not shape.custom_resources:
        return []
    entries = [(index, entry) for index, entry in entries_of(value) if entry is not None]
    if not shape.separator:
        mappings = [(index, entry) for index, entry in entries if isinstance(entry, dict)]
        if not mappings:
            return []
        # Each entry is written with its keys sorted; a key keeps its first place and its last value.
        merged: dict[str, Any] = {}
        for _, entry in mappings:
            merged.update(sort_keys(entry))
        how = "merged" if len(mappings) > 1 else "as written"
        return [RenderedEntry(tuple(i for i, _ in mappings), [merged], how)]
    rendered = []
    for index, entry in entries:
        if not shape.tpl or not _has_templates(entry):
            rendered.append(RenderedEntry((index,), [entry]))
            continue
        try:
            rendered.append(RenderedEntry((index,), [_render_templated(entry, root, index)], "tpl"))
        except tpl.UnknownValue as reason:
            raise EntryProblem(
                index,
                getattr(reason, "path", ()),
                f"reads {reason}: its value is only known in the deploy job, so the tool cannot say what the "
                "entry renders",
                "run where the variable is set (the deploy job's environment), or do not template that value",
                fails=False,
            ) from None
        except tpl.NotCovered as reason:
            if fallback is None:
                raise EntryProblem(
                    index,
                    getattr(reason, "path", ()),
                    f"uses {reason}, which the tool's model of Helm's tpl does not evaluate, and no Helm is "
                    "available to render it: the tool will not guess what it renders",
                    "install the helm CLI (or pip install 'autodeploy-netpol[helm]'), render with --chart, or "
                    "write the entry with .Release.Name, .Release.Namespace, .Values, .Chart and quote/default/"
                    "printf/trunc/trimSuffix/replace/include of the chart's name helpers",
                    fails=False,
                ) from None
            rendered.append(RenderedEntry((index,), fallback(index, entry), "helm"))
    return rendered


def _has_templates(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(_has_templates(k) or _has_templates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_templates(item) for item in value)
    return False


def _render_templated(value: Any, root: tpl.RootContext, index: int | str, path: tuple[Any, ...] = ()) -> Any:
    if isinstance(value, str):
        if "{{" not in value:
            return value
        try:
            return _render_scalar(value, root, index, path, key=False)
        except tpl.NotCovered as reason:
            if not hasattr(reason, "path"):
                reason.path = path  # type: ignore[attr-defined]
            raise
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = key
            if isinstance(key, str) and "{{" in key:
                new_key = _render_scalar(key, root, index, (*path, key), key=True)
                if not isinstance(new_key, str):
                    raise tpl.NotCovered("a template that turns a key into something other than a string")
            out[new_key] = _render_templated(item, root, index, (*path, key))
        return out
    if isinstance(value, list):
        return [_render_templated(item, root, index, (*path, i)) for i, item in enumerate(value)]
    return value


class _Stub:
    allow_unicode = True


@lru_cache(maxsize=1024)  # the same strings recur (names, labels of every entry)
def toyaml_style(text: str, *, key: bool = False) -> str:
    """How Helm's ``toYaml`` (Go's yaml.v2) writes the string ``text``: ``""`` plain, ``"'"``,
    ``'"'`` or ``"|"`` (literal block)."""
    resolves_to_string = plain_scalar(text)[0] == STR and not _base60_float(text)
    analysis = yaml.emitter.Emitter.analyze_scalar(_Stub(), text)  # type: ignore[arg-type]
    if "\n" in text:
        style = "|"
    elif resolves_to_string:
        style = ""
    else:
        style = '"'
    if style == "" and (not analysis.allow_block_plain or (key and (analysis.empty or analysis.multiline))):
        style = "'"
    if style == "'" and not analysis.allow_single_quoted:
        style = '"'
    if style == "|" and (not analysis.allow_block or key):
        style = '"'
    return style


def _base60_float(text: str) -> bool:
    if ":" not in text:
        return False  # the pattern below needs one (and compiling it costs start-up)
    import re

    return re.fullmatch(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?", text) is not None


def _written(text: str, style: str) -> str:
    if style == "":
        return text
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style == '"':
        if any(not (char.isprintable() or char == " ") for char in text):
            raise tpl.NotCovered("a template in a string with control characters")
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise tpl.NotCovered("a template in a multi-line string")


_WORD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


def _read_directly(text: str) -> str | None:
    """What YAML reads after ``k: `` when that is plainly a string, else ``None`` (then the YAML
    reader decides): a single-quoted scalar of printable ASCII without a quote inside (its text
    as written: single quotes escape nothing else), or a plain word of letters, digits and
    ``-_./`` starting with a letter or digit (no indicator, no ``: ``, no `` #``) that yaml.v2
    resolves to a string (not a number, bool or null)."""
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        inner = text[1:-1]
        if "'" not in inner and all(" " <= char <= "~" for char in inner):
            return inner
        return None
    if (
        text[:1].isascii()
        and text[:1].isalnum()
        and _WORD_CHARACTERS.issuperset(text)
        and plain_scalar(text)[0] == STR
    ):
        return text
    return None


def _render_scalar(
    text: str, root: tpl.RootContext, index: int | str, path: tuple[Any, ...], *, key: bool
) -> Any:
    style = toyaml_style(text, key=key)
    written = _written(text, style)
    try:
        rendered = tpl.render(written, root)
    except tpl.TemplateError as error:
        raise EntryProblem(
            index,
            path,
            f"Helm fails to render this template ({error}): the chart's tpl fails and the whole deploy with it",
            "fix the {{ ... }} action, or the values it reads",
            fails=True,
        ) from None
    if "\n" in rendered:
        raise tpl.NotCovered("a template that renders line breaks")
    direct = _read_directly(rendered)
    if direct is not None:
        return direct  # what reading "k: <rendered>" gives (below), without a YAML parse
    try:
        documents = list(iter_documents(f"k: {rendered}\n", "<tpl>", go_scalars=True))
    except InputError as error:
        raise EntryProblem(
            index,
            path,
            f"renders to {rendered!r}, which breaks the YAML of the entry ({error.message}): Helm cannot read "
            "what the chart writes and the deploy fails",
            "quote the value in the values file, or use | quote in the template",
            fails=True,
        ) from None
    data = documents[0].data if documents else None
    if not isinstance(data, dict) or list(data) != ["k"]:
        raise EntryProblem(
            index,
            path,
            f"renders to {rendered!r}, which changes the structure of the entry",
            "quote the value in the values file",
            fails=True,
        )
    return data["k"]


def sort_keys(value: Any) -> Any:
    """A deep copy with every mapping's keys in the order Helm's ``toYaml`` writes them."""
    if isinstance(value, dict):
        return {key: sort_keys(value[key]) for key in sorted_keys(value)}
    if isinstance(value, list):
        return [sort_keys(item) for item in value]
    return value


def iter_policy_entries(value: Any) -> Iterator[tuple[int | str, dict[str, Any]]]:
    """The entries whose kind is one of :data:`POLICY_KINDS_IN_ENTRIES`, as written."""
    for index, entry in entries_of(value):
        if isinstance(entry, dict) and entry.get("kind") in POLICY_KINDS_IN_ENTRIES:
            yield index, entry
