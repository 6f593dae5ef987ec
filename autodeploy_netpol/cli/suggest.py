"""``autodeploy-netpol suggest``: the suggested policy, or (``--from-flows``) one learned from traffic.

Plain ``suggest`` stays light: the flow reader, the learner, the connectivity engine and the
cluster client are imported only when ``--from-flows`` is given.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from ..desired.suggest import (
    DEFAULT_INGRESS_NAMESPACE,
    merged_block,
    splice_block,
    suggested_block,
    suggested_spec,
    suggestion_yaml,
)
from ..desired.validate import errors_only, validate_values
from ..desired.values import DEFAULT_VALUES_FILE
from ..errors import ExitCode, InputError, ValidationFailed
from ..kube.names import NETWORK_POLICY
from .cluster_options import cluster_access_options
from .common import env_default, handle_errors

#: Options that only mean something with --from-flows (name → flag as written).
_FLOW_ONLY = {
    "egress": "--egress",
    "live": "--live",
    "from_cluster": "--from-cluster",
    "cidr_prefix": "--cidr-prefix",
    "max_cidrs": "--max-cidrs",
    "merge_port_ranges": "--merge-port-ranges",
    "kubeconfig": "--kubeconfig",
    "context": "--context",
    "in_cluster": "--in-cluster",
}


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol suggest --release production
  autodeploy-netpol suggest --release production --ingress-namespace ingress-nginx
  # the values file has a networkPolicy block already: the whole file, the suggestion merged in
  autodeploy-netpol suggest -r production --values .gitlab/auto-deploy-values.yaml > values.new
  hubble observe --namespace shop-42-production --since 7d -o jsonpb > flows.json
  autodeploy-netpol suggest --from-flows flows.json -r production -n shop-42-production --egress
  autodeploy-netpol suggest --from-flows flows.json.gz --from-flows more.csv -r production --live snapshot/ --format json
  autodeploy-netpol suggest --from-flows flows.json -r production --from-cluster --format manifests

\b
Without --from-flows, given a values file (--values, $HELM_UPGRADE_VALUES_FILE, or
.gitlab/auto-deploy-values.yaml when it exists) that has a networkPolicy block without a spec,
the output is that whole file with the suggested spec merged into the block (your keys and
comments elsewhere kept; the file itself is never rewritten); a block with a spec gets a note
and no output; a file without the block gets the block to append.

\b
With --from-flows the policy is learned from recorded traffic (Hubble JSON export or CSV, gzip
accepted, - for stdin; see README "From recorded traffic to an enforced policy"): the narrowest
policies that allow every recorded new connection to (with --egress: and from) the web and worker
pods of every track of the release, each rule commented with the flows it covers. The output
carries its proof: the recorded flows replayed against it (none may be dropped) and the slack
(what it allows beyond the recording).
Outside addresses: each stands for its /N block (--cidr-prefix N[,M], IPv4 and IPv6; default
32,128); a rule with more than --max-cidrs blocks joins the closest neighbours.
Exit codes: 0 ok, 2 input error (no flow involves the release, unreadable files ...),
  3 the cluster could not be read, 5 the learned policy would drop recorded flows (the proof
  failed - e.g. a live deny rule; nothing is printed to paste), 70 internal error (a bug).
"""
)
@click.option(
    "--release",
    "-r",
    metavar="NAME",
    help="Release name. Default: $HELM_RELEASE_NAME, then $CI_ENVIRONMENT_SLUG.",
)
@click.option(
    "--ingress-namespace",
    metavar="NS",
    help=f"Ingress controller namespace (without --from-flows). Default: $NETPOL_INGRESS_NAMESPACE, "
    f"then {DEFAULT_INGRESS_NAMESPACE}.",
)
@click.option(
    "--values",
    "values_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Without --from-flows: the values file the suggestion goes into (merged into its networkPolicy "
    "block). Default: $HELM_UPGRADE_VALUES_FILE, then .gitlab/auto-deploy-values.yaml when it exists.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["values", "yaml", "manifests", "json"]),
    default="values",
    show_default=True,
    help="values: the commented block for .gitlab/auto-deploy-values.yaml (yaml is the same); manifests: "
    "the objects the deploy creates, with namespaces; json: schemas/learned-policy.schema.json with "
    "--from-flows.",
)
@click.option(
    "--from-flows",
    "flow_files",
    multiple=True,
    metavar="FILE",
    help="Learn the policy from recorded flows (Hubble JSON or CSV, gzip accepted, - for stdin). Repeatable.",
)
@click.option(
    "--namespace",
    "-n",
    metavar="NS",
    help="Namespace of the environment. Default: $KUBE_NAMESPACE, "
    "else the one namespace the release's pods appear in.",
)
@click.option(
    "--egress", is_flag=True, help="Also restrict outbound traffic (DNS to kube-dns is always kept)."
)
@click.option(
    "--live",
    metavar="PATH",
    type=click.Path(exists=True, allow_dash=True),
    help="A snapshot (YAML/JSON file, a directory read recursively, or - for stdin) to name workloads, find the app's pods the recording "
    "never saw, and leave out what live policies already allow.",
)
@click.option(
    "--from-cluster",
    is_flag=True,
    help="Read the live state from the cluster instead (implied by --kubeconfig or --context).",
)
@cluster_access_options
@click.option(
    "--cidr-prefix",
    default="32,128",
    show_default=True,
    metavar="N[,M]",
    help="Each outside address stands for its /N block (IPv6: /M): the narrowest CIDR written.",
)
@click.option(
    "--max-cidrs",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    metavar="K",
    help="At most K CIDRs per rule and port: beyond, the closest blocks are joined (the slack lists what that opens).",
)
@click.option(
    "--merge-port-ranges", is_flag=True, help="Write adjacent recorded ports as one range (port/endPort)."
)
@click.option(
    "--enabled",
    is_flag=True,
    help="Write enabled: true and the customResources entries uncommented (default: disabled, nothing enforced).",
)
@handle_errors
def suggest(
    release: str | None,
    ingress_namespace: str | None,
    values_file: str | None,
    output_format: str,
    flow_files: tuple[str, ...],
    **options: Any,
) -> int:
    """Print the suggested networkPolicy block, commented, ready to paste into the values file.

    Without --from-flows it selects every pod of the app - web and worker pods of the stable, canary
    and rollout tracks (release in <release>, <release>-canary, <release>-rollout; workers carry no
    app label) - and allows ingress only from them and from the ingress controller's namespace. With --from-flows it learns the
    narrowest policy set from recorded traffic and proves it. Either way it is disabled: nothing is
    enforced until enabled: true.
    """
    release = release or env_default("HELM_RELEASE_NAME", "CI_ENVIRONMENT_SLUG")
    if flow_files:
        if ingress_namespace or values_file:
            raise InputError(
                f"{'--ingress-namespace' if ingress_namespace else '--values'} has no effect with --from-flows",
                hint="leave it out: the recording says who connects",
            )
        if not release:
            raise InputError(
                "no release name",
                hint="pass --release NAME, or set HELM_RELEASE_NAME or CI_ENVIRONMENT_SLUG as Auto Deploy does",
            )
        return _learn(release, output_format, flow_files, **options)
    context = click.get_current_context()
    used = [
        flag
        for name, flag in _FLOW_ONLY.items()
        if context.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
    ]
    if used:
        raise InputError(
            f"{', '.join(used)} needs --from-flows", hint="give the recorded flows with --from-flows FILE"
        )
    if not release:
        raise InputError(
            "no release name: the suggestion selects the release's pods (app: <release>)",
            hint="pass --release NAME, or set HELM_RELEASE_NAME or CI_ENVIRONMENT_SLUG as Auto Deploy does",
        )
    namespace = ingress_namespace or env_default("NETPOL_INGRESS_NAMESPACE") or DEFAULT_INGRESS_NAMESPACE
    if namespace == DEFAULT_INGRESS_NAMESPACE and not (ingress_namespace or env_default("NETPOL_INGRESS_NAMESPACE")):
        click.echo(
            f"warning: the suggestion admits the ingress controller from namespace {namespace}, the default "
            "(no --ingress-namespace, no NETPOL_INGRESS_NAMESPACE): that namespace must exist and run your "
            "ingress controller, or nothing reaches the app once the policy is enabled\n"
            "  hint: kubectl get ingressclass,pods -A -l app.kubernetes.io/component=controller shows where it "
            "runs; drift and lint detect it given cluster access or a snapshot",
            err=True,
        )
    return _plain(release, namespace, output_format, values_file, options)


