"""The offline snapshot / manifest reader: files, directories, List kinds, errors with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources import snapshot
from autodeploy_netpol.sources.snapshot import read_manifests, read_snapshot

POLICY = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: ns}\nspec: {podSelector: {}}\n"


def test_kubectl_list(tmp_path: Path) -> None:
    path = tmp_path / "snap.yaml"
    items = "".join("- " + (POLICY % name).replace("\n", "\n  ").rstrip() + "\n" for name in ("a", "b"))
    path.write_text(f"apiVersion: v1\nkind: List\nmetadata: {{resourceVersion: ''}}\nitems:\n{items}")
    state = read_snapshot(str(path))
    assert [obj["metadata"]["name"] for obj in state.objects] == ["a", "b"]
    assert state.source == str(path) and state.notes == []


def test_typed_list_items_get_their_kind_from_the_list(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text(
        json.dumps(
            {
                "kind": "NetworkPolicyList",
                "apiVersion": "networking.k8s.io/v1",
                "items": [{"metadata": {"name": "a"}}],
            }
        )
    )
    (obj,) = read_snapshot(str(path)).objects
    assert obj["kind"] == "NetworkPolicy"


def test_multi_document_stream_skips_other_kinds_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "helm-template.yaml"
    path.write_text(
        "# Source: chart/templates/service.yaml\n---\nkind: Service\nmetadata: {name: s}\n---\n"
        + POLICY % "a"
        + "---\n"
    )
    manifests = read_manifests(str(path))
    assert [obj["metadata"]["name"] for obj in manifests.objects] == ["a"]
    assert manifests.notes == [f"{path}: skipped objects that are not network policies (1 Service)"]


def test_directory_is_read_in_sorted_order_and_ignores_other_files(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(POLICY % "second")
    (tmp_path / "a.json").write_text(json.dumps({"kind": "NetworkPolicy", "metadata": {"name": "first"}}))
    (tmp_path / "README.txt").write_text("not yaml: [")
    state = read_snapshot(str(tmp_path))
    assert [obj["metadata"]["name"] for obj in state.objects] == ["first", "second"]


def test_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.yaml"):
        read_snapshot(str(tmp_path))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_snapshot(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (POLICY % "a" + "---\n- just\n- a list\n", "must be a Kubernetes object", 6),
        (POLICY % "a" + "---\nkind: NetworkPolicy\nmetadata:\n  namespace: x\n", "without metadata.name", 8),
        (
            "kind: List\nitems:\n  - kind: NetworkPolicy\n    metadata: {name: a}\n  - metadata: {name: b}\n",
            "without 'kind'",
            5,
        ),
        ("kind: List\nitems: {a: 1}\n", "must be a list", 2),
        ("kind: NetworkPolicy\nmetadata: {name: a}\nspec: [1]\n", "spec must be a mapping", 3),
        ("kind: NetworkPolicy\nmetadata: {name: a, labels: [x]}\n", "labels must be a mapping", 2),
        ("kind: NetworkPolicy\nmetadata: {name: a}\nspec: {a: 1\n", "invalid YAML", 4),
    ],
)
def test_bad_documents_are_reported_with_file_and_line(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    path = tmp_path / "snap.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_snapshot(str(path))
    assert info.value.location is not None
    assert (info.value.location.file, info.value.location.line) == (str(path), line)


def test_big_json_takes_the_fast_path_and_still_locates_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "FAST_JSON_BYTES", 10)
    items = [{"kind": "NetworkPolicy", "metadata": {"name": f"p{i}"}, "spec": {}} for i in range(3)]
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"kind": "List", "items": items}, indent=1))
    assert len(read_snapshot(str(path)).objects) == 3
    items[2]["metadata"] = {"namespace": "x"}
    path.write_text(json.dumps({"kind": "List", "items": items}, indent=1))
    with pytest.raises(InputError, match=r"without metadata\.name") as info:
        read_snapshot(str(path))
    assert info.value.location is not None and info.value.location.line > 1
    path.write_text('{"kind": "List", "items": [1,]}')
    with pytest.raises(InputError, match="invalid JSON") as info:
        read_snapshot(str(path))
    assert info.value.location is not None and info.value.location.line == 1
