"""validate / suggest / render through the real CLI: output and exit codes."""

import json

import pytest
import yaml

EXAMPLE = "examples/shop/.gitlab/auto-deploy-values.yaml"


def write(tmp_path, text, name="values.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_ok(cli):
    result = cli("validate", EXAMPLE)
    assert result.exit_code == 0
    assert result.output.strip().endswith("valid")


def test_validate_reports_every_problem_with_position(cli, tmp_path):
    path = write(tmp_path, 'networkPolicy:\n  enabled: "false"\n  spec:\n    podSelectr: {}\n')
    result = cli("validate", path)
    assert result.exit_code == 2
    assert f'{path}:2:12: networkPolicy.enabled: the string "false" switches it ON' in result.output
    assert f"{path}:4:5: networkPolicy.spec.podSelectr: unknown key" in result.output
    assert 'did you mean "podSelector"?' in result.output
    assert "Traceback" not in result.output


def test_validate_json(cli, tmp_path):
    path = write(tmp_path, "networkPolicy:\n  spec:\n    policyTypes: [Ingres]\n")
    result = cli("validate", path, "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.output)
    assert document["valid"] is False
    [problem] = document["problems"]
    assert (problem["line"], problem["column"], problem["path"]) == (
        3,
        19,
        "networkPolicy.spec.policyTypes[0]",
    )
    assert problem["hint"] == 'did you mean "Ingress"?'


def test_missing_default_file_means_no_policy(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("validate")
    assert result.exit_code == 0
    assert "no network policy configured" in result.output
    render = cli("render", "--release", "production")
    assert render.exit_code == 0
    assert render.stdout == ""


def test_default_file_comes_from_helm_upgrade_values_file(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "networkPolicy: {enabled: true}\n", "custom.yaml")
    result = cli("render", "--release", "production", env={"HELM_UPGRADE_VALUES_FILE": "custom.yaml"})
    assert result.exit_code == 0
    assert "name: production-auto-deploy" in result.stdout


def test_missing_explicit_file_is_an_error(cli, tmp_path):
    result = cli("validate", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "values file not found" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a: 1\na: 2\n", "duplicate key 'a'"),
        (b"networkPolicy:\n\tenabled: true\n", "tab character"),
        (b"- a\n- b\n", "must be a YAML mapping at the top level, not a list"),
        (b"a: \xff\xfe\n", "not valid UTF-8"),
        (b"a: [1, 2\n", "invalid YAML"),
        (b"a: &a [*a]\n", "recursive alias"),
        (b"a: 1\n---\nb: 2\n", "holds 2 YAML documents"),
    ],
)
def test_unreadable_files_exit_2_without_traceback(cli, tmp_path, content, message):
    path = tmp_path / "v.yaml"
    path.write_bytes(content)
    for command in ("validate", "render"):
        result = cli(command, path, "--release", "r") if command == "render" else cli(command, path)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_alias_bomb_is_refused(cli, tmp_path):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 10) + "]")
    path = write(tmp_path, "\n".join(lines) + "\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert "alias bomb" in result.output


def test_render_stream_matches_the_chart_contract(cli):
    result = cli("render", EXAMPLE, "--release", "production", "--namespace", "shop-42-production")
    assert result.exit_code == 0
    assert result.stdout.startswith("---\n")
    objects = list(yaml.safe_load_all(result.stdout))
    # Helm's order: the named policy is a customResources entry on the newest chart (compiled by
    # the tool), and custom-resources.yaml comes before network-policy.yaml
    assert [o["metadata"]["name"] for o in objects] == [
        "production-auto-deploy-allow-metrics",
        "production-auto-deploy",
    ]
    labels = objects[1]["metadata"]["labels"]
    assert labels["release"] == "production" and labels["heritage"] == "Helm"
    assert all("namespace" not in o["metadata"] for o in objects)


def test_render_takes_release_from_the_environment(cli):
    result = cli("render", EXAMPLE, "--track", "canary", env={"CI_ENVIRONMENT_SLUG": "staging"})
    assert result.exit_code == 0
    objects = list(yaml.safe_load_all(result.stdout))
    assert [o["metadata"]["name"] for o in objects] == [
        "staging-canary-auto-deploy-allow-metrics",
        "staging-canary-auto-deploy",
    ]
    assert all(o["metadata"]["labels"]["app"] == "staging" for o in objects)


def test_render_without_release_is_a_usage_error(cli):
    result = cli("render", EXAMPLE)
    assert result.exit_code == 2
    assert "no release name" in result.output and "HELM_RELEASE_NAME" in result.output


def test_render_disabled_prints_nothing(cli, tmp_path):
    path = write(tmp_path, "networkPolicy:\n  enabled: false\n")
    result = cli("render", path, "--release", "production")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "disabled" in result.stderr


def test_render_json(cli):
    result = cli("render", EXAMPLE, "--release", "production", "--format", "json")
    document = json.loads(result.stdout)
    assert document["kind"] == "List" and len(document["items"]) == 2


def test_values_out_writes_a_new_file_and_never_the_input(cli, tmp_path):
    source = write(tmp_path, "replicaCount: 2\nnetworkPolicy:\n  enabled: true\n")
    before = source.read_text()
    out = tmp_path / "merged.yaml"
    result = cli("render", source, "--release", "production", "--values-out", out)
    assert result.exit_code == 0
    merged = yaml.safe_load(out.read_text())
    assert merged["replicaCount"] == 2
    assert merged["networkPolicy"]["spec"]["podSelector"] == {
        "matchLabels": None,  # deletes the chart default's matchLabels: {} (maps merge in Helm)
        "matchExpressions": [
            {
                "key": "release",
                "operator": "In",
                "values": ["production", "production-canary", "production-rollout"],
            }
        ],
    }
    refused = cli("render", source, "--release", "production", "--values-out", source)
    assert refused.exit_code == 2
    assert "never rewritten" in refused.output
    assert source.read_text() == before


def test_suggest_prints_a_pasteable_block(cli):
    result = cli("suggest", "--release", "production", "--ingress-namespace", "ingress-nginx")
    assert result.exit_code == 0
    block = yaml.safe_load(result.output)["networkPolicy"]
    assert block["enabled"] is False
    assert block["spec"]["ingress"][0]["from"][1] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    }


