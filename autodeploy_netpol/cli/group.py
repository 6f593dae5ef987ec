"""The click group of the ``autodeploy-netpol`` command line (``autodeploy_netpol.cli.main``).

Each sub-command lives in its own module (:data:`~autodeploy_netpol.cli.COMMANDS`) and is imported
only when it runs, so that ``validate`` and ``render`` never pay for the Kubernetes client, the
Helm engine or python-gitlab (see bench/).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from .. import __version__
from ..sources.collector import cycle_collector_paused
from . import COMMANDS


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attribute = COMMANDS[cmd_name].split(":")
            with cycle_collector_paused():  # an import builds long-lived objects only
                command: Any = getattr(importlib.import_module(module_name), attribute)
            return command  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="autodeploy-netpol")
def main() -> None:
    """Kubernetes network policies for GitLab Auto DevOps.

    \b
    Reads the networkPolicy / ciliumNetworkPolicy blocks of .gitlab/auto-deploy-values.yaml,
    validates them, merges in a suggested policy (disabled by default), computes the objects
    the auto-deploy-app chart will create and reports drift against the cluster.

    \b
    Exit codes: 0 ok, 1 findings/drift, 2 input or usage error,
                3 cluster or GitLab access error, 4 override conflict.
    """
