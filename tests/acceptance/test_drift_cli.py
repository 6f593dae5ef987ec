"""``autodeploy-netpol drift`` end to end through the real CLI, against snapshot files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml

from autodeploy_netpol.report.json_report import report_schema

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift"
EXAMPLE = Path("examples/shop")
EXAMPLE_VALUES = EXAMPLE / ".gitlab" / "auto-deploy-values.yaml"
EXAMPLE_SNAPSHOT = EXAMPLE / "live-snapshot.yaml"
DEPLOY = ["--release", "production", "--namespace", "shop-42-production", "--project-id", "42"]
NO_CI = {"CI_ENVIRONMENT_NAME": None, "CI_JOB_URL": None, "NO_COLOR": None}


def test_values_against_the_example_snapshot(cli) -> None:
    result = cli("drift", EXAMPLE_VALUES, *DEPLOY, "--live", EXAMPLE_SNAPSHOT, env=NO_CI)
    assert result.exit_code == 1, result.output
    assert (
        "changed      NetworkPolicy shop-42-production/production-auto-deploy-allow-metrics" in result.stdout
    )
    assert "spec.ingress[0].ports[0].port: live 9100 → desired 9090" in result.stdout
    assert "unexpected   NetworkPolicy shop-42-production/production-auto-deploy-allow-debug" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("1 changed, 0 missing, 1 unexpected")
    assert "\x1b[" not in result.stdout


def test_one_run_writes_json_markdown_and_junit(cli, tmp_path: Path) -> None:
    json_path, md_path, junit_path = tmp_path / "drift.json", tmp_path / "drift.md", tmp_path / "junit.xml"
    result = cli(
        "drift",
        EXAMPLE_VALUES,
        *DEPLOY,
        "--live",
        EXAMPLE_SNAPSHOT,
        "--output",
        json_path,
        "--output",
        md_path,
        "-o",
        f"junit:{junit_path}",
        "--quiet",
        env={
            **NO_CI,
            "CI_ENVIRONMENT_NAME": "production",
            "CI_JOB_URL": "https://gitlab.example.com/shop/-/jobs/9",
        },
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    document = json.loads(json_path.read_text())
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    assert document["environment"] == "production"
    assert [(entry["name"], entry["change"]) for entry in document["drift"]] == [
        ("production-auto-deploy-allow-debug", "unexpected"),
        ("production-auto-deploy-allow-metrics", "changed"),
    ]
    assert [(item["name"], item["owner"]) for item in document["context"]] == [
        ("allow-inbound-http", "GitLab policy editor")
    ]
    markdown = md_path.read_text()
    assert markdown.startswith("### Network policy drift in `production`")
    assert f"(https://gitlab.example.com/shop/-/jobs/9/artifacts/file/{json_path})" in markdown
    suites = ET.fromstring(junit_path.read_text())
    # 3 objects (2 drifted) plus the ownership warnings the example's live snapshot triggers: the
    # kubectl edit of allow-metrics is reverted, and the UI editor's allow-inbound-http sits next
    # to two pipeline policies (both methods); and the connectivity verdict, a passing case. Drift is
    # what the merge request brings, not a failed test; without --fail-on-override no warning fails
    # the job either.
    assert suites.get("tests") == "7" and suites.get("failures") == "0"
    changed = suites.find(".//testcase[@name='NetworkPolicy/production-auto-deploy-allow-metrics']")
    assert changed is not None and changed.find("failure") is None
    assert "changed:" in (changed.findtext("system-out") or "")
    verdict = suites.find("testsuite[@name='connectivity']/testcase")
    assert verdict is not None and verdict.get("name", "").startswith("connectivity: ")
    assert verdict.find("skipped") is None  # a snapshot: complete
    assert [w["code"] for w in document["warnings"]] == ["both-methods", "both-methods", "override"]
    assert document["failOnOverride"] is False


def test_junit_fails_only_what_fails_the_job_with_fail_on_override(cli, tmp_path: Path) -> None:
    json_path, junit_path = tmp_path / "drift.json", tmp_path / "junit.xml"
    result = cli(
        "drift",
        EXAMPLE_VALUES,
        *DEPLOY,
        "--live",
        EXAMPLE_SNAPSHOT,
        "--fail-on-override",
        "-o",
        json_path,
        "-o",
        junit_path,
        "-q",
        env=NO_CI,
    )
    assert result.exit_code == 4, result.output
    document = json.loads(json_path.read_text())
    failing = [w for w in document["warnings"] if w["failsOnOverride"]]
    assert document["failOnOverride"] is True and failing
    suites = ET.fromstring(junit_path.read_text())
    failures = suites.findall(".//failure")
    assert len(failures) == len(failing) == int(suites.get("failures") or 0)
    assert {failure.get("type") for failure in failures} <= {"override", "both-methods", "collision"}
    # the drifted objects themselves still pass
    assert all(
        case.find("failure") is None
        for case in suites.findall(".//testsuite[@name='drift shop-42-production']/testcase")
    )


def test_in_sync_exits_zero(cli) -> None:
    result = cli(
        "drift",
        "--desired",
        FIXTURES / "desired.yaml",
        "--live",
        FIXTURES / "live-in-sync.yaml",
        "-n",
        "shop-42-production",
        "-r",
        "production",
        env=NO_CI,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(
        "0 changed, 0 missing, 0 unexpected (2 in sync, 0 ignored, 1 other live policy)"
    )


def test_exit_code_is_decided_after_ignore_rules(cli) -> None:
    args = [
        "drift",
        "--desired",
        FIXTURES / "desired.yaml",
        "--live",
        FIXTURES / "live-drift.yaml",
        "-n",
        "shop-42-production",
        "-r",
        "production",
    ]
    assert cli(*args, env=NO_CI).exit_code == 1
    result = cli(
        *args,
        "--ignore",
        "netpol/production-auto-deploy-*",
        "--ignore",
        "netpol/production-auto-deploy",
        env=NO_CI,
    )
    assert result.exit_code == 0, result.output
    assert "0 changed, 0 missing, 0 unexpected (0 in sync, 3 ignored" in result.stdout
    result = cli(*args, "--ignore", "metadata.labels.chart", "--format", "json", env=NO_CI)
    document = json.loads(result.stdout)
    assert result.exit_code == 1
    assert document["ignored"][0]["rules"] == ["metadata.labels.chart"]


def test_desired_stream_over_namespaces_with_all_namespaces(cli, tmp_path: Path) -> None:
    desired, live = [], []
    for namespace in ("shop-1-production", "shop-2-production"):
        labels = {"release": "production", "heritage": "Helm"}
        spec = {
            "podSelector": {"matchLabels": {"app": "production"}},
            "ingress": [{"ports": [{"port": 5000}]}],
        }
        desired.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "production-auto-deploy", "namespace": namespace, "labels": labels},
                "spec": spec,
            }
        )
    live_policy = json.loads(json.dumps(desired[0]))
    live_policy["spec"]["ingress"][0]["ports"][0]["protocol"] = "TCP"
    live.append(live_policy)
    (tmp_path / "desired.yaml").write_text(yaml.safe_dump_all(desired))
    (tmp_path / "live.json").write_text(
        json.dumps({"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1", "items": live})
    )
    result = cli(
        "drift",
        "--desired",
        tmp_path / "desired.yaml",
        "--live",
        tmp_path / "live.json",
        "--all-namespaces",
        "--format",
        "json",
        env=NO_CI,
    )
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert [(entry["namespace"], entry["change"]) for entry in document["drift"]] == [
        ("shop-2-production", "missing")
    ]
    assert document["scope"]["allNamespaces"] is True
    without = cli(
        "drift",
        "--desired",
        tmp_path / "desired.yaml",
        "--live",
        tmp_path / "live.json",
        "-n",
        "shop-1-production",
        env=NO_CI,
    )
    assert without.exit_code == 2 and "--all-namespaces" in without.stderr


def test_desired_stream_of_the_canary_track_leaves_the_stable_release_alone(cli, tmp_path: Path) -> None:
    # `drift --desired` with --track canary deploys release production-canary: the stable release's
    # own policy is not its to delete (it used to be reported unexpected: --track was not applied).
    from plan_cases import chart_labels, helm_annotations, live_policy

    rendered = cli("render", EXAMPLE_VALUES, "-r", "production", "-n", "shop", "--track", "canary", env=NO_CI)
    assert rendered.exit_code == 0, rendered.output
    (tmp_path / "desired.yaml").write_text(rendered.stdout)
    stable = live_policy(
        "production-auto-deploy-extra",
        labels=chart_labels("production"),
        annotations=helm_annotations("production"),
    )
    (tmp_path / "live.json").write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": [stable]}))
    args = ["drift", "--desired", tmp_path / "desired.yaml", "--live", tmp_path / "live.json", "-n", "shop"]
    result = cli(*args, "-r", "production", "--track", "canary", "--format", "json", env=NO_CI)
    document = json.loads(result.stdout)
    assert document["scope"]["releases"] == ["production-canary"]
    assert {entry["change"] for entry in document["drift"]} == {"missing"}
    assert [(item["name"], item["owner"]) for item in document["context"]] == [
        ("production-auto-deploy-extra", "helm release production")
    ]
    # The stable track itself does delete it.
    result = cli(*args, "-r", "production", "--format", "json", env=NO_CI)
    assert ("production-auto-deploy-extra", "unexpected") in [
        (entry["name"], entry["change"]) for entry in json.loads(result.stdout)["drift"]
    ]


def test_desired_from_stdin(cli) -> None:
    text = (FIXTURES / "desired.yaml").read_text()
    result = cli(
        "drift",
        "--desired",
        "-",
        "--live",
        FIXTURES / "live-in-sync.yaml",
        "-n",
        "shop-42-production",
        input=text,
        env=NO_CI,
    )
    assert result.exit_code == 0, result.output


def test_verbose_shows_cosmetic_differences(cli) -> None:
    result = cli(
        "drift",
        "--desired",
        FIXTURES / "desired.yaml",
        "--live",
        FIXTURES / "live-in-sync.yaml",
        "-n",
        "shop-42-production",
        "-v",
        env=NO_CI,
    )
    assert (
        "cosmetic: desired spec.ingress[0].ports[0].protocol: not set: the API server sets TCP"
        in result.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--live", "nope.yaml"], "nope.yaml: no such file"),
        (["--live", FIXTURES / "live-drift.yaml", "--output", "report.html"], "cannot tell the format"),
        (["--live", FIXTURES / "live-drift.yaml", "--ignore", "pod/x"], "unknown kind 'pod'"),
        (
            ["--live", FIXTURES / "live-drift.yaml", "--desired", FIXTURES / "desired.yaml"],
            "either VALUES or --desired",
        ),
    ],
)
def test_input_errors_exit_2_without_traceback(cli, args: list[object], message: str) -> None:
    result = cli("drift", EXAMPLE_VALUES, *DEPLOY, *args, env=NO_CI)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_bad_snapshot_document_names_file_and_line(cli, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.yaml"
    snapshot.write_text(
        "apiVersion: v1\nkind: List\nitems:\n- kind: NetworkPolicy\n  metadata:\n    namespace: x\n"
    )
    result = cli("drift", EXAMPLE_VALUES, *DEPLOY, "--live", snapshot, env=NO_CI)
    assert result.exit_code == 2
    assert f"{snapshot}:6:5: NetworkPolicy without metadata.name" in result.stderr


def test_invalid_values_exit_2(cli, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text('networkPolicy:\n  enabled: "no"\n')
    result = cli("drift", values, *DEPLOY, "--live", EXAMPLE_SNAPSHOT, env=NO_CI)
    assert result.exit_code == 2
    assert f"{values}:2" in result.output


def test_help_has_examples_and_ignore_syntax(cli) -> None:
    result = cli("drift", "--help")
    assert result.exit_code == 0
    assert "--output drift.json --output drift.md --output junit.xml" in result.output
    assert "NAMESPACE/KIND/NAME" in result.output and "\x08" not in result.output


def test_desired_and_live_cannot_both_come_from_standard_input(cli) -> None:
    result = cli("drift", "--desired", "-", "--live", "-", "-n", "shop-42-production", input="", env=NO_CI)
    assert result.exit_code == 2
    assert "--desired - and --live - both name standard input" in result.output


# --- no cluster access: what the deploy creates and allows (issue 15) ------------------------


def test_no_live_reports_what_the_deploy_creates_and_allows_and_exits_0(cli, tmp_path: Path) -> None:
    json_path, md_path, junit_path = tmp_path / "d.json", tmp_path / "d.md", tmp_path / "d.xml"
    result = cli(
        "drift",
        EXAMPLE_VALUES,
        "-r",
        "production",
        "--no-live",
        "--environment",
        "production",
        "-o",
        json_path,
        "-o",
        md_path,
        "-o",
        junit_path,
        env=NO_CI,
    )

    assert result.exit_code == 0, result.output
    document = json.loads(json_path.read_text())
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    assert document["summary"]["verdict"] == "no-live"
    assert {entry["change"] for entry in document["drift"]} == {"missing"}
    assert {
        "src": "monitoring/(hypothetical) any pod",
        "dst": "(deploy namespace)/(hypothetical) pods of Deployment production",
        "protocol": "TCP",
        "ports": "9090",
    } in document["connectivity"]["allowed"]
    markdown = md_path.read_text()
    assert "**No live state** (no cluster access, no snapshot): nothing was compared" in markdown
    assert "The deploy will create:" in markdown and "Drift found" not in markdown
    assert ET.fromstring(junit_path.read_text()).get("failures") == "0"
    assert "the deploy will create 2 policies" in result.stdout


def test_no_live_takes_the_namespace_when_there_is_one(cli) -> None:
    result = cli(
        "drift",
        EXAMPLE_VALUES,
        "-r",
        "production",
        "--no-live",
        "--format",
        "json",
        env={**NO_CI, "KUBE_NAMESPACE": "shop-42-production"},
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["scope"]["namespace"] == "shop-42-production"


def test_no_live_with_a_live_source_is_a_usage_error(cli) -> None:
    for extra in (["--live", EXAMPLE_SNAPSHOT], ["--context", "x"], ["-A"]):
        result = cli(
            "drift", EXAMPLE_VALUES, "-r", "production", "-n", "shop", "--no-live", *extra, env=NO_CI
        )
        assert result.exit_code == 2, extra


def test_a_clusterwide_policy_the_release_no_longer_renders_is_deleted_and_others_are_none_of_its_business(
    cli, tmp_path: Path
) -> None:
    # the release created a CiliumClusterwideNetworkPolicy through customResources; the values no
    # longer have it: Helm deletes it. Another release's (or nobody's) cluster-wide policy is left.
    from plan_cases import chart_labels, helm_annotations

    rendered = cli("render", EXAMPLE_VALUES, "-r", "production", "-n", "shop", env=NO_CI)
    assert rendered.exit_code == 0, rendered.output
    (tmp_path / "desired.yaml").write_text(rendered.stdout)

    def clusterwide(name: str, annotations: dict[str, str]) -> dict:
        return {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": name, "labels": chart_labels("production"), "annotations": annotations},
            "spec": {"endpointSelector": {}, "ingressDeny": [{"fromEntities": ["world"]}]},
        }

    items = [
        clusterwide("production-deny-world", helm_annotations("production", "shop")),
        clusterwide("platform-baseline", helm_annotations("platform", "kube-system")),
    ]
    (tmp_path / "live.json").write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": items}))
    args = ["drift", "--desired", tmp_path / "desired.yaml", "--live", tmp_path / "live.json", "-n", "shop"]
    # (without the connectivity section the snapshot's cluster-wide policies are still read)
    result = cli(*args, "-r", "production", "--no-connectivity", "--format", "json", env=NO_CI)
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    assert ("CiliumClusterwideNetworkPolicy", "", "production-deny-world", "unexpected") in [
        (entry["kind"], entry["namespace"], entry["name"], entry["change"]) for entry in document["drift"]
    ]
    assert "platform-baseline" not in result.stdout