def test_suggest_honours_the_ingress_namespace_variable(cli):
    result = cli(
        "suggest",
        "--format",
        "json",
        env={"NETPOL_INGRESS_NAMESPACE": "traefik", "HELM_RELEASE_NAME": "prod"},
    )
    spec = json.loads(result.output)["networkPolicy"]["spec"]
    assert spec["podSelector"]["matchExpressions"][0]["values"] == ["prod", "prod-canary", "prod-rollout"]
    assert (
        spec["ingress"][0]["from"][1]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        == "traefik"
    )


@pytest.mark.parametrize("command", ["validate", "suggest", "render"])
def test_help_has_examples(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output


# --- suggest into a values file that has a networkPolicy block already (issue 15) ---------------

VALUES_WITH_BLOCK = """\
# Auto DevOps values
replicaCount: 2

networkPolicy:
  enabled: true
  policies:
    allow-metrics:
      spec:
        podSelector: {matchLabels: {tier: web}}
        ingress:
          - from:
              - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}

# the service
service:
  internalPort: 5000
"""


def test_suggest_merges_into_an_existing_network_policy_block(cli, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(VALUES_WITH_BLOCK)

    result = cli("suggest", "-r", "production", "--values", values, "--ingress-namespace", "traefik")

    assert result.exit_code == 0, result.output
    assert values.read_text() == VALUES_WITH_BLOCK  # never rewritten
    merged_text = result.stdout
    assert merged_text.startswith("# Auto DevOps values\nreplicaCount: 2\n\nnetworkPolicy:\n")
    assert merged_text.endswith("\n# the service\nservice:\n  internalPort: 5000\n")
    merged = yaml.safe_load(merged_text)
    block = merged["networkPolicy"]
    assert block["enabled"] is True and "allow-metrics" in block["policies"]  # the user's keys kept
    assert block["spec"]["ingress"][0]["from"][1] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}
    }
    assert "printed whole, with the suggested spec merged" in result.stderr
    # the merged file is one the tool accepts, and what the deploy then creates is that spec
    out = tmp_path / "merged.yaml"
    out.write_text(merged_text)
    assert cli("validate", out).exit_code == 0
    rendered = cli("render", out, "-r", "production", "-n", "shop", "--ingress-namespace", "traefik")
    assert rendered.exit_code == 0, rendered.output
    # and asking again: a spec is there, nothing to suggest
    again = cli("suggest", "-r", "production", "--values", out)
    assert again.exit_code == 0 and again.stdout == ""
    assert f"{out}:4:1: networkPolicy has a spec already" in again.stderr


