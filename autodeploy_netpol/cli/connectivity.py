"""``autodeploy-netpol connectivity PATH...``: who can reach whom under the policies in PATHs."""

from __future__ import annotations

from typing import Any

import click

from ..report.connectivity import FORMATS, partial_caveat, render_connectivity, side_notes
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
PATH is a YAML/JSON file, a directory of them (read recursively), or - (standard input):
Namespaces, Pods, Deployments/StatefulSets/DaemonSets/ReplicaSets/ReplicationControllers/
Jobs/CronJobs, KubeVirt VirtualMachines, NetworkPolicies, CiliumNetworkPolicies (L3/L4), the
cluster-scoped tiers (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) and
OVN-Kubernetes primary user-defined networks. Lines read 'src => dst : TCP 8080'; a workload is
named by its controller (ns/web[pods with version=v2] when its pods differ), external peers by
address range. Every kind and policy part that is not modelled is listed as such; input the API
server would reject is an error (exit 2) when the result depends on it, else a warning.
With PATHs, --namespace is the namespace of objects that name none (default: default).
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
    if output_format == "csv":  # CSV holds rows only: what else the report says goes to standard error
        caveat = partial_caveat(run.unread)
        if caveat:
            click.echo(f"warning: {caveat}", err=True)
        for line in side_notes(run.connections):
            click.echo(line, err=True)
    return run.exit_code