def _plain(release: str, namespace: str, output_format: str, values_file: str | None, options: Any) -> int:
    """The suggestion on its own, or merged into the values file's networkPolicy block."""
    from ..desired.chart import appname
    from ..desired.values import ValuesPath, read_values

    path = values_file or env_default("HELM_UPGRADE_VALUES_FILE")
    if path is None and os.path.exists(DEFAULT_VALUES_FILE):
        path = DEFAULT_VALUES_FILE
    values = read_values(ValuesPath(path, explicit=values_file is not None)) if path else None
    if values is not None and values.document is not None:
        errors = errors_only(validate_values(values))
        if errors:
            raise ValidationFailed(errors, file=values.path)
    data = values.data if values is not None else {}
    override = data.get("releaseOverride")
    app = appname(release, override if isinstance(override, str) else None)
    user_block = values.block("networkPolicy") if values is not None else None
    if values is not None and user_block is not None:
        where = values.locate(("networkPolicy",), key=True)
        if "spec" in user_block:
            click.echo(
                f"note: {where}: networkPolicy has a spec already: nothing to suggest (the suggestion fills in "
                "a block without one; render shows what the deploy creates)",
                err=True,
            )
            return 0
        block = merged_block(user_block, suggested_spec(app, namespace))
    else:
        block = suggested_block(app, namespace)
    if output_format == "json":
        click.echo(json.dumps({"networkPolicy": block}, indent=2))
    elif output_format == "manifests":
        from ..desired.chart import chart_defaults, render_objects
        from ..desired.merge import helm_merge_all
        from ..report.manifests import dump_stream

        rendered = helm_merge_all(chart_defaults(), {**data, "networkPolicy": {**block, "enabled": True}})
        objects = [
            obj for obj in render_objects(rendered, release=release) if obj.get("kind") == NETWORK_POLICY
        ]
        target = options.get("namespace") or env_default("KUBE_NAMESPACE")
        if target:
            objects = [{**obj, "metadata": {**obj["metadata"], "namespace": target}} for obj in objects]
        click.echo(dump_stream(objects), nl=False)
    elif values is not None and user_block is not None:
        where = values.locate(("networkPolicy",), key=True)
        with open(values.path, encoding="utf-8") as handle:
            text = handle.read()
        spliced = splice_block(text, where.line, "networkPolicy", block)
        if spliced is None:
            click.echo(
                f"note: {where}: the networkPolicy block is not plain block-style YAML: replace it by hand with "
                "the block below",
                err=True,
            )
            click.echo(yaml_block(block), nl=False)
        else:
            click.echo(
                f"note: {values.path} printed whole, with the suggested spec merged into its networkPolicy block "
                f"(line {where.line}; comments inside that block are not kept); the file was not changed: save "
                "the output over it to use it",
                err=True,
            )
            click.echo(
                f"note: the spec selects release {release}'s pods; a values file shared by several environments "
                "should leave the spec out instead: the CI template's netpol:values jobs fill it in per environment",
                err=True,
            )
            click.echo(spliced, nl=False)
    else:
        if values is not None:
            click.echo(f"note: {values.path} has no networkPolicy block: append this one to it", err=True)
        click.echo(suggestion_yaml(app, namespace, release=release), nl=False)
    return 0


