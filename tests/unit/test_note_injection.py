"""Every note body the tool can post, rendered as GitLab reads it, with generated hostile strings
in every field a cluster (or a snapshot, a flow file, a saved report) controls.

For each note body hypothesis puts a different hostile string in every field at once, and the
note must keep every rule of tests/gitlab_markdown.py (no quick-action line, no HTML the tool
does not write, no reference, mention or link, whole table rows, no control character). Where
the renderer works from a document alone (drift, audit), the rendered element structure must
also be the same as with harmless values in those fields: hostile text changes words, never the
shape of the note. The note bodies from a whole hostile cluster through the real commands are
in tests/gitlab_integration/test_comment_cli.py.

``NOTE_INJECTION_EXAMPLES`` sets the examples per note body (default 200, each with a string
for every field: 200 × 45 for drift).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from gitlab_markdown import assert_safe_note, check_note, hostile_texts, mermaid_blocks, render
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodeploy_netpol.gitlab.note import note_body

EXAMPLES = settings(
    max_examples=int(os.environ.get("NOTE_INJECTION_EXAMPLES", "200")),
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
JOB_URL = "https://gitlab.example.com/shop/-/jobs/9"
LINKS = (JOB_URL + "/",)
HARMLESS = "x"

Values = dict[str, Any]

# -- the drift report (with ownership warnings and the connectivity section) --------------------

DRIFT_FIELDS: Values = {
    "environment": "production",
    "scope.namespace": "shop",
    "scope.releases": "production",
    "changed.kind": "NetworkPolicy",
    "changed.namespace": "shop",
    "changed.name": "production-auto-deploy",
    "changed.owner": "kubectl-edit",
    "changed.change": "changed",
    "changed.scopes": "spec",
    "changed.path": "spec.ingress[0].ports[0].port",
    "changed.path as a tuple": "app",
    "changed.path.scope": "spec",
    "changed.live": "8080",
    "changed.desired": "5000",
    "missing.name": "production-auto-deploy-allow-metrics",
    "missing.spec key": "podSelector",
    "missing.spec value": "web",
    "unexpected.name": "production-auto-deploy-allow-debug",
    "unexpected.spec key": "ingress",
    "unexpected.spec label key": "app",
    "unexpected.spec cidr": "0.0.0.0/0",
    "ignored.name": "production-auto-deploy",
    "ignored.change": "changed",
    "ignored.rule": "metadata.labels.chart",
    "context.name": "allow-inbound-http",
    "context.namespace": "shop",
    "context.owner": "ui-editor",
    "ownership.name": "allow-inbound-http",
    "ownership.owner": "ui-editor",
    "ownership.reason": "saved by the GitLab policy editor",
    "warning.code": "override",
    "warning.kind": "CiliumNetworkPolicy",
    "warning.name": "allow-inbound-http",
    "warning.severity": "error",
    "warning.reason": "the deploy overwrites a policy edited in the UI",
    "warning.message": "edited by kubectl",
    "warning.detail": "spec.ingress[0] set by manager kubectl-edit",
    "note": "ownership shop: Helm history not readable",
    "connectivity.added.src": "shop/web",
    "connectivity.added.dst": "monitoring/(hypothetical) any pod",
    "connectivity.added.protocol": "TCP",
    "connectivity.added.ports": "9090",
    "connectivity.added.allowed": "TCP 9090, UDP 53",
    "connectivity.removed.src": "shop/web[pods with tier=web]",
    "connectivity.removed.dst": "shop/api",
    "connectivity.removed.allowed": "TCP 5005",
    "connectivity.hypothetical": "monitoring/(hypothetical) any pod",
    "connectivity.unchanging": "NetworkPolicy shop/production-auto-deploy",
    "connectivity.note": "NetworkPolicy shop/bad (live) is left out: it cannot be modelled",
}


def drift_document(v: Values) -> dict[str, Any]:
    """A drift report document (the JSON every drift rendering is made from) from ``v``."""
    return {
        "schemaVersion": 1,
        "kind": "DriftReport",
        "tool": {"name": "autodeploy-netpol", "version": "0"},
        "environment": v["environment"],
        "scope": {"namespace": v["scope.namespace"], "allNamespaces": False, "releases": [v["scope.releases"]]},
        "summary": {
            "verdict": "drift",
            "changed": 1,
            "missing": 1,
            "unexpected": 1,
            "inSync": 0,
            "ignored": 1,
            "context": 1,
        },
        "drift": [
            {
                "kind": v["changed.kind"],
                "namespace": v["changed.namespace"],
                "name": v["changed.name"],
                "change": v["changed.change"],
                "owner": v["changed.owner"],
                "scopes": [v["changed.scopes"], "metadata"],
                "paths": [
                    {
                        "path": v["changed.path"],
                        "scope": v["changed.path.scope"],
                        "live": v["changed.live"],
                        "desired": v["changed.desired"],
                    },
                    # field paths may reach the renderer as tuples (keys and list indices)
                    {"path": ["metadata", "labels", v["changed.path as a tuple"]], "scope": "metadata", "live": 1},
                ],
            },
            {
                "kind": "NetworkPolicy",
                "namespace": "shop",
                "name": v["missing.name"],
                "change": "missing",
                "spec": {v["missing.spec key"]: {"matchLabels": {"tier": v["missing.spec value"]}}},
            },
            {
                "kind": "NetworkPolicy",
                "namespace": "shop",
                "name": v["unexpected.name"],
                "change": "unexpected",
                "spec": {
                    "podSelector": {"matchLabels": {v["unexpected.spec label key"]: "debug"}},
                    v["unexpected.spec key"]: [{"from": [{"ipBlock": {"cidr": v["unexpected.spec cidr"]}}]}],
                },
            },
        ],
        "inSync": [],
        "ignored": [
            {
                "kind": "NetworkPolicy",
                "namespace": "shop",
                "name": v["ignored.name"],
                "change": v["ignored.change"],
                "scopes": ["metadata"],
                "paths": [],
                "rules": [v["ignored.rule"]],
            }
        ],
        "context": [
            {"kind": "NetworkPolicy", "namespace": v["context.namespace"], "name": v["context.name"], "owner": v["context.owner"]}
        ],
        "notes": [v["note"]],
        "ownership": [
            {
                "kind": "NetworkPolicy",
                "namespace": "shop",
                "name": v["ownership.name"],
                "owner": v["ownership.owner"],
                "reason": v["ownership.reason"],
            }
        ],
        "warnings": [
            {
                "kind": v["warning.kind"],
                "namespace": "shop",
                "name": v["warning.name"],
                "owner": "ui-editor",
                "code": v["warning.code"],
                "severity": v["warning.severity"],
                "reason": v["warning.reason"],
                "details": [v["warning.detail"]],
            },
            {"kind": "NetworkPolicy", "namespace": "shop", "name": "other", "type": "manual", "message": v["warning.message"]},
        ],
        "connectivity": {
            "verdict": "changes",
            "added": [
                {
                    "src": v["connectivity.added.src"],
                    "dst": v["connectivity.added.dst"],
                    "protocol": v["connectivity.added.protocol"],
                    "ports": v["connectivity.added.ports"],
                }
            ],
            "removed": [
                {"src": v["connectivity.removed.src"], "dst": v["connectivity.removed.dst"], "protocol": "TCP", "ports": "5005"}
            ],
            # the pairs the renderers show, in the notation of ``connectivity`` (the graph's edges)
            "addedPairs": [
                {"src": v["connectivity.added.src"], "dst": v["connectivity.added.dst"], "allowed": v["connectivity.added.allowed"]},
                {"src": v["connectivity.added.dst"], "dst": v["connectivity.removed.dst"], "allowed": "TCP 80"},
            ],
            "removedPairs": [
                {"src": v["connectivity.removed.src"], "dst": v["connectivity.removed.dst"], "allowed": v["connectivity.removed.allowed"]}
            ],
            "changingObjects": [],
            "unchangingObjects": [v["connectivity.unchanging"]],
            "judgedPerObject": True,
            "workloads": 2,
            "hypothetical": [v["connectivity.hypothetical"]],
            "notes": [v["connectivity.note"]],
        },
    }


def older_drift_document(v: Values) -> dict[str, Any]:
    """A drift report saved before the section carried pairs (``comment`` renders saved reports):
    the per-protocol records are joined per pair, ``cosmeticObjects`` read (and not so called)."""
    document = drift_document(v)
    section = document["connectivity"]
    for key in ("addedPairs", "removedPairs", "hypothetical"):
        del section[key]
    section["cosmeticObjects"] = section.pop("unchangingObjects")
    return document


def drift_note(v: Values) -> str:
    from autodeploy_netpol.report.markdown import render_markdown

    return note_body("production", render_markdown(drift_document(v), job_url=JOB_URL))


def older_drift_note(v: Values) -> str:
    from autodeploy_netpol.report.markdown import render_markdown

    return note_body("production", render_markdown(older_drift_document(v), job_url=JOB_URL))


# -- the audit section -----------------------------------------------------------------------

AUDIT_FIELDS: Values = {
    "dropped.source": "shop/worker",
    "dropped.destination": "shop/api",
    "dropped.protocol": "TCP",
    "dropped.first seen": "2026-11-20T10:15:02Z",
    "dropped.last seen": "2026-11-20T10:16:02Z",
    "allowed.source": "world 203.0.113.50",
    "allowed.destination": "shop/web",
    "skipped reason": "reply packets",
    "malformed.file": "flows.jsonl",
    "malformed.message": "not JSON",
    "note": "3 flows name a workload the snapshot does not have",
}


def audit_note(v: Values) -> str:
    from collections import Counter as Count

    from autodeploy_netpol.checks.audit import AuditResult, FlowGroup
    from autodeploy_netpol.report.audit import to_markdown
    from autodeploy_netpol.sources.flows import MalformedLine, ReadStats

    dropped = FlowGroup(
        v["dropped.source"], v["dropped.destination"], v["dropped.protocol"], 8080, flows=3, would_drop=2,
        first_seen=v["dropped.first seen"], last_seen=v["dropped.last seen"],
    )  # fmt: skip
    allowed = FlowGroup(v["allowed.source"], v["allowed.destination"], "TCP", 443, flows=1, newly_allowed=1)
    stats = ReadStats(
        files=[v["malformed.file"]], lines=10, flows=4, skipped=Count({v["skipped reason"]: 2}), malformed=1,
        malformed_examples=[MalformedLine(v["malformed.file"], 3, v["malformed.message"])],
    )  # fmt: skip
    result = AuditResult((dropped, allowed), stats, (v["note"],))
    return note_body("production", to_markdown(result, 0))


# -- connectivity, lint and explain: computed from a cluster's objects -------------------------

CLUSTER_FIELDS: Values = {
    "namespace": "shop",
    "namespace label key": "team",
    "namespace label value": "payments",
    "workload name": "web",
    "pod label key": "app",
    "pod label value": "web",
    "named port": "http",
    "policy name": "allow-web",
    "unmatched selector value": "nothing",
    "cilium policy name": "allow-dns",
    "cilium selector key": "tier",
    "cilium selector value": "api",
    "cilium fqdn": "api.example.com",
    "cilium http path": "/admin",
}


def cluster_objects(v: Values) -> list[dict[str, Any]]:
    ns = v["namespace"]
    pod_labels = {v["pod label key"]: v["pod label value"]}
    return [
        {"kind": "Namespace", "metadata": {"name": ns, "labels": {v["namespace label key"]: v["namespace label value"]}}},
        {"kind": "Namespace", "metadata": {"name": "monitoring"}},
        {
            "kind": "Deployment",
            "metadata": {"name": v["workload name"], "namespace": ns},
            "spec": {
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {"containers": [{"name": "c", "ports": [{"name": v["named port"], "containerPort": 80}]}]},
                }
            },
        },
        {
            "kind": "Deployment",
            "metadata": {"name": "prometheus", "namespace": "monitoring"},
            "spec": {"template": {"metadata": {"labels": {v["cilium selector key"]: v["cilium selector value"]}}}},
        },
        {
            "kind": "NetworkPolicy",
            "metadata": {"name": v["policy name"], "namespace": ns},
            "spec": {
                "podSelector": {"matchLabels": pod_labels},
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {v["namespace label key"]: v["namespace label value"]}}},
                            {"namespaceSelector": {}, "podSelector": {"matchLabels": {v["cilium selector key"]: v["cilium selector value"]}}},
                            {"podSelector": {"matchLabels": {"app": v["unmatched selector value"] + "-none"}}},
                        ],
                        "ports": [{"port": v["named port"]}],
                    }
                ],
                "egress": [{"to": [{"podSelector": {"matchLabels": pod_labels}}]}],
            },
        },
        {
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": v["cilium policy name"], "namespace": "monitoring"},
            "spec": {
                "endpointSelector": {"matchLabels": {v["cilium selector key"]: v["cilium selector value"]}},
                "egress": [
                    {"toFQDNs": [{"matchName": v["cilium fqdn"]}]},
                    {
                        "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": ns}}],
                        "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"path": v["cilium http path"]}]}}],
                    },
                ],
            },
        },
    ]


def cluster_model(v: Values) -> Any:
    from autodeploy_netpol.errors import NetpolError
    from autodeploy_netpol.policy import Model
    from autodeploy_netpol.policy.policies import PolicyError

    try:
        return Model.from_objects(cluster_objects(v))
    except (PolicyError, NetpolError):
        assume(False)  # refused with an error message: nothing is posted
        raise


def connectivity_note(v: Values) -> str:
    from autodeploy_netpol.policy.analysis import analyse
    from autodeploy_netpol.report.connectivity import connectivity_markdown

    return note_body("production", connectivity_markdown(analyse(cluster_model(v)).merged()))


def diff_note(v: Values) -> str:
    from autodeploy_netpol.policy import Model
    from autodeploy_netpol.policy.analysis import diff_models
    from autodeploy_netpol.report.connectivity import diff_markdown

    after = cluster_model(v)
    before = Model.from_objects([obj for obj in cluster_objects(v) if obj["kind"] != "NetworkPolicy"])
    return note_body("production", diff_markdown(diff_models(before, after)))


def lint_note(v: Values) -> str:
    from autodeploy_netpol.checks.lint import lint_model
    from autodeploy_netpol.report.lint import lint_markdown

    return note_body("production", lint_markdown(lint_model(cluster_model(v), ingress_namespace="monitoring")))


def explain_note(v: Values) -> str:
    from autodeploy_netpol.checks.explain import explain_model
    from autodeploy_netpol.report.explain import explain_markdown

    return note_body("production", explain_markdown(explain_model(cluster_model(v))))


#: note body → (its fields and harmless values, renderer, whether the structure must not change)
NOTES: dict[str, tuple[Values, Callable[[Values], str], bool]] = {
    "drift": (DRIFT_FIELDS, drift_note, True),
    "drift (saved before pairs)": (DRIFT_FIELDS, older_drift_note, True),
    "audit": (AUDIT_FIELDS, audit_note, True),
    "connectivity": (CLUSTER_FIELDS, connectivity_note, False),
    "diff": (CLUSTER_FIELDS, diff_note, False),
    "lint": (CLUSTER_FIELDS, lint_note, False),
    "explain": (CLUSTER_FIELDS, explain_note, False),
}
CASES = [(note, name) for note, (fields, _, _) in NOTES.items() for name in fields]


def note_with(note: str, field: str, value: str) -> str:
    """The note with ``value`` in one field and harmless values in the others."""
    fields, renderer, _ = NOTES[note]
    return renderer({**fields, field: value})


def harmless(value: str) -> str:
    """A harmless stand-in for ``value`` that renders with the same structure: blank stays blank."""
    return HARMLESS if value.strip() else value


def test_every_note_body_is_clean_with_harmless_values() -> None:
    """The rules hold for the tool's own text (else every hostile case would fail for nothing)."""
    for fields, renderer, _ in NOTES.values():
        assert_safe_note(renderer(dict(fields)), links=LINKS)


