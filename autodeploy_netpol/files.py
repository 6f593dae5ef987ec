"""Opening input files and writing output files: the one place that touches paths for either.

Inputs (:func:`open_input`, :func:`read_input`): only regular files are read. A FIFO, a device
or a socket is refused before a single byte is read (reading one would hang or never end), as
are symbolic-link loops, dangling links, directories where a file is expected and unreadable
files: each is an :class:`~autodeploy_netpol.errors.InputError` (exit 2) naming the path. Every
file opened is remembered by device and inode for the rest of the run.

Outputs (:func:`write_output`): the text is masked (:func:`~autodeploy_netpol.masking.mask`),
written to a temporary file in the target's directory and renamed over the target, so a reader
never sees half a report and a failed write leaves the old file whole. An output that is an input
of the run — the same file by device and inode, so also through a symbolic or hard link — is
refused, as is a FIFO, a device or a directory.

A run (one command) starts with :func:`start_run`, which forgets the previous run's inputs, and
declares its input paths with :func:`declare_inputs` so that a clash is refused before any work.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable

from .errors import InputError, Location
from .masking import encodable, mask

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import BinaryIO

STDIN = "-"
#: How standard input is named in messages and reports.
STDIN_NAME = "<stdin>"


def input_name(path: str) -> str:
    """``path`` as messages name it (``-`` is standard input)."""
    return STDIN_NAME if path == STDIN else path

# (device, inode) → the path it was read or declared under, for messages.
_inputs: dict[tuple[int, int], str] = {}


def start_run() -> None:
    """Forget the inputs of an earlier run in this process."""
    _inputs.clear()


def _remember(status: os.stat_result, path: str) -> None:
    _inputs.setdefault((status.st_dev, status.st_ino), path)


def declare_inputs(paths: Iterable[str | None]) -> None:
    """Record the paths a run will read (files and directories; ``-`` and ``None`` are skipped).

    Paths that do not exist (yet) are skipped here: reading them reports the problem.
    """
    for path in paths:
        if not path or path == STDIN:
            continue
        try:
            status = os.stat(path)
        except (OSError, ValueError):
            continue
        _remember(status, path)


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for messages; ``None`` for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def path_error(path: str, exc: OSError, *, what: str = "file", writing: bool = False) -> InputError:
    """An :class:`InputError` naming ``path`` for an ``OSError`` met opening, reading or listing it."""
    location = Location(path)
    code = exc.errno
    if code == errno.ELOOP:
        return InputError(
            f"cannot {'write' if writing else 'read'} {what}: too many levels of symbolic links "
            "(a symbolic-link loop)",
            location=location,
            hint="fix the symbolic link so that it ends at a real file",
        )
    if code == errno.ENOENT:
        if os.path.islink(path):
            return InputError(
                f"{what} is a symbolic link to {os.readlink(path)!r}, which does not exist",
                location=location,
                hint="fix or remove the dangling link",
            )
        return InputError("no such file or directory", location=location, hint="check the path")
    if code == errno.EACCES or code == errno.EPERM:
        return InputError(
            f"permission denied {'writing' if writing else 'reading'} {what}",
            location=location,
            hint="check the permissions of the file and of the directories above it",
        )
    if code == errno.EISDIR:
        return InputError(f"{what} is a directory, not a file", location=location)
    if code == errno.ENOTDIR:
        return InputError(f"a part of the path of this {what} is not a directory", location=location)
    if code == errno.ENAMETOOLONG:
        return InputError("the path is too long", location=location)
    verb = "write" if writing else "read"
    return InputError(f"cannot {verb} {what}: {exc.strerror or exc}", location=location)


def open_input(path: str, *, what: str = "file", stdin: bool = False) -> BinaryIO:
    """Open a regular file for reading (binary); refuse anything else with exit 2 naming the path.

    ``stdin``: the option also takes ``-`` (standard input), which the hint for a pipe then offers.

    The file is opened without blocking, so a FIFO with no writer cannot hang the run, and its type
    is checked on the open descriptor, so a path swapped after a check cannot slip through.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise path_error(path, exc, what=what) from None
    except ValueError:  # an embedded NUL byte
        raise InputError(f"the {what} path contains a NUL byte", location=Location(repr(path))) from None
    try:
        status = os.fstat(descriptor)
        kind = _kind(status.st_mode)
        if kind is not None:
            raise InputError(
                f"{what} is {kind}, not a regular file",
                location=Location(path),
                hint="give a file" if kind == "a directory" else _not_regular_hint(what, stdin),
            )
        os.set_blocking(descriptor, True)
        _remember(status, path)
        return os.fdopen(descriptor, "rb", buffering=1 << 20)
    except BaseException:
        os.close(descriptor)
        raise


