"""The plan's own rules beyond the agreement table: records, several releases, evidence, input errors."""

from __future__ import annotations

import pytest
from plan_cases import NAMESPACE, chart_labels, desired_policy, helm_annotations, live_policy

from autodeploy_netpol.checks.plan import Action, Membership, plan_deploy
from autodeploy_netpol.errors import InputError


def _entry(plan, name):
    (entry,) = [e for e in plan.entries if e.name == name]
    return entry


def test_a_record_entry_of_another_namespace_does_not_hold_the_live_object() -> None:
    live = [live_policy("old", author="kubectl-create")]
    elsewhere = desired_policy("old", "production")
    elsewhere["metadata"]["namespace"] = "shop-staging"

    def history(namespace: str, release: str):
        return [elsewhere]

    plan = plan_deploy([], live, namespace=NAMESPACE, releases=["production"], history=history)
    entry = _entry(plan, "old")
    assert (entry.action, entry.membership) == (Action.KEEP, Membership.NONE)
    # The same object listed without a namespace is the release's own: deleted.
    del elsewhere["metadata"]["namespace"]
    plan = plan_deploy([], live, namespace=NAMESPACE, releases=["production"], history=history)
    assert _entry(plan, "old").action is Action.DELETE


def test_every_release_a_stream_names_deletes_its_own() -> None:
    # A rendered stream with both tracks: each release deletes what it no longer renders.
    desired = [
        desired_policy("production-auto-deploy", "production"),
        desired_policy("c", "production-canary"),
    ]
    live = [
        live_policy(name, labels=chart_labels(release), annotations=helm_annotations(release))
        for name, release in (
            ("stable-old", "production"),
            ("canary-old", "production-canary"),
            ("x", "other"),
        )
    ]
    plan = plan_deploy(desired, live, namespace=NAMESPACE)
    assert plan.releases == ("production", "production-canary")
    assert {e.name: e.action for e in plan.entries} == {
        "c": Action.CREATE,
        "canary-old": Action.DELETE,
        "production-auto-deploy": Action.CREATE,
        "stable-old": Action.DELETE,
        "x": Action.KEEP,
    }


def test_entries_carry_reason_and_evidence() -> None:
    live = [
        live_policy("old", labels=chart_labels("production"), annotations=helm_annotations("production")),
        live_policy("labelled", labels=chart_labels("production")),
    ]
    plan = plan_deploy([], live, namespace=NAMESPACE, releases=["production"])
    old = _entry(plan, "old")
    assert (
        old.reason
        == "release production no longer renders it and Helm's annotations name it: Helm deletes it"
    )
    assert old.evidence == (
        "annotation meta.helm.sh/release-name=production",
        f"annotation meta.helm.sh/release-namespace={NAMESPACE}",
        "chart labels name release production",
    )
    labelled = _entry(plan, "labelled")
    assert labelled.membership is Membership.LABELLED and "most likely it does not" in labelled.reason
    (note,) = plan.plans[0].notes
    assert note.startswith(f"NetworkPolicy {NAMESPACE}/labelled carries release production's chart labels")


def test_a_conflict_names_helms_reasons() -> None:
    desired = [desired_policy("production-auto-deploy", "production")]
    live = [
        live_policy(
            "production-auto-deploy",
            labels=chart_labels("review-1"),
            annotations=helm_annotations("review-1"),
        )
    ]
    entry = _entry(
        plan_deploy(desired, live, namespace=NAMESPACE, releases=["production"]), "production-auto-deploy"
    )
    assert entry.fails and not entry.writes
    assert entry.conflict == ('annotation meta.helm.sh/release-name is "review-1" (must be "production")',)


@pytest.mark.parametrize(
    ("desired_namespace", "all_namespaces", "message"),
    [("elsewhere", False, "not in --namespace"), (None, True, "has no namespace")],
)
def test_desired_objects_outside_the_run_are_input_errors(desired_namespace, all_namespaces, message) -> None:
    desired = desired_policy("p", "production")
    if desired_namespace:
        desired["metadata"]["namespace"] = desired_namespace
    namespace = None if all_namespaces else NAMESPACE
    with pytest.raises(InputError, match=message):
        plan_deploy([desired], [], namespace=namespace, all_namespaces=all_namespaces)


def test_a_live_policy_listed_twice_is_planned_once_with_a_note() -> None:
    live = [live_policy("a"), live_policy("a")]
    plan = plan_deploy([], live, namespace=NAMESPACE)
    assert [e.name for e in plan.entries] == ["a"]
    assert plan.notes == (f"live NetworkPolicy {NAMESPACE}/a listed twice; first one used",)
