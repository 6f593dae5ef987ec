"""``validate`` and ``render`` in their plain forms, started without click.

A pipeline runs these two on every push, and importing click (with what it pulls in) costs more
than their work (bench/peers.py). :func:`fast_command` reads a command line that is plainly one
of them - options of the table below, each at most once, a valid choice, at most one VALUES
that is not a directory - and returns the command, ready to run the same body the click command
runs (cli/plain.py). Anything else - ``--help``, ``--version``, an unknown, repeated or
abbreviated option, a missing value, a value that starts with ``-``, an invalid choice, ``--``,
``--chart`` and its options, shell completion, a set variable that click reads into an option the
table leaves to click (:data:`ENV_OPTIONS`: click checks its value even where the run does not use
it) - returns ``None``: click then parses the line, so every usage error, message and exit code
stays click's.

The table names each option of the click commands that it accepts; tests/unit/test_cli_fast.py
checks it against the click commands (names, flags, choices, defaults) and that both read the
same arguments from generated command lines.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping

from ..kube.releases import STABLE, TRACKS
from .common import FINDINGS_FORMATS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import NoReturn

#: ``--format`` of ``render`` (its click option in cli/render.py takes these).
RENDER_FORMATS = ("yaml", "json")


class Spec:
    """What a plain form of a command may hold."""

    __slots__ = ("defaults", "flags", "options")

    def __init__(
        self,
        options: Mapping[str, tuple[str, tuple[str, ...] | None]],
        flags: Mapping[str, tuple[str, bool]],
        defaults: Mapping[str, object],
    ) -> None:
        #: option as written → (keyword argument, its choices or ``None`` for any value)
        self.options = options
        #: flag as written → (keyword argument, its value when given)
        self.flags = flags
        #: every keyword argument the body receives, with its default
        self.defaults = defaults


_RELEASE = ("release", None)
_NAMESPACE = ("namespace", None)
#: chart_options (cli/options.py), which both commands have
_CHART_OPTIONS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "--image-version": ("image_version", None),
    "--chart-version": ("chart_version", None),
}
_CHART_FLAGS = {
    "--overlays": ("overlays", True),
    "--no-overlays": ("overlays", False),
    "--no-handoff": ("no_handoff", True),
}
_CHART_DEFAULTS = {"image_version": None, "chart_version": None, "overlays": None, "no_handoff": False}

SPECS: dict[str, Spec] = {
    "validate": Spec(
        {"--format": ("output_format", FINDINGS_FORMATS), **_CHART_OPTIONS},
        _CHART_FLAGS,
        {"values": None, "output_format": FINDINGS_FORMATS[0], **_CHART_DEFAULTS},
    ),
    "render": Spec(
        {
            "--release": _RELEASE,
            "-r": _RELEASE,
            "--namespace": _NAMESPACE,
            "-n": _NAMESPACE,
            "--track": ("track", TRACKS),
            "--ingress-namespace": ("ingress_namespace", None),
            "--monitoring-namespace": ("monitoring_namespace", None),
            "--project-id": ("project_id", None),
            "--values-out": ("values_out", None),
            "--format": ("output_format", RENDER_FORMATS),
            **_CHART_OPTIONS,
        },
        {"--no-suggest": ("no_suggest", True), **_CHART_FLAGS},
        {
            "values": None,
            "release": None,
            "namespace": None,
            "track": STABLE,
            "ingress_namespace": None,
            "monitoring_namespace": None,
            "project_id": None,
            "no_suggest": False,
            "values_out": None,
            "output_format": RENDER_FORMATS[0],
            **_CHART_DEFAULTS,
        },
    ),
}

#: environment variables click reads into options of the command that the table leaves to click
#: (``envvar=`` of cli/cluster_options.py): when one is set, click parses the line, so that a value
#: it refuses is its usage error (exit 2) on both starts
ENV_OPTIONS: dict[str, tuple[str, ...]] = {
    "validate": (),
    "render": ("NETPOL_REQUEST_TIMEOUT", "NETPOL_READ_DEADLINE", "NETPOL_MAX_PAGES"),
}

#: keyword arguments that name a file (click.Path(dir_okay=False): click refuses a directory, and
#: a path it cannot read - os.access, readable=True by default - when the path exists)
_FILES = ("values", "values_out")


def parse(spec: Spec, args: list[str]) -> dict[str, object] | None:
    """The body's keyword arguments, or ``None`` when the line is not a plain form."""
    given: dict[str, object] = {}
    positional: list[str] = []
    rest = iter(args)
    for arg in rest:
        if not _plain(arg):
            return None
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        name, equals, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        value: object
        if name in spec.flags and not equals:
            key, value = spec.flags[name]
        elif name in spec.options:
            key, choices = spec.options[name]
            value = inline if equals else next(rest, None)
            if not isinstance(value, str) or not _plain(value) or value.startswith("-"):
                return None
            if choices is not None and value not in choices:
                return None
        else:
            return None
        if key in given:
            return None
        given[key] = value
    if len(positional) > 1:
        return None
    if positional:
        given["values"] = positional[0]
    if any(isinstance(given.get(key), str) and _refused_file(str(given[key])) for key in _FILES):
        return None
    return {**spec.defaults, **given}


def _refused_file(path: str) -> bool:
    """Whether click.Path(dir_okay=False) refuses ``path``: a directory, or a path it may not read."""
    try:
        status = os.stat(path)
    except OSError:  # as click: a path that cannot be looked at is the command's to report
        return False
    return stat.S_ISDIR(status.st_mode) or not os.access(path, os.R_OK)


def _plain(arg: str) -> bool:
    """Not empty, not ``-`` or ``--``, and printable as UTF-8 (no undecodable bytes)."""
    if arg in ("", "-", "--"):
        return False
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def fast_command(argv: list[str]) -> Callable[[], NoReturn] | None:
    """The command to run for ``argv`` (without the program name), or ``None``: use click."""
    if not argv or argv[0] not in SPECS or "_AUTODEPLOY_NETPOL_COMPLETE" in os.environ:
        return None
    if any(os.environ.get(name) for name in ENV_OPTIONS[argv[0]]):  # click ignores an empty one
        return None
    arguments = parse(SPECS[argv[0]], argv[1:])
    if arguments is None:
        return None
    from . import plain
    from .common import handle_errors

    body: Callable[..., int] = plain.validate if argv[0] == "validate" else plain.render

    def command() -> NoReturn:
        handle_errors(body)(**arguments)
        raise AssertionError("handle_errors exits")  # pragma: no cover

    return command
