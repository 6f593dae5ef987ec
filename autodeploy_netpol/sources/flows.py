"""Recorded flows, read as a stream: Hubble's JSON export and a simple CSV.

Readers are generators with bounded memory: one line at a time, plus caches whose size grows
with the number of distinct endpoints, never with the number of flows. A reader yields one
:class:`Flow` per *new connection* (or per datagram for UDP/SCTP) and counts everything it
leaves out in :class:`ReadStats`: reply packets, TCP packets of established connections, L7
records, non-flow events, and malformed lines (with their line numbers).

Formats
-------
Hubble: ``hubble observe -o json`` / ``-o jsonpb`` / the Hubble exporter — one JSON object per
line, the flow either at the top level or under ``"flow"`` (``GetFlowsResponse``). Field names
as Hubble writes them (``destination_port``, ``is_reply``; the lowerCamelCase protobuf JSON names
are accepted too); enums as names or numbers; ``time`` as RFC 3339 or ``{"seconds", "nanos"}``.

CSV (for other sources)::

    src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port[,time[,verdict]]

* labels are ``key=value`` items separated by ``;`` (Kubernetes label keys and values cannot
  contain ``;``); Cilium-style items with a source prefix (``k8s:app=web``, ``reserved:world``)
  are accepted, so Hubble label lists can be pasted as they are;
* an empty namespace with no labels, or the label ``reserved:world``, is an address outside the
  cluster (``dst_ip``, or ``src_ip`` when that column exists); ``reserved:host``,
  ``reserved:kube-apiserver``, ``reserved:remote-node`` … are Cilium's reserved entities;
* ``protocol`` is TCP, UDP or SCTP (or 6, 17, 132), ``port`` 1-65535, ``time`` RFC 3339;
* a first row naming the columns makes the order free and enables the optional columns
  ``src_ip``, ``time``, ``verdict``, ``src_workload`` and ``dst_workload``.

Files may be gzip-compressed (recognised by their first bytes, not their name); ``-`` is
standard input.

Malformed input is never fatal to the run, and never unbounded: a line that cannot be read is
counted and reported with its number (the first :data:`MALFORMED_EXAMPLES` with the reason); a
line longer than :data:`~autodeploy_netpol.limits.FLOW_LINE_BYTES` is such a line, skipped without
being held in memory; a gzip stream that is corrupt or inflates beyond
:data:`~autodeploy_netpol.limits.FLOW_INFLATE_RATIO` times its size ends the reading of that file
with a reported line, keeping what was read before. Only a file of which no line is a flow, or a
path that is not a regular file, is an input error.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import os
import re
import stat
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple

import msgspec

from .. import files, limits
from ..errors import InputError, Location
from ..text import ascii_int

POD, EXTERNAL, ENTITY = "pod", "external", "entity"

#: Cilium's reserved numeric identities (``pkg/identity/numericidentity.go``).
RESERVED_IDENTITIES = {
    1: "host",
    2: "world",
    3: "unmanaged",
    4: "health",
    5: "init",
    6: "remote-node",
    7: "kube-apiserver",
    8: "ingress",
    9: "world-ipv4",
    10: "world-ipv6",
}
#: When an identity carries several reserved labels (kube-apiserver on a control-plane node is
#: also ``reserved:host`` or ``remote-node``), the most specific one names it.
_ENTITY_PRECEDENCE = ("kube-apiserver", "host", "remote-node", "health", "ingress", "init", "unmanaged")
_WORLD = frozenset({"world", "world-ipv4", "world-ipv6"})
#: Identities at or above this are node-local CIDR identities: addresses outside the cluster.
_LOCAL_IDENTITY_MIN = 1 << 24
_NS_LABEL_PREFIX = "io.cilium.k8s.namespace.labels."
_POD_LABEL_SOURCES = frozenset({"k8s", "any", "unspec"})

#: How many malformed lines are reported one by one (all are counted).
MALFORMED_EXAMPLES = 20
#: Cache bounds: external addresses are unbounded in a recording, so their cache is flushed.
MAX_CACHED_ADDRESSES = 50_000
MAX_CACHED_ENDPOINTS = 200_000


@dataclass(frozen=True, slots=True)
class Peer:
    """One side of a recorded flow, as the policies see it.

    ``kind`` is :data:`POD` (``namespace`` + pod ``labels``; ``namespace_labels`` when the
    recording carries them), :data:`EXTERNAL` (``ip``, empty when unknown) or :data:`ENTITY`
    (a Cilium reserved identity such as ``host`` or ``kube-apiserver``). ``workload`` names the
    peer in the report: ``<namespace>/<controller>``, ``world 203.0.113.7`` or the entity.
    """

    kind: str
    workload: str
    namespace: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    namespace_labels: tuple[tuple[str, str], ...] = ()
    entity: str = ""
    ip: str = ""
    # Peers are dictionary keys on the hot path: hash once (a frozen dataclass rehashes every call).
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        key = (
            self.kind,
            self.workload,
            self.namespace,
            self.labels,
            self.namespace_labels,
            self.entity,
            self.ip,
        )
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash


class Flow(NamedTuple):
    """One connection attempt (TCP SYN, or a UDP/SCTP datagram) in the forward direction."""

    source: Peer
    destination: Peer
    protocol: str  # TCP, UDP or SCTP
    port: int
    time: str  # RFC 3339 in UTC with nine fraction digits (sorts as text), "" when not recorded
    verdict: str  # what the recording says happened (FORWARDED, DROPPED, AUDIT …), "" if unknown


@dataclass(frozen=True)
class MalformedLine:
    """A line that could not be read, for the report."""

    file: str
    line: int
    message: str


@dataclass
class ReadStats:
    """What the readers saw besides the flows they yielded."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    flows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    malformed: int = 0
    malformed_examples: list[MalformedLine] = field(default_factory=list)

    def add_malformed(self, file: str, line: int, message: str) -> None:
        self.malformed += 1
        if len(self.malformed_examples) < MALFORMED_EXAMPLES:
            self.malformed_examples.append(MalformedLine(file, line, message))


