"""Command-line options for reaching a cluster, shared by every command that reads one.

``@cluster_options`` adds ``--kubeconfig``, ``--context``, ``--request-timeout``,
``--page-size``, ``--in-cluster``, ``--read-deadline``, ``--max-pages`` and ``--all-namespaces``;
``@cluster_access_options`` the same without
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

from ..errors import InputError, NetpolError
from ..limits import DEFAULT_MAX_PAGES, DEFAULT_READ_DEADLINE
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


#: The keyword arguments :func:`cluster_access_options` adds, as :func:`access_from_options` names them.
CLUSTER_OPTION_NAMES = (
    "kubeconfig",
    "context",
    "request_timeout",
    "page_size",
    "in_cluster",
    "read_deadline",
    "max_pages",
)


def cluster_access_options(function: F) -> F:
    """Add ``--kubeconfig``, ``--context``, ``--in-cluster``, ``--request-timeout``, ``--page-size``,
    ``--read-deadline`` and ``--max-pages``.

    For commands that define their own ``--all-namespaces`` (e.g. because it also applies to a
    snapshot); otherwise use :func:`cluster_options`.
    """
    decorators = [
        click.option(
            "--kubeconfig",
            type=click.Path(dir_okay=False),
            default=None,
            help="Kubeconfig file (default: $KUBECONFIG, a ':'-separated list, then ~/.kube/config, "
            "then the in-cluster service account - in CI only with --in-cluster or NETPOL_IN_CLUSTER=true).",
        ),
        click.option(
            "--context",
            default=None,
            help="Kubeconfig context to use. Default: $KUBE_CONTEXT (the GitLab agent's context), then the "
            "kubeconfig's current-context.",
        ),
        click.option(
            "--in-cluster",
            is_flag=True,
            default=False,
            help="Use the service account of the pod this runs in, ignoring kubeconfig files (in CI the only "
            "way to it besides NETPOL_IN_CLUSTER=true: KUBERNETES_SERVICE_HOST alone is not cluster access).",
        ),
        click.option(
            "--request-timeout",
            envvar="NETPOL_REQUEST_TIMEOUT",
            show_envvar=True,
            type=Duration(),
            default="30s",
            show_default=True,
            help="Timeout of one API request, connecting and the whole answer together (30, 30s, 500ms, "
            "1m); slow or failed requests are retried.",
        ),
        click.option(
            "--page-size",
            type=click.IntRange(min=1),
            default=500,
            show_default=True,
            help="Objects per API list request (pagination with limit/continue).",
        ),
        click.option(
            "--read-deadline",
            envvar="NETPOL_READ_DEADLINE",
            show_envvar=True,
            type=Duration(),
            default=f"{DEFAULT_READ_DEADLINE:g}s",
            show_default=True,
            help="Time for everything the run reads from the cluster, retries included.",
        ),
        click.option(
            "--max-pages",
            envvar="NETPOL_MAX_PAGES",
            show_envvar=True,
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_PAGES,
            show_default=True,
            help="Pages one list may take (--page-size objects each) before the read is an error.",
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
        help="Without PATH: the namespace to read from the cluster (default: $KUBE_NAMESPACE, then the "
        "kubeconfig context's namespace). With PATHs: the namespace of objects that name none (default: default).",
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
    in_cluster: bool = False,
    read_deadline: float = DEFAULT_READ_DEADLINE,
    max_pages: int = DEFAULT_MAX_PAGES,
    retry: RetryPolicy | None = None,
) -> ClusterAccess:
    """How to reach the cluster, from the values of :func:`cluster_options`.

    ``retry`` overrides the default :class:`RetryPolicy` (5 attempts, 0.5 s doubling to 8 s).
    ``KUBE_CONTEXT`` and ``NETPOL_IN_CLUSTER`` are read where the kubeconfig is resolved.
    """
    if in_cluster and (kubeconfig or context):
        raise InputError(
            "--in-cluster uses the pod's service account: give it without --kubeconfig and --context",
            hint="drop --in-cluster to use the kubeconfig",
        )
    from ..sources.cluster import ClusterAccess, RetryPolicy  # not when the options are only declared
    from ..sources.progress import Progress

    return ClusterAccess(
        kubeconfig=kubeconfig,
        context=context,
        request_timeout=request_timeout,
        page_size=page_size,
        retry=retry or RetryPolicy(),
        in_cluster=in_cluster,
        progress=Progress(lambda line: click.echo(line, err=True)),
        read_deadline=read_deadline,
        max_pages=max_pages,
    )


def namespace_from_options(
    namespace: str | None,
    access: ClusterAccess | None,
    *,
    required: bool = True,
    what: str = "no namespace",
    alternatives: str = "",
) -> str | None:
    """The namespace of a run, as kubectl picks it: ``--namespace``, else ``$KUBE_NAMESPACE``, else the
    namespace of the kubeconfig context in use (``--context``, ``$KUBE_CONTEXT``, current-context), or
    the service account's own in a pod. ``access`` is ``None`` when the run reads no cluster (a snapshot).

    ``required``: no namespace from any of them is an :class:`InputError` (exit 2); in CI without
    cluster access that is the access error (exit 3), which says what is really missing.
    """
    if namespace:
        return namespace
    from_environment = env_default("KUBE_NAMESPACE")
    if from_environment:
        return from_environment
    reason = "no cluster is read"
    if access is not None:
        from ..sources.kubeconfig import NoClusterAccess, resolve_target

        try:
            target = resolve_target(
                kubeconfig=access.kubeconfig, context=access.context, in_cluster=access.in_cluster
            )
        except NoClusterAccess:
            if required:
                raise
            return None
        except NetpolError as error:
            reason = f"no kubeconfig context gives one: {error.message}"
        else:
            if target.namespace:
                return target.namespace
            reason = (
                f"{target.describe()} sets no namespace"
                if target.context is None
                else f"context '{target.context}' sets no namespace"
            )
    if not required:
        return None
    raise InputError(
        what,
        hint=f"pass --namespace NS, set KUBE_NAMESPACE, or give the kubeconfig context a namespace"
        f"{alternatives} ({reason})",
    )


def object_source_from_options(
    paths: tuple[str, ...], namespace: str | None, all_namespaces: bool, options: dict[str, Any]
) -> ObjectSource:
    """The objects of a command with :func:`cluster_source_options`: its PATHs, or without any
    the cluster (``--namespace``, then ``$KUBE_NAMESPACE``, then the context's namespace, or ``-A``)."""
    from ..runs.connectivity import ObjectSource

    if paths:
        return ObjectSource(paths, namespace)
    access = access_from_options(**{name: options[name] for name in CLUSTER_OPTION_NAMES})
    if all_namespaces:
        return ObjectSource(namespace=None, cluster=access)
    chosen = namespace_from_options(
        namespace,
        access,
        what="no PATH and no namespace to read from the cluster",
        alternatives="; or give snapshot PATHs, or --all-namespaces",
    )
    return ObjectSource(namespace=chosen, cluster=access)
