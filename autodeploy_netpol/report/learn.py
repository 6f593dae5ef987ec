"""The learned policy as a values block, as manifests, or as JSON — each with its proof (pure).

Both YAML forms are commented: a header with the recording, the proof (audit engine: nothing
recorded is dropped) and the slack (connectivity engine: what is allowed beyond the recording),
then a comment above every rule and every peer with the flows it stands for (count, first and
last seen). Names, labels and addresses in comments come from flow files, so they pass through
:func:`~autodeploy_netpol.report.audit.plain` (no line breaks, control or bidi characters: a
comment cannot end early and turn hostile text into YAML); values are written by the project's
YAML writer, or as JSON strings when they are not plain printable ASCII.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..checks.learn.policy_set import CILIUM, MAIN, Coverage, LearnedObject, LearnedPolicy, LearnedRule
from ..checks.learn.proof import LearnOutcome
from ..policy.policies import INGRESS
from .audit import plain, to_text
from .audit import to_json as audit_json
from .manifests import dump_yaml

SCHEMA_ID = "https://gitlab.com/autodeploy-netpol/schemas/learned-policy.schema.json"
SCHEMA_VERSION = 1
#: Slack lines in the YAML header (JSON lists up to MAX_SLACK).
SHOWN_SLACK = 30
SHOWN_NOTES = 20


# ---------------------------------------------------------------------------------------------
# A YAML writer with comments


@dataclass
class Commented:
    """``value`` with comment lines written above it."""

    value: Any
    comments: list[str]


def _unwrap(value: Any) -> tuple[list[str], Any]:
    if isinstance(value, Commented):
        return [plain(line) for line in value.comments], value.value
    return [], value


def _scalar(value: Any) -> str:
    if isinstance(value, str) and not (value.isascii() and value.isprintable()):
        return json.dumps(value)
    text = dump_yaml(value)
    text = text.removesuffix("\n...\n").removesuffix("\n")
    return text if "\n" not in text else json.dumps(value)


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, dict | list) or not value


def _leaf(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def commented_yaml(value: Any, indent: int = 0) -> list[str]:
    """Block-style YAML lines for ``value`` (mappings, lists, scalars, :class:`Commented` anywhere)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            comments, item = _unwrap(item)
            lines += [f"{pad}# {line}" for line in comments]
            if _is_leaf(item):
                lines.append(f"{pad}{_scalar(key)}: {_leaf(item)}")
            else:
                lines.append(f"{pad}{_scalar(key)}:")
                lines += commented_yaml(item, indent + 2)
        return lines
    if isinstance(value, list):
        for item in value:
            comments, item = _unwrap(item)
            lines += [f"{pad}# {line}" for line in comments]
            if _is_leaf(item):
                lines.append(f"{pad}- {_leaf(item)}")
                continue
            nested = commented_yaml(item, indent + 2)
            first = next(index for index, line in enumerate(nested) if not line.lstrip().startswith("#"))
            # comments of the item's first key go above the dash
            lines += [f"{pad}{line.lstrip()}" for line in nested[:first]]
            lines.append(f"{pad}- {nested[first][indent + 2 :]}")
            lines += nested[first + 1 :]
        return lines
    return [f"{pad}{_leaf(value)}"]


# ---------------------------------------------------------------------------------------------
# Wording


def when(time: str) -> str:
    """``2026-11-20T10:15:02.123456789Z`` → ``2026-11-20 10:15:02``."""
    return time[:19].replace("T", " ") if time else ""


def coverage_text(coverage: Coverage) -> str:
    """``1,234 flows (3 connections), 2026-11-20 10:15:02 → 2026-11-21 09:00:00 UTC``."""
    text = f"{coverage.flows:,} flow{'s' if coverage.flows != 1 else ''}"
    if coverage.connections > 1:
        text += f" ({coverage.connections:,} connections)"
    if coverage.first:
        text += f", {when(coverage.first)} → {when(coverage.last)} UTC"
    unusual = [
        f"{verdict} {count:,}"
        for verdict, count in coverage.verdicts
        if verdict not in ("FORWARDED", "unknown")
    ]
    if unusual:
        text += f"; recorded verdicts: {', '.join(unusual)}"
    return text


def _names(names: Sequence[str], limit: int = 4) -> str:
    shown = list(names[:limit])
    if len(names) > limit:
        shown.append(f"{len(names) - limit} more")
    return ", ".join(shown)


