"""The bodies of ``validate`` and ``render``, free of click.

The click commands (cli/validate.py, cli/render.py) and the click-free start (cli/fast.py) both
run these, so both print the same bytes and exit with the same codes. Each returns the exit code;
:func:`~.common.handle_errors` maps errors to theirs.
"""

from __future__ import annotations

import os

from ..errors import ExitCode, InputError, Location, Severity
from .common import FINDINGS_FORMATS, echo, env_default
from .fast import RENDER_FORMATS
from .options import context_from_options, delivery_from_options, shape_request, values_path


def validate(
    values: str | None,
    output_format: str = FINDINGS_FORMATS[0],
    image_version: str | None = None,
    chart_version: str | None = None,
    overlays: bool | None = None,
    no_handoff: bool = False,
    chart_dir: str | None = None,
) -> int:
    """``autodeploy-netpol validate`` (see its --help)."""
    from ..runs.validate import run_validate  # here: each command imports only what it runs

    path = values_path(values)
    request = shape_request(image_version=image_version, chart_version=chart_version, chart_dir=chart_dir)
    delivery = delivery_from_options(overlays=overlays, no_handoff=no_handoff)
    try:
        run = run_validate(path, request, delivery)
    except InputError as error:
        if output_format != "json":
            raise
        # A file that cannot be read is still a finding: JSON consumers get a document, not silence.
        import json

        echo(json.dumps(_unreadable(error, path.path), indent=2))
        return ExitCode.INPUT
    values_file, problems, errors = run.values_file, run.problems, run.errors
    if output_format == "json":
        import json  # here: only --format json needs it (start-up)

        document = {
            "file": values_file.path,
            "found": values_file.exists,
            "valid": not errors,
            "problems": [p.to_dict() for p in problems],
            "chart": {
                "shape": run.choice.shape.id,
                "version": run.choice.chart_version,
                "source": run.choice.source,
                "notes": list(run.choice.notes),
            },
        }
        echo(json.dumps(document, indent=2))
    else:
        for note in run.choice.notes:
            echo(f"note: {note}", err=True)
        for problem in problems:
            echo(str(problem))
        if not values_file.exists:
            echo(f"{values_file.path}: not found — no network policy configured")
        elif errors:
            echo(f"{values_file.path}: {len(errors)} error{'s' if len(errors) != 1 else ''}")
        else:
            warned = len(problems)
            note = f" ({warned} warning{'s' if warned != 1 else ''})" if warned else ""
            echo(f"{values_file.path}: valid{note}")
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


def render(
    values: str | None,
    values_out: str | None = None,
    output_format: str = RENDER_FORMATS[0],
    chart_dir: str | None = None,
    engine: str | None = None,
    api_versions: tuple[str, ...] = (),
    kube_version: str | None = None,
    **options: str | bool | None,
) -> int:
    """``autodeploy-netpol render`` (see its --help); ``options``: those of
    :func:`~.options.deploy_context_options`."""
    from ..report.manifests import dump_stream
    from ..runs.render import HelmChart, RenderRequest, run_render

    chart = None
    if chart_dir is not None:
        chart = HelmChart(
            chart_dir,
            engine=engine,
            api_versions=api_versions,
            kube_version=kube_version,
            app=env_default("CI_PROJECT_PATH_SLUG"),
            env=env_default("CI_ENVIRONMENT_SLUG"),
        )
    from .. import files

    context = context_from_options(**options, chart_dir=chart_dir)  # type: ignore[arg-type]
    request = RenderRequest(values_path(values), context, chart)
    files.declare_inputs([request.values.path, chart_dir])
    if values_out:
        files.check_output(values_out, what="merged values file")  # before any work
    run = run_render(request)
    for note in run.desired.notes:
        echo(f"note: {note}", err=True)
    for warning in run.warnings:
        echo(warning, err=True)
    if values_out:
        _write_values(values_out, run.desired.merged_values, run.values_file, run.desired.notes)
    objects = run.objects
    if output_format == "json":
        import json

        echo(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2))
    elif objects:
        echo(dump_stream(objects), nl=False)
    if not objects:
        echo(
            "networkPolicy and ciliumNetworkPolicy are disabled: the deploy creates no policy objects",
            err=True,
        )
    return run.exit_code


def _write_values(
    path: str, merged: dict[str, object], source: str | None, notes: tuple[str, ...] = ()
) -> None:
    from .. import files
    from ..report.manifests import dump_yaml

    header = (
        "# Merged by autodeploy-netpol: the values file with networkPolicy/ciliumNetworkPolicy resolved.\n"
        + "".join(f"# {line}\n" for note in notes for line in note.splitlines())
    )
    # files.write_output refuses the input values file (also through a link): never rewritten;
    # the file is written atomically (a temporary file renamed over the target)
    files.write_output(path, header + dump_yaml(merged), what="merged values file")
