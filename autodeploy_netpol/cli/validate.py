"""``autodeploy-netpol validate`` (the body: cli/plain.py)."""

from __future__ import annotations

import click

from . import plain
from .common import format_option, handle_errors
from .options import values_argument


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol validate
  autodeploy-netpol validate .gitlab/auto-deploy-values.yaml --format json
"""
)
@values_argument
@format_option
@handle_errors
def validate(values: str | None, output_format: str) -> int:
    """Validate the networkPolicy / ciliumNetworkPolicy blocks of a values file.

    VALUES defaults to ${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}; a missing
    default file means "no network policy configured". Every problem is listed with
    file:line:column. Exit 0 when valid, 2 when not.
    """
    return plain.validate(values, output_format)