def test_suggest_without_a_block_prints_one_to_append(cli, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("replicaCount: 2\n")

    result = cli("suggest", "-r", "production", "--values", values)

    assert result.exit_code == 0
    assert f"{values} has no networkPolicy block: append this one" in result.stderr
    values.write_text(values.read_text() + result.stdout)
    assert cli("validate", values).exit_code == 0


def test_suggest_finds_the_default_values_file(cli, tmp_path, monkeypatch):
    (tmp_path / ".gitlab").mkdir()
    (tmp_path / ".gitlab" / "auto-deploy-values.yaml").write_text(VALUES_WITH_BLOCK)
    monkeypatch.chdir(tmp_path)

    result = cli("suggest", "-r", "production", "--format", "json")

    block = json.loads(result.stdout)["networkPolicy"]
    assert block["enabled"] is True and "policies" in block and "spec" in block


def test_suggest_flow_style_block_is_replaced_by_hand(cli, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy: {enabled: true}\n")

    result = cli("suggest", "-r", "production", "--values", values)

    assert result.exit_code == 0
    assert "not plain block-style YAML: replace it by hand" in result.stderr
    assert yaml.safe_load(result.stdout)["networkPolicy"]["enabled"] is True


def test_suggest_without_a_release_is_a_usage_error_not_a_placeholder(cli):
    result = cli("suggest")

    assert result.exit_code == 2
    assert "<release>" not in result.stdout
    assert "error: no release name" in result.output


def test_suggest_refuses_an_invalid_values_file(cli, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  enabled: true\n  spec: {podSelector: 3}\n")

    result = cli("suggest", "-r", "production", "--values", values)

    assert result.exit_code == 2 and result.stdout == ""


def test_suggest_warns_that_the_default_ingress_namespace_must_exist(cli):
    result = cli("suggest", "-r", "production")

    assert result.exit_code == 0
    assert "kubernetes.io/metadata.name: ingress-nginx" in result.stdout
    assert "admits the ingress controller from namespace ingress-nginx, the default" in result.stderr
    assert "must exist" in result.stderr
    chosen = cli("suggest", "-r", "production", "--ingress-namespace", "traefik")
    assert "warning" not in chosen.stderr


def test_render_without_cluster_warns_that_the_default_ingress_namespace_must_exist(cli, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  enabled: true\n")

    result = cli("render", values, "-r", "production", "-n", "shop")

    assert result.exit_code == 0
    assert f"{values}:1:1: warning: networkPolicy: the suggested policy admits the ingress controller" in (
        result.stderr
    )
    assert "from namespace ingress-nginx, the default" in result.stderr and "must exist" in result.stderr
    # a snapshot with the controller: detected, no warning, the evidence in a note
    snapshot = tmp_path / "snapshot.yaml"
    snapshot.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "edge"}},
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {
                            "name": "traefik-7b",
                            "namespace": "edge",
                            "labels": {"app.kubernetes.io/name": "traefik"},
                        },
                    },
                ],
            }
        )
    )
    detected = cli("render", values, "-r", "production", "-n", "shop", "--live", snapshot)
    assert detected.exit_code == 0, detected.output
    assert "kubernetes.io/metadata.name: edge" in detected.stdout
    assert (
        "note: ingress controller detected: Traefik in namespace edge (1 pod labelled app.kubernetes.io/name=traefik"
        in detected.stderr
    )
    assert "must exist" not in detected.stderr
