"""The auto-deploy-app chart contract, as a pure model of what Helm renders.

This is what ``render`` uses without ``--chart``; a test renders the fixture chart plus
chart-overlays with real Helm and checks that this model agrees object for object.

Contract (GitLab's auto-deploy-app chart, see FACTS.md):

* object name = ``fullname`` = ``<release>-<chart name>`` with a trailing ``-app`` removed,
  cut to 63 characters, one trailing ``-`` trimmed → ``<release>-auto-deploy``;
* the spec is copied verbatim from values; no namespace in metadata;
* labels are the chart's ``sharedlabels`` plus ``extraLabels``; CiliumNetworkPolicy adds
  ``app.gitlab.com/proj`` and, with alerts on, the annotation ``app.gitlab.com/alert: "true"``.

The values extension (chart-overlays) adds named policies (``<fullname>-<key>``), the suggested
policy as its own object (``networkPolicy.suggested`` → ``<fullname>-suggested``), an opt-in
namespace default-deny policy (``<fullname>-default-deny``) that still allows DNS, and brings the
CiliumNetworkPolicy back on charts from 2.40.0 on, which dropped it.
"""

from __future__ import annotations

import copy
import functools
import re
import sys
from collections.abc import Iterable
from typing import Any

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
    TIER_LABEL,
    TRACK_LABEL,
    UI_PROJECT_LABEL,
    WEB_TIER,
)
from ..kube.names import CILIUM_NETWORK_POLICY, DEPLOYMENT, NETWORK_POLICY
from ..kube.releases import CHART_NAME, MAX_NAME, fullname, object_name
from .suggest import DEFAULT_INGRESS_NAMESPACE, suggested_spec

#: Chart version used for the ``chart`` / ``helm.sh/chart`` labels when no chart is given.
DEFAULT_CHART_VERSION = "2.100.0"
NETWORK_POLICY_API = "networking.k8s.io/v1"
CILIUM_API = "cilium.io/v2"
DEFAULT_DENY_SUFFIX = "default-deny"
SUGGESTED_SUFFIX = "suggested"
#: auto-deploy-app 2.40.0 (Jan 2023) removed the CiliumNetworkPolicy template and its values.
CILIUM_REMOVED_IN = (2, 40, 0)

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
    """The chart's ``appname``: ``releaseOverride`` (Auto Deploy sets it) or the release, cut to 63."""
    return (release_override or release)[:MAX_NAME]


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
        APP_LABEL: app,
        CHART_LABEL: chart,
        RELEASE_LABEL: release,
        HERITAGE_LABEL: HELM,
        NAME_LABEL: app,
        HELM_CHART_LABEL: chart,
        MANAGED_BY_LABEL: HELM,
        INSTANCE_LABEL: release,
    }
    extra = {str(key): value for key, value in (extra_labels or {}).items()}
    for key in _yaml_sorted(extra):
        value = extra[key]
        labels[key] = "" if value is None else _label_text(value)
    return labels


def web_workload(*, release: str, helm_release: str, namespace: str, track: str) -> dict[str, Any]:
    """The release's web Deployment as far as policies see it: its pods carry ``app``
    (the appname), ``release`` (the Helm release), ``tier: web`` and ``track`` (deployment.yaml).

    Stands in for the app's pods where the live state lists no workload (a snapshot of policies
    only), so the connectivity section still sees whom the policies select.
    """
    labels = {
        APP_LABEL: appname(release),
        RELEASE_LABEL: helm_release,
        TIER_LABEL: WEB_TIER,
        TRACK_LABEL: track,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": DEPLOYMENT,
        "metadata": {"name": helm_release, "namespace": namespace},
        "spec": {"template": {"metadata": {"labels": labels}}},
    }


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


def ships_cilium_template(chart_version: str) -> bool:
    """True for the chart versions (2.6.0 - 2.39.x) that render the CiliumNetworkPolicy themselves.

    From 2.40.0 on the chart-overlays bring the template back (``overlay`` lays it only then).
    """
    return version_numbers(chart_version) < CILIUM_REMOVED_IN


def chart_defaults(chart_version: str = DEFAULT_CHART_VERSION) -> dict[str, Any]:
    """The chart's default values for ``chart_version``: from 2.40.0 on there is no
    ``ciliumNetworkPolicy`` block (the overlays render it from the user's values alone)."""
    if ships_cilium_template(chart_version):
        return copy.deepcopy(CHART_DEFAULTS)
    return {
        key: copy.deepcopy(value) for key, value in CHART_DEFAULTS.items() if key != "ciliumNetworkPolicy"
    }


def _enabled(block: dict[str, Any] | None) -> bool:
    return isinstance(block, dict) and block.get("enabled") is True


