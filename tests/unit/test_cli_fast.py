"""The click-free start of `validate` and `render` (cli/fast.py) agrees with the click commands.

Its option table against the click commands' options; what it reads from generated command lines
against what click reads (or it leaves the line to click); and the bytes and exit codes of both
on every values file of the corpora and the examples.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from values_corpus import BAD, GOOD, corpus_files

from autodeploy_netpol.cli import COMMANDS, main, plain
from autodeploy_netpol.cli.fast import ENV_OPTIONS, SPECS, fast_command, parse

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_ENV = (
    "HELM_RELEASE_NAME",
    "CI_ENVIRONMENT_SLUG",
    "KUBE_NAMESPACE",
    "CI_PROJECT_ID",
    "NETPOL_INGRESS_NAMESPACE",
    "HELM_UPGRADE_VALUES_FILE",
    "AUTO_DEPLOY_CHART_VERSION",
)
BODIES = {"validate": plain.validate, "render": plain.render}


def click_command(name: str) -> click.Command:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    return command


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_table_names_the_click_options_as_click_declares_them(name):
    spec, command = SPECS[name], click_command(name)
    options = {opt: param for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for written, (keyword, choices) in spec.options.items():
        param = options[written]
        assert isinstance(param, click.Option) and not param.is_flag and not param.multiple
        assert param.name == keyword
        expected = tuple(param.type.choices) if isinstance(param.type, click.Choice) else None
        assert choices == expected, written
    for written, (keyword, value) in spec.flags.items():
        param = options[written]
        assert isinstance(param, click.Option) and param.is_flag and param.name == keyword
        with command.make_context(name, [written]) as context:
            assert context.params[keyword] is value, written
    # every keyword the body gets, with what click passes when the option is not given
    with command.make_context(name, []) as context:
        absent = context.params
    for keyword, default in spec.defaults.items():
        assert absent[keyword] == default, keyword
    # what the table leaves to click: the body's own default is what click passes when it is absent
    body = inspect.signature(BODIES[name]).parameters
    for keyword, value in absent.items():
        if keyword not in spec.defaults:
            assert body[keyword].default == value, keyword


def test_every_fast_command_is_a_click_command():
    assert set(SPECS) <= set(COMMANDS)


TOKENS = {
    "validate": [
        "--format", "--format=json", "text", "json", "yaml", "-r", "--help", "--", "-", "",
        "--image-version", "v2.50.0", "--chart-version", "2.100.2", "--overlays", "--no-overlays",
        "--no-handoff", "--chart",
    ],
    "render": [
        "--release", "-r", "--namespace", "-n", "--track", "--track=canary", "--ingress-namespace",
        "--project-id", "--chart-version", "--values-out", "--format", "--format=json", "--no-suggest",
        "--image-version", "v2.91.0", "--overlays", "--no-overlays", "--no-handoff", "--no-handoff=1",
        "--no-suggest=1", "--chart", "--engine", "--api-version", "-rprod", "-r=prod", "--rel",
        "stable", "canary", "rollout", "nope", "yaml", "json", "-x", "--", "-", "", "a.yaml", "b.yaml",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SPECS))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_fast_parser_reads_what_click_reads_or_leaves_the_line_to_click(name, data, tmp_path_factory):
    args = data.draw(st.lists(st.sampled_from([*TOKENS[name], "values.yaml", "a directory"]), max_size=7))
    directory = tmp_path_factory.getbasetemp()
    args = [str(directory) if arg == "a directory" else arg for arg in args]
    fast = parse(SPECS[name], args)
    if fast is None:
        return
    command = click_command(name)
    with command.make_context(name, list(args)) as context:  # raises on a usage error
        params = context.params
    for keyword, value in fast.items():
        assert params[keyword] == value, (args, keyword)


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "--help"],
        ["validate", "a.yaml", "b.yaml"],
        ["validate", "--format", "yaml"],
        ["validate", "--format"],
        ["render", "--chart", "chart/"],
        ["render", "-r", "a", "-r", "b"],
        ["render", "--release", "--namespace"],
        ["render", "--", "a.yaml"],
        ["render", "-rprod"],
        ["drift"],
        ["--version"],
        [],
    ],
)
def test_lines_left_to_click(argv):
    assert fast_command(argv) is None


def test_shell_completion_is_left_to_click(monkeypatch):
    monkeypatch.setenv("_AUTODEPLOY_NETPOL_COMPLETE", "bash_complete")
    assert fast_command(["validate"]) is None


def _corpus() -> list[Path]:
    examples = sorted((ROOT / "examples").glob("*/.gitlab/auto-deploy-values.yaml"))
    return [*corpus_files(BAD), *corpus_files(GOOD), *examples, ROOT / "tests" / "fixtures" / "no-such-file.yaml"]


LINES = [
    ["validate"],
    ["validate", "--format", "json"],
    ["render", "--release", "r", "--namespace", "n"],
    ["render", "-r", "production", "--track", "canary", "--format=json", "--project-id", "42"],
    ["render", "--release", "r", "--no-suggest", "--chart-version", "2.100.2", "--ingress-namespace", "ing"],
    ["validate", "--image-version", "v2.50.0", "--format", "json"],
    ["validate", "--chart-version", "2.80.0", "--overlays", "--no-handoff"],
    ["render", "-r", "r", "--image-version", "v2.91.0", "--no-overlays"],
]


@pytest.mark.parametrize("path", _corpus(), ids=lambda path: path.name)
def test_both_starts_print_the_same_bytes_and_exit_alike(path, monkeypatch, capsys):
    for name in DEPLOY_ENV:
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    for line in LINES:
        argv = [line[0], str(path), *line[1:]]
        expected = runner.invoke(main, argv, catch_exceptions=False)
        command = fast_command(argv)
        assert command is not None, argv
        with pytest.raises(SystemExit) as exit_info:
            command()
        out, err = capsys.readouterr()
        assert (exit_info.value.code, out, err) == (expected.exit_code, expected.stdout, expected.stderr), argv


def test_values_out_is_written_alike(tmp_path, monkeypatch, capsys):
    for name in DEPLOY_ENV:
        monkeypatch.delenv(name, raising=False)
    example = ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
    runner = CliRunner()
    runner.invoke(main, ["render", str(example), "-r", "p", "--values-out", str(tmp_path / "click.yaml")])
    command = fast_command(["render", str(example), "-r", "p", "--values-out", str(tmp_path / "fast.yaml")])
    assert command is not None
    with pytest.raises(SystemExit):
        command()
    capsys.readouterr()
    assert (tmp_path / "fast.yaml").read_bytes() == (tmp_path / "click.yaml").read_bytes()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_variables_click_reads_into_options_left_to_it_are_listed(name):
    command = click_command(name)
    declared = {
        variable
        for param in command.params
        if param.envvar and param.name not in SPECS[name].defaults
        for variable in ((param.envvar,) if isinstance(param.envvar, str) else param.envvar)
    }
    assert set(ENV_OPTIONS[name]) == declared


@pytest.mark.parametrize(
    ("variable", "value"), [("NETPOL_MAX_PAGES", "abc"), ("NETPOL_READ_DEADLINE", "0"), ("NETPOL_REQUEST_TIMEOUT", "x")]
)
def test_a_variable_click_refuses_is_its_usage_error_on_both_starts(variable, value, monkeypatch):
    example = str(ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml")
    argv = ["render", example, "-r", "p"]
    monkeypatch.setenv(variable, value)
    expected = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert expected.exit_code == 2 and variable in expected.stderr
    assert fast_command(argv) is None  # the console script then runs click: the same exit 2
    monkeypatch.setenv(variable, "")  # click ignores an empty variable, and so does the fast start
    assert fast_command(argv) is not None


@pytest.mark.parametrize("option", [None, "--values-out"])
def test_a_file_click_may_not_read_is_its_usage_error_on_both_starts(option, tmp_path, monkeypatch):
    """click.Path is readable=True: an existing VALUES or --values-out it may not read is refused."""
    example = str(ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml")
    locked = tmp_path / "locked.yaml"
    locked.write_text("networkPolicy: {}\n")
    argv = ["render", "-r", "p", *(["--values-out", str(locked), example] if option else [str(locked)])]
    real_access = os.access
    # root reads every file: a file the user may not read is one os.access says so of
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: path != str(locked) and real_access(path, mode, **kw))
    expected = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert expected.exit_code == 2 and "is not readable" in expected.stderr
    assert fast_command(argv) is None  # the console script then runs click: the same exit 2
