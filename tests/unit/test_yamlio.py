import pytest

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.yamlio import format_path, load_mapping


def test_duplicate_key_is_an_error(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(InputError) as info:
        load_mapping(str(path))
    assert "duplicate key 'a'" in info.value.message
    assert info.value.location.line == 3


def test_locate_points_at_value(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("networkPolicy:\n  spec:\n    ingress:\n      - from: []\n")
    document = load_mapping(str(path))
    location = document.locate(("networkPolicy", "spec", "ingress", 0, "from"))
    assert (location.line, location.column) == (4, 15)


def test_format_path_quotes_label_keys():
    assert (
        format_path(("a", "matchLabels", "app.kubernetes.io/name", 0))
        == 'a.matchLabels["app.kubernetes.io/name"][0]'
    )
