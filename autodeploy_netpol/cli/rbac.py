"""``autodeploy-netpol rbac``: the least-privilege Role the tool needs, ready for kubectl."""

from __future__ import annotations

import os
import re

import click

from ..errors import InputError
from .common import env_default, handle_errors

RBAC_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "deploy", "rbac.yaml")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@click.command(
    epilog="""\b
Examples:
  autodeploy-netpol rbac -n shop-42-production > rbac.yaml   # edit the subject, then:
  kubectl apply -f rbac.yaml
"""
)
@click.option(
    "--namespace", "-n", metavar="NS", help="Fill in the Role's namespace. Default: $KUBE_NAMESPACE."
)
@handle_errors
def rbac(namespace: str | None) -> int:
    """Print the Role/RoleBinding (and ClusterRole variant) with only get/list on network policies.

    The same file as deploy/rbac.yaml in the repository; the tool never writes to the cluster.
    Name your user or service account as the RoleBinding's subject before applying it.
    """
    namespace = namespace or env_default("KUBE_NAMESPACE")
    if namespace and (len(namespace) > 63 or not _DNS_LABEL.match(namespace)):
        raise InputError(
            f"{namespace!r} is not a valid namespace name", hint="a namespace is a lowercase DNS label"
        )
    with open(RBAC_PATH, encoding="utf-8") as handle:
        text = handle.read()
    click.echo(text.replace("NAMESPACE", namespace) if namespace else text, nl=False)
    return 0