# Why a record was left out (keys of ReadStats.skipped, shown in the report).
SKIP_REPLY = "reply packets"
SKIP_ESTABLISHED = "TCP packets of established connections (no SYN)"
SKIP_L7 = "L7 records (their L3/L4 flow is counted)"
SKIP_NOT_FLOW = "events that are not flows"
SKIP_PROTOCOL = "ICMP and other protocols policies do not cover"
SKIP_NO_PORT = "flows without a destination port"
SKIP_TRANSLATION = "socket translation events"
SKIP_BLANK = "blank lines"


# ---------------------------------------------------------------------------------------------
# Labels and endpoints → Peer (pure)

_POD_HASH = "[bcdfghjklmnpqrstvwxz2456789]"
_CONTROLLER_POD_NAMES = (
    re.compile(rf"^(.+)-{_POD_HASH}{{6,10}}-{_POD_HASH}{{5}}$"),  # Deployment (ReplicaSet hash + pod)
    re.compile(r"^(.+)-\d+$"),  # StatefulSet ordinal
    re.compile(rf"^(.+)-{_POD_HASH}{{5}}$"),  # DaemonSet, Job, bare ReplicaSet
)


def workload_from_pod_name(pod_name: str) -> str:
    """The controller name Kubernetes derived ``pod_name`` from (``web-7d9f8b6c5-x2k9p`` → ``web``)."""
    for pattern in _CONTROLLER_POD_NAMES:
        match = pattern.match(pod_name)
        if match:
            return match.group(1)
    return pod_name


def _label_workload(labels: Sequence[tuple[str, str]]) -> str:
    for wanted in ("app.kubernetes.io/name", "app", "k8s-app"):
        for key, value in labels:
            if key == wanted and value:
                return value
    return "{" + ",".join(f"{k}={v}" for k, v in labels) + "}"


