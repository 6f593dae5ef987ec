"""The Kubernetes API edge: read-only listing of policies, pods, namespaces and workloads.

Everything the tool reads from a cluster goes through :class:`ClusterReader`. It talks to the
API server with the official ``kubernetes`` client (imported here, lazily, so that commands
which never touch a cluster start fast) and hides the unpleasant parts of the API behind
plain lists of manifests:

- pagination with ``limit``/``continue``; an expired continue token (HTTP 410) restarts the
  list once from the beginning;
- bounded retries with exponential backoff and jitter on 429 (``Retry-After`` honoured),
  5xx, timeouts and connection errors;
- bounded time and memory whatever the server does: each request has a total deadline
  (``--request-timeout``: connecting, headers and body together, so a body trickled byte by byte
  times out too), the whole read of a run has one (``--read-deadline``), a list follows at most
  ``--max-pages`` pages (continue tokens that never end), and an answer may not exceed
  :data:`~autodeploy_netpol.limits.RESPONSE_BYTES`;
- every answer is checked before use: JSON (not nested beyond the readers' depth limit), an
  object, ``items`` a list of objects with mapping metadata and string names; anything else is a
  :class:`~autodeploy_netpol.errors.ClusterError` (exit 3) naming the request;
- responses are read as raw JSON (``_preload_content=False``), so objects keep the API's own
  field names (``podSelector``, ``managedFields``) instead of the client's snake_case models,
  and every object carries ``apiVersion`` and ``kind``;
- failures become :class:`~autodeploy_netpol.errors.ClusterError` (exit 3) saying what could
  not be done and how to fix it — for 401/403 the verb and resource and the shipped Role;
- a resource the server does not serve (the Cilium CRD not installed) is skipped with a note
  where that is expected.

The reader only ever sends GET requests: the tool never writes to a cluster.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import json
import math
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__, limits
from ..errors import ClusterError
from ..limits import DEFAULT_MAX_PAGES, DEFAULT_READ_DEADLINE
from ..masking import mask, register_secret
from .collector import cycle_collector_paused
from .kubeconfig import SERVICE_ACCOUNT_DIR, ClusterTarget, resolve_target
from .live import Listing
from .progress import Progress
from .yamlio import MAX_DEPTH, json_depth_exceeds

#: The shipped least-privilege RBAC, named in permission errors.
RBAC_FILE = "deploy/rbac.yaml"


@dataclass(frozen=True)
class Resource:
    """One kind of API object the reader can list (group ``""`` is the core API)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    #: Served by a CRD that may not be installed; read through the custom objects API.
    custom: bool = False
    #: ``NetworkingV1Api`` and ``network_policy`` → ``list_namespaced_network_policy`` etc.
    api_class: str = ""
    snake: str = ""

    @property
    def api_version(self) -> str:
        """``networking.k8s.io/v1``, or ``v1`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name RBAC and kubectl use: ``networkpolicies.networking.k8s.io``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def list_path(self, namespace: str | None) -> str:
        """The API path that lists these objects: in ``namespace`` (a ``{namespace}`` parameter),
        or across all namespaces (``None``, and always for cluster-scoped resources)."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is None or not self.namespaced:
            return f"{prefix}/{self.plural}"
        return f"{prefix}/namespaces/{{namespace}}/{self.plural}"


