"""The live side: what is in the cluster, read from the Kubernetes API or from a snapshot file.

Both sources produce a :class:`LiveState`: plain manifests as the API server serves them
(``apiVersion``, ``kind``, ``metadata``, ``spec``), so that the pure comparison code never
knows where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LiveState:
    """Objects read from one source, plus notes for the report (e.g. "Cilium CRD not installed")."""

    objects: list[dict[str, Any]]
    source: str
    notes: list[str] = field(default_factory=list)
