"""``autodeploy-netpol diff --before PATH... --after PATH...``: connections a change adds and removes."""

from __future__ import annotations

import click

from ..errors import InputError
from ..report.connectivity import FORMATS, diff_side_notes, render_diff
from ..runs.connectivity import run_diff
from .common import handle_errors

EPILOG = """
\b
Examples:
  autodeploy-netpol diff --before live/ --after live/ rendered.yaml -n shop-42-production
  autodeploy-netpol diff --before main.yaml --after branch.yaml --format markdown

\b
Each side is its PATHs in turn (files, directories, or - for standard input); an object given
again in a later PATH replaces the earlier one, as kubectl apply would (the rendered policies
replace the live ones of the same name). Pass the workloads and namespaces on both sides (the
same snapshot may be given twice), so the comparison is about policies. Objects without a
namespace need --namespace: without it diff exits 2 rather than compare them in the wrong
namespace. Exit 1 when connectivity changes, 0 when it does not.
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
@click.option(
    "--namespace",
    "-n",
    default=None,
    help="The namespace of objects that name none (render and helm template print none). "
    "Required when such objects are given: diff refuses to guess.",
)
@handle_errors
def command(tokens: tuple[str, ...], output_format: str, namespace: str | None) -> int:
    """Connections added and removed between two sets of objects (who can newly reach whom).

    --before PATH... are the objects before the change, --after PATH... after it.
    """
    before, after = split_sides(tokens)
    run = run_diff(before, after, namespace=namespace)
    click.echo(render_diff(run.diff, output_format), nl=False)
    if output_format == "csv":
        for line in diff_side_notes(run.diff):
            click.echo(line, err=True)
    return run.exit_code
