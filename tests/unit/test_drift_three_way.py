"""Drift predicts what Helm 3 really writes (checks/helm_upgrade.py through the plan).

``helm upgrade`` patches a live object starting from the previous release's manifest: a three-way
strategic merge for NetworkPolicy (a label, annotation or map key only the live object has is
removed when the previous manifest set it, and kept otherwise; lists are replaced whole), a merge
patch from the previous to the new manifest for custom resources (a hand edit of a field the
values did not change survives). So "changed: metadata.annotations.note" for an annotation a
person added is a change the deploy never makes. With Helm's record (``--helm-history``) the
previous manifest is known; without it the live object, with the chart's own labels and
annotations, stands for it, and the report says so.
"""

from __future__ import annotations

import copy
from typing import Any

from autodeploy_netpol.checks.drift import Change, compare
from autodeploy_netpol.checks.helm_upgrade import upgraded
from autodeploy_netpol.checks.plan import Action

DESIRED: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {
        "name": "production-auto-deploy",
        "labels": {"app": "production", "release": "production", "heritage": "Helm"},
    },
    "spec": {"podSelector": {"matchLabels": {"app": "production"}}, "policyTypes": ["Ingress"]},
}

CILIUM: dict[str, Any] = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "production-auto-deploy-web", "labels": {"release": "production"}},
    "spec": {
        "endpointSelector": {"matchLabels": {"app": "production"}},
        "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "production"}}]}],
    },
}

CLUSTERWIDE: dict[str, Any] = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumClusterwideNetworkPolicy",
    "metadata": {"name": "production-dns", "labels": {"release": "production"}},
    "spec": {"endpointSelector": {}, "egress": [{"toEndpoints": [{}]}]},
}


def live_with(base: dict[str, Any] = DESIRED, **metadata: dict[str, str]) -> dict[str, Any]:
    live = copy.deepcopy(base)
    for section, values in metadata.items():
        live["metadata"].setdefault(section, {}).update(values)
    live["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": "production",
        "meta.helm.sh/release-namespace": "shop",
        **live["metadata"].get("annotations", {}),
    }
    return live


def history_of(manifests: list[dict[str, Any]] | None):
    return lambda namespace, release: manifests if (namespace, release) == ("shop", "production") else None


def run(live, desired=DESIRED, history=None, **options):
    return compare([desired], [live], namespace="shop", releases=["production"], history=history, **options)


def test_an_annotation_someone_added_is_kept_not_drift():
    report = run(live_with(annotations={"note": "reviewed by ops"}, labels={"team": "payments"}))
    assert report.drift == ()
    [in_sync] = report.in_sync
    assert (
        "metadata.annotations.note: kept by Helm's three-way merge (the chart never set it)"
        in in_sync.cosmetic
    )
    assert "metadata.labels.team: kept by Helm's three-way merge (the chart never set it)" in in_sync.cosmetic
    # the verdict rests on an assumption, and the report says so
    [note] = [note for note in report.notes if "--helm-history" in note]
    assert "NetworkPolicy shop/production-auto-deploy" in note


def test_a_chart_label_the_values_no_longer_set_is_removed_and_the_assumption_said():
    # app.gitlab.com/proj: the chart writes it (Cilium policies); the desired object no longer has it
    report = run(live_with(labels={"app.gitlab.com/proj": "42"}))
    [entry] = report.drift
    assert entry.change is Change.CHANGED
    assert [(c.text, c.live) for c in entry.paths] == [('metadata.labels["app.gitlab.com/proj"]', "42")]
    assert any("--helm-history" in note for note in report.notes)


def test_with_the_release_record_the_previous_manifest_decides():
    previous = copy.deepcopy(DESIRED)
    previous["metadata"]["annotations"] = {"owner": "team-a"}  # the previous values set it, the new ones not
    live = live_with(annotations={"owner": "team-a", "note": "by hand"}, labels={"app.gitlab.com/proj": "42"})
    report = run(live, history=history_of([previous]))
    [entry] = report.drift
    # removed: set by the previous release; kept: never set by it, whoever added them
    assert [c.text for c in entry.paths] == ["metadata.annotations.owner"]
    assert (
        "metadata.annotations.note: kept by Helm's three-way merge (the chart never set it)" in entry.cosmetic
    )
    assert (
        'metadata.labels["app.gitlab.com/proj"]: kept by Helm\'s three-way merge (the chart never set it)'
        in entry.cosmetic
    )
    assert not any("--helm-history" in note for note in report.notes)


