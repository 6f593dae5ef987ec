"""The connectivity change as a picture: a Mermaid flowchart for the merge-request comment.

GitLab renders a fenced ```` ```mermaid ```` block in a note as a diagram. Nodes are workloads
(address ranges and Cilium entities too), edges the connections a change adds (solid green
arrows, labelled ``+ TCP 8080``) or removes (dashed red arrows, ``− TCP 5005``): the two differ
in colour, line style and label, so the picture reads without colour too. Hypothetical endpoints
(pods a selector names where the live state lists none) get a dashed, italic box.

Readable size: up to :data:`MAX_NODES` nodes and :data:`MAX_EDGES` edges are drawn one by one;
beyond that workloads are collapsed into their namespaces (``shop/*``, edges counting the
connections they stand for), and beyond that again only the :data:`MAX_EDGES` edges with the most
connections are drawn. The caption says what was collapsed; the table below the picture keeps
every change.

Every label goes through :func:`~.escape.mermaid_label`; node ids are generated (``n0``, ``n1``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .escape import code_block, mermaid_label

MAX_NODES = 24
MAX_EDGES = 40
#: Mermaid's link styles: newly allowed (GitHub/GitLab green), no longer allowed (red, dashed).
GAINED_STYLE = "stroke:#1a7f37,stroke-width:2px,color:#1a7f37"
LOST_STYLE = "stroke:#cf222e,stroke-width:2px,stroke-dasharray:6 4,color:#cf222e"
HYPOTHETICAL_STYLE = "stroke-dasharray:4 3,font-style:italic"
GAINED, LOST = "+", "\u2212"  # a real minus sign reads better than a hyphen in the label
OUTSIDE = "outside the cluster"


@dataclass(frozen=True)
class Change:
    """One connection change between two nodes: ``sign`` is :data:`GAINED` or :data:`LOST`."""

    src: str
    dst: str
    allowed: str  # the connections, as ``connectivity`` writes them: "TCP 8080, UDP 53"
    sign: str
    count: int = 1  # connections (node pairs) it stands for, once collapsed


@dataclass(frozen=True)
class Graph:
    """The Mermaid source lines and a caption saying what the picture leaves out or merges."""

    lines: tuple[str, ...]
    caption: str

    def markdown(self) -> list[str]:
        """The fenced block (its fence longer than any backtick run inside) and the caption."""
        return [code_block(self.lines, "mermaid"), "", self.caption]


def _group(node: str) -> str:
    """What a node collapses into: a workload's namespace, ``outside the cluster`` for addresses."""
    if node.startswith("entity:"):
        return node
    try:
        ipaddress.ip_address(re.split(r"[/-]", node, maxsplit=1)[0])
    except ValueError:
        pass
    else:
        return OUTSIDE  # an address range: 10.0.0.0/8, 10.0.0.0-10.0.0.255
    if "/" in node:
        return node.split("/", 1)[0] + "/*"
    return OUTSIDE


def _nodes(changes: Iterable[Change]) -> list[str]:
    return list(dict.fromkeys(node for change in changes for node in (change.src, change.dst)))


def _collapse(changes: Sequence[Change]) -> list[Change]:
    merged: dict[tuple[str, str, str], int] = {}
    for change in changes:
        src, dst = _group(change.src), _group(change.dst)
        key = (src, dst, change.sign)
        merged[key] = merged.get(key, 0) + change.count
    return [
        Change(src, dst, f"{count} connection{'s' if count != 1 else ''}", sign, count)
        for (src, dst, sign), count in merged.items()
    ]


def change_graph(
    added: Sequence[tuple[str, str, str]],
    removed: Sequence[tuple[str, str, str]],
    *,
    hypothetical: Iterable[str] = (),
    max_nodes: int = MAX_NODES,
    max_edges: int = MAX_EDGES,
) -> Graph:
    """The flowchart of ``added`` and ``removed`` ``(src, dst, allowed)`` pairs."""
    changes = [Change(src, dst, allowed, GAINED) for src, dst, allowed in added]
    changes += [Change(src, dst, allowed, LOST) for src, dst, allowed in removed]
    total = len(changes)
    marked = set(hypothetical)
    caption = "Solid green arrows (+): newly allowed. Dashed red arrows (\u2212): no longer allowed."
    if len(_nodes(changes)) > max_nodes or len(changes) > max_edges:
        members: dict[str, list[str]] = {}
        for node in _nodes(changes):
            members.setdefault(_group(node), []).append(node)
        marked = {group for group, nodes in members.items() if all(node in marked for node in nodes)}
        changes = _collapse(changes)
        caption += " Workloads are collapsed into their namespaces (`ns/*`); each arrow counts the connections it stands for."
        if len(changes) > max_edges:
            changes = sorted(changes, key=lambda change: (-change.count, change.src, change.dst, change.sign))
            changes = changes[:max_edges]
            shown = sum(change.count for change in changes)
            caption += f" The {max_edges} busiest arrows are drawn ({shown} of {total} connection changes)."
        caption += " The table below lists every change."
    nodes = _nodes(changes)
    ids = {node: f"n{index}" for index, node in enumerate(nodes)}
    lines = ["flowchart LR"]
    lines += [f'  {ids[node]}["{mermaid_label(node)}"]' for node in nodes]
    gained: list[str] = []
    lost: list[str] = []
    for index, change in enumerate(changes):
        arrow = "-->" if change.sign == GAINED else "-.->"
        label = mermaid_label(f"{change.sign} {change.allowed}", 48)
        lines.append(f'  {ids[change.src]} {arrow}|"{label}"| {ids[change.dst]}')
        (gained if change.sign == GAINED else lost).append(str(index))
    if gained:
        lines.append(f"  linkStyle {','.join(gained)} {GAINED_STYLE}")
    if lost:
        lines.append(f"  linkStyle {','.join(lost)} {LOST_STYLE}")
    dashed = [ids[node] for node in nodes if node in marked]
    if dashed:
        lines.append(f"  classDef hypothetical {HYPOTHETICAL_STYLE}")
        lines.append(f"  class {','.join(dashed)} hypothetical")
    if dashed:
        caption += " Dashed boxes are hypothetical pods (a selector names them; the live state lists none)."
    return Graph(tuple(lines), caption)