def peer_from_labels(
    namespace: str,
    labels: Iterable[str],
    *,
    identity: int = 0,
    ip: str = "",
    pod_name: str = "",
    workload: str = "",
) -> Peer:
    """Classify a recorded endpoint by its Cilium labels (``k8s:app=web``, ``reserved:world`` …).

    Reserved labels (or, without labels, a reserved numeric identity) make an entity; world and
    CIDR identities make an external peer at ``ip``; anything else with a namespace is a pod.
    Cilium's derived labels (``io.kubernetes.pod.namespace``, ``io.cilium.k8s.policy.*``) are not
    pod labels; ``io.cilium.k8s.namespace.labels.*`` are the namespace's labels.
    """
    reserved: set[str] = set()
    pod_labels: list[tuple[str, str]] = []
    namespace_labels: list[tuple[str, str]] = []
    label_namespace = ""
    external = False
    for item in labels:
        source, colon, rest = item.partition(":")
        if not colon or "=" in source:  # "app=web" written without a source prefix
            source, rest = "k8s", item
        if source == "reserved":
            reserved.add(rest.partition("=")[0])
            continue
        if source in ("cidr", "fqdn"):
            external = True
            continue
        if source not in _POD_LABEL_SOURCES:
            continue
        key, _, value = rest.partition("=")
        if key.startswith(_NS_LABEL_PREFIX):
            namespace_labels.append((key[len(_NS_LABEL_PREFIX) :], value))
        elif key == "io.kubernetes.pod.namespace":
            label_namespace = value
        elif not key.startswith("io.cilium.k8s.policy."):
            pod_labels.append((key, value))
    if not reserved and not pod_labels and identity in RESERVED_IDENTITIES:
        reserved.add(RESERVED_IDENTITIES[identity])
    for name in _ENTITY_PRECEDENCE:
        if name in reserved:
            return Peer(ENTITY, workload=name, entity=name)
    namespace = namespace or label_namespace
    if reserved & _WORLD or external or identity >= _LOCAL_IDENTITY_MIN or not namespace:
        return external_peer(ip)
    pod_labels.sort()
    namespace_labels.sort()
    name = workload or (workload_from_pod_name(pod_name) if pod_name else _label_workload(pod_labels))
    return Peer(
        POD,
        workload=f"{namespace}/{name}",
        namespace=namespace,
        labels=tuple(pod_labels),
        namespace_labels=tuple(namespace_labels),
    )


def external_peer(ip: str) -> Peer:
    """An address outside the cluster (``world`` when the address is unknown)."""
    return Peer(EXTERNAL, workload=f"world {ip}" if ip else "world", entity="world", ip=ip)


# ---------------------------------------------------------------------------------------------
# Time

_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|z|[+-]\d\d:\d\d)")


def normalize_time(text: str) -> str:
    """RFC 3339 → UTC with nine fraction digits, so that times compare as text.

    Raises ``ValueError`` for anything else, also for a valid-looking time that does not exist
    (month 13) or cannot be represented in UTC (year 9999 at a negative offset).
    """
    if len(text) == 30 and text[29] == "Z" and text[19] == ".":  # what Hubble writes, nanoseconds
        return text
    match = _RFC3339.fullmatch(text.strip())
    if not match:
        raise ValueError(f"time {text!r} is not RFC 3339")
    base, fraction, zone = match.groups()
    utc = zone in ("Z", "z")
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if utc else zone)).astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # month 13; year 9999 at -01:00 overflows in UTC
        raise ValueError(f"time {text!r} is not a valid time ({exc})") from None
    if not utc:
        base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{(fraction or '').ljust(9, '0')}Z"


def time_from_seconds(seconds: int, nanos: int = 0) -> str:
    """A protobuf Timestamp (``{"seconds", "nanos"}``) in the same form as :func:`normalize_time`.

    Raises ``ValueError`` for a time Python cannot represent (before year 1, after year 9999) or
    nanoseconds outside 0-999,999,999.
    """
    if not 0 <= nanos < 1_000_000_000:
        raise ValueError(f"timestamp nanos {nanos} is not between 0 and 999999999")
    try:
        base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"timestamp of {seconds} seconds is out of range ({exc})") from None
    return f"{base}.{nanos:09d}Z"


# ---------------------------------------------------------------------------------------------
# Hubble JSON
#
# msgspec decodes only the fields declared below and skips the rest without building objects;
# the two endpoints are kept as raw JSON text, so an endpoint seen before costs one dict lookup
# (bench/audit.py: the standard json module reads about a quarter as many lines per second).


class _Timestamp(msgspec.Struct):
    seconds: int = 0
    nanos: int = 0


class _BoolValue(msgspec.Struct):
    value: bool = False


class _Flags(msgspec.Struct):
    SYN: bool = False
    ACK: bool = False


class _Ports(msgspec.Struct):
    destination_port: int = 0
    destinationPort: int = 0
    flags: _Flags | None = None


class _Layer4(msgspec.Struct):
    TCP: _Ports | None = None
    UDP: _Ports | None = None
    SCTP: _Ports | None = None


class _Addresses(msgspec.Struct):
    source: str = ""
    destination: str = ""


class _Workload(msgspec.Struct):
    name: str = ""
    kind: str = ""


