"""``autodeploy-netpol suggest --from-flows`` end to end through click, on generated Hubble recordings."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from learn_support import Workload as HubbleWorkload
from learn_support import generate_environment, record

from autodeploy_netpol.errors import ExitCode

COMMON = ("-r", "production", "-n", "shop")


def schema() -> dict:
    text = (
        resources.files("autodeploy_netpol").joinpath("schemas/learned-policy.schema.json").read_text("utf-8")
    )
    return json.loads(text)


@pytest.fixture
def recording(tmp_path) -> Path:
    """Web (stable + canary) and a worker receiving from the ingress controller, a peer app,
    Prometheus, the node and the internet; the web pods calling the API server, DNS and a SaaS."""
    env = generate_environment(3)
    web, canary = env.components["web"]
    worker = next(w for name, items in env.components.items() if name != "web" for w in items)
    nginx = next(w for w in env.others if w.namespace == "ingress-nginx")
    prometheus = next(w for w in env.others if w.namespace == "monitoring")
    dns = next(w for w in env.others if w.namespace == "kube-system")
    redis = next(w for w in env.others if w.name == "redis")
    connections = [
        (nginx, web, "TCP", 5000),
        (nginx, canary, "TCP", 5000),
        (prometheus, web, "TCP", 9090),
        (prometheus, worker, "TCP", 9090),
        (redis, worker, "TCP", 8081),
        ("host", web, "TCP", 5000),
        ("world:203.0.113.10", web, "TCP", 443),
        ("world:203.0.113.11", web, "TCP", 443),
        (web, "kube-apiserver", "TCP", 443),
        (web, dns, "UDP", 53),
        (web, "world:198.51.100.7", "TCP", 443),
        (worker, redis, "TCP", 6379),
    ]
    path = tmp_path / "flows.jsonl"
    record(path, env, connections, seed=1, share=1.0)
    return path


def uncomment_custom_resources(text: str) -> str:
    lines = text.splitlines()
    start = lines.index("# customResources:")
    return "\n".join([*lines[:start], *(line[2:] for line in lines[start:])]) + "\n"


def test_values_block_is_disabled_commented_and_carries_its_proof(cli, recording, tmp_path):
    result = cli("suggest", "--from-flows", recording, *COMMON)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "# Proof (audit engine, live state: none (no --live or cluster)): 0 of " in out
    assert "every recorded connection stays allowed" in out
    assert "reply packets" in out  # replies are read and not counted
    values = yaml.safe_load(out)
    assert values["networkPolicy"]["enabled"] is False
    assert "customResources" not in values  # commented out: the chart has no switch for them
    enabled = yaml.safe_load(uncomment_custom_resources(out))
    document = json.loads(cli("suggest", "--from-flows", recording, *COMMON, "--format", "json").stdout)
    assert enabled["customResources"] == document["values"]["customResources"]
    assert values["networkPolicy"] == document["values"]["networkPolicy"]
    # every rule carries its flows: count, first and last seen
    assert (
        "#         # From ingress-nginx/ingress-nginx-controller on TCP 5000: 5 flows (2 connections), "
        "2026-11-20 10:00:01 → 2026-11-20 10:00:05 UTC"
    ) in out
    assert "#         # From host on TCP 5000: 3 flows, 2026-11-20 10:00:12 → 2026-11-20 10:00:14 UTC" in out
    # the pasted block is a valid values file
    values_file = tmp_path / "auto-deploy-values.yaml"
    values_file.write_text(uncomment_custom_resources(out))
    checked = cli("validate", values_file)
    assert checked.exit_code == 0, checked.output
    # ... and, enabled, the chart model renders its main policy as the manifests format shows it
    values_file.write_text(cli("suggest", "--from-flows", recording, *COMMON, "--enabled").stdout)
    rendered = cli("render", values_file, *COMMON, "--format", "json")
    assert rendered.exit_code == 0, rendered.output
    manifests = cli("suggest", "--from-flows", recording, *COMMON, "--format", "manifests").stdout
    main = next(doc for doc in yaml.safe_load_all(manifests) if doc)
    # Helm's order puts the customResources policies first: pick the chart's own by name
    [chart_policy] = [
        item
        for item in json.loads(rendered.stdout)["items"]
        if item["metadata"]["name"] == main["metadata"]["name"]
    ]
    assert chart_policy["spec"] == main["spec"]


def test_enabled_writes_the_custom_resources_live(cli, recording):
    out = cli("suggest", "--from-flows", recording, *COMMON, "--enabled").stdout
    values = yaml.safe_load(out)
    assert values["networkPolicy"]["enabled"] is True
    assert [c["metadata"]["name"] for c in values["customResources"]] == [
        "{{ .Release.Name }}-learned-sync",
        "{{ .Release.Name }}-learned-web",
        "{{ .Release.Name }}-learned-web-cilium",
    ]
    assert "Enforced as soon as this is deployed." in out


def test_json_follows_its_schema_and_the_proof_is_in_it(cli, recording):
    result = cli("suggest", "--from-flows", recording, *COMMON, "--egress", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert document["proof"]["passed"] is True and document["proof"]["wouldDrop"] == 0
    assert document["proof"]["flows"] == document["recording"]["appFlows"] > 0
    assert document["dns"]["flows"] > 0
    assert {"production-learned-web", "production-learned-web-cilium"} <= {
        obj["metadata"]["name"] for obj in document["objects"]
    }
    kinds = {(rule["kind"], rule["direction"]) for rule in document["rules"]}
    assert ("CiliumNetworkPolicy", "egress") in kinds  # kube-apiserver
    assert ("CiliumNetworkPolicy", "ingress") in kinds  # host


def test_manifests_are_what_the_deploy_creates_and_audit_agrees(cli, recording, tmp_path):
    result = cli("suggest", "--from-flows", recording, *COMMON, "--egress", "--format", "manifests")
    assert result.exit_code == 0, result.output
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert objects[0]["metadata"]["name"] == "production-auto-deploy"
    assert objects[0]["metadata"]["labels"]["app"] == "production"  # rendered by the chart model
    assert {obj["metadata"]["namespace"] for obj in objects} == {"shop"}
    desired = tmp_path / "desired.yaml"
    desired.write_text(result.stdout)
    # the audit command, on its own, finds nothing the suggestion would drop
    audit = cli("audit", "--flows", recording, "--desired", desired, "--no-live", *COMMON)
    assert audit.exit_code == 0, audit.output
    assert "Result: passed (0 dropped, at most 0 tolerated)" in audit.stdout


def test_the_same_recording_gives_the_same_output(cli, recording):
    first = cli("suggest", "--from-flows", recording, *COMMON, "--egress")
    second = cli("suggest", "--from-flows", recording, *COMMON, "--egress")
    assert first.stdout == second.stdout


def test_gzip_and_standard_input(cli, recording, tmp_path):
    packed = tmp_path / "flows.json.gz"
    packed.write_bytes(gzip.compress(recording.read_bytes()))
    plain = cli("suggest", "--from-flows", recording, *COMMON, "--format", "json")
    zipped = cli("suggest", "--from-flows", packed, *COMMON, "--format", "json")
    piped = cli("suggest", "--from-flows", "-", *COMMON, "--format", "json", input=recording.read_bytes())
    assert plain.exit_code == zipped.exit_code == piped.exit_code == 0
    for other in (zipped, piped):
        assert json.loads(other.stdout)["values"] == json.loads(plain.stdout)["values"]


def test_csv_with_reserved_identities(cli, tmp_path):
    flows = tmp_path / "flows.csv"
    flows.write_text(
        "src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port\n"
        ",reserved:host,shop,app=production;tier=web;track=stable;release=production,,TCP,5000\n"
        "ingress-nginx,app.kubernetes.io/name=ingress-nginx,shop,app=production;tier=web;track=canary;release=production-canary,,TCP,5000\n"
        "shop,tier=worker;release=production;track=stable,,reserved:kube-apiserver,,TCP,443\n"
        "shop,app=production;tier=web;track=stable;release=production,,,93.184.216.34,TCP,443\n"
    )
    result = cli("suggest", "--from-flows", flows, *COMMON, "--egress", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    specs = {obj["metadata"]["name"]: obj["spec"] for obj in document["objects"]}
    assert specs["production-learned-web-cilium"]["ingress"][0]["fromEntities"] == ["host"]
    assert specs["production-learned-worker-cilium"]["egress"][0]["toEntities"] == ["kube-apiserver"]
    assert specs["production-learned-web"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "93.184.216.34/32"}}]
    assert "no DNS flow" in result.stderr  # said so


def test_malformed_lines_are_counted_and_a_file_without_flows_is_an_error(cli, recording, tmp_path):
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        recording.read_text() + '{"flow": {"l4": {"TCP": {"destination_port": 99999}}}}\n{not json\n'
    )
    result = cli("suggest", "--from-flows", mixed, *COMMON)
    assert result.exit_code == 0, result.output
    assert "# Malformed lines left out: 2 (first: " in result.stdout
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("{oops\n{still not json\n")
    failed = cli("suggest", "--from-flows", garbage, *COMMON)
    assert failed.exit_code == ExitCode.INPUT
    assert "no line of it is a flow (2 lines read" in failed.stderr
    assert "Traceback" not in failed.output
    missing = cli("suggest", "--from-flows", tmp_path / "nope.json", *COMMON)
    assert missing.exit_code == ExitCode.INPUT and "nope.json: no such file or directory" in missing.stderr


def test_a_recording_without_the_release_is_an_error_naming_what_it_holds(cli, recording):
    result = cli("suggest", "--from-flows", recording, "-r", "review-42", "-n", "shop")
    assert result.exit_code == ExitCode.INPUT
    assert "no recorded flow involves a pod of release 'review-42'" in result.stderr
    assert "production" in result.stderr  # the releases the recording holds


def test_a_live_deny_fails_the_proof_loudly_with_exit_5(cli, recording, tmp_path):
    live = tmp_path / "live.yaml"
    live.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy",
                "metadata": {"name": "no-monitoring", "namespace": "shop"},
                "spec": {
                    "endpointSelector": {"matchLabels": {"tier": "web"}},
                    "ingressDeny": [
                        {
                            "fromEndpoints": [
                                {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}
                            ]
                        }
                    ],
                },
            }
        )
    )
    result = cli("suggest", "--from-flows", recording, *COMMON, "--live", live)
    assert result.exit_code == ExitCode.PROOF == 5
    assert result.stdout == ""  # nothing to paste
    assert "the proof failed" in result.stderr and "monitoring/prometheus" in result.stderr
    as_json = cli("suggest", "--from-flows", recording, *COMMON, "--live", live, "--format", "json")
    assert as_json.exit_code == 5
    document = json.loads(as_json.stdout)
    assert document["proof"]["passed"] is False and document["proof"]["dropped"]


def test_live_snapshot_names_workloads_and_lists_unseen_components(cli, recording, tmp_path):
    env = generate_environment(3)
    objects = env.objects()
    objects.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "production-sidekiq", "namespace": "shop"},
            "spec": {
                "template": {
                    "metadata": {
                        "labels": {
                            "tier": "worker",
                            "release": "production",
                            "track": "stable",
                            "worker": "sidekiq",
                        }
                    }
                }
            },
        }
    )
    live = tmp_path / "live.json"
    live.write_text(json.dumps({"kind": "List", "items": objects}))
    result = cli("suggest", "--from-flows", recording, *COMMON, "--live", live, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    sidekiq = next(c for c in document["components"] if c["name"] == "sidekiq")
    assert sidekiq["observed"] is False and sidekiq["workloads"] == ["shop/production-sidekiq"]
    assert any("sidekiq" in note for note in document["notes"])
    assert document["settings"]["live"] == f"snapshot {live}"


def test_hostile_labels_cannot_break_out_of_comments_or_values(cli, tmp_path):
    env = generate_environment(3)
    web = env.components["web"][0]
    evil = HubbleWorkload(
        "shop",
        "evil",
        {"app": "x\n  enabled: true\n# \u2028", "note": "a #b: {{ .Values.x }}", "dir": "\u202eoops"},
    )
    env.cluster.workloads.append(evil)
    path = tmp_path / "flows.jsonl"
    record(path, env, [(evil, web, "TCP", 5000)], seed=2, share=1.0, noise=False)
    result = cli("suggest", "--from-flows", path, *COMMON)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for line in out.splitlines():
        assert "\u2028" not in line and "\u202e" not in line
    values = yaml.safe_load(uncomment_custom_resources(out))
    assert values["networkPolicy"]["enabled"] is False
    peer = values["customResources"][0]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert peer["app"] == "x\n  enabled: true\n# \u2028"
    assert peer["dir"] == "\u202eoops"


def test_options_that_need_flows_and_bad_values(cli, recording):
    plain = cli("suggest", "-r", "production", "--egress")
    assert plain.exit_code == ExitCode.INPUT and "--egress needs --from-flows" in plain.stderr
    bad = cli("suggest", "--from-flows", recording, *COMMON, "--cidr-prefix", "40")
    assert bad.exit_code == ExitCode.INPUT and "--cidr-prefix" in bad.stderr
    no_release = cli("suggest", "--from-flows", recording)
    assert no_release.exit_code == ExitCode.INPUT and "no release name" in no_release.stderr


def test_plain_suggest_still_works_and_renders_manifests(cli):
    values = cli("suggest", "-r", "production")
    assert values.exit_code == 0 and "networkPolicy:" in values.stdout
    manifests = cli("suggest", "-r", "production", "-n", "shop", "--format", "manifests")
    assert manifests.exit_code == 0
    (obj,) = [doc for doc in yaml.safe_load_all(manifests.stdout) if doc]
    assert obj["metadata"] == {**obj["metadata"], "name": "production-auto-deploy", "namespace": "shop"}
