"""``autodeploy-netpol connectivity PATH...``: who can reach whom under the policies in PATHs."""

from __future__ import annotations

import click

from ..errors import ExitCode
from ..policy.analysis import analyse
from ..report.connectivity import FORMATS, render_connectivity
from ..sources.yamlio import cycle_collector_paused
from .cluster_options import CLUSTER_OPTION_NAMES
from .common import handle_errors
from .connectivity_input import cluster_source_options, load

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
    **cluster: object,
) -> int:
    """Allowed connections between workloads (and address ranges) under the policies found in PATHs."""
    # thousands of parsed manifests and compiled policies, none in a cycle: see cycle_collector_paused
    with cycle_collector_paused():
        model, snapshot = load(
            paths, namespace, all_namespaces, {k: cluster[k] for k in CLUSTER_OPTION_NAMES}
        )
        result = analyse(model).merged()
    result.notes = [*snapshot.notes, *result.notes]
    click.echo(render_connectivity(result, output_format), nl=False)
    return ExitCode.OK