class _Endpoint(msgspec.Struct):
    identity: int = 0
    namespace: str = ""
    labels: list[str] = []
    pod_name: str = ""
    podName: str = ""
    workloads: list[_Workload] = []


class _Flow(msgspec.Struct):
    time: str | _Timestamp | None = None
    verdict: str | int = ""
    IP: _Addresses | None = None
    l4: _Layer4 | None = None
    source: msgspec.Raw = msgspec.Raw()
    destination: msgspec.Raw = msgspec.Raw()
    Type: str | int = ""
    l7: msgspec.Raw = msgspec.Raw()
    reply: bool = False
    is_reply: bool | _BoolValue | None = None
    isReply: bool | _BoolValue | None = None


class _Line(_Flow):
    """A line: a ``GetFlowsResponse`` (flow under ``"flow"``) or a bare flow."""

    flow: _Flow | None = None


_LINE_DECODER = msgspec.json.Decoder(_Line)
_ENDPOINT_DECODER = msgspec.json.Decoder(_Endpoint)
_VERDICTS = {
    0: "",
    1: "FORWARDED",
    2: "DROPPED",
    3: "ERROR",
    4: "AUDIT",
    5: "REDIRECTED",
    6: "TRACED",
    7: "TRANSLATED",
    "VERDICT_UNKNOWN": "",
}


class PeerTable:
    """Interns peers: raw endpoint JSON → :class:`Peer`, and external peers by address.

    The same endpoint text always gives the same object, so later stages can cache on it.
    Both caches are bounded (flushed when full).
    """

    def __init__(self) -> None:
        self._endpoints: dict[bytes, Peer] = {}
        self._addresses: dict[str, Peer] = {}

    def hubble(self, raw: bytes, ip: str) -> Peer:
        """The peer for a Hubble endpoint object given as JSON text, at address ``ip``."""
        peer = self._endpoints.get(raw)
        if peer is None:
            if len(self._endpoints) >= MAX_CACHED_ENDPOINTS:
                self._endpoints.clear()
            endpoint = _ENDPOINT_DECODER.decode(raw) if raw else _Endpoint()
            workload = endpoint.workloads[0].name if endpoint.workloads else ""
            peer = peer_from_labels(
                endpoint.namespace,
                endpoint.labels,
                identity=endpoint.identity,
                pod_name=endpoint.pod_name or endpoint.podName,
                workload=workload,
            )
            self._endpoints[raw] = peer
        if peer.kind == EXTERNAL:
            return self.address(ip)
        return peer

    def address(self, ip: str) -> Peer:
        """The external peer at ``ip`` (interned); ``ValueError`` when ``ip`` is not an address."""
        peer = self._addresses.get(ip)
        if peer is None:
            if len(self._addresses) >= MAX_CACHED_ADDRESSES:
                self._addresses.clear()
            if ip:
                ipaddress.ip_address(ip)  # ValueError: the line is malformed
            peer = self._addresses[ip] = external_peer(ip)
        return peer


def _hubble_time(flow: _Flow, line: _Line) -> str:
    value = flow.time if flow.time is not None else line.time
    if value is None:
        return ""
    if isinstance(value, str):
        return normalize_time(value)
    return time_from_seconds(value.seconds, value.nanos)


def _is_reply(flow: _Flow) -> bool | None:
    value = flow.is_reply if flow.is_reply is not None else flow.isReply
    if value is None:
        return True if flow.reply else None
    return value if isinstance(value, bool) else value.value


# Pre-filter marks. Inside a JSON string a quote is escaped (``\\"``), so these bytes can only be
# keys. Hubble writes ``is_reply`` near the end of a flow and ``l4`` near the start, so searching
# from those ends is short (a forward search through the whole line costs as much as decoding it).
_REPLY_KEY = b'"is_reply":'
_L4_KEY = b'"l4":{"'
_FLAGS_KEY = b'"flags":{'
_SYN = b'"SYN":true'
_ACK = b'"ACK":true'


