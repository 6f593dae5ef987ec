"""Input limits of the YAML reader that protect everything downstream from pathological files."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources import yamlio
from autodeploy_netpol.sources.yamlio import MAX_DEPTH, iter_documents


def _nested(kind: str, depth: int) -> str:
    """A document whose deepest collection is ``depth`` levels down (the root mapping is level 1)."""
    inner = depth - 1
    if kind == "flow-lists":
        return "networkPolicy: " + "[" * inner + "]" * inner + "\n"
    if kind == "flow-maps":
        return "networkPolicy: " + "{a: " * inner + "1" + "}" * inner + "\n"
    if kind == "block-maps":
        return "".join(" " * level + f"k{level}:\n" for level in range(depth)) + " " * depth + "leaf: 1\n"
    if kind == "mixed":  # a sibling before the deep branch, block over flow
        return (
            "before: [[1]]\nnetworkPolicy:\n  spec:\n    x: "
            + "[{b: " * (inner // 2)
            + "1"
            + "}]" * (inner // 2)
            + "\n"
        )
    raise AssertionError(kind)


KINDS = ["flow-lists", "flow-maps", "block-maps", "mixed"]


def _error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        list(iter_documents(text, "v.yaml"))
    return info.value


def _expected_location(text: str) -> tuple[int, int]:
    """Where the first collection at level MAX_DEPTH + 1 starts, counted independently of the tool:
    PyYAML's pure-Python parser has no nesting limit and emits events as it goes."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark.line + 1, event.start_mark.column + 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    raise AssertionError("the text is not nested beyond the limit")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "depth",
    [MAX_DEPTH + 5, 400, 2000],
    ids=["our-limit-first", "between-the-limits", "beyond-libyaml-limit"],
)
def test_nesting_beyond_the_limit_is_one_error_whichever_limit_fires(kind, depth):
    # Deeper data used to reach the validator and die there with RecursionError (a traceback).
    # PyYAML 6.0.4's libyaml refuses 1,000 levels itself; older releases hand the tool a node graph.
    # Either way the user reads the tool's message, at the collection that crosses the limit.
    text = _nested(kind, depth)
    error = _error(text)
    assert error.message == f"data nested more than {MAX_DEPTH} levels deep"
    assert (error.location.line, error.location.column) == _expected_location(text)


@pytest.mark.parametrize("kind", KINDS)
def test_node_graph_and_event_stream_name_the_same_collection(kind):
    # The two ways of finding the offending collection (our walk over the node graph, used when the
    # parser accepts the depth; the event scan, used when the parser refuses it) must agree.
    text = _nested(kind, 150)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    with pytest.raises(InputError) as info:
        yamlio._check_expansion(root, "v.yaml")
    assert (info.value.location.line, info.value.location.column) == _expected_location(text)


def test_when_the_parser_refuses_the_depth_the_tool_still_answers(monkeypatch):
    # Simulate a parser with a lower limit than ours (what PyYAML 6.0.4 does at 1,000 levels):
    # the composer fails partway; the tool reports its own message, not the parser's wording.
    text = _nested("flow-lists", MAX_DEPTH + 50)
    real_get_node = yamlio._Loader.get_node

    def refusing_get_node(self):
        raise yaml.scanner.ScannerError("while increasing flow level", None, "some parser wording", None)

    monkeypatch.setattr(yamlio._Loader, "get_node", refusing_get_node)
    error = _error(text)
    assert error.message == f"data nested more than {MAX_DEPTH} levels deep"
    assert (error.location.line, error.location.column) == _expected_location(text)
    monkeypatch.setattr(yamlio._Loader, "get_node", real_get_node)


def test_a_parse_error_that_is_not_about_depth_keeps_its_own_message():
    error = _error("a: [1, 2\nb: 3\n")
    assert "nested" not in error.message
    assert error.location.line >= 1


@given(st.lists(st.sampled_from("[{"), min_size=MAX_DEPTH - 5, max_size=MAX_DEPTH + 20))
@settings(max_examples=60)
def test_generated_nesting_agrees_with_the_limit(openers):
    closers = "".join("]" if c == "[" else "}" for c in reversed(openers))
    body = "".join("[" if c == "[" else "{k: " for c in openers) + "1" + closers
    text = "top: " + body + "\n"
    levels = 1 + len(openers)
    if levels <= MAX_DEPTH:
        [document] = iter_documents(text, "v.yaml")
        assert document.data["top"] is not None
    else:
        error = _error(text)
        assert error.message == f"data nested more than {MAX_DEPTH} levels deep"
        assert (error.location.line, error.location.column) == _expected_location(text)


def test_the_cli_exits_2_with_the_location(tmp_path):
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main

    path = tmp_path / "values.yaml"
    path.write_text(_nested("flow-lists", 2000))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    line, column = _expected_location(path.read_text())
    assert f"{path}:{line}:{column}: " in result.output
    assert f"nested more than {MAX_DEPTH} levels deep" in result.output
    assert "Traceback" not in result.output


def test_nesting_at_the_limit_is_read():
    text = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    [document] = iter_documents(text, "v.yaml")
    assert isinstance(document.data["a"], list)


def test_utf16_is_named():
    from autodeploy_netpol.sources.yamlio import decode_utf8

    with pytest.raises(InputError, match="UTF-16"):
        decode_utf8("\ufeffa: 1\n".encode("utf-16-le"), "v.yaml")


def test_reading_restores_the_cycle_collector(tmp_path):
    import gc

    from autodeploy_netpol.sources.yamlio import load_documents

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
