"""The values extension, compiled to what the stock chart deploys: ``customResources`` entries.

The extension (``networkPolicy.policies``, ``networkPolicy.defaultDeny``,
``networkPolicy.suggested`` and ``ciliumNetworkPolicy`` on charts without a Cilium template) is
rendered by the chart overlays where they are laid. On the chart shapes with ``customResources``
(image v2.51.0 on) ``render --values-out`` writes the same objects as entries instead, so the
stock chart deploys them with no overlay:

* ``d-cr-tpl`` (image v2.91.0 on): names and labels are templates (``{{ include "fullname" . }}``,
  ``{{ .Release.Name }}``, ``{{ .Chart.Version }}``), so one file serves every track's release,
  exactly as the overlays name and label them;
* ``d-cr-separator`` (v2.80.1 - v2.90.0): entries are written literally for the release being
  rendered (``--track`` picks the canary or rollout release);
* ``d-cr``, ``d-cr-rewrite`` (v2.51.0 - v2.80.0): entries run into one document there, so every
  object goes into ONE entry of ``kind: List`` (Helm applies each item; the chart's worker
  Deployments are written the same way), the project's own entries included.

The compiled keys are taken out of the values, so a chart that has the overlays anyway does not
render the objects twice.
"""

from __future__ import annotations

import re

from ..kube.releases import fullname, object_name
from ..records import field, record
from .chart import (
    CHART_DEFAULTS,
    DEFAULT_DENY_SPEC,
    DEFAULT_DENY_SUFFIX,
    SUGGESTED_SUFFIX,
    shared_labels,
)
from .custom_resources import entries_of
from .delivery import enabled as _enabled
from .delivery import entries_on as _entries_on
from .delivery import extension_objects_wanted as extension_objects_wanted  # re-exported
from .merge import deep_copy
from .shapes import ChartShape
from .suggest import DEFAULT_INGRESS_NAMESPACE, suggested_spec

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

#: (block, key) of the extension that the overlays render.
NETWORK_EXTENSION_KEYS = ("policies", "defaultDeny", "suggested")


@record
class Compiled:
    """The values with the extension as ``customResources`` entries, and what was done."""

    values: dict[str, Any]
    #: "<kind> <name>" of every compiled object, in order
    objects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@record(frozen=True)
class CompileTarget:
    """Who the literal names and labels are for (shapes without ``tpl``)."""

    helm_release: str
    release: str
    chart_version: str
    project_id: str | None = None


def compile_extension(values: dict[str, Any], shape: ChartShape, target: CompileTarget) -> Compiled:
    """``values`` (the merged values file) with the extension compiled into ``customResources``."""
    result = deep_copy(values)
    compiled = Compiled(result)
    if not shape.custom_resources:
        return compiled
    entries = _entries(values, shape, target)
    network = result.get("networkPolicy")
    if isinstance(network, dict):
        for key in NETWORK_EXTENSION_KEYS:
            network.pop(key, None)
    cilium = result.get("ciliumNetworkPolicy")
    if isinstance(cilium, dict):
        if shape.cilium_template:
            cilium.pop("policies", None)
        else:
            # The chart has no Cilium template: the block only ever fed the overlay.
            del result["ciliumNetworkPolicy"]
    if not entries:
        return compiled
    base = fullname(
        target.helm_release,
        values.get("nameOverride") if isinstance(values.get("nameOverride"), str) else None,
    )
    compiled.objects = [f"{e['kind']} {_display_name(e, base)}" for e in entries]
    own = [entry for _, entry in entries_of(result.get("customResources"))]
    if shape.separator:
        result["customResources"] = [*own, *entries]
    else:
        items = [*own, *entries]
        result["customResources"] = [{"apiVersion": "v1", "kind": "List", "items": items}]
        compiled.notes.append(
            f"chart shape {shape.id} writes no '---' between customResources entries: the compiled objects"
            + (" and the project's own entries" if own else "")
            + " are items of ONE entry of kind List, which Helm applies item by item"
        )
    if not shape.tpl:
        compiled.notes.append(
            f"chart shape {shape.id} does not template customResources: the compiled names and labels are "
            f"those of release {target.helm_release}; a canary or rollout deploy needs a values file "
            "rendered for its track (--track)"
        )
    return compiled