def test_a_release_without_a_record_of_the_object_keeps_what_it_never_set():
    # Helm adopts an object its last manifest does not list: the new manifest counts as original
    live = live_with(annotations={"note": "by hand"})
    report = run(live, history=history_of([]))
    assert report.drift == ()


def test_what_the_desired_object_sets_is_always_compared():
    live = live_with(labels={"release": "staging"})
    [entry] = run(live).drift
    assert [(c.text, c.live, c.desired) for c in entry.paths] == [
        ("metadata.labels.release", "staging", "production")
    ]


def test_networkpolicy_lists_are_replaced_and_map_keys_someone_added_are_kept():
    live = live_with()
    live["spec"]["podSelector"]["matchLabels"]["team"] = "payments"  # a key added by hand
    live["spec"]["ingress"] = [{"from": [{"podSelector": {}}]}]  # a list the chart never set
    live["spec"]["policyTypes"] = ["Ingress", "Egress"]  # a list the chart sets: replaced
    report = run(live, history=history_of([DESIRED]))
    [entry] = report.drift
    assert [c.text for c in entry.paths] == ["spec.policyTypes[1]"]
    kept = "\n".join(entry.cosmetic)
    assert "spec.podSelector.matchLabels.team" in kept and "spec.ingress" in kept


def test_a_cilium_policy_edited_by_hand_survives_an_upgrade_that_does_not_change_it():
    live = live_with(CILIUM)
    live["spec"]["ingress"] = [{"fromEntities": ["world"]}]  # opened to the world by hand
    # the previous manifest is the new one: Helm 3's merge patch for a custom resource is empty
    report = run(live, desired=CILIUM, history=history_of([CILIUM]))
    assert report.drift == ()
    [in_sync] = report.in_sync
    assert any(
        note.startswith("spec.ingress") and "merge patch from the previous manifest" in note
        for note in in_sync.cosmetic
    )
    [entry] = report.plan.entries
    assert entry.action is Action.KEEP and entry.kept
    # when the values change that rule, the upgrade writes it
    changed = copy.deepcopy(CILIUM)
    changed["spec"]["ingress"] = [{"fromEndpoints": [{"matchLabels": {"app": "other"}}]}]
    [entry] = run(live, desired=changed, history=history_of([CILIUM])).drift
    assert entry.change is Change.CHANGED and entry.paths[0].text.startswith("spec.ingress")


def test_without_the_record_a_cilium_hand_edit_is_assumed_overwritten_and_said():
    live = live_with(CILIUM)
    live["spec"]["ingress"] = [{"fromEntities": ["world"]}]
    report = run(live, desired=CILIUM)
    [entry] = report.drift
    assert entry.change is Change.CHANGED
    assert any("--helm-history" in note for note in report.notes)


def test_upgraded_merge_patch_and_three_way_by_hand():
    original = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1, "m": {"k": "v"}}}
    desired = {"metadata": {"labels": {"a": "1"}}, "spec": {"x": 2, "m": {"k": "v"}}}
    live = {
        "metadata": {"name": "n", "uid": "u", "labels": {"a": "1", "b": "2", "c": "3"}},
        "spec": {"x": 1, "m": {"k": "edited"}, "extra": True},
    }
    merge = upgraded("CiliumNetworkPolicy", original, desired, live)
    assert merge["metadata"] == {"name": "n", "labels": {"a": "1", "c": "3"}}
    assert merge["spec"] == {"x": 2, "m": {"k": "edited"}, "extra": True}  # m unchanged in the values: kept
    three = upgraded("NetworkPolicy", original, desired, live)
    assert three["metadata"]["labels"] == {"a": "1", "c": "3"}
    assert three["spec"] == {"x": 2, "m": {"k": "v"}, "extra": True}  # the desired value is written


