"""The auto-deploy-app chart contract, as a pure model of what Helm renders.

This is what ``render`` uses without ``--chart``; a test renders the fixture chart plus
chart-overlays with real Helm and checks that this model agrees object for object.

Contract (GitLab's auto-deploy-app chart, see FACTS.md):

* object name = ``fullname`` = ``<release>-<chart name>`` with a trailing ``-app`` removed,
  cut to 63 characters, one trailing ``-`` trimmed → ``<release>-auto-deploy``;
* the spec is copied verbatim from values; no namespace in metadata;
* labels are the chart's ``sharedlabels`` plus ``extraLabels``; CiliumNetworkPolicy adds
  ``app.gitlab.com/proj`` and, with alerts on, the annotation ``app.gitlab.com/alert: "true"``.

The values extension (chart-overlays) adds named policies (``<fullname>-<key>``) and an opt-in
namespace default-deny policy (``<fullname>-default-deny``) that still allows DNS.
"""

from __future__ import annotations

from typing import Any

CHART_NAME = "auto-deploy-app"
#: Chart version used for the ``chart`` / ``helm.sh/chart`` labels when no chart is given.
DEFAULT_CHART_VERSION = "2.100.0"
NETWORK_POLICY_API = "networking.k8s.io/v1"
CILIUM_API = "cilium.io/v2"
DEFAULT_DENY_SUFFIX = "default-deny"

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
                        {"namespaceSelector": {"matchLabels": {"app.gitlab.com/managed_by": "gitlab"}}},
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
            "ingress": [{"fromEndpoints": [{"matchLabels": {"app.gitlab.com/managed_by": "gitlab"}}]}],
        },
    },
}

#: The default-deny policy of the overlays: nothing in, nothing out except DNS to kube-dns.
DEFAULT_DENY_SPEC: dict[str, Any] = {
    "podSelector": {},
    "policyTypes": ["Ingress", "Egress"],
    "egress": [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ],
}


def _trunc63(name: str) -> str:
    name = name[:63]
    return name[:-1] if name.endswith("-") else name


def fullname(release: str, name_override: str | None = None) -> str:
    """The chart's ``fullname`` template: ``<release>-auto-deploy`` for the default chart name."""
    name = f"{release}-{name_override or CHART_NAME}"
    if name.endswith("-app"):
        name = name[: -len("-app")]
    return _trunc63(name)


def appname(release: str, release_override: str | None = None) -> str:
    """The chart's ``appname``: ``releaseOverride`` (Auto Deploy sets it) or the release, cut to 63."""
    return (release_override or release)[:63]


def chart_label(chart_version: str) -> str:
    """``auto-deploy-app-<version>`` with ``+`` replaced by ``_`` (label values cannot hold ``+``)."""
    return f"{CHART_NAME}-{chart_version.replace('+', '_')}"


def shared_labels(
    release: str,
    *,
    release_override: str | None = None,
    chart_version: str = DEFAULT_CHART_VERSION,
    extra_labels: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The chart's ``sharedlabels`` plus ``extraLabels``, in the order the template writes them."""
    app = appname(release, release_override)
    chart = chart_label(chart_version)
    labels: dict[str, str] = {
        "app": app,
        "chart": chart,
        "release": release,
        "heritage": "Helm",
        "app.kubernetes.io/name": app,
        "helm.sh/chart": chart,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": release,
    }
    for key, value in sorted((extra_labels or {}).items(), key=lambda item: str(item[0])):
        labels[str(key)] = "" if value is None else _label_text(value)
    return labels


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def named_policy_name(base: str, key: str) -> str:
    """Object name of a named policy: ``<fullname>-<key>``, cut like ``fullname``."""
    return _trunc63(f"{base}-{key}")


def _enabled(block: dict[str, Any] | None) -> bool:
    return isinstance(block, dict) and block.get("enabled") is True


def render_objects(
    values: dict[str, Any], *, release: str, chart_version: str = DEFAULT_CHART_VERSION
) -> list[dict[str, Any]]:
    """Render the NetworkPolicy / CiliumNetworkPolicy objects for complete merged ``values``.

    ``release`` is the Helm release name (``<release>`` or ``<release>-canary`` …). The result is
    in a stable order: the chart's NetworkPolicy, named ones by key, default-deny, then the
    Cilium policies the same way.
    """
    base_name = fullname(release, values.get("nameOverride"))
    labels = shared_labels(
        release,
        release_override=values.get("releaseOverride"),
        chart_version=chart_version,
        extra_labels=values.get("extraLabels") or {},
    )
    objects: list[dict[str, Any]] = []

    network = values.get("networkPolicy") or {}
    if _enabled(network):
        objects.append(
            _object("NetworkPolicy", NETWORK_POLICY_API, base_name, labels, None, network.get("spec"))
        )
        for key, policy in sorted((network.get("policies") or {}).items()):
            if isinstance(policy, dict) and policy.get("enabled", True) is not False:
                name = named_policy_name(base_name, key)
                objects.append(
                    _object("NetworkPolicy", NETWORK_POLICY_API, name, labels, None, policy.get("spec"))
                )
        if _enabled(network.get("defaultDeny")):
            name = named_policy_name(base_name, DEFAULT_DENY_SUFFIX)
            objects.append(
                _object("NetworkPolicy", NETWORK_POLICY_API, name, labels, None, DEFAULT_DENY_SPEC)
            )

    cilium = values.get("ciliumNetworkPolicy") or {}
    if _enabled(cilium):
        project = (values.get("gitlab") or {}).get("projectID")
        cilium_labels = {**labels, "app.gitlab.com/proj": "" if project is None else _label_text(project)}
        objects.append(
            _object(
                "CiliumNetworkPolicy",
                CILIUM_API,
                base_name,
                cilium_labels,
                _alerts(cilium),
                cilium.get("spec"),
            )
        )
        for key, policy in sorted((cilium.get("policies") or {}).items()):
            if isinstance(policy, dict) and policy.get("enabled", True) is not False:
                name = named_policy_name(base_name, key)
                objects.append(
                    _object(
                        "CiliumNetworkPolicy",
                        CILIUM_API,
                        name,
                        cilium_labels,
                        _alerts(policy),
                        policy.get("spec"),
                    )
                )
    return objects


def _alerts(block: dict[str, Any]) -> dict[str, str] | None:
    return {"app.gitlab.com/alert": "true"} if _enabled(block.get("alerts")) else None


def _object(
    kind: str,
    api_version: str,
    name: str,
    labels: dict[str, str],
    annotations: dict[str, str] | None,
    spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": _sorted_keys(spec)}


def _sorted_keys(value: Any) -> Any:
    """A deep copy with mapping keys sorted, as Helm's ``toYaml`` writes them."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value
