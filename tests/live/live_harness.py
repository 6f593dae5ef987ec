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
        if raw_request.content_type == PROTOBUF and raw_request.method in ("POST", "PUT"):
            return await self._protobuf_secret(raw_request)
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

    async def _protobuf_secret(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """Create or replace a Secret sent as protobuf, as client-go's typed clients send it (Helm's
        release records); kmock reads JSON only. Other protobuf bodies are refused."""
        parts = raw_request.path.strip("/").split("/")
        if parts[:3] != ["api", "v1", "namespaces"] or len(parts) < 5 or parts[4] != "secrets":
            return aiohttp.web.json_response({"kind": "Status", "code": 415}, status=415)
        secret = decode_secret(await raw_request.read())
        namespace = parts[3]
        secret["metadata"]["namespace"] = namespace
        key = (kmock.resource("", "v1", "secrets"), namespace, secret["metadata"]["name"])
        exists = key in self.objects and not self.objects[key].deleted
        if raw_request.method == "POST" and exists:
            return aiohttp.web.json_response(
                {"kind": "Status", "code": 409, "reason": "AlreadyExists"}, status=409
            )
        self.objects[key] = secret
        return aiohttp.web.json_response(secret, status=201 if raw_request.method == "POST" else 200)


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


#: client-go's typed clients (Helm's release storage) send built-in objects as protobuf.
PROTOBUF = "application/vnd.kubernetes.protobuf"


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one protobuf message: varints and length-delimited bytes."""
    out: list[tuple[int, int | bytes]] = []
    at = 0

    def varint() -> int:
        nonlocal at
        value = shift = 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while at < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, varint()))
        elif wire == 2:
            size = varint()
            out.append((number, data[at : at + size]))
            at += size
        else:
            raise ValueError(f"protobuf wire type {wire} not expected in a Secret")
    return out


def _string_map(entries: list[bytes], *, text: bool) -> dict[str, Any]:
    import base64

    out: dict[str, Any] = {}
    for entry in entries:
        pair = dict(_fields(entry))
        key = bytes(pair.get(1, b"")).decode()  # type: ignore[arg-type]
        value = bytes(pair.get(2, b""))  # type: ignore[arg-type]
        out[key] = value.decode() if text else base64.b64encode(value).decode()
    return out


def decode_secret(body: bytes) -> dict[str, Any]:
    """A v1 Secret from Kubernetes' protobuf envelope (``k8s\\0`` + runtime.Unknown): name,
    labels, annotations, data, type — what Helm's release records hold."""
    if not body.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf body")
    raw = next(value for number, value in _fields(body[4:]) if number == 2)
    secret = _fields(bytes(raw))  # type: ignore[arg-type]
    metadata_fields = _fields(bytes(next(v for n, v in secret if n == 1)))  # type: ignore[arg-type]
    metadata: dict[str, Any] = {
        "name": next(bytes(v).decode() for n, v in metadata_fields if n == 1),  # type: ignore[arg-type]
        "labels": _string_map([bytes(v) for n, v in metadata_fields if n == 11], text=True),  # type: ignore[arg-type]
        "annotations": _string_map([bytes(v) for n, v in metadata_fields if n == 12], text=True),  # type: ignore[arg-type]
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "data": _string_map([bytes(v) for n, v in secret if n == 2], text=False),  # type: ignore[arg-type]
        "type": next((bytes(v).decode() for n, v in secret if n == 3), "Opaque"),  # type: ignore[arg-type]
    }


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
            "ClusterNetworkPolicy": "clusternetworkpolicies",
            "AdminNetworkPolicy": "adminnetworkpolicies",
            "BaselineAdminNetworkPolicy": "baselineadminnetworkpolicies",
            "IngressClass": "ingressclasses",
            "GatewayClass": "gatewayclasses",
        }.get(manifest["kind"], manifest["kind"].lower() + "s")
        resource = self.kmock.resource(group, version, plural)
        metadata = manifest["metadata"]
        # Built-in kinds come back from a real API server without apiVersion/kind in list items.
        stored = {
            key: value
            for key, value in manifest.items()
            if group in ("cilium.io", "policy.networking.k8s.io") or key not in ("apiVersion", "kind")
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