def read_hubble(
    lines: Iterable[tuple[int, bytes]],
    name: str,
    stats: ReadStats,
    peers: PeerTable,
    *,
    prefilter: bool = True,
) -> Iterator[Flow]:
    """Flows from numbered Hubble JSON lines (see the module docstring); counts the rest in ``stats``.

    ``lines`` are ``(line number, bytes)`` pairs (:func:`numbered_lines`, or ``enumerate(lines, 1)``);
    the caller counts the lines of the file.

    Replies, then packets of established TCP connections, are left out before anything else is
    looked at. With ``prefilter`` they are recognised by their bytes and not even decoded
    (``"is_reply":true``; ``"is_reply":false`` with TCP flags that are not a bare SYN) — about
    two thirds of a capture, and most of the cost of reading it; without it the decoded fields
    decide, with the same result for every well-formed line.
    """
    # The loop is the hot path of `audit` (bench/audit.py): common cases are inlined and looked
    # up in locals; the general cases go through the helper functions above.
    decode = _LINE_DECODER.decode
    skipped = stats.skipped
    verdicts = _VERDICTS
    endpoints = peers._endpoints
    make_flow = tuple.__new__
    for number, text in lines:
        if prefilter:
            at = text.rfind(_REPLY_KEY)
            if at >= 0:
                value = text[at + 11 : at + 16]
                if value[:4] == b"true":
                    skipped[SKIP_REPLY] += 1
                    continue
                if value == b"false":
                    at = text.find(_L4_KEY)
                    if text[at + 7 : at + 13] == b'TCP":{':
                        start = text.find(_FLAGS_KEY, at, at + 120)
                        if start >= 0:
                            raw_flags = text[start : text.find(b"}", start)]
                            if _SYN not in raw_flags or _ACK in raw_flags:
                                skipped[SKIP_ESTABLISHED] += 1
                                continue
        try:
            line = decode(text)
        except msgspec.DecodeError as exc:
            if text.strip():
                stats.add_malformed(name, number, str(exc))
            else:
                skipped[SKIP_BLANK] += 1
            continue
        flow = line.flow
        if flow is None:
            flow = line
        reply = flow.is_reply
        if reply is not False:
            reply = _is_reply(flow)
            if reply:
                skipped[SKIP_REPLY] += 1
                continue
        l4 = flow.l4
        if l4 is None:
            skipped[SKIP_PROTOCOL if flow.IP is not None else SKIP_NOT_FLOW] += 1
            continue
        ports = l4.TCP
        if ports is not None:
            flags = ports.flags
            if flags is not None and not (flags.SYN and not flags.ACK):
                skipped[SKIP_REPLY if flags.SYN and reply is None else SKIP_ESTABLISHED] += 1
                continue
        kind = flow.Type
        if kind != "L3_L4" and kind not in ("", 1, 0):
            skipped[SKIP_L7 if kind in ("L7", 2) else SKIP_TRANSLATION] += 1
            continue
        verdict = flow.verdict
        if verdict.__class__ is not str or verdict in verdicts:
            verdict = verdicts.get(verdict, str(verdict))
        if verdict == "TRANSLATED":
            skipped[SKIP_TRANSLATION] += 1
            continue
        if ports is not None:
            protocol = "TCP"
        elif l4.UDP is not None:
            protocol, ports = "UDP", l4.UDP
        elif l4.SCTP is not None:
            protocol, ports = "SCTP", l4.SCTP
        else:
            skipped[SKIP_PROTOCOL] += 1
            continue
        port = ports.destination_port or ports.destinationPort
        if not 0 < port < 65536:
            if port:
                stats.add_malformed(name, number, f"destination port {port} is out of range")
            else:
                skipped[SKIP_NO_PORT] += 1
            continue
        try:
            time = flow.time
            if time.__class__ is not str or len(time) != 30 or time[29] != "Z":
                time = _hubble_time(flow, line)
            source = endpoints.get(bytes(flow.source))
            if source is None or source.kind == EXTERNAL:
                addresses = flow.IP
                source = peers.hubble(bytes(flow.source), addresses.source if addresses else "")
            destination = endpoints.get(bytes(flow.destination))
            if destination is None or destination.kind == EXTERNAL:
                addresses = flow.IP
                destination = peers.hubble(
                    bytes(flow.destination), addresses.destination if addresses else ""
                )
        except (ValueError, msgspec.DecodeError) as exc:
            stats.add_malformed(name, number, str(exc))
            continue
        stats.flows += 1
        yield make_flow(Flow, (source, destination, protocol, port, time, verdict))


# ---------------------------------------------------------------------------------------------
# CSV

CSV_COLUMNS = ("src_namespace", "src_labels", "dst_namespace", "dst_labels", "dst_ip", "protocol", "port")
CSV_OPTIONAL_COLUMNS = ("time", "verdict", "src_ip", "src_workload", "dst_workload")
_PROTOCOLS = {"TCP": "TCP", "UDP": "UDP", "SCTP": "SCTP", "6": "TCP", "17": "UDP", "132": "SCTP"}


