"""Laying the chart overlays: idempotence, ownership, Cilium detection, and rendering with real Helm."""

from __future__ import annotations

import pytest

from autodeploy_netpol.desired.helm_engine import HelmRelease, auto_deploy_set_values, render_policies
from autodeploy_netpol.desired.overlay import CILIUM_REPLACEMENT, Action, apply_overlay, ownership, stamped
from autodeploy_netpol.errors import InputError

RELEASE = HelmRelease(
    "review-42-abc",
    "ns",
    auto_deploy_set_values(release_override="review-42-abc", track="stable", project_id="7"),
)


def actions(changes) -> dict[str, Action]:
    return {change.path: change.action for change in changes}


def test_first_run_adds_every_overlay_and_skips_the_cilium_replacement_on_a_chart_with_cilium(make_chart):
    chart = make_chart()
    done = actions(apply_overlay(chart))
    assert done.pop(CILIUM_REPLACEMENT) is Action.SKIPPED
    assert set(done.values()) == {Action.ADDED}
    assert "templates/zz-netpol-network-policies.yaml" in done
    assert not (chart / CILIUM_REPLACEMENT).exists()


def test_on_a_chart_without_cilium_the_replacement_is_added(make_chart):
    chart = make_chart(modern=True)
    assert actions(apply_overlay(chart))[CILIUM_REPLACEMENT] is Action.ADDED


def test_second_run_changes_nothing(make_chart):
    chart = make_chart(modern=True)
    apply_overlay(chart)
    before = {p: p.read_bytes() for p in (chart / "templates").iterdir()}
    again = actions(apply_overlay(chart))
    assert set(again.values()) == {Action.UNCHANGED}
    assert {p: p.read_bytes() for p in (chart / "templates").iterdir()} == before


def test_an_outdated_own_file_is_updated(make_chart):
    chart = make_chart()
    apply_overlay(chart)
    target = chart / "templates" / "zz-netpol-cilium-policies.yaml"
    target.write_text(stamped("{{- /* an older overlay */ -}}\n"))
    assert actions(apply_overlay(chart))["templates/zz-netpol-cilium-policies.yaml"] is Action.UPDATED
    assert ownership(target.read_text()) == "ours"
    assert "ciliumNetworkPolicy" in target.read_text()


def test_a_file_it_did_not_write_is_never_overwritten_and_nothing_is_written(make_chart):
    chart = make_chart()
    (chart / "templates" / "zz-netpol-network-policies.yaml").write_text("# the project's own\n")
    with pytest.raises(InputError, match="not written by autodeploy-netpol") as caught:
        apply_overlay(chart)
    assert caught.value.location.file.endswith("templates/zz-netpol-network-policies.yaml")
    assert (chart / "templates" / "zz-netpol-network-policies.yaml").read_text() == "# the project's own\n"
    assert not (chart / "templates" / "_netpol-overlay-helpers.tpl").exists()


def test_an_own_file_edited_by_hand_is_not_overwritten(make_chart):
    chart = make_chart()
    apply_overlay(chart)
    target = chart / "templates" / "zz-netpol-network-policies.yaml"
    edited = target.read_text() + "# tweak\n"
    target.write_text(edited)
    with pytest.raises(InputError, match="edited since"):
        apply_overlay(chart)
    assert target.read_text() == edited


def test_the_replacement_is_removed_when_the_chart_gains_its_own_cilium_template(make_chart):
    chart = make_chart(modern=True)
    apply_overlay(chart)
    (chart / "templates" / "cilium-network-policy.yaml").write_text("kind: CiliumNetworkPolicy\n")
    assert actions(apply_overlay(chart))[CILIUM_REPLACEMENT] is Action.REMOVED
    assert not (chart / CILIUM_REPLACEMENT).exists()


def test_a_chart_without_the_auto_deploy_app_helpers_is_refused(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: other\nversion: 1.0.0\n")
    (tmp_path / "templates" / "_helpers.tpl").write_text('{{- define "fullname" -}}x{{- end -}}\n')
    with pytest.raises(InputError, match="appname, sharedlabels"):
        apply_overlay(tmp_path)


def test_not_a_chart_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"no Chart\.yaml"):
        apply_overlay(tmp_path)


@pytest.mark.parametrize(
    "header", ["", "{{- /* autodeploy-netpol chart overlay sha256:" + "0" * 64 + " x */ -}}\n"]
)
def test_ownership_needs_the_marker_and_a_matching_hash(header):
    assert ownership(header + "body\n") in ("foreign", "edited")
    assert ownership(stamped("body\n")) == "ours"


# --- rendering with real Helm -------------------------------------------------------------

OFF_VALUES = [
    {},
    {"networkPolicy": {"enabled": True}},
    {"networkPolicy": {"enabled": True, "defaultDeny": {"enabled": False}, "suggested": {"enabled": False}}},
    {"networkPolicy": {"enabled": False, "defaultDeny": {"enabled": True}, "policies": {"a": {"spec": {}}}}},
    {"ciliumNetworkPolicy": {"enabled": True, "alerts": {"enabled": True}}, "extraLabels": {"team": "shop"}},
]


