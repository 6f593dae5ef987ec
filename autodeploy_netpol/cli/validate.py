"""``autodeploy-netpol validate``."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from ..errors import ExitCode, InputError, Location, Severity
from ..runs.validate import run_validate
from .common import format_option, handle_errors, output_target, write_output
from .options import values_argument, values_path

#: ``--output`` formats of validate, and the file endings that name them.
OUTPUT_FORMATS = ("json", "text", "codequality")
OUTPUT_SUFFIXES = {".json": "json", ".txt": "text"}


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol validate
  autodeploy-netpol validate .gitlab/auto-deploy-values.yaml --format json
  autodeploy-netpol validate -o codequality:gl-code-quality-report.json   # GitLab's MR widget
"""
)
@values_argument
@format_option
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="[FORMAT:]FILE",
    help="Also write the problems to FILE: json (.json), text (.txt), or codequality:FILE, GitLab's Code "
    "Quality report (artifacts:reports:codequality: paths relative to $CI_PROJECT_DIR). Repeatable.",
)
@handle_errors
def validate(values: str | None, output_format: str, outputs: tuple[str, ...]) -> int:
    """Validate the networkPolicy / ciliumNetworkPolicy blocks of a values file.

    VALUES defaults to ${HELM_UPGRADE_VALUES_FILE:-.gitlab/auto-deploy-values.yaml}; a missing
    default file means "no network policy configured". Every problem is listed with
    file:line:column. Exit 0 when valid, 2 when not.
    """
    path = values_path(values)
    targets = [output_target(text, OUTPUT_FORMATS, OUTPUT_SUFFIXES) for text in outputs]
    try:
        run = run_validate(path)
    except InputError as error:
        document = _unreadable(error, path.path)
        _write_outputs(targets, document)
        if output_format != "json":
            raise
        # A file that cannot be read is still a finding: JSON consumers get a document, not silence.
        click.echo(json.dumps(document, indent=2))
        return ExitCode.INPUT
    values_file, problems, errors = run.values_file, run.problems, run.errors
    document = {
        "file": values_file.path,
        "found": values_file.exists,
        "valid": not errors,
        "problems": [p.to_dict() for p in problems],
    }
    _write_outputs(targets, document)
    if output_format == "json":
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


def _write_outputs(targets: list[tuple[str, str]], document: dict[str, Any]) -> None:
    for output_format, path in targets:
        if output_format == "json":
            text = json.dumps(document, indent=2) + "\n"
        elif output_format == "codequality":
            from ..report.codequality import SEVERITY_OF, Issue, render_codequality

            text = render_codequality(
                Issue(
                    description=(f"{problem['path']}: " if problem.get("path") else "")
                    + problem["message"]
                    + (f" (hint: {problem['hint']})" if problem.get("hint") else ""),
                    check="validate",
                    severity=SEVERITY_OF.get(problem["severity"], "major"),
                    path=problem["file"],
                    line=problem["line"],
                    identity=f"{problem.get('path')}\0{problem['message']}",
                )
                for problem in document["problems"]
            )
        else:
            text = "".join(
                f"{problem['file']}:{problem['line']}:{problem['column']}: {problem['severity']}: "
                f"{problem.get('path') or ''}: {problem['message']}\n"
                for problem in document["problems"]
            )
        write_output(path, text)


def _unreadable(error: InputError, values: str) -> dict[str, Any]:
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
