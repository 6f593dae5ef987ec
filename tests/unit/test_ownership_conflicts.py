"""Ownership warnings: each one has a case that must fire and a near miss that must not."""

import copy

import pytest
from ownership_fixtures import NAMESPACE, RELEASE, desired, live, live_object

from autodeploy_netpol.checks.ownership.conflicts import (
    Outcome,
    WarningCode,
    assess,
    exit_code,
)
from autodeploy_netpol.errors import Severity
from autodeploy_netpol.sources.helm_history import current_release


def codes(report):
    return sorted((str(w.code), w.name) for w in report.warnings)


def run(fixture, *, wanted=None, track="stable", last_applied=None):
    return assess(
        desired() if wanted is None else wanted,
        live(fixture),
        release=RELEASE,
        namespace=NAMESPACE,
        track=track,
        last_applied=last_applied,
    )


# --- 1. override -------------------------------------------------------------------------------


def test_override_fires_after_kubectl_edit_and_names_field_who_and_when():
    (warning,) = run("helm-then-kubectl-edit").warnings
    assert (warning.code, warning.severity) == (WarningCode.OVERRIDE, Severity.WARNING)
    assert "by kubectl-edit at 2024-03-04T15:30:12Z" in warning.reason
    (field,) = warning.fields
    assert (field.path, field.outcome, field.manager) == (
        ("spec", "ingress", 1),
        Outcome.REVERTED,
        "kubectl-edit",
    )
    assert field.to_json()["path"] == "spec.ingress[1]"
    assert field.live["ports"] == [{"port": 9090, "protocol": "TCP"}]
    assert '"monitoring"' in warning.details[0] and "is removed" in warning.details[0]
    assert warning.fails


def test_override_fires_after_gitlab_ui_update_of_the_pipeline_policy():
    (warning,) = run("helm-then-ui-update").warnings
    assert warning.code is WarningCode.OVERRIDE
    assert "rest-client at 2024-03-05T08:21:40Z" in warning.reason
    assert [f.path for f in warning.fields] == [("spec", "ingress", 0, "from", 0)]
    assert "comes back" in warning.details[0]
    assert any("ownership metadata is missing" in d for d in warning.details)


def test_near_miss_helm_only_policy_has_no_warning():
    assert run("helm-only").warnings == ()


def test_near_miss_edit_older_than_helms_last_write_is_not_an_override():
    report = run("kubectl-edit-before-helm")
    assert report.warnings == ()


def test_near_miss_edit_that_the_values_file_already_matches_reverts_nothing():
    # Someone edited the ingress by hand and then put the same rule into the values file.
    edited = live_object("helm-then-kubectl-edit", "production-auto-deploy")
    wanted = copy.deepcopy(desired())
    wanted[0]["spec"]["ingress"] = copy.deepcopy(edited["spec"]["ingress"])
    assert run("helm-then-kubectl-edit", wanted=wanted).warnings == ()


def test_near_miss_other_tracks_policy_is_not_reverted_by_a_stable_deploy():
    assert run("canary-edited").warnings == ()


def test_override_fires_for_the_canary_track_deploy():
    report = run("canary-edited", wanted=desired("desired-canary"), track="canary")
    ((code, name),) = codes(report)
    assert (code, name) == ("override", "production-canary-auto-deploy")


def test_override_when_the_deploy_deletes_an_edited_policy():
    (warning,) = run("helm-then-kubectl-edit", wanted=[]).warnings
    assert warning.code is WarningCode.OVERRIDE
    assert "deletes this policy" in warning.reason
    assert [(f.path, f.outcome) for f in warning.fields] == [(("spec", "ingress"), Outcome.DELETED)]


# --- three-way with Helm's release record ------------------------------------------------------


def last_applied(fixture="helm-release-secrets"):
    return current_release(live(fixture), RELEASE).policies()


def test_history_three_way_finds_the_edit():
    (warning,) = run("helm-then-kubectl-edit", last_applied=last_applied()).warnings
    assert [f.path for f in warning.fields] == [("spec", "ingress", 1)]
    assert any("--helm-history" in d for d in warning.details)


