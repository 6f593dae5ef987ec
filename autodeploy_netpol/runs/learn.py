"""``suggest --from-flows``: read the recording once, learn the policy, prove it.

The flow files are streamed through the recorder (memory grows with distinct connections);
the policy is built from the aggregate and then proven against it. The live state (a snapshot
or the cluster) comes in already read, as plain objects, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..checks.learn import (
    FlowRecorder,
    LearnedPolicy,
    LearnSettings,
    Observations,
    Proof,
    learn_policy,
    prove,
)
from ..errors import ExitCode
from ..sources.flows import ReadStats, read_flows


@dataclass(frozen=True)
class LearnRequest:
    """What to learn from: flow files, settings, and the live state (``None``: none)."""

    flow_files: tuple[str, ...]
    settings: LearnSettings
    live: Sequence[Mapping[str, Any]] | None = None
    #: where the live state came from, for the report ("snapshot live.yaml", "cluster", "none")
    live_source: str = "none"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LearnOutcome:
    request: LearnRequest
    observations: Observations
    learned: LearnedPolicy
    proof: Proof
    notes: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> ExitCode:
        """0 when the proof holds; :attr:`ExitCode.PROOF` when recorded flows would be dropped."""
        return ExitCode.OK if self.proof.passed else ExitCode.PROOF


def run_learn(request: LearnRequest) -> LearnOutcome:
    """Learn and prove; raises :class:`~autodeploy_netpol.errors.InputError` for unreadable flow
    files or a recording that does not involve the release."""
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
    learned = learn_policy(observations, settings, request.live)
    proof = prove(learned, observations, request.live)
    return LearnOutcome(request, observations, learned, proof, tuple(request.notes))
