"""``autodeploy-netpol diff --before PATH... --after PATH...``: connections a change adds and removes."""

from __future__ import annotations

import click

from ..errors import InputError
from ..report.connectivity import FORMATS, render_diff
from ..runs.connectivity import run_diff
from .common import handle_errors

EPILOG = """
\b
Examples:
  autodeploy-netpol diff --before live/ --after live/ rendered.yaml
  autodeploy-netpol diff --before main.yaml --after branch.yaml --format markdown

\b
Each side is the union of its PATHs (files, directories, or - for standard input). Pass
the workloads and namespaces on both sides (the same snapshot may be given twice), so the
comparison is about policies. Exit 1 when connectivity changes, 0 when it does not.
"""


def split_sides(tokens: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """``--before A B --after C`` (or ``--before=A``, repeated in any order) → ([A, B], [C])."""
    sides: dict[str, list[str]] = {"--before": [], "--after": []}
    current: str | None = None
    for token in tokens:
        flag, equals, value = token.partition("=")
        if flag in sides:
            current = flag
            if equals:
                sides[flag].append(value)
            continue
        if current is None:
            raise InputError(
                f"{token!r} is neither after --before nor after --after",
                hint="diff --before PATH... --after PATH...",
            )
        sides[current].append(token)
    for flag, paths in sides.items():
        if not paths:
            raise InputError(f"{flag} needs at least one PATH", hint="diff --before PATH... --after PATH...")
    return sides["--before"], sides["--after"]


@click.command(
    "diff",
    epilog=EPILOG,
    context_settings={"ignore_unknown_options": True},
    options_metavar="--before PATH... --after PATH... [OPTIONS]",
)
@click.argument("tokens", nargs=-1, type=click.UNPROCESSED)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@handle_errors
def command(tokens: tuple[str, ...], output_format: str) -> int:
    """Connections added and removed between two sets of objects (who can newly reach whom).

    --before PATH... are the objects before the change, --after PATH... after it.
    """
    before, after = split_sides(tokens)
    run = run_diff(before, after)
    click.echo(render_diff(run.diff, output_format), nl=False)
    return run.exit_code
