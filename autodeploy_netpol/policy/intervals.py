"""Sets of integers as sorted disjoint intervals, and what is built on them.

* :class:`IntervalSet` — integers as ``((lo, hi), ...)``; used for ports and for IP addresses.
* :class:`ConnectionSet` — the (protocol, port) pairs a connection may use: one port
  :class:`IntervalSet` per protocol among TCP, UDP and SCTP (the protocols NetworkPolicy and
  Cilium's L4 rules know).
* IP addresses map to one integer line: IPv4 ``a.b.c.d`` is its 32-bit value, IPv6 addresses
  are shifted past the IPv4 space (:data:`IPV6_OFFSET`), so one :class:`IntervalSet` holds both.

Everything is immutable and hashable, so results can be cached and compared.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from functools import lru_cache

MIN_PORT = 1
MAX_PORT = 65535
PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")
IPV4_MAX = (1 << 32) - 1
IPV6_OFFSET = 1 << 33  # not adjacent to the IPv4 space, so the two never merge into one interval
IPV6_MAX = IPV6_OFFSET + (1 << 128) - 1


class IntervalSet:
    """An immutable set of integers stored as sorted, disjoint, non-adjacent closed intervals."""

    __slots__ = ("_hash", "_starts", "intervals")

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()) -> None:
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(i for i in intervals if i[0] <= i[1]):
            if merged and lo <= merged[-1][1] + 1:
                if hi > merged[-1][1]:
                    merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        self.intervals: tuple[tuple[int, int], ...] = tuple(merged)
        self._starts = [lo for lo, _ in merged]
        self._hash = hash(self.intervals)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, IntervalSet) and self._hash == other._hash and self.intervals == other.intervals
        )

    def __hash__(self) -> int:
        return self._hash

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __repr__(self) -> str:
        return f"IntervalSet({list(self.intervals)!r})"

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.intervals)

    def __contains__(self, value: int) -> bool:
        index = bisect_right(self._starts, value) - 1
        return index >= 0 and value <= self.intervals[index][1]

    def contains_range(self, lo: int, hi: int) -> bool:
        """True when every integer of ``[lo, hi]`` is in the set."""
        index = bisect_right(self._starts, lo) - 1
        return index >= 0 and hi <= self.intervals[index][1]

    def overlaps(self, lo: int, hi: int) -> bool:
        """True when some integer of ``[lo, hi]`` is in the set."""
        index = bisect_right(self._starts, hi) - 1
        return index >= 0 and self.intervals[index][1] >= lo

    def union(self, other: IntervalSet) -> IntervalSet:
        if not other.intervals or other is self:
            return self
        if not self.intervals:
            return other
        return IntervalSet((*self.intervals, *other.intervals))

    @staticmethod
    def union_all(sets: Iterable[IntervalSet]) -> IntervalSet:
        """The union of many sets, sorted and merged once (``union`` in a loop is quadratic)."""
        distinct = {item for item in sets if item.intervals}
        if len(distinct) <= 1:
            return distinct.pop() if distinct else EMPTY_PORTS
        return IntervalSet([interval for item in distinct for interval in item.intervals])

    def intersection(self, other: IntervalSet) -> IntervalSet:
        out: list[tuple[int, int]] = []
        a, b = self.intervals, other.intervals
        i = j = 0
        while i < len(a) and j < len(b):
            lo = max(a[i][0], b[j][0])
            hi = min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(out)

    def difference(self, other: IntervalSet) -> IntervalSet:
        if not other.intervals or not self.intervals:
            return self
        out: list[tuple[int, int]] = []
        b = other.intervals
        j = 0  # both sides are sorted: one pass over each
        for lo, hi in self.intervals:
            while j < len(b) and b[j][1] < lo:
                j += 1
            current = lo
            k = j
            while k < len(b) and b[k][0] <= hi:
                blo, bhi = b[k]
                if blo > current:
                    out.append((current, blo - 1))
                current = max(current, bhi + 1)
                if current > hi:
                    break
                k += 1
            if current <= hi:
                out.append((current, hi))
        return IntervalSet(out)

    def issubset(self, other: IntervalSet) -> bool:
        return all(other.contains_range(lo, hi) for lo, hi in self.intervals)


EMPTY_PORTS = IntervalSet()
ALL_PORTS = IntervalSet([(MIN_PORT, MAX_PORT)])


class ConnectionSet:
    """Allowed (protocol, port) pairs: a port :class:`IntervalSet` for each of TCP, UDP, SCTP."""

    __slots__ = ("_hash", "_nonempty", "by_protocol")

    def __init__(self, by_protocol: tuple[IntervalSet, IntervalSet, IntervalSet]) -> None:
        self.by_protocol = by_protocol
        self._hash = hash(by_protocol)
        self._nonempty = any(by_protocol)

    @classmethod
    def of(cls, protocol: str, ports: IntervalSet) -> ConnectionSet:
        """Ports of one protocol (``TCP``/``UDP``/``SCTP``), or of all three (``ANY``)."""
        protocol = protocol.upper()
        if protocol == "ANY":
            return cls((ports, ports, ports))
        index = PROTOCOLS.index(protocol)
        parts = [EMPTY_PORTS, EMPTY_PORTS, EMPTY_PORTS]
        parts[index] = ports
        return cls((parts[0], parts[1], parts[2]))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ConnectionSet)
            and self._hash == other._hash
            and self.by_protocol == other.by_protocol
        )

    def __hash__(self) -> int:
        return self._hash

    def __bool__(self) -> bool:
        return self._nonempty

    def __repr__(self) -> str:
        return f"ConnectionSet({self.describe()!r})"

    def allows(self, protocol: str, port: int) -> bool:
        """Whether ``protocol``/``port`` is in the set (protocols other than TCP/UDP/SCTP: never)."""
        if protocol == "TCP":
            return port in self.by_protocol[0]
        if protocol == "UDP":
            return port in self.by_protocol[1]
        if protocol == "SCTP":
            return port in self.by_protocol[2]
        return False

    def union(self, other: ConnectionSet) -> ConnectionSet:
        if other is self or not other:
            return self
        if not self:
            return other
        a, b = self.by_protocol, other.by_protocol
        return ConnectionSet((a[0].union(b[0]), a[1].union(b[1]), a[2].union(b[2])))

    @staticmethod
    def union_all(sets: Iterable[ConnectionSet]) -> ConnectionSet:
        """The union of many connection sets, each protocol merged once."""
        distinct = {item for item in sets if item}
        if len(distinct) <= 1:
            return distinct.pop() if distinct else NO_CONNECTIONS
        if ALL_CONNECTIONS in distinct:
            return ALL_CONNECTIONS
        return ConnectionSet(
            (
                IntervalSet.union_all(item.by_protocol[0] for item in distinct),
                IntervalSet.union_all(item.by_protocol[1] for item in distinct),
                IntervalSet.union_all(item.by_protocol[2] for item in distinct),
            )
        )

    @staticmethod
    def from_ranges(ranges: Iterable[tuple[str, int, int]]) -> ConnectionSet:
        """``(protocol, first, last)`` port ranges (protocol TCP, UDP, SCTP or ANY) as one set."""
        key = tuple(ranges)
        cached = _BY_RANGES.get(key)
        if cached is not None:
            return cached
        parts: tuple[list[tuple[int, int]], ...] = ([], [], [])
        for protocol, lo, hi in key:
            if protocol == "ANY":
                for part in parts:
                    part.append((lo, hi))
            else:
                parts[PROTOCOLS.index(protocol)].append((lo, hi))
        tcp, udp, sctp = (IntervalSet(part) if part else EMPTY_PORTS for part in parts)
        result = ConnectionSet((tcp, udp, sctp)) if any(parts) else NO_CONNECTIONS
        if len(_BY_RANGES) >= _BY_RANGES_LIMIT:
            _BY_RANGES.clear()
        _BY_RANGES[key] = result
        return result

    def intersection(self, other: ConnectionSet) -> ConnectionSet:
        if other is self or other is ALL_CONNECTIONS:
            return self
        if self is ALL_CONNECTIONS:
            return other
        a, b = self.by_protocol, other.by_protocol
        return ConnectionSet((a[0].intersection(b[0]), a[1].intersection(b[1]), a[2].intersection(b[2])))

    def difference(self, other: ConnectionSet) -> ConnectionSet:
        if not other or not self:
            return self
        a, b = self.by_protocol, other.by_protocol
        return ConnectionSet((a[0].difference(b[0]), a[1].difference(b[1]), a[2].difference(b[2])))

    def issubset(self, other: ConnectionSet) -> bool:
        return all(
            mine.issubset(theirs) for mine, theirs in zip(self.by_protocol, other.by_protocol, strict=True)
        )

    def is_all(self) -> bool:
        return all(ports == ALL_PORTS for ports in self.by_protocol)

    def items(self) -> list[tuple[str, str]]:
        """``[(protocol, ports)]`` in the report's vocabulary.

        ``protocol`` is TCP, UDP, SCTP or ``all`` (when the three protocols allow the same
        ports); ``ports`` is ``8080``, ``8000-8999`` or ``all``. One item per interval.
        """
        first = self.by_protocol[0]
        if first and all(ports == first for ports in self.by_protocol):
            return [("all", format_ports(lo, hi)) for lo, hi in first]
        return [
            (protocol, format_ports(lo, hi))
            for protocol, ports in zip(PROTOCOLS, self.by_protocol, strict=True)
            for lo, hi in ports
        ]

    def describe(self) -> str:
        """``TCP 8080, UDP 53`` / ``all`` / ``nothing`` for people."""
        if self.is_all():
            return "all"
        if not self:
            return "nothing"
        grouped: dict[str, list[str]] = {}
        for protocol, ports in self.items():
            grouped.setdefault(protocol, []).append(ports)
        return ", ".join(
            f"{'any protocol' if protocol == 'all' else protocol} {','.join(ports)}"
            for protocol, ports in grouped.items()
        )


def format_ports(lo: int, hi: int) -> str:
    if lo == MIN_PORT and hi == MAX_PORT:
        return "all"
    return str(lo) if lo == hi else f"{lo}-{hi}"


NO_CONNECTIONS = ConnectionSet((EMPTY_PORTS, EMPTY_PORTS, EMPTY_PORTS))
ALL_CONNECTIONS = ConnectionSet((ALL_PORTS, ALL_PORTS, ALL_PORTS))
#: Port sets as rules write them (``TCP 5000, TCP 9090``), built once: policies repeat a few.
_BY_RANGES: dict[tuple[tuple[str, int, int], ...], ConnectionSet] = {}
_BY_RANGES_LIMIT = 4096


def ip_to_int(text: str) -> int:
    """An address on the shared IPv4/IPv6 integer line; raises ``ValueError`` when malformed."""
    address = ipaddress.ip_address(text.strip())
    if address.version == 4:
        return int(address)
    return IPV6_OFFSET + int(address)


@lru_cache(maxsize=4096)  # the same few blocks recur across thousands of policies
def cidr_range(text: str) -> tuple[int, int]:
    """``10.0.0.0/8`` → its first and last address on the integer line (host bits tolerated)."""
    network = ipaddress.ip_network(text.strip(), strict=False)
    lo, hi = int(network.network_address), int(network.broadcast_address)
    if network.version == 6:
        return IPV6_OFFSET + lo, IPV6_OFFSET + hi
    return lo, hi


def int_to_ip(value: int) -> str:
    if value <= IPV4_MAX:
        return str(ipaddress.IPv4Address(value))
    return str(ipaddress.IPv6Address(value - IPV6_OFFSET))


def format_ip_range(lo: int, hi: int) -> str:
    """``10.0.0.0/8`` when the range is exactly one CIDR block, else ``first-last``."""
    if (lo <= IPV4_MAX) != (hi <= IPV4_MAX):
        return f"{int_to_ip(lo)}-{int_to_ip(hi)}"
    base = 0 if lo <= IPV4_MAX else IPV6_OFFSET
    bits = 32 if lo <= IPV4_MAX else 128
    size = hi - lo + 1
    offset = lo - base
    if size & (size - 1) == 0 and offset % size == 0:
        prefix = bits - (size.bit_length() - 1)
        return f"{int_to_ip(lo)}/{prefix}"
    return f"{int_to_ip(lo)}-{int_to_ip(hi)}"


ALL_IPV4 = (0, IPV4_MAX)
ALL_IPV6 = (IPV6_OFFSET, IPV6_MAX)
ALL_ADDRESSES = IntervalSet([ALL_IPV4, ALL_IPV6])
