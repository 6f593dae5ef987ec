"""connectivity, diff, explain and lint through the real CLI (click's CliRunner)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from autodeploy_netpol.cli import main
from autodeploy_netpol.report.json_report import report_schema

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "connectivity.schema.json").read_text()
)

CLUSTER = """\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
- {apiVersion: v1, kind: Namespace, metadata: {name: gitlab-managed-apps}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop}
  spec:
    template:
      metadata: {labels: {app: web, tier: web}}
      spec: {containers: [{name: web, image: x, ports: [{name: http, containerPort: 8080}]}]}
- apiVersion: v1
  kind: Pod
  metadata:
    name: api-7d4b9c-x2x9z
    namespace: shop
    labels: {app: api, pod-template-hash: 7d4b9c}
    ownerReferences: [{kind: ReplicaSet, name: api-7d4b9c, controller: true}]
  spec: {containers: [{name: api, image: x}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: ingress-nginx, namespace: gitlab-managed-apps, labels: {app: nginx-ingress}}
  spec: {containers: [{name: c, image: x}]}
"""

WEB_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: gitlab-managed-apps}}
    ports: [{port: http}]
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(CLUSTER)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "web.yaml").write_text(WEB_POLICY)
    return {"cluster": cluster, "policies": policies}


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_connectivity_text_groups_lines(files: dict[str, Path]) -> None:
    code, out = run("connectivity", str(files["cluster"]), str(files["policies"]))
    assert code == 0
    assert "shop/api => shop/web : TCP 8080" in out
    assert "gitlab-managed-apps/ingress-nginx => shop/web : TCP 8080" in out
    assert "shop/web => shop/api : all" in out
    # the ReplicaSet pod is named by its Deployment; nothing but api, ingress and port 8080 reaches web
    assert "api-7d4b9c" not in out
    assert "0.0.0.0/0 => shop/web" not in out and "0.0.0.0/0 => shop/api : all" in out


def test_connectivity_json_has_the_documented_shape(files: dict[str, Path]) -> None:
    code, out = run("connectivity", str(files["cluster"]), str(files["policies"]), "--format", "json")
    assert code == 0
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert {"src": "shop/api", "dst": "shop/web", "protocol": "TCP", "ports": "8080"} in report["connections"]
    assert {"src": "shop/web", "dst": "shop/api", "protocol": "all", "ports": "all"} in report["connections"]
    assert report["workloads"] == ["gitlab-managed-apps/ingress-nginx", "shop/api", "shop/web"]


def test_connectivity_csv_and_markdown(files: dict[str, Path]) -> None:
    _, out = run("connectivity", str(files["cluster"]), str(files["policies"]), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"src": "shop/api", "dst": "shop/web", "protocol": "TCP", "ports": "8080"} in rows
    _, out = run("connectivity", str(files["cluster"]), str(files["policies"]), "--format", "markdown")
    assert "| `shop/api` | `shop/web` | TCP 8080 |" in out


def test_connectivity_reads_standard_input_and_multi_document_streams(files: dict[str, Path]) -> None:
    stream = yaml.safe_dump_all(yaml.safe_load(CLUSTER)["items"]) + "---\n" + WEB_POLICY
    code, out = run("connectivity", "-", input=stream)
    assert code == 0 and "shop/api => shop/web : TCP 8080" in out


def test_bad_policy_is_an_input_error_at_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(WEB_POLICY.replace("ports: [{port: http}]", "ports: [{port: 99999}]"))
    code, out = run("connectivity", str(bad))
    assert code == 2
    assert f"{bad}:10:20:" in out and "outside 1-65535" in out and "Traceback" not in out


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    code, out = run("connectivity", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in out


def test_diff_lists_added_and_removed_and_exits_1(files: dict[str, Path]) -> None:
    code, out = run(
        "diff", "--before", str(files["cluster"]), "--after", str(files["cluster"]), str(files["policies"])
    )
    assert code == 1
    assert "Removed (no longer allowed):" in out
    assert (
        "  - gitlab-managed-apps/ingress-nginx => shop/web : TCP 1-8079,8081-65535, UDP all, SCTP all" in out
    )
    assert "Added" not in out
    code, out = run(
        "diff", "--before", str(files["cluster"]), "--after", str(files["cluster"]), "--format", "json"
    )
    assert code == 0 and json.loads(out)["added"] == [] and json.loads(out)["removed"] == []
    code, out = run(
        "diff",
        "--before",
        str(files["cluster"]),
        str(files["policies"]),
        "--after",
        str(files["cluster"]),
        "--format",
        "json",
    )
    jsonschema.validate(json.loads(out), SCHEMA)
    assert {"src": "0.0.0.0/0", "dst": "shop/web", "protocol": "all", "ports": "all"} in json.loads(out)[
        "added"
    ]


def test_diff_usage_errors(files: dict[str, Path]) -> None:
    code, out = run("diff", str(files["cluster"]), "--after", str(files["cluster"]))
    assert code == 2 and "neither after --before nor after --after" in out
    code, out = run("diff", "--before", str(files["cluster"]), "--after")
    assert code == 2 and "--after needs at least one PATH" in out
    code, _ = run("diff", f"--before={files['cluster']}", f"--after={files['cluster']}")
    assert code == 0


def test_diff_without_workloads_names_each_input_and_stdin_as_such(files: dict[str, Path]) -> None:
    """Policies only on both sides: refused (no change could ever show), naming every input, standard
    input as ``<stdin>`` as every message names it (not ``-``)."""
    policies = (files["policies"] / "web.yaml").read_text()
    code, out = run("diff", "--before", str(files["policies"]), "--after", "-", input=policies)
    assert code == 2
    assert "neither side holds a workload" in out
    assert f"before: {files['policies']}; after: <stdin>" in out


def test_explain(files: dict[str, Path]) -> None:
    code, out = run("explain", str(files["cluster"]), str(files["policies"]))
    assert code == 0
    assert "shop/web (NetworkPolicy)" in out
    assert "accept TCP named 'http' from pods app=api in the same namespace" in out
    assert "Applies to: shop/web." in out
    code, out = run("explain", str(files["policies"]), "--policy", "nope")
    assert code == 2


def test_lint_findings_with_locations_and_exit_codes(files: dict[str, Path], tmp_path: Path) -> None:
    code, out = run("lint", str(files["cluster"]), str(files["policies"]))
    assert code == 0, out
    gitlab_default = tmp_path / "gitlab.yaml"
    gitlab_default.write_text(
        WEB_POLICY.replace(
            "namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: gitlab-managed-apps}}",
            "namespaceSelector: {matchLabels: {app.gitlab.com/managed_by: gitlab}}",
        )
    )
    code, out = run("lint", str(files["cluster"]), str(gitlab_default))
    assert code == 1
    assert f"{gitlab_default}:9:7: warning[namespace-selector-matches-nothing]" in out
    assert "error[ingress-namespace-cannot-reach] shop/web: shop/web:" in out
    args = ["lint", str(files["cluster"]), str(files["policies"]), "--ingress-namespace", "ingress-nginx"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 1
    assert f"note: {files['policies']}: read 1 file" in result.stderr  # the directory note
    # the namespace given does not exist in the input: said plainly, besides the unreachable app
    finding, missing = json.loads(result.stdout)["findings"]  # errors first
    assert missing["check"] == "ingress-namespace-missing" and missing["severity"] == "warning"
    assert "namespace ingress-nginx does not exist" in missing["message"]
    assert finding["check"] == "ingress-namespace-cannot-reach" and finding["location"].endswith(
        "web.yaml:7:3"
    )


def test_lint_detects_the_ingress_controller(files: dict[str, Path]) -> None:
    # no option, no variable: the controller's pods (app=nginx-ingress) say where it runs
    result = CliRunner().invoke(main, ["lint", str(files["cluster"]), str(files["policies"])])
    assert result.exit_code == 0, result.output
    assert (
        "note: ingress controller detected: NGINX Ingress Controller in namespace gitlab-managed-apps "
        "(1 pod labelled app=nginx-ingress in namespace gitlab-managed-apps)" in result.stderr
    )
    # nothing to detect and nothing set: the default namespace is checked, and its absence is a finding
    bare = files["cluster"].parent / "bare.yaml"
    bare.write_text(CLUSTER.replace("labels: {app: nginx-ingress}", "labels: {app: something-else}"))
    result = CliRunner().invoke(main, ["lint", str(bare), str(files["policies"]), "--format", "json"])
    assert result.exit_code == 1
    assert "no ingress controller detected" in result.stderr
    checks = [f["check"] for f in json.loads(result.stdout)["findings"]]
    assert checks == ["ingress-namespace-cannot-reach", "ingress-namespace-missing"]


def test_lint_ingress_namespace_from_environment(files: dict[str, Path]) -> None:
    result = CliRunner(env={"NETPOL_INGRESS_NAMESPACE": "ingress-nginx"}).invoke(
        main, ["lint", str(files["cluster"]), str(files["policies"])]
    )
    assert result.exit_code == 1 and "ingress-nginx" in result.output


def test_drift_report_leads_with_connectivity(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "shop"
    env = {"HELM_RELEASE_NAME": "production", "KUBE_NAMESPACE": "shop-42-production", "CI_PROJECT_ID": "42"}
    runner = CliRunner(env=env)
    values = str(example / ".gitlab" / "auto-deploy-values.yaml")
    live = str(example / "live-snapshot.yaml")
    result = runner.invoke(main, ["drift", values, "--live", live, "--format", "markdown"])
    assert result.exit_code == 1, result.output
    body = result.output
    assert body.index("**Connectivity**") < body.index("Drift found")
    # A snapshot of policies only: every endpoint is hypothetical, and said to be.
    assert "every endpoint is hypothetical" in body
    hypothetical_row = (
        "| ➕ | `monitoring/(hypothetical) any pod` | "
        "`shop-42-production/(hypothetical) pods of Deployment production` | TCP 9090 |"
    )
    assert hypothetical_row in body
    assert "[any pod]" not in body and "gitlab-managed-apps" not in body.split("Drift found")[0]
    assert "```mermaid" in body and "cosmetic" not in body.lower()
    # With the namespaces and workloads of the cluster: the real endpoints, none hypothetical.
    cluster = str(example / "cluster.yaml")
    result = runner.invoke(main, ["drift", values, "--live", live, "--live", cluster, "--format", "markdown"])
    assert result.exit_code == 1, result.output
    section = result.output.split("Drift found")[0]
    assert "| ➕ | `monitoring/prometheus` | `shop-42-production/production` | TCP 9090 |" in section
    assert "| ➖ | `monitoring/prometheus` | `shop-42-production/production` | TCP 5005,9100 |" in section
    assert "among the 5 workloads of the live state" in section
    assert "hypothetical" not in section.split("<details>")[0]
    result = runner.invoke(main, ["drift", values, "--live", live, "--format", "json"])
    section = json.loads(result.stdout)["connectivity"]
    assert section["verdict"] == "changes"
    assert (
        "NetworkPolicy shop-42-production/production-auto-deploy-allow-metrics" in section["changingObjects"]
    )
    result = runner.invoke(main, ["drift", values, "--live", live, "--format", "json", "--no-connectivity"])
    assert "connectivity" not in json.loads(result.stdout)
    result = runner.invoke(main, ["drift", values, "--live", live, "--format", "json", "-A"])
    assert json.loads(result.stdout)["connectivity"]["verdict"] == "not-analysed"


def test_drift_from_standard_input_keeps_its_connectivity_section() -> None:
    # One read of the snapshot serves drift and connectivity: standard input used to leave the
    # section out ("--live - (standard input) is read once: no connectivity").
    example = Path(__file__).resolve().parents[2] / "examples" / "shop"
    env = {"HELM_RELEASE_NAME": "production", "KUBE_NAMESPACE": "shop-42-production", "CI_PROJECT_ID": "42"}
    values = str(example / ".gitlab" / "auto-deploy-values.yaml")
    snapshot = (example / "live-snapshot.yaml").read_text()
    result = CliRunner(env=env).invoke(
        main, ["drift", values, "--live", "-", "--format", "json"], input=snapshot
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["sources"]["live"] == "<stdin>"
    assert report["connectivity"]["verdict"] == "changes"


def test_big_json_snapshots_read_fast_and_still_locate_errors(tmp_path: Path) -> None:
    objects = yaml.safe_load(CLUSTER)["items"] + [yaml.safe_load(WEB_POLICY)]
    filler = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"c{i}", "namespace": "shop"},
            "data": {"k": "v" * 200},
        }
        for i in range(1500)
    ]
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects + filler}, indent=1))
    assert big.stat().st_size > 256 * 1024
    code, out = run("connectivity", str(big))
    assert code == 0 and "shop/api => shop/web : TCP 8080" in out
    objects[-1]["spec"]["ingress"][0]["ports"] = [{"port": 99999}]
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects + filler}, indent=1))
    code, out = run("connectivity", str(big))
    assert code == 2 and f"{big}:" in out and "outside 1-65535" in out
    line = int(out.split(f"{big}:")[1].split(":")[0])
    assert '"port": 99999' in big.read_text().splitlines()[line - 1]


def test_drift_keeps_its_report_when_a_live_policy_cannot_be_modelled(tmp_path: Path) -> None:
    # One live policy with an invalid ipBlock CIDR used to make drift exit 2 when the connectivity
    # section was on: the whole report was lost for one unusable policy.
    example = Path(__file__).resolve().parents[2] / "examples" / "shop"
    env = {"HELM_RELEASE_NAME": "production", "KUBE_NAMESPACE": "shop-42-production", "CI_PROJECT_ID": "42"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: bad-cidr, namespace: shop-42-production}\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
        "  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/33}\n"
    )
    values = str(example / ".gitlab" / "auto-deploy-values.yaml")
    args = ["drift", values, "--live", str(example / "live-snapshot.yaml"), "--live", str(bad)]
    args += ["--live", str(example / "cluster.yaml"), "--format", "json"]
    result = CliRunner(env=env).invoke(main, args)
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    section = document["connectivity"]
    assert section["verdict"] == "changes"
    assert {"src": "monitoring/prometheus", "dst": "shop-42-production/production", "allowed": "TCP 9090"} in section[
        "addedPairs"
    ]
    assert any(
        note.startswith("NetworkPolicy shop-42-production/bad-cidr (live) is left out: it cannot be modelled")
        for note in section["notes"]
    ), section["notes"]