def yaml_block(block: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump({"networkPolicy": block}, sort_keys=False, default_flow_style=False, width=10_000)


def _learn(release: str, output_format: str, flow_files: tuple[str, ...], **options: Any) -> int:
    from ..checks.learn import LearnSettings
    from ..checks.learn.cidrs import parse_prefix_bound
    from ..desired.shapes import choose_shape
    from ..report.json_report import render_json
    from ..report.learn import failure_text, notes_text, to_json, to_manifests, to_values
    from ..runs.learn import LearnRequest, run_learn
    from .options import shape_request

    try:
        prefix4, prefix6 = parse_prefix_bound(options["cidr_prefix"])
    except ValueError as exc:
        raise InputError(
            f"--cidr-prefix: {exc}", hint="e.g. --cidr-prefix 24 or --cidr-prefix 24,64"
        ) from None
    live, namespace = _live_input(
        flow_files, options.get("namespace") or env_default("KUBE_NAMESPACE"), options
    )
    settings = LearnSettings(
        release=release,
        namespace=namespace,
        egress=options["egress"],
        cidr_prefix4=prefix4,
        cidr_prefix6=prefix6,
        max_cidrs=options["max_cidrs"],
        merge_port_ranges=options["merge_port_ranges"],
        # the chart the deploy uses: $AUTO_DEPLOY_IMAGE_VERSION, $AUTO_DEVOPS_CHART_VERSION, else the newest
        chart_version=choose_shape(shape_request()).chart_version,
    )
    outcome = run_learn(LearnRequest(tuple(flow_files), settings, live))
    for line in notes_text(outcome):
        click.echo(line, err=True)
    if output_format == "json":
        click.echo(render_json(to_json(outcome)), nl=False)
    if not outcome.proof.passed:
        click.echo(failure_text(outcome), err=True, nl=False)
        click.echo(
            f"error: the learned policy would drop {outcome.proof.audit.would_drop:,} recorded flows: the proof failed\n"
            "  hint: a live policy that stays after the deploy denies them (e.g. a Cilium deny rule), or this is "
            "a bug - please report it with the flows above",
            err=True,
        )
        return int(ExitCode.PROOF)
    if output_format in ("values", "yaml"):
        click.echo(to_values(outcome, enabled=options["enabled"]), nl=False)
    elif output_format == "manifests":
        click.echo(to_manifests(outcome), nl=False)
    return int(outcome.exit_code)


def _live_input(
    flow_files: tuple[str, ...], namespace: str | None, options: dict[str, Any]
) -> tuple[Any, str | None]:
    """The live state to read (a snapshot or the cluster, or ``None`` for neither) and the namespace
    (from the cluster: ``--namespace``, ``KUBE_NAMESPACE``, else the kubeconfig context's)."""
    from ..files import STDIN
    from ..runs.inputs import LiveInput
    from .cluster_options import access_from_options

    from_cluster = (
        options["from_cluster"]
        or options.get("kubeconfig")
        or options.get("context")
        or options.get("in_cluster")
    )
    live = options.get("live")
    if live and from_cluster:
        raise InputError(
            "give either --live or cluster options (--from-cluster, --kubeconfig, --context, --in-cluster), not both"
        )
    if live == STDIN and STDIN in flow_files:
        raise InputError(
            "--from-flows - and --live - both name standard input", hint="write one of them to a file first"
        )
    if not (live or from_cluster):
        return None, namespace
    access = access_from_options(
        options.get("kubeconfig"),
        options.get("context"),
        options["request_timeout"],
        options["page_size"],
        in_cluster=bool(options.get("in_cluster")),
        read_deadline=options["read_deadline"],
        max_pages=options["max_pages"],
    )
    if from_cluster and not namespace:
        from .cluster_options import namespace_from_options

        namespace = namespace_from_options(namespace, access, what="reading the cluster needs the namespace")
    return LiveInput((live,) if live else (), access), namespace
