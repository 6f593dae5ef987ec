"""``autodeploy-netpol audit``: which recorded flows the policies after the deploy would drop."""

from __future__ import annotations

import os
from typing import Any

import click

from .. import files
from ..errors import InputError
from ..files import STDIN
from ..report.audit import to_json, to_markdown, to_text
from ..report.json_report import render_json
from ..runs.audit import AuditRequest, run_audit
from ..runs.inputs import LiveInput
from .cluster_options import access_from_options, cluster_options, namespace_from_options
from .common import handle_errors
from .options import context_from_options, deploy_context_options, values_argument, values_path


@click.command(
    epilog="""\b
Examples:
  hubble observe --since 24h -o jsonpb > flows.json
  autodeploy-netpol audit --flows flows.json -n shop-42-production -r production   # live state from the cluster
  autodeploy-netpol audit .gitlab/auto-deploy-values.yaml --flows flows.json.gz --flows extra.csv \\
      --live snapshot/ -n shop-42-production -r production --format markdown --max-dropped 10
  autodeploy-netpol audit --flows flows.json --desired rendered.yaml --live snapshot.yaml -n shop -r prod \\
      -o audit.json -o audit.md

\b
Flow files: Hubble JSON (`hubble observe -o json|jsonpb`, one flow per line) or CSV
  src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port[,time[,verdict]]
  with labels as k=v;k=v (see the README, "Audit mode"); gzip is recognised; - is stdin.
Live state: the cluster (--kubeconfig/--context; policies of the namespace, or all with -A),
  a snapshot (--live PATH), or nothing (--no-live).
Exit codes: 0 nothing beyond --max-dropped would be dropped, 1 it would, 2 input error,
  3 the cluster could not be read, 70 internal error (a bug; --debug prints the traceback).
"""
)
@click.option(
    "--flows",
    "flow_files",
    multiple=True,
    required=True,
    metavar="FILE",
    help="Recorded flows (Hubble JSON export or CSV, gzip accepted). Repeat for several files.",
)
@values_argument
@click.option(
    "--desired",
    metavar="PATH",
    type=click.Path(exists=True, allow_dash=True),
    help="The objects the deploy puts in place (`render` output or `helm template`, YAML or JSON; a file, "
    "a directory read recursively, or - for stdin), instead of computing them from VALUES.",
)
@click.option(
    "--live",
    metavar="PATH",
    type=click.Path(exists=True, allow_dash=True),
    help="Read the cluster's state from a snapshot instead of the cluster: a YAML/JSON file, a directory "
    "of them (read recursively) or - for stdin "
    "(kubectl get networkpolicies,ciliumnetworkpolicies,namespaces,deployments -o yaml).",
)
@click.option(
    "--no-live",
    is_flag=True,
    help="Neither cluster nor snapshot: take the cluster to have no policy besides the desired ones.",
)
@cluster_options
@deploy_context_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Report format; markdown is a section for the merge-request comment.",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="FILE",
    help="Also write the report to FILE, format from its ending (.json, .md, .txt). Repeat for several.",
)
@click.option(
    "--max-dropped",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="Tolerate up to N flows that would be dropped before exiting 1.",
)
@handle_errors
def audit(
    values: str | None,
    flow_files: tuple[str, ...],
    desired: str | None,
    live: str | None,
    no_live: bool,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: float,
    page_size: int,
    in_cluster: bool,
    read_deadline: float,
    max_pages: int,
    all_namespaces: bool,
    output_format: str,
    outputs: tuple[str, ...],
    max_dropped: int,
    **options: Any,
) -> int:
    """Check recorded flows against the policies the deploy would put in place.

    Each flow is evaluated against the policies in place now (the live state) and after the
    deploy (the desired objects, plus the live policies the deploy leaves alone). Flows the
    policies after the deploy deny "would be dropped"; flows denied now and allowed after are
    "newly allowed". Reply packets and packets of established TCP connections are not counted.
    """
    if values and desired:
        raise InputError(
            "give either VALUES or --desired, not both", hint="--desired replaces computing from VALUES"
        )
    if live and no_live:
        raise InputError("give either --live or --no-live, not both")
    if STDIN in flow_files and STDIN in (live, desired):
        raise InputError(
            "--flows - and --live/--desired - both name standard input",
            hint="write one of them to a file first",
        )
    files.declare_inputs([values, desired, live, kubeconfig, *flow_files])
    for path in outputs:  # before any work: an output may not be an input, a FIFO or a device
        files.check_output(path)
    access = access_from_options(
        kubeconfig,
        context,
        request_timeout,
        page_size,
        in_cluster=in_cluster,
        read_deadline=read_deadline,
        max_pages=max_pages,
    )
    reads_cluster = not live and not no_live
    options["namespace"] = namespace_from_options(options.get("namespace"), access if reads_cluster else None)
    request = AuditRequest(
        flow_files=flow_files,
        context=context_from_options(**options, require_namespace=True),
        live=None if no_live else LiveInput((live,) if live else (), access),
        values=values_path(values),
        desired_path=desired,
        all_namespaces=all_namespaces,
        max_dropped=max_dropped,
    )
    run = run_audit(request)
    result = run.result
    renderers = {
        "json": lambda: render_json(to_json(result, max_dropped)),
        "markdown": lambda: to_markdown(result, max_dropped),
        "text": lambda: to_text(result, max_dropped),
    }
    for path in outputs:
        files.write_output(path, renderers[OUTPUT_SUFFIXES.get(os.path.splitext(path)[1].lower(), "text")]())
    click.echo(renderers[output_format](), nl=False)
    return run.exit_code


OUTPUT_SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}
