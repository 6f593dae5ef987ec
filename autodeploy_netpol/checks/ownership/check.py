"""Ownership over one namespace or many, as the drift command runs it (pure).

The drift command compares one environment (``--namespace``) or a whole rendered stream across
namespaces (``--all-namespaces``). Ownership needs the app's release in each namespace: the
``--release`` given for the command's namespace, else the ``release`` label of the desired
objects there (Auto Deploy's chart writes it; ``<release>-canary`` / ``-rollout`` name the track).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...kube.labels import RELEASE_LABEL
from ...kube.names import POLICY_KINDS
from ...kube.releases import STABLE, helm_release, split_release
from ..plan import DeployPlan, HistoryReader
from .classify import OwnershipVerdict
from .conflicts import OwnershipReport, OwnershipWarning, assess


@dataclass(frozen=True)
class OwnershipCheck:
    """What the drift report carries: ownership per live policy, warnings, notes."""

    reports: tuple[OwnershipReport, ...]
    notes: tuple[str, ...]

    @property
    def verdicts(self) -> list[OwnershipVerdict]:
        """Every verdict, by namespace, kind and name."""
        return [v for report in self.reports for v in report.verdicts]

    @property
    def warnings(self) -> list[OwnershipWarning]:
        """Every warning, most severe first within each namespace."""
        return [w for report in self.reports for w in report.warnings]


def _namespace_of(obj: Mapping[str, Any], default: str | None) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or default or "")


def check_ownership(
    desired: Iterable[Mapping[str, Any]],
    live: Iterable[Mapping[str, Any]],
    *,
    namespace: str | None,
    release: str | None,
    track: str = STABLE,
    all_namespaces: bool = False,
    history: HistoryReader | None = None,
    plan: DeployPlan | None = None,
) -> OwnershipCheck:
    """Assess every namespace that has desired objects, or is the command's namespace.

    ``plan`` is the run's plan (drift made it already, with ``history`` read once); without it each
    namespace is planned here.
    """
    desired_by_ns: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for obj in desired:
        if obj.get("kind") in POLICY_KINDS:
            desired_by_ns[_namespace_of(obj, namespace)].append(obj)
    live_by_ns: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for obj in live:
        if obj.get("kind") in POLICY_KINDS:
            live_by_ns[_namespace_of(obj, namespace)].append(obj)
    targets = set(desired_by_ns)
    if namespace and not all_namespaces:
        targets = {namespace}
    elif namespace:
        targets.add(namespace)
    reports: list[OwnershipReport] = []
    notes: list[str] = []
    skipped: list[str] = []
    for ns in sorted(targets):
        base, ns_track = (release, track) if release and ns == namespace else (None, track)
        if base is None:
            labelled = sorted(
                {
                    str((d.get("metadata") or {}).get("labels", {}).get(RELEASE_LABEL) or "")
                    for d in desired_by_ns.get(ns, [])
                }
                - {""}
            )
            if len(labelled) != 1:
                skipped.append(ns)
                continue
            base, ns_track = split_release(labelled[0])
        ns_plan = plan.plan_for(ns) if plan is not None else None
        last_applied = None
        if ns_plan is None and history is not None:
            last_applied = history(ns, helm_release(base, ns_track))
        report = assess(
            desired_by_ns.get(ns, []),
            live_by_ns.get(ns, []),
            release=base,
            namespace=ns,
            track=ns_track,
            last_applied=last_applied,
            plan=ns_plan,
        )
        reports.append(report)
        notes.extend(f"ownership {ns}: {note}" for note in report.notes)
    if skipped:
        notes.append(
            "ownership not assessed in "
            + ", ".join(skipped)
            + ": no single release known there (pass --release, or desired objects with a release label)"
        )
    return OwnershipCheck(tuple(reports), tuple(notes))
