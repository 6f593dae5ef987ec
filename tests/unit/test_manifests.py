"""The one manifest reader: files, recursive directories, standard input, List kinds, errors with
file:line, and the live snapshot built from it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources import manifests as reader_module
from autodeploy_netpol.sources.live import LiveScope, read_live
from autodeploy_netpol.sources.manifests import ManifestReader, read_manifests

POLICY = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: ns}\nspec: {podSelector: {}}\n"


def names(path: Path | str, **options: object) -> list[str]:
    return [item.name for item in read_manifests([str(path)]).items]


def test_kubectl_list(tmp_path: Path) -> None:
    path = tmp_path / "snap.yaml"
    items = "".join("- " + (POLICY % name).replace("\n", "\n  ").rstrip() + "\n" for name in ("a", "b"))
    path.write_text(f"apiVersion: v1\nkind: List\nmetadata: {{resourceVersion: ''}}\nitems:\n{items}")
    read = read_manifests([str(path)])
    assert [item.name for item in read.items] == ["a", "b"]
    assert read.source == str(path) and read.notes == ()
    assert [str(item.locate(("spec",))) for item in read.items] == [f"{path}:8:9", f"{path}:12:9"]


@pytest.mark.parametrize(
    ("document", "kinds"),
    [
        # a typed list from the API: its items leave out their kind
        ({"kind": "NetworkPolicyList", "items": [{"metadata": {"name": "a"}}]}, ["NetworkPolicy"]),
        # an item that names its own kind keeps it
        ({"kind": "PodList", "items": [{"kind": "Pod", "metadata": {"name": "a"}}]}, ["Pod"]),
        # a document without kind but with items is a list
        ({"items": [{"kind": "Namespace", "metadata": {"name": "a"}}]}, ["Namespace"]),
        # an empty list, and a list whose items are null
        ({"kind": "List", "items": []}, []),
        ({"kind": "List", "items": None}, []),
        # an object that happens to have an 'items' field is not a list
        ({"kind": "ConfigMap", "metadata": {"name": "a"}, "items": [1]}, ["ConfigMap"]),
    ],
)
def test_one_rule_for_lists(tmp_path: Path, document: dict, kinds: list[str]) -> None:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(document))
    assert [item.kind for item in read_manifests([str(path)]).items] == kinds


def test_kind_list_items_must_carry_their_kind(tmp_path: Path) -> None:
    path = tmp_path / "snap.yaml"
    path.write_text("kind: List\nitems:\n  - metadata: {name: a}\n")
    with pytest.raises(InputError, match="without 'kind'") as info:
        read_manifests([str(path)])
    assert str(info.value.location) == f"{path}:3:5"


def test_select_keeps_some_kinds_and_counts_the_others_in_a_note(tmp_path: Path) -> None:
    path = tmp_path / "helm-template.yaml"
    path.write_text(
        "# Source: chart/templates/service.yaml\n---\nkind: Service\nmetadata: {name: s}\n---\n"
        + POLICY % "a"
        + "---\n"
    )
    selected = read_manifests([str(path)]).select(("NetworkPolicy",), what="network policies")
    assert [item.name for item in selected.items] == ["a"]
    assert selected.notes == (f"{path}: skipped objects that are not network policies (1 Service)",)


def test_directories_are_read_recursively_in_name_order_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(POLICY % "b")
    (tmp_path / "a.json").write_text(json.dumps({"kind": "NetworkPolicy", "metadata": {"name": "a"}}))
    (tmp_path / "README.txt").write_text("not yaml: [")
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "c.yaml").write_text(POLICY % "c-nested")
    (tmp_path / "nested" / "deeper" / "d.yaml").write_text(POLICY % "d-deeper")
    (tmp_path / "nested" / "notes.md").write_text("# not an input")
    (tmp_path / "z.yaml").write_text(POLICY % "z")
    read = read_manifests([str(tmp_path)])
    # every level in name order, directories among files, as kubectl -R walks
    assert [item.name for item in read.items] == ["a", "b", "c-nested", "d-deeper", "z"]
    assert read.notes == (
        f"{tmp_path}: read 5 files (.yaml, .yml, .json) in 3 directories; skipped 2 other files",
    )


def test_a_symlinked_directory_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POLICY % "a")
    (tmp_path / "loop").symlink_to(tmp_path)
    read = read_manifests([str(tmp_path)])
    assert [item.name for item in read.items] == ["a"]
    assert read.notes == (f"{tmp_path}: read 1 file (.yaml, .yml, .json); skipped 1 other file",)


def test_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match=r"no \.yaml"):
        read_manifests([str(tmp_path)])


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_manifests([str(tmp_path / "nope.yaml")])


def test_standard_input_is_read_once_for_every_dash(tmp_path: Path) -> None:
    stdin = io.BytesIO((POLICY % "a").encode())
    reader = ManifestReader(stdin)
    first = reader.read(["-"])
    second = reader.read(["-", "-"])
    assert [item.name for item in first.items] == ["a"]
    assert [item.name for item in second.items] == ["a", "a"]
    assert first.source == "<stdin>"
    assert str(first.items[0].locate(("spec",))) == "<stdin>:4:7"


def test_standard_input_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETPOL_MAX_INPUT_BYTES", "100")  # limits.INPUT_BYTES, read when needed
    reader = ManifestReader(io.BytesIO(b"#" * 101))
    with pytest.raises(InputError, match="over the 100-byte limit"):
        reader.read(["-"])


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
        ("kind: List\nitems:\n  - 1\n", "must be a mapping", 3),
        ("kind: NetworkPolicy\nmetadata: {name: a}\nspec: [1]\n", "spec must be a mapping", 3),
        ("kind: NetworkPolicy\nmetadata: {name: a, labels: [x]}\n", "labels must be a mapping", 2),
        ("kind: Namespace\nmetadata: [x]\n", "metadata must be a mapping", 2),
        ("kind: Pod\nmetadata: {name: p, namespace: 3}\n", "namespace must be a string", 2),
        ("kind: NetworkPolicy\nmetadata: {name: a}\nspec: {a: 1\n", "invalid YAML", 4),
    ],
)
def test_bad_documents_are_reported_with_file_and_line(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    path = tmp_path / "snap.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_manifests([str(path)])
    assert info.value.location is not None
    assert (info.value.location.file, info.value.location.line) == (str(path), line)


def test_big_json_takes_the_fast_path_and_still_locates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader_module, "FAST_JSON_BYTES", 10)
    items = [{"kind": "NetworkPolicy", "metadata": {"name": f"p{i}"}, "spec": {}} for i in range(3)]
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"kind": "List", "items": items}, indent=1))
    read = read_manifests([str(path)])
    assert len(read.items) == 3
    # positions come from re-reading the file, only when asked for
    assert read.items[2].locate(("spec",)).line > 1
    items[2]["metadata"] = {"namespace": "x"}
    path.write_text(json.dumps({"kind": "List", "items": items}, indent=1))
    with pytest.raises(InputError, match=r"without metadata\.name") as info:
        read_manifests([str(path)])
    assert info.value.location is not None and info.value.location.line > 1
    path.write_text('{"kind": "List", "items": [1,]}')
    with pytest.raises(InputError, match="invalid JSON") as info:
        read_manifests([str(path)])
    assert info.value.location is not None and info.value.location.line == 1
    path.write_text('{"kind": "List", "kind": "List", "items": []}')
    with pytest.raises(InputError, match="duplicate") as info:
        read_manifests([str(path)])


def test_a_snapshot_keeps_what_the_run_uses_and_says_what_it_skipped(tmp_path: Path) -> None:
    path = tmp_path / "snap.yaml"
    path.write_text(
        POLICY % "a"
        + "---\nkind: Namespace\nmetadata: {name: ns}\n"
        + "---\nkind: Deployment\nmetadata: {name: web, namespace: ns}\n"
        + "---\nkind: Secret\nmetadata: {name: sh.helm.release.v1.x.v1, namespace: ns}\n"
        + "---\nkind: Service\nmetadata: {name: web, namespace: ns}\n"
    )
    policies_only = read_live([str(path)], LiveScope("ns"))
    assert [item.kind for item in policies_only.manifests] == ["NetworkPolicy", "Secret"]
    assert policies_only.notes == (
        f"{path}: skipped objects that are not network policies (1 Deployment, 1 Namespace, 1 Service)",
    )
    with_context = read_live([str(path)], LiveScope("ns", context=True))
    assert [item.kind for item in with_context.manifests] == [
        "NetworkPolicy",
        "Namespace",
        "Deployment",
        "Secret",
    ]
    assert [obj["kind"] for obj in with_context.engine_objects()] == [
        "NetworkPolicy",
        "Namespace",
        "Deployment",
    ]
    assert with_context.policies == [with_context.manifests[0].data] and with_context.has_namespaces
    assert with_context.from_snapshot and with_context.unread == ()


def test_null_labels_and_annotations_are_none_as_the_api_server_reads_them(tmp_path: Path) -> None:
    # found by the fuzz suite: `labels: null` in a stream crashed drift -A's ownership check
    path = tmp_path / "objects.yaml"
    path.write_text(
        "kind: NetworkPolicy\nmetadata:\n  name: a\n  namespace: ns\n  labels: null\n  annotations:\nspec: {podSelector: {}}\n"
    )
    (item,) = read_manifests([str(path)]).items
    assert "labels" not in item.data["metadata"] and "annotations" not in item.data["metadata"]
