"""``autodeploy-netpol rbac``: the least-privilege RBAC the tool needs, ready for kubectl.

``deploy/rbac.yaml`` holds three parts (each document is marked ``--- # part: NAME``): the
namespace's Role and RoleBinding, the ClusterRole for detecting the ingress controller and the
monitoring stack, and the ClusterRole for ``--all-namespaces``. The command prints the parts asked
for; the namespace goes only into ``namespace: NAMESPACE`` lines, so comments stay as written.
"""

from __future__ import annotations

import os
import re

import click

from ..errors import InputError
from .common import env_default, handle_errors

RBAC_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "deploy", "rbac.yaml")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PART = re.compile(r"^--- # part: ([a-z]+)\s*$", re.MULTILINE)
_NAMESPACE_LINE = re.compile(r"^(\s*namespace:\s*)NAMESPACE\s*$", re.MULTILINE)

#: What each part is for, as the printed header says it.
PART_TITLES = {
    "namespace": "Role and RoleBinding in namespace {namespace}: drift, audit and ownership of one environment",
    "detection": "ClusterRole and ClusterRoleBinding: finding the ingress controller's and the monitoring "
    "stack's namespaces (optional)",
    "cluster": "ClusterRole and ClusterRoleBinding: --all-namespaces",
}


def rbac_parts(text: str) -> tuple[str, dict[str, list[str]]]:
    """The file's header comment and its documents by part, in file order."""
    pieces = _PART.split(text)
    header = pieces[0]
    parts: dict[str, list[str]] = {}
    for name, body in zip(pieces[1::2], pieces[2::2], strict=True):
        parts.setdefault(name, []).append(body.strip("\n") + "\n")
    return header, parts


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol rbac -n shop-42-production > rbac.yaml   # edit the subject, then:
  kubectl apply -f rbac.yaml
  autodeploy-netpol rbac --detection        # where the ingress controller and Prometheus run
  autodeploy-netpol rbac --all-namespaces   # drift -A
"""
)
@click.option(
    "--namespace",
    "-n",
    metavar="NS",
    help="The Role and RoleBinding for this namespace. Default: $KUBE_NAMESPACE.",
)
@click.option(
    "--detection",
    is_flag=True,
    help="Also (or, without a namespace, only) the ClusterRole for detecting the ingress controller's "
    "and monitoring stack's namespaces.",
)
@click.option(
    "--all-namespaces",
    "-A",
    "all_namespaces",
    is_flag=True,
    help="Also (or, without a namespace, only) the cluster-wide ClusterRole for --all-namespaces.",
)
@handle_errors
def rbac(namespace: str | None, detection: bool, all_namespaces: bool) -> int:
    """Print the RBAC objects the tool needs: only get/list, never a write.

    With a namespace (-n or $KUBE_NAMESPACE): that namespace's Role and RoleBinding. The
    cluster-wide parts only when asked for: --detection, --all-namespaces. The objects come from
    deploy/rbac.yaml; name your user or service account as each binding's subject before applying.
    """
    namespace = namespace or env_default("KUBE_NAMESPACE")
    if namespace and (len(namespace) > 63 or not _DNS_LABEL.match(namespace)):
        raise InputError(
            f"{namespace!r} is not a valid namespace name", hint="a namespace is a lowercase DNS label"
        )
    wanted = [
        name
        for name, asked in (
            ("namespace", bool(namespace)),
            ("detection", detection),
            ("cluster", all_namespaces),
        )
        if asked
    ]
    if not wanted:
        raise InputError(
            "no namespace and no cluster-wide part asked for",
            hint="pass -n NS (or set KUBE_NAMESPACE) for the namespace's Role, and/or --detection, "
            "--all-namespaces for the ClusterRoles",
        )
    with open(RBAC_PATH, encoding="utf-8") as handle:
        _, parts = rbac_parts(handle.read())
    out = [
        "# RBAC for autodeploy-netpol (from deploy/rbac.yaml): get and list only, never a write.\n"
        "# Name the identity your pipeline uses as each binding's subject before applying.\n"
    ]
    for name in wanted:
        title = PART_TITLES[name].format(namespace=namespace)
        for document in parts[name]:
            if namespace:
                document = _NAMESPACE_LINE.sub(lambda match: match.group(1) + str(namespace), document)
            out.append(f"--- # {title}\n{document}")
    click.echo("".join(out), nl=False)
    return 0
