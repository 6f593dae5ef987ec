"""Validate the network-policy blocks of a values file: JSON Schema plus what a schema cannot say.

Every problem is reported at once, each with file:line:column, the path inside the file and a
hint. The schema (``schemas/netpol-values.schema.json``) covers structure and types; the checks
here cover CIDR validity and canonical form, port numbers and names, ``endPort``, label syntax,
selector operators, peers the API server rejects, and rules Kubernetes would silently ignore.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache

from ..errors import Location, Severity
from ..kube.label_syntax import DNS_LABEL_RE, DNS_SUBDOMAIN_RE, LABEL_NAME_RE
from ..kube.names import CILIUM_POLICY_KINDS, CLUSTER_SCOPED_POLICY_KINDS, DEPLOYABLE_POLICY_KINDS
from ..records import record
from ..sources.yamlio import Path, format_path
from ..text import ascii_digits as _digits
from ..text import ascii_int, clip
from .merge import drop_nulls
from .shapes import NEWEST, ChartShape
from .values import ValuesFile

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    import ipaddress
    from typing import Any

# difflib, ipaddress and jsonschema are imported where they are needed: a valid file needs none
# of them but ipaddress, and together they cost more than the rest of a run (bench/values.py).

_SCHEMA_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas", "netpol-values.schema.json")

#: Top-level keys of the values file that this tool checks (the rest belongs to the chart).
CHECKED_KEYS = (
    "networkPolicy",
    "ciliumNetworkPolicy",
    "extraLabels",
    "releaseOverride",
    "nameOverride",
    "customResources",
)
#: The labels the chart writes on the objects that also carry ``extraLabels`` (the policies, the
#: web Deployment and its pods, the Service): a key repeated in extraLabels is written twice.
CHART_LABEL_KEYS = (
    "app",
    "chart",
    "release",
    "heritage",
    "app.kubernetes.io/name",
    "helm.sh/chart",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/instance",
    "track",
    "tier",
)
#: The policy kinds customResources entries are checked as (and the tool renders, compares and
#: analyses): every kind a release of the chart can deploy (kube/names.py).
CUSTOM_POLICY_KINDS = frozenset(DEPLOYABLE_POLICY_KINDS)
#: Strings a person writes to mean "off", which Helm reads as on (any non-empty string is true).
_FALSE_WORDS = frozenset({"false", "no", "off", "n", "0", "disabled"})

_DNS_SUBDOMAIN = DNS_SUBDOMAIN_RE
_LABEL_NAME = LABEL_NAME_RE
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
#: Cilium label sources that may prefix a selector key (``k8s:app``, ``any:app``).
_CILIUM_SOURCES = ("k8s:", "any:", "reserved:", "cidr:", "fqdn:", "container:", "unspec:", "cilium:")


@record(frozen=True)
class Problem:
    """One thing wrong with the values file."""

    location: Location
    path: Path
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "" if self.severity is Severity.ERROR else f"{self.severity}: "
        text = f"{self.location}: {prefix}{format_path(self.path)}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": format_path(self.path),
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


def _json(value: Any) -> str:
    """``json.dumps(value)``, clipped (:func:`~autodeploy_netpol.text.clip`): how messages quote
    what the file says. json is imported here, by the first message: a valid file needs none
    (start-up, bench/startup.py)."""
    import json

    return clip(json.dumps(value))


@cache
def _schema_bytes() -> bytes:
    # A plain file read: importlib.resources would pull in tempfile, shutil, zipfile … at start-up.
    with open(_SCHEMA_FILE, "rb") as handle:
        return handle.read()


@cache
def values_schema() -> dict[str, Any]:
    """The JSON Schema of the blocks, shipped with the package."""
    import json

    schema: dict[str, Any] = json.loads(_schema_bytes())
    return schema


def validate_values(values: ValuesFile, *, shape: ChartShape | None = None) -> list[Problem]:
    """Every problem in the file's network-policy blocks, errors and warnings, in file order.

    ``shape`` is the chart the deploy uses (default: the newest); it decides what the chart reads
    (``extraLabels``, ``ciliumNetworkPolicy``, ``customResources`` and whether their entries are
    templates).
    """
    shape = shape or NEWEST
    blocks = {key: values.data[key] for key in CHECKED_KEYS if key in values.data}
    # A null deletes a key in Helm (it switches off a chart default), so it is never a type error.
    problems = list(_schema_problems(values, drop_nulls(blocks)))
    # The semantic checks see the nulls: 'ingress: null' is how a user drops the chart's default
    # rule, and a null label value is a forgotten value (dropping it would widen the selector).
    problems.extend(_Checker(values, shape).run(blocks))
    problems.extend(_misspelt_blocks(values))
    problems.extend(_null_blocks(values, shape))
    network = values.data.get("networkPolicy")
    if isinstance(network, dict) and "spec" in network and network["spec"] is None:
        problems.append(
            Problem(
                values.locate(("networkPolicy", "spec")),
                ("networkPolicy", "spec"),
                "spec is null, which removes it: the chart renders the policy with `spec: null`, which the API "
                "server stores as an empty spec - every pod of the namespace selected, all ingress denied",
                "leave spec out to get the suggested policy, or give a spec",
                Severity.WARNING,
            )
        )
    unique = {(p.location, p.path, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.location.line, p.location.column, p.message))


def _misspelt_blocks(values: ValuesFile) -> Iterator[Problem]:
    """Top-level keys that are almost ``networkPolicy`` / ``ciliumNetworkPolicy``.

    Helm ignores values the chart does not read, so ``networkpolicy: {enabled: true}`` deploys
    nothing and says nothing. Other top-level keys belong to the chart and are not checked.
    """
    blocks = ("networkPolicy", "ciliumNetworkPolicy")
    for key in values.data:
        if not isinstance(key, str) or key in CHECKED_KEYS:
            continue
        candidates = [block for block in blocks if _could_be_close(key, block, 0.85)]
        if not candidates:
            continue
        import difflib

        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.85)
        if close:
            yield Problem(
                values.locate((key,), key=True),
                (key,),
                f"unknown top-level key {_json(key)}: the chart ignores it, so this block is never deployed",
                f"did you mean {_json(close[0])}?",
            )


def _could_be_close(word: str, candidate: str, cutoff: float) -> bool:
    """difflib's quick_ratio test, without importing difflib for every key of every values file:
    get_close_matches drops a candidate that fails it, so dropping it here changes nothing."""
    total = len(word) + len(candidate)
    counts: dict[str, int] = {}
    for char in candidate:
        counts[char] = counts.get(char, 0) + 1
    matches = 0
    for char in word:
        left = counts.get(char, 0)
        if left > 0:
            counts[char] = left - 1
            matches += 1
    return total == 0 or 2.0 * matches / total >= cutoff


def _null_blocks(values: ValuesFile, shape: ChartShape) -> Iterator[Problem]:
    """``networkPolicy: null`` deletes the block the chart's template reads: the render fails."""
    readers = [("networkPolicy", "templates/network-policy.yaml")]
    if shape.cilium_template:
        readers.append(("ciliumNetworkPolicy", "templates/cilium-network-policy.yaml"))
    for key, template in readers:
        if key in values.data and values.data[key] is None:
            yield Problem(
                values.locate((key,)),
                (key,),
                f"{key}: null deletes the chart's whole {key} block: its template ({template}) then reads "
                f'.Values.{key}.enabled of nothing and Helm fails ("nil pointer evaluating interface {{}}'
                '.enabled"), so the whole deploy fails',
                f"remove the line, or write {key}: {{enabled: false}} to switch it off",
            )


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


