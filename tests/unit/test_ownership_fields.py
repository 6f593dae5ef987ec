"""managedFields parsing: FieldsV1 tries become plain paths; values are read back at those paths."""

from datetime import UTC, datetime

import pytest
from ownership_fixtures import live_object

from autodeploy_netpol.checks.ownership.fields import ListItemKey, SetValue, parse_managed_fields, path_text


def test_entries_from_helm_then_kubectl_edit():
    entries = parse_managed_fields(live_object("helm-then-kubectl-edit", "production-auto-deploy"))
    assert [(e.manager, e.operation) for e in entries] == [("helm", "Update"), ("kubectl-edit", "Update")]
    helm, edit = entries
    assert edit.spec_paths == (("spec", "ingress"),)
    assert helm.spec_paths == (("spec", "podSelector", "matchLabels", "app"), ("spec", "policyTypes"))
    assert edit.time == datetime(2024, 3, 4, 15, 30, 12, tzinfo=UTC)
    assert ("metadata", "annotations", "meta.helm.sh/release-name") in helm.paths
    # "." marks the map itself; its children are the leaves, the map is not listed again.
    assert ("metadata", "labels") not in helm.paths


def test_no_managed_fields_gives_no_entries():
    assert parse_managed_fields(live_object("no-managed-fields", "legacy-allow-all")) == []


@pytest.mark.parametrize(
    ("trie", "expected"),
    [
        (
            {"f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:name": {}}}}},
            {("spec", "ports", ListItemKey((("port", 80), ("protocol", "TCP"))), "name")},
        ),
        ({"f:spec": {"f:policyTypes": {'v:"Ingress"': {}}}}, {("spec", "policyTypes", SetValue("Ingress"))}),
        ({"f:spec": {"f:ingress": {"i:0": {}}}}, {("spec", "ingress", 0)}),
        ({"f:spec": {".": {}}}, {("spec",)}),
        # An encoding this parser does not know is skipped, not guessed at.
        ({"f:spec": {"x:unknown": {}, "f:egress": {}}}, {("spec", "egress")}),
    ],
)
def test_fieldsv1_encodings(trie, expected):
    obj = {"metadata": {"managedFields": [{"manager": "m", "operation": "Apply", "fieldsV1": trie}]}}
    assert set(parse_managed_fields(obj)[0].paths) == expected


def test_bad_time_is_none_not_an_error():
    obj = {"metadata": {"managedFields": [{"manager": "m", "time": "yesterday", "fieldsV1": {"f:spec": {}}}]}}
    assert parse_managed_fields(obj)[0].time is None


def test_path_text():
    assert path_text(("spec", "podSelector", "matchLabels", "app.kubernetes.io/name")) == (
        'spec.podSelector.matchLabels["app.kubernetes.io/name"]'
    )
    assert path_text(("spec", "ports", ListItemKey((("port", 80),)), "name")) == "spec.ports[port=80].name"
    assert path_text(()) == "(object)"
