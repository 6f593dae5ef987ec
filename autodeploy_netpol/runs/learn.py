"""``suggest --from-flows``: read the recording once, learn the policy, prove it.

The flow files are streamed through the recorder (memory grows with distinct connections);
the live state, when there is one (a snapshot or the cluster), is read once through the run's
inputs; the policy is built from the aggregate and then proven against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from ..checks.learn import FlowRecorder, LearnOutcome, LearnSettings, learn_policy, prove
from ..files import input_name
from ..kube.manifests import Manifest
from ..sources.flows import ReadStats, read_flows
from ..sources.live import LiveScope
from .inputs import LiveInput, RunInputs
from .locating import located


@dataclass(frozen=True)
class LearnRequest:
    """What to learn from: flow files, settings, and the live state (``None``: none)."""

    flow_files: tuple[str, ...]
    settings: LearnSettings
    live: LiveInput | None = None


def run_learn(request: LearnRequest, *, stdin: BinaryIO | None = None) -> LearnOutcome:
    """Learn and prove; raises :class:`~autodeploy_netpol.errors.InputError` for unreadable flow
    files or a recording that does not involve the release, ``ClusterError`` when the cluster
    cannot be read."""
    settings = request.settings
    stats = ReadStats()
    recorder = FlowRecorder(
        settings.helm_releases,
        settings.namespace,
        cidr_prefix4=settings.cidr_prefix4,
        cidr_prefix6=settings.cidr_prefix6,
    )
    recorder.run(read_flows(request.flow_files, stats))
    observations = recorder.observations(stats)
    live: list[dict[str, Any]] | None = None
    read: tuple[Manifest, ...] = ()
    source = "none (no --live or cluster)"
    notes: list[str] = []
    if request.live is not None:
        with RunInputs(request.live, stdin=stdin) as inputs:
            snapshot = inputs.read_live(LiveScope(settings.namespace, context=True))
        live = snapshot.engine_objects()
        read = snapshot.manifests
        notes += [*snapshot.notes, *snapshot.unread_notes()]
        source = (
            f"snapshot {', '.join(request.live.snapshot)}"
            if request.live.from_snapshot
            else f"cluster, namespace {settings.namespace}"
        )
    recording = ", ".join(input_name(path) for path in request.flow_files)
    # an error about a live object names its file and line; one about the recording, its files
    with located(read, fallback=recording):
        learned = learn_policy(observations, settings, live)
        proof = prove(learned, observations, live)
    return LearnOutcome(observations, learned, proof, source, tuple(notes))