# ---------------------------------------------------------------- schema problems


def _schema_problems(values: ValuesFile, instance: dict[str, Any]) -> Iterator[Problem]:
    if _known_valid(instance, large=_is_large(values)):
        return
    # Imported here, not at module level: only an invalid file needs it, and importing it costs
    # more than the rest of a run.
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(values_schema())
    for error in validator.iter_errors(instance):
        yield from _explain(values, error)


#: Values files above this size are checked with jsonschema-rs (see :func:`_known_valid`).
LARGE_VALUES_BYTES = 256 * 1024


def _is_large(values: ValuesFile) -> bool:
    try:
        return values.exists and os.path.getsize(values.path) > LARGE_VALUES_BYTES
    except OSError:
        return False


def _known_valid(instance: dict[str, Any], *, large: bool = False) -> bool:
    """Whether ``instance`` is valid under the schema, answered quickly; ``False`` means "ask the
    jsonschema package", which describes the problems (and settles any doubt).

    Two fast checks, each only ever trusted to say "valid" (tests/unit/test_schema_gate.py shows
    they agree with the jsonschema package on the corpora and on generated data):

    * the schema compiled to Python at build time (tools/schema_gate.py) — nothing to import
      but a module, so a typical file is checked in well under a millisecond; used while the
      checksum it records matches the schema file;
    * for a large file, jsonschema-rs (Rust): ~20 ms to import, then ~15x faster than the
      generated check (5 MB of values: 11 ms against 150 ms), configured never to fetch a
      ``$ref`` (the schema has none outside itself).
    """
    try:
        if large:
            return _rust_validator().is_valid(instance)
        from . import _values_schema_gate as gate

        if _schema_checksum() != gate.SCHEMA_CHECKSUM:
            return False
        gate.validate(instance)
    except Exception:
        return False
    return True


@cache
def _rust_validator() -> Any:
    import jsonschema_rs

    def refuse(uri: str) -> Any:
        raise ValueError(f"the values schema refers to {uri}: nothing outside the schema is fetched")

    return jsonschema_rs.Draft202012Validator(values_schema(), retriever=refuse)


def _schema_checksum() -> str:
    """The schema file's checksum as tools/schema_gate.py records it (staleness, not security)."""
    import binascii  # zlib's CRC-32; already imported (PyYAML's base64), zlib is not

    raw = _schema_bytes()
    return f"{binascii.crc32(raw):08x}-{len(raw)}"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {clip(str(value))}"
    if isinstance(value, str):
        return f"the string {_json(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "number": "a number",
    "null": "null",
}


