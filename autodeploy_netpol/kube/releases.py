"""Auto Deploy's releases: tracks, Helm release names, the chart's object names, and what a live
object's labels and annotations say about the Helm release that owns it.

Auto Deploy deploys one app as Helm release ``<release>`` (``$HELM_RELEASE_NAME``, default the
environment slug) on the stable track and ``<release>-canary`` / ``<release>-rollout`` on the
others. The auto-deploy-app chart names its objects ``<release>-auto-deploy`` (``fullname``) and
``<fullname>-<key>``, cut to 63 characters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ..records import record
from .labels import (
    CHART_LABEL,
    HELM,
    HELM_NAMESPACE_ANNOTATION,
    HELM_RELEASE_ANNOTATION,
    HERITAGE_LABEL,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    RELEASE_LABEL,
    RESOURCE_POLICY_ANNOTATION,
    RESOURCE_POLICY_KEEP,
    TILLER,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

STABLE = "stable"
CANARY = "canary"
ROLLOUT = "rollout"
#: Every track Auto Deploy deploys (``--set application.track=<track>``), stable first.
TRACKS = (STABLE, CANARY, ROLLOUT)
#: The tracks deployed as a release of their own, ``<release>-<track>``.
SUFFIXED_TRACKS = (CANARY, ROLLOUT)

CHART_NAME = "auto-deploy-app"
#: The ``chart`` label value of the auto-deploy-app chart starts with this (then the version).
CHART_LABEL_PREFIX = f"{CHART_NAME}-"
#: ``fullname`` for the default chart name: ``<release>`` + this.
OBJECT_NAME_SUFFIX = "-auto-deploy"
MAX_NAME = 63


def helm_release(release: str, track: str = STABLE) -> str:
    """The Helm release Auto Deploy deploys ``track`` of the app ``release`` as."""
    return release if track in ("", STABLE) else f"{release}-{track}"


def app_releases(release: str) -> dict[str, str]:
    """Helm release name → track, for every release Auto Deploy makes for one app."""
    return {helm_release(release, track): track for track in TRACKS}


def split_release(name: str) -> tuple[str, str]:
    """``production-canary`` → (``production``, ``canary``); a plain release is the stable track."""
    for track in SUFFIXED_TRACKS:
        if name.endswith(f"-{track}"):
            return name[: -len(track) - 1], track
    return name, STABLE


def truncate_name(name: str) -> str:
    """Helm's ``trunc 63 | trimSuffix "-"``."""
    name = name[:MAX_NAME]
    return name[:-1] if name.endswith("-") else name


def fullname(release: str, name_override: str | None = None) -> str:
    """The chart's ``fullname`` template: ``<release>-auto-deploy`` for the default chart name."""
    name = f"{release}-{name_override or CHART_NAME}"
    if name.endswith("-app"):
        name = name[: -len("-app")]
    return truncate_name(name)


def object_name(base: str, key: str) -> str:
    """Object name of a named policy: ``<fullname>-<key>``, cut like ``fullname``."""
    return truncate_name(f"{base}-{key}")


def release_named_in(name: str, releases: Collection[str]) -> str | None:
    """The release whose chart object names (``<release>-auto-deploy[-<key>]``) ``name`` follows.

    The longest release wins (``production-canary`` before ``production``). A name is only a hint:
    anyone can call a policy that.
    """
    for release in sorted(releases, key=len, reverse=True):
        base = fullname(release)
        if name == base or name.startswith(f"{base}-"):
            return release
    return None


def _text(value: Any) -> str | None:
    # The API serves strings; a hand-written snapshot may hold numbers (release: 2024).
    if type(value) is str or value is None:
        return value
    return None if isinstance(value, dict | list) else str(value)


def release_label(labels: Mapping[str, Any]) -> str | None:
    """The release the chart's labels name: ``release``, else ``app.kubernetes.io/instance``."""
    return _text(labels.get(RELEASE_LABEL)) or _text(labels.get(INSTANCE_LABEL)) or None


