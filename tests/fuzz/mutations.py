"""Malformed inputs, generated: valid seeds broken structurally (types, keys, nesting, sizes) and
byte-wise (truncation, garbage, encodings), for every kind of file the tool reads."""

from __future__ import annotations

import copy
import gzip
import json
import random
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
#: An integer of thousands of digits is generated as a marker and written as bare digits by
#: dump_yaml/dump_json: Python refuses to convert such an int to text, and raising that limit here
#: would raise it for the whole test session (the tool's own tests rely on it).
_HUGE = re.compile(r"""(['"]?)@@HUGE(\d+)@@\1""")


def _expand_huge(text: str) -> str:
    return _HUGE.sub(lambda match: "9" * int(match.group(2)), text)


def _yaml_all(path: Path) -> list[Any]:
    try:
        documents = yaml.load_all(path.read_text(encoding="utf-8-sig"), Loader=yaml.CSafeLoader)
        return [doc for doc in documents if doc is not None]
    except yaml.YAMLError:  # a seed PyYAML refuses (e.g. a tab the tool reads) is not a seed
        return []


VALUES_SEEDS: list[dict[str, Any]] = [
    doc
    for path in [
        ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml",
        *sorted((ROOT / "tests" / "fixtures" / "good-values").glob("*.yaml")),
        *sorted((ROOT / "tests" / "fixtures" / "values").glob("*.yaml")),
    ]
    for doc in _yaml_all(path)[:1]
    if isinstance(doc, dict) and doc
]

MANIFEST_SEED_FILES = [
    ROOT / "examples" / "shop" / "live-snapshot.yaml",
    ROOT / "tests" / "fixtures" / "drift" / "desired.yaml",
    ROOT / "tests" / "fixtures" / "drift" / "live-drift.yaml",
    ROOT / "tests" / "data" / "audit" / "live.yaml",
    ROOT / "tests" / "data" / "audit" / "desired.yaml",
    *sorted((ROOT / "tests" / "fixtures" / "ownership").glob("*.yaml")),
]
MANIFEST_SEEDS: list[list[Any]] = [docs for docs in (_yaml_all(path) for path in MANIFEST_SEED_FILES) if docs]

def _json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


HUBBLE_LINES = [
    line
    for line in (ROOT / "tests" / "data" / "audit" / "hubble-flows.jsonl").read_bytes().splitlines()
    if _json_object(line)
]
CSV_LINES = [
    b"src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port,time,verdict",
    b"shop,app=web;tier=frontend,shop,app=api,,TCP,8080,2026-11-20T10:00:00Z,FORWARDED",
    b"shop,app=api,,,93.184.216.34,tcp,443,,",
    b",reserved:host,shop,k8s:app=api,,6,8080,,",
    b"shop,app=web,kube-system,k8s-app=kube-dns,,UDP,53,,",
]

#: CSV lines of pods of release ``web`` in namespace ``shop``, which ``suggest --from-flows`` learns from.
LEARN_LINES = Path(__file__).with_name("learn-flows.csv").read_bytes().splitlines()

# --- values that break assumptions -----------------------------------------------------------------