@pytest.mark.parametrize("note", ["drift", "drift (saved before pairs)", "diff"])
def test_notes_with_a_connectivity_change_draw_it(note: str) -> None:
    """The hostile cases reach the Mermaid graph: these notes draw one, nodes and edge labels
    taken from the fields (so rule 6 is checked on generated labels, not on an empty block)."""
    fields, renderer, _ = NOTES[note]
    (graph,) = mermaid_blocks(renderer(dict(fields)))
    assert (" -->|" in graph or " -.->|" in graph) and graph.count('["') >= 2
    marked = renderer({**fields, **{name: "zz9" + name[-3:] for name in fields if "src" in name or "namespace" in name}})
    assert "zz9" in mermaid_blocks(marked)[0]


@pytest.mark.parametrize("note", NOTES)
@EXAMPLES
@given(data=st.data())
def test_hostile_text_in_every_field_cannot_inject(note: str, data: st.DataObject) -> None:
    """A different hostile string in each field of the note body at once."""
    fields, renderer, same_shape = NOTES[note]
    values = dict(zip(fields, data.draw(hostile_texts(len(fields)), label="hostile strings"), strict=True))
    check = assert_safe_note(renderer(values), links=LINKS)
    if same_shape:
        plain = render(renderer({field: harmless(value) for field, value in values.items()}))
        assert check.rendered.skeleton == plain.skeleton, "hostile text changed the note's structure"