class _CsvProblem(ValueError):
    pass


def _csv_peer(
    peers: PeerTable,
    cache: dict[tuple[str, str, str], Peer],
    namespace: str,
    labels: str,
    ip: str,
    workload: str,
) -> Peer:
    key = (namespace, labels, workload)
    peer = cache.get(key)
    if peer is None:
        if len(cache) >= MAX_CACHED_ENDPOINTS:
            cache.clear()
        items = [item.strip() for item in labels.split(";") if item.strip()]
        if not namespace.strip() and not items:
            peer = external_peer("")
        else:
            peer = peer_from_labels(namespace.strip(), items, workload=workload.strip())
        cache[key] = peer
    if peer.kind == EXTERNAL:
        return peers.address(ip.strip())
    return peer


def _row_reader(row: list[str], positions: dict[str, int]) -> Callable[[str], str]:
    def cell(column: str) -> str:
        index = positions.get(column)
        return row[index] if index is not None and index < len(row) else ""

    return cell


def _decoded(lines: Iterable[tuple[int, bytes]], name: str, stats: ReadStats, at: list[int]) -> Iterator[str]:
    """Text lines for the csv module; ``at[0]`` is the number of the last line handed out. A line
    that is not UTF-8 is reported and left out (a byte-order mark starts the first line)."""
    first = True
    for number, raw in lines:
        at[0] = number
        try:
            text = raw.decode("utf-8-sig" if first else "utf-8")
        except UnicodeDecodeError as exc:
            stats.add_malformed(name, number, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
            continue
        finally:
            first = False
        yield text + "\n"


def read_csv(lines: Iterable[tuple[int, bytes]], name: str, stats: ReadStats, peers: PeerTable) -> Iterator[Flow]:
    """Flows from numbered CSV lines (the format of the module docstring); counts the rest in ``stats``.

    A row that the csv module cannot parse (a field over its 128 KiB limit, a stray quote) is a
    malformed line like any other.
    """
    at = [0]
    rows = csv.reader(_decoded(lines, name, stats, at))
    cache: dict[tuple[str, str, str], Peer] = {}
    positions: dict[str, int] = {
        column: index for index, column in enumerate((*CSV_COLUMNS, "time", "verdict"))
    }
    width = len(CSV_COLUMNS)
    header_possible = True
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            stats.add_malformed(name, at[0], f"not a CSV row: {exc}")
            continue
        number = at[0]
        if not row or not any(cell.strip() for cell in row):
            stats.skipped[SKIP_BLANK] += 1
            continue
        if header_possible:
            header_possible = False
            header = [cell.strip().lower() for cell in row]
            if set(CSV_COLUMNS) <= set(header):
                positions = {column: index for index, column in enumerate(header)}
                width = max(positions[column] for column in CSV_COLUMNS) + 1
                continue
        try:
            if len(row) < width:
                raise _CsvProblem(f"expected at least {width} columns, found {len(row)}")
            cell = _row_reader(row, positions)
            protocol = _PROTOCOLS.get(cell("protocol").strip().upper())
            if protocol is None:
                if cell("protocol").strip().upper() in ("ICMP", "ICMPV4", "ICMPV6", "1", "58"):
                    stats.skipped[SKIP_PROTOCOL] += 1
                    continue
                raise _CsvProblem(f"protocol {cell('protocol')!r} is not TCP, UDP or SCTP")
            port_text = cell("port").strip()
            port_number = ascii_int(port_text)
            if port_number is None or not 0 < port_number < 65536:
                raise _CsvProblem(f"port {port_text!r} is not a number from 1 to 65535")
            time_text = cell("time").strip()
            time = normalize_time(time_text) if time_text else ""
            source = _csv_peer(
                peers, cache, cell("src_namespace"), cell("src_labels"), cell("src_ip"), cell("src_workload")
            )
            destination = _csv_peer(
                peers, cache, cell("dst_namespace"), cell("dst_labels"), cell("dst_ip"), cell("dst_workload")
            )
        except ValueError as exc:
            stats.add_malformed(name, number, str(exc))
            continue
        stats.flows += 1
        yield Flow(source, destination, protocol, port_number, time, cell("verdict").strip().upper())


# ---------------------------------------------------------------------------------------------
# Files

_GZIP_MAGIC = b"\x1f\x8b"

try:  # ISA-L inflates about three times as fast as zlib (bench/audit.py); same format
    from isal.igzip import IGzipFile as _GzipReader
    from isal.isal_zlib import error as _isal_error

    _InflateError: type[BaseException] = _isal_error  # type: ignore[assignment]  # stubs call it an instance
except ImportError:  # pragma: no cover - a platform without isal wheels
    from gzip import GzipFile as _GzipReader  # type: ignore[assignment]

    _InflateError = zlib.error

#: What reading a damaged stream raises: gzip's and ISA-L's errors, a truncated stream, I/O errors.
_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, ValueError, zlib.error, _InflateError)