def _explain(values: ValuesFile, error: Any) -> Iterator[Problem]:
    path: Path = tuple(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extras = [key for key in error.instance if key not in error.schema.get("properties", {})]
        for key in extras:
            yield Problem(
                values.locate((*path, key), key=True),
                (*path, key),
                f"unknown key {_json(str(key))}",
                _unknown_key_hint(str(key), allowed, path),
            )
        return
    location = values.locate(path)
    if kind == "type":
        expected = error.validator_value
        expected_list = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected_list if t != "null")
        yield Problem(
            location,
            path,
            f"must be {words}, not {_describe(error.instance)}",
            _type_hint(path, error.instance, expected_list),
        )
    elif kind == "enum":
        import difflib

        options = [str(option) for option in error.validator_value]
        close = [o for o in options if str(error.instance).lower() == o.lower()] or difflib.get_close_matches(
            str(error.instance), options, n=1
        )
        hint = f"did you mean {_json(close[0])}?" if close else f"use one of: {', '.join(options)}"
        yield Problem(location, path, f"{_describe(error.instance)} is not allowed here", hint)
    elif kind == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        for key in missing:
            yield Problem(location, path, f"missing required key {_json(key)}", None)
    elif kind == "const":
        owner = values_at(values, path[:-1])
        what = f" for a {owner.get('kind')}" if isinstance(owner, dict) and owner.get("kind") else ""
        yield Problem(
            location,
            path,
            f"must be {_json(error.validator_value)}{what}, not {_describe(error.instance)}",
            f"write {path[-1]}: {error.validator_value}" if path else None,
        )
    elif kind in ("minProperties", "maxProperties") and isinstance(error.instance, dict):
        keys = sorted(error.schema.get("properties", {}))
        yield Problem(
            location,
            path,
            f"needs exactly one of {', '.join(keys)}"
            if kind == "minProperties" or len(error.instance) > 1
            else error.message,
            f"give one of {', '.join(keys)} (a list entry each when you need several)",
        )
    elif kind == "uniqueItems":
        yield Problem(location, path, "lists the same entry more than once", "remove the duplicate")
    elif kind == "maxItems":
        yield Problem(location, path, f"has more than {error.validator_value} entries", None)
    elif kind in ("pattern", "maxLength") and path[-1:] == ("policies",):
        key_path = (*path, error.instance)
        yield Problem(
            values.locate(key_path, key=True),
            key_path,
            f"policy name {_json(error.instance)} is not a lowercase DNS label of at most 50 characters",
            "use lowercase letters, digits and '-', starting and ending with a letter or digit",
        )
    else:
        yield Problem(location, path, error.message, None)


def values_at(values: ValuesFile, path: Path) -> Any:
    """The value at ``path`` in the file's data (``None`` when absent)."""
    node: Any = values.data
    for element in path:
        found, node = step(node, element)
        if not found:
            return None
    return node


def step(node: Any, element: Any) -> tuple[bool, Any]:
    """One step down a path: (found, the child)."""
    if isinstance(node, dict) and element in node:
        return True, node[element]
    if isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
        return True, node[element]
    return False, None


def _unknown_key_hint(key: str, allowed: list[str], path: Path) -> str:
    import difflib

    by_case = [a for a in allowed if a.lower() == key.lower()]
    close = by_case or difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean {_json(close[0])}?"
    if (
        len(path) == 1
        and path[0] == "networkPolicy"
        and key in ("podSelector", "ingress", "egress", "policyTypes")
    ):
        return f"{_json(key)} belongs under 'spec:' (networkPolicy.spec.{key})"
    if path[:1] == ("networkPolicy",) and key == "endpointSelector":
        return "endpointSelector is CiliumNetworkPolicy's; a NetworkPolicy selects pods with spec.podSelector"
    if (
        len(path) >= 2
        and isinstance(path[-1], int)
        and path[-2] in ("ingress", "egress")
        and key in ("podSelector", "namespaceSelector", "ipBlock")
    ):
        peers = "from" if path[-2] == "ingress" else "to"
        return f"{_json(key)} belongs to a peer: write it as a list entry under '{peers}:' ('- {key}:')"
    if (
        len(path) == 1
        and path[0] == "ciliumNetworkPolicy"
        and key in ("endpointSelector", "ingress", "egress")
    ):
        return f"{_json(key)} belongs under 'spec:' (ciliumNetworkPolicy.spec.{key})"
    return f"allowed keys here: {', '.join(allowed)}" if allowed else "remove it"


def _type_hint(path: Path, value: Any, expected: list[str]) -> str | None:
    last = path[-1] if path else None
    if (
        "boolean" in expected
        and isinstance(value, str)
        and value.lower() in ("true", "false", "yes", "no", "on", "off")
    ):
        return 'write true or false without quotes: Helm treats every non-empty string, even "false", as true'
    if last == "port" and isinstance(value, int) and "string" in expected and "integer" not in expected:
        return f"CiliumNetworkPolicy ports are strings: write port: {_json(str(value))}"
    if last in ("from", "to") and value is None and "array" in expected:
        return (
            f"'{last}:' has nothing under it: list the peers below it, each starting with '- ' "
            f"(leave '{last}' out to allow every peer)"
        )
    if last == "policies" and isinstance(value, list):
        return "policies maps a name to a policy: write 'my-policy:' with 'spec:' under it, not '- name: my-policy'"
    if last == "endPort" and isinstance(value, str) and _digits(value):
        return f"write endPort: {clip(value)} without quotes"
    return None


# ---------------------------------------------------------------- semantic checks


