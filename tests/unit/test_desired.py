import pytest

from autodeploy_netpol.desired.chart import CHART_DEFAULTS
from autodeploy_netpol.desired.compute import DeployContext, compute_desired
from autodeploy_netpol.desired.suggest import suggested_spec
from autodeploy_netpol.desired.values import ValuesFile
from autodeploy_netpol.errors import InputError, ValidationFailed


def values_file(data):
    return ValuesFile("values.yaml", None, data)


CTX = DeployContext(release="production", namespace="shop-42-production", project_id="42")


def test_no_spec_gets_the_suggestion_still_disabled():
    desired = compute_desired(values_file({}), CTX)
    assert desired.objects == []  # the chart's default: networkPolicy.enabled false
    # matchLabels: null deletes the chart default's podSelector.matchLabels ({}) when Helm merges
    spec = desired.merged_values["networkPolicy"]["spec"]
    assert spec["podSelector"].pop("matchLabels") is None
    assert spec == suggested_spec("production", "ingress-nginx")


def test_enabled_without_spec_renders_the_suggestion():
    desired = compute_desired(values_file({"networkPolicy": {"enabled": True}}), CTX)
    [obj] = desired.objects
    # every pod of the app: web and worker pods of each track carry release=<track's Helm release>
    assert obj["spec"]["podSelector"]["matchExpressions"] == [
        {
            "key": "release",
            "operator": "In",
            "values": ["production", "production-canary", "production-rollout"],
        }
    ]
    peers = obj["spec"]["ingress"][0]["from"]
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    } in peers


def test_user_spec_merges_with_the_chart_default_not_the_suggestion():
    spec = {"podSelector": {"matchLabels": {"tier": "web"}}, "ingress": [{"from": [{"podSelector": {}}]}]}
    [obj] = compute_desired(values_file({"networkPolicy": {"enabled": True, "spec": spec}}), CTX).objects
    assert obj["spec"] == {
        "ingress": [{"from": [{"podSelector": {}}]}],
        "podSelector": {"matchLabels": {"tier": "web"}},
    }


def test_user_spec_without_ingress_keeps_the_chart_default_ingress_and_warns():
    desired = compute_desired(
        values_file({"networkPolicy": {"enabled": True, "spec": {"podSelector": {}}}}), CTX
    )
    assert desired.objects[0]["spec"]["ingress"] == CHART_DEFAULTS["networkPolicy"]["spec"]["ingress"]
    assert any("namespace-wide ingress rule" in w.message for w in desired.warnings)


def test_null_removes_the_default_ingress_rule():
    data = {
        "networkPolicy": {
            "enabled": True,
            "spec": {"podSelector": {}, "ingress": None, "policyTypes": ["Ingress"]},
        }
    }
    desired = compute_desired(values_file(data), CTX)
    assert "ingress" not in desired.objects[0]["spec"]
    # the merged values file keeps the null, so that Helm deletes the chart default too
    assert desired.merged_values["networkPolicy"]["spec"]["ingress"] is None


def test_no_suggest_keeps_the_namespace_wide_default():
    ctx = DeployContext(release="production", suggest=False)
    [obj] = compute_desired(values_file({"networkPolicy": {"enabled": True}}), ctx).objects
    assert obj["spec"] == CHART_DEFAULTS["networkPolicy"]["spec"]


def test_ingress_namespace_is_configurable():
    ctx = DeployContext(release="production", ingress_namespace="ingress-nginx")
    [obj] = compute_desired(values_file({"networkPolicy": {"enabled": True}}), ctx).objects
    assert obj["spec"]["ingress"][0]["from"][1]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }


@pytest.mark.parametrize(
    ("track", "name"),
    [
        ("stable", "production-auto-deploy"),
        ("canary", "production-canary-auto-deploy"),
        ("rollout", "production-rollout-auto-deploy"),
    ],
)
def test_tracks_render_their_own_release(track, name):
    ctx = DeployContext(release="production", track=track)
    [obj] = compute_desired(values_file({"networkPolicy": {"enabled": True}}), ctx).objects
    labels = obj["metadata"]["labels"]
    assert obj["metadata"]["name"] == name
    assert labels["app"] == "production"  # releaseOverride is the base release on every track
    assert labels["release"] == ctx.helm_release
    # the same app on every track: the selector names the base release's three Helm releases
    assert obj["spec"]["podSelector"]["matchExpressions"][0]["values"] == [
        "production",
        "production-canary",
        "production-rollout",
    ]


def test_set_values_win_over_the_file():
    data = {"releaseOverride": "other", "networkPolicy": {"enabled": True}}
    [obj] = compute_desired(values_file(data), CTX).objects
    assert obj["metadata"]["labels"]["app"] == "production"


def test_merged_values_keep_the_rest_of_the_file_and_never_touch_the_input():
    data = {"replicaCount": 3, "networkPolicy": {"enabled": True}}
    desired = compute_desired(values_file(data), CTX)
    assert desired.merged_values["replicaCount"] == 3
    assert desired.merged_values["networkPolicy"]["spec"]["podSelector"] == {
        "matchLabels": None,  # deletes the chart default's matchLabels: {} (maps merge in Helm)
        "matchExpressions": [
            {
                "key": "release",
                "operator": "In",
                "values": ["production", "production-canary", "production-rollout"],
            }
        ],
    }
    assert data == {"replicaCount": 3, "networkPolicy": {"enabled": True}}


def test_invalid_file_raises_with_every_problem():
    data = {"networkPolicy": {"enabled": "false", "spec": {"podSelectr": {}}}}
    with pytest.raises(ValidationFailed) as info:
        compute_desired(values_file(data), CTX)
    assert len(info.value.problems) == 2


def test_name_clash_after_cutting_is_an_error():
    ctx = DeployContext(release="r" * 53)  # Helm's longest release name
    data = {"networkPolicy": {"enabled": True, "policies": {"aa": {"spec": {}}, "ab": {"spec": {}}}}}
    with pytest.raises(InputError, match="same object name"):
        compute_desired(values_file(data), ctx)
