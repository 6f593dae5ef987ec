"""np-guard/netpol-analyzer's golden outputs as a peer's truth (``../shared/corpora/netpol-analyzer``).

The corpus holds test inputs (``tests/<name>/``), the analyzer's connectivity lists
(``test_outputs/connlist/<name>_connlist_output.txt``: ``src => dst : conns``) and its semantic
diffs (``test_outputs/diff/…``: ``diff-type: added|removed|changed, source: …, destination: …,
ref1: …, ref2: …``), paired in ``INDEX.tsv``. Nothing of the analyzer's code is here.

Both answers are put in one canonical form: ``{(src, dst): ConnectionSet}`` with workloads as
``ns/name`` and address ranges cut at the union of both sides' boundaries (the analyzer joins
ranges less eagerly than we do; the sets of addresses and connections are what is compared).

Naming: the analyzer names a pod by its direct owner (``ns/web-5d4f9c7b8[ReplicaSet]``), we by the
Deployment that owns the ReplicaSet (``ns/web``); a name of theirs is mapped to ours when it is
ours, or ours plus ``-<pod-template-hash>``. It prints IPv4 address ranges only, so IPv6 ranges of
ours are left out of the comparison. Its ``{ingress-controller}`` node (Route and Ingress objects,
which we list as not modelled) exists only in the "other" category.

Categories: ``tiers`` — the tests with AdminNetworkPolicy/BaselineAdminNetworkPolicy (56);
``networkpolicy`` — NetworkPolicy only, no kind the analyzer models beyond it (42 connlist tests,
24 diff pairs); ``other`` — Routes/Ingresses, UserDefinedNetworks, VirtualMachines,
NetworkAttachmentDefinitions, MultiNetworkPolicies (kinds we list as not modelled).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.policy.analysis import NodeKey, analyse
from autodeploy_netpol.policy.intervals import (
    ALL_CONNECTIONS,
    IPV4_MAX,
    NO_CONNECTIONS,
    PROTOCOLS,
    ConnectionSet,
    format_ip_range,
    ip_to_int,
)
from autodeploy_netpol.runs.connectivity import ObjectSource, load_model, run_diff

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpora" / "netpol-analyzer"

TIERS, NETWORK_POLICY, OTHER = "tiers", "networkpolicy", "other"
CATEGORIES = (TIERS, NETWORK_POLICY, OTHER)
_TIER_KINDS = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
_OTHER_KINDS = (
    "Route",
    "Ingress",
    "UserDefinedNetwork",
    "ClusterUserDefinedNetwork",
    "VirtualMachine",
    "VirtualMachineInstance",
    "NetworkAttachmentDefinition",
    "MultiNetworkPolicy",
)

Canonical = dict[tuple[NodeKey, NodeKey], ConnectionSet]


def corpus_present() -> bool:
    return (CORPUS / "INDEX.tsv").is_file()


@dataclass(frozen=True)
class ConnlistCase:
    name: str
    expected: Path


@dataclass(frozen=True)
class DiffCase:
    before: str
    after: str
    expected: Path

    @property
    def name(self) -> str:
        return f"{self.before}->{self.after}"


def read_index() -> tuple[list[ConnlistCase], list[DiffCase]]:
    connlist: list[ConnlistCase] = []
    diffs: list[DiffCase] = []
    section = ""
    for raw in (CORPUS / "INDEX.tsv").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, expected = line.split("\t")
        if section == "connlist":
            connlist.append(ConnlistCase(key, CORPUS / expected))
        elif section == "diff" and (CORPUS / expected).is_file():  # one golden file is not in the corpus
            before, after = (part.strip() for part in key.split("->"))
            diffs.append(DiffCase(before, after, CORPUS / expected))
    return connlist, diffs


_KIND = re.compile(r"""^\s*(?:-\s*)?["']?kind["']?\s*:\s*["']?([A-Za-z]+)""", re.MULTILINE)


def kinds_of(test: str) -> set[str]:
    kinds: set[str] = set()
    for file in (CORPUS / "tests" / test).rglob("*"):
        if file.suffix in (".yaml", ".yml", ".json") and file.is_file():
            kinds.update(_KIND.findall(file.read_text(errors="replace")))
    return kinds


def category(*tests: str) -> str:
    kinds = set().union(*(kinds_of(test) for test in tests))
    if kinds & set(_TIER_KINDS):
        return TIERS
    if kinds & set(_OTHER_KINDS):
        return OTHER
    return NETWORK_POLICY


# ----------------------------------------------------------------------------- their answers


def parse_connections(text: str) -> ConnectionSet:
    """``All Connections``, ``No Connections`` or ``SCTP 1-65535,TCP 80,8080,UDP 53``."""
    text = text.strip()
    if text == "All Connections":
        return ALL_CONNECTIONS
    if text == "No Connections":
        return NO_CONNECTIONS
    ranges: list[tuple[str, int, int]] = []
    protocol = ""
    for token in text.split(","):
        token = token.strip()
        head, _, rest = token.partition(" ")
        if head in PROTOCOLS:
            protocol, token = head, rest.strip()
        if not protocol:
            raise ValueError(f"connections without a protocol: {text!r}")
        lo, _, hi = token.partition("-")
        ranges.append((protocol, int(lo), int(hi or lo)))
    return ConnectionSet.from_ranges(ranges)


_NODE = re.compile(r"^(?P<namespace>[^/\[]+)(?:\[[^\]]*\])?/(?P<name>[^\[]+)\[(?P<kind>[^\]]+)\]$")


def parse_node(token: str) -> tuple[NodeKey, str]:
    """(node, kind): ``ns/name[Kind]`` (``ns[udn]/name[Kind]`` on a user-defined network) →
    ``ns/name``; ``a-b[External]`` → an address range."""
    token = token.strip()
    if token.endswith("[External]"):
        lo, _, hi = token[: -len("[External]")].partition("-")
        return (ip_to_int(lo), ip_to_int(hi)), "External"
    match = _NODE.match(token)
    if match is None:
        return token, ""
    return f"{match['namespace']}/{match['name']}", match["kind"]


_CONNLIST_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conns>.+)$")


def parse_connlist(text: str) -> Canonical:
    edges: Canonical = {}
    for line in text.splitlines():
        match = _CONNLIST_LINE.match(line.strip())
        if not match:
            continue
        src, _ = parse_node(match["src"])
        dst, _ = parse_node(match["dst"])
        edges[(src, dst)] = edges.get((src, dst), NO_CONNECTIONS).union(parse_connections(match["conns"]))
    return edges


_DIFF_LINE = re.compile(
    r"^diff-type: (?P<type>\w+), source: (?P<src>\S+), destination: (?P<dst>\S+), "
    r"ref1: (?P<ref1>.+?), ref2: (?P<ref2>.+?)(?:, workloads-diff-info: .*)?$"
)


def parse_diff(text: str) -> tuple[Canonical, Canonical]:
    """(added, removed) connections of a semantic-diff file."""
    added: Canonical = {}
    removed: Canonical = {}
    for line in text.splitlines():
        match = _DIFF_LINE.match(line.strip())
        if not match:
            continue
        src, _ = parse_node(match["src"])
        dst, _ = parse_node(match["dst"])
        ref1, ref2 = parse_connections(match["ref1"]), parse_connections(match["ref2"])
        if ref2.difference(ref1):
            added[(src, dst)] = ref2.difference(ref1)
        if ref1.difference(ref2):
            removed[(src, dst)] = ref1.difference(ref2)
    return added, removed


# ------------------------------------------------------------------------------- our answers


def _ipv4_only(edges: Canonical) -> Canonical:
    def keep(node: NodeKey) -> bool:
        return not isinstance(node, tuple) or node[1] <= IPV4_MAX

    return {key: conns for key, conns in edges.items() if keep(key[0]) and keep(key[1])}


def ours(test: str) -> Canonical:
    """Our connectivity for a corpus test, read as ``connectivity PATH`` reads it."""
    loaded = load_model(ObjectSource((str(CORPUS / "tests" / test),)))
    return _ipv4_only(analyse(loaded.model).merged().edges)


def ours_diff(before: str, after: str) -> tuple[Canonical, Canonical]:
    """Our semantic diff, as ``diff --before B --after A --namespace default`` computes it (the
    analyzer puts objects without a namespace in ``default``; ``diff`` wants that said)."""
    run = run_diff([str(CORPUS / "tests" / before)], [str(CORPUS / "tests" / after)], namespace="default")
    return _ipv4_only(run.diff.added.edges), _ipv4_only(run.diff.removed.edges)


# ------------------------------------------------------------------------------- comparison


def _rename(theirs: Canonical, names: Iterable[str]) -> Canonical:
    """Their workload names in ours (``web-5d4f9c7b8`` → ``web`` when that is one of ours)."""
    known = set(names)

    def mapped(node: NodeKey) -> NodeKey:
        if isinstance(node, tuple) or node in known:
            return node
        base, dash, _ = node.rpartition("-")
        return base if dash and base in known else node

    out: Canonical = {}
    for (src, dst), conns in theirs.items():
        key = (mapped(src), mapped(dst))
        out[key] = out.get(key, NO_CONNECTIONS).union(conns)
    return out


def _names(edges: Canonical) -> set[str]:
    return {node for key in edges for node in key if isinstance(node, str)}


def differences(mine: Canonical, theirs: Canonical, limit: int = 8) -> list[str]:
    """Readable differences (empty when the two agree), after mapping their names to ours."""
    from differential.nca_support import align

    theirs = _rename(theirs, _names(mine))
    a, b = align(mine, theirs)
    out = []
    for key in sorted(set(a) | set(b), key=str):
        left, right = a.get(key, NO_CONNECTIONS), b.get(key, NO_CONNECTIONS)
        if left != right:
            src, dst = (_show(node) for node in key)
            out.append(
                f"{src} => {dst}: ours={left.describe() or 'none'} theirs={right.describe() or 'none'}"
            )
            if len(out) >= limit:
                break
    return out


def _show(node: NodeKey) -> str:
    return format_ip_range(*node) if isinstance(node, tuple) else node


@dataclass(frozen=True)
class Outcome:
    name: str
    category: str
    agrees: bool
    detail: tuple[str, ...] = ()


def check_connlist(case: ConnlistCase) -> Outcome:
    group = category(case.name)
    try:
        mine = ours(case.name)
    except InputError as error:
        return Outcome(case.name, group, False, (f"input error: {error}",))
    theirs = parse_connlist(case.expected.read_text())
    found = differences(mine, theirs)
    return Outcome(case.name, group, not found, tuple(found))


def check_diff(case: DiffCase) -> Outcome:
    group = category(case.before, case.after)
    try:
        added, removed = ours_diff(case.before, case.after)
    except InputError as error:
        return Outcome(case.name, group, False, (f"input error: {error}",))
    their_added, their_removed = parse_diff(case.expected.read_text())
    found = [f"added: {line}" for line in differences(added, their_added)]
    found += [f"removed: {line}" for line in differences(removed, their_removed)]
    return Outcome(case.name, group, not found, tuple(found))


def tally(outcomes: Iterable[Outcome]) -> dict[str, tuple[int, int]]:
    """{category: (agreeing, total)}."""
    counts: dict[str, list[int]] = {name: [0, 0] for name in CATEGORIES}
    for outcome in outcomes:
        counts[outcome.category][1] += 1
        counts[outcome.category][0] += outcome.agrees
    return {name: (agree, total) for name, (agree, total) in counts.items()}