NETWORK_POLICIES = Resource(
    "networking.k8s.io",
    "v1",
    "networkpolicies",
    "NetworkPolicy",
    api_class="NetworkingV1Api",
    snake="network_policy",
)
CILIUM_NETWORK_POLICIES = Resource(
    "cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", custom=True
)
CILIUM_CLUSTERWIDE_NETWORK_POLICIES = Resource(
    "cilium.io",
    "v2",
    "ciliumclusterwidenetworkpolicies",
    "CiliumClusterwideNetworkPolicy",
    namespaced=False,
    custom=True,
)
PODS = Resource("", "v1", "pods", "Pod", api_class="CoreV1Api", snake="pod")
NAMESPACES = Resource(
    "", "v1", "namespaces", "Namespace", namespaced=False, api_class="CoreV1Api", snake="namespace"
)
SECRETS = Resource("", "v1", "secrets", "Secret", api_class="CoreV1Api", snake="secret")
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment", api_class="AppsV1Api", snake="deployment")
STATEFUL_SETS = Resource(
    "apps", "v1", "statefulsets", "StatefulSet", api_class="AppsV1Api", snake="stateful_set"
)
DAEMON_SETS = Resource("apps", "v1", "daemonsets", "DaemonSet", api_class="AppsV1Api", snake="daemon_set")
REPLICA_SETS = Resource("apps", "v1", "replicasets", "ReplicaSet", api_class="AppsV1Api", snake="replica_set")
JOBS = Resource("batch", "v1", "jobs", "Job", api_class="BatchV1Api", snake="job")
REPLICATION_CONTROLLERS = Resource(
    "",
    "v1",
    "replicationcontrollers",
    "ReplicationController",
    api_class="CoreV1Api",
    snake="replication_controller",
)
#: The cluster-scoped tiers (policy.networking.k8s.io, CRDs): ClusterNetworkPolicy is read in the
#: newest version the cluster serves (v1beta1, else v1alpha2), beside the v1alpha1 kinds.
ADMIN_NETWORK_POLICIES = Resource(
    "policy.networking.k8s.io",
    "v1alpha1",
    "adminnetworkpolicies",
    "AdminNetworkPolicy",
    namespaced=False,
    custom=True,
)
BASELINE_ADMIN_NETWORK_POLICIES = Resource(
    "policy.networking.k8s.io",
    "v1alpha1",
    "baselineadminnetworkpolicies",
    "BaselineAdminNetworkPolicy",
    namespaced=False,
    custom=True,
)
CLUSTER_NETWORK_POLICY_VERSIONS = tuple(
    Resource(
        "policy.networking.k8s.io",
        version,
        "clusternetworkpolicies",
        "ClusterNetworkPolicy",
        namespaced=False,
        custom=True,
    )
    for version in ("v1beta1", "v1alpha2")
)
#: OVN-Kubernetes user-defined networks (CRDs): which namespaces leave the pod network.
USER_DEFINED_NETWORKS = Resource(
    "k8s.ovn.org", "v1", "userdefinednetworks", "UserDefinedNetwork", custom=True
)
CLUSTER_USER_DEFINED_NETWORKS = Resource(
    "k8s.ovn.org",
    "v1",
    "clusteruserdefinednetworks",
    "ClusterUserDefinedNetwork",
    namespaced=False,
    custom=True,
)

INGRESS_CLASSES = Resource(
    "networking.k8s.io",
    "v1",
    "ingressclasses",
    "IngressClass",
    namespaced=False,
    api_class="NetworkingV1Api",
    snake="ingress_class",
)
GATEWAY_CLASSES = Resource(
    "gateway.networking.k8s.io", "v1", "gatewayclasses", "GatewayClass", namespaced=False, custom=True
)
GATEWAYS = Resource("gateway.networking.k8s.io", "v1", "gateways", "Gateway", custom=True)

POLICY_RESOURCES = (NETWORK_POLICIES, CILIUM_NETWORK_POLICIES)
#: What ingress and monitoring detection reads (``deploy/rbac.yaml`` part "detection"), pods aside.
PLATFORM_RESOURCES = (INGRESS_CLASSES, GATEWAY_CLASSES, GATEWAYS, NAMESPACES)
WORKLOAD_RESOURCES = (DEPLOYMENTS, STATEFUL_SETS, DAEMON_SETS, REPLICA_SETS, JOBS, REPLICATION_CONTROLLERS)

# 429 Too Many Requests and the 5xx a healthy but busy or restarting API server answers with.
_RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a request that failed transiently.

    ``attempts`` counts every try (1 = no retry). The n-th retry waits
    ``min(max_delay, initial_delay * 2**(n-1))``, scaled by a random factor in [0.5, 1] so
    that many pipelines hitting one API server do not retry in lock-step. A ``Retry-After``
    header on 429/5xx is honoured instead, up to ``max_retry_after`` seconds.
    """

    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry: int, rng: Callable[[], float]) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        delay = min(self.max_delay, self.initial_delay * 2.0 ** min(retry - 1, 64))
        return delay * (0.5 + rng() / 2)


#: Defaults of the bounds on one run's reading of a cluster (README, "Cluster access"): in limits.py,
#: which the command-line options read without importing this module.


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach the cluster, from the command line (see ``cli/cluster_options.py``)."""

    kubeconfig: str | None = None
    context: str | None = None
    #: Seconds for one HTTP request: connecting, the headers and the whole body together.
    request_timeout: float = 30.0
    #: Objects per page (``limit``); the API server may return fewer.
    page_size: int = 500
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: ``--in-cluster``: the pod's service account, whatever kubeconfig files say
    in_cluster: bool = False
    #: where retries and long reads are told (rate-limited); ``None``: nowhere
    progress: Progress | None = field(default=None, compare=False, repr=False)
    #: Seconds for everything one run reads from the cluster, retries and waits included.
    read_deadline: float = DEFAULT_READ_DEADLINE
    #: Pages one list may take (a server whose continue tokens never end is cut off here).
    max_pages: int = DEFAULT_MAX_PAGES


