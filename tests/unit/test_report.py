"""Report formats: JSON against its schema, text, Markdown (escaping, size budget), JUnit."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from gitlab_markdown import assert_safe_note
from hypothesis import given, settings
from hypothesis import strategies as st

from autodeploy_netpol.checks.drift import IgnoreRule, compare
from autodeploy_netpol.report import render, report_document, summary_line
from autodeploy_netpol.report.json_report import load_report, render_json, report_schema
from autodeploy_netpol.report.junit import render_junit
from autodeploy_netpol.report.markdown import render_markdown
from autodeploy_netpol.report.text import render_text
from autodeploy_netpol.sources.manifests import read_manifests

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift"
NS = "shop-42-production"


def drift_document(**kwargs: Any) -> dict[str, Any]:
    desired = read_manifests([str(FIXTURES / "desired.yaml")]).objects()
    live = read_manifests([str(FIXTURES / "live-drift.yaml")]).objects()
    report = compare(desired, live, namespace=NS, releases=["production"], **kwargs)
    return report_document(report, environment="production")


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())
    jsonschema.Draft202012Validator(report_schema()).validate(json.loads(render_json(document)))


def test_json_report_matches_its_schema() -> None:
    document = drift_document(ignore=[IgnoreRule.parse("metadata.labels.chart")])
    validate(document)
    assert document["schemaVersion"] == 1
    assert document["summary"] == {
        "verdict": "drift",
        "changed": 1,
        "missing": 1,
        "unexpected": 1,
        "inSync": 0,
        "ignored": 1,
        "context": 1,
    }
    changed = next(entry for entry in document["drift"] if entry["change"] == "changed")
    assert changed["paths"] == [
        {"path": "spec.ingress[0].ports[0].port", "scope": "spec", "live": 8080, "desired": 5000}
    ]
    missing = next(entry for entry in document["drift"] if entry["change"] == "missing")
    assert "paths" not in missing


def test_schema_rejects_a_changed_entry_without_paths() -> None:
    document = drift_document()
    broken = copy.deepcopy(document)
    next(entry for entry in broken["drift"] if entry["change"] == "changed")["paths"] = []
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_absent_side_is_left_out_of_the_json() -> None:
    document = drift_document()
    validate(document)
    text = render_json(document)
    assert '"live": null' not in text


def test_load_report_round_trip_and_errors(tmp_path: Path) -> None:
    document = drift_document()
    path = tmp_path / "drift.json"
    path.write_text(render_json(document))
    assert load_report(str(path)) == json.loads(render_json(document))
    path.write_text('{"drift": "no"}')
    with pytest.raises(Exception, match="not a valid drift report"):
        load_report(str(path))


def test_summary_line() -> None:
    assert summary_line(drift_document()) == "1 changed, 1 missing, 1 unexpected"


def test_text_report_lists_changes_by_scope_and_ends_with_the_summary() -> None:
    text = render_text(drift_document())
    assert "spec:\n    spec.ingress[0].ports[0].port: live 8080 → desired 5000" in text
    assert 'metadata:\n    metadata.labels.chart: live "auto-deploy-app-2.99.0"' in text
    assert "the deploy will delete it" in text
    assert text.rstrip().splitlines()[-1].startswith("1 changed, 1 missing, 1 unexpected")
    assert "\x1b[" not in text  # no colour unless asked
    assert "\x1b[" in render_text(drift_document(), color=True)


def test_verbose_text_shows_context_and_cosmetic_notes() -> None:
    desired = read_manifests([str(FIXTURES / "desired.yaml")]).objects()
    live = read_manifests([str(FIXTURES / "live-in-sync.yaml")]).objects()
    document = report_document(compare(desired, live, namespace=NS, releases=["production"]))
    quiet = render_text(document)
    verbose = render_text(document, verbose=True)
    assert "cosmetic" not in quiet and "allow-inbound-http" not in quiet
    assert "cosmetic: desired spec.ingress[0].ports[0].protocol: not set: the API server sets TCP" in verbose
    assert "allow-inbound-http (owner: GitLab policy editor)" in verbose


def test_text_does_not_interpret_rich_markup_from_the_cluster() -> None:
    document = drift_document()
    document["drift"][0]["name"] = "[bold red]x[/]"
    assert "[bold red]x[/]" in render_text(document)


# --- Markdown ----------------------------------------------------------------------------------

HOSTILE = [
    "@root",
    "<img src=x onerror=alert(1)>",
    "</details><script>alert(1)</script>",
    "```\n# injected",
    "[click](https://evil.example)",
    "**bold** _it_ #1 !2 ~label %milestone $3 &4",
    "a`b``c```d",
    "line\nbreak",
    "x\n</p>\n/label ~security-approved\n/approve",
    "a|b <b>c</b> `d|e`",
]


def test_markdown_summary_comes_first_with_counts_and_verdict() -> None:
    text = render_markdown(
        drift_document(), job_url="https://gitlab.example.com/g/p/-/jobs/7", artifact_path="drift.json"
    )
    lines = text.splitlines()
    assert lines[0] == "### Network policy drift in `production`"
    assert "**Drift found**: 1 changed, 1 missing, 1 unexpected" in lines[2]
    assert "[job artifacts](https://gitlab.example.com/g/p/-/jobs/7/artifacts/file/drift.json)" in text
    assert text.index("Drift found") < text.index("<details>")
    assert text.count("<details>") == text.count("</details>")
    # one collapsible block per drifted object
    assert sum(1 for line in lines if line.startswith("<summary><code>NetworkPolicy")) == 3


def test_markdown_in_sync_verdict() -> None:
    desired = read_manifests([str(FIXTURES / "desired.yaml")]).objects()
    live = read_manifests([str(FIXTURES / "live-in-sync.yaml")]).objects()
    document = report_document(compare(desired, live, namespace=NS, releases=["production"]))
    assert "✅ **No drift**: 0 changed, 0 missing, 0 unexpected" in render_markdown(document)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_cluster_strings_cannot_inject_markdown_html_or_mentions(hostile: str) -> None:
    """The report of a real comparison with hostile names, owners, paths, values and notes keeps
    every rule of a GitLab note (tests/gitlab_markdown.py; generated strings in every field are in
    test_note_injection.py)."""
    document = drift_document()
    for entry in document["drift"]:
        entry["name"] = hostile
        entry["owner"] = hostile
        for change in entry.get("paths", []):
            change["path"] = hostile
            change["live"] = hostile
    document["context"][0]["owner"] = hostile
    document["notes"] = [hostile]
    document["warnings"] = [{"type": hostile, "name": hostile, "kind": "NetworkPolicy", "message": hostile}]
    check = assert_safe_note(render_markdown(document))
    assert "".join(check.rendered.prose).count("Drift found") == 1


def many_objects_document(count: int, fields: int) -> dict[str, Any]:
    document = drift_document()
    template = next(entry for entry in document["drift"] if entry["change"] == "changed")
    entries = []
    for index in range(count):
        entry = copy.deepcopy(template)
        entry["name"] = f"policy-{index:05d}"
        entry["paths"] = [
            {"path": f"spec.ingress[{i}].ports[0].port", "scope": "spec", "live": "x" * 200, "desired": i}
            for i in range(fields)
        ]
        entries.append(entry)
    document["drift"] = entries
    document["summary"]["changed"] = count
    return document


@pytest.mark.parametrize(
    ("count", "fields", "max_chars"), [(2000, 20, 200_000), (3, 5000, 50_000), (50, 50, 3_000)]
)
def test_markdown_stays_under_the_budget_without_breaking_fences(
    count: int, fields: int, max_chars: int
) -> None:
    document = many_objects_document(count, fields)
    text = render_markdown(document, max_chars=max_chars, job_url="https://gitlab.example.com/g/p/-/jobs/7")
    assert len(text) <= max_chars
    assert text.count("<details>") == text.count("</details>")
    fences = [line for line in text.splitlines() if re.match(r"^`{3,}", line)]
    assert len(fences) % 2 == 0
    assert "not shown" in text
    assert "Drift found" in text.splitlines()[2]


def test_markdown_default_budget_is_under_gitlabs_note_limit() -> None:
    text = render_markdown(many_objects_document(3000, 10))
    assert 900_000 < len(text) < 1_000_000


@settings(max_examples=30)
@given(st.integers(min_value=1_000, max_value=40_000))
def test_markdown_budget_holds_for_any_size(max_chars: int) -> None:
    assert len(render_markdown(many_objects_document(40, 30), max_chars=max_chars)) <= max_chars


def test_markdown_renders_from_the_json_document_alone(tmp_path: Path) -> None:
    document = drift_document()
    path = tmp_path / "drift.json"
    path.write_text(render_json(document))
    assert render_markdown(load_report(str(path))) == render_markdown(document)


def test_markdown_renders_ownership_and_warnings_sections() -> None:
    document = drift_document()
    document["ownership"] = [
        {
            "kind": "NetworkPolicy",
            "namespace": NS,
            "name": "allow-inbound-http",
            "owner": "ui-editor",
            "reason": "GitLab UI policy editor (project 42)",
        }
    ]
    document["warnings"] = [
        {
            "code": "override",
            "severity": "warning",
            "owner": "pipeline",
            "kind": "NetworkPolicy",
            "namespace": NS,
            "name": "web",
            "reason": "kubectl-edit changed spec",
            "details": ["spec.ingress[1]: removed"],
        }
    ]
    validate(document)
    text = render_markdown(document)
    assert "**override** `NetworkPolicy shop-42-production/web` kubectl\\-edit changed spec" in text
    # free text renders as itself; a zero-width space follows '[' and ':' so GitLab links nothing
    assert "  - spec\\.ingress\\[\u200b1\\]\\:\u200b removed" in text
    assert "Ownership (1)" in text


# --- JUnit -------------------------------------------------------------------------------------


def test_junit_has_one_case_per_object_and_drift_passes_with_what_changes() -> None:
    document = drift_document(ignore=[IgnoreRule.parse("netpol/production-auto-deploy-cache")])
    root = ET.fromstring(render_junit(document))
    cases = root.findall(".//testcase")
    assert sorted(case.get("name") for case in cases) == [
        "NetworkPolicy/production-auto-deploy",
        "NetworkPolicy/production-auto-deploy-cache",
        "NetworkPolicy/production-auto-deploy-db",
    ]
    assert root.get("failures") == "0" and root.get("skipped") == "1"
    case = root.find(".//testcase[@name='NetworkPolicy/production-auto-deploy']")
    assert case is not None and case.find("failure") is None
    assert "spec.ingress[0].ports[0].port: live 8080 → desired 5000" in (case.findtext("system-out") or "")


@pytest.mark.parametrize(
    ("fail_on_override", "severity", "fails", "failures"),
    [
        (False, "warning", True, "0"),  # the run does not fail on overrides: information
        (True, "warning", True, "1"),  # it does, and this one counts
        (True, "warning", False, "0"),  # it does, but the tool calls this one harmless
        (False, "error", False, "1"),  # the deploy itself will fail (a collision)
    ],
)
def test_junit_fails_an_ownership_warning_only_when_it_fails_something(
    fail_on_override: bool, severity: str, fails: bool, failures: str
) -> None:
    document = drift_document()
    document["failOnOverride"] = fail_on_override
    document["warnings"] = [
        {
            "kind": "NetworkPolicy",
            "namespace": "shop",
            "name": "web",
            "owner": "pipeline",
            "code": "collision" if severity == "error" else "both-methods",
            "severity": severity,
            "reason": "r",
            "details": [],
            "failsOnOverride": fails,
        }
    ]
    root = ET.fromstring(render_junit(document))
    assert root.get("failures") == failures


def test_junit_survives_control_characters() -> None:
    document = drift_document()
    document["drift"][0]["name"] = "bad\x00\x1bname"
    ET.fromstring(render_junit(document))


def test_render_dispatches_every_format() -> None:
    document = drift_document()
    assert json.loads(render(document, "json"))["kind"] == "DriftReport"
    assert render(document, "markdown").startswith("### ")
    assert render(document, "junit").startswith("<?xml")
    assert "1 changed" in render(document, "text")


def test_missing_and_unexpected_entries_carry_the_spec_the_deploy_creates_or_deletes() -> None:
    document = drift_document()
    validate(document)
    missing = next(entry for entry in document["drift"] if entry["change"] == "missing")
    unexpected = next(entry for entry in document["drift"] if entry["change"] == "unexpected")
    assert missing["spec"]["egress"][0]["ports"] == [{"port": 5432}]  # as written, no defaults added
    assert unexpected["spec"]["policyTypes"] == ["Egress"]
    text = render_markdown(document)
    assert "The deploy will create:\n\n```yaml\npodSelector:" in text
    assert "The deploy will delete this live spec:" in text


def test_a_huge_missing_spec_is_cut_inside_its_block() -> None:
    document = drift_document()
    missing = next(entry for entry in document["drift"] if entry["change"] == "missing")
    missing["spec"] = {"ingress": [{"ports": [{"port": i}]} for i in range(5000)]}
    text = render_markdown(document, max_chars=20_000)
    assert len(text) <= 20_000
    assert "more lines not shown" in text
    fences = [line for line in text.splitlines() if re.match(r"^`{3,}", line)]
    assert len(fences) % 2 == 0
