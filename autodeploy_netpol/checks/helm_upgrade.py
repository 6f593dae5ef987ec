"""What ``helm upgrade`` (Helm 3, as Auto Deploy runs it) writes into one live object (pure).

Helm 3 does not replace a live object with the new manifest; it patches it, starting from the
object as the release's previous manifest wrote it ("original"):

* built-in kinds (NetworkPolicy): a **three-way strategic merge** of original, new manifest and
  live object. A field the new manifest sets is written; a field the original set and the new
  manifest drops is removed; a field only the live object has — a label, an annotation, a key of
  a map in ``spec`` someone else added — is **kept**. Lists without a merge key (every list of a
  NetworkPolicy: ``ingress``, ``egress``, ``policyTypes``, ``matchExpressions``) are replaced whole.
* custom resources (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, ClusterNetworkPolicy):
  a **two-way JSON merge patch** from original to new manifest, applied to the live object: only
  what changed between the two manifests is written, so a hand edit of a field the values did not
  change survives the upgrade (helm/helm#9937, #12888; Helm 4 added a three-way option).
* an object Helm adopts (live, not in the previous manifest) counts the new manifest as original:
  a built-in kind gets the new manifest's fields, a custom resource is left as it is.

Helm adds ``app.kubernetes.io/managed-by: Helm`` and its release annotations to every object it
applies (:func:`as_helm_applies`).

Without Helm's release record (``--helm-history``) the original is not known; it is then
assumed to be the live object as the previous release left it — its spec, and of its labels and
annotations those the chart writes — and the plan says that the verdict rests on it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ..kube.labels import (
    APP_LABEL,
    CHART_LABEL,
    GITLAB_ALERT_ANNOTATION,
    HELM,
    HELM_CHART_LABEL,
    HELM_NAMESPACE_ANNOTATION,
    HELM_RELEASE_ANNOTATION,
    HERITAGE_LABEL,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    RELEASE_LABEL,
    UI_PROJECT_LABEL,
)
from ..kube.names import NETWORK_POLICY

#: Label and annotation keys the auto-deploy-app chart (and its overlays) write: without Helm's
#: record, a live one the new manifest lacks is taken as written by the previous release.
CHART_METADATA_KEYS = frozenset(
    {
        APP_LABEL,
        CHART_LABEL,
        RELEASE_LABEL,
        HERITAGE_LABEL,
        NAME_LABEL,
        HELM_CHART_LABEL,
        HELM,
        HELM_NAMESPACE_ANNOTATION,
        HELM_RELEASE_ANNOTATION,
        MANAGED_BY_LABEL,
        INSTANCE_LABEL,
        UI_PROJECT_LABEL,
        GITLAB_ALERT_ANNOTATION,
    }
)

#: The parts of an object Helm's patch is about (the server owns the rest of ``metadata``, and ``status``).
_CONTENT = ("spec", "specs")

#: How Helm patches a kind, for people.
THREE_WAY = "three-way merge"
MERGE_PATCH = "merge patch from the previous manifest"


def patch_strategy(kind: str) -> str:
    """:data:`THREE_WAY` for the built-in NetworkPolicy, :data:`MERGE_PATCH` for custom resources."""
    return THREE_WAY if kind == NETWORK_POLICY else MERGE_PATCH


def assumed_original(live: Mapping[str, Any]) -> dict[str, Any]:
    """The previous manifest as assumed without Helm's record: the live content, and of its labels
    and annotations the chart's own."""
    metadata = _map(live.get("metadata"))
    sections = {
        section: {k: v for k, v in _map(metadata.get(section)).items() if k in CHART_METADATA_KEYS}
        for section in ("labels", "annotations")
    }
    return {
        **{key: copy.deepcopy(live[key]) for key in _CONTENT if key in live},
        "metadata": {section: keys for section, keys in sections.items() if keys},
    }