class _Checker:
    """Checks a schema cannot express. Walks defensively: the schema already reported shape errors."""

    def __init__(self, values: ValuesFile, shape: ChartShape = NEWEST) -> None:
        self.values = values
        self.shape = shape
        self.problems: list[Problem] = []
        #: values of template strings are only known once rendered (compute checks them then)
        self.templated = False
        #: inside a customResources entry of a chart without tpl: templates stay literal text
        self.literal_templates = False

    def add(
        self,
        path: Path,
        message: str,
        hint: str | None = None,
        *,
        severity: Severity = Severity.ERROR,
        key: bool = False,
    ) -> None:
        if self.templated and self.rendered_later(path):
            # A template's value is only known once rendered: compute checks the rendered entry.
            return
        if self.literal_templates and severity == Severity.ERROR and self.rendered_later(path):
            # Written as it is by a chart without tpl: Helm renders it, the API server refuses it.
            severity = Severity.WARNING
            message = f"{message} (the chart writes the template literally)"
            hint = (
                f"chart shape {self.shape.id} (image {self.shape.images}) writes customResources as they are: "
                "templates are rendered only from auto-deploy-image v2.91.0 on; write the value out"
            )
        self.problems.append(Problem(self.values.locate(path, key=key), path, message, hint, severity))

    def run(self, data: dict[str, Any]) -> list[Problem]:
        network = data.get("networkPolicy")
        if isinstance(network, dict):
            self.network_block(network, ("networkPolicy",))
            self.switches(network, ("networkPolicy",), ("defaultDeny", "suggested"))
        cilium = data.get("ciliumNetworkPolicy")
        if isinstance(cilium, dict):
            self.switches(cilium, ("ciliumNetworkPolicy",), ("alerts",))
            for key, policy in _items(cilium.get("policies")):
                if isinstance(policy, dict):
                    self.switches(policy, ("ciliumNetworkPolicy", "policies", key), ("alerts",))
            spec = cilium.get("spec")
            if isinstance(spec, dict):
                self.cilium_spec(spec, ("ciliumNetworkPolicy", "spec"))
            for key, policy in _items(cilium.get("policies")):
                if isinstance(policy, dict) and isinstance(policy.get("spec"), dict):
                    self.cilium_spec(policy["spec"], ("ciliumNetworkPolicy", "policies", key, "spec"))
        extra = data.get("extraLabels")
        if isinstance(extra, dict):
            self.labels(extra, ("extraLabels",))
            self.extra_labels(extra)
        if "customResources" in data:
            self.custom_resources(data["customResources"])
        return self.problems

    def rendered_later(self, path: Path) -> bool:
        """Whether the value at ``path``, or a sibling it is checked with, is a template."""
        node: Any = self.values.data
        parent: Any = None
        for element in path:
            parent = node
            found, node = step(node, element)
            if not found:
                return False
        return _has_templates(node) or (isinstance(parent, dict) and _has_templates(parent))

    # -- switches

    def switches(self, block: dict[str, Any], path: Path, children: tuple[str, ...]) -> None:
        """``enabled`` of the block and of the named children, read as Helm's ``if`` reads it."""
        self.switch(block, path)
        for child in children:
            if isinstance(block.get(child), dict):
                self.switch(block[child], (*path, child))
        if path == ("networkPolicy",):
            for key, policy in _items(block.get("policies")):
                if isinstance(policy, dict):
                    self.switch(policy, (*path, "policies", key))

    def switch(self, block: dict[str, Any], path: Path) -> None:
        if "enabled" not in block:
            return
        value = block["enabled"]
        where = (*path, "enabled")
        document = self.values.document
        if isinstance(value, bool) and (document is None or not document.spelled_booleans):
            return  # every boolean of the file is written true or false: no need to look (and compose)
        # a string's message quotes the value itself; a boolean's or number's, the text as written
        written = document.scalar(where) if document is not None and not isinstance(value, str) else None
        text = written[0] if written else str(value)
        if isinstance(value, bool):
            if written and not written[1] and text.lower() not in ("true", "false"):
                self.add(
                    where,
                    f"{clip(text)} is read by Helm as {str(value).lower()}, but only as YAML 1.1 reads it",
                    f"write {str(value).lower()}: other YAML readers (and YAML 1.2) take {clip(text)} for a string",
                    severity=Severity.WARNING,
                )
        elif isinstance(value, str):
            if value.strip().lower() in _FALSE_WORDS:
                self.add(
                    where,
                    f"the string {_json(value)} switches it ON: Helm reads every non-empty string as true",
                    "write false without quotes",
                )
            elif value == "":
                self.add(
                    where,
                    "the empty string is read by Helm as false",
                    "write false",
                    severity=Severity.WARNING,
                )
            else:
                self.add(
                    where,
                    f"the string {_json(value)} is read by Helm as true (every non-empty string is)",
                    "write true without quotes",
                    severity=Severity.WARNING,
                )
        elif isinstance(value, int | float):
            self.add(
                where,
                f"the number {clip(text)} is read by Helm as {'false' if value == 0 else 'true'}",
                f"write {'false' if value == 0 else 'true'}",
                severity=Severity.WARNING,
            )

    # -- extraLabels

    def extra_labels(self, extra: dict[Any, Any]) -> None:
        if not self.shape.shared_labels:
            self.add(
                ("extraLabels",),
                f"chart shape {self.shape.id} (image {self.shape.images}) has no extraLabels: they are ignored",
                "move to a newer auto-deploy-image, or label the pods another way",
                severity=Severity.WARNING,
                key=True,
            )
            return
        for key, value in extra.items():
            if str(key) not in CHART_LABEL_KEYS:
                continue
            self.add(
                ("extraLabels", key),
                f'"{key}" repeats a label the chart writes itself: Helm writes the key twice and keeps the '
                f"last ({_json(value)}) on the policies, the web Deployment and its pods (selectors on "
                f"the chart's {key} no longer match them); stricter YAML parsers reject the duplicate key",
                "use a label key of your own",
                severity=Severity.WARNING,
                key=True,
            )

    # -- customResources

    def custom_resources(self, entries: Any) -> None:
        path: Path = ("customResources",)
        if entries is None:
            return
        if not self.shape.custom_resources:
            self.add(
                path,
                f"chart shape {self.shape.id} (image {self.shape.images}) has no customResources: "
                "the chart ignores them and nothing of them is deployed",
                "use auto-deploy-image v2.51.0 or later (GitLab's Deploy template pins a newer one)",
                severity=Severity.WARNING,
                key=True,
            )
            return
        if isinstance(entries, dict):
            self.add(
                path,
                "customResources is a mapping: the chart ranges over its values in key order",
                "write a list ('- apiVersion: ...' entries)",
                severity=Severity.WARNING,
            )
            items = list(entries.items())
        elif isinstance(entries, list):
            items = list(enumerate(entries))
        else:
            return
        mappings = [(key, entry) for key, entry in items if isinstance(entry, dict)]
        for key, entry in items:
            if not isinstance(entry, dict):
                self.add(
                    (*path, key),
                    "a customResources entry must be a mapping (an object with apiVersion, kind, metadata)",
                    "write the object's fields under '- '",
                )
        if not self.shape.separator and len(mappings) > 1:
            last = mappings[-1][1]
            name = (
                (last.get("metadata") or {}).get("name") if isinstance(last.get("metadata"), dict) else None
            )
            self.add(
                path,
                f"chart shape {self.shape.id} (image {self.shape.images}) writes no '---' between "
                f"customResources entries: the {len(mappings)} entries run into ONE document whose keys "
                f"repeat, and Helm keeps the last of each: only {clip(str(last.get('kind')))} {clip(str(name))} is deployed, "
                "with the fields of the earlier entries it does not set",
                "use auto-deploy-image v2.80.1 or later, or keep one entry",
                severity=Severity.WARNING,
                key=True,
            )
        for key, entry in mappings:
            self.custom_resource(entry, (*path, key))

    def custom_resource(self, entry: dict[str, Any], path: Path) -> None:
        kind = entry.get("kind")
        templated_before, literal_before = self.templated, self.literal_templates
        self.templated = self.shape.tpl and _has_templates(entry)
        self.literal_templates = not self.shape.tpl and _has_templates(entry)
        try:
            if self.shape.tpl:
                for where, text in _template_strings(entry, path):
                    self.template_syntax(text, where)
            metadata = entry.get("metadata")
            if isinstance(metadata, dict):
                self.object_meta(metadata, (*path, "metadata"), kind)
            if kind not in CUSTOM_POLICY_KINDS:
                return
            if kind in CILIUM_POLICY_KINDS:
                if isinstance(entry.get("spec"), dict):
                    self.cilium_spec(entry["spec"], (*path, "spec"))
                for index, spec in _enumerate(entry.get("specs")):
                    if isinstance(spec, dict):
                        self.cilium_spec(spec, (*path, "specs", index))
                if "spec" not in entry and "specs" not in entry:
                    self.add(path, f"a {kind} needs spec or specs", None)
            elif isinstance(entry.get("spec"), dict):
                if kind == "NetworkPolicy":
                    self.network_spec(entry["spec"], (*path, "spec"), merges_with_default=False)
                else:
                    self.cluster_network_policy(entry["spec"], (*path, "spec"))
            elif "spec" not in entry and kind == "NetworkPolicy":
                self.add(
                    path,
                    "a NetworkPolicy without spec selects every pod of its namespace and denies all their ingress",
                    "give a spec (podSelector, policyTypes, ingress/egress)",
                    severity=Severity.WARNING,
                )
        finally:
            self.templated, self.literal_templates = templated_before, literal_before

    def template_syntax(self, text: str, path: Path) -> None:
        from . import tpl

        try:
            tpl.check_syntax(text)
        except tpl.TemplateError as error:
            self.problems.append(
                Problem(
                    self.values.locate(path),
                    path,
                    f"Helm cannot parse this template: {error}",
                    "fix the {{ ... }} action",
                )
            )
        except tpl.NotCovered as error:
            self.problems.append(
                Problem(
                    self.values.locate(path),
                    path,
                    f"uses {error}, which the tool's model of Helm's tpl does not evaluate: render, drift and "
                    "audit render this entry with real Helm (the helm CLI or helm-python-sdk) or refuse it",
                    None,
                    Severity.WARNING,
                )
            )

    def object_meta(self, metadata: dict[str, Any], path: Path, kind: Any) -> None:
        name = metadata.get("name")
        if isinstance(name, str) and (not name or len(name) > 253 or not _DNS_SUBDOMAIN.match(name)):
            self.add(
                (*path, "name"),
                f"{_json(name)} is not a valid object name: the API server rejects the object and the "
                "deploy fails",
                "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
            )
        namespace = metadata.get("namespace")
        if namespace is not None and kind in CLUSTER_SCOPED_POLICY_KINDS:
            self.add(
                (*path, "namespace"),
                f"a {kind} is cluster-scoped: its namespace is ignored",
                "remove metadata.namespace",
                severity=Severity.WARNING,
            )
        elif isinstance(namespace, str) and (
            not namespace or len(namespace) > 63 or not DNS_LABEL_RE.match(namespace)
        ):
            self.add((*path, "namespace"), f"{_json(namespace)} is not a valid namespace name", None)
        if isinstance(metadata.get("labels"), dict):
            self.labels(metadata["labels"], (*path, "labels"))

    # -- ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2)

    def cluster_network_policy(self, spec: dict[str, Any], path: Path) -> None:
        subject = spec.get("subject")
        if isinstance(subject, dict):
            self.cnp_peer(subject, (*path, "subject"))
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for index, rule in _enumerate(spec.get(direction)):
                if not isinstance(rule, dict):
                    continue
                rule_path = (*path, direction, index)
                named = False
                for port_index, protocol in _enumerate(rule.get("protocols")):
                    if not isinstance(protocol, dict):
                        continue
                    where = (*rule_path, "protocols", port_index)
                    if isinstance(protocol.get("destinationNamedPort"), str):
                        named = True
                        self.port_name(protocol["destinationNamedPort"], (*where, "destinationNamedPort"))
                    for name in ("tcp", "udp", "sctp"):
                        port = (
                            protocol.get(name, {}).get("destinationPort")
                            if isinstance(protocol.get(name), dict)
                            else None
                        )
                        span = port.get("range") if isinstance(port, dict) else None
                        if (
                            isinstance(span, dict)
                            and isinstance(span.get("start"), int)
                            and isinstance(span.get("end"), int)
                            and span["start"] >= span["end"]
                        ):
                            self.add(
                                (*where, name, "destinationPort", "range"),
                                f"start {span['start']} must be less than end {span['end']}",
                                "for one port write number: instead of range:",
                            )
                for peer_index, peer in _enumerate(rule.get(peers_key)):
                    if not isinstance(peer, dict):
                        continue
                    peer_path = (*rule_path, peers_key, peer_index)
                    self.cnp_peer(peer, peer_path)
                    for cidr_index, cidr in _enumerate(peer.get("networks")):
                        if isinstance(cidr, str):
                            self.cidr(cidr, (*peer_path, "networks", cidr_index))
                    if named and any(key in peer for key in ("networks", "nodes", "domainNames")):
                        self.add(
                            peer_path,
                            "networks, nodes and domainNames peers cannot be combined with "
                            "destinationNamedPort (they have no named ports)",
                            "use destination port numbers, or a pods/namespaces peer",
                        )

    def cnp_peer(self, peer: dict[str, Any], path: Path) -> None:
        for key in ("namespaces", "nodes"):
            if isinstance(peer.get(key), dict):
                self.selector(peer[key], (*path, key))
        pods = peer.get("pods")
        if isinstance(pods, dict):
            for key in ("namespaceSelector", "podSelector"):
                if isinstance(pods.get(key), dict):
                    self.selector(pods[key], (*path, "pods", key))

    # -- NetworkPolicy

    def network_block(self, block: dict[str, Any], path: Path) -> None:
        spec = block.get("spec")
        if isinstance(spec, dict):
            self.network_spec(spec, (*path, "spec"), merges_with_default=True)
        for key, policy in _items(block.get("policies")):
            if isinstance(policy, dict) and isinstance(policy.get("spec"), dict):
                self.network_spec(policy["spec"], (*path, "policies", key, "spec"), merges_with_default=False)

    def network_spec(self, spec: dict[str, Any], path: Path, *, merges_with_default: bool) -> None:
        if isinstance(spec.get("podSelector"), dict):
            self.selector(spec["podSelector"], (*path, "podSelector"))
        types = spec.get("policyTypes")
        if isinstance(types, list):
            for direction, type_name in (("ingress", "Ingress"), ("egress", "Egress")):
                if spec.get(direction) and type_name not in types:
                    self.add(
                        (*path, direction),
                        f"{direction} rules are ignored because policyTypes does not list {type_name}",
                        f"add {type_name} to policyTypes, or remove the {direction} rules",
                    )
        # Without its own 'ingress', the spec inherits the chart's rule whatever policyTypes says
        # (unless policyTypes leaves Ingress out, and then no ingress rule applies at all).
        if (
            merges_with_default
            and spec
            and "ingress" not in spec
            and (not isinstance(types, list) or "Ingress" in types)
        ):
            self.add(
                path,
                "this spec merges with the chart's default spec, so the chart's namespace-wide ingress rule "
                "stays in effect",
                "set 'ingress:' explicitly (or 'ingress: null' to drop the default rule)",
                severity=Severity.WARNING,
            )
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for index, rule in _enumerate(spec.get(direction)):
                if not isinstance(rule, dict):
                    continue
                rule_path = (*path, direction, index)
                for peer_index, peer in _enumerate(rule.get(peers_key)):
                    if isinstance(peer, dict):
                        self.network_peer(peer, (*rule_path, peers_key, peer_index))
                for port_index, port in _enumerate(rule.get("ports")):
                    if isinstance(port, dict):
                        self.network_port(port, (*rule_path, "ports", port_index))

    def network_peer(self, peer: dict[str, Any], path: Path) -> None:
        if not peer:
            self.add(
                path,
                "an empty peer ({}) is rejected by the API server",
                "give podSelector, namespaceSelector or ipBlock",
            )
            return
        if "ipBlock" in peer and ("podSelector" in peer or "namespaceSelector" in peer):
            self.add(
                path,
                "ipBlock cannot be combined with podSelector or namespaceSelector in one peer",
                "split it into two list entries (each '- ' is a separate peer)",
            )
        for selector_key in ("podSelector", "namespaceSelector"):
            if isinstance(peer.get(selector_key), dict):
                self.selector(peer[selector_key], (*path, selector_key))
        block = peer.get("ipBlock")
        if isinstance(block, dict) and isinstance(block.get("cidr"), str):
            self.cidr_with_except(block["cidr"], block.get("except"), (*path, "ipBlock"))

    def network_port(self, port: dict[str, Any], path: Path) -> None:
        number = _whole(port.get("port"))
        end = _whole(port.get("endPort"))
        if isinstance(number, bool):
            return
        if isinstance(number, int):
            self.port_number(number, (*path, "port"))
        elif isinstance(number, str):
            if _digits(number):
                self.add(
                    (*path, "port"),
                    f"port {_json(number)} is a quoted number, read as a port name",
                    f"write port: {clip(number)} without quotes",
                )
            else:
                self.port_name(number, (*path, "port"))
        if isinstance(end, int) and not isinstance(end, bool):
            if number is None:
                self.add(
                    (*path, "endPort"),
                    "endPort needs a port to start the range",
                    "add 'port:' with the first port",
                )
            elif isinstance(number, str):
                self.add(
                    (*path, "endPort"),
                    "endPort cannot be used with a named port",
                    "use a port number for ranges",
                )
            elif isinstance(number, int):
                self.port_range_end(number, end, (*path, "endPort"))

    # -- CiliumNetworkPolicy

    def cilium_spec(self, spec: dict[str, Any], path: Path) -> None:
        if "endpointSelector" in spec and "nodeSelector" in spec:
            self.add(path, "give either endpointSelector or nodeSelector, not both", None)
        for key in ("endpointSelector", "nodeSelector"):
            if isinstance(spec.get(key), dict):
                self.selector(spec[key], (*path, key), cilium=True)
        for direction in ("ingress", "ingressDeny", "egress", "egressDeny"):
            prefix = "from" if direction.startswith("ingress") else "to"
            for index, rule in _enumerate(spec.get(direction)):
                if isinstance(rule, dict):
                    self.cilium_rule(rule, (*path, direction, index), prefix)

    def cilium_rule(self, rule: dict[str, Any], path: Path, prefix: str) -> None:
        for key in (f"{prefix}Endpoints", f"{prefix}Requires", f"{prefix}Nodes"):
            for index, selector in _enumerate(rule.get(key)):
                if isinstance(selector, dict):
                    self.selector(selector, (*path, key, index), cilium=True)
        for index, cidr in _enumerate(rule.get(f"{prefix}CIDR")):
            if isinstance(cidr, str):
                self.cidr(cidr, (*path, f"{prefix}CIDR", index))
        for index, entry in _enumerate(rule.get(f"{prefix}CIDRSet")):
            if isinstance(entry, dict):
                entry_path = (*path, f"{prefix}CIDRSet", index)
                if isinstance(entry.get("cidr"), str):
                    self.cidr_with_except(entry["cidr"], entry.get("except"), entry_path)
                elif "cidrGroupRef" not in entry and "cidrGroupSelector" not in entry:
                    self.add(
                        entry_path, "a CIDRSet entry needs cidr, cidrGroupRef or cidrGroupSelector", None
                    )
        for index, fqdn in _enumerate(rule.get("toFQDNs")):
            if isinstance(fqdn, dict) and not fqdn.get("matchName") and not fqdn.get("matchPattern"):
                self.add((*path, "toFQDNs", index), "needs matchName or matchPattern", None)
        for index, port_rule in _enumerate(rule.get("toPorts")):
            if not isinstance(port_rule, dict):
                continue
            for port_index, port in _enumerate(port_rule.get("ports")):
                if isinstance(port, dict):
                    self.cilium_port(port, (*path, "toPorts", index, "ports", port_index))

    def cilium_port(self, port: dict[str, Any], path: Path) -> None:
        number = port.get("port")
        if not isinstance(number, str):
            return
        value = ascii_int(number)
        if value is not None:
            if value == 0:
                start = None  # Cilium: port "0" means every port
            else:
                self.port_number(value, (*path, "port"))
                start = value
            end = port.get("endPort")
            if isinstance(end, int) and not isinstance(end, bool) and start is not None:
                self.port_range_end(start, end, (*path, "endPort"))
        else:
            self.port_name(number, (*path, "port"))

    # -- shared pieces

    def port_number(self, number: int, path: Path) -> None:
        if not 1 <= number <= 65535:
            self.add(
                path,
                f"port {self.written(path, number)} is outside 1–65535",
                "use a port number from 1 to 65535",
            )

    def written(self, path: Path, value: Any) -> str:
        """``value`` as the file writes it (a number Helm reads as a float keeps its digits)."""
        scalar = self.values.document.scalar(path) if self.values.document is not None else None
        return clip(scalar[0] if scalar and not scalar[1] else str(value))

    def port_range_end(self, start: int, end: int, path: Path) -> None:
        if end > 65535:
            self.add(path, f"endPort {clip(str(end))} is outside 1–65535", None)
        elif end < start:
            self.add(
                path,
                f"endPort {end} is smaller than port {start}",
                "endPort is the last port of the range: it must be >= port",
            )

    def port_name(self, name: str, path: Path) -> None:
        if not (
            len(name) <= 15 and _PORT_NAME.match(name) and "--" not in name and any(c.isalpha() for c in name)
        ):
            self.add(
                path,
                f"{_json(name)} is not a valid port name",
                "a port name is at most 15 characters of a-z, 0-9 and '-', with at least one letter, "
                "no leading, trailing or double '-' (or use a number 1–65535)",
            )

    def cidr(self, text: str, path: Path) -> ipaddress.IPv4Network | ipaddress.IPv6Network | _IPv4Network | None:
        network, canonical = _network(text)
        if network is None:
            self.add(
                path,
                f"{_json(text)} is not a valid CIDR",
                "write an address and prefix length, e.g. 10.0.0.0/8",
            )
            return None
        if "/" not in text:
            self.add(path, f"{_json(text)} has no prefix length", f"write {network.with_prefixlen}")
            return None
        if canonical != text:
            self.add(
                path,
                f"{_json(text)} is not in canonical form",
                f"write {network}: the canonical form is the network address (all host bits zero) with its "
                "prefix length, as the API server and every other tool print it",
            )
        return network

    def cidr_with_except(self, cidr: str, excepts: Any, path: Path) -> None:
        network = self.cidr(cidr, (*path, "cidr"))
        for index, text in _enumerate(excepts):
            if not isinstance(text, str):
                continue
            inner = self.cidr(text, (*path, "except", index))
            if network is None or inner is None:
                continue
            if not _inside(text, cidr):
                self.add(
                    (*path, "except", index),
                    f"{text} is not inside {network}",
                    "except ranges must lie within cidr",
                )
            elif inner.prefixlen == network.prefixlen:
                self.add(
                    (*path, "except", index),
                    f"{text} excludes the whole of {network}",
                    "remove the peer instead",
                )

    def selector(self, selector: dict[str, Any], path: Path, *, cilium: bool = False) -> None:
        labels = selector.get("matchLabels")
        if isinstance(labels, dict):
            self.labels(labels, (*path, "matchLabels"), cilium=cilium)
        for index, requirement in _enumerate(selector.get("matchExpressions")):
            if not isinstance(requirement, dict):
                continue
            req_path = (*path, "matchExpressions", index)
            if isinstance(requirement.get("key"), str):
                self.label_key(requirement["key"], (*req_path, "key"), cilium=cilium, key_position=False)
            operator = requirement.get("operator")
            values = requirement.get("values")
            if operator in ("In", "NotIn") and not values:
                self.add(req_path, f"operator {operator} needs a non-empty values list", None)
            if operator in ("Exists", "DoesNotExist") and values:
                self.add((*req_path, "values"), f"operator {operator} takes no values", "remove 'values:'")
            for value_index, value in _enumerate(values):
                if isinstance(value, str):
                    self.label_value(value, (*req_path, "values", value_index))

    def labels(self, labels: dict[Any, Any], path: Path, *, cilium: bool = False) -> None:
        for key, value in labels.items():
            self.label_key(str(key), (*path, key), cilium=cilium, key_position=True)
            if isinstance(value, str):
                self.label_value(value, (*path, key))
            elif value is None:
                self.add((*path, key), "label value is null", 'write an empty string "" or a value')
            else:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                self.add(
                    (*path, key),
                    f"label value must be a string, not {_describe(value)}",
                    f'quote it: "{text}"',
                )

    def label_key(self, key: str, path: Path, *, cilium: bool, key_position: bool) -> None:
        name = key
        if cilium:
            for source in _CILIUM_SOURCES:
                if name.startswith(source):
                    name = name[len(source) :]
                    break
        prefix, slash, rest = name.rpartition("/")
        if slash:
            if not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix):
                self.add(
                    path,
                    f"label key prefix {_json(prefix)} is not a DNS subdomain",
                    "a prefix is lowercase letters, digits, '-' and '.', at most 253 characters",
                    key=key_position,
                )
                return
            name = rest
        if not name or len(name) > 63 or not _LABEL_NAME.match(name):
            self.add(
                path,
                f"label key {_json(key)} is not valid",
                "the name part is at most 63 characters of letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit",
                key=key_position,
            )

    def label_value(self, value: str, path: Path) -> None:
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            self.add(
                path,
                f"label value {_json(value)} is not valid",
                "at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter "
                "or digit (or empty)",
            )


