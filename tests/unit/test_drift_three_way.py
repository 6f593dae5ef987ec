"""Drift predicts what Helm does: its three-way merge keeps labels and annotations someone else added.

``helm upgrade`` patches a live object with a three-way merge of the previous release's manifest,
the live object and the new manifest: a label or annotation only the live object has is removed
when the previous manifest set it, and kept otherwise. So "changed: metadata.annotations.note"
for an annotation a person added is a change the deploy never makes. With Helm's record
(``--helm-history``) the previous manifest is known; without it the chart's own keys count as set by
the previous release, every other key as someone else's, and the report says it assumes so.
"""

from __future__ import annotations

import copy

from autodeploy_netpol.checks.drift import Change, compare

DESIRED = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {
        "name": "production-auto-deploy",
        "labels": {"app": "production", "release": "production", "heritage": "Helm"},
    },
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}


def live_with(**metadata):
    live = copy.deepcopy(DESIRED)
    for section, values in metadata.items():
        live["metadata"].setdefault(section, {}).update(values)
    live["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": "production",
        "meta.helm.sh/release-namespace": "shop",
        **live["metadata"].get("annotations", {}),
    }
    return live


def run(live, applied=None, desired=DESIRED):
    return compare([desired], [live], namespace="shop", releases=["production"], applied=applied)


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
    [note] = [note for note in report.notes if "three-way merge" in note]
    assert (
        "without its release record (--helm-history)" in note
        and "NetworkPolicy shop/production-auto-deploy" in note
    )


def test_a_chart_label_the_values_no_longer_set_is_removed_and_the_assumption_said():
    # app.gitlab.com/proj: the chart writes it (Cilium policies); the desired object no longer has it
    report = run(live_with(labels={"app.gitlab.com/proj": "42"}))
    [entry] = report.drift
    assert entry.change is Change.CHANGED
    assert [(c.path, c.live) for c in entry.paths] == [('metadata.labels["app.gitlab.com/proj"]', "42")]
    assert any("--helm-history" in note for note in entry.cosmetic)


def test_with_the_release_record_the_previous_manifest_decides():
    previous = copy.deepcopy(DESIRED)
    previous["metadata"]["annotations"] = {"owner": "team-a"}  # the previous values set it, the new ones not
    live = live_with(annotations={"owner": "team-a", "note": "by hand"}, labels={"app.gitlab.com/proj": "42"})
    report = run(live, applied={("shop", "production"): [previous]})
    [entry] = report.drift
    # removed: set by the previous release; kept: never set by it, whoever added them
    assert [c.path for c in entry.paths] == ["metadata.annotations.owner"]
    assert (
        "metadata.annotations.note: kept by Helm's three-way merge (the chart never set it)" in entry.cosmetic
    )
    assert (
        'metadata.labels["app.gitlab.com/proj"]: kept by Helm\'s three-way merge (the chart never set it)'
        in entry.cosmetic
    )
    assert not any("--helm-history" in note for note in report.notes)


def test_a_release_without_a_record_keeps_what_it_never_set():
    live = live_with(annotations={"note": "by hand"})
    report = run(live, applied={("shop", "production"): None})
    assert report.drift == ()


def test_what_the_desired_object_sets_is_always_compared():
    live = live_with(labels={"release": "staging"})
    [entry] = run(live).drift
    assert [(c.path, c.live, c.desired) for c in entry.paths] == [
        ("metadata.labels.release", "staging", "production")
    ]
