"""Helm 3's release record: what Helm last applied, decoded from its Secret (pure).

Helm 3 keeps every revision of a release in a Secret named ``sh.helm.release.v1.<release>.v<N>``
(type ``helm.sh/release.v1``, labels ``owner=helm``, ``name``, ``status``, ``version``). Its
``data.release`` is the release as JSON, gzipped and base64-encoded by Helm, and - like any
Secret data served by the API - base64-encoded once more. Releases stored before Helm compressed
them are plain JSON under the same two layers of base64.

``helm upgrade`` diffs against the release it calls current: the latest revision when it is
deployed, else the latest deployed one, else (nothing deployed yet) the latest failed or
superseded one. :func:`current_release` makes the same choice.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..kube.names import DEPLOYABLE_POLICY_KINDS
from .yamlio import iter_documents

SECRET_TYPE = "helm.sh/release.v1"
_SECRET_NAME = re.compile(r"sh\.helm\.release\.v1\.(?P<release>.+)\.v(?P<version>\d+)\Z")
_GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True)
class HelmReleaseRecord:
    """One decoded revision of a Helm release."""

    name: str
    namespace: str
    version: int
    status: str
    manifest: str
    secret: str

    def policies(self) -> list[dict[str, Any]]:
        """The policies of the manifest Helm applied: NetworkPolicy, CiliumNetworkPolicy and the
        cluster-scoped kinds a release creates through ``customResources``."""
        documents = iter_documents(self.manifest, f"Secret {self.secret} (release manifest)")
        return [
            d.data
            for d in documents
            if isinstance(d.data, dict) and d.data.get("kind") in DEPLOYABLE_POLICY_KINDS
        ]


def decode_release(data: str, *, secret: str) -> dict[str, Any]:
    """Decode the ``data.release`` value of a release Secret as the API serves it.

    Raises :class:`InputError` naming the Secret when any layer is not what Helm writes.
    """
    try:
        helm_layer = base64.b64decode(data, validate=True)  # the API's encoding of Secret data
        payload = base64.b64decode(helm_layer, validate=True)  # Helm's own base64
    except (binascii.Error, ValueError) as exc:
        raise InputError(
            f"Secret {secret}: data.release is not base64 of base64 as Helm 3 stores it",
            hint="is it a Helm 3 release Secret (type helm.sh/release.v1)?",
        ) from exc
    if payload[:3] == _GZIP_MAGIC:
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"Secret {secret}: the release data is not valid gzip") from exc
    try:
        release = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"Secret {secret}: the decoded release is not JSON") from exc
    if not isinstance(release, dict):
        raise InputError(f"Secret {secret}: the decoded release is not a JSON object")
    return release


def _record(secret: Mapping[str, Any]) -> HelmReleaseRecord:
    metadata = secret.get("metadata") or {}
    name = str(metadata.get("name") or "")
    data = (secret.get("data") or {}).get("release")
    if not isinstance(data, str):
        raise InputError(f"Secret {name}: no data.release", hint="is it a Helm 3 release Secret?")
    release = decode_release(data, secret=name)
    info = release.get("info") if isinstance(release.get("info"), Mapping) else {}
    assert isinstance(info, Mapping)
    version = release.get("version")
    if not isinstance(version, int):
        match = _SECRET_NAME.match(name)
        version = int(match["version"]) if match else 0
    return HelmReleaseRecord(
        name=str(release.get("name") or ""),
        namespace=str(release.get("namespace") or metadata.get("namespace") or ""),
        version=version,
        status=str(info.get("status") or (metadata.get("labels") or {}).get("status") or ""),
        manifest=str(release.get("manifest") or ""),
        secret=name,
    )


def release_secrets(objects: Iterable[Mapping[str, Any]], release: str) -> list[Mapping[str, Any]]:
    """The release Secrets of ``release`` among ``objects`` (by name, as Helm names them)."""
    found = []
    for obj in objects:
        if obj.get("kind") not in ("Secret", None):
            continue
        match = _SECRET_NAME.match(str((obj.get("metadata") or {}).get("name") or ""))
        if match and match["release"] == release:
            found.append(obj)
    return found


def current_release(secrets: Iterable[Mapping[str, Any]], release: str) -> HelmReleaseRecord | None:
    """The revision ``helm upgrade`` would diff against, or None when the release has none."""
    candidates = []
    for secret in release_secrets(secrets, release):
        name = str((secret.get("metadata") or {}).get("name"))
        match = _SECRET_NAME.match(name)
        assert match is not None
        candidates.append((int(match["version"]), secret))
    if not candidates:
        return None
    candidates.sort(key=lambda item: item[0])
    latest = _record(candidates[-1][1])
    if latest.status == "deployed":
        return latest
    for _version, secret in reversed(candidates[:-1]):
        record = _record(secret)
        if record.status == "deployed":
            return record
    return latest