def recording_lines(outcome: LearnOutcome) -> list[str]:
    stats = outcome.observations.stats
    files = len(stats.files)
    lines = [
        f"Recording: {stats.lines:,} lines in {files} file{'s' if files != 1 else ''} "
        f"({_names(stats.files, 3)}), {stats.flows:,} new connections; "
        f"{outcome.proof.flows:,} flows involve the app, {outcome.observations.unrelated.flows:,} do not.",
    ]
    skipped = [f"{count:,} {reason}" for reason, count in sorted(stats.skipped.items()) if count]
    if skipped:
        lines.append("Not counted: " + "; ".join(skipped) + ".")
    if stats.malformed:
        first = stats.malformed_examples[0] if stats.malformed_examples else None
        where = f" (first: {first.file}:{first.line}: {first.message})" if first else ""
        lines.append(f"Malformed lines left out: {stats.malformed:,}{where}.")
    return lines


def proof_lines(outcome: LearnOutcome) -> list[str]:
    proof = outcome.proof
    audit = proof.audit
    live = outcome.live_source
    lines = [
        f"Proof (audit engine, live state: {live}): {audit.would_drop:,} of {audit.flows:,} recorded flows "
        f"of the app would be dropped after the deploy"
        + (" - every recorded connection stays allowed." if proof.passed else " - THE PROOF FAILED."),
    ]
    for group in audit.dropped_groups[:SHOWN_SLACK]:
        lines.append(
            f"  DROPPED {group.source} => {group.destination} : {group.protocol} {group.port} ({group.would_drop:,} flows)"
        )
    if proof.slack_count:
        lines.append(
            f"Slack (connectivity engine, {proof.endpoints:,} endpoints of the recording): "
            f"{proof.slack_count:,} allowed beyond what was recorded:"
        )
        for entry in proof.slack[:SHOWN_SLACK]:
            lines.append(f"  {entry.source} => {entry.destination} : {entry.beyond} ({entry.reason})")
        if proof.slack_count > SHOWN_SLACK:
            lines.append(f"  … {proof.slack_count - SHOWN_SLACK:,} more (--format json lists them)")
    else:
        lines.append(
            f"Slack (connectivity engine, {proof.endpoints:,} endpoints of the recording): nothing is allowed "
            "between them beyond what was recorded."
        )
    lines.append(
        "Selectors also admit pods that will carry the same labels later (new replicas, new pods of a peer)."
    )
    return lines


def note_lines(outcome: LearnOutcome) -> list[str]:
    notes = [*outcome.notes, *outcome.learned.notes]
    already = outcome.learned.already_allowed
    if already:
        notes.append(
            f"{len(already):,} recorded connections are already allowed by live policies that stay "
            "after the deploy; they are not repeated here (--format json lists them)"
        )
    notes += outcome.proof.caveats
    shown = notes[:SHOWN_NOTES]
    if len(notes) > SHOWN_NOTES:
        shown.append(f"… {len(notes) - SHOWN_NOTES} more notes (--format json lists them)")
    return [f"Note: {note}" for note in shown]


def header_lines(outcome: LearnOutcome) -> list[str]:
    learned = outcome.learned
    settings = learned.settings
    lines = [
        f"Network policy learned from recorded traffic by autodeploy-netpol {__version__}",
        f"for release {settings.release} ({', '.join(settings.helm_releases)}) in namespace {learned.namespace}:",
        "inbound"
        + (" and outbound" if settings.egress else "")
        + " traffic of the app's web and worker pods, every track.",
        *recording_lines(outcome),
        *proof_lines(outcome),
        *note_lines(outcome),
    ]
    return lines


def _rule_comment(rule: LearnedRule, home: str) -> list[str]:
    ports = ", ".join(str(p) for p in rule.ports) or "every port"
    if len(rule.peers) == 1:
        entry = rule.peers[0]
        who = _names(entry.names) if entry.names else entry.selector.describe(home)
        if entry.note:
            who += f" ({entry.note})"
    else:
        who = f"{len(rule.peers)} peers"
    lines = [
        f"{'From' if rule.direction == INGRESS else 'To'} {who} on {ports}: {coverage_text(rule.coverage)}"
    ]
    if rule.note:
        lines.insert(0, rule.note)
    return lines


def _peer_comment(entry: Any, home: str) -> list[str]:
    names = _names(entry.names) if entry.names else entry.selector.describe(home)
    text = f"{names}: {coverage_text(entry.coverage)}"
    return [text + (f" ({entry.note})" if entry.note else "")]