def as_helm_applies(
    manifest: Mapping[str, Any], release: str | None, namespace: str | None
) -> dict[str, Any]:
    """The manifest as Helm sends it: Helm adds ``app.kubernetes.io/managed-by: Helm`` and its two
    release annotations to every object it applies (so the new manifest always has both maps)."""
    out = dict(manifest)
    metadata = out["metadata"] = dict(_map(manifest.get("metadata")))
    metadata["labels"] = {**_map(metadata.get("labels")), MANAGED_BY_LABEL: HELM}
    annotations = _map(metadata.get("annotations"))
    if release:
        annotations[HELM_RELEASE_ANNOTATION] = release
        annotations[HELM_NAMESPACE_ANNOTATION] = namespace or ""
    metadata["annotations"] = annotations
    return out


def upgraded(
    kind: str, original: Mapping[str, Any] | None, desired: Mapping[str, Any], live: Mapping[str, Any]
) -> dict[str, Any]:
    """The live object after Helm patches it from ``original`` (``None``: Helm adopts it, the new
    manifest counts as original) to ``desired`` (as Helm sends it: :func:`as_helm_applies`). Only
    labels, annotations and the content (``spec``/``specs``) are patched; of the rest of the
    metadata the result keeps name and namespace."""
    base = original if original is not None else desired
    old, new, current = _patched_part(base), _patched_part(desired), _patched_part(live)
    if kind == NETWORK_POLICY:
        # Helm reads the manifest into the typed object: `spec: null` is an empty spec
        old = {**old, "spec": old.get("spec") or {}}
        new = {**new, "spec": new.get("spec") or {}}
    if kind == NETWORK_POLICY:
        result = _three_way(old, new, current)
    else:
        result = _apply_merge_patch(current, _merge_patch(old, new))
    # the object's content as the patch leaves it; what the server keeps for itself (uid,
    # managedFields, status …) is no content and is left out
    out: dict[str, Any] = {key: value for key, value in desired.items() if key not in (*_CONTENT, "metadata")}
    out.update({key: result[key] for key in _CONTENT if key in result})
    live_metadata = _map(live.get("metadata"))
    metadata: dict[str, Any] = {key: live_metadata[key] for key in ("name", "namespace") if key in live_metadata}
    metadata.update(_map(result.get("metadata")))
    out["metadata"] = metadata
    return out


def _map(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _patched_part(manifest: Mapping[str, Any]) -> dict[str, Any]:
    metadata = _map(manifest.get("metadata"))
    part: dict[str, Any] = {key: manifest[key] for key in _CONTENT if key in manifest}
    part["metadata"] = {
        section: metadata[section] for section in ("labels", "annotations") if section in metadata
    }
    return part


def _three_way(original: Any, desired: Any, live: Any) -> Any:
    """Strategic merge without merge keys: maps merge key by key, everything else is replaced."""
    if not (isinstance(desired, dict) and isinstance(live, dict)):
        return copy.deepcopy(desired)
    before = original if isinstance(original, dict) else {}
    out = {key: value for key, value in live.items() if not (key in before and key not in desired)}
    for key, value in desired.items():
        if value is None:  # an explicit null deletes
            out.pop(key, None)
        elif key in live:
            out[key] = _three_way(before.get(key), value, live[key])
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_patch(original: Any, desired: Any) -> Any:
    """RFC 7386 merge patch from ``original`` to ``desired`` (what Helm 3 sends for a custom resource)."""
    if not (isinstance(original, dict) and isinstance(desired, dict)):
        return copy.deepcopy(desired)
    patch: dict[str, Any] = {key: None for key in original if key not in desired}
    for key, value in desired.items():
        if key not in original:
            patch[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(original[key], dict):
            inner = _merge_patch(original[key], value)
            if inner:
                patch[key] = inner
        elif value != original[key] or type(value) is not type(original[key]):
            patch[key] = copy.deepcopy(value)
    return patch


def _apply_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _apply_merge_patch(out.get(key), value)
    return out


__all__ = [
    "CHART_METADATA_KEYS",
    "MERGE_PATCH",
    "THREE_WAY",
    "as_helm_applies",
    "assumed_original",
    "patch_strategy",
    "upgraded",
]
