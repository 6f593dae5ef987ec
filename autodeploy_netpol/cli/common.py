"""What every sub-command shares: error handling, exit codes, output options, environment defaults."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

from .. import files
from ..errors import ExitCode, InputError, InputProblems, NetpolError, ValidationFailed
from ..masking import encodable, forget_secrets, mask, register_secrets

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any, TextIO, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

# Nothing here imports click at module level: cli/fast.py runs validate and render without it.

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
    """Write a report file: masked, atomically, never over an input of the run (``files.write_output``)."""
    files.write_output(path, text)


#: Credentials the tool may hold from its environment, masked in every output from the start of a
#: run (the GitLab token variables, and the job token the tool refuses to use).
CREDENTIAL_VARIABLES = ("NETPOL_GITLAB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN")

#: Set to 1 (or pass --debug) to get the traceback of an unexpected error.
DEBUG_VARIABLE = "NETPOL_DEBUG"

INTERNAL_ERROR_HINT = (
    f"this is a bug in autodeploy-netpol; rerun with --debug (or {DEBUG_VARIABLE}=1) for the traceback "
    "and report it with the input that caused it"
)


def print_error(error: NetpolError) -> None:
    """Print an error for a person: location, message, hint; problems one per line."""
    stream = sys.stderr
    if isinstance(error, ValidationFailed):
        for problem in error.problems:
            stream.write(mask(f"{problem}\n"))
        stream.write(mask(f"error: {error.message}\n"))
        return
    if isinstance(error, InputProblems):
        for item in error.problems:
            stream.write(mask(f"error: {item}\n"))
        stream.write(mask(f"error: {error.message}\n"))
        return
    stream.write(mask(f"error: {error}\n"))


def debug_enabled() -> bool:
    """Whether --debug was given to the command line or NETPOL_DEBUG is set."""
    click = sys.modules.get("click")  # the fast path of validate/render runs without click
    context = click.get_current_context(silent=True) if click is not None else None
    if context is not None and context.find_root().params.get("debug"):
        return True
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def report_internal_error(error: BaseException) -> int:
    """One masked line for an unexpected exception (the traceback only with --debug); its exit code."""
    if isinstance(error, MemoryError):
        summary = "out of memory"
    elif isinstance(error, RecursionError):
        summary = "the input is nested too deeply for this tool (RecursionError)"
    else:
        # Masked before it is joined into one line and cut: a secret in the text (one that spans
        # lines too) cannot leave a prefix behind.
        detail = " ".join(mask(str(error)).split())
        detail = detail if len(detail) <= 300 else detail[:297] + "..."
        summary = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    summary = mask(summary)
    summary = summary if len(summary) <= 400 else summary[:397] + "..."
    stream = sys.stderr
    if debug_enabled():
        import traceback

        stream.write(mask("".join(traceback.format_exception(error))))
    stream.write(f"internal error: {summary}\n  hint: {INTERNAL_ERROR_HINT}\n")
    return int(ExitCode.INTERNAL)


class _MaskedStream:
    """A text stream that masks credentials in everything written through it."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(encodable(mask(text)) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class masked_output:
    """Mask credentials in everything printed on standard output and error while a command runs:
    reports, messages, warnings and records of libraries' loggers alike."""

    __slots__ = ("_saved",)

    def __enter__(self) -> None:
        self._saved = sys.stdout, sys.stderr
        sys.stdout = _MaskedStream(sys.stdout)  # type: ignore[assignment]
        sys.stderr = _MaskedStream(sys.stderr)  # type: ignore[assignment]

    def __exit__(self, *_: object) -> None:
        sys.stdout, sys.stderr = self._saved


def start_run() -> None:
    """A command starts: forget an earlier run's inputs and credentials (one process may run several,
    as tests do), and mask the credentials found in the environment from the first line on."""
    files.start_run()
    forget_secrets()
    register_secrets(os.environ.get(name) for name in CREDENTIAL_VARIABLES)


def handle_errors(function: F) -> F:
    """Run a command body; map :class:`NetpolError` to its exit code, never a traceback.

    The body returns an exit code (or ``None`` for 0). Anything unexpected is exit code 70 with
    one line (:func:`report_internal_error`). Everything printed is masked (:func:`masked_output`).
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        start_run()
        with masked_output():
            code = _run_command(function, args, kwargs)
        sys.exit(code)

    return wrapper  # type: ignore[return-value]


def _run_command(function: Callable[..., Any], args: Any, kwargs: Any) -> int:
    try:
        return int(function(*args, **kwargs) or ExitCode.OK)
    except NetpolError as error:
        print_error(error)
        return int(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
    except SystemExit:
        raise
    except Exception as error:  # the one place an unexpected error (MemoryError too) becomes exit 70
        click = sys.modules.get("click")  # not imported on the fast path of validate/render
        if click is not None and isinstance(
            error, (click.exceptions.Exit, click.exceptions.Abort, click.ClickException)
        ):
            raise  # click's own ways to end a command (usage errors: exit 2)
        return report_internal_error(error)
