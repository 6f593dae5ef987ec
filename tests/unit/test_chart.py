import pytest

from autodeploy_netpol.desired.chart import (
    CHART_DEFAULTS,
    DEFAULT_DENY_SPEC,
    appname,
    render_objects,
    shared_labels,
)
from autodeploy_netpol.desired.merge import helm_merge_all
from autodeploy_netpol.kube.releases import fullname, object_name


@pytest.mark.parametrize(
    ("release", "override", "expected"),
    [
        ("production", None, "production-auto-deploy"),
        ("review-feat-1", None, "review-feat-1-auto-deploy"),
        ("production", "web", "production-web"),
        ("production", "my-app", "production-my"),  # trailing -app removed from the joined name
        ("a" * 60, None, "a" * 60 + "-au"),
        ("a" * 52, None, "a" * 52 + "-auto-deplo"),
        ("a" * 51, None, "a" * 51 + "-auto-deploy"),
        ("a" * 62, None, "a" * 62),  # cut to 63 leaves a trailing '-', which is trimmed
    ],
)
def test_fullname(release, override, expected):
    assert fullname(release, override) == expected
    assert len(fullname(release, override)) <= 63


def test_appname_prefers_release_override_and_cuts_to_63():
    assert appname("production-canary", "production") == "production"
    assert appname("x" * 70) == "x" * 63


def test_shared_labels_in_template_order_with_extra_labels():
    labels = shared_labels(
        "prod", release_override="prod", chart_version="2.1.0+build.5", extra_labels={"team": "a", "cost": 3}
    )
    assert list(labels)[:8] == [
        "app",
        "chart",
        "release",
        "heritage",
        "app.kubernetes.io/name",
        "helm.sh/chart",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/instance",
    ]
    assert labels["chart"] == labels["helm.sh/chart"] == "auto-deploy-app-2.1.0_build.5"
    assert labels["cost"] == "3" and labels["team"] == "a"


def values(**blocks):
    return helm_merge_all(CHART_DEFAULTS, blocks, {"releaseOverride": "prod", "gitlab": {"projectID": 42}})


def test_disabled_renders_nothing():
    assert render_objects(values(), release="prod") == []


def test_default_network_policy_is_copied_verbatim():
    [obj] = render_objects(values(networkPolicy={"enabled": True}), release="prod")
    assert obj["kind"] == "NetworkPolicy" and obj["apiVersion"] == "networking.k8s.io/v1"
    assert obj["metadata"]["name"] == "prod-auto-deploy"
    assert "namespace" not in obj["metadata"]
    assert obj["spec"] == CHART_DEFAULTS["networkPolicy"]["spec"]


def test_cilium_policy_labels_and_alerts():
    [obj] = render_objects(
        values(ciliumNetworkPolicy={"enabled": True, "alerts": {"enabled": True}}), release="prod"
    )
    assert obj["kind"] == "CiliumNetworkPolicy" and obj["apiVersion"] == "cilium.io/v2"
    assert obj["metadata"]["labels"]["app.gitlab.com/proj"] == "42"
    assert obj["metadata"]["annotations"] == {"app.gitlab.com/alert": "true"}


def test_cilium_without_alerts_has_no_annotations():
    [obj] = render_objects(values(ciliumNetworkPolicy={"enabled": True}), release="prod")
    assert "annotations" not in obj["metadata"]


def test_both_kinds_share_one_name():
    objs = render_objects(
        values(networkPolicy={"enabled": True}, ciliumNetworkPolicy={"enabled": True}), release="prod"
    )
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("NetworkPolicy", "prod-auto-deploy"),
        ("CiliumNetworkPolicy", "prod-auto-deploy"),
    ]


def test_named_policies_and_default_deny():
    block = {
        "enabled": True,
        "policies": {
            "b": {"spec": {"podSelector": {}}},
            "a": {"spec": {"podSelector": {}}},
            "off": {"enabled": False, "spec": {}},
        },
        "defaultDeny": {"enabled": True},
    }
    objs = render_objects(values(networkPolicy=block), release="prod")
    assert [o["metadata"]["name"] for o in objs] == [
        "prod-auto-deploy",
        "prod-auto-deploy-a",
        "prod-auto-deploy-b",
        "prod-auto-deploy-default-deny",
    ]
    assert objs[-1]["spec"]["egress"] == DEFAULT_DENY_SPEC["egress"]


def test_named_policies_follow_the_master_switch():
    block = {"enabled": False, "policies": {"a": {"spec": {}}}, "defaultDeny": {"enabled": True}}
    assert render_objects(values(networkPolicy=block), release="prod") == []


def test_object_name_of_a_named_policy_is_cut_like_fullname():
    assert object_name("x" * 60, "abcdef") == "x" * 60 + "-ab"
    assert object_name("x" * 61, "abc") == "x" * 61 + "-a"
    assert object_name("x" * 62, "abc") == "x" * 62


def test_spec_keys_sorted_like_to_yaml():
    spec = {"podSelector": {}, "ingress": [{"ports": [{"protocol": "TCP", "port": 80}], "from": []}]}
    [obj] = render_objects(values(networkPolicy={"enabled": True, "spec": spec}), release="prod")
    assert list(obj["spec"]) == ["ingress", "podSelector"]
    assert list(obj["spec"]["ingress"][0]) == ["from", "ports"]