def test_the_rules_catch_what_the_issue_reported() -> None:
    """The checks are not vacuous: raw hostile text in a note breaks them."""
    raw = (
        "| A | B |\n|---|---|\n| `x|<img src=x onerror=alert(1)>` | y |\n\n"
        "<details>\n\n```\nspec.podSelector.matchLabels[\"a\n</p>\n/label ~security-approved\n```\n\n</details>\n\n"
        "@all #1 !1 ~label %milestone $1 &1 www.evil.example https://evil.example a@evil.example\n\n"
        "escaped for CommonMark, linked by GitLab: https\\:\\/\\/evil.example\n"
    )
    raw += (
        '\n```mermaid\nflowchart LR\n  n0["a"]\n  n1["b"] --> n0\n  click n0 "https://evil.example"\n'
        '  n0 -->|"x"| n1\n  n2["a"]:::x\n```\n'
    )
    problems = check_note(raw).problems
    expected = [
        "table row has 3 cells, its header 2", "HTML the tool does not write: <img>", "line 10 starts with '/'",
        "mention", "issue reference", "merge request reference", "label reference", "milestone reference",
        "snippet reference", "epic reference", "autolink (www.)", "autolink (scheme://)", "autolink (e-mail)",
        "link not written by the tool", "Mermaid line outside the tool's statements: '  n1[\"b\"] --> n0'",
        "Mermaid line outside the tool's statements: '  click n0", "Mermaid line outside the tool's statements: '  n2[",
    ]  # fmt: skip
    assert sum(problem.startswith("Mermaid") for problem in problems) == 3, problems
    for rule in expected:
        assert any(problem.startswith(rule) for problem in problems), (rule, problems)
