"""``autodeploy-netpol validate``."""

from __future__ import annotations

import json
import os

import click

from ..errors import ExitCode, InputError, Location, Severity
from ..runs.validate import run_validate
from .common import format_option, handle_errors
from .options import values_argument, values_path


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
    path = values_path(values)
    try:
        run = run_validate(path)
    except InputError as error:
        if output_format != "json":
            raise
        # A file that cannot be read is still a finding: JSON consumers get a document, not silence.
        click.echo(json.dumps(_unreadable(error, path.path), indent=2))
        return ExitCode.INPUT
    values_file, problems, errors = run.values_file, run.problems, run.errors
    if output_format == "json":
        document = {
            "file": values_file.path,
            "found": values_file.exists,
            "valid": not errors,
            "problems": [p.to_dict() for p in problems],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        if not values_file.exists:
            click.echo(f"{values_file.path}: not found — no network policy configured")
        elif errors:
            click.echo(f"{values_file.path}: {len(errors)} error{'s' if len(errors) != 1 else ''}")
        else:
            warned = len(problems)
            note = f" ({warned} warning{'s' if warned != 1 else ''})" if warned else ""
            click.echo(f"{values_file.path}: valid{note}")
    return run.exit_code


def _unreadable(error: InputError, values: str) -> dict[str, object]:
    """The JSON document for a values file that could not be read (path: null, the file itself)."""
    location = error.location or Location(values)
    return {
        "file": location.file,
        "found": os.path.exists(location.file),
        "valid": False,
        "problems": [
            {
                "file": location.file,
                "line": location.line,
                "column": location.column,
                "path": None,
                "severity": Severity.ERROR,
                "message": error.message,
                "hint": error.hint,
            }
        ],
    }
