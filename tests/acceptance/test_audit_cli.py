"""``autodeploy-netpol audit`` end to end through click, on hand-written Hubble samples."""

from __future__ import annotations

import gzip
import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

DATA = Path(__file__).parent.parent / "data" / "audit"
FLOWS = DATA / "hubble-flows.jsonl"
COMMON = ("--live", DATA / "live.yaml", "-n", "shop", "-r", "production")


def audit_report_schema() -> dict:
    text = (
        resources.files("autodeploy_netpol").joinpath("schemas/audit-report.schema.json").read_text("utf-8")
    )
    return json.loads(text)


def test_text_report_lists_drops_and_new_allows_and_exits_1(cli):
    result = cli("audit", "--flows", FLOWS, "--desired", DATA / "desired.yaml", *COMMON)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "11 new connections from 19 lines in 1 file" in out
    assert "Would be DROPPED after the deploy: 6 flows in 5 groups" in out
    assert "shop/worker -> shop/api : TCP 8080  2/2 flows (100.0%)" in out
    assert "shop/api -> world 93.184.216.34 : TCP 443" in out
    assert "world 203.0.113.50 -> shop/web : TCP 8080" in out  # the old namespace-wide policy is replaced
    # web -> api 8080, DNS and postgres stay allowed
    assert "shop/web -> shop/api" not in out
    assert "coredns" not in out
    assert "shop/postgres" not in out
    assert "2  reply packets" in out
    assert "Result: FAILED (6 flows would be dropped, at most 0 tolerated)" in out


def test_values_file_gives_the_same_answer_as_the_rendered_objects(cli):
    from_values = cli("audit", DATA / "values.yaml", "--flows", FLOWS, "--format", "json", *COMMON)
    from_render = cli(
        "audit", "--flows", FLOWS, "--desired", DATA / "desired.yaml", "--format", "json", *COMMON
    )
    assert from_values.exit_code == from_render.exit_code == 1
    assert json.loads(from_values.output)["groups"] == json.loads(from_render.output)["groups"]


def test_max_dropped_tolerates(cli):
    assert (
        cli(
            "audit", "--flows", FLOWS, "--desired", DATA / "desired.yaml", "--max-dropped", 6, *COMMON
        ).exit_code
        == 0
    )
    assert (
        cli(
            "audit", "--flows", FLOWS, "--desired", DATA / "desired.yaml", "--max-dropped", 5, *COMMON
        ).exit_code
        == 1
    )


def test_json_report_follows_its_schema(cli, tmp_path):
    packed = tmp_path / "flows.json.gz"
    packed.write_bytes(gzip.compress(FLOWS.read_bytes()))
    result = cli(
        "audit",
        "--flows",
        packed,
        "--flows",
        FLOWS,
        "--desired",
        DATA / "desired.yaml",
        "--format",
        "json",
        *COMMON,
    )
    assert result.exit_code == 1
    report = json.loads(result.output)
    jsonschema.validate(report, audit_report_schema())
    assert report["passed"] is False
    summary = report["summary"]
    assert (summary["flows"], summary["would_drop"], summary["newly_allowed"]) == (22, 12, 2)
    worker = next(g for g in report["groups"] if g["source"] == "shop/worker")
    assert worker["observed"] == {"AUDIT": 2, "DROPPED": 2}
    assert worker["first_seen"] == "2026-11-20T10:16:00.000000001Z"
    assert worker["drop_ratio"] == 1.0


def test_nothing_dropped_exits_0(cli, tmp_path):
    flows = tmp_path / "flows.csv"
    flows.write_text(
        "shop,app=web,shop,app=api,,TCP,8080\nshop,app=api,kube-system,k8s-app=kube-dns,,UDP,53\n"
    )
    result = cli("audit", "--flows", flows, "--desired", DATA / "desired.yaml", *COMMON)
    assert result.exit_code == 0, result.output
    assert "No recorded flow would be dropped" in result.output


