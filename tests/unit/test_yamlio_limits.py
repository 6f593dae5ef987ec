"""Input limits of the YAML reader that protect everything downstream from pathological files."""

import pytest

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.yamlio import MAX_DEPTH, iter_documents


@pytest.mark.parametrize(
    "text",
    [
        "networkPolicy: " + "[" * 2000 + "]" * 2000,
        "networkPolicy:\n  spec:\n    podSelector:\n      matchLabels: " + "{a: " * 1500 + "1" + "}" * 1500,
        "".join(" " * level + f"k{level}:\n" for level in range(1200)),
    ],
    ids=["flow-lists", "flow-maps", "block-maps"],
)
def test_nesting_beyond_the_limit_is_an_input_error(text):
    # Deeper data used to reach the validator and die there with RecursionError (a traceback).
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels deep") as info:
        list(iter_documents(text, "v.yaml"))
    assert info.value.location.line >= 1


def test_nesting_at_the_limit_is_read():
    text = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    [document] = iter_documents(text, "v.yaml")
    assert isinstance(document.data["a"], list)


def test_utf16_is_named():
    from autodeploy_netpol.yamlio import decode_utf8

    with pytest.raises(InputError, match="UTF-16"):
        decode_utf8("\ufeffa: 1\n".encode("utf-16-le"), "v.yaml")


def test_reading_restores_the_cycle_collector(tmp_path):
    import gc

    from autodeploy_netpol.yamlio import load_documents

    path = tmp_path / "v.yaml"
    path.write_text("a: [1, 2]\n")
    assert gc.isenabled()
    load_documents(str(path))
    assert gc.isenabled()
    gc.disable()
    try:
        load_documents(str(path))
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()