def _not_regular_hint(what: str, stdin: bool) -> str:
    if stdin:
        return "give a regular file; to read a pipe, pass - and redirect it to standard input"
    return f"give a regular file: save what the pipe or device holds to a file and pass that as the {what}"


def read_input(
    path: str, *, max_bytes: int, what: str = "file", limit_hint: str = "", stdin: bool = False
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; larger files are refused before reading.

    ``stdin``: as for :func:`open_input`.
    """
    with open_input(path, what=what, stdin=stdin) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise _too_big(path, f"{what} is {size:,} bytes", max_bytes, limit_hint)
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise path_error(path, exc, what=what) from None
    if len(data) > max_bytes:  # grew while being read
        raise _too_big(path, f"{what} is over", max_bytes, limit_hint)
    return data


def read_stream(stream: BinaryIO, name: str, *, max_bytes: int, limit_hint: str = "") -> bytes:
    """At most ``max_bytes`` from an open stream (standard input); more is refused."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_big(name, "the input is over", max_bytes, limit_hint)
    return data


def _too_big(path: str, head: str, max_bytes: int, limit_hint: str) -> InputError:
    if head.endswith("over"):
        message = f"{head} the {max_bytes:,}-byte limit"
    else:
        message = f"{head}, over the {max_bytes:,}-byte limit"
    return InputError(message, location=Location(path), hint=limit_hint or "split the input")


def directory_entries(path: str, *, what: str = "directory") -> list[str]:
    """The names in a directory, sorted; an unreadable directory is an error naming it."""
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        raise path_error(path, exc, what=what) from None


def check_output(path: str, *, what: str = "report") -> os.stat_result | None:
    """Refuse an output path before any work: an input of the run (declared or read so far), a FIFO,
    a device or a directory. Returns the existing file's status, ``None`` when it does not exist."""
    location = Location(path)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None  # a new file (or a dangling link: the file it names is created)
    except OSError as exc:
        raise path_error(path, exc, what=f"{what} file", writing=True) from None
    except ValueError:
        raise InputError(f"the {what} path contains a NUL byte", location=Location(repr(path))) from None
    kind = _kind(status.st_mode)
    if kind is not None:
        raise InputError(
            f"cannot write the {what} here: the path is {kind}, not a regular file",
            location=location,
            hint="name a regular file (the report is printed on standard output anyway)"
            if kind != "a directory"
            else "name a file, not a directory",
        )
    source = _inputs.get((status.st_dev, status.st_ino))
    if source is not None:
        same = "" if os.path.abspath(source) == os.path.abspath(path) else f" ({source}, the same file)"
        raise InputError(
            f"refusing to write the {what} over an input of this run{same}",
            location=location,
            hint="inputs are never rewritten; write the output to a new file",
        )
    return status


def write_output(path: str, text: str, *, what: str = "report") -> None:
    """Write ``text`` (masked) to ``path`` atomically; refuse inputs of the run and non-regular files."""
    status = check_output(path, what=what)
    target = os.path.realpath(path)
    directory = os.path.dirname(target) or "."
    import tempfile  # here: only a command that writes a file needs it (start-up, bench/startup.py)

    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
    except OSError as exc:
        raise path_error(directory, exc, what=f"directory of the {what}", writing=True) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(encodable(mask(text)).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(status.st_mode) if status is not None else 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as exc:
        _remove_quietly(temporary)
        raise path_error(path, exc, what=f"{what} file", writing=True) from None
    except BaseException:
        _remove_quietly(temporary)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _remove_quietly(path: str) -> None:
    try:  # noqa: SIM105 - contextlib.suppress would import contextlib at every start
        os.unlink(path)
    except OSError:
        pass
