"""The ``autodeploy-netpol`` command line.

The console script is :func:`run`. The plain forms of ``validate`` and ``render`` - what a
pipeline runs on every push - are parsed and run by :mod:`.fast` without importing click (its
import costs more than their work, bench/peers.py); every other command line, ``--help`` and
every usage error included, goes to the click group :data:`main` (in :mod:`.group`, imported on
first use: ``from autodeploy_netpol.cli import main`` works as before).

Each sub-command lives in its own module and is imported only when it runs, so that
``validate`` and ``render`` never pay for the Kubernetes client, the Helm engine or
python-gitlab (tests/acceptance/test_values_imports.py guards this).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

    import click

#: command name → "module:attribute"; the module is imported on first use.
COMMANDS: dict[str, str] = {
    "comment": "autodeploy_netpol.cli.comment:comment",
    "overlay": "autodeploy_netpol.cli.overlay:overlay",
    "validate": "autodeploy_netpol.cli.validate:validate",
    "rbac": "autodeploy_netpol.cli.rbac:rbac",
    "suggest": "autodeploy_netpol.cli.suggest:suggest",
    "render": "autodeploy_netpol.cli.render:render",
    "drift": "autodeploy_netpol.cli.drift:drift",
    "audit": "autodeploy_netpol.cli.audit:audit",
    "connectivity": "autodeploy_netpol.cli.connectivity:command",
    "diff": "autodeploy_netpol.cli.connectivity_diff:command",
    "explain": "autodeploy_netpol.cli.explain:command",
    "lint": "autodeploy_netpol.cli.lint:command",
}


def run() -> None:
    """The ``autodeploy-netpol`` console script (and ``python -m autodeploy_netpol``)."""
    import gc
    import sys

    from ..sources.collector import cycle_collector_paused

    command: Callable[[], object]
    with cycle_collector_paused():  # start-up builds long-lived objects only
        from .fast import fast_command

        fast = fast_command(sys.argv[1:])
        if fast is not None:
            command = fast
        else:
            from .group import main as command
    try:
        command()  # exits with the command's code
    finally:
        # The interpreter's last cycle collection, at exit, would walk every object still alive
        # (~6 ms of a 60 ms validate, more after a drift) only for the process to end: frozen
        # objects are left to the operating system. Whatever the tool writes is closed by its
        # `with` blocks, and the interpreter still flushes standard output and error.
        gc.freeze()


def __getattr__(name: str) -> click.Group:
    """``main``: the click group, imported on first use."""
    if name == "main":
        from .group import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
