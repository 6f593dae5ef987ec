"""What every run reads its inputs through: one manifest reader and at most one cluster reader.

A :class:`RunInputs` lives for one run. Its :class:`~..sources.manifests.ManifestReader` reads
standard input at most once, however many options say ``-``; its cluster reader is opened on
first use (a run given a snapshot never resolves a kubeconfig) and closed when the run ends.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import BinaryIO

from ..sources.cluster import ClusterAccess, ClusterReader
from ..sources.live import LiveScope, LiveSnapshot, read_live
from ..sources.manifests import ManifestReader


@dataclass(frozen=True)
class LiveInput:
    """Where a run reads the live state: snapshot PATHs (``--live``), else the cluster."""

    snapshot: tuple[str, ...] = ()
    cluster: ClusterAccess = field(default_factory=ClusterAccess)

    @property
    def from_snapshot(self) -> bool:
        """Whether the live state comes from a snapshot rather than the cluster."""
        return bool(self.snapshot)


class RunInputs:
    """The readers of one run (a context manager: the cluster connection closes at its end)."""

    def __init__(self, live: LiveInput, *, stdin: BinaryIO | None = None) -> None:
        self.live = live
        self.manifests = ManifestReader(stdin)
        self._stack = ExitStack()
        self._cluster: ClusterReader | None = None

    def cluster(self) -> ClusterReader:
        """The cluster reader, opened on first use."""
        if self._cluster is None:
            self._cluster = self._stack.enter_context(ClusterReader(self.live.cluster))
        return self._cluster

    def read_live(self, scope: LiveScope) -> LiveSnapshot:
        """The live state, from the snapshot PATHs or the cluster; call it once per run."""
        if self.live.from_snapshot:
            return read_live(self.live.snapshot, scope, reader=self.manifests)
        return read_live(self.cluster(), scope)

    def __enter__(self) -> RunInputs:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()
