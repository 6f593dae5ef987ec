"""Validate the network-policy blocks of a values file: JSON Schema plus what a schema cannot say.

Every problem is reported at once, each with file:line:column, the path inside the file and a
hint. The schema (``schemas/netpol-values.schema.json``) covers structure and types; the checks
here cover CIDR validity and canonical form, port numbers and names, ``endPort``, label syntax,
selector operators, peers the API server rejects, and rules Kubernetes would silently ignore.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import Location, Severity
from ..sources.yamlio import Path, format_path
from ..text import ascii_digits as _digits
from .merge import drop_nulls
from .values import ValuesFile

_SCHEMA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "schemas", "netpol-values.schema.json"
)

#: Top-level keys of the values file that this tool checks (the rest belongs to the chart).
CHECKED_KEYS = ("networkPolicy", "ciliumNetworkPolicy", "extraLabels", "releaseOverride", "nameOverride")

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
#: Cilium label sources that may prefix a selector key (``k8s:app``, ``any:app``).
_CILIUM_SOURCES = ("k8s:", "any:", "reserved:", "cidr:", "fqdn:", "container:", "unspec:", "cilium:")


@dataclass(frozen=True)
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


@cache
def values_schema() -> dict[str, Any]:
    """The JSON Schema of the blocks, shipped with the package."""
    # A plain file read: importlib.resources would pull in tempfile, shutil, zipfile … at start-up.
    with open(_SCHEMA_FILE, encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def validate_values(values: ValuesFile) -> list[Problem]:
    """Every problem in the file's network-policy blocks, errors and warnings, in file order."""
    blocks = {key: values.data[key] for key in CHECKED_KEYS if key in values.data}
    # A null deletes a key in Helm (it switches off a chart default), so it is never a type error.
    problems = list(_schema_problems(values, drop_nulls(blocks)))
    # The semantic checks see the nulls: 'ingress: null' is how a user drops the chart's default
    # rule, and a null label value is a forgotten value (dropping it would widen the selector).
    problems.extend(_Checker(values).run(blocks))
    problems.extend(_misspelt_blocks(values))
    network = values.data.get("networkPolicy")
    if isinstance(network, dict) and "spec" in network and network["spec"] is None:
        problems.append(
            Problem(
                values.locate(("networkPolicy", "spec")),
                ("networkPolicy", "spec"),
                "spec is null, which removes it: the chart would render a policy without a spec",
                "leave spec out to get the suggested policy, or give a spec",
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
        close = difflib.get_close_matches(key, blocks, n=1, cutoff=0.85)
        if close:
            yield Problem(
                values.locate((key,), key=True),
                (key,),
                f"unknown top-level key {json.dumps(key)}: the chart ignores it, so this block is never deployed",
                f"did you mean {json.dumps(close[0])}?",
            )


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


# ---------------------------------------------------------------- schema problems


def _schema_problems(values: ValuesFile, instance: dict[str, Any]) -> Iterator[Problem]:
    # Imported here, not at module level: only validation needs it, and it is ~100 ms of start-up.
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(values_schema())
    for error in validator.iter_errors(instance):
        yield from _explain(values, error)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
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
                f"unknown key {json.dumps(str(key))}",
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
        options = [str(option) for option in error.validator_value]
        close = [o for o in options if str(error.instance).lower() == o.lower()] or difflib.get_close_matches(
            str(error.instance), options, n=1
        )
        hint = f"did you mean {json.dumps(close[0])}?" if close else f"use one of: {', '.join(options)}"
        yield Problem(location, path, f"{_describe(error.instance)} is not allowed here", hint)
    elif kind == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        for key in missing:
            yield Problem(location, path, f"missing required key {json.dumps(key)}", None)
    elif kind == "uniqueItems":
        yield Problem(location, path, "lists the same entry more than once", "remove the duplicate")
    elif kind == "maxItems":
        yield Problem(location, path, f"has more than {error.validator_value} entries", None)
    elif kind in ("pattern", "maxLength") and path[-1:] == ("policies",):
        key_path = (*path, error.instance)
        yield Problem(
            values.locate(key_path, key=True),
            key_path,
            f"policy name {json.dumps(error.instance)} is not a lowercase DNS label of at most 50 characters",
            "use lowercase letters, digits and '-', starting and ending with a letter or digit",
        )
    else:
        yield Problem(location, path, error.message, None)


def _unknown_key_hint(key: str, allowed: list[str], path: Path) -> str:
    by_case = [a for a in allowed if a.lower() == key.lower()]
    close = by_case or difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean {json.dumps(close[0])}?"
    if (
        len(path) == 1
        and path[0] == "networkPolicy"
        and key in ("podSelector", "ingress", "egress", "policyTypes")
    ):
        return f"{json.dumps(key)} belongs under 'spec:' (networkPolicy.spec.{key})"
    if path[:1] == ("networkPolicy",) and key == "endpointSelector":
        return "endpointSelector is CiliumNetworkPolicy's; a NetworkPolicy selects pods with spec.podSelector"
    if (
        len(path) >= 2
        and isinstance(path[-1], int)
        and path[-2] in ("ingress", "egress")
        and key in ("podSelector", "namespaceSelector", "ipBlock")
    ):
        peers = "from" if path[-2] == "ingress" else "to"
        return f"{json.dumps(key)} belongs to a peer: write it as a list entry under '{peers}:' ('- {key}:')"
    if (
        len(path) == 1
        and path[0] == "ciliumNetworkPolicy"
        and key in ("endpointSelector", "ingress", "egress")
    ):
        return f"{json.dumps(key)} belongs under 'spec:' (ciliumNetworkPolicy.spec.{key})"
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
        return f'CiliumNetworkPolicy ports are strings: write port: "{value}"'
    if last in ("from", "to") and value is None and "array" in expected:
        return (
            f"'{last}:' has nothing under it: list the peers below it, each starting with '- ' "
            f"(leave '{last}' out to allow every peer)"
        )
    if last == "policies" and isinstance(value, list):
        return "policies maps a name to a policy: write 'my-policy:' with 'spec:' under it, not '- name: my-policy'"
    if last == "endPort" and isinstance(value, str) and _digits(value):
        return f"write endPort: {value} without quotes"
    return None


# ---------------------------------------------------------------- semantic checks


class _Checker:
    """Checks a schema cannot express. Walks defensively: the schema already reported shape errors."""

    def __init__(self, values: ValuesFile) -> None:
        self.values = values
        self.problems: list[Problem] = []

    def add(
        self, path: Path, message: str, hint: str | None = None, *, severity: Severity = Severity.ERROR, key: bool = False
    ) -> None:
        self.problems.append(Problem(self.values.locate(path, key=key), path, message, hint, severity))

    def run(self, data: dict[str, Any]) -> list[Problem]:
        network = data.get("networkPolicy")
        if isinstance(network, dict):
            self.network_block(network, ("networkPolicy",))
        cilium = data.get("ciliumNetworkPolicy")
        if isinstance(cilium, dict):
            spec = cilium.get("spec")
            if isinstance(spec, dict):
                self.cilium_spec(spec, ("ciliumNetworkPolicy", "spec"))
            for key, policy in _items(cilium.get("policies")):
                if isinstance(policy, dict) and isinstance(policy.get("spec"), dict):
                    self.cilium_spec(policy["spec"], ("ciliumNetworkPolicy", "policies", key, "spec"))
        extra = data.get("extraLabels")
        if isinstance(extra, dict):
            self.labels(extra, ("extraLabels",))
        return self.problems

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
        number = port.get("port")
        end = port.get("endPort")
        if isinstance(number, bool):
            return
        if isinstance(number, int):
            self.port_number(number, (*path, "port"))
        elif isinstance(number, str):
            if _digits(number):
                self.add(
                    (*path, "port"),
                    f"port {json.dumps(number)} is a quoted number, read as a port name",
                    f"write port: {number} without quotes",
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
        if _digits(number):
            value = int(number)
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
            self.add(path, f"port {number} is outside 1–65535", "use a port number from 1 to 65535")

    def port_range_end(self, start: int, end: int, path: Path) -> None:
        if end > 65535:
            self.add(path, f"endPort {end} is outside 1–65535", None)
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
                f"{json.dumps(name)} is not a valid port name",
                "a port name is at most 15 characters of a-z, 0-9 and '-', with at least one letter, "
                "no leading, trailing or double '-' (or use a number 1–65535)",
            )

    def cidr(self, text: str, path: Path) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            self.add(
                path,
                f"{json.dumps(text)} is not a valid CIDR",
                "write an address and prefix length, e.g. 10.0.0.0/8",
            )
            return None
        if "/" not in text:
            self.add(path, f"{json.dumps(text)} has no prefix length", f"write {network.with_prefixlen}")
            return None
        if str(network) != text:
            self.add(
                path,
                f"{json.dumps(text)} is not in canonical form",
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
            if inner.version != network.version or not inner.subnet_of(network):  # type: ignore[arg-type]
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
                    f"label key prefix {json.dumps(prefix)} is not a DNS subdomain",
                    "a prefix is lowercase letters, digits, '-' and '.', at most 253 characters",
                    key=key_position,
                )
                return
            name = rest
        if not name or len(name) > 63 or not _LABEL_NAME.match(name):
            self.add(
                path,
                f"label key {json.dumps(key)} is not valid",
                "the name part is at most 63 characters of letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit",
                key=key_position,
            )

    def label_value(self, value: str, path: Path) -> None:
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            self.add(
                path,
                f"label value {json.dumps(value)} is not valid",
                "at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter "
                "or digit (or empty)",
            )


def _enumerate(value: Any) -> Iterator[tuple[int, Any]]:
    if isinstance(value, list):
        yield from enumerate(value)


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key), item