class _IPv4Network:
    """A canonical IPv4 CIDR as far as the checks use one (``prefixlen``, ``version``,
    ``subnet_of``, ``str``): what most values files hold, read without importing ipaddress
    (~2 ms of a ~40 ms validate, issue 18). Anything else is ipaddress's to read."""

    __slots__ = ("address", "prefixlen", "text")
    version = 4

    def __init__(self, text: str, address: int, prefixlen: int) -> None:
        self.text = text
        self.address = address
        self.prefixlen = prefixlen

    def __str__(self) -> str:
        return self.text

    @property
    def with_prefixlen(self) -> str:
        return self.text

    @property
    def broadcast(self) -> int:
        return self.address | ((1 << (32 - self.prefixlen)) - 1)

    def subnet_of(self, other: _IPv4Network) -> bool:
        return other.address <= self.address and self.broadcast <= other.broadcast


_DIGITS = frozenset("0123456789")


def _canonical_ipv4(text: str) -> _IPv4Network | None:
    """``text`` when it is a canonical IPv4 CIDR (``10.20.0.0/16``: four decimal octets without
    leading zeros, a prefix length 0-32 without one, no host bits set); ``None`` otherwise (also
    for every text ipaddress reads differently, which then decides)."""
    address_text, slash, prefix_text = text.partition("/")
    parts = address_text.split(".")
    if not slash or len(parts) != 4:
        return None
    address = 0
    for part in (*parts, prefix_text):
        if not part or len(part) > 3 or not _DIGITS.issuperset(part) or (part[0] == "0" and part != "0"):
            return None
    for part in parts:
        octet = int(part)
        if octet > 255:
            return None
        address = address << 8 | octet
    prefixlen = int(prefix_text)
    if prefixlen > 32 or address & ((1 << (32 - prefixlen)) - 1):
        return None
    return _IPv4Network(text, address, prefixlen)


