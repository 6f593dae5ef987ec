"""Helpers for the live tests: a kubeconfig for the emulator, seeding, the emulator itself."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp.web
import kmock
import yaml

from autodeploy_netpol.sources import cluster
from autodeploy_netpol.sources.cluster import ClusterAccess, ClusterReader, RetryPolicy

TOKEN = "kmock-test-token"

BUILT_IN = [
    value for value in vars(cluster).values() if isinstance(value, cluster.Resource) and not value.custom
]

#: Fast retries so that scripted failures cost milliseconds, not seconds.
FAST_RETRY = RetryPolicy(attempts=3, initial_delay=0.001, max_delay=0.004)


class Emulator(kmock.KubernetesEmulator):  # type: ignore[misc]
    """kmock's Kubernetes emulator, plus listing cluster-scoped Namespaces and getting one by name.

    kmock 0.8 cannot parse the path ``/api/v1/namespaces`` (its path parser expects a namespace
    name after ``namespaces``) and answers 500 before any reaction is consulted, so that one
    list is served here from the emulator's stored Namespace objects.
    """

    #: lists of Namespaces served here (kmock never sees them, so its request log misses them)
    namespace_lists = 0
    #: names of the Namespaces got one by one here (``GET /api/v1/namespaces/NAME``), in order
    namespace_gets: list[str]
    #: answer the gets of these names with 403 Forbidden (RBAC without a grant on the namespace)
    forbidden_namespace_gets: set[str]
    #: answer lists of Namespaces with 403 Forbidden (no ClusterRole)
    namespace_lists_forbidden = False

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        parts = raw_request.path.strip("/").split("/")
        if raw_request.method == "GET" and parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4:
            if not hasattr(self, "namespace_gets"):
                self.namespace_gets = []
            self.namespace_gets.append(parts[3])
            if parts[3] in getattr(self, "forbidden_namespace_gets", set()):
                return _status(403, "Forbidden", f'namespaces "{parts[3]}" is forbidden')
            for (resource, _, name), stored in self.objects.items():
                is_namespace = resource.group == "" and resource.plural == "namespaces"
                if is_namespace and name == parts[3] and not stored.deleted:
                    return aiohttp.web.json_response({"kind": "Namespace", "apiVersion": "v1", **stored.raw})
            return _status(404, "NotFound", f'namespaces "{parts[3]}" not found')
        if raw_request.method == "GET" and raw_request.path.rstrip("/") == "/api/v1/namespaces":
            if self.namespace_lists_forbidden:
                return _status(403, "Forbidden", "namespaces is forbidden: cannot list resource")
            self.namespace_lists += 1
            items = [
                stored.raw
                for (resource, _, _), stored in self.objects.items()
                if resource.group == "" and resource.plural == "namespaces" and not stored.deleted
            ]
            body = {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {}, "items": items}
            return aiohttp.web.json_response(body)
        return await super().__call__(raw_request)


def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }
    return aiohttp.web.json_response(body, status=code)


class StandInCluster(Emulator):
    """The emulator plus what pykube needs, to stand in for a real cluster in the real-cluster mode.

    pytest-helm-charts seeds through pykube, which discovers resources at ``/api/v1/`` and
    ``/apis/GROUP/VERSION/`` (trailing slash; kmock serves discovery only without it) and
    reads, creates and deletes Namespaces by name (paths kmock 0.8 cannot parse). Used only to
    check that the real-cluster mode of these tests works; a real cluster needs none of this.
    """

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        path, method = raw_request.path, raw_request.method
        parts = path.strip("/").split("/")
        namespaces = kmock.resource("", "v1", "namespaces")
        if method == "GET" and path.endswith("/") and len(parts) in (2, 3):
            group_version = "/".join(parts[1:])
            served = [
                {
                    "name": resource.plural,
                    "kind": resource.kind,
                    "namespaced": resource.namespaced,
                    "verbs": ["get", "list"],
                }
                for resource in BUILT_IN
                if resource.api_version == group_version
            ]
            if not served:
                return aiohttp.web.json_response(
                    {"kind": "Status", "code": 404, "reason": "NotFound"}, status=404
                )
            return aiohttp.web.json_response(
                {"kind": "APIResourceList", "groupVersion": group_version, "resources": served}
            )
        if parts[:3] == ["api", "v1", "namespaces"] and method == "POST" and len(parts) == 3:
            body = await raw_request.json()
            name = body["metadata"]["name"]
            body["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            self.objects[namespaces, None, name] = body
            return aiohttp.web.json_response(body, status=201)
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4 and method in ("GET", "DELETE"):
            key = (namespaces, None, parts[3])
            if key not in self.objects or self.objects[key].deleted:
                return aiohttp.web.json_response(
                    {"kind": "Status", "code": 404, "reason": "NotFound"}, status=404
                )
            stored = self.objects[key].raw
            if method == "DELETE":
                self.objects[key].delete()
            return aiohttp.web.json_response(stored)
        return await super().__call__(raw_request)


def write_kubeconfig(
    path: Path, server: str, *, extra_contexts: dict[str, tuple[str, str]] | None = None
) -> str:
    """A kubeconfig whose current context "emulator" talks to ``server`` with :data:`TOKEN`.

    ``extra_contexts`` adds contexts: name → (server, token).
    """
    contexts = {"emulator": (server, TOKEN), **(extra_contexts or {})}
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "emulator",
        "clusters": [{"name": name, "cluster": {"server": url}} for name, (url, _) in contexts.items()],
        "users": [{"name": name, "user": {"token": token}} for name, (_, token) in contexts.items()],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name in contexts],
    }
    path.write_text(yaml.safe_dump(document))
    return str(path)


class Seeder:
    """Puts objects into the cluster under test and hands out namespaces and readers."""

    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig

    def reader(self, *, sleep: Callable[[float], None] | None = None, **access: Any) -> ClusterReader:
        """A reader for the cluster under test; ``access`` overrides ClusterAccess fields.

        ``sleep`` replaces the pause between retries (tests record the delays instead of waiting).
        """
        settings: dict[str, Any] = {
            "kubeconfig": self.kubeconfig,
            "request_timeout": 10.0,
            "retry": FAST_RETRY,
        }
        settings.update(access)
        return ClusterReader(ClusterAccess(**settings), environ={}, sleep=sleep or time.sleep)

    def namespace(self, labels: dict[str, str] | None = None) -> str:
        raise NotImplementedError

    def add(self, manifest: dict[str, Any]) -> None:
        raise NotImplementedError

    def serves_cilium(self) -> bool:
        raise NotImplementedError


class EmulatorSeeder(Seeder):
    """Seeds kmock's in-memory store directly; every resource it holds is "served"."""

    _numbers = itertools.count(1)

    def __init__(self, kmock: Any, kubeconfig: str) -> None:
        super().__init__(kubeconfig)
        self.kmock = kmock
        # A real API server serves every built-in resource even when it holds no objects.
        for resource in BUILT_IN:
            kmock.resources[f"{resource.api_version}/{resource.plural}"] = {}

    def namespace(self, labels: dict[str, str] | None = None) -> str:
        name = f"team-{next(self._numbers)}"
        # The API server adds this label to every namespace; the emulator does not.
        all_labels = {"kubernetes.io/metadata.name": name, **(labels or {})}
        self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": all_labels}})
        return name

    def add(self, manifest: dict[str, Any]) -> None:
        api_version = manifest["apiVersion"]
        group, _, version = api_version.rpartition("/")
        plural = {
            "NetworkPolicy": "networkpolicies",
            "CiliumNetworkPolicy": "ciliumnetworkpolicies",
            "CiliumClusterwideNetworkPolicy": "ciliumclusterwidenetworkpolicies",
            "IngressClass": "ingressclasses",
            "GatewayClass": "gatewayclasses",
        }.get(manifest["kind"], manifest["kind"].lower() + "s")
        resource = self.kmock.resource(group, version, plural)
        metadata = manifest["metadata"]
        # Built-in kinds come back from a real API server without apiVersion/kind in list items.
        stored = {
            key: value
            for key, value in manifest.items()
            if group == "cilium.io" or key not in ("apiVersion", "kind")
        }
        self.kmock.objects[resource, metadata.get("namespace"), metadata["name"]] = stored

    def serves_cilium(self) -> bool:
        return True


class RealClusterSeeder(Seeder):
    """Creates objects through pytest-helm-charts' pykube client in throw-away namespaces."""

    def __init__(self, kube_cluster: Any, namespace_factory: Any) -> None:
        super().__init__(kube_cluster.kube_config_path)
        self.api = kube_cluster.kube_client
        self.namespace_factory = namespace_factory

    def namespace(self, labels: dict[str, str] | None = None) -> str:
        import secrets

        name = f"netpol-live-{secrets.token_hex(4)}"
        self.namespace_factory(name, extra_metadata={"labels": labels or {}})
        return name

    def add(self, manifest: dict[str, Any]) -> None:
        import pykube

        kind = pykube.object_factory(self.api, manifest["apiVersion"], manifest["kind"])
        kind(self.api, manifest).create()

    def serves_cilium(self) -> bool:
        # pykube's discovery call raises requests' HTTPError (not pykube's) for an unknown group.
        response = self.api.get(version="cilium.io/v2")
        return bool(response.ok)
