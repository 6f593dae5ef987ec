"""The template checker itself: it must catch what it claims to catch."""

from __future__ import annotations

import click
import pytest
from gitlab_ci_check import (
    AUTO_DEVOPS_STAGES,
    check_if_expression,
    check_invocation,
    check_rules,
    check_structure,
    invocations,
)


@click.group()
def cli() -> None:
    """A stand-in command tree."""


@cli.command()
@click.argument("values", required=False)
@click.option("--format", type=click.Choice(["text", "json"]))
@click.option("--output", "-o", multiple=True)
@click.option("--quiet", is_flag=True)
def drift(**_: object) -> None:
    """drift"""


def problems_of(script: str) -> list[str]:
    document = {"job": {"stage": "test", "script": [script]}}
    return [problem for call in invocations(document) for problem in check_invocation(cli, call)]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('autodeploy-netpol drift "$VALUES" --format json -o out.json --quiet', None),
        ("autodeploy-netpol drift --format=text --output=$DIR/x.md", None),
        ("autodeploy-netpol drift --no-such-flag", "drift has no option --no-such-flag"),
        ("autodeploy-netpol drfit", "no command 'drfit'"),
        ("autodeploy-netpol drift --format yaml", "--format 'yaml' is not one of"),
        ("autodeploy-netpol drift --output", "--output needs a value"),
        ("autodeploy-netpol drift --quiet=yes", "--quiet is a flag"),
        ("autodeploy-netpol drift a b", "too many arguments"),
        ("autodeploy-netpol drift --quiet && autodeploy-netpol nope", "no command 'nope'"),
        ('set -- "$@" --bogus\nautodeploy-netpol drift "$@"', "drift has no option --bogus"),
        ('set -- "$@" --quiet\nautodeploy-netpol drift "$@"', None),
        # options collected after a call, or before a bare `set --`, never reach it
        ('autodeploy-netpol drift "$@"\nset -- "$@" --bogus', None),
        ('set -- "$@" --bogus\nset --\nautodeploy-netpol drift "$@"', None),
        ('set -- --bogus\nautodeploy-netpol drift "$@"', "drift has no option --bogus"),
        ("if command -v autodeploy-netpol >/dev/null; then echo ok; fi", None),
    ],
)
def test_script_calls_are_checked_against_the_command_tree(script: str, expected: str | None) -> None:
    problems = problems_of(script)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("expression", "valid"),
    [
        ('$CI_PIPELINE_SOURCE == "merge_request_event"', True),
        ("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE != 'push'", True),
        ("($A || $B) && $C =~ /^review\\/.*$/i", True),
        ("$X == null", True),
        ("$A ==", False),
        ("$A && ", False),
        ("(A == 'x')", False),
        ("($A == 'x'", False),
        ('$A == "unterminated', False),
        ("$A = 'x'", False),
    ],
)
def test_if_expressions(expression: str, valid: bool) -> None:
    assert (check_if_expression(expression) == []) is valid


def test_rules_and_structure_problems_are_found() -> None:
    assert check_rules("job", [{"if": "$A", "when": "sometimes"}])
    assert check_rules("job", [{"iff": "$A"}])
    assert check_rules("job", [])
    assert check_rules("job", [{"if": "$A", "when": "never"}, {"if": "$B"}]) == []
    document = {
        "job": {"extends": ".missing", "stage": "nowhere", "script": ["true"], "needs": ["ghost"]},
        "other": {"stage": "test"},
    }
    problems = check_structure(document, stages=AUTO_DEVOPS_STAGES)
    assert any("extends unknown job '.missing'" in p for p in problems)
    assert any("stage 'nowhere'" in p for p in problems)
    assert any("needs unknown job 'ghost'" in p for p in problems)
    assert any("other: no script" in p for p in problems)