class _Counted(io.RawIOBase):
    """A stream that counts the bytes read from it (the compressed side of a gzip file)."""

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


class _StopFile(Exception):
    """The rest of a file cannot be read (corrupt gzip, inflation bound, I/O error): why."""


def _open_binary(path: str) -> IO[bytes]:
    if path == files.STDIN:
        stdin = sys.stdin.buffer
        try:
            status = os.fstat(stdin.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            status = None
        if status is not None and stat.S_ISCHR(status.st_mode) and not os.isatty(stdin.fileno()):
            # /dev/zero or /dev/urandom redirected: endless, not a recording
            raise InputError(
                "standard input is a character device, not a flow recording",
                location=Location(files.STDIN_NAME),
                hint="redirect a file or a pipe to standard input",
            )
        return stdin
    return files.open_input(path, what="flow file", stdin=True)


def numbered_lines(
    stream: IO[bytes],
    name: str,
    stats: ReadStats,
    *,
    compressed: _Counted | None = None,
    max_line: int | None = None,
) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of ``stream`` with their numbers, in bounded memory and time.

    Blank lines are counted (runs of them in bulk: a file of newlines costs what inflating it
    costs), lines over ``max_line`` bytes are reported and skipped without being kept, and a stream
    that fails (:class:`_StopFile`) ends with a reported line. ``stats.lines`` gets the file's
    line count. With ``compressed`` (the counted gzip input), inflating beyond
    :data:`~autodeploy_netpol.limits.FLOW_INFLATE_RATIO` times the compressed size stops the file.
    """
    longest = limits.FLOW_LINE_BYTES.value() if max_line is None else max_line
    ratio = limits.FLOW_INFLATE_RATIO.value() if compressed is not None else 0
    floor = limits.FLOW_INFLATE_FLOOR.value() if compressed is not None else 0
    read = getattr(stream, "read1", stream.read)
    number = blank = inflated = 0
    pending = b""
    skipping = False  # inside a line longer than the limit: its bytes are dropped
    try:
        while True:
            try:
                chunk = read(_CHUNK)
            except _READ_ERRORS as exc:
                raise _StopFile(_stream_problem(exc, compressed is not None)) from None
            if not chunk:
                break
            if ratio:
                inflated += len(chunk)
                if inflated > floor and inflated > ratio * max(compressed.count, 1):  # type: ignore[union-attr]
                    raise _StopFile(
                        f"gzip data inflates more than {ratio} times its size ({inflated:,} bytes from "
                        f"{compressed.count:,}); the rest of the file is not read "  # type: ignore[union-attr]
                        f"({limits.FLOW_INFLATE_RATIO.variable})"
                    )
            if skipping:
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                number += 1
                stats.add_malformed(name, number, f"line longer than {longest:,} bytes (skipped)")
                chunk, skipping = chunk[end + 1 :], False
            data = pending + chunk if pending else chunk
            if not data.strip():  # whitespace only: count the newlines, keep the last partial line
                end = data.rfind(b"\n")
                count = data.count(b"\n")
                number += count
                blank += count
                pending = data[end + 1 :] if end >= 0 else data
                continue
            lines = data.split(b"\n")
            pending = lines.pop()
            for line in lines:
                number += 1
                if len(line) > longest:
                    stats.add_malformed(name, number, f"line longer than {longest:,} bytes (skipped)")
                elif line.strip():
                    yield number, line
                else:
                    blank += 1
            if len(pending) > longest:
                pending, skipping = b"", True
        if skipping or len(pending) > longest:
            number += 1
            stats.add_malformed(name, number, f"line longer than {longest:,} bytes (skipped)")
        elif pending:
            number += 1
            if pending.strip():
                yield number, pending
            else:
                blank += 1
    except _StopFile as stop:
        stats.add_malformed(name, number + 1, str(stop))
    finally:
        stats.lines += number
        if blank:
            stats.skipped[SKIP_BLANK] += blank


def _stream_problem(exc: BaseException, gzipped: bool) -> str:
    what = "gzip data is corrupt or truncated" if gzipped else "the file cannot be read further"
    detail = str(exc) or type(exc).__name__
    return f"{what} here ({detail}); the rest of the file is not read"


#: Bytes read at a time: big enough that system calls and inflating are cheap, small enough that
#: splitting a chunk of short lines stays a few megabytes.
_CHUNK = 256 * 1024


def _peek(stream: IO[bytes], size: int) -> bytes:
    peek = getattr(stream, "peek", None)
    return peek(size)[:size] if peek is not None else b""


def _lines_read(stats: ReadStats) -> int:
    """Lines that were understood: flows plus records left out for a reason (blank lines excluded)."""
    return stats.flows + sum(count for reason, count in stats.skipped.items() if reason != SKIP_BLANK)


def _flows_recognised(stats: ReadStats) -> int:
    """Flow records seen: flows plus flows left out for a reason (replies, established, L7 …);
    blank lines and events that are not flows do not count."""
    return stats.flows + sum(
        count for reason, count in stats.skipped.items() if reason not in (SKIP_BLANK, SKIP_NOT_FLOW)
    )


def read_flows(paths: Sequence[str], stats: ReadStats, peers: PeerTable | None = None) -> Iterator[Flow]:
    """Flows from every file in ``paths``, in order; the format of each is detected from its content.

    Raises :class:`InputError` for a path that is not a readable regular file (or standard input),
    or a file that holds no flow record at all (empty, only blank lines, only events that are not
    flows, or only malformed lines); anything else wrong is a reported malformed line.
    """
    peers = peers or PeerTable()
    for path in paths:
        stats.files.append(path)
        name = files.input_name(path)
        raw = _open_binary(path)
        try:
            head = _head(raw)
            compressed: _Counted | None = None
            stream: IO[bytes] = io.BufferedReader(_Replayed(head, raw), buffer_size=1 << 16)
            if head[:2] == _GZIP_MAGIC:
                compressed = _Counted(stream)
                inflating = _GzipReader(fileobj=io.BufferedReader(compressed), mode="rb")  # type: ignore[no-untyped-call]
                stream = inflating  # type: ignore[assignment]
                try:
                    first = inflating.peek(64)[:64]
                except _READ_ERRORS as exc:
                    first = b""
                    stats.add_malformed(name, 1, _stream_problem(exc, True))
            else:
                first = head
            malformed_before, lines_before = stats.malformed, stats.lines
            examples_before, read_before = len(stats.malformed_examples), _lines_read(stats)
            recognised_before = _flows_recognised(stats)
            lines = numbered_lines(stream, name, stats, compressed=compressed)
            if first.lstrip()[:1] == b"{":
                yield from read_hubble(lines, name, stats, peers)
            else:
                yield from read_csv(lines, name, stats, peers)
            if stats.malformed > malformed_before and _lines_read(stats) == read_before:
                examples = stats.malformed_examples[examples_before:]
                where = f" (line {examples[0].line}: {examples[0].message})" if examples else ""
                raise InputError(
                    f"no line of it is a flow ({stats.lines - lines_before:,} lines read{where})",
                    location=Location(name),
                    hint="expected `hubble observe -o jsonpb` output or the CSV described in the README",
                )
            if _flows_recognised(stats) == recognised_before:
                # an empty or truncated artifact must not turn the audit green
                count = stats.lines - lines_before
                raise InputError(
                    f"no flow in it ({count:,} line{'s' if count != 1 else ''}"
                    f"{', none a flow record' if count else ''})",
                    location=Location(name),
                    hint="an empty or truncated recording proves nothing: check the job that wrote it "
                    "(`hubble observe -o jsonpb`, or the CSV described in the README)",
                )
        finally:
            if path != "-":
                raw.close()


def _head(raw: IO[bytes]) -> bytes:
    """The first bytes of a stream (format and gzip detection), read without losing them."""
    try:
        return raw.read(64)
    except OSError as exc:
        raise InputError(f"cannot read flow file: {exc.strerror or exc}") from None


class _Replayed(io.RawIOBase):
    """``head`` again, then the rest of ``inner``: peeking works on any stream, pipes included."""

    def __init__(self, head: bytes, inner: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        read1 = getattr(self._inner, "read1", self._inner.read)
        data = read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)
