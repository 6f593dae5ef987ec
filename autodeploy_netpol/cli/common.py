"""What every sub-command shares: error handling, exit codes, output options, environment defaults."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..errors import ExitCode, InputProblems, NetpolError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format for findings.",
)


def env_default(*names: str) -> str | None:
    """The first non-empty environment variable among ``names``."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


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