def test_markdown_escapes_everything_from_the_flows(cli, tmp_path):
    flows = tmp_path / "evil.csv"
    flows.write_text(
        "src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port,src_workload\n"
        "shop,app=worker,shop,app=api,,TCP,8080,@all <img src=x onerror=alert(1)> | [x](http://e.vil) `tick` #1 !2\n"
    )
    result = cli(
        "audit", "--flows", flows, "--desired", DATA / "desired.yaml", "--format", "markdown", *COMMON
    )
    assert result.exit_code == 1
    out = result.output
    row = next(line for line in out.splitlines() if "shop/api" in line and line.startswith("|"))
    # The hostile name sits in one code span; its pipe is escaped so the table keeps 7 columns.
    assert "``shop/@all <img src=x onerror=alert(1)> \\| [x](http://e.vil) `tick` #1 !2``" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 8
    outside_code = re.sub(r"(`+).*?\1", "", out)
    for dangerous in ("@all", "<img", "](http", "#1"):
        assert dangerous not in outside_code


def test_text_report_neutralises_terminal_escapes(cli, tmp_path):
    flows = tmp_path / "evil.csv"
    flows.write_text(
        "src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port,src_workload\n"
        "shop,app=worker,shop,app=api,,TCP,8080,\x1b[31mred\x1b[0m\n"
    )
    result = cli("audit", "--flows", flows, "--desired", DATA / "desired.yaml", *COMMON)
    assert "\x1b" not in result.output and "?[31mred?[0m" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--flows", DATA / "live.yaml", "--desired", DATA / "desired.yaml", *COMMON), "none of its"),
        (
            ("--flows", DATA / "absent.jsonl", "--desired", DATA / "desired.yaml", *COMMON),
            "cannot read flow file",
        ),
        (("--flows", FLOWS, "--desired", DATA / "desired.yaml", "-r", "production"), "no namespace"),
        ((DATA / "values.yaml", "--flows", FLOWS, "--desired", DATA / "desired.yaml", *COMMON), "not both"),
    ],
)
def test_input_errors_exit_2(cli, args, message):
    result = cli("audit", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_output_files_by_suffix(cli, tmp_path):
    json_out, md_out = tmp_path / "audit.json", tmp_path / "audit.md"
    result = cli(
        "audit", "--flows", FLOWS, "--desired", DATA / "desired.yaml", "-o", json_out, "-o", md_out, *COMMON
    )
    assert result.exit_code == 1
    assert json.loads(json_out.read_text())["summary"]["would_drop"] == 6
    assert md_out.read_text().startswith("### ❌ Recorded flows against the new policies")
    assert "Result: FAILED" in result.output


def test_flows_from_standard_input_gzipped(cli):
    result = cli(
        "audit",
        "--flows",
        "-",
        "--desired",
        DATA / "desired.yaml",
        "--format",
        "json",
        *COMMON,
        input=gzip.compress(FLOWS.read_bytes()),
    )
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["summary"]["flows"] == 11


def test_live_state_from_standard_input(cli):
    # audit reads its PATHs with the same reader as drift and the connectivity commands: '-' works
    args = (
        "--flows",
        FLOWS,
        "--desired",
        DATA / "desired.yaml",
        "--format",
        "json",
        "-n",
        "shop",
        "-r",
        "production",
    )
    from_stdin = cli("audit", *args, "--live", "-", input=(DATA / "live.yaml").read_text())
    from_file = cli("audit", *args, "--live", DATA / "live.yaml")
    assert from_stdin.exit_code == from_file.exit_code == 1, from_stdin.output
    assert json.loads(from_stdin.stdout)["groups"] == json.loads(from_file.stdout)["groups"]


def test_flows_and_live_state_cannot_both_come_from_standard_input(cli):
    result = cli("audit", "--flows", "-", "--live", "-", "-n", "shop", "-r", "production", input="")
    assert result.exit_code == 2
    assert "both name standard input" in result.output