def test_history_near_miss_live_equals_what_helm_applied():
    # kubectl-client-side-apply owns spec.ingress, but Helm's last manifest has the same ingress.
    live_obj = live_object("kubectl-edit-before-helm", "production-auto-deploy")
    applied = copy.deepcopy(desired())
    applied[0]["spec"]["ingress"] = copy.deepcopy(live_obj["spec"]["ingress"])
    assert run("kubectl-edit-before-helm", last_applied=applied).warnings == ()


def test_history_catches_an_edit_whose_time_precedes_helms_last_write():
    # Helm last wrote on 1 March (labels); the kubectl write on 20 Feb is still live and differs
    # from what Helm applied: only the three-way comparison can tell.
    (warning,) = run("kubectl-edit-before-helm", last_applied=last_applied()).warnings
    assert warning.code is WarningCode.OVERRIDE
    assert warning.fields[0].manager == "kubectl-client-side-apply"


def _with_extra_egress(obj):
    obj = copy.deepcopy(obj)
    obj["spec"]["egress"] = [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]
    obj["spec"]["policyTypes"] = ["Ingress", "Egress"]
    obj["metadata"]["managedFields"].append(
        {
            "manager": "kubectl-edit",
            "operation": "Update",
            "time": "2024-03-09T00:00:00Z",
            "fieldsV1": {"f:spec": {"f:egress": {}}},
        }
    )
    return obj


def test_history_field_the_values_never_set_is_kept():
    # kubectl edit added egress (and policyTypes); neither Helm's last manifest nor the values
    # set them, so Helm's three-way merge leaves them: nothing is lost, no warning.
    live_obj = _with_extra_egress(live_object("helm-only", "production-auto-deploy"))
    report = assess(desired(), [live_obj], release=RELEASE, namespace=NAMESPACE, last_applied=desired())
    assert report.warnings == ()


def test_history_edited_field_helm_set_before_and_the_values_drop_is_removed():
    live_obj = _with_extra_egress(live_object("helm-only", "production-auto-deploy"))
    applied = copy.deepcopy(desired())
    applied[0]["spec"]["egress"] = [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]}]  # kubectl widened it
    report = assess(desired(), [live_obj], release=RELEASE, namespace=NAMESPACE, last_applied=applied)
    (warning,) = report.warnings
    assert [(f.path, f.outcome) for f in warning.fields] == [(("spec", "egress"), Outcome.REMOVED)]


def test_without_history_a_field_the_values_do_not_set_is_assumed_kept():
    live_obj = _with_extra_egress(live_object("helm-only", "production-auto-deploy"))
    assert assess(desired(), [live_obj], release=RELEASE, namespace=NAMESPACE).warnings == ()


# --- 2. both methods ---------------------------------------------------------------------------


def test_both_methods_fires_and_says_the_pipeline_widens_the_ui_policy():
    report = run("ui-created")
    (both,) = [w for w in report.warnings if w.code is WarningCode.BOTH_METHODS]
    assert both.name == "production-auto-deploy" and both.widens is True
    assert both.related == ("NetworkPolicy/allow-inbound-http",)
    assert "allows traffic they do not" in both.reason
    assert any("WIDENS" in d and "app=production" in d for d in both.details)
    assert both.fails


def test_both_methods_without_widening_still_fires():
    ui_policies = live("ui-created")
    ui_policies[1]["spec"]["ingress"] = [{}]  # the UI policy allows everything already
    report = assess(desired(), ui_policies, release=RELEASE, namespace=NAMESPACE)
    (both,) = [w for w in report.warnings if w.code is WarningCode.BOTH_METHODS]
    assert both.widens is False and "allows nothing beyond them" in both.reason
    # what the tool itself calls harmless does not make --fail-on-override fail the job
    assert not both.fails and both.to_json()["failsOnOverride"] is False
    assert exit_code(1, report.warnings, fail_on_override=True) == 1


def test_near_miss_values_file_enables_nothing():
    report = run("ui-created", wanted=[])
    assert WarningCode.BOTH_METHODS not in {w.code for w in report.warnings}