def _commented_spec(obj: LearnedObject, home: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """``obj``'s spec (or ``spec``, the same rules as the chart rendered them) with comments."""
    spec = dict(obj.spec(home) if spec is None else spec)
    for direction, rules in (("ingress", obj.ingress), ("egress", obj.egress)):
        items = spec.get(direction)
        if not isinstance(items, list):
            continue
        items = spec[direction] = list(items)
        for index, rule in enumerate(rules):
            item = dict(items[index])
            peers_key = next(k for k in ("from", "to", "fromEntities", "toEntities") if k in item)
            if len(rule.peers) > 1:
                item[peers_key] = [
                    Commented(peer, _peer_comment(entry, home))
                    for peer, entry in zip(item[peers_key], rule.peers, strict=True)
                ]
            items[index] = Commented(item, _rule_comment(rule, home))
    return spec


def _object_comment(obj: LearnedObject) -> list[str]:
    component = obj.component
    if component is None:
        return []
    what = (
        "Cilium entities (reserved identities a NetworkPolicy cannot name)"
        if obj.role == CILIUM
        else "pods and addresses"
    )
    covered = Coverage.join(rule.coverage for rule in obj.rules)
    return [
        f"Component {component.name} ({_names(component.workloads)}): {what}; {coverage_text(covered)}",
    ]


def _main_comments(learned: LearnedPolicy) -> dict[str, list[str]]:
    releases = ", ".join(learned.settings.helm_releases)
    return {
        "podSelector": [
            f"Every pod of the app: web and workers of every track (releases {releases}).",
            "Pods the recording never saw are isolated too.",
        ],
        "ingress": [
            "Inbound: only what the policies below allow ([] replaces the chart's default rule, which Helm",
            "would otherwise keep).",
        ],
    }


def _commented_main(learned: LearnedPolicy, rendered: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = _commented_spec(learned.main, learned.namespace, rendered)
    for key, comments in _main_comments(learned).items():
        if key in spec:
            spec[key] = Commented(spec[key], comments)
    return spec


# ---------------------------------------------------------------------------------------------
# The formats


def to_values(outcome: LearnOutcome, *, enabled: bool = False) -> str:
    """The block to paste into ``.gitlab/auto-deploy-values.yaml``: ``networkPolicy`` (disabled
    unless ``enabled``) and, commented out unless ``enabled``, the ``customResources`` entries."""
    learned = outcome.learned
    lines = [f"# {line}" for line in map(plain, header_lines(outcome))]
    switch = (
        ["Enforced as soon as this is deployed."]
        if enabled
        else ["Nothing is enforced until you set this to true; review the rules and the proof first."]
    )
    block = {
        "networkPolicy": {
            "enabled": Commented(enabled, switch),
            "spec": _commented_main(learned),
        }
    }
    lines += commented_yaml(block)
    extra = learned.extra_objects
    if extra:
        entries = [
            Commented(
                {
                    **obj.manifest(learned.helm_release, learned.namespace, template=True),
                    "spec": _commented_spec(obj, learned.namespace),
                },
                _object_comment(obj),
            )
            for obj in extra
        ]
        custom = commented_yaml({"customResources": entries})
        lines += [
            "# What one NetworkPolicy cannot express: a policy per component of the app (and a",
            "# CiliumNetworkPolicy for Cilium's reserved identities), as customResources entries.",
            "# Names use {{ .Release.Name }}, which the chart renders with tpl from auto-deploy-image v2.91.0",
            "# on, so that the stable, canary and rollout releases each own their copy. If your file already",
            "# has a customResources list, add these entries to it.",
        ]
        if enabled:
            lines += custom
        else:
            lines += [
                "# The chart deploys every customResources entry as soon as it is in the file (there is no",
                "# enabled switch): remove the leading '# ' of the lines below when you set enabled: true.",
            ]
            lines += [f"# {line}" for line in custom]
    return "\n".join(lines) + "\n"


def to_manifests(outcome: LearnOutcome) -> str:
    """The objects the deploy of the stable release would create, with their namespace."""
    learned = outcome.learned
    lines = [f"# {line}" for line in map(plain, header_lines(outcome))]
    lines.append(
        f"# The deploy of {learned.helm_release} creates these objects; the canary and rollout releases"
        " create the same ones under their own names."
    )
    for obj, manifest in zip(learned.objects, learned.manifests(), strict=False):
        document = dict(manifest)
        if obj.role == MAIN:  # as the chart renders it: merged with its defaults, keys sorted
            document["spec"] = _commented_main(learned, manifest["spec"])
        else:
            document["spec"] = _commented_spec(obj, learned.namespace, manifest["spec"])
        lines.append("---")
        lines += [f"# {plain(line)}" for line in _object_comment(obj)]
        lines += commented_yaml(document)
    return "\n".join(lines) + "\n"


def _coverage_json(coverage: Coverage) -> dict[str, Any]:
    return {
        "flows": coverage.flows,
        "connections": coverage.connections,
        "firstSeen": coverage.first or None,
        "lastSeen": coverage.last or None,
        "verdicts": dict(coverage.verdicts),
    }


def _rules_json(learned: LearnedPolicy) -> list[dict[str, Any]]:
    out = []
    for obj in learned.objects:
        for rule in obj.rules:
            out.append(
                {
                    "policy": obj.name(learned.helm_release),
                    "kind": obj.kind,
                    "component": obj.component.name if obj.component else None,
                    "direction": rule.direction,
                    "peers": [
                        {
                            "selector": entry.selector.describe(learned.namespace),
                            "names": list(entry.names),
                            "note": entry.note or None,
                            **_coverage_json(entry.coverage),
                        }
                        for entry in rule.peers
                    ],
                    "ports": [str(port) for port in rule.ports],
                    "note": rule.note or None,
                    **_coverage_json(rule.coverage),
                }
            )
    return out


def to_json(outcome: LearnOutcome) -> dict[str, Any]:
    """The document of ``schemas/learned-policy.schema.json``."""
    learned = outcome.learned
    settings = learned.settings
    stats = outcome.observations.stats
    proof = outcome.proof
    return {
        "$schema": SCHEMA_ID,
        "schemaVersion": SCHEMA_VERSION,
        "kind": "LearnedPolicy",
        "tool": {"name": "autodeploy-netpol", "version": __version__},
        "release": settings.release,
        "helmReleases": list(settings.helm_releases),
        "namespace": learned.namespace,
        "settings": {
            "egress": settings.egress,
            "cidrPrefix": {"ipv4": settings.cidr_prefix4, "ipv6": settings.cidr_prefix6},
            "maxCidrs": settings.max_cidrs,
            "mergePortRanges": settings.merge_port_ranges,
            "live": outcome.live_source,
        },
        "values": learned.values(),
        "objects": learned.manifests(),
        "components": [
            {"name": c.name, "selector": c.selector(), "workloads": list(c.workloads), "observed": c.observed}
            for c in learned.components
        ],
        "rules": _rules_json(learned),
        "dns": _coverage_json(learned.dns) if settings.egress else None,
        "alreadyAllowed": [
            {
                "direction": item.direction,
                "source": item.source,
                "destination": item.destination,
                "protocol": item.protocol,
                "port": item.port,
                "flows": item.flows,
                "policies": list(item.policies),
            }
            for item in learned.already_allowed
        ],
        "proof": {
            "passed": proof.passed,
            "flows": proof.audit.flows,
            "wouldDrop": proof.audit.would_drop,
            "dropped": audit_json(proof.audit, 0)["groups"] if not proof.passed else [],
            "slackCount": proof.slack_count,
            "slack": [
                {
                    "source": entry.source,
                    "destination": entry.destination,
                    "allowed": entry.allowed,
                    "beyond": entry.beyond,
                    "reason": entry.reason,
                }
                for entry in proof.slack
            ],
            "endpoints": proof.endpoints,
        },
        "recording": {
            "files": list(stats.files),
            "lines": stats.lines,
            "flows": stats.flows,
            "appFlows": proof.audit.flows,
            "unrelatedFlows": outcome.observations.unrelated.flows,
            "egressNotLearned": learned.egress_not_learned.flows,
            "skipped": dict(sorted(stats.skipped.items())),
            "malformed": stats.malformed,
            "malformedExamples": [
                {"file": m.file, "line": m.line, "message": m.message} for m in stats.malformed_examples
            ],
        },
        "notes": [*outcome.notes, *learned.notes, *proof.caveats],
    }


def failure_text(outcome: LearnOutcome) -> str:
    """For stderr when the proof fails: the audit report of the flows the suggestion would drop."""
    return to_text(outcome.proof.audit, 0)


def notes_text(outcome: LearnOutcome) -> Iterable[str]:
    """One ``note:`` line per note, for stderr."""
    for line in note_lines(outcome):
        yield "note: " + plain(line.removeprefix("Note: "))


__all__ = [
    "Commented",
    "commented_yaml",
    "failure_text",
    "notes_text",
    "to_json",
    "to_manifests",
    "to_values",
]