def render_objects(
    values: dict[str, Any], *, release: str, chart_version: str = DEFAULT_CHART_VERSION
) -> list[dict[str, Any]]:
    """Render the NetworkPolicy / CiliumNetworkPolicy objects for complete merged ``values``.

    ``values`` are Helm's final values: :func:`chart_defaults` for ``chart_version``, the values
    files, then the ``--set`` values. ``release`` is the Helm release name (``<release>`` or
    ``<release>-canary`` …). The chart is the auto-deploy-app chart with chart-overlays laid on.

    The order is Helm's (kind, then template file, then position in the file): the chart's
    NetworkPolicy, the suggested one, named ones by key, default-deny; then the chart's
    CiliumNetworkPolicy and the named Cilium policies by key.
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
        objects.append(_network_policy(base_name, labels, network.get("spec")))
        suggested = network.get("suggested")
        if isinstance(suggested, dict) and _enabled(suggested):
            app = appname(release, values.get("releaseOverride"))
            namespace = suggested.get("ingressNamespace") or DEFAULT_INGRESS_NAMESPACE
            name = object_name(base_name, SUGGESTED_SUFFIX)
            objects.append(_network_policy(name, labels, suggested_spec(app, namespace)))
        for key, policy in _entries_on(network):
            objects.append(_network_policy(object_name(base_name, key), labels, policy.get("spec") or {}))
        if _enabled(network.get("defaultDeny")):
            name = object_name(base_name, DEFAULT_DENY_SUFFIX)
            objects.append(_network_policy(name, labels, DEFAULT_DENY_SPEC))

    cilium = values.get("ciliumNetworkPolicy") or {}
    if _enabled(cilium):
        project = (values.get("gitlab") or {}).get("projectID")
        cilium_labels = {**labels, UI_PROJECT_LABEL: "" if project is None else _label_text(project)}
        spec = cilium.get("spec")
        if ships_cilium_template(chart_version) and not isinstance(cilium.get("alerts"), dict):
            raise InputError(
                f"auto-deploy-app {chart_version} cannot render ciliumNetworkPolicy without its alerts block:"
                " its template reads .Values.ciliumNetworkPolicy.alerts.enabled",
                hint="drop `alerts: null` from the values, or write `alerts: {enabled: false}`",
            )
        if not ships_cilium_template(chart_version):
            # The overlay's replacement template falls back to the 2.39 default spec (the chart's
            # values no longer carry one) the way sprig's `default` does: for any empty value.
            spec = spec or CHART_DEFAULTS["ciliumNetworkPolicy"]["spec"]
        objects.append(_cilium_policy(base_name, cilium_labels, _alerts(cilium), spec))
        for key, policy in _entries_on(cilium):
            name = object_name(base_name, key)
            objects.append(_cilium_policy(name, cilium_labels, _alerts(policy), policy.get("spec") or {}))
    return [_as_helm_prints(obj) for obj in objects]


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


def _entries_on(block: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``policies`` entries that render, by key: a mapping whose ``enabled`` is not false
    (absent or null means on, as Helm's null-deletes-the-key would have it)."""
    entries = block.get("policies") or {}
    return [
        (key, policy)
        for key, policy in sorted(entries.items())
        if isinstance(policy, dict) and policy.get("enabled") is not False
    ]


def _network_policy(name: str, labels: dict[str, str], spec: Any) -> dict[str, Any]:
    return _object(NETWORK_POLICY, NETWORK_POLICY_API, name, labels, None, spec)


def _cilium_policy(
    name: str, labels: dict[str, str], annotations: dict[str, str] | None, spec: Any
) -> dict[str, Any]:
    return _object(CILIUM_NETWORK_POLICY, CILIUM_API, name, labels, annotations, spec)


def _alerts(block: dict[str, Any]) -> dict[str, str] | None:
    return {GITLAB_ALERT_ANNOTATION: "true"} if _enabled(block.get("alerts")) else None


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
        return {key: _sorted_keys(value[key]) for key in _yaml_sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _yaml_less(a: str, b: str) -> bool:
    """Whether ``toYaml`` (Go's yaml package) writes key ``a`` before ``b``.

    Not byte order: runs of digits compare as numbers (``k8s-app`` before ``k10``), letters
    compare as characters, and where a letter meets a non-letter the non-letter comes first,
    unless the two keys were in a run of digits up to there (then the shorter number, the one
    that continues with a letter, comes first).
    """
    digits = False
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y:
            digits = x.isdecimal()
            continue
        x_letter, y_letter = x.isalpha(), y.isalpha()
        if x_letter and y_letter:
            return x < y
        if x_letter or y_letter:
            return x_letter if digits else y_letter
        x_number = y_number = 0
        if x == "0" or y == "0":
            # Leading zeros only count as a number's start when no other digit came before.
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    x_number = y_number = 1
                    break
                j -= 1
        x_end = i
        while x_end < len(a) and a[x_end].isdecimal():
            x_number = x_number * 10 + int(a[x_end])
            x_end += 1
        y_end = i
        while y_end < len(b) and b[y_end].isdecimal():
            y_number = y_number * 10 + int(b[y_end])
            y_end += 1
        if x_number != y_number:
            return x_number < y_number
        if x_end != y_end:
            return x_end < y_end
        return x < y
    return len(a) < len(b)


def _yaml_compare(a: str, b: str) -> int:
    return -1 if _yaml_less(a, b) else (1 if _yaml_less(b, a) else 0)


_yaml_key = functools.cmp_to_key(_yaml_compare)
#: Keys of letters and of punctuation below "A", without digits: byte order is Go's order for them.
_BYTE_ORDERED = re.compile(r"[A-Za-z\x20-\x2f\x3a-\x40]*\Z")


def _yaml_sorted(keys: Iterable[Any]) -> list[Any]:
    """``keys`` in the order ``toYaml`` writes them (byte order where that is the same, the common case)."""
    keys = list(keys)
    if all(_BYTE_ORDERED.match(str(key)) for key in keys):
        return sorted(keys, key=str)
    return sorted(keys, key=lambda key: _yaml_key(str(key)))
