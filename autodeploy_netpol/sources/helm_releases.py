"""Helm's release Secrets, for ``--helm-history``: from a snapshot or from the cluster (an edge).

Reading them is opt-in because it needs ``get``/``list`` on Secrets, which RBAC cannot narrow to
Helm's own: whoever may list them may read every Secret in the namespace. The shipped Role
(``deploy/rbac.yaml``) leaves Secrets out on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ClusterError
from .helm_history import current_release

if TYPE_CHECKING:
    from .cluster import ClusterReader

_SECRETS_HINT = (
    "--helm-history reads Helm's release Secrets (sh.helm.release.v1.<release>.v<N>) and needs get/list on "
    "secrets in the namespace, which deploy/rbac.yaml leaves out on purpose (README, 'Ownership warnings'); "
    "drop --helm-history, or grant that rule where reading every Secret of the namespace is acceptable"
)


def read_release_secrets(reader: ClusterReader, namespace: str, release: str) -> list[dict[str, Any]]:
    """The release Secrets of ``release`` in ``namespace`` (Helm labels them owner=helm, name=<release>)."""
    from .cluster import SECRETS

    try:
        return reader.list(SECRETS, namespace, label_selector=f"owner=helm,name={release}")
    except ClusterError as error:
        raise ClusterError(error.message, hint=_SECRETS_HINT) from error


def _policies(secrets: Sequence[Mapping[str, Any]], release: str) -> list[dict[str, Any]] | None:
    record = current_release(secrets, release)
    return record.policies() if record is not None else None


class ClusterHistory:
    """History reader over the cluster: one Secret list per (namespace, release) asked."""

    def __init__(self, reader: ClusterReader) -> None:
        self.reader = reader

    def __call__(self, namespace: str, release: str) -> list[dict[str, Any]] | None:
        return _policies(read_release_secrets(self.reader, namespace, release), release)


class SnapshotHistory:
    """History reader over the release Secrets saved in the live snapshot next to the policies
    (``LiveSnapshot.secrets``: the snapshot is read once, Secrets included)."""

    def __init__(self, secrets: Sequence[Mapping[str, Any]]) -> None:
        self.secrets = secrets

    def __call__(self, namespace: str, release: str) -> list[dict[str, Any]] | None:
        here = [s for s in self.secrets if (s.get("metadata") or {}).get("namespace") in (None, namespace)]
        return _policies(here, release)
