"""The auto-deploy-app chart contract, as a pure model of what Helm renders, shape by shape.

This is what ``render`` uses without ``--chart``; tests render the fixture chart of every shape
(tests/fixtures/charts/shapes/) with real Helm and check that this model agrees object for object.

Contract (GitLab's auto-deploy-app chart, see FACTS.md and :mod:`.shapes`):

* object name = ``fullname`` = ``<release>-<chart name>`` with a trailing ``-app`` removed,
  cut to 63 characters, one trailing ``-`` trimmed → ``<release>-auto-deploy``;
* the spec is copied verbatim from values; no namespace in metadata;
* labels are the chart's ``sharedlabels`` plus ``extraLabels`` (shape ``a``: only ``app``,
  ``chart``, ``release``, ``heritage``); the CiliumNetworkPolicy (shape ``c``) adds
  ``app.gitlab.com/proj`` and, with alerts on, the annotation ``app.gitlab.com/alert: "true"``;
* ``customResources`` entries (from shape ``d-cr``) are written as they are, through ``tpl``
  from shape ``d-cr-tpl`` (:mod:`.custom_resources`).

The values extension (chart-overlays) adds named policies (``<fullname>-<key>``), the suggested
policy as its own object (``networkPolicy.suggested`` → ``<fullname>-suggested``), an opt-in
namespace default-deny policy (``<fullname>-default-deny``) that still allows DNS, and brings the
CiliumNetworkPolicy back on charts from 2.40.0 on, which dropped it. They render only where the
overlays are laid (``overlays=True``); on shapes with ``customResources`` the tool compiles them
into entries instead (:mod:`.extension`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping

from ..errors import InputError
from ..kube.defaults import NAMESPACE_NAME_LABEL
from ..kube.labels import (
    APP_LABEL,
    CHART_LABEL,
    GITLAB_ALERT_ANNOTATION,
    GITLAB_MANAGED_BY_LABEL,
    GITLAB_MANAGED_BY_VALUE,
    HELM,
    HELM_CHART_LABEL,
    HERITAGE_LABEL,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    RELEASE_LABEL,
    UI_PROJECT_LABEL,
)
from ..kube.names import CILIUM_NETWORK_POLICY, DEPLOYMENT, NETWORK_POLICY
from ..kube.releases import CHART_NAME, fullname, object_name, truncate_name
from ..records import record, replace
from ..sources.goyaml import sorted_keys
from .custom_resources import POLICY_KINDS_IN_ENTRIES, render_custom_resources
from .delivery import enabled as _enabled
from .delivery import entries_on as _entries_on
from .delivery import helm_truthy as helm_truthy  # re-exported: the chart model's name for it
from .merge import deep_copy
from .shapes import DEFAULT_CHART_VERSION, NEWEST, ChartShape, chart_version_shapes, parse_version
from .suggest import DEFAULT_INGRESS_NAMESPACE, suggested_spec
from .tpl import Helpers, RootContext

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

NETWORK_POLICY_API = "networking.k8s.io/v1"
CILIUM_API = "cilium.io/v2"
DEFAULT_DENY_SUFFIX = "default-deny"
SUGGESTED_SUFFIX = "suggested"
#: auto-deploy-app 2.40.0 (Jan 2023) removed the CiliumNetworkPolicy template and its values.
CILIUM_REMOVED_IN = (2, 40, 0)
#: The labels of the 4-label chart (shape a) and the 8 shared labels (shape b on), in template order.
LEGACY_LABEL_KEYS = ("app", "chart", "release", "heritage")
SHARED_LABEL_KEYS = (
    "app",
    "chart",
    "release",
    "heritage",
    "app.kubernetes.io/name",
    "helm.sh/chart",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/instance",
)

#: The chart's own defaults for the keys this tool renders (unchanged since 2020).
CHART_DEFAULTS: dict[str, Any] = {
    "gitlab": {"app": None, "env": None, "projectID": None},
    "extraLabels": {},
    "networkPolicy": {
        "enabled": False,
        "spec": {
            "podSelector": {"matchLabels": {}},
            "ingress": [
                {
                    "from": [
                        {"podSelector": {"matchLabels": {}}},
                        {
                            "namespaceSelector": {
                                "matchLabels": {GITLAB_MANAGED_BY_LABEL: GITLAB_MANAGED_BY_VALUE}
                            }
                        },
                    ]
                }
            ],
        },
    },
    "ciliumNetworkPolicy": {
        "enabled": False,
        "alerts": {"enabled": False},
        "spec": {
            "endpointSelector": {},
            "ingress": [
                {"fromEndpoints": [{"matchLabels": {GITLAB_MANAGED_BY_LABEL: GITLAB_MANAGED_BY_VALUE}}]}
            ],
        },
    },
}
#: Defaults of the chart's Deployments that decide pod labels and names.
WORKLOAD_DEFAULTS: dict[str, Any] = {
    "application": {"track": "stable", "tier": "web", "initializeCommand": None},
    "workers": {},
}

#: Top-level values whose chart defaults the model knows (a template may read a missing key
#: under them: it is missing in the deploy too), plus the keys only Auto Deploy or users set.
KNOWN_DEFAULT_KEYS = frozenset(
    {*CHART_DEFAULTS, "customResources", "releaseOverride", "nameOverride", "workers"}
)

#: The default-deny policy of the overlays: nothing in, nothing out except DNS to kube-dns.
DEFAULT_DENY_SPEC: dict[str, Any] = {
    "podSelector": {},
    "policyTypes": ["Ingress", "Egress"],
    "egress": [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ],
}


def appname(release: str, release_override: str | None = None) -> str:
    """The chart's ``appname``: ``releaseOverride`` (Auto Deploy sets it) or the release, cut to 63,
    one trailing ``-`` trimmed."""
    return truncate_name(release_override or release)


def trackable_appname(app: str, track: str) -> str:
    """The web Deployment's name: ``appname`` with ``-<track>`` unless the track is stable."""
    name = f"{app}-{track}"
    if name.endswith("-stable"):
        name = name[: -len("-stable")]
    return truncate_name(name)