def _nest(depth: int, leaf: Any = 1) -> Any:
    value: Any = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "-", "*", "0.0.0.0/0", "::/0", "10.0.0.1/33", "k8s:app", "reserved:world", "TCP", "SCTP"]),
    st.dates(),
    st.datetimes(),
)
NASTY = st.one_of(
    SCALARS,
    st.just([]),
    st.just({}),
    st.integers(min_value=40, max_value=250).map(_nest),
    st.integers(min_value=4400, max_value=6000).map(lambda digits: f"@@HUGE{digits}@@"),
    st.text(alphabet="\x00\x01\x1b\x7f\u0085\u2028\ufeff|`<>@#!~%$/\n\r\t\\\"'", max_size=40),
    st.text(min_size=1, max_size=3).map(lambda unit: unit * 50_000),
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=10,
    ),
)
#: Mapping keys YAML does not read as strings (and a few strings that look like them).
NASTY_KEYS = st.one_of(
    st.dates(),
    st.floats(allow_nan=False, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(["2024-01-01", "1.5", "yes", "on", "~", "", "<<", "a\nb", "|x", "@all", "/approve"]),
)


def _places(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) inside ``data``, to choose where to break it."""
    found: list[tuple[Any, Any]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                found.append((node, key))
                stack.append(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found.append((node, index))
                stack.append(value)
    return found


@st.composite
def broken_structure(draw: st.DrawFn, seed: Any) -> Any:
    """``seed`` (a deep copy) with 1-4 places retyped, re-keyed, dropped or duplicated."""
    data = json.loads(json.dumps(seed, default=str))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        places = _places(data)
        if not places:
            return draw(NASTY)
        container, key = places[draw(st.integers(min_value=0, max_value=len(places) - 1))]
        action = draw(st.sampled_from(["retype", "rekey", "drop", "duplicate", "wrap"]))
        if action == "retype":
            container[key] = draw(NASTY)
        elif action == "rekey" and isinstance(container, dict):
            container[draw(NASTY_KEYS)] = container.pop(key)
        elif action == "drop":
            del container[key]
        elif action == "duplicate" and isinstance(container, list):
            container.append(copy.deepcopy(container[key]))  # keys may be dates (a rekey drew one)
        elif action == "wrap":
            container[key] = draw(st.sampled_from([[container[key]], {"x": container[key]}]))
    return data


def dump_yaml(documents: list[Any]) -> str:
    try:
        return _expand_huge(yaml.dump_all(documents, allow_unicode=True, sort_keys=False, width=10_000))
    except (yaml.YAMLError, TypeError, ValueError, RecursionError):
        return _expand_huge(json.dumps(documents, default=str))


def dump_json(document: Any, *, pad_to: int = 0) -> str:
    """JSON text of ``document``; ``pad_to`` bytes pushes it past the fast-path threshold."""
    if pad_to and isinstance(document, dict):
        document = {"zzPadding": "x" * pad_to, **document}
    try:
        return _expand_huge(json.dumps(document, default=str, allow_nan=True))
    except (TypeError, ValueError, RecursionError):
        return json.dumps(str(document))


# --- byte-level damage --------------------------------------------------------------------------

TOKENS = [
    ":", ": ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "!!python/object:os.system ", "!!binary ",
    "'", '"', "#", "\t", "---\n", "...\n", "? ", "|", ">", "%YAML 1.1\n", "~", "\n", "\n  ", "\\u0000",
    "2024-01-01", "0000-00-00", "1e400", ".nan", "9" * 5000, "\x00", "\x85", "\ufeff", "\u2028",
]  # fmt: skip


@st.composite
def damaged_bytes(draw: st.DrawFn, text: bytes) -> bytes:
    """``text`` truncated, with garbage inserted, a range dropped, or re-encoded."""
    action = draw(st.sampled_from(["truncate", "insert", "drop", "tabs", "utf16", "latin1", "nul", "repeat"]))
    if not text:
        return draw(st.binary(max_size=200))
    at = draw(st.integers(min_value=0, max_value=len(text)))
    if action == "truncate":
        return text[:at]
    if action == "insert":
        garbage = draw(st.one_of(st.binary(max_size=40), st.sampled_from(TOKENS).map(str.encode)))
        return text[:at] + garbage + text[at:]
    if action == "drop":
        end = draw(st.integers(min_value=at, max_value=min(len(text), at + 200)))
        return text[:at] + text[end:]
    if action == "tabs":
        return text.replace(b"  ", b"\t", draw(st.integers(min_value=1, max_value=5)))
    if action == "utf16":
        return text.decode("utf-8", "replace").encode("utf-16")
    if action == "latin1":
        return text.decode("utf-8", "replace").encode("latin-1", "replace") + b"\xe9\xff"
    if action == "nul":
        return text[:at] + b"\x00" + text[at:]
    line = (text.splitlines(keepends=True)[:1] or [text])[0]
    # a line many times over, at most a few MiB (the size limits have tests of their own)
    return line * min(draw(st.integers(min_value=2, max_value=2000)), max(2, 4_000_000 // max(len(line), 1)))


# --- flow files ---------------------------------------------------------------------------------

_TIMES = st.one_of(
    st.sampled_from(
        [
            "",
            "9999-12-31T23:59:59-14:00",
            "0000-01-01T00:00:00Z",
            "2024-13-45T99:99:99Z",
            "2024-01-01T00:00:00.1234567890123Z",
            "x" * 30,
        ]
    ),
    st.fixed_dictionaries(
        {
            "seconds": st.integers(min_value=-(2**66), max_value=2**66),
            "nanos": st.integers(min_value=-(2**40), max_value=2**40),
        }
    ),
)
HUBBLE_NASTY_FIELDS = [
    ("time", _TIMES),
    ("verdict", st.one_of(st.integers(min_value=-(2**66), max_value=2**66), st.text(max_size=10), st.none())),
    ("l4", NASTY),
    ("source", NASTY),
    ("destination", NASTY),
    ("IP", NASTY),
    ("Type", NASTY),
    ("is_reply", NASTY),
]  # fmt: skip


@st.composite
def hubble_line(draw: st.DrawFn) -> bytes:
    line = json.loads(draw(st.sampled_from(HUBBLE_LINES)))
    flow = line.get("flow", line)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        name, values = draw(st.sampled_from(HUBBLE_NASTY_FIELDS))
        flow[name] = draw(values)
    return dump_json(line).encode("utf-8", "surrogatepass")


#: CSV cells that break things: quotes, huge numbers, a field over the csv module's 128 KiB limit,
#: a date that does not exist, a port out of range, bytes that are not UTF-8, an Arabic digit.
_CSV_CELLS = [b'"', b'"a""b', b"9" * 5000, b"x" * 140_000, b"2024-02-30T00:00:00Z", b"65536", b"\xff\xfe", b"-1", b"\xd9\xa3"]


@st.composite
def csv_line(draw: st.DrawFn) -> bytes:
    cells = draw(st.sampled_from(CSV_LINES[1:])).split(b",")
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        index = draw(st.integers(min_value=0, max_value=len(cells) - 1))
        cells[index] = draw(
            st.one_of(
                st.binary(max_size=30),
                st.sampled_from(_CSV_CELLS),
            )
        )
    return b",".join(cells)


@st.composite
def flow_file(draw: st.DrawFn) -> tuple[bytes, str]:
    """A flow recording: Hubble or CSV lines, some broken, maybe gzipped (and maybe damaged)."""
    hubble = draw(st.booleans())
    pool = HUBBLE_LINES if hubble else [*CSV_LINES[1:], *LEARN_LINES[1:]]
    good = [draw(st.sampled_from(pool)) for _ in range(draw(st.integers(0, 3)))]
    bad = draw(st.lists(hubble_line() if hubble else csv_line(), max_size=6))
    noise = draw(st.lists(st.one_of(st.binary(max_size=60), st.just(b""), st.just(b"   "), st.just(b"{")), max_size=3))
    lines = [*good, *bad, *noise]
    random.Random(draw(st.integers(0, 2**32))).shuffle(lines)
    if not hubble and draw(st.booleans()):
        lines.insert(0, CSV_LINES[0])
    body = b"\n".join(lines) + draw(st.sampled_from([b"\n", b"", b"\r\n", b"\n\n\n"]))
    if draw(st.booleans()):
        body = draw(damaged_bytes(body))
    kind = "plain"
    if draw(st.integers(0, 3)) == 0:
        body = gzip.compress(body)
        kind = "gzip"
        if draw(st.booleans()):
            cut = draw(st.integers(min_value=0, max_value=len(body)))
            body = body[:cut] + draw(st.binary(max_size=8)) + body[cut + 8 :]
            kind = "gzip-damaged"
    return body, kind


# --- policies from a grammar: plausible objects, odd in one place or many ------------------------

LABEL_KEYS = st.sampled_from(
    ["app", "tier", "release", "k8s:app", "app.kubernetes.io/name", "kubernetes.io/metadata.name",
     "io.kubernetes.pod.namespace", "k8s:io.cilium.k8s.namespace.labels.team", "", "a" * 70, "x/y/z", "-bad"]
)  # fmt: skip
LABEL_VALUES = st.sampled_from(["web", "api", "production", "shop", "", "a" * 70, "bad value", "v1.2_3"])


def _or_nasty(strategy: st.SearchStrategy[Any], odds: int = 12) -> st.SearchStrategy[Any]:
    """``strategy`` most of the time, a value of any other type now and then."""
    return st.integers(0, odds).flatmap(lambda roll: NASTY if roll == 0 else strategy)


SELECTOR = st.fixed_dictionaries(
    {},
    optional={
        "matchLabels": _or_nasty(st.dictionaries(LABEL_KEYS, _or_nasty(LABEL_VALUES), max_size=3)),
        "matchExpressions": _or_nasty(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "key": _or_nasty(LABEL_KEYS),
                        "operator": _or_nasty(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "in", "Equals"])),
                    },
                    optional={"values": _or_nasty(st.lists(_or_nasty(LABEL_VALUES), max_size=3))},
                ),
                max_size=3,
            )
        ),
    },
)
CIDRS = st.sampled_from(
    ["10.0.0.0/8", "10.1.2.3/32", "0.0.0.0/0", "::/0", "2001:db8::/32", "10.0.0.1/8", "300.0.0.0/8",
     "10.0.0.0/33", "fe80::1%eth0/64", "10.0.0.0", ""]
)  # fmt: skip
PORT = st.fixed_dictionaries(
    {},
    optional={
        "port": _or_nasty(st.one_of(st.integers(-1, 70000), st.sampled_from(["http", "80", "", "a" * 20, "8080-8090"]))),
        "endPort": _or_nasty(st.integers(-1, 70000)),
        "protocol": _or_nasty(st.sampled_from(["TCP", "UDP", "SCTP", "ICMP", "tcp", "ANY", ""])),
    },
)
K8S_PEER = st.fixed_dictionaries(
    {},
    optional={
        "podSelector": _or_nasty(SELECTOR),
        "namespaceSelector": _or_nasty(SELECTOR),
        "ipBlock": _or_nasty(
            st.fixed_dictionaries({"cidr": _or_nasty(CIDRS)}, optional={"except": _or_nasty(st.lists(CIDRS, max_size=3))})
        ),
    },
)


def _rules(peer_key: str) -> st.SearchStrategy[Any]:
    return _or_nasty(
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={peer_key: _or_nasty(st.lists(K8S_PEER, max_size=3)), "ports": _or_nasty(st.lists(PORT, max_size=3))},
            ),
            max_size=3,
        )
    )


NETWORK_POLICY_SPEC = st.fixed_dictionaries(
    {"podSelector": _or_nasty(SELECTOR)},
    optional={
        "policyTypes": _or_nasty(st.lists(_or_nasty(st.sampled_from(["Ingress", "Egress", "Ingres"])), max_size=3)),
        "ingress": _rules("from"),
        "egress": _rules("to"),
    },
)
CILIUM_PORTS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "ports": _or_nasty(st.lists(PORT.map(lambda port: {k: str(v) if k == "port" else v for k, v in port.items()}), max_size=2)),
            "rules": _or_nasty(st.fixed_dictionaries({}, optional={"http": st.just([{"method": "GET"}]), "dns": st.just([{"matchPattern": "*"}])})),
        },
    ),
    max_size=2,
)  # fmt: skip


def _cilium_rules(direction: str) -> st.SearchStrategy[Any]:
    other = "from" if direction == "ingress" else "to"
    return _or_nasty(
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    f"{other}Endpoints": _or_nasty(st.lists(SELECTOR, max_size=2)),
                    f"{other}CIDR": _or_nasty(st.lists(CIDRS, max_size=2)),
                    f"{other}CIDRSet": _or_nasty(st.lists(st.fixed_dictionaries({"cidr": CIDRS}, optional={"except": st.lists(CIDRS, max_size=2)}), max_size=2)),
                    f"{other}Entities": _or_nasty(st.lists(st.sampled_from(["world", "cluster", "host", "all", "kube-apiserver", "bogus"]), max_size=2)),
                    "toPorts": _or_nasty(CILIUM_PORTS),
                    "toFQDNs": _or_nasty(st.just([{"matchName": "example.com"}])),
                    "icmps": _or_nasty(st.just([{"fields": [{"type": 8}]}])),
                },
            ),
            max_size=3,
        )
    )  # fmt: skip


CILIUM_SPEC = st.fixed_dictionaries(
    {"endpointSelector": _or_nasty(SELECTOR)},
    optional={
        "ingress": _cilium_rules("ingress"),
        "egress": _cilium_rules("egress"),
        "ingressDeny": _cilium_rules("ingress"),
        "egressDeny": _cilium_rules("egress"),
    },
)
MANAGED_FIELDS = _or_nasty(
    st.lists(
        st.fixed_dictionaries(
            {
                "manager": _or_nasty(st.sampled_from(["helm", "kubectl-edit", "gitlab", "kubectl-client-side-apply", ""])),
                "operation": _or_nasty(st.sampled_from(["Update", "Apply"])),
            },
            optional={
                "fieldsV1": _or_nasty(st.just({"f:spec": {"f:ingress": {}, "f:podSelector": {}}})),
                "time": _or_nasty(st.sampled_from(["2026-11-02T09:14:07Z", "not a time", ""])),
            },
        ),
        max_size=3,
    )
)


@st.composite
def policy_object(draw: st.DrawFn) -> dict[str, Any]:
    cilium = draw(st.booleans())
    metadata: dict[str, Any] = {
        "name": draw(_or_nasty(st.sampled_from(["production-auto-deploy", "allow-metrics", "a" * 300, "x"]))),
        "namespace": draw(_or_nasty(st.sampled_from(["shop", "shop-42-production", "other"]), odds=30)),
    }
    if draw(st.booleans()):
        metadata["labels"] = draw(_or_nasty(st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=4), odds=30))
    if draw(st.booleans()):
        metadata["annotations"] = {"meta.helm.sh/release-name": draw(_or_nasty(LABEL_VALUES, odds=30))}
    if draw(st.booleans()):
        metadata["managedFields"] = draw(MANAGED_FIELDS)
    return {
        "apiVersion": "cilium.io/v2" if cilium else "networking.k8s.io/v1",
        "kind": "CiliumNetworkPolicy" if cilium else "NetworkPolicy",
        "metadata": metadata,
        "spec": draw(CILIUM_SPEC if cilium else NETWORK_POLICY_SPEC),
    }


@st.composite
def context_objects(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Namespaces and workloads around the policies (the connectivity engine reads them)."""
    objects: list[dict[str, Any]] = []
    for name in draw(st.lists(st.sampled_from(["shop", "monitoring", "gitlab-managed-apps"]), max_size=2, unique=True)):
        objects.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": name, "labels": draw(_or_nasty(st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=2), odds=30))}})  # fmt: skip
    for index in range(draw(st.integers(0, 2))):
        container = {"name": "c", "ports": draw(_or_nasty(st.lists(st.fixed_dictionaries({"containerPort": _or_nasty(st.integers(0, 70000)), "name": _or_nasty(st.sampled_from(["http", "metrics", ""]))}), max_size=2)))}  # fmt: skip
        objects.append({
            "apiVersion": "apps/v1", "kind": draw(st.sampled_from(["Deployment", "StatefulSet", "Pod"])),
            "metadata": {"name": f"w{index}", "namespace": "shop"},
            "spec": draw(_or_nasty(st.just({"template": {"metadata": {"labels": {"app": "web", "tier": "web"}}, "spec": {"containers": [container]}}}), odds=30)),
        })  # fmt: skip
    return objects


@st.composite
def values_from_grammar(draw: st.DrawFn) -> dict[str, Any]:
    block: dict[str, Any] = {"enabled": draw(_or_nasty(st.booleans(), odds=20))}
    if draw(st.booleans()):
        block["spec"] = draw(NETWORK_POLICY_SPEC)
    else:
        block["policies"] = draw(_or_nasty(st.lists(st.fixed_dictionaries({"name": _or_nasty(st.sampled_from(["allow-metrics", "", "x" * 70])), "spec": NETWORK_POLICY_SPEC}), max_size=2)))  # fmt: skip
    values: dict[str, Any] = {"networkPolicy": block}
    if draw(st.booleans()):
        values["ciliumNetworkPolicy"] = {"enabled": draw(_or_nasty(st.booleans(), odds=20)), "spec": draw(CILIUM_SPEC)}
    return values
