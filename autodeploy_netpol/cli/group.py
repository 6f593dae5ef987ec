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

    def invoke(self, ctx: click.Context) -> Any:
        # Commands map their own errors (common.handle_errors); this catches what escapes before a
        # command body runs (an option callback, a lazy import), with the same exit code 70.
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            raise
        except Exception as error:
            from .common import masked_output, report_internal_error

            with masked_output():
                code = report_internal_error(error)
            ctx.exit(code)

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
@click.option(
    "--debug",
    is_flag=True,
    help="Print the traceback of an unexpected error (exit code 70); also NETPOL_DEBUG=1.",
)
def main(debug: bool) -> None:
    """Kubernetes network policies for GitLab Auto DevOps.

    \b
    Reads the networkPolicy / ciliumNetworkPolicy blocks of .gitlab/auto-deploy-values.yaml,
    validates them, merges in a suggested policy (disabled by default), computes the objects
    the auto-deploy-app chart will create and reports drift against the cluster.

    \b
    Exit codes: 0 ok, 1 findings/drift, 2 input or usage error,
                3 cluster or GitLab access error, 4 override conflict,
                5 suggest --from-flows: the learned policy fails its proof,
                70 internal error (a bug: rerun with --debug for the traceback).
    """
