"""What every sub-command shares: error handling, exit codes, output options, environment defaults."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ExitCode, InputError, InputProblems, Location, NetpolError, ValidationFailed

# Nothing here imports click at module level: cli/fast.py runs validate and render without it.

F = TypeVar("F", bound=Callable[..., Any])

#: ``--format`` of the commands that print findings.
FINDINGS_FORMATS = ("text", "json")


def format_option(function: F) -> F:
    """Add ``--format text|json`` (text by default)."""
    import click

    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FINDINGS_FORMATS),
        default=FINDINGS_FORMATS[0],
        show_default=True,
        help="Output format for findings.",
    )(function)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Write ``text`` (and a newline) to standard output or error, as ``click.echo`` writes text.

    Unlike ``click.echo`` it does not strip ANSI sequences when the stream is no terminal: what
    comes from an input is escaped before it is printed (the one escaper, report/escape.py, and
    JSON quoting in messages and field paths), so a terminal and a log see the same bytes.
    """
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n" if nl else text)
    stream.flush()


def env_default(*names: str) -> str | None:
    """The first non-empty environment variable among ``names``."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def output_target(
    text: str, formats: tuple[str, ...], suffixes: dict[str, str], default_format: str | None = None
) -> tuple[str, str]:
    """``--output [FORMAT:]FILE`` as (format, path): a ``FORMAT:`` prefix naming one of ``formats``,
    else the format the file name's ending stands for in ``suffixes``, else ``default_format``."""
    prefix, sep, rest = text.partition(":")
    if sep and prefix in formats and rest:
        return prefix, rest
    inferred = suffixes.get(os.path.splitext(text)[1].lower()) or default_format
    if inferred is None:
        endings = ", ".join(sorted(suffixes))
        raise InputError(
            f"--output {text!r}: cannot tell the format from the file name",
            hint=f"end the name in {endings}, or write FORMAT:FILE with FORMAT one of {', '.join(formats)}",
        )
    return inferred, text


def write_output(path: str, text: str) -> None:
    """Write a report file (never an input of the run: the commands check that first)."""
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write report: {exc.strerror or exc}", location=Location(path)) from exc


def print_error(error: NetpolError) -> None:
    """Print an error for a person: location, message, hint; problems one per line."""
    stream = sys.stderr
    if isinstance(error, ValidationFailed):
        for problem in error.problems:
            stream.write(f"{problem}\n")
        stream.write(f"error: {error.message}\n")
        return
    if isinstance(error, InputProblems):
        for item in error.problems:
            stream.write(f"error: {item}\n")
        stream.write(f"error: {error.message}\n")
        return
    stream.write(f"error: {error}\n")


def handle_errors(function: F) -> F:
    """Run a command body; map :class:`NetpolError` to its exit code, never a traceback.

    The body returns an exit code (or ``None`` for 0).
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            code = function(*args, **kwargs)
        except NetpolError as error:
            print_error(error)
            sys.exit(int(error.exit_code))
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(int(ExitCode.OK))
        sys.exit(int(code or ExitCode.OK))

    return wrapper  # type: ignore[return-value]