def test_near_miss_only_disabled_ui_policies():
    assert codes(run("ui-disabled-only")) == [("disabled-ui-policy", "drop-outbound")]


def test_near_miss_argo_cd_policy_is_not_a_ui_policy():
    assert run("argocd").warnings == ()


# --- 3. collision ------------------------------------------------------------------------------


def test_collision_fires_for_a_kubectl_created_object_with_the_desired_name():
    (warning,) = run("collision").warnings
    assert (warning.code, warning.severity) == (WarningCode.COLLISION, Severity.ERROR)
    assert "cannot be imported into the current release" in warning.reason
    assert 'label app.kubernetes.io/managed-by is missing (must be "Helm")' in warning.details


def test_collision_with_another_release_annotation():
    obj = live_object("helm-only", "production-auto-deploy")
    obj["metadata"]["annotations"]["meta.helm.sh/release-name"] = "shop-legacy"
    report = assess(desired(), [obj], release=RELEASE, namespace=NAMESPACE)
    (warning,) = report.warnings
    assert warning.code is WarningCode.COLLISION
    assert any('"shop-legacy" (must be "production")' in d for d in warning.details)


def test_near_miss_same_name_other_kind_is_no_collision():
    obj = live_object("collision", "production-auto-deploy")
    obj["kind"], obj["apiVersion"] = "CiliumNetworkPolicy", "cilium.io/v2"
    assert run("collision", wanted=desired()).warnings != ()  # sanity: the NetworkPolicy collides
    report = assess(desired(), [obj], release=RELEASE, namespace=NAMESPACE)
    assert WarningCode.COLLISION not in {w.code for w in report.warnings}


def test_near_miss_annotation_less_object_of_this_release_is_updated_not_refused():
    # The UI stripped Helm's annotations; without history the chart labels vouch for the release.
    assert WarningCode.COLLISION not in {w.code for w in run("helm-then-ui-update").warnings}


def test_history_turns_an_annotation_less_object_outside_the_release_into_a_collision():
    report = run("helm-then-ui-update", last_applied=last_applied("helm-release-without-policy"))
    assert [w.code for w in report.warnings] == [WarningCode.COLLISION]
    report = run("helm-then-ui-update", last_applied=last_applied())
    assert [w.code for w in report.warnings] == [WarningCode.OVERRIDE]


# --- 4. disabled UI policy ---------------------------------------------------------------------


def test_disabled_ui_policy_is_information():
    (warning,) = [w for w in run("ui-created").warnings if w.code is WarningCode.DISABLED_UI_POLICY]
    assert (warning.name, warning.severity, warning.fails) == ("drop-outbound", Severity.INFO, False)


def test_near_miss_active_ui_policy_is_not_reported_as_disabled():
    report = run("ui-created")
    assert ("disabled-ui-policy", "allow-inbound-http") not in codes(report)


# --- report shape ------------------------------------------------------------------------------


def test_verdicts_cover_every_live_policy_and_serialize():
    report = run("ui-created")
    assert [v.name for v in report.verdicts] == [
        "drop-outbound",
        "allow-inbound-http",
        "production-auto-deploy",
    ]
    documents = [v.to_json() for v in report.verdicts]
    assert all({"kind", "name", "owner", "reason", "evidence"} <= d.keys() for d in documents)
    assert documents[0]["disabled"] is True
    warning = report.warnings[0].to_json()
    assert {"kind", "name", "namespace", "owner", "reason", "code", "severity", "details"} <= warning.keys()


def test_warnings_are_sorted_most_severe_first():
    objects = live("collision") + live("ui-created")[1:]
    report = assess(desired(), objects, release=RELEASE, namespace=NAMESPACE)
    assert [w.severity for w in report.warnings] == [Severity.ERROR, Severity.WARNING, Severity.INFO]


def test_policies_of_other_namespaces_are_left_out():
    obj = live_object("collision", "production-auto-deploy")
    obj["metadata"]["namespace"] = "elsewhere"
    report = assess(desired(), [obj], release=RELEASE, namespace=NAMESPACE)
    assert report.verdicts == () and report.warnings == ()


