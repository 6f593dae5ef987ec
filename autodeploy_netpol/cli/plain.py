"""The bodies of ``validate`` and ``render``, free of click.

The click commands (cli/validate.py, cli/render.py) and the click-free start (cli/fast.py) both
run these, so both print the same bytes and exit with the same codes. Each returns the exit code;
:func:`~.common.handle_errors` maps errors to theirs.
"""

from __future__ import annotations

import os

from ..errors import ExitCode, InputError, Location, Severity
from ..limits import DEFAULT_MAX_PAGES, DEFAULT_READ_DEADLINE
from .common import FINDINGS_FORMATS, echo, env_default, output_target, write_output
from .fast import RENDER_FORMATS
from .options import context_from_options, delivery_from_options, shape_request, values_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def validate(
    values: str | None,
    output_format: str = FINDINGS_FORMATS[0],
    image_version: str | None = None,
    chart_version: str | None = None,
    overlays: bool | None = None,
    no_handoff: bool = False,
    chart_dir: str | None = None,
    *,
    outputs: tuple[str, ...] = (),
) -> int:
    """``autodeploy-netpol validate`` (see its --help); ``outputs``: its ``-o [FORMAT:]FILE``."""
    from ..runs.validate import run_validate  # here: each command imports only what it runs

    path = values_path(values)
    targets = [output_target(text, VALIDATE_OUTPUT_FORMATS, VALIDATE_OUTPUT_SUFFIXES) for text in outputs]
    request = shape_request(image_version=image_version, chart_version=chart_version, chart_dir=chart_dir)
    delivery = delivery_from_options(overlays=overlays, no_handoff=no_handoff)
    if targets:
        from .. import files

        files.declare_inputs([path.path, chart_dir])
        for _, target in targets:  # before any work: an output may not be an input, a FIFO or a device
            files.check_output(target)
    try:
        run = run_validate(path, request, delivery)
    except InputError as error:
        unreadable = _unreadable(error, path.path)
        _write_outputs(targets, unreadable)
        if output_format != "json":
            raise
        # A file that cannot be read is still a finding: JSON consumers get a document, not silence.
        import json

        echo(json.dumps(unreadable, indent=2))
        return ExitCode.INPUT
    values_file, problems, errors = run.values_file, run.problems, run.errors
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
    _write_outputs(targets, document)
    if output_format == "json":
        import json  # here: only --format json needs it (start-up)

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


#: ``--output`` formats of validate, and the file endings that name them.
VALIDATE_OUTPUT_FORMATS = ("json", "text", "codequality")
VALIDATE_OUTPUT_SUFFIXES = {".json": "json", ".txt": "text"}


def _write_outputs(targets: list[tuple[str, str]], document: dict[str, Any]) -> None:
    """The ``-o`` files: the JSON document, the problems as text lines, or a Code Quality report."""
    for output_format, path in targets:
        if output_format == "json":
            import json

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


def render(
    values: str | None,
    values_out: str | None = None,
    output_format: str = RENDER_FORMATS[0],
    chart_dir: str | None = None,
    engine: str | None = None,
    api_versions: tuple[str, ...] = (),
    kube_version: str | None = None,
    *,
    detect: bool = False,
    live_paths: tuple[str, ...] = (),
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
    request_timeout: float = 30.0,
    page_size: int = 500,
    read_deadline: float = DEFAULT_READ_DEADLINE,
    max_pages: int = DEFAULT_MAX_PAGES,
    **options: str | bool | None,
) -> int:
    """``autodeploy-netpol render`` (see its --help); ``options``: those of
    :func:`~.options.deploy_context_options`. ``detect``/``live_paths`` and the cluster options:
    where the ingress and monitoring namespaces are detected (nowhere by default)."""
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

    live = None
    if live_paths or detect or kubeconfig or context or in_cluster:
        from ..runs.inputs import LiveInput  # the cluster reader: only for a render that detects
    if live_paths:
        live = LiveInput(snapshot=tuple(live_paths))
    elif detect or kubeconfig or context or in_cluster:
        from .cluster_options import access_from_options

        live = LiveInput(
            cluster=access_from_options(
                kubeconfig,
                context,
                request_timeout,
                page_size,
                in_cluster=in_cluster,
                read_deadline=read_deadline,
                max_pages=max_pages,
            )
        )
    deploy = context_from_options(**options, chart_dir=chart_dir)  # type: ignore[arg-type]
    request = RenderRequest(values_path(values), deploy, chart, detect=live)
    files.declare_inputs([request.values.path, chart_dir, kubeconfig, *live_paths])
    if values_out:
        files.check_output(values_out, what="merged values file")  # before any work
    run = run_render(request)
    for note in (*run.notes, *run.desired.notes):
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
