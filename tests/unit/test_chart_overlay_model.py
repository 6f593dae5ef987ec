"""The chart model's overlay extension: suggested object, chart versions with and without Cilium."""

import pytest

from autodeploy_netpol.desired.chart import (
    CHART_DEFAULTS,
    chart_defaults,
    render_objects,
    ships_cilium_template,
    version_numbers,
)
from autodeploy_netpol.desired.compute import DeployContext, compute_desired
from autodeploy_netpol.desired.merge import helm_merge_all
from autodeploy_netpol.desired.values import ValuesFile
from autodeploy_netpol.errors import InputError

SET = {"releaseOverride": "prod", "gitlab": {"projectID": "42"}, "application": {"track": "stable"}}


def render(version, **blocks):
    merged = helm_merge_all(chart_defaults(version), blocks, SET)
    return render_objects(merged, release="prod", chart_version=version)


@pytest.mark.parametrize(
    ("version", "numbers", "ships"),
    [
        ("2.6.0", (2, 6, 0), True),
        ("2.39.2", (2, 39, 2), True),
        ("v2.39.0+build.1", (2, 39, 0), True),
        ("2.40.0", (2, 40, 0), False),
        ("2.40.0-rc1", (2, 40, 0), False),
        ("2.100.0", (2, 100, 0), False),
        ("3.0", (3, 0, 0), False),
    ],
)
def test_versions(version, numbers, ships):
    assert version_numbers(version) == numbers
    assert ships_cilium_template(version) is ships


def test_an_unparsable_version_counts_as_the_newest_chart():
    assert not ships_cilium_template("latest")


def test_modern_chart_defaults_have_no_cilium_block():
    assert "ciliumNetworkPolicy" not in chart_defaults("2.100.0")
    assert chart_defaults("2.39.0") == CHART_DEFAULTS
    chart_defaults("2.39.0")["networkPolicy"]["enabled"] = True  # a copy, not the module's dict
    assert CHART_DEFAULTS["networkPolicy"]["enabled"] is False


def test_suggested_policy_is_its_own_object_after_the_chart_policy():
    objects = render(
        "2.100.0",
        networkPolicy={"enabled": True, "suggested": {"enabled": True, "ingressNamespace": "ingress"}},
    )
    assert [o["metadata"]["name"] for o in objects] == ["prod-auto-deploy", "prod-auto-deploy-suggested"]
    spec = objects[1]["spec"]
    assert spec["podSelector"] == {
        "matchExpressions": [
            {"key": "release", "operator": "In", "values": ["prod", "prod-canary", "prod-rollout"]}
        ]
    }
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}} in spec[
        "ingress"
    ][0]["from"]


@pytest.mark.parametrize("suggested", [None, {}, {"enabled": False}, {"ingressNamespace": "x"}])
def test_suggested_policy_is_opt_in(suggested):
    assert len(render("2.100.0", networkPolicy={"enabled": True, "suggested": suggested})) == 1


def test_suggested_policy_needs_the_master_switch():
    assert render("2.100.0", networkPolicy={"enabled": False, "suggested": {"enabled": True}}) == []


def test_on_a_modern_chart_a_partial_cilium_spec_is_not_merged_with_the_old_default():
    spec = {"endpointSelector": {"matchLabels": {"app": "prod"}}}
    [old] = render("2.39.0", ciliumNetworkPolicy={"enabled": True, "spec": spec})
    [modern] = render("2.100.0", ciliumNetworkPolicy={"enabled": True, "spec": spec})
    assert "ingress" in old["spec"]  # the 2.39 values.yaml default merged in by Helm
    assert modern["spec"] == spec  # 2.100 has no default to merge with


@pytest.mark.parametrize("spec", [None, {}])
def test_on_a_modern_chart_no_cilium_spec_means_the_old_default(spec):
    block = {"enabled": True} if spec is None else {"enabled": True, "spec": spec}
    [modern] = render("2.100.0", ciliumNetworkPolicy=block)
    assert modern["spec"] == CHART_DEFAULTS["ciliumNetworkPolicy"]["spec"]


def test_an_old_chart_cannot_render_cilium_with_alerts_null():
    with pytest.raises(InputError, match="alerts"):
        render("2.39.0", ciliumNetworkPolicy={"enabled": True, "alerts": None})
    assert len(render("2.100.0", ciliumNetworkPolicy={"enabled": True, "alerts": None})) == 1


@pytest.mark.parametrize("entry", [None, {"enabled": False, "spec": {}}])
def test_null_or_disabled_named_entries_render_nothing(entry):
    objects = render("2.100.0", networkPolicy={"enabled": True, "policies": {"a": entry}})
    assert [o["metadata"]["name"] for o in objects] == ["prod-auto-deploy"]


def test_enabled_null_means_the_default_on():
    objects = render(
        "2.100.0", networkPolicy={"enabled": True, "policies": {"a": {"enabled": None, "spec": {}}}}
    )
    assert [o["metadata"]["name"] for o in objects] == ["prod-auto-deploy", "prod-auto-deploy-a"]


def test_a_named_policy_called_suggested_clashes_with_the_suggested_object():
    data = {
        "networkPolicy": {
            "enabled": True,
            "suggested": {"enabled": True},
            "policies": {"suggested": {"spec": {"podSelector": {}}}},
        }
    }
    with pytest.raises(InputError, match="same object name"):
        compute_desired(ValuesFile("values.yaml", None, data), DeployContext(release="prod"))
