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
    assert "10 new connections from 19 lines in 1 file" in out
    # the kubelet probe from api's own node (reserved:host) is never judged: Kubernetes lets it in
    assert "1 connection from the pods' own nodes (reserved:host) counted apart" in out
    assert "host -> shop/api" not in out
    assert "remote-node -> shop/api : TCP 8080" in out  # another node's traffic is judged
    assert "Would be DROPPED after the deploy: 5 flows in 4 groups" in out
    assert "shop/worker -> shop/api : TCP 8080  2/2 flows (100.0%)" in out
    assert "shop/api -> world 93.184.216.34 : TCP 443" in out
    assert "world 203.0.113.50 -> shop/web : TCP 8080" in out  # the old namespace-wide policy is replaced
    # web -> api 8080, DNS and postgres stay allowed
    assert "shop/web -> shop/api" not in out
    assert "coredns" not in out
    assert "shop/postgres" not in out
    assert "2  reply packets" in out
    assert "Result: FAILED (5 flows would be dropped, at most 0 tolerated)" in out


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
            "audit", "--flows", FLOWS, "--desired", DATA / "desired.yaml", "--max-dropped", 5, *COMMON
        ).exit_code
        == 0
    )
    assert (
        cli(
            "audit", "--flows", FLOWS, "--desired", DATA / "desired.yaml", "--max-dropped", 4, *COMMON
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
    assert (summary["flows"], summary["would_drop"], summary["newly_allowed"]) == (20, 10, 2)
    assert summary["from_node"] == 2  # the kubelet probe, once per file: counted apart
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
        (("--flows", DATA / "live.yaml", "--desired", DATA / "desired.yaml", *COMMON), "no line of it is a flow"),
        (
            ("--flows", DATA / "absent.jsonl", "--desired", DATA / "desired.yaml", *COMMON),
            "no such file or directory",
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
    assert json.loads(json_out.read_text())["summary"]["would_drop"] == 5
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
    assert json.loads(result.output)["summary"]["flows"] == 10


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


def _hubble(src_ns: str, src_labels: list[str], dst_ns: str, dst_labels: list[str], port: int) -> str:
    flow = {
        "time": "2026-11-20T10:15:02Z",
        "verdict": "FORWARDED",
        "IP": {"source": "10.244.1.5", "destination": "10.244.2.6", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 40000, "destination_port": port, "flags": {"SYN": True}}},
        "source": {"identity": 30000, "namespace": src_ns, "labels": src_labels, "pod_name": "api-0"},
        "destination": {"identity": 30001, "namespace": dst_ns, "labels": dst_labels, "pod_name": "web-0"},
        "Type": "L3_L4",
        "is_reply": False,
    }
    return json.dumps({"flow": flow}) + "\n"


def test_namespace_selectors_use_the_namespace_labels_the_flows_recorded(cli, tmp_path):
    """--no-live: shop is known only by name (from the policy), so its labels come from the
    recording; a namespaceSelector on them lets the flow in (it was reported as dropped)."""
    desired = tmp_path / "desired.yaml"
    desired.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n"
        "  - from: [{namespaceSelector: {matchLabels: {team: observability}}}]\n"
    )
    labels = "k8s:io.cilium.k8s.namespace.labels.team"
    flows = tmp_path / "flows.jsonl"
    flows.write_text(
        _hubble(
            "shop",
            ["k8s:app=api", f"{labels}=observability"],
            "shop",
            ["k8s:app=web", f"{labels}=observability"],
            8080,
        )
        + _hubble(
            "other",
            ["k8s:app=x", f"{labels}=payments"],
            "shop",
            ["k8s:app=web", f"{labels}=observability"],
            8080,
        )
    )
    result = cli(
        "audit", "--flows", flows, "--desired", desired, "--no-live", "-n", "shop", "-r", "production"
    )
    assert result.exit_code == 1, result.output
    assert "Would be DROPPED after the deploy: 1 flow in 1 group" in result.output
    assert "other/api -> shop/web" in result.output  # team=payments is not selected
    assert "shop/api -> shop/web" not in result.output
    # a Namespace object says what the namespace's labels are: the recording does not override it
    namespace = tmp_path / "ns.yaml"
    namespace.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: payments}}\n"
    )
    snapshot = cli(
        "audit", "--flows", flows, "--desired", desired, "--live", namespace, "-n", "shop", "-r", "production"
    )
    assert "shop/api -> shop/web" in snapshot.output, snapshot.output


@pytest.mark.parametrize(
    "content",
    [
        "",
        "\n\n",
        '{"node_status": {"state": "NODE_CONNECTED"}}\n',
        "src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port\n",
    ],
    ids=["empty", "blank-lines", "no-flow-events", "csv-header-only"],
)
def test_a_flows_file_without_a_flow_is_an_input_error(cli, tmp_path, content):
    flows = tmp_path / "flows.jsonl"
    flows.write_text(content)
    result = cli("audit", "--flows", flows, "--desired", DATA / "desired.yaml", *COMMON)
    assert result.exit_code == 2, result.output
    assert "no flow in it" in result.output
    assert "Result: passed" not in result.output