class ResourceNotServed(ClusterError):
    """The API server does not serve this resource (HTTP 404 on the list): e.g. no Cilium CRD."""

    def __init__(self, resource: Resource, message: str) -> None:
        super().__init__(
            message,
            hint="install the CRD, or check the API version the cluster serves (kubectl api-resources)",
        )
        self.resource = resource


class _Transient(Exception):
    """A failure worth retrying; carries the error to raise when the retries run out."""

    def __init__(self, error: ClusterError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


class ClusterReader:
    """Read-only access to one cluster (build it from a :class:`ClusterAccess`).

    The connection (kubeconfig or service account) is resolved on first use, so a reader can
    be built from command-line options before it is known whether it will be needed.
    """

    def __init__(
        self,
        access: ClusterAccess,
        *,
        environ: Mapping[str, str] | None = None,
        service_account_dir: str = SERVICE_ACCOUNT_DIR,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.access = access
        self._environ = environ
        self._service_account_dir = service_account_dir
        self._sleep = sleep
        self._rng = rng
        self._target: ClusterTarget | None = None
        self._client: Any = None
        self._clock = time.monotonic
        self._deadline: float | None = None  # set by the first request
        self._requests = 0

    # --- connection -------------------------------------------------------------------------

    @property
    def target(self) -> ClusterTarget:
        """Which server and credentials (kubeconfig context or service account) are used."""
        if self._target is None:
            self._target = resolve_target(
                kubeconfig=self.access.kubeconfig,
                context=self.access.context,
                environ=self._environ,
                service_account_dir=self._service_account_dir,
                in_cluster=self.access.in_cluster,
            )
        return self._target

    def _api_client(self) -> Any:
        if self._client is None:
            self._client = _build_api_client(self.target, self._environ)
        return self._client

    def close(self) -> None:
        """Release the HTTP connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> ClusterReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- what callers use ---------------------------------------------------------------------

    def policies(self, namespace: str | None) -> Listing:
        """NetworkPolicies and CiliumNetworkPolicies in ``namespace`` (``None``: all namespaces).

        Without the Cilium CRD, CiliumNetworkPolicies are skipped with a note in the result.
        """
        return self._collect(POLICY_RESOURCES, namespace)

    def clusterwide_policies(self) -> Listing:
        """CiliumClusterwideNetworkPolicies (cluster-scoped); skipped with a note without the CRD."""
        return self._collect((CILIUM_CLUSTERWIDE_NETWORK_POLICIES,), None)

    def cluster_policies(self) -> Listing:
        """The cluster-scoped tiers: AdminNetworkPolicies, the BaselineAdminNetworkPolicy and
        ClusterNetworkPolicies (v1beta1, else v1alpha2); a kind whose CRD is not installed is
        skipped with a note."""
        listing = self._collect((ADMIN_NETWORK_POLICIES, BASELINE_ADMIN_NETWORK_POLICIES), None)
        for resource in CLUSTER_NETWORK_POLICY_VERSIONS:
            try:
                listing.objects.extend(self.list(resource, None))
                break
            except ResourceNotServed:
                continue
        else:
            listing.notes.append(
                "ClusterNetworkPolicy skipped: the cluster serves neither policy.networking.k8s.io/v1beta1 nor "
                "v1alpha2 clusternetworkpolicies (its CRD is not installed)"
            )
        return listing

    def networks(self, namespace: str | None) -> Listing:
        """OVN-Kubernetes UserDefinedNetworks (in ``namespace``) and ClusterUserDefinedNetworks;
        skipped with a note without their CRDs."""
        listing = self._collect((USER_DEFINED_NETWORKS,), namespace)
        cluster = self._collect((CLUSTER_USER_DEFINED_NETWORKS,), None)
        return Listing([*listing.objects, *cluster.objects], listing.source, [*listing.notes, *cluster.notes])

    def pods(self, namespace: str | None, *, label_selector: str | None = None) -> Listing:
        """Pods in ``namespace`` (``None``: all namespaces)."""
        objects = self.list(PODS, namespace, label_selector=label_selector)
        return Listing(objects, self._source(namespace), [])

    def namespaces(self, *, label_selector: str | None = None) -> Listing:
        """All namespaces (their labels are what namespaceSelectors match)."""
        objects = self.list(NAMESPACES, None, label_selector=label_selector)
        return Listing(objects, self._source(None), [])

    def workloads(self, namespace: str | None, kinds: Iterable[Resource] = WORKLOAD_RESOURCES) -> Listing:
        """Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs (or the given ``kinds``)."""
        return self._collect(tuple(kinds), namespace)

    def namespace(self, name: str) -> dict[str, Any] | None:
        """The Namespace ``name`` (a get: a Role in that namespace can grant it), or ``None`` if it
        does not exist; :class:`ClusterError` when it cannot be read (e.g. 403)."""
        what = f"get namespace '{name}'"
        send = self._getter("/api/v1/namespaces/{name}", {"name": name})
        try:
            document = self._request(send, what)
        except _StatusError as error:
            if error.status == 404:
                return None
            raise self._status_error(error, "get", NAMESPACES, name) from error.cause
        _check_object(document, what, self.target.server)
        return _with_type(document, NAMESPACES)

    def platform_objects(
        self, *, namespaces: bool = True
    ) -> tuple[builtins.list[dict[str, Any]], builtins.list[str], bool]:
        """What ingress and monitoring detection reads: IngressClasses, GatewayClasses, Gateways,
        Namespaces and the pods of well-known controllers (by label, across namespaces). What cannot
        be read is a note; the flag says whether the pods could be read."""
        from .platform import pod_selectors

        objects: list[dict[str, Any]] = []
        notes: list[str] = []
        for resource in PLATFORM_RESOURCES:
            if resource is NAMESPACES and not namespaces:
                continue
            try:
                objects.extend(self.list(resource, None))
            except ResourceNotServed:
                if not resource.custom:
                    notes.append(f"detection: the cluster does not serve {resource.qualified}")
            except ClusterError as exc:
                notes.append(f"detection: {resource.qualified} not read ({exc.message})")
        pods_read = True
        seen: set[tuple[str, str]] = set()
        for selector in pod_selectors():
            try:
                pods = self.list(PODS, None, label_selector=selector)
            except ClusterError as exc:
                notes.append(
                    f"detection: pods not read ({exc.message}); namespace names stand in "
                    f"(grant the 'detection' part of {RBAC_FILE}: autodeploy-netpol rbac --detection)"
                )
                pods_read = False
                break
            for item in pods:  # a pod several selectors match is listed once
                metadata = item.get("metadata") or {}
                identity = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
                if identity not in seen:
                    seen.add(identity)
                    objects.append(item)
        return objects, notes, pods_read

    def secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """One Secret as served (``data`` still base64), or ``None`` if it does not exist."""
        path = "/api/v1/namespaces/{namespace}/secrets/{name}"
        send = self._getter(path, {"namespace": namespace, "name": name})
        what = f"get secret '{name}'"
        try:
            document = self._request(
                send,
                what,
            )
        except _StatusError as error:
            if error.status == 404:
                return None
            raise self._status_error(error, "get", SECRETS, namespace) from error.cause
        _check_object(document, what, self.target.server)
        return _with_type(document, SECRETS)

    def list(
        self, resource: Resource, namespace: str | None, *, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Every object of ``resource`` in ``namespace`` (``None``: all namespaces), all pages.

        Raises :class:`ResourceNotServed` when the server answers 404 (resource not served),
        :class:`ClusterError` for anything else that cannot be read.
        """
        # Decoding tens of thousands of objects allocates millions of dicts and lists, which would
        # trigger full collections again and again (six times the decoding cost at 50,000
        # policies, bench/cluster_read.py); JSON holds no reference cycles.
        with cycle_collector_paused():
            return self._list_pages(resource, namespace, label_selector)

    def _list_pages(
        self, resource: Resource, namespace: str | None, label_selector: str | None
    ) -> builtins.list[dict[str, Any]]:
        call = self._lister(resource, None if not resource.namespaced else namespace)
        scope = _scope(resource, namespace)
        if namespace is None and resource.namespaced and self.access.progress is not None:
            self.access.progress.report(f"list {resource.qualified}{scope}")
        items: list[dict[str, Any]] = []
        token: str | None = None
        restarted = False
        pages = 0
        what = f"list {resource.qualified}{scope}"
        while True:
            pages += 1
            if pages > self.access.max_pages:
                raise ClusterError(
                    f"cannot {what}: the API server sent more than {self.access.max_pages:,} pages "
                    f"of up to {self.access.page_size:,} objects (continue tokens that do not end)",
                    hint="raise --max-pages or --page-size if the cluster really holds that many; "
                    "otherwise the API server (or a proxy in front of it) is misbehaving",
                )
            options: dict[str, Any] = {
                "limit": self.access.page_size,
                "_preload_content": False,
            }
            if token:
                options["_continue"] = token
            if label_selector:
                options["label_selector"] = label_selector
            try:
                page = self._request(functools.partial(call, **options), what)
            except _StatusError as error:
                if error.status == 410 and token and not restarted:
                    # The continue token expired (etcd compacted the snapshot): the pages read so
                    # far may be inconsistent with the rest, so the whole list starts over, once.
                    restarted, token, items = True, None, []
                    continue
                if error.status == 404:
                    raise ResourceNotServed(
                        resource,
                        f"the API server does not serve {resource.qualified}/{resource.version} "
                        f"(HTTP 404 listing {resource.kind} objects{scope})",
                    ) from error.cause
                raise self._status_error(error, "list", resource, namespace) from error.cause
            page_items, following = _page(page, what, self.target.server)
            items.extend(_with_type(item, resource) for item in page_items)
            if following is not None and self.access.progress is not None:
                self.access.progress.report(f"list {resource.qualified}{scope}: {len(items):,} read so far")
            if following is not None and following == token:
                raise ClusterError(
                    f"the API server repeated a continue token while listing {resource.qualified}",
                    hint="this is a server bug; retry, or use a larger --page-size",
                )
            if following is None:
                return items
            token = following

    # --- machinery ----------------------------------------------------------------------------

    def _collect(self, resources: tuple[Resource, ...], namespace: str | None) -> Listing:
        objects: list[dict[str, Any]] = []
        notes: list[str] = []
        for resource in resources:
            try:
                objects.extend(self.list(resource, namespace))
            except ResourceNotServed:
                if not resource.custom:
                    raise
                notes.append(
                    f"{resource.kind} skipped: the cluster does not serve {resource.api_version} "
                    f"{resource.plural} (its CRD is not installed)"
                )
        return Listing(objects, self._source(namespace), notes)

    def _source(self, namespace: str | None) -> str:
        scope = f"namespace '{namespace}'" if namespace else "all namespaces"
        return f"cluster {self.target.describe()}, {scope}"

    def _lister(self, resource: Resource, namespace: str | None) -> Callable[..., Any]:
        """A function sending one list request for ``resource`` (all namespaces when ``None``)."""
        return self._getter(resource.list_path(namespace), {"namespace": namespace} if namespace else {})

    def _getter(self, path: str, path_params: dict[str, str]) -> Callable[..., Any]:
        """A function sending ``GET path`` through the client's ApiClient (its configuration:
        credentials and their refresh, TLS, proxy, user agent), as the generated API classes do:
        with ``_preload_content=False`` it returns the raw response of a 2xx answer and raises the
        client's ApiException for any other. The generated classes themselves are not used:
        importing the few the reader needs took a second of CPU, most of a run (bench/peers.py)."""
        api_client = self._api_client()

        def send(
            *,
            limit: int | None = None,
            _continue: str | None = None,
            label_selector: str | None = None,
            _preload_content: bool = False,
            _request_timeout: float | None = None,
        ) -> Any:
            from kubernetes.client.exceptions import ApiException

            query = [("limit", limit), ("continue", _continue), ("labelSelector", label_selector)]
            request = api_client.param_serialize(
                method="GET",
                resource_path=path,
                path_params=path_params,
                query_params=[(key, value) for key, value in query if value is not None],
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            response = api_client.call_api(*request, _request_timeout=_request_timeout)
            if not 200 <= response.status <= 299:
                response.read()
                raise ApiException.from_response(http_resp=response, body=None, data=None)
            return response.response

        return send

    def _remaining(self, what: str) -> float:
        """Seconds left of the run's read deadline (started by the first request)."""
        now = self._clock()
        if self._deadline is None:
            self._deadline = now + self.access.read_deadline
        left = self._deadline - now
        if left <= 0:
            raise ClusterError(
                f"cannot {what}: reading the cluster at {self.target.server} took longer than the read deadline of "
                f"{self.access.read_deadline:g}s ({self._requests} requests)",
                hint="raise --read-deadline, or check why the API server is this slow",
            )
        return left

    def _request(self, send: Callable[..., Any], what: str) -> dict[str, Any]:
        """Send one GET with retries; the parsed JSON body, or :class:`_StatusError`.

        ``send`` takes ``_request_timeout``: each attempt gets the request timeout, or what is left
        of the read deadline when that is less.
        """
        policy = self.access.retry
        attempt = 0
        while True:
            attempt += 1
            timeout = min(self.access.request_timeout, self._remaining(what))
            try:
                return self._once(functools.partial(send, _request_timeout=timeout), what, timeout)
            except _Transient as transient:
                if attempt >= policy.attempts:
                    error = transient.error
                    raise ClusterError(
                        f"{error.message} (gave up after {attempt} attempt{'s' if attempt != 1 else ''})",
                        hint=error.hint,
                    ) from transient.__cause__
                if transient.retry_after is not None:
                    delay = min(transient.retry_after, policy.max_retry_after)
                else:
                    delay = policy.backoff(attempt, self._rng)
                if delay >= self._remaining(what):
                    error = transient.error
                    raise ClusterError(
                        f"{error.message} (no time left to retry within the read deadline of "
                        f"{self.access.read_deadline:g}s)",
                        hint=error.hint,
                    ) from transient.__cause__
                if self.access.progress is not None:
                    self.access.progress.report(
                        f"{transient.error.message}; retry {attempt} of {policy.attempts - 1} in {delay:.1f}s",
                        wait=delay,
                    )
                self._sleep(delay)

    def _once(self, send: Callable[[], Any], what: str, timeout: float) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError as TransportError
        from urllib3.exceptions import NewConnectionError
        from urllib3.exceptions import TimeoutError as TransportTimeout

        server = self.target.server
        self._requests += 1
        watch = _RequestWatch(timeout)
        try:
            with watch:
                response = send()
                body = _read_body(response, what, server)
        except ApiException as exc:
            if watch.fired:
                raise _Transient(_timed_out(what, server, timeout)) from exc
            status = int(exc.status or 0)
            if status == 0:  # the client's wrapping of TLS failures
                raise ClusterError(
                    f"cannot {what}: TLS connection to {server} failed: {exc.reason}",
                    hint="check the certificate-authority of the cluster in the kubeconfig",
                ) from exc
            if 300 <= status < 400:
                # never followed (urllib3's redirects are off with its retries): the credentials
                # are for the configured server only, and an API server does not redirect a GET
                location = _header(exc.headers, "Location")
                raise ClusterError(
                    f"cannot {what}: the API server at {server} answered HTTP {status}, a redirect"
                    f"{f' to {location}' if location else ''}; not followed, so the credentials of "
                    "this context go to no other server",
                    hint="set the cluster's server in the kubeconfig to the API server's own URL "
                    "(a proxy or load balancer in front of it must not redirect)",
                ) from exc
            if status in _RETRIABLE_STATUSES:
                error = ClusterError(
                    f"cannot {what}: the API server at {server} answered HTTP {status}"
                    f"{_status_detail(exc.body)}",
                    hint="the API server is overloaded or restarting; try again later",
                )
                raise _Transient(error, _retry_after(exc.headers)) from exc
            raise _StatusError(status, _status_detail(exc.body), exc) from exc
        except NewConnectionError as exc:
            # urllib3 makes a refused connection a subclass of its connect timeout: check it first.
            raise _Transient(_unreachable(what, server, exc)) from exc
        except TransportTimeout as exc:
            raise _Transient(_timed_out(what, server, timeout)) from exc
        except (TransportError, OSError, ValueError) as exc:
            # a socket closed by the deadline, a connection reset, a malformed HTTP answer
            if watch.fired:
                raise _Transient(_timed_out(what, server, timeout)) from exc
            raise _Transient(_unreachable(what, server, exc)) from exc
        if watch.fired:  # the connection was cut while the headers came in: what arrived is partial
            raise _Transient(_timed_out(what, server, timeout))
        return _decode(body, what, server)

    def _status_error(
        self, error: _StatusError, verb: str, resource: Resource, namespace: str | None
    ) -> ClusterError:
        scope = _scope(resource, namespace)
        who = self.target.describe()
        if error.status == 401:
            return ClusterError(
                f"the API server rejected the credentials of {who} (HTTP 401 Unauthorized){error.detail}",
                hint="the token or client certificate in the kubeconfig is missing, wrong or expired; "
                "log in again or refresh the CI job's KUBECONFIG",
            )
        if error.status == 403:
            if namespace is not None and resource.namespaced:
                grant = (
                    f"apply the Role and RoleBinding in {RBAC_FILE} to namespace {namespace} "
                    f"(autodeploy-netpol rbac -n {namespace} | kubectl apply -f -, after naming your user or "
                    "service account as its subject)"
                )
            else:
                grant = f"apply the ClusterRole and ClusterRoleBinding variant in {RBAC_FILE}"
            return ClusterError(
                f"cannot {verb} {resource.qualified}{scope}: access denied to {who} (HTTP 403){error.detail}",
                hint=f"the tool needs only get/list; {grant}",
            )
        return ClusterError(
            f"cannot {verb} {resource.qualified}{scope}: "
            f"the API server answered HTTP {error.status}{error.detail}",
            hint="check the API server's logs or retry later",
        )


class _StatusError(Exception):
    """A non-retriable HTTP status, turned into a ClusterError by the caller who knows the context."""

    def __init__(self, status: int, detail: str, cause: BaseException) -> None:
        super().__init__(f"HTTP {status}{detail}")
        self.status = status
        self.detail = detail
        self.cause = cause


_tracked = threading.local()


class _RequestWatch:
    """The total deadline of one request: when it passes, the sockets the request opened or reused
    are shut down, which ends a blocked read however slowly the server trickles its answer.

    Connections register themselves (:func:`_tracked_pool_classes`) with the watch of their thread.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self.connections: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _RequestWatch:
        _tracked.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _tracked.watch = None

    def track(self, connection: Any) -> None:
        with self._lock:
            self.connections.append(connection)
            late = self.fired
        if late:
            _shut(connection)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            connections = list(self.connections)
        for connection in connections:
            _shut(connection)


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            # the plain socket's shutdown, not SSLSocket's, which would drop its TLS state under a
            # reader in another thread; the blocked read then ends with an error
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _track(connection: Any) -> None:
    watch = getattr(_tracked, "watch", None)
    if watch is not None:
        watch.track(connection)


@functools.cache
def _tracked_pool_classes() -> dict[str, type]:
    """urllib3 connection pools whose connections register with the current :class:`_RequestWatch`."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class TrackedHTTPConnection(HTTPConnection):
        def request(self, *args: Any, **kwargs: Any) -> None:
            _track(self)
            super().request(*args, **kwargs)

    class TrackedHTTPSConnection(HTTPSConnection):
        def request(self, *args: Any, **kwargs: Any) -> None:
            _track(self)
            super().request(*args, **kwargs)

    class TrackedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = TrackedHTTPConnection

    class TrackedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = TrackedHTTPSConnection

    return {"http": TrackedHTTPConnectionPool, "https": TrackedHTTPSConnectionPool}


def _read_body(response: Any, what: str, server: str) -> bytes:
    """The whole body of a 2xx answer, at most :data:`~autodeploy_netpol.limits.RESPONSE_BYTES`."""
    maximum = limits.RESPONSE_BYTES.value()
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.stream(1 << 16):
            size += len(chunk)
            if size > maximum:
                response.close()
                raise ClusterError(
                    f"cannot {what}: the answer from {server} is over the {maximum:,}-byte limit",
                    hint=f"use a smaller --page-size, or {limits.RESPONSE_BYTES.hint}",
                )
            chunks.append(chunk)
    finally:
        response.release_conn()
    return b"".join(chunks)


def _decode(body: bytes, what: str, server: str) -> dict[str, Any]:
    """A JSON object from an answer's body; anything else is a :class:`ClusterError` naming the request."""
    problem: str | None = None
    document: Any = None
    if json_depth_exceeds(body):
        problem = f"nests data more than {MAX_DEPTH} levels deep"
    else:
        try:
            document = _decode_json(body)
        except RecursionError:  # pragma: no cover - json_depth_exceeds refuses such nesting first
            problem = f"nests data more than {MAX_DEPTH} levels deep"
        except ValueError as exc:  # not JSON, not UTF-8, an integer of thousands of digits
            problem = f"is not JSON ({_reason(exc)})"
    if problem is None and not isinstance(document, dict):
        problem = f"is a JSON {type(document).__name__}, not an object"
    if problem is not None:
        raise ClusterError(
            f"cannot {what}: the answer from {server} {problem}",
            hint="is the kubeconfig server address that of a Kubernetes API server?",
        )
    return document  # type: ignore[no-any-return]


def _page(page: dict[str, Any], what: str, server: str) -> tuple[list[dict[str, Any]], str | None]:
    """The items and the continue token of a list answer, checked."""
    def bad(problem: str) -> ClusterError:
        return ClusterError(
            f"cannot {what}: the answer from {server} is not a Kubernetes list: {problem}",
            hint="is the kubeconfig server address that of a Kubernetes API server?",
        )

    items = page.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise bad(f"'items' is a {type(items).__name__}, not a list")
    metadata = page.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise bad(f"'metadata' is a {type(metadata).__name__}, not a mapping")
    following = metadata.get("continue") or None
    if following is not None and not isinstance(following, str):
        raise bad(f"'metadata.continue' is a {type(following).__name__}, not a string")
    for index, item in enumerate(items):
        _check_object(item, what, server, f"items[{index}]")
    return items, following


def _check_object(item: Any, what: str, server: str, where: str = "the object") -> None:
    """What every command relies on in an object: a mapping with mapping metadata, a string name
    and namespace, mapping labels and annotations with string values, a mapping spec."""
    problem = _object_problem(item)
    if problem is not None:
        raise ClusterError(
            f"cannot {what}: the answer from {server} holds a malformed object ({where}: {problem})",
            hint="the API server (or a proxy in front of it) answered something Kubernetes never serves",
        )


def _object_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"a {type(item).__name__}, not a mapping"
    metadata = item.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return "metadata is not a mapping"
    for key in ("name", "namespace"):
        value = metadata.get(key)
        if value is not None and not isinstance(value, str):
            return f"metadata.{key} is not a string"
    for key in ("labels", "annotations"):
        value = metadata.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return f"metadata.{key} is not a mapping of strings"
    spec = item.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return "spec is not a mapping"
    return None


def _timed_out(what: str, server: str, timeout: float) -> ClusterError:
    return ClusterError(
        f"cannot {what}: the API server at {server} did not answer within {timeout:g}s",
        hint="raise --request-timeout, or check the network path to the API server",
    )


def _decode_json(body: bytes) -> Any:
    """An answer's JSON, decoded with msgspec (about three times the json module's speed on list
    pages; its errors are ValueErrors too)."""
    import msgspec

    return msgspec.json.decode(body)


def _scope(resource: Resource, namespace: str | None) -> str:
    if not resource.namespaced:
        return " at the cluster scope"
    return f" in namespace {namespace}" if namespace is not None else " across all namespaces"


def _with_type(item: dict[str, Any], resource: Resource) -> dict[str, Any]:
    # List items of built-in kinds come without apiVersion/kind; the comparison needs both.
    return {"apiVersion": resource.api_version, "kind": resource.kind, **item}


def _status_detail(body: Any) -> str:
    """``: <message>`` from a Kubernetes Status body, or nothing."""
    if not body:
        return ""
    try:
        status = json.loads(body)
    except (TypeError, ValueError):
        return ""
    message = status.get("message") if isinstance(status, dict) else None
    return f": {message}" if isinstance(message, str) and message else ""


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None  # an HTTP date: rare from an API server; fall back to backoff
    if not math.isfinite(seconds):
        return None  # nan, inf: not a wait anyone meant
    return max(seconds, 0.0)


def _header(headers: Any, name: str) -> str:
    """A response header as printable text: one line, at most 200 characters."""
    value = headers.get(name) if headers is not None else None
    text = " ".join(mask(str(value or "")).split())  # masked before it is cut
    return text if len(text) <= 200 else text[:197] + "..."


def _unreachable(what: str, server: str, exc: BaseException) -> ClusterError:
    return ClusterError(
        f"cannot {what}: the API server at {server} is unreachable ({_reason(exc)})",
        hint="check --kubeconfig/--context or KUBECONFIG, and that the server is reachable from "
        "here (VPN, firewall); without cluster access use --live FILE with a snapshot",
    )


_CONNECTION_PREFIX = re.compile(r"^(?:<[^>]*>|\w*Connection\([^)]*\)): ")


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    text = str(reason or exc)
    # urllib3 prefixes connection errors with the connection object's repr; keep the errno text.
    return _CONNECTION_PREFIX.sub("", text)


def _build_api_client(target: ClusterTarget, environ: Mapping[str, str] | None) -> Any:
    """An ``ApiClient`` for ``target``, with urllib3's own retries off (ours are the only ones)."""
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader
    from kubernetes.config.kube_config import KubeConfigLoader

    configuration = client.Configuration()
    try:
        if target.kubeconfig is None:
            assert target.service_account_dir is not None
            # the client's config loaders carry no annotations
            in_cluster = InClusterConfigLoader(  # type: ignore[no-untyped-call]
                token_filename=f"{target.service_account_dir}/token",
                cert_filename=f"{target.service_account_dir}/ca.crt",
                environ=os.environ if environ is None else environ,
            )
            in_cluster.load_and_set(configuration)  # type: ignore[no-untyped-call]
        else:
            loader = KubeConfigLoader(  # type: ignore[no-untyped-call]
                config_dict=target.kubeconfig, active_context=target.context, config_base_path=""
            )
            loader.load_and_set(configuration)  # type: ignore[no-untyped-call]
    except (ConfigException, OSError, KeyError, ValueError, TypeError, AttributeError) as exc:
        # the client's config loaders meet whatever the kubeconfig holds (a user that is a string)
        raise ClusterError(
            f"cannot use {target.describe()} from {target.origin}: {exc}",
            hint="check the credentials (token, certificates, exec plugin) of that context",
        ) from exc
    configuration.retries = False
    # Whatever credential the client now holds (a token from a file or an exec plugin too) is masked.
    for value in (configuration.api_key or {}).values():
        register_secret(value.removeprefix("Bearer ") if isinstance(value, str) else value)
        if isinstance(value, str) and any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ClusterError(
                f"the token of {target.describe()} from {target.origin} contains a line break or another "
                "control character",
                hint="the kubeconfig (or token file) holds more than the token; fix the token",
            )
    register_secret(configuration.password)
    api_client = client.ApiClient(configuration)
    api_client.user_agent = f"autodeploy-netpol/{__version__}"
    pool_manager = api_client.rest_client.pool_manager
    if not type(pool_manager).__name__.startswith("SOCKS"):  # SOCKS proxies have pools of their own
        pool_manager.pool_classes_by_scheme = _tracked_pool_classes()
    return api_client
