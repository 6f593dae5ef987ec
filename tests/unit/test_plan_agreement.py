"""One plan: drift, audit and ownership say the same thing about what the deploy does.

Each case of ``plan_cases.CASES`` is one combination of ownership markers (Helm annotations, chart
labels, name pattern, managedFields, tracks, other releases, another namespace's annotation, the UI
editor's label, Helm's resource policy, Helm's record). The plan decides create / change / delete /
keep as Helm 3 does; each check, run on its own inputs as the commands run it, must then say:

=========  ===========  ====================  =============================================
plan       drift        audit (after deploy)  ownership warning about the object
=========  ===========  ====================  =============================================
create     missing      the desired object    none
change     changed      the desired object    override "reverts" (or collision when Helm fails)
delete     unexpected   gone                  override "deletes" (every live case was edited)
keep       context /    the live object /     none
           in sync      the desired object
=========  ===========  ====================  =============================================
"""

from __future__ import annotations

from typing import Any

import pytest
from plan_cases import CASES, NAMESPACE, RELEASE, Case

from autodeploy_netpol.checks.audit import after_deploy
from autodeploy_netpol.checks.drift import DriftReport, compare
from autodeploy_netpol.checks.ownership.check import OwnershipCheck, check_ownership
from autodeploy_netpol.checks.ownership.conflicts import WarningCode
from autodeploy_netpol.checks.plan import Action, plan_deploy


def drift_says(report: DriftReport, name: str) -> str:
    for entry in report.drift:
        if entry.name == name:
            return str(entry.change)
    if any(item.name == name for item in report.in_sync):
        return "in-sync"
    if any(item.name == name for item in report.context):
        return "context"
    return "absent"


def audit_says(objects: list[dict[str, Any]], name: str) -> str:
    found = [o for o in objects if o["metadata"]["name"] == name and o["kind"] == "NetworkPolicy"]
    if not found:
        return "gone"
    (obj,) = found
    # The desired object is rendered without managedFields; the live one keeps them.
    return "live" if "managedFields" in obj["metadata"] else "desired"


def ownership_says(check: OwnershipCheck, name: str) -> str:
    warnings = [w for w in check.warnings if w.name == name]
    if any(w.code is WarningCode.COLLISION for w in warnings):
        return "collision"
    for warning in warnings:
        if warning.code is WarningCode.OVERRIDE:
            return "deletes" if warning.reason.startswith("the deploy deletes") else "reverts"
    return "none"


def expected(case: Case) -> tuple[str, str, str]:
    """(drift, audit, ownership) for the case's action."""
    if case.action == "create":
        return "missing", "desired", "none"
    if case.action == "change":
        return "changed", "desired", "collision" if case.fails else "reverts"
    if case.action == "delete":
        return "unexpected", "gone", "deletes"
    return ("in-sync", "desired", "none") if case.desired else ("context", "live", "none")


def run(case: Case) -> tuple[str, str | None, str, str]:
    """(plan action, audit or None when it cannot see the record, drift, ownership) for one case."""
    desired, live = case.desired_objects(), case.live_objects()
    history = case.history if case.record is not None else None
    plan = plan_deploy(desired, live, namespace=NAMESPACE, releases=[case.helm_release], history=history)
    (entry,) = [e for e in plan.entries if e.name == case.name]
    report = compare(desired, live, namespace=NAMESPACE, releases=[case.helm_release], history=history)
    ownership = check_ownership(
        desired, live, namespace=NAMESPACE, release=RELEASE, track=case.track, history=history
    )
    audit = None
    if case.record is None:  # the audit command does not read Helm's record
        after = after_deploy(desired, live, namespace=NAMESPACE, helm_release=case.helm_release)
        audit = audit_says(after.objects, case.name)
    return str(entry.action), audit, drift_says(report, case.name), ownership_says(ownership, case.name)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_drift_audit_and_ownership_agree_with_the_plan(case: Case) -> None:
    action, audit, drift, ownership = run(case)
    assert action == case.action, case.why
    want_drift, want_audit, want_ownership = expected(case)
    assert drift == want_drift, f"drift: {case.why}"
    if audit is not None:
        assert audit == want_audit, f"audit: {case.why}"
    assert ownership == want_ownership, f"ownership: {case.why}"


@pytest.mark.parametrize("case", [c for c in CASES if c.owner], ids=[c.id for c in CASES if c.owner])
def test_the_owner_and_this_release_follow_the_markers(case: Case) -> None:
    desired, live = case.desired_objects(), case.live_objects()
    history = case.history if case.record is not None else None
    check = check_ownership(
        desired, live, namespace=NAMESPACE, release=RELEASE, track=case.track, history=history
    )
    (verdict,) = [v for v in check.verdicts if v.name == case.name]
    assert str(verdict.owner) == case.owner
    plan = plan_deploy(desired, live, namespace=NAMESPACE, releases=[case.helm_release], history=history)
    (entry,) = [e for e in plan.entries if e.name == case.name]
    if entry.action is Action.DELETE:
        # What the deploy deletes is the release's own: ownership never calls it someone else's.
        assert verdict.release == case.helm_release or case.record is not None


def test_there_are_enough_marker_combinations() -> None:
    assert len(CASES) >= 10
    assert {case.action for case in CASES} == {"create", "change", "delete", "keep"}


def test_the_labels_only_policy_is_kept_everywhere_and_the_report_says_why() -> None:
    # Issue 12's example: drift called it unexpected (deleted), audit kept it, ownership said unknown.
    (case,) = [c for c in CASES if c.id == "release-heritage-labels-only"]
    report = compare(case.desired_objects(), case.live_objects(), namespace=NAMESPACE, releases=[RELEASE])
    assert report.drift == ()
    assert [item.owner for item in report.context] == ["helm release production"]
    (note,) = report.notes
    assert "without Helm's ownership annotations" in note and "--helm-history" in note


def test_a_failing_adoption_is_said_by_audit_too() -> None:
    (case,) = [c for c in CASES if c.id == "desired-name-taken-by-ui-policy"]
    after = after_deploy(
        case.desired_objects(), case.live_objects(), namespace=NAMESPACE, helm_release=RELEASE
    )
    assert any("the deploy would fail" in note and "cannot adopt" in note for note in after.notes)


def test_one_plan_is_shared_by_drift_and_ownership_in_a_run() -> None:
    # The drift command hands its plan to the ownership check: the record is read once.
    (case,) = [c for c in CASES if c.id == "record-lists-it-without-markers"]
    calls: list[tuple[str, str]] = []

    def history(namespace: str, release: str) -> Any:
        calls.append((namespace, release))
        return case.history(namespace, release)

    desired, live = case.desired_objects(), case.live_objects()
    report = compare(desired, live, namespace=NAMESPACE, releases=[RELEASE], history=history)
    check = check_ownership(
        desired, live, namespace=NAMESPACE, release=RELEASE, history=history, plan=report.plan
    )
    assert calls == [(NAMESPACE, RELEASE)]
    assert drift_says(report, case.name) == "unexpected" and ownership_says(check, case.name) == "deletes"