@pytest.mark.parametrize(
    ("drift_code", "fail_on_override", "fixture", "expected"),
    [
        (0, True, "helm-then-kubectl-edit", 4),
        (1, True, "helm-then-kubectl-edit", 4),  # 4 wins over 1
        (2, True, "helm-then-kubectl-edit", 2),  # input errors win over 4
        (3, True, "helm-then-kubectl-edit", 3),  # access errors win over 4
        (1, False, "helm-then-kubectl-edit", 1),  # without the flag the warning does not change the code
        (0, True, "ui-disabled-only", 0),  # information never fails
        (1, True, "helm-only", 1),
    ],
)
def test_exit_code_precedence(drift_code, fail_on_override, fixture, expected):
    report = run(fixture)
    assert exit_code(drift_code, report.warnings, fail_on_override=fail_on_override) == expected


def _cilium(ingress, managers):
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {
            "name": "production-auto-deploy",
            "namespace": NAMESPACE,
            "labels": {
                "chart": "auto-deploy-app-2.100.0",
                "release": "production",
                "app.gitlab.com/proj": "42",
                "app.kubernetes.io/managed-by": "Helm",
            },
            "annotations": {
                "meta.helm.sh/release-name": "production",
                "meta.helm.sh/release-namespace": NAMESPACE,
            },
            "managedFields": [
                {
                    "manager": m,
                    "operation": "Update",
                    "time": t,
                    "apiVersion": "cilium.io/v2",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {f: {} for f in fields}},
                }
                for m, t, fields in managers
            ],
        },
        "spec": {"endpointSelector": {}, "ingress": ingress},
    }


def test_override_of_a_cilium_policy():
    wanted = {
        "kind": "CiliumNetworkPolicy",
        "apiVersion": "cilium.io/v2",
        "metadata": {"name": "production-auto-deploy"},
        "spec": {"endpointSelector": {}, "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "web"}}]}]},
    }
    edited = _cilium(
        [{"fromEndpoints": [{"matchLabels": {"app": "web"}}]}, {"fromEntities": ["world"]}],
        [
            ("helm", "2024-03-01T10:00:00Z", ["f:endpointSelector"]),
            ("kubectl-edit", "2024-03-02T10:00:00Z", ["f:ingress"]),
        ],
    )
    (warning,) = assess([wanted], [edited], release=RELEASE, namespace=NAMESPACE).warnings
    assert warning.code is WarningCode.OVERRIDE and warning.kind == "CiliumNetworkPolicy"
    assert [(f.path, f.outcome, f.live) for f in warning.fields] == [
        (("spec", "ingress", 1), Outcome.REVERTED, {"fromEntities": ["world"]})
    ]
    # Near miss: the same object when only Helm wrote the spec.
    untouched = _cilium(
        edited["spec"]["ingress"], [("helm", "2024-03-01T10:00:00Z", ["f:endpointSelector", "f:ingress"])]
    )
    assert assess([wanted], [untouched], release=RELEASE, namespace=NAMESPACE).warnings == ()


def test_pipeline_policy_disabled_in_the_ui_is_kept_disabled_by_the_deploy():
    obj = live_object("helm-only", "production-auto-deploy")
    obj["spec"]["podSelector"]["matchLabels"]["network-policy.gitlab.com/disabled_by"] = "gitlab"
    obj["metadata"]["managedFields"].append(
        {
            "manager": "rest-client",
            "operation": "Update",
            "time": "2024-03-07T09:00:00Z",
            "fieldsV1": {
                "f:spec": {
                    "f:podSelector": {"f:matchLabels": {"f:network-policy.gitlab.com/disabled_by": {}}}
                }
            },
        }
    )
    (warning,) = assess(desired(), [obj], release=RELEASE, namespace=NAMESPACE).warnings
    # Not an override: the values file does not set that label, so nothing is reverted...
    assert (warning.code, warning.severity) == (WarningCode.DISABLED_UI_POLICY, Severity.WARNING)
    # ...which is exactly the problem: the pipeline's policy stays switched off.
    assert "keeps it disabled" in warning.reason and not warning.fails