@record(frozen=True, slots=True)
class ReleaseMarkers:
    """What a live object's metadata says about the Helm release that owns it.

    Helm 3 (3.2+) writes the ``meta.helm.sh`` annotations and the managed-by label on every
    object it applies and checks them before adopting an object into a release. The chart's
    ``release`` / ``heritage`` labels say which release rendered the object, but ``helm
    template | kubectl apply`` writes them too: they are evidence, not Helm's ownership.
    """

    annotated_release: str | None = None
    annotated_namespace: str | None = None
    managed_by: str | None = None
    heritage: str | None = None
    release_label: str | None = None
    chart: str | None = None
    #: ``helm.sh/resource-policy: keep``: Helm never deletes the object.
    keep: bool = False

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> ReleaseMarkers:
        """The markers of one manifest (anything that is not a string map counts as absent)."""
        metadata = manifest.get("metadata")
        if not isinstance(metadata, Mapping):
            return cls()
        labels = metadata.get("labels")
        if not isinstance(labels, Mapping):
            labels = {}
        annotations = metadata.get("annotations")
        if not isinstance(annotations, Mapping):
            annotations = {}
        return cls(
            _text(annotations.get(HELM_RELEASE_ANNOTATION)),
            _text(annotations.get(HELM_NAMESPACE_ANNOTATION)),
            _text(labels.get(MANAGED_BY_LABEL)),
            _text(labels.get(HERITAGE_LABEL)),
            release_label(labels),
            _text(labels.get(CHART_LABEL)),
            annotations.get(RESOURCE_POLICY_ANNOTATION) == RESOURCE_POLICY_KEEP,
        )

    @property
    def from_chart(self) -> bool:
        """The ``chart`` label names the auto-deploy-app chart."""
        return bool(self.chart and self.chart.startswith(CHART_LABEL_PREFIX))

    @property
    def labelled_release(self) -> str | None:
        """The release the chart labels name, when Helm (or Tiller) or the auto-deploy-app chart
        wrote them: ``release`` (or ``app.kubernetes.io/instance``) with ``heritage`` (or the
        managed-by label) ``Helm``/``Tiller``, or with an ``auto-deploy-app-*`` chart label."""
        if not self.release_label:
            return None
        service = self.heritage if self.heritage is not None else self.managed_by
        if service in (HELM, TILLER) or self.from_chart:
            return self.release_label
        return None

    @property
    def release(self) -> str | None:
        """The release the object names: Helm's annotation when present, else the chart labels."""
        return self.annotated_release or self.labelled_release

    def annotated_for(self, release: str, namespace: str) -> bool:
        """Helm's annotations name ``release`` of ``namespace`` (an absent namespace annotation is
        not held against it: only the name was written before Helm 3.2's pair)."""
        return self.annotated_release == release and self.annotated_namespace in (None, namespace)

    def adoption_problems(self, release: str, namespace: str) -> list[str]:
        """Why Helm 3 refuses to adopt the object into ``release`` (empty when it would adopt it).

        Helm's own check before it takes over an existing object that is not in the release's last
        manifest: label ``app.kubernetes.io/managed-by=Helm`` and the release-name and
        release-namespace annotations must all match; otherwise the upgrade fails with
        "... exists and cannot be imported into the current release".
        """
        problems = []
        for where, value, key, wanted in (
            ("label", self.managed_by, MANAGED_BY_LABEL, HELM),
            ("annotation", self.annotated_release, HELM_RELEASE_ANNOTATION, release),
            ("annotation", self.annotated_namespace, HELM_NAMESPACE_ANNOTATION, namespace),
        ):
            if value is None:
                problems.append(f'{where} {key} is missing (must be "{wanted}")')
            elif value != wanted:
                problems.append(f'{where} {key} is "{value}" (must be "{wanted}")')
        return problems


__all__ = [
    "CANARY",
    "CHART_LABEL_PREFIX",
    "CHART_NAME",
    "MAX_NAME",
    "OBJECT_NAME_SUFFIX",
    "ROLLOUT",
    "STABLE",
    "SUFFIXED_TRACKS",
    "TRACKS",
    "ReleaseMarkers",
    "app_releases",
    "fullname",
    "helm_release",
    "object_name",
    "release_label",
    "release_named_in",
    "split_release",
    "truncate_name",
]