def _display_name(entry: dict[str, Any], base: str) -> str:
    """The object name for the release at hand (a templated name shows what it renders to)."""
    name = entry["metadata"]["name"]
    if "{{" not in name:
        return str(name)
    suffix = re.search(r'"([^"]+)" \| trunc', name)
    return object_name(base, suffix[1]) if suffix else base


def _escape(value: Any) -> Any:
    """Strings of the user's own as literal text for ``tpl``: ``{{`` becomes ``{{ "{{" }}``."""
    if isinstance(value, str):
        return value.replace("{{", '{{ "{{" }}') if "{{" in value else value
    if isinstance(value, dict):
        return {_escape(key): _escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escape(item) for item in value]
    return value


#: Names and labels as templates: exactly what the overlays write, for whichever release renders.
_TEMPLATED_LABELS = {
    "app": '{{ include "appname" . }}',
    "chart": '{{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}',
    "release": "{{ .Release.Name }}",
    "heritage": "{{ .Release.Service }}",
    "app.kubernetes.io/name": '{{ include "appname" . }}',
    "helm.sh/chart": '{{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}',
    "app.kubernetes.io/managed-by": "{{ .Release.Service }}",
    "app.kubernetes.io/instance": "{{ .Release.Name }}",
}


def _templated_name(suffix: str | None) -> str:
    if suffix is None:
        return '{{ include "fullname" . }}'
    return f'{{{{ printf "%s-%s" (include "fullname" .) "{suffix}" | trunc 63 | trimSuffix "-" }}}}'


def _entries(values: dict[str, Any], shape: ChartShape, target: CompileTarget) -> list[dict[str, Any]]:
    extra = values.get("extraLabels") if isinstance(values.get("extraLabels"), dict) else {}
    if shape.tpl:
        labels: dict[str, Any] = dict(_TEMPLATED_LABELS)
        for key, value in (extra or {}).items():
            labels[str(_escape(key))] = _escape("" if value is None else value)
        proj = "{{ .Values.gitlab.projectID }}"
    else:
        override = values.get("releaseOverride")
        labels = shared_labels(
            target.helm_release,
            release_override=override if isinstance(override, str) and override else target.release,
            chart_version=target.chart_version,
            extra_labels=extra,
            shape=shape,
        )
        proj = target.project_id or ""
    name_override = values.get("nameOverride") or None
    base = fullname(target.helm_release, name_override if isinstance(name_override, str) else None)

    def name(suffix: str | None) -> str:
        if shape.tpl:
            return _templated_name(suffix)
        return base if suffix is None else object_name(base, suffix)

    def spec(value: Any) -> Any:
        return _escape(deep_copy(value)) if shape.tpl else deep_copy(value)

    entries: list[dict[str, Any]] = []
    network = values.get("networkPolicy")
    if _enabled(network):
        assert isinstance(network, dict)
        suggested = network.get("suggested")
        if _enabled(suggested):
            assert isinstance(suggested, dict)
            ingress = suggested.get("ingressNamespace") or DEFAULT_INGRESS_NAMESPACE
            entries.append(_netpol(name(SUGGESTED_SUFFIX), labels, suggested_spec(target.release, ingress)))
        for key, policy in _entries_on(network):
            entries.append(_netpol(name(key), labels, spec(policy.get("spec") or {})))
        if _enabled(network.get("defaultDeny")):
            entries.append(_netpol(name(DEFAULT_DENY_SUFFIX), labels, deep_copy(DEFAULT_DENY_SPEC)))
    cilium = values.get("ciliumNetworkPolicy")
    if _enabled(cilium):
        assert isinstance(cilium, dict)
        cilium_labels = {**labels, "app.gitlab.com/proj": proj}
        if not shape.cilium_template:
            main_spec = cilium.get("spec") or CHART_DEFAULTS["ciliumNetworkPolicy"]["spec"]
            entries.append(_cilium(name(None), cilium_labels, cilium, spec(main_spec)))
        for key, policy in _entries_on(cilium):
            entries.append(_cilium(name(key), cilium_labels, policy, spec(policy.get("spec") or {})))
    return entries


def _netpol(name: str, labels: dict[str, Any], spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": spec,
    }


def _cilium(name: str, labels: dict[str, Any], block: dict[str, Any], spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if _enabled(block.get("alerts")):
        metadata["annotations"] = {"app.gitlab.com/alert": "true"}
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": metadata, "spec": spec}
