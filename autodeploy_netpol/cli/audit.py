"""``autodeploy-netpol audit``: which recorded flows the policies after the deploy would drop."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from ..audit.evaluate import Audit, PolicyReachability, objects_after_deploy
from ..audit.flows import ReadStats, read_flows
from ..audit.report import to_json, to_markdown, to_text, verdict
from ..desired import compute_desired
from ..errors import ExitCode, InputError, Location
from ..values import read_values
from ..yamlio import load_documents
from .common import handle_errors
from .options import context_from_options, deploy_context_options, values_argument


@click.command(
    epilog="""\b
Examples:
  hubble observe --since 24h -o jsonpb > flows.json
  autodeploy-netpol audit --flows flows.json --live snapshot.yaml \\
      --release production --namespace shop-42-production
  autodeploy-netpol audit .gitlab/auto-deploy-values.yaml --flows flows.json.gz --flows extra.csv \\
      --live snapshot/ -n shop-42-production -r production --format markdown --max-dropped 10
  autodeploy-netpol audit --flows flows.json --desired rendered.yaml --live snapshot.yaml -n shop -r prod

\b
Flow files: Hubble JSON (`hubble observe -o json|jsonpb`, one flow per line) or CSV
  src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port[,time[,verdict]]
  with labels as k=v;k=v (see the README, "Audit mode"); gzip is recognised; - is stdin.
Exit codes: 0 nothing beyond --max-dropped would be dropped, 1 it would, 2 input error.
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
    help="Snapshot of the cluster now (kubectl get networkpolicies,ciliumnetworkpolicies,namespaces,"
    "deployments -o yaml; a file or a directory). Without it the cluster is taken to have no other policy.",
)
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
    output_format: str,
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
    context = context_from_options(**options, require_namespace=True)
    namespace = context.namespace or ""
    notes: list[str] = []
    if desired:
        desired_objects = load_objects(desired)
    else:
        computed = compute_desired(read_values(values), context)
        desired_objects = computed.objects
        notes += [str(warning) for warning in computed.warnings]
    live_objects = load_objects(live) if live else []
    if not live:
        notes.append("no --live snapshot: the cluster is taken to have no other policy")
    before = PolicyReachability.from_objects(live_objects)
    after = PolicyReachability.from_objects(
        objects_after_deploy(
            desired_objects, live_objects, namespace=namespace, helm_release=context.helm_release
        )
    )
    stats = ReadStats()
    run = Audit(before, after)
    run.run(read_flows(flow_files, stats))
    result = run.result(stats, [*notes, *after.notes()])
    if output_format == "json":
        click.echo(json.dumps(to_json(result, max_dropped), indent=2))
    elif output_format == "markdown":
        click.echo(to_markdown(result, max_dropped), nl=False)
    else:
        click.echo(to_text(result, max_dropped), nl=False)
    return ExitCode.OK if verdict(result, max_dropped) else ExitCode.FINDINGS


def load_objects(path: str) -> list[dict[str, Any]]:
    """Every object in a YAML/JSON file: documents, and the items of ``kind: List`` documents.

    All kinds are kept: Namespaces give namespace labels and workloads give named ports to the
    connectivity engine.
    """
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