def name_helpers(release: str, values: Mapping[str, Any]) -> Helpers:
    """What the chart's name helpers (``include "fullname" .`` …) produce for this release."""
    override = values.get("releaseOverride")
    app = appname(release, override if isinstance(override, str) else None)
    name_override = values.get("nameOverride") or None
    track = (values.get("application") or {}).get("track") or "stable"
    chart = name_override if isinstance(name_override, str) else CHART_NAME
    return Helpers(
        {
            "name": chart[:24].removesuffix("-") if chart[:24].endswith("-") else chart[:24],
            "fullname": fullname(release, name_override if isinstance(name_override, str) else None),
            "appname": app,
            "trackableappname": trackable_appname(app, str(track)),
        }
    )


def chart_label(chart_version: str) -> str:
    """``auto-deploy-app-<version>`` with ``+`` replaced by ``_`` (label values cannot hold ``+``)."""
    return f"{CHART_NAME}-{chart_version.replace('+', '_')}"


def shared_labels(
    release: str,
    *,
    release_override: str | None = None,
    chart_version: str = DEFAULT_CHART_VERSION,
    extra_labels: dict[str, Any] | None = None,
    shape: ChartShape | None = None,
) -> dict[str, str]:
    """The chart's ``sharedlabels`` plus ``extraLabels``, in the order the template writes them.

    A key of ``extraLabels`` that repeats a chart label is written twice by the chart; Helm keeps
    the last (its value, at the chart label's place). Shape ``a`` writes four labels and no
    ``extraLabels``.
    """
    app = appname(release, release_override)
    chart = chart_label(chart_version)
    if shape is not None and not shape.shared_labels:
        return {"app": app, "chart": chart, "release": release, "heritage": "Helm"}
    labels: dict[str, str] = {
        APP_LABEL: app,
        CHART_LABEL: chart,
        RELEASE_LABEL: release,
        HERITAGE_LABEL: HELM,
        NAME_LABEL: app,
        HELM_CHART_LABEL: chart,
        MANAGED_BY_LABEL: HELM,
        INSTANCE_LABEL: release,
    }
    extra = extra_labels or {}
    for key in sorted_keys(extra):
        value = extra[key]
        labels[str(key)] = "" if value is None else _label_text(value)
    return labels


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def version_numbers(chart_version: str) -> tuple[int, int, int]:
    """``"2.39.0"`` → ``(2, 39, 0)``; a leading ``v``, pre-release and build parts are ignored.

    A version that does not parse counts as the newest chart (the default, without Cilium).
    """
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", chart_version.strip())
    if not match:
        return (sys.maxsize, 0, 0)
    return (int(match[1]), int(match[2]), int(match[3] or 0))