@pytest.mark.helm
@pytest.mark.parametrize("values", OFF_VALUES)
def test_with_overlay_values_off_the_chart_renders_byte_for_byte_the_same(make_chart, values):
    from helm_python import Chart

    plain, laid = Chart.load(str(make_chart())), Chart.load(str(make_chart(overlays=True)))
    try:
        before = plain.render(values, name=RELEASE.name, namespace=RELEASE.namespace)
        after = laid.render(values, name=RELEASE.name, namespace=RELEASE.namespace)
    finally:
        plain.close()
        laid.close()
    added = {path: text for path, text in after.items() if path not in before}
    assert added and set(added.values()) == {""}
    assert {path: after[path] for path in before} == before


@pytest.mark.helm
def test_with_overlay_values_off_a_modern_chart_renders_byte_for_byte_the_same(make_chart):
    from helm_python import Chart

    plain, laid = (
        Chart.load(str(make_chart(modern=True))),
        Chart.load(str(make_chart(modern=True, overlays=True))),
    )
    values = {"networkPolicy": {"enabled": True}}
    try:
        before, after = plain.render(values, name="r"), laid.render(values, name="r")
    finally:
        plain.close()
        laid.close()
    assert {path: after[path] for path in before} == before
    assert {after[path] for path in after if path not in before} == {""}


@pytest.mark.helm
def test_every_overlay_policy_renders(make_chart):
    values = {
        "networkPolicy": {
            "enabled": True,
            "suggested": {"enabled": True, "ingressNamespace": "ingress-nginx"},
            "defaultDeny": {"enabled": True},
            "policies": {
                "to-db": {"spec": {"podSelector": {"matchLabels": {"app": "db"}}}},
                "off": {"enabled": False, "spec": {"podSelector": {}}},
            },
        },
        "ciliumNetworkPolicy": {
            "enabled": True,
            "policies": {"dns": {"alerts": {"enabled": True}, "spec": {"endpointSelector": {}}}},
        },
    }
    objects = render_policies(make_chart(overlays=True), values, RELEASE)
    base = "review-42-abc-auto-deploy"
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("NetworkPolicy", base),
        ("NetworkPolicy", f"{base}-suggested"),
        ("NetworkPolicy", f"{base}-to-db"),
        ("NetworkPolicy", f"{base}-default-deny"),
        ("CiliumNetworkPolicy", base),
        ("CiliumNetworkPolicy", f"{base}-dns"),
    ]
    suggested, deny = objects[1]["spec"], objects[3]["spec"]
    assert suggested["ingress"][0]["from"][1]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert deny["egress"][0]["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    named_cilium = objects[5]["metadata"]
    assert named_cilium["annotations"] == {"app.gitlab.com/alert": "true"}
    assert named_cilium["labels"]["app.gitlab.com/proj"] == "7"


@pytest.mark.helm
def test_a_modern_chart_gets_its_cilium_policy_back_exactly_as_before(make_chart):
    values = {"ciliumNetworkPolicy": {"enabled": True, "alerts": {"enabled": True}}}
    old = render_policies(make_chart(), values, RELEASE)
    modern = render_policies(make_chart(modern=True, overlays=True), values, RELEASE)
    assert len(old) == len(modern) == 1
    for label in ("chart", "helm.sh/chart"):
        old[0]["metadata"]["labels"].pop(label)
        modern[0]["metadata"]["labels"].pop(label)
    assert modern == old


@pytest.mark.helm
def test_no_cilium_policy_is_rendered_twice(make_chart):
    values = {"ciliumNetworkPolicy": {"enabled": True}}
    assert len(render_policies(make_chart(overlays=True), values, RELEASE)) == 1
    assert len(render_policies(make_chart(modern=True, overlays=True), values, RELEASE)) == 1


@pytest.mark.helm
@pytest.mark.parametrize("modern", [False, True])
def test_helm_lint_finds_nothing_in_an_overlaid_chart(make_chart, modern):
    import helm_python

    values = {
        "networkPolicy": {"enabled": True, "defaultDeny": {"enabled": True}, "suggested": {"enabled": True}},
        "ciliumNetworkPolicy": {"enabled": True, "policies": {"a": {"spec": {"endpointSelector": {}}}}},
    }
    report = helm_python.lint(str(make_chart(modern=modern, overlays=True)), values, strict=True)
    assert report["messages"] == [] and report["errors"] == []


def test_a_file_an_older_overlay_wrote_is_removed_when_the_overlays_drop_it(make_chart):
    chart = make_chart()
    apply_overlay(chart)
    old = chart / "templates" / "zz-netpol-retired.yaml"
    old.write_text(stamped("{{- /* from an older overlay */ -}}\n"))
    done = actions(apply_overlay(chart))
    assert done["templates/zz-netpol-retired.yaml"] is Action.REMOVED
    assert not old.exists()
    assert "templates/network-policy.yaml" not in done  # the chart's own files are never touched


def test_a_retired_overlay_file_edited_by_hand_is_kept(make_chart):
    chart = make_chart()
    old = chart / "templates" / "zz-netpol-retired.yaml"
    old.write_text(stamped("{{- /* from an older overlay */ -}}\n") + "# edited\n")
    assert actions(apply_overlay(chart))["templates/zz-netpol-retired.yaml"] is Action.SKIPPED
    assert old.exists()
