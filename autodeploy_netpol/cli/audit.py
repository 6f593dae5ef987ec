"""``autodeploy-netpol audit``: which recorded flows the policies after the deploy would drop."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click

from ..checks.audit import Audit, PolicyReachability, after_deploy
from ..desired.compute import compute_desired
from ..desired.values import read_values
from ..errors import ClusterError, ExitCode, InputError, Location
from ..report.audit import to_json, to_markdown, to_text, verdict
from ..report.json_report import render_json
from ..sources.cluster import ClusterReader
from ..sources.flows import ReadStats, read_flows
from ..sources.yamlio import load_documents
from .cluster_options import cluster_options, reader_from_options
from .common import handle_errors
from .options import context_from_options, deploy_context_options, values_argument


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
  3 the cluster could not be read.
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
    type=click.Path(exists=True),
    help="The objects the deploy puts in place (`render` output or `helm template`, YAML or JSON), "
    "instead of computing them from VALUES.",
)
@click.option(
    "--live",
    metavar="PATH",
    type=click.Path(exists=True),
    help="Read the cluster's state from a snapshot instead of the cluster: a YAML/JSON file or a directory "
    "of them (kubectl get networkpolicies,ciliumnetworkpolicies,namespaces,deployments -o yaml).",
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
    deploy = context_from_options(**options, require_namespace=True)
    namespace = deploy.namespace or ""
    notes: list[str] = []
    if desired:
        desired_objects = load_objects(desired)
    else:
        computed = compute_desired(read_values(values), deploy)
        desired_objects = computed.objects
        notes += [str(warning) for warning in computed.warnings]
    if live:
        live_objects = load_objects(live)
    elif no_live:
        live_objects = []
        notes.append("--no-live: the cluster is taken to have no policy besides the desired ones")
    else:
        with reader_from_options(kubeconfig, context, request_timeout, page_size) as reader:
            live_objects = read_cluster(reader, None if all_namespaces else namespace, notes)
    before = PolicyReachability.from_objects(live_objects)
    planned = after_deploy(
        desired_objects, live_objects, namespace=namespace, helm_release=deploy.helm_release
    )
    after = PolicyReachability.from_objects(planned.objects)
    notes += planned.notes
    stats = ReadStats()
    run = Audit(before, after)
    run.run(read_flows(flow_files, stats))
    result = run.result(stats, [*notes, *after.notes()])
    renderers = {
        "json": lambda: render_json(to_json(result, max_dropped)),
        "markdown": lambda: to_markdown(result, max_dropped),
        "text": lambda: to_text(result, max_dropped),
    }
    for path in outputs:
        _write(path, renderers[OUTPUT_SUFFIXES.get(os.path.splitext(path)[1].lower(), "text")]())
    click.echo(renderers[output_format](), nl=False)
    return ExitCode.OK if verdict(result, max_dropped) else ExitCode.FINDINGS


OUTPUT_SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write report: {exc.strerror or exc}", location=Location(path)) from exc


def read_cluster(reader: ClusterReader, namespace: str | None, notes: list[str]) -> list[dict[str, Any]]:
    """Policies of ``namespace`` (``None``: all), plus what helps the engine when RBAC allows it.

    Policies are required (exit 3 when they cannot be read). Namespaces (their labels),
    CiliumClusterwideNetworkPolicies and workloads (named ports) are read when the role allows;
    otherwise a note says so and the recording's namespace labels stand in.
    """
    state = reader.policies(namespace)
    objects = list(state.objects)
    notes.extend(state.notes)
    optional = (
        ("namespaces", reader.namespaces),
        ("CiliumClusterwideNetworkPolicies", reader.clusterwide_policies),
        ("workloads", lambda: reader.workloads(namespace)),
    )
    for what, read in optional:
        try:
            extra = read()
        except ClusterError as exc:
            notes.append(f"{what} not read from the cluster ({exc.message}); evaluated without them")
            continue
        objects.extend(extra.objects)
        notes.extend(extra.notes)
    return objects


def load_objects(path: str) -> list[dict[str, Any]]:
    """Every object in a YAML/JSON file (or the .yaml/.yml/.json files of a directory, in name
    order): documents, and the items of ``kind: List`` documents.

    All kinds are kept: Namespaces give namespace labels and workloads give named ports to the
    connectivity engine.
    """
    if os.path.isdir(path):
        files = sorted(name for name in os.listdir(path) if name.endswith((".yaml", ".yml", ".json")))
        if not files:
            raise InputError("the directory holds no .yaml, .yml or .json file", location=Location(path))
        return [obj for name in files for obj in load_objects(os.path.join(path, name))]
    objects: list[dict[str, Any]] = []
    for document in load_documents(path):
        data = document.data
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise InputError("expected a Kubernetes object or a List", location=document.locate(()))
        items = data.get("items") if "items" in data else [data]
        if not isinstance(items, list):
            raise InputError("'items' must be a list", location=document.locate(("items",)))
        kind = str(data.get("kind", ""))
        item_kind = kind[: -len("List")] if kind.endswith("List") and kind != "List" else ""
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or not (item.get("kind") or item_kind):
                where = document.locate(("items", index)) if "items" in data else Location(path)
                raise InputError("an object without 'kind'", location=where)
            objects.append({"kind": item_kind, **item} if item_kind and "kind" not in item else dict(item))
    return objects
