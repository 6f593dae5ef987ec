"""The template checker itself: it must catch what it claims to catch."""

from __future__ import annotations

import click
import pytest
from gitlab_ci_check import check_invocation, invocations


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