def shape_of_version(chart_version: str) -> ChartShape:
    """The shape a chart version stands for when nothing else is known (the newest of its shapes)."""
    version = parse_version(chart_version)
    if version is None:
        return NEWEST
    return chart_version_shapes(version)[-1][0]


def ships_cilium_template(chart_version: str) -> bool:
    """True for the chart versions (2.6.0 - 2.39.x) that render the CiliumNetworkPolicy themselves.

    From 2.40.0 on the chart-overlays bring the template back (``overlay`` lays it only then).
    """
    return (2, 6, 0) <= version_numbers(chart_version) < CILIUM_REMOVED_IN


def chart_defaults(
    chart_version: str = DEFAULT_CHART_VERSION, shape: ChartShape | None = None
) -> dict[str, Any]:
    """The chart's default values: only shape ``c`` (2.6.0 - 2.39.x) has a ``ciliumNetworkPolicy``
    block (the overlays render it from the user's values alone), only ``b`` on ``extraLabels``."""
    shape = shape or shape_of_version(chart_version)
    defaults = deep_copy(CHART_DEFAULTS)
    if not shape.cilium_template:
        del defaults["ciliumNetworkPolicy"]
    if not shape.shared_labels:
        del defaults["extraLabels"]
    return defaults


def helm_typed(file_values: Mapping[str, Any], set_values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Values as templates see them: numbers from values files are float64 (Helm reads them
    through JSON), ``--set`` values are typed as Helm's strvals types them (``true``/``false``,
    ``null``, integers without a leading zero as int64, everything else a string)."""

    def floats(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: floats(item) for key, item in value.items()}
        if isinstance(value, list):
            return [floats(item) for item in value]
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    def typed(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: typed(item) for key, item in value.items()}
        if not isinstance(value, str):
            return value
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        if value.lower() == "null":
            return None
        if value == "0":
            return 0
        if value and value[0] != "0" and re.fullmatch(r"[-+]?[0-9]+", value):
            number = int(value)
            if -(2**63) <= number < 2**63:
                return number
        return value

    from .merge import helm_merge

    result: dict[str, Any] = floats(dict(file_values))
    if set_values:
        result = helm_merge(result, typed(dict(set_values)))
    return result


#: Where the objects come from, for Helm's output order (kind, then template path, then position).
_CHART_CILIUM = "cilium-network-policy.yaml"
_CUSTOM = "custom-resources.yaml"
_CHART_NETPOL = "network-policy.yaml"
_OVERLAY_CILIUM = "zz-netpol-cilium-network-policy.yaml"
_OVERLAY_CILIUM_POLICIES = "zz-netpol-cilium-policies.yaml"
_OVERLAY_NETPOLS = "zz-netpol-network-policies.yaml"


def helm_kind_order(kind: str) -> tuple[int, str]:
    """Helm's install order: NetworkPolicy is a kind Helm knows (early); Cilium policies and
    ClusterNetworkPolicy are unknown to it and come last, alphabetically."""
    return (0, "") if kind == NETWORK_POLICY else (1, kind)


@record(frozen=True)
class Placed:
    """A rendered object and where it comes from: its template and, for ``customResources``, the
    entry (and how the entry was rendered: as written, ``tpl`` by the model, ``helm``)."""

    template: str
    obj: dict[str, Any]
    entry: int | str | None = None
    how: str = ""


def render_objects(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """The policy objects for complete merged ``values`` (see :func:`render_placed`)."""
    return [placed.obj for placed in render_placed(*args, **kwargs)]


def render_placed(
    values: dict[str, Any],
    *,
    release: str,
    chart_version: str = DEFAULT_CHART_VERSION,
    shape: ChartShape | None = None,
    overlays: bool = True,
    namespace: str = "default",
    helm_fallback: Callable[[int | str, Any], list[Any]] | None = None,
    tpl_values: Mapping[str, Any] | None = None,
    unknown_values: Mapping[str, str] | None = None,
) -> list[Placed]:
    """Render the policy objects for complete merged ``values``, with where each comes from.

    ``values`` are Helm's final values: :func:`chart_defaults` for the shape, the values files,
    then the ``--set`` values. ``release`` is the Helm release name (``<release>`` or
    ``<release>-canary`` …); ``namespace`` the release's (``.Release.Namespace`` in templated
    ``customResources``). ``shape`` defaults to the shape of ``chart_version``; ``overlays`` says
    whether the chart-overlays are laid (they cannot be on shape ``a``). ``helm_fallback`` renders a
    templated entry the model does not cover with real Helm (else it is refused). ``tpl_values``
    are the values as templates see them (:func:`helm_typed`; default: ``values`` with every number
    a float64, as Helm reads values files); ``unknown_values`` the ``--set`` keys of the deploy job
    whose values are not known here (a template reading one is refused).

    The order is Helm's: kind (NetworkPolicy first, then the kinds Helm does not know,
    alphabetically), then template file, then position in the file.
    """
    shape = shape or shape_of_version(chart_version)
    overlays = overlays and shape.shared_labels
    base_name = fullname(release, values.get("nameOverride") or None)
    override = values.get("releaseOverride")
    labels = shared_labels(
        release,
        release_override=override if isinstance(override, str) else None,
        chart_version=chart_version,
        extra_labels=(values.get("extraLabels") or {}) if shape.shared_labels else {},
        shape=shape,
    )
    placed: list[tuple[tuple[int, str], str, int, Placed]] = []

    def place(template: str, obj: dict[str, Any], entry: int | str | None = None, how: str = "") -> None:
        placed.append(
            (helm_kind_order(obj["kind"]), template, len(placed), Placed(template, obj, entry, how))
        )

    if shape.custom_resources and values.get("customResources"):
        root = RootContext(
            release_name=release,
            release_namespace=namespace,
            chart_name=CHART_NAME,
            chart_version=chart_version,
            values=tpl_values if tpl_values is not None else helm_typed(values),
            helpers=name_helpers(release, values),
            unknown=unknown_values or {},
            complete=KNOWN_DEFAULT_KEYS,
        )
        for entry in render_custom_resources(
            values["customResources"], shape=shape, root=root, fallback=helm_fallback
        ):
            for manifest in _flattened(entry.manifests):
                if manifest.get("kind") in POLICY_KINDS_IN_ENTRIES:
                    # toYaml writes every mapping with its keys sorted (merged entries already are:
                    # each key keeps the place it had in the first entry that wrote it)
                    sorted_manifest = manifest if entry.how == "merged" else _sorted_keys(manifest)
                    place(_CUSTOM, sorted_manifest, entry.indices[-1], entry.how)

    network = values.get("networkPolicy")
    if network is None or not isinstance(network, dict):
        raise InputError(
            "the chart cannot render these values: networkPolicy is not a mapping "
            f"({'null' if network is None else type(network).__name__}), and its template reads "
            ".Values.networkPolicy.enabled",
            hint="remove the networkPolicy line or give it a mapping such as {enabled: false}",
        )
    if _enabled(network):
        place(_CHART_NETPOL, _network_policy(base_name, labels, network.get("spec")))
        if overlays:
            suggested = network.get("suggested")
            if isinstance(suggested, dict) and _enabled(suggested):
                base = override if isinstance(override, str) and override else release
                ingress = suggested.get("ingressNamespace") or DEFAULT_INGRESS_NAMESPACE
                name = object_name(base_name, SUGGESTED_SUFFIX)
                place(_OVERLAY_NETPOLS, _network_policy(name, labels, suggested_spec(base, ingress)))
            for key, policy in _entries_on(network):
                name = object_name(base_name, key)
                place(_OVERLAY_NETPOLS, _network_policy(name, labels, policy.get("spec") or {}))
            if _enabled(network.get("defaultDeny")):
                name = object_name(base_name, DEFAULT_DENY_SUFFIX)
                place(_OVERLAY_NETPOLS, _network_policy(name, labels, DEFAULT_DENY_SPEC))

    cilium = values.get("ciliumNetworkPolicy")
    if shape.cilium_template and not isinstance(cilium, dict):
        raise InputError(
            "the chart cannot render these values: ciliumNetworkPolicy is not a mapping, and its "
            "template reads .Values.ciliumNetworkPolicy.enabled",
            hint="remove the ciliumNetworkPolicy line or give it a mapping such as {enabled: false}",
        )
    if (shape.cilium_template or overlays) and _enabled(cilium):
        assert isinstance(cilium, dict)
        project = (values.get("gitlab") or {}).get("projectID")
        proj = {UI_PROJECT_LABEL: "" if project is None else _label_text(project)}
        spec = cilium.get("spec")
        if shape.cilium_template:
            if not isinstance(cilium.get("alerts"), dict):
                raise InputError(
                    f"auto-deploy-app {chart_version} cannot render ciliumNetworkPolicy without its alerts block:"
                    " its template reads .Values.ciliumNetworkPolicy.alerts.enabled",
                    hint="drop `alerts: null` from the values, or write `alerts: {enabled: false}`",
                )
            # The chart writes its annotations before its labels, app.gitlab.com/proj before the shared ones.
            place(
                _CHART_CILIUM,
                _cilium_policy(base_name, {**proj, **labels}, _alerts(cilium), spec, annotations_first=True),
            )
        else:
            # The overlay's replacement template falls back to the 2.39 default spec (the chart's
            # values no longer carry one) the way sprig's `default` does: for any empty value.
            spec = spec or CHART_DEFAULTS["ciliumNetworkPolicy"]["spec"]
            place(_OVERLAY_CILIUM, _cilium_policy(base_name, {**labels, **proj}, _alerts(cilium), spec))
        if overlays:
            for key, policy in _entries_on(cilium):
                name = object_name(base_name, key)
                spec = policy.get("spec") or {}
                place(
                    _OVERLAY_CILIUM_POLICIES, _cilium_policy(name, {**labels, **proj}, _alerts(policy), spec)
                )
    placed.sort(key=lambda item: (item[0], item[1], item[2]))
    return [replace(item, obj=_as_helm_prints(item.obj)) for *_, item in placed]


def _flattened(manifests: list[Any]) -> list[dict[str, Any]]:
    """Objects as Helm applies them: the items of a ``kind: List`` (or ``<Kind>List``) one by one."""
    out: list[dict[str, Any]] = []
    for manifest in manifests:
        if not isinstance(manifest, dict):
            continue
        kind = manifest.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(manifest.get("items"), list):
            out.extend(_flattened(manifest["items"]))
        else:
            out.append(manifest)
    return out


def render_workloads(
    values: dict[str, Any],
    *,
    release: str,
    chart_version: str = DEFAULT_CHART_VERSION,
    shape: ChartShape | None = None,
    namespace: str | None = None,
) -> list[dict[str, Any]]:
    """The release's web and worker Deployments as far as policies see them: names, labels,
    selectors and pod labels, as the chart's deployment.yaml and worker-deployment.yaml write them.

    Web pods carry ``track``, ``tier`` and the shared labels (shape ``a``: ``app``, ``track``,
    ``tier``, ``release``); worker pods only ``track``, ``tier: worker``, ``release`` and, from
    image v2.23.0 on, ``workers.<name>.labels`` — no ``app`` label. A key repeated in
    ``extraLabels`` or a worker's ``labels`` is written twice; the last one counts.
    """
    shape = shape or shape_of_version(chart_version)
    given: dict[str, Any] = values["application"] if isinstance(values.get("application"), dict) else {}
    application = {**WORKLOAD_DEFAULTS["application"], **{k: v for k, v in given.items() if v is not None}}
    track = _label_text(application.get("track") or "stable")
    tier = _label_text(application.get("tier") if application.get("tier") is not None else "")
    override = values.get("releaseOverride")
    app = appname(release, override if isinstance(override, str) else None)
    web_name = trackable_appname(app, track)
    metadata_ns = {"namespace": namespace} if namespace else {}
    objects: list[dict[str, Any]] = []
    if helm_truthy(application.get("initializeCommand")):
        return objects
    if shape.shared_labels:
        shared = shared_labels(
            release,
            release_override=override if isinstance(override, str) else None,
            chart_version=chart_version,
            extra_labels=values.get("extraLabels") or {},
            shape=shape,
        )
        pod_labels = _layered({"track": track, "tier": tier}, shared)
        object_labels = pod_labels
    else:
        pod_labels = {"app": app, "track": track, "tier": tier, "release": release}
        object_labels = {**pod_labels, "chart": chart_label(chart_version), "heritage": "Helm"}
    selector = {"app": app, "track": track, "tier": tier, "release": release}
    objects.append(_deployment(web_name, object_labels, selector, pod_labels, metadata_ns))
    workers = values.get("workers") or {}
    if isinstance(workers, dict):
        for worker_name in sorted(workers):
            worker = workers[worker_name] if isinstance(workers[worker_name], dict) else {}
            worker_selector = {"track": track, "tier": "worker", "release": release}
            extra: dict[str, Any] = (
                worker["labels"] if shape.worker_labels and isinstance(worker.get("labels"), dict) else {}
            )
            worker_pods = _layered(
                worker_selector, {str(k): _label_text(v) for k, v in extra.items()}, sort=True
            )
            labels = {**worker_selector, "chart": chart_label(chart_version), "heritage": "Helm"}
            objects.append(
                _deployment(f"{web_name}-{worker_name}", labels, worker_selector, worker_pods, metadata_ns)
            )
    return objects


def _layered(first: dict[str, str], then: Mapping[str, str], *, sort: bool = False) -> dict[str, str]:
    labels = dict(first)
    for key in sorted_keys(then) if sort else then:
        labels[key] = then[key]
    return labels


def _deployment(
    name: str, labels: dict[str, str], selector: dict[str, str], pods: dict[str, str], extra: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": DEPLOYMENT,
        "metadata": {"name": name, **extra, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(selector)},
            "template": {"metadata": {"labels": dict(pods)}},
        },
    }


def _as_helm_prints(value: Any) -> Any:
    """Numbers as Helm prints them: values pass through JSON as float64, so ``8.0`` renders as ``8``."""
    if isinstance(value, dict):
        return {key: _as_helm_prints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_helm_prints(item) for item in value]
    # Go's JSON encoder writes integral floats below 1e21 without a fraction (and -0 as 0).
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def _network_policy(name: str, labels: dict[str, str], spec: Any) -> dict[str, Any]:
    return _object(NETWORK_POLICY, NETWORK_POLICY_API, name, labels, None, spec)


def _cilium_policy(
    name: str,
    labels: dict[str, str],
    annotations: dict[str, str] | None,
    spec: Any,
    *,
    annotations_first: bool = False,
) -> dict[str, Any]:
    return _object(CILIUM_NETWORK_POLICY, CILIUM_API, name, labels, annotations, spec, annotations_first)


def _alerts(block: dict[str, Any]) -> dict[str, str] | None:
    return {GITLAB_ALERT_ANNOTATION: "true"} if _enabled(block.get("alerts")) else None


def _object(
    kind: str,
    api_version: str,
    name: str,
    labels: dict[str, str],
    annotations: dict[str, str] | None,
    spec: Any,
    annotations_first: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if annotations and annotations_first:
        metadata["annotations"] = dict(annotations)
    metadata["labels"] = dict(labels)
    if annotations and not annotations_first:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": _sorted_keys(spec)}


def _sorted_keys(value: Any) -> Any:
    """A deep copy with mapping keys sorted, as Helm's ``toYaml`` writes them."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted_keys(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value