def test_a_clusterwide_policy_of_the_release_is_compared_and_deleted_when_no_longer_rendered():
    live = live_with(CLUSTERWIDE)
    live["spec"]["egress"] = [{"toEntities": ["world"]}]
    [entry] = run(live, desired=CLUSTERWIDE).drift
    assert (entry.kind, entry.namespace, entry.name, entry.change) == (
        "CiliumClusterwideNetworkPolicy",
        "",
        "production-dns",
        Change.CHANGED,
    )
    assert [c.text for c in entry.paths] == ["spec.egress[0].toEndpoints", "spec.egress[0].toEntities"]
    # no longer rendered: Helm deletes it (its annotations name the release)
    report = compare([DESIRED], [live_with(), live], namespace="shop", releases=["production"])
    assert [(e.kind, e.change) for e in report.drift] == [
        ("CiliumClusterwideNetworkPolicy", Change.UNEXPECTED)
    ]
    # another release's, or nobody's: not this deploy's business, not even context
    other = copy.deepcopy(live)
    other["metadata"]["annotations"]["meta.helm.sh/release-namespace"] = "elsewhere"
    report = compare([DESIRED], [live_with(), other], namespace="shop", releases=["production"])
    assert report.drift == () and report.context == ()


def test_a_cluster_scoped_kind_the_live_state_could_not_list_is_not_called_missing():
    report = run(live_with(), desired=CLUSTERWIDE, unread_kinds=["CiliumClusterwideNetworkPolicy"])
    assert all(entry.kind != "CiliumClusterwideNetworkPolicy" for entry in report.drift)
    assert any("not compared" in note and "production-dns" in note for note in report.notes)


def test_the_report_carries_kept_fields_and_cluster_scoped_objects_and_matches_its_schema():
    import json

    import jsonschema

    from autodeploy_netpol.report import report_document
    from autodeploy_netpol.report.json_report import render_json, report_schema
    from autodeploy_netpol.report.text import render_text

    live = live_with(labels={"team": "payments"}, annotations={"owner": "team-a"})
    previous = copy.deepcopy(DESIRED)
    previous["metadata"]["annotations"] = {"owner": "team-a"}
    clusterwide = live_with(CLUSTERWIDE)
    clusterwide["spec"]["egress"] = [{"toEntities": ["world"]}]
    report = compare(
        [DESIRED, CLUSTERWIDE],
        [live, clusterwide],
        namespace="shop",
        releases=["production"],
        history=history_of([previous, CLUSTERWIDE]),
    )
    document = report_document(report)
    jsonschema.Draft202012Validator(report_schema()).validate(json.loads(render_json(document)))
    by_kind = {entry["kind"]: entry for entry in document["drift"]}
    assert by_kind["NetworkPolicy"]["kept"] == [
        "metadata.labels.team: kept by Helm's three-way merge (the chart never set it)"
    ]
    # the record says the previous manifest had the same egress: Helm 3's merge patch leaves the edit
    assert "CiliumClusterwideNetworkPolicy" not in by_kind
    [in_sync] = [item for item in document["inSync"] if item["kind"] == "CiliumClusterwideNetworkPolicy"]
    assert in_sync["namespace"] == "" and any("merge patch" in note for note in in_sync["cosmetic"])
    assert "kept by Helm's three-way merge" in render_text(report_document(report), verbose=False)


def test_kept_fields_in_the_merge_request_note_are_escaped():
    from gitlab_markdown import assert_safe_note

    from autodeploy_netpol.report import report_document
    from autodeploy_netpol.report.markdown import render_markdown

    hostile = "</details><img src=x onerror=alert(1)> @all [x](http://evil)"
    live = live_with(annotations={hostile: "`\nrm -rf`", "owner": "team-a"}, labels={"release": "staging"})
    report = run(live)
    [entry] = report.drift
    assert any(hostile in note for note in entry.cosmetic)
    body = render_markdown(report_document(report))
    assert "Kept by Helm's patch (not drift):" in body
    assert_safe_note(body)
