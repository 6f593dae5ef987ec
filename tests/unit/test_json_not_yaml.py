"""JSON that YAML 1.1 refuses is still read when it is JSON: `kubectl get -o json` prints C1 control
characters and U+0085 raw, and a lone surrogate escape is valid JSON text. Small .json files go
through the YAML reader for positions; those that it refuses are read as JSON, and what is neither
keeps a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.manifests import read_manifests

YAML_REFUSES = ["\u0085", "\u009b", "\u2028", "\u0080x\u009f", "\ud800"]


def snapshot(annotation: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "web", "namespace": "shop", "annotations": {"note": annotation}},
                "spec": {"podSelector": {}},
            }
        ],
    }


def write(path: Path, annotation: str, *, ascii_only: bool) -> None:
    text = json.dumps(snapshot(annotation), ensure_ascii=ascii_only)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("annotation", YAML_REFUSES)
def test_json_the_yaml_reader_refuses_is_read_as_json(tmp_path: Path, annotation: str) -> None:
    path = tmp_path / "snapshot.json"
    write(path, annotation, ascii_only="\ud800" in annotation)  # a lone surrogate only as an escape
    [manifest] = read_manifests([str(path)]).objects()
    assert manifest["metadata"]["annotations"]["note"] == annotation


@settings(max_examples=200)
@given(annotation=st.text(), ascii_only=st.booleans())
def test_every_json_string_survives_the_small_file_path(
    tmp_path_factory: pytest.TempPathFactory, annotation: str, ascii_only: bool
) -> None:
    path = tmp_path_factory.mktemp("json") / "snapshot.json"
    write(path, annotation, ascii_only=ascii_only or any("\ud800" <= c <= "\udfff" for c in annotation))
    [manifest] = read_manifests([str(path)]).objects()
    assert manifest["metadata"]["annotations"]["note"] == annotation


def test_broken_json_keeps_the_json_error_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text('{"kind": "List", "items": [\n  {"kind": "NetworkPolicy" "x": 1}]}\n')
    with pytest.raises(InputError) as caught:
        read_manifests([str(path)])
    assert caught.value.location is not None and caught.value.location.line == 2
    assert "invalid JSON" in str(caught.value)


def test_yaml_that_is_not_json_keeps_the_yaml_error(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.yaml"
    path.write_text("{kind: List, items: [\n")
    with pytest.raises(InputError) as caught:
        read_manifests([str(path)])
    assert "invalid YAML" in str(caught.value)
