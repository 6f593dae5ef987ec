"""The values-file corpora through the real CLI: every bad file gives exactly the problems it states.

tests/fixtures/bad-values holds one file per mistake people make in auto-deploy-values.yaml; each
states its expected findings (line:column, path, message, hint) in its header (see
tests/values_corpus.py). ``validate`` (text and JSON) must list exactly those, ``render`` exactly
the errors among them, all with exit code 2. tests/fixtures/good-values holds valid near misses: exit 0, and only
the warnings they state.
"""

import pytest
from values_corpus import (
    BAD,
    FILE_LEVEL,
    GOOD,
    corpus_files,
    expectations,
    matches,
    parse_json_output,
    parse_output,
)

BAD_FILES = corpus_files(BAD)
GOOD_FILES = corpus_files(GOOD)


COMMANDS = ["validate", "validate-json", "render"]


def _run(cli, command, path):
    """Exit code, the findings and the output they were read from (render's stdout is the objects)."""
    if command == "render":
        # the ingress namespace chosen, so render's only warnings are about the file itself
        result = cli("render", path, "--release", "r", "--namespace", "n", "--ingress-namespace", "ingress-nginx")
        return result.exit_code, parse_output(result.stderr, str(path)), result.output
    if command == "validate-json":
        result = cli("validate", path, "--format", "json")
        assert result.stderr == "", result.stderr  # everything is in the JSON document
        return result.exit_code, parse_json_output(result.stdout), result.output
    result = cli("validate", path)
    return result.exit_code, parse_output(result.output, str(path)), result.output


def _assert_findings(actual, expected, output):
    unmatched = list(actual)
    missing = []
    for want in expected:
        hit = next((got for got in unmatched if matches(want, got)), None)
        if hit is None:
            missing.append(want)
        else:
            unmatched.remove(hit)
    report = "\n".join(
        [*(f"missing:    {f.render()}" for f in missing), *(f"unexpected: {f.render()}" for f in unmatched)]
    )
    assert not missing and not unmatched, f"{report}\n--- output ---\n{output}"


def test_the_corpus_is_big_enough():
    assert len(BAD_FILES) >= 45
    assert len(GOOD_FILES) >= 10


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_bad_file_states_its_errors(path):
    expected = expectations(path)
    assert any(not f.path.startswith("warning: ") for f in expected), "a bad file must expect an error"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_bad_values_give_exactly_the_stated_problems(cli, path, command):
    expected = expectations(path)
    if command == "render":  # render stops at the errors; warnings are for validate
        expected = [f for f in expected if not f.path.startswith("warning: ")]
    code, findings, output = _run(cli, command, path)
    assert code == 2, output
    assert "Traceback" not in output
    _assert_findings(findings, expected, output)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("path", GOOD_FILES, ids=lambda p: p.name)
def test_good_values_are_valid(cli, path, command):
    expected = expectations(path)
    assert all(f.path.startswith("warning: ") for f in expected), "a good file may only expect warnings"
    code, findings, output = _run(cli, command, path)
    assert code == 0, output
    _assert_findings(findings, expected, output)


def test_file_level_errors_stop_before_validation(cli):
    """A file that cannot be read gives one error about the file and nothing else."""
    for path in BAD_FILES:
        expected = expectations(path)
        if any(f.path == FILE_LEVEL for f in expected):
            assert len(expected) == 1, path.name
