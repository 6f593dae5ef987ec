"""``autodeploy-netpol connectivity PATH...``: who can reach whom under the policies in PATHs."""

from __future__ import annotations

from typing import Any

import click

from ..report.connectivity import FORMATS, partial_caveat, render_connectivity
from ..runs.connectivity import run_connectivity
from .cluster_options import cluster_source_options, object_source_from_options
from .common import handle_errors

EPILOG = """
\b
Examples:
  autodeploy-netpol connectivity snapshot/                 # kubectl get -o yaml output, one file per kind
  autodeploy-netpol connectivity policies.yaml pods.yaml --format json
  kubectl get ns,pods,deploy,netpol -A -o yaml | autodeploy-netpol connectivity - --format markdown

\b
PATH is a YAML/JSON file, a directory of them, or - (standard input): Namespaces, Pods,
Deployments/StatefulSets/DaemonSets/ReplicaSets/Jobs/CronJobs, NetworkPolicies and
CiliumNetworkPolicies (L3/L4). Lines read 'src => dst : TCP 8080'; a workload is named by
its controller, external peers by address range. Cilium L7 rules, toFQDNs and the like are
listed as "not modelled".
"""


@click.command("connectivity", epilog=EPILOG)
@click.argument("paths", nargs=-1, required=False, metavar="[PATH]...")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@cluster_source_options
@handle_errors
def command(
    paths: tuple[str, ...],
    namespace: str | None,
    all_namespaces: bool,
    output_format: str,
    **cluster: Any,
) -> int:
    """Allowed connections between workloads (and address ranges) under the policies found in PATHs."""
    run = run_connectivity(object_source_from_options(paths, namespace, all_namespaces, cluster))
    click.echo(render_connectivity(run.connections, output_format, run.unread), nl=False)
    caveat = partial_caveat(run.unread)
    if caveat and output_format == "csv":
        click.echo(f"warning: {caveat}", err=True)
    return run.exit_code
