"""Command-line options for reaching a cluster, shared by every command that reads one.

``@cluster_options`` adds ``--kubeconfig``, ``--context``, ``--request-timeout``,
``--page-size`` and ``--all-namespaces``; ``@cluster_access_options`` the same without
``--all-namespaces``, for commands that have their own; ``@cluster_source_options`` adds
``--namespace``/``-n`` and ``-A`` for the commands that read PATHs, or the cluster without one.
:func:`access_from_options` turns the access options into the
:class:`~autodeploy_netpol.sources.cluster.ClusterAccess` of the command's request; the run
opens the reader (``--all-namespaces`` is the command's to interpret: list with
``namespace=None``). Declaring the options imports nothing but click (plain ``suggest`` has them and
never reads a cluster); the cluster reader is imported when the access is built, the Kubernetes
client by the reader on first use.

Example::

    @click.command()
    @cluster_options
    @handle_errors
    def audit(kubeconfig, context, request_timeout, page_size, all_namespaces, ...):
        access = access_from_options(kubeconfig, context, request_timeout, page_size)
        result = run_audit(AuditRequest(..., live=LiveInput(cluster=access)))
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import InputError
from .common import env_default

if TYPE_CHECKING:
    from ..runs.connectivity import ObjectSource
    from ..sources.cluster import ClusterAccess, RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class Duration(click.ParamType):
    """Seconds as a number, or kubectl-style ``500ms``, ``30s``, ``1m``."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            match = _DURATION.match(str(value))
            if match is None:
                self.fail(f"{value!r} is not a duration (e.g. 30, 30s, 500ms, 2m)", param, ctx)
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        if seconds <= 0:
            self.fail("must be more than zero", param, ctx)
        return seconds


#: The keyword arguments :func:`cluster_access_options` adds, in :func:`reader_from_options` order.
CLUSTER_OPTION_NAMES = ("kubeconfig", "context", "request_timeout", "page_size")


def cluster_access_options(function: F) -> F:
    """Add ``--kubeconfig``, ``--context``, ``--request-timeout`` and ``--page-size``.

    For commands that define their own ``--all-namespaces`` (e.g. because it also applies to a
    snapshot); otherwise use :func:`cluster_options`.
    """
    decorators = [
        click.option(
            "--kubeconfig",
            type=click.Path(dir_okay=False),
            default=None,
            help="Kubeconfig file (default: $KUBECONFIG, a ':'-separated list, then ~/.kube/config, "
            "then the in-cluster service account).",
        ),
        click.option("--context", default=None, help="Kubeconfig context to use (default: current-context)."),
        click.option(
            "--request-timeout",
            type=Duration(),
            default="30s",
            show_default=True,
            help="Timeout of one API request (30, 30s, 500ms, 1m); slow or failed requests are retried.",
        ),
        click.option(
            "--page-size",
            type=click.IntRange(min=1),
            default=500,
            show_default=True,
            help="Objects per API list request (pagination with limit/continue).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def cluster_source_options(function: F) -> F:
    """``--namespace``/``-n``, ``--all-namespaces``/``-A`` and the access options, for the commands
    that read PATHs and, given none, the cluster."""
    function = click.option(
        "--all-namespaces", "-A", is_flag=True, help="Without PATH: read every namespace of the cluster."
    )(function)
    function = click.option(
        "--namespace",
        "-n",
        default=None,
        metavar="NS",
        help="Without PATH: the namespace to read from the cluster (default: $KUBE_NAMESPACE). "
        "With PATHs: the namespace of objects that name none (default: default).",
    )(function)
    return cluster_access_options(function)


def cluster_options(function: F) -> F:
    """:func:`cluster_access_options` plus ``--all-namespaces``/``-A`` (see the module docstring)."""
    function = click.option(
        "--all-namespaces",
        "-A",
        is_flag=True,
        default=False,
        help="Read every namespace (needs the ClusterRole variant of deploy/rbac.yaml).",
    )(function)
    return cluster_access_options(function)


def access_from_options(
    kubeconfig: str | None,
    context: str | None,
    request_timeout: float,
    page_size: int,
    *,
    retry: RetryPolicy | None = None,
) -> ClusterAccess:
    """How to reach the cluster, from the values of :func:`cluster_options`.

    ``retry`` overrides the default :class:`RetryPolicy` (5 attempts, 0.5 s doubling to 8 s).
    """
    from ..sources.cluster import ClusterAccess, RetryPolicy  # not when the options are only declared

    return ClusterAccess(
        kubeconfig=kubeconfig,
        context=context,
        request_timeout=request_timeout,
        page_size=page_size,
        retry=retry or RetryPolicy(),
    )


def object_source_from_options(
    paths: tuple[str, ...], namespace: str | None, all_namespaces: bool, options: dict[str, Any]
) -> ObjectSource:
    """The objects of a command with :func:`cluster_source_options`: its PATHs, or without any
    the cluster (``--namespace``, then ``$KUBE_NAMESPACE``, or ``-A``)."""
    from ..runs.connectivity import ObjectSource

    if paths:
        return ObjectSource(paths, namespace)
    namespace = namespace or env_default("KUBE_NAMESPACE")
    if not namespace and not all_namespaces:
        raise InputError(
            "no PATH and no namespace to read from the cluster",
            hint="give snapshot PATHs, or --namespace NS (or KUBE_NAMESPACE), or --all-namespaces",
        )
    access = access_from_options(**{name: options[name] for name in CLUSTER_OPTION_NAMES})
    return ObjectSource(namespace=None if all_namespaces else namespace, cluster=access)