@cache
def _network(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network | _IPv4Network | None, str]:
    """``text`` as a network (host bits allowed) and its canonical form, or ``(None, "")``.

    Cached: big files repeat their CIDRs, and parsing one costs more than every other check of a peer.
    """
    fast = _canonical_ipv4(text)
    if fast is not None:
        return fast, text
    import ipaddress

    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None, ""
    return network, str(network)


@cache
def _inside(inner: str, outer: str) -> bool:
    """Whether the (valid) CIDR ``inner`` lies within ``outer``."""
    small, large = _network(inner)[0], _network(outer)[0]
    assert small is not None and large is not None
    if isinstance(small, _IPv4Network) and isinstance(large, _IPv4Network):
        return small.subnet_of(large)
    if isinstance(small, _IPv4Network) or isinstance(large, _IPv4Network):
        import ipaddress  # one of each kind: ipaddress compares them

        small, large = (
            ipaddress.ip_network(str(net)) if isinstance(net, _IPv4Network) else net for net in (small, large)
        )
    return small.version == large.version and small.subnet_of(large)  # type: ignore[arg-type, union-attr]


def _whole(value: Any) -> Any:
    """A number Helm reads as a float (``8.0``, ``1e3``, beyond 64 bits) that is a whole number,
    as the integer it stands for; anything else as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _has_templates(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(_has_templates(k) or _has_templates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_templates(item) for item in value)
    return False


def _template_strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every string (keys too) holding a template, with its path."""
    if isinstance(value, str):
        if "{{" in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "{{" in key:
                yield (*path, key), key
            yield from _template_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _template_strings(item, (*path, index))


def _enumerate(value: Any) -> Iterator[tuple[int, Any]]:
    if isinstance(value, list):
        yield from enumerate(value)


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key), item
