"""GitLab Code Quality reports (issue 15): validate and lint findings where reviewers look, in the
format GitLab documents (checked against tests/data/gitlab/codequality.schema.json, written from
GitLab's "Code Quality report format" documentation)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "tests" / "data" / "gitlab" / "codequality.schema.json").read_text())
EXAMPLE = REPO / "examples" / "shop"

INVALID = """\
# a comment line
networkPolicy:
  enabled: maybe
  spec:
    podSelector: {}
    ingress:
      - from:
          - ipBlock: {cidr: 10.0.0.1/8}
"""

#: Egress isolated, no DNS, and nothing lets the ingress controller in.
LINTABLE = """\
networkPolicy:
  enabled: true
  spec:
    podSelector: {}
    policyTypes: [Ingress, Egress]
    ingress:
      - from:
          - podSelector: {matchLabels: {app: production}}
    egress:
      - to:
          - podSelector: {matchLabels: {app: production}}
"""


def report_of(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "GitLab's parser refuses a byte order mark"
    document = json.loads(raw)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory as the job sees it: CI_PROJECT_DIR, the values file under .gitlab/."""
    (tmp_path / ".gitlab").mkdir()
    monkeypatch.setenv("CI_PROJECT_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_schema_rejects_what_gitlab_would(tmp_path: Path) -> None:
    good = {
        "description": "d",
        "check_name": "c",
        "fingerprint": "f",
        "severity": "minor",
        "location": {"path": "lib/index.js", "lines": {"begin": 42}},
    }
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert validator.is_valid([good])
    assert validator.is_valid([{**good, "location": {"path": "a", "positions": {"begin": {"line": 1}}}}])
    for bad in (
        {**good, "severity": "warning"},
        {**good, "location": {"path": "/abs/file", "lines": {"begin": 1}}},
        {**good, "location": {"path": "a"}},
        {**good, "location": {"path": "a", "lines": {"begin": 0}}},
        {key: value for key, value in good.items() if key != "fingerprint"},
    ):
        assert not validator.is_valid([bad]), bad
    assert not validator.is_valid(good)  # an object, not an array


def test_validate_writes_a_code_quality_report_at_the_values_file_lines(cli, project: Path) -> None:
    (project / ".gitlab" / "auto-deploy-values.yaml").write_text(INVALID)
    out = project / "gl-code-quality-report.json"

    result = cli("validate", "-o", f"codequality:{out}")

    assert result.exit_code == 2
    issues = report_of(out)
    assert {(issue["location"]["path"], issue["location"]["lines"]["begin"]) for issue in issues} == {
        (".gitlab/auto-deploy-values.yaml", 3),
        (".gitlab/auto-deploy-values.yaml", 8),
    }
    # the CIDR is an error (critical: it fails the pipeline); 'enabled: maybe' a warning (Helm reads it as true)
    assert {issue["location"]["lines"]["begin"]: issue["severity"] for issue in issues} == {3: "major", 8: "critical"}
    assert any(issue["description"].startswith("networkPolicy.enabled: ") for issue in issues)
    assert len({issue["fingerprint"] for issue in issues}) == 2


def test_fingerprints_survive_lines_moving(cli, project: Path) -> None:
    values = project / ".gitlab" / "auto-deploy-values.yaml"
    out = project / "cq.json"
    values.write_text(INVALID)
    cli("validate", "-o", f"codequality:{out}")
    before = {issue["fingerprint"]: issue["location"]["lines"]["begin"] for issue in report_of(out)}
    values.write_text("# one more line above\n" + INVALID)
    cli("validate", "-o", f"codequality:{out}")
    after = {issue["fingerprint"]: issue["location"]["lines"]["begin"] for issue in report_of(out)}
    assert set(before) == set(after)
    assert all(after[key] == line + 1 for key, line in before.items())


def test_a_valid_file_gives_an_empty_report(cli, project: Path) -> None:
    (project / ".gitlab" / "auto-deploy-values.yaml").write_text("networkPolicy:\n  enabled: false\n")
    out = project / "cq.json"
    assert cli("validate", "-o", f"codequality:{out}", "-o", project / "v.json").exit_code == 0
    assert report_of(out) == []
    assert json.loads((project / "v.json").read_text())["valid"] is True


def test_an_unreadable_values_file_is_still_a_report(cli, project: Path) -> None:
    (project / ".gitlab" / "auto-deploy-values.yaml").write_text("networkPolicy: [unclosed\n")
    out = project / "cq.json"
    assert cli("validate", "-o", f"codequality:{out}").exit_code == 2
    (issue,) = report_of(out)
    assert issue["location"]["path"] == ".gitlab/auto-deploy-values.yaml"


def test_lint_of_the_values_file_points_at_its_lines(cli, project: Path) -> None:
    (project / ".gitlab" / "auto-deploy-values.yaml").write_text(LINTABLE)
    out = project / "cq.json"

    result = cli(
        "lint",
        "--values",
        ".gitlab/auto-deploy-values.yaml",
        "-r",
        "production",
        "-n",
        "shop",
        "--no-live",
        "--ingress-namespace",
        "ingress-nginx",
        "-o",
        f"codequality:{out}",
    )

    assert result.exit_code == 1, result.output
    issues = report_of(out)
    by_check = {issue["check_name"]: issue for issue in issues}
    assert "autodeploy-netpol/lint/egress-without-dns" in by_check
    assert "autodeploy-netpol/lint/ingress-namespace-cannot-reach" in by_check
    assert by_check["autodeploy-netpol/lint/ingress-namespace-cannot-reach"]["severity"] == "critical"
    egress = by_check["autodeploy-netpol/lint/egress-without-dns"]["location"]
    assert egress == {"path": ".gitlab/auto-deploy-values.yaml", "lines": {"begin": 10}}
    assert ".gitlab/auto-deploy-values.yaml:" in result.stdout


def test_lint_of_a_snapshot_locates_in_the_snapshot(cli, project: Path) -> None:
    shutil.copy(EXAMPLE / "live-snapshot.yaml", project / "snapshot.yaml")
    out = project / "cq.json"
    cli("lint", "snapshot.yaml", "-o", f"codequality:{out}")
    assert all(issue["location"]["path"] == "snapshot.yaml" for issue in report_of(out))


def test_an_unknown_output_ending_says_how_to_name_the_format(cli, project: Path) -> None:
    result = cli("validate", "-o", "report.out")
    assert result.exit_code == 2
    assert "codequality" in result.output


def test_drift_puts_its_ownership_warnings_at_the_network_policy_block(cli, project: Path) -> None:
    shutil.copy(
        EXAMPLE / ".gitlab" / "auto-deploy-values.yaml", project / ".gitlab" / "auto-deploy-values.yaml"
    )
    shutil.copy(EXAMPLE / "live-snapshot.yaml", project / "snapshot.yaml")
    out = project / "cq.json"

    result = cli(
        "drift",
        "-r",
        "production",
        "-n",
        "shop-42-production",
        "--live",
        "snapshot.yaml",
        "--environment",
        "production",
        "-o",
        f"codequality:{out}",
        "-q",
    )

    assert result.exit_code == 1, result.output
    issues = report_of(out)
    assert {issue["check_name"] for issue in issues} == {
        "autodeploy-netpol/ownership/override",
        "autodeploy-netpol/ownership/both-methods",
    }
    assert {issue["location"]["lines"]["begin"] for issue in issues} == {6}  # `networkPolicy:`
    assert all(issue["description"].startswith("[production] ") for issue in issues)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues) == 3
