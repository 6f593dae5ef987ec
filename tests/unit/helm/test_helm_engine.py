"""The Helm edge against real Helm (helm-python-sdk; the helm CLI too when it is on PATH)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodeploy_netpol.desired.helm_engine import (
    ENGINE_CLI,
    ENGINE_SDK,
    HelmRelease,
    auto_deploy_set_values,
    open_chart,
    render_policies,
)
from autodeploy_netpol.errors import InputError

pytestmark = pytest.mark.helm

RELEASE = HelmRelease(
    "production",
    "shop-42-production",
    auto_deploy_set_values(release_override="production", track="stable", project_id="12345678"),
)


def names(objects: list[dict]) -> list[tuple[str, str]]:
    return [(o["kind"], o["metadata"]["name"]) for o in objects]


def test_nothing_is_rendered_with_the_chart_defaults(make_chart):
    assert render_policies(make_chart(), {}, RELEASE, engine=ENGINE_SDK) == []


def test_the_chart_policy_is_named_and_labelled_as_the_contract_says(make_chart):
    objects = render_policies(make_chart(), {"networkPolicy": {"enabled": True}}, RELEASE, engine=ENGINE_SDK)
    assert names(objects) == [("NetworkPolicy", "production-auto-deploy")]
    (policy,) = objects
    assert "namespace" not in policy["metadata"]
    assert policy["metadata"]["labels"] == {
        "app": "production",
        "chart": "auto-deploy-app-2.39.0",
        "release": "production",
        "heritage": "Helm",
        "app.kubernetes.io/name": "production",
        "helm.sh/chart": "auto-deploy-app-2.39.0",
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": "production",
    }
    assert policy["spec"]["ingress"][0]["from"][1] == {
        "namespaceSelector": {"matchLabels": {"app.gitlab.com/managed_by": "gitlab"}}
    }


def test_network_policies_come_before_cilium_policies_whatever_the_template_names(make_chart):
    values = {"networkPolicy": {"enabled": True}, "ciliumNetworkPolicy": {"enabled": True}}
    objects = render_policies(make_chart(), values, RELEASE, engine=ENGINE_SDK)
    # cilium-network-policy.yaml sorts before network-policy.yaml, Helm's kind order wins.
    assert [o["kind"] for o in objects] == ["NetworkPolicy", "CiliumNetworkPolicy"]


def test_set_values_win_over_the_values_file(make_chart):
    values = {"networkPolicy": {"enabled": True}, "releaseOverride": "from-the-values-file"}
    (policy,) = render_policies(make_chart(), values, RELEASE, engine=ENGINE_SDK)
    assert policy["metadata"]["labels"]["app"] == "production"


def test_a_long_project_id_stays_digits(make_chart):
    # JSON numbers reach Go as float64: passed as a number this label would read 1.2345678e+07.
    (policy,) = render_policies(
        make_chart(), {"ciliumNetworkPolicy": {"enabled": True}}, RELEASE, engine=ENGINE_SDK
    )
    assert policy["metadata"]["labels"]["app.gitlab.com/proj"] == "12345678"


def test_canary_release_keeps_the_app_name_of_the_base_release(make_chart):
    canary = HelmRelease(
        "production-canary", "ns", auto_deploy_set_values(release_override="production", track="canary")
    )
    (policy,) = render_policies(make_chart(), {"networkPolicy": {"enabled": True}}, canary, engine=ENGINE_SDK)
    assert policy["metadata"]["name"] == "production-canary-auto-deploy"
    assert policy["metadata"]["labels"]["app"] == "production"
    assert policy["metadata"]["labels"]["release"] == "production-canary"


def test_api_versions_reach_templates_gated_on_cilium(make_chart):
    chart = make_chart()
    template = chart / "templates" / "cilium-network-policy.yaml"
    gated = template.read_text().replace(
        "{{- if .Values.ciliumNetworkPolicy.enabled -}}",
        '{{- if and .Values.ciliumNetworkPolicy.enabled (.Capabilities.APIVersions.Has "cilium.io/v2") -}}',
    )
    template.write_text(gated)
    values = {"ciliumNetworkPolicy": {"enabled": True}}
    with_cilium = render_policies(chart, values, RELEASE, engine=ENGINE_SDK)
    without = HelmRelease(RELEASE.name, RELEASE.namespace, RELEASE.set_values, api_versions=())
    assert names(with_cilium) == [("CiliumNetworkPolicy", "production-auto-deploy")]
    assert render_policies(chart, values, without, engine=ENGINE_SDK) == []


def test_a_loaded_chart_renders_many_times(make_chart):
    chart = open_chart(make_chart(), engine=ENGINE_SDK)
    try:
        first = chart.render({"networkPolicy": {"enabled": True}}, RELEASE)
        second = chart.render({}, RELEASE)
        third = chart.render({"networkPolicy": {"enabled": True}}, RELEASE)
    finally:
        chart.close()
    assert len(first) == 1 and second == [] and third == first


def test_a_template_error_names_the_template_and_line(make_chart):
    chart = make_chart()
    (chart / "templates" / "broken.yaml").write_text(
        'a: 1\n{{ if .Values.boom }}{{ fail "boom" }}{{ end }}\n'
    )
    with pytest.raises(InputError) as caught:
        render_policies(chart, {"boom": True}, RELEASE, engine=ENGINE_SDK)
    assert caught.value.location.file == str(chart / "templates" / "broken.yaml")
    assert caught.value.location.line == 2
    assert "boom" in caught.value.message


def test_a_template_parse_error_names_the_template(make_chart):
    chart = make_chart()
    (chart / "templates" / "unclosed.yaml").write_text("a: {{ .Values.x\n")
    with pytest.raises(InputError) as caught:
        render_policies(chart, {}, RELEASE, engine=ENGINE_SDK)
    assert caught.value.location.file == str(chart / "templates" / "unclosed.yaml")


def test_rendered_yaml_that_does_not_parse_is_an_input_error(make_chart):
    chart = make_chart()
    (chart / "templates" / "bad-yaml.yaml").write_text("kind: NetworkPolicy\n  spec: [\n")
    with pytest.raises(InputError, match="does not parse"):
        render_policies(chart, {}, RELEASE, engine=ENGINE_SDK)


def test_values_the_chart_schema_rejects_are_an_input_error(make_chart):
    chart = make_chart()
    schema = {
        "type": "object",
        "properties": {"networkPolicy": {"type": "object", "properties": {"enabled": {"type": "boolean"}}}},
    }
    (chart / "values.schema.json").write_text(json.dumps(schema))
    with pytest.raises(InputError, match="rejects the values"):
        render_policies(chart, {"networkPolicy": {"enabled": "yes"}}, RELEASE, engine=ENGINE_SDK)


def test_a_directory_without_chart_yaml_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"no Chart\.yaml"):
        open_chart(tmp_path)


def test_without_any_engine_the_error_names_both(tmp_path):
    # A real process without `helm` on PATH and with helm_python not importable.
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 0.1.0\n")
    script = (
        "import sys; sys.modules['helm_python'] = None\n"
        "from autodeploy_netpol.desired.helm_engine import open_chart\n"
        "from autodeploy_netpol.errors import InputError\n"
        f"try:\n    open_chart({str(tmp_path)!r})\nexcept InputError as e:\n    print(e)\n"
    )
    environment = {**os.environ, "PATH": str(tmp_path)}
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True
    )
    assert "no Helm engine available" in output.stdout
    assert "helm CLI" in output.stdout and "helm-python-sdk" in output.stdout


def test_the_helm_cli_and_the_sdk_agree(make_chart, helm_bin):
    # The engine looks `helm` up on PATH; the suite puts the pinned one (helm_bin) first there.
    assert shutil.which("helm") == str(helm_bin)
    chart = make_chart(overlays=True)
    values = {
        "networkPolicy": {
            "enabled": True,
            "defaultDeny": {"enabled": True},
            "policies": {"a": {"spec": {"podSelector": {}}}},
        },
        "ciliumNetworkPolicy": {"enabled": True, "alerts": {"enabled": True}},
    }
    assert render_policies(chart, values, RELEASE, engine=ENGINE_CLI) == render_policies(
        chart, values, RELEASE, engine=ENGINE_SDK
    )


def test_the_fixture_chart_is_untouched():
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "charts" / "auto-deploy-app" / "templates"
    assert not [p.name for p in fixture.iterdir() if p.name.startswith(("zz-netpol", "_netpol"))]


def test_a_nil_pointer_in_a_template_names_the_template_line_and_column(make_chart):
    chart = make_chart()
    (chart / "templates" / "deep.yaml").write_text("a: 1\nb: 2\nc: {{ .Values.absent.deeper }}\n")
    with pytest.raises(InputError, match="nil pointer") as caught:
        render_policies(chart, {}, RELEASE, engine=ENGINE_SDK)
    location = caught.value.location
    assert (location.file, location.line) == (str(chart / "templates" / "deep.yaml"), 3)
    assert location.column > 0


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.text(max_size=5), st.floats(0, 10))
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
block_keys = st.sampled_from(["enabled", "spec", "policies", "alerts", "defaultDeny", "suggested", "x"])
messy_block = st.one_of(json_value, st.dictionaries(block_keys, json_value, max_size=4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.fixed_dictionaries(
        {},
        optional={
            "networkPolicy": messy_block,
            "ciliumNetworkPolicy": messy_block,
            "extraLabels": json_value,
            "gitlab": json_value,
        },
    )
)
def test_any_values_give_policies_or_an_input_error_never_a_crash(overlaid_charts, values):
    # Garbage the validator would refuse still must not crash the Helm edge.
    chart = open_chart(overlaid_charts["2.100.0"], engine=ENGINE_SDK)
    try:
        objects = chart.render(values, RELEASE)
    except InputError as error:
        assert error.location is not None
    else:
        assert all(o.manifest["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy") for o in objects)
    finally:
        chart.close()
