"""Outside addresses → a few CIDR blocks: the prefix bound and the joining rule.

1. Every recorded address stands for its block of ``--cidr-prefix`` bits (default ``32,128``:
   the address itself). Blocks are never narrower than that bound; a wider bound (``24``)
   trades precision for policies that survive an address change inside a provider's range.
2. Blocks that together fill their parent block are merged (nothing is added).
3. While more than ``--max-cidrs`` blocks remain, the two neighbouring blocks (address order,
   same family) whose smallest common block is the narrowest are replaced by that block —
   e.g. ``203.0.113.7/32`` and ``203.0.113.9/32`` become ``203.0.113.0/28`` before
   ``198.51.100.0/24`` and ``203.0.113.0/24`` become ``192.0.0.0/4``. Ties go to the lower
   address. Only this step allows addresses the recording did not show; the proof's slack
   lists them. IPv4 and IPv6 are never joined, so each family keeps at least one block.

The result depends only on the set of blocks: the same recording always gives the same CIDRs.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable

from ...text import ascii_int

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _common(a: Network, b: Network) -> Network:
    """The smallest block holding both ``a`` and ``b`` (same family)."""
    bits = a.max_prefixlen
    shared = bits - (int(a.network_address) ^ int(b.network_address)).bit_length()
    prefix = min(shared, a.prefixlen, b.prefixlen)
    return a.supernet(new_prefix=prefix) if prefix < a.prefixlen else a


def _collapse(blocks: Iterable[Network]) -> list[Network]:
    collapsed: Iterable[Network] = ipaddress.collapse_addresses(blocks)  # type: ignore[type-var]
    return sorted(collapsed, key=lambda n: int(n.network_address))


def join_blocks(blocks: Iterable[Network], max_cidrs: int) -> list[Network]:
    """``blocks`` as at most ``max_cidrs`` CIDRs (at least one per address family) covering them all.

    Sorted IPv4 first, then by address.
    """
    families: dict[int, list[Network]] = {}
    for block in blocks:
        families.setdefault(block.version, []).append(block)
    merged = {version: _collapse(items) for version, items in families.items()}
    limit = max(max_cidrs, len(merged))
    while sum(len(items) for items in merged.values()) > limit:
        best: tuple[int, int, int, Network] | None = None  # (-prefix, version, address, joined)
        for version, items in merged.items():
            for left, right in itertools.pairwise(items):
                joined = _common(left, right)
                candidate = (-joined.prefixlen, version, int(joined.network_address), joined)
                if best is None or candidate[:3] < best[:3]:
                    best = candidate
        if best is None:  # one block per family left
            break
        joined = best[3]
        version = joined.version
        merged[version] = _collapse(
            [joined, *(item for item in merged[version] if not item.subnet_of(joined))]  # type: ignore[arg-type]
        )
    return [*merged.get(4, []), *merged.get(6, [])]


def parse_prefix_bound(text: str) -> tuple[int, int]:
    """``"24"`` → ``(24, 128)``; ``"24,64"`` → ``(24, 64)``. Raises ``ValueError``."""
    parts = [part.strip() for part in text.split(",")]
    numbers = [number for number in map(ascii_int, parts) if number is not None]
    if len(parts) > 2 or len(numbers) != len(parts):
        raise ValueError(f"{text!r} is not N or N,M (IPv4 and IPv6 prefix lengths)")
    ipv4 = numbers[0]
    ipv6 = numbers[1] if len(numbers) == 2 else 128
    if not 0 <= ipv4 <= 32:
        raise ValueError(f"IPv4 prefix /{ipv4} is not between 0 and 32")
    if not 0 <= ipv6 <= 128:
        raise ValueError(f"IPv6 prefix /{ipv6} is not between 0 and 128")
    return ipv4, ipv6
