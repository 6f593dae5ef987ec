"""Ownership through the real ``drift`` CLI: warnings in every format, --fail-on-override, --helm-history."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
from gitlab_markdown import visible_text

from autodeploy_netpol.report.json_report import report_schema

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ownership"
VALUES = FIXTURES / "auto-deploy-values.yaml"
DEPLOY = ["--release", "production", "--namespace", "shop-42-production", "--project-id", "42"]
NO_CI = {"CI_ENVIRONMENT_NAME": None, "CI_JOB_URL": None, "NO_COLOR": None}


def drift(cli, live, *extra, values=VALUES):
    args = ["drift", *([values] if values else []), *DEPLOY, "--live", live, *extra]
    return cli(*args, env=NO_CI)


def snapshot(tmp_path: Path, *names: str) -> Path:
    """A snapshot directory holding several fixture files."""
    directory = tmp_path / "snapshot"
    directory.mkdir()
    for name in names:
        shutil.copy(FIXTURES / f"{name}.yaml", directory / f"{name}.yaml")
    return directory


# --- exit codes --------------------------------------------------------------------------------


def test_override_is_a_warning_without_the_flag(cli) -> None:
    result = drift(cli, FIXTURES / "helm-then-kubectl-edit.yaml")
    assert result.exit_code == 1, result.output  # drift's own code
    assert "warning: [override] NetworkPolicy shop-42-production/production-auto-deploy" in result.stdout
    assert "by kubectl-edit at 2024-03-04T15:30:12Z" in result.stdout


def test_fail_on_override_exit_4_wins_over_drift(cli) -> None:
    result = drift(cli, FIXTURES / "helm-then-kubectl-edit.yaml", "--fail-on-override")
    assert result.exit_code == 4, result.output
    assert "1 changed, 0 missing, 0 unexpected" in result.stdout


def test_fail_on_override_exit_4_without_drift(cli) -> None:
    # The pipeline's own policy is in sync, but a UI-editor policy manages the same pods.
    result = drift(cli, FIXTURES / "ui-created.yaml", "--fail-on-override")
    assert result.exit_code == 4, result.output
    assert "0 changed, 0 missing, 0 unexpected" in result.stdout
    assert "[both-methods]" in result.stdout and "WIDENS" in result.stdout


def test_collision_exits_4_with_the_flag(cli) -> None:
    result = drift(cli, FIXTURES / "collision.yaml", "--fail-on-override")
    assert result.exit_code == 4, result.output
    assert "error: [collision]" in result.stdout
    assert "cannot be imported into the current release" in result.stdout


def test_information_alone_never_fails(cli) -> None:
    result = drift(cli, FIXTURES / "ui-disabled-only.yaml", "--fail-on-override")
    assert result.exit_code == 0, result.output
    assert "info: [disabled-ui-policy] CiliumNetworkPolicy shop-42-production/drop-outbound" in result.stdout


def test_near_miss_edit_before_helms_last_write_exits_with_drifts_code(cli) -> None:
    result = drift(cli, FIXTURES / "kubectl-edit-before-helm.yaml", "--fail-on-override")
    assert result.exit_code == 1, result.output
    assert "[override]" not in result.stdout


def test_input_error_wins_over_4(cli, tmp_path: Path) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("networkPolicy: [not, a, mapping]\n")
    result = drift(cli, FIXTURES / "helm-then-kubectl-edit.yaml", "--fail-on-override", values=bad)
    assert result.exit_code == 2, result.output


def test_bad_snapshot_wins_over_4(cli, tmp_path: Path) -> None:
    bad = tmp_path / "live.yaml"
    bad.write_text("kind: List\nitems: {a: 1}\n")
    result = drift(cli, bad, "--fail-on-override")
    assert result.exit_code == 2, result.output


# --- report formats ----------------------------------------------------------------------------


def test_json_report_lists_ownership_and_warnings_and_matches_the_schema(cli, tmp_path: Path) -> None:
    out = tmp_path / "drift.json"
    live = snapshot(tmp_path, "ui-created")
    result = drift(cli, live, "--output", out, "--quiet")
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    owners = {(item["kind"], item["name"]): (item["owner"], item["reason"]) for item in document["ownership"]}
    assert owners == {
        ("CiliumNetworkPolicy", "drop-outbound"): (
            "ui-editor",
            "GitLab UI policy editor (project 42, disabled in the UI)",
        ),
        ("NetworkPolicy", "allow-inbound-http"): ("ui-editor", "GitLab UI policy editor (project 42)"),
        ("NetworkPolicy", "production-auto-deploy"): (
            "pipeline",
            "Auto Deploy release production (this release)",
        ),
    }
    assert [(w["code"], w["severity"], w["name"]) for w in document["warnings"]] == [
        ("both-methods", "warning", "production-auto-deploy"),
        ("disabled-ui-policy", "info", "drop-outbound"),
    ]
    assert document["warnings"][0]["widens"] is True


def test_override_fields_in_json(cli, tmp_path: Path) -> None:
    out = tmp_path / "drift.json"
    drift(cli, FIXTURES / "helm-then-ui-update.yaml", "-o", out, "-q")
    (warning,) = json.loads(out.read_text())["warnings"]
    (field,) = warning["fields"]
    assert field["path"] == "spec.ingress[0].from[0]" and field["outcome"] == "reverted"
    assert (field["manager"], field["time"]) == ("rest-client", "2024-03-05T08:21:40Z")
    assert field["desired"] == {"podSelector": {"matchLabels": {"app": "production"}}}
    assert field["live"] is None  # absent live: the UI removed that peer


def test_markdown_and_junit_carry_the_warnings(cli, tmp_path: Path) -> None:
    md, junit = tmp_path / "drift.md", tmp_path / "junit.xml"
    result = drift(cli, FIXTURES / "helm-then-kubectl-edit.yaml", "-o", md, "-o", junit, "-q")
    assert result.exit_code == 1
    markdown = md.read_text()
    assert "- ⚠️ **override** `NetworkPolicy shop-42-production/production-auto-deploy`" in markdown
    assert "kubectl-edit at 2024-03-04T15:30:12Z" in visible_text(markdown)
    root = ET.fromstring(junit.read_text())
    case = root.find(".//testsuite[@name='ownership shop-42-production']/testcase")
    assert case is not None and case.get("name") == "override NetworkPolicy/production-auto-deploy"
    # without --fail-on-override the warning does not fail the job: a passing case that says it
    assert case.find("failure") is None and "spec.ingress[1]" in (case.findtext("system-out") or "")
    failing = drift(cli, FIXTURES / "helm-then-kubectl-edit.yaml", "-o", junit, "-q", "--fail-on-override")
    assert failing.exit_code == 4
    case = ET.fromstring(junit.read_text()).find(
        ".//testsuite[@name='ownership shop-42-production']/testcase"
    )
    failure = case.find("failure") if case is not None else None
    assert failure is not None and failure.get("type") == "override"
    assert "spec.ingress[1]" in (failure.text or "")


# --- --helm-history ----------------------------------------------------------------------------


def test_helm_history_from_the_snapshot_turns_an_unknown_object_into_a_collision(cli, tmp_path: Path) -> None:
    live = snapshot(tmp_path, "helm-then-ui-update", "helm-release-without-policy")
    without = drift(cli, live, "--fail-on-override")
    assert "[override]" in without.stdout and "[collision]" not in without.stdout
    result = drift(cli, live, "--fail-on-override", "--helm-history")
    assert result.exit_code == 4, result.output
    assert "[collision]" in result.stdout and "[override]" not in result.stdout


def test_helm_history_three_way_confirms_the_edit(cli, tmp_path: Path) -> None:
    live = snapshot(tmp_path, "helm-then-kubectl-edit", "helm-release-secrets")
    result = drift(cli, live, "--helm-history")
    assert result.exit_code == 1, result.output
    assert "compared with Helm's last applied manifest (--helm-history)" in result.stdout


def test_helm_history_from_a_snapshot_on_standard_input(cli) -> None:
    # The snapshot is read once, release Secrets included: standard input serves --helm-history too
    # (it used to be refused, because the Secrets were read by a second pass over the file).
    stream = "---\n".join(
        (FIXTURES / f"{name}.yaml").read_text() for name in ("helm-then-kubectl-edit", "helm-release-secrets")
    )
    result = cli("drift", VALUES, *DEPLOY, "--live", "-", "--helm-history", env=NO_CI, input=stream)
    assert result.exit_code == 1, result.output
    assert "compared with Helm's last applied manifest (--helm-history)" in result.stdout


def test_canary_track_deploy_warns_about_its_own_release(cli) -> None:
    result = cli(
        "drift",
        "--desired",
        FIXTURES / "desired-canary.yaml",
        "--live",
        FIXTURES / "canary-edited.yaml",
        "-n",
        "shop-42-production",
        "-r",
        "production",
        "--track",
        "canary",
        "--fail-on-override",
        env=NO_CI,
    )
    assert result.exit_code == 4, result.output
    assert "[override] NetworkPolicy shop-42-production/production-canary-auto-deploy" in result.stdout


def test_verbose_text_shows_each_owner_with_its_evidence(cli) -> None:
    result = drift(cli, FIXTURES / "argocd.yaml", "-v")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    index = lines.index(
        "ownership    NetworkPolicy shop-42-production/allow-prometheus: other-tool (Argo CD (argocd-controller))"
    )
    assert lines[index + 1].startswith("  evidence: annotation argocd.argoproj.io/tracking-id (Argo CD)")
    assert "  evidence: managedFields: argocd-controller Apply at 2024-01-30T07:12:00Z: spec.ingress, " in (
        result.stdout
    )


def test_access_error_wins_over_4(cli) -> None:
    # A configured token, but the merge-request comment cannot be posted (no GitLab settings):
    # exit 3, even though an override would give 4, and the report is still printed.
    args = ["drift", VALUES, *DEPLOY, "--live", FIXTURES / "helm-then-kubectl-edit.yaml"]
    env = {
        **NO_CI,
        "NETPOL_GITLAB_TOKEN": "glpat-x",
        "CI_API_V4_URL": None,
        "CI_ENVIRONMENT_NAME": "production",
    }
    result = cli(*args, "--fail-on-override", "--mr-comment", env=env)
    assert result.exit_code == 3, result.output
    assert "[override]" in result.stdout


def test_no_token_keeps_the_override_exit_code(cli) -> None:
    args = ["drift", VALUES, *DEPLOY, "--live", FIXTURES / "helm-then-kubectl-edit.yaml"]
    env = {**NO_CI, "NETPOL_GITLAB_TOKEN": None, "GITLAB_TOKEN": None, "CI_ENVIRONMENT_NAME": "production"}
    result = cli(*args, "--fail-on-override", "--mr-comment", env=env)
    assert result.exit_code == 4, result.output
    assert "notice: merge-request comment skipped" in result.stderr


def test_the_live_snapshot_is_parsed_once_per_run(cli, tmp_path: Path, monkeypatch) -> None:
    # drift, ownership, --helm-history and the connectivity section all read one LiveSnapshot:
    # each snapshot file is parsed once (it used to be parsed three times, once for each).
    from autodeploy_netpol.sources import yamlio

    parsed: list[str] = []
    real = yamlio.iter_documents

    def counting(text: str, path: str, **options):
        parsed.append(path)
        return real(text, path, **options)

    monkeypatch.setattr(yamlio, "iter_documents", counting)
    live = snapshot(tmp_path, "helm-then-kubectl-edit", "helm-release-secrets")
    result = drift(cli, live, "--helm-history", "--format", "json")
    assert result.exit_code == 1, result.output
    assert "connectivity" in json.loads(result.stdout)
    snapshot_files = sorted(path for path in parsed if path.startswith(str(live)))
    assert snapshot_files == sorted(str(path) for path in live.iterdir())
