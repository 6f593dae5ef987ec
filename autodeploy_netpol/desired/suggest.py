"""The suggested policy: the app's own pods accept traffic from the same app and the ingress controller.

"The same app" is the whole app: the web and worker pods of every track of the release
(:func:`app_selector`).

GitLab's chart default allows every pod in the namespace, plus namespaces labelled
``app.gitlab.com/managed_by: gitlab`` — a label that only GitLab-created namespaces carry. The
suggestion is narrower and works on every cluster since Kubernetes 1.21: it selects the ingress
controller's namespace by ``kubernetes.io/metadata.name``. It is disabled by default, like
GitLab's ("listen and record first, then act"): nothing is enforced until ``enabled: true``.

Which namespace that is: ``NETPOL_INGRESS_NAMESPACE`` (``--ingress-namespace``), else the one
detected in the cluster or snapshot (``sources/platform.py``), else :data:`DEFAULT_INGRESS_NAMESPACE`
- ingress-nginx's own default namespace, the most common install; GitLab's ``gitlab-managed-apps``
exists on no cluster of 2026. When the monitoring stack's namespace is known too and the app has a
metrics port (:func:`metrics_port`), a second rule lets the scrapers in on that port, as GitLab's
default policy required ("Prometheus keeps reaching the app once it is enforced").
"""

from __future__ import annotations

from ..kube.defaults import NAMESPACE_NAME_LABEL
from ..kube.labels import RELEASE_LABEL
from ..kube.releases import TRACKS, helm_release
from ..text import ascii_int

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

#: The namespace admitted when none is set or detected: ingress-nginx's default install namespace.
DEFAULT_INGRESS_NAMESPACE = "ingress-nginx"
#: The port Auto Deploy's chart serves on (``service.internalPort``) unless the values change it.
DEFAULT_INTERNAL_PORT = 5000
#: Pod annotation naming the port Prometheus scrapes (the chart's own ``prometheus.metrics``
#: switch annotates with ``service.internalPort``).
PROMETHEUS_PORT_ANNOTATION = "prometheus.io/port"


def metrics_port(values: dict[str, Any]) -> tuple[int, str] | None:
    """The port the monitoring stack scrapes and why: a ``prometheus.io/port`` in ``podAnnotations``,
    else ``service.internalPort`` when ``prometheus.metrics`` is on (what the chart annotates);
    ``None`` when the values expose no metrics."""
    annotations = values.get("podAnnotations")
    if isinstance(annotations, dict):
        text = str(annotations.get(PROMETHEUS_PORT_ANNOTATION) or "").strip()
        number = ascii_int(text)
        if number is not None and 0 < number < 65536:
            return number, f"podAnnotations {PROMETHEUS_PORT_ANNOTATION}"
    prometheus = values.get("prometheus")
    if isinstance(prometheus, dict) and prometheus.get("metrics") is True:
        service = values.get("service")
        port = service.get("internalPort") if isinstance(service, dict) else None
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
            return port, "prometheus.metrics, on service.internalPort"
        return DEFAULT_INTERNAL_PORT, "prometheus.metrics, on the chart's service.internalPort"
    return None


def ingress_class(values: dict[str, Any]) -> str | None:
    """The IngressClass the app's Ingress asks for (``ingress.className``, or the
    ``kubernetes.io/ingress.class`` annotation older chart versions set), if the values say."""
    ingress = values.get("ingress")
    if not isinstance(ingress, dict):
        return None
    name = ingress.get("className")
    annotations = ingress.get("annotations")
    if not name and isinstance(annotations, dict):
        name = annotations.get("kubernetes.io/ingress.class")
    return str(name) if isinstance(name, str) and name else None


def monitoring_rule(namespace: str, port: int) -> dict[str, Any]:
    """Ingress from the monitoring stack's namespace on the metrics port only."""
    return {
        "from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}],
        "ports": [{"port": port, "protocol": "TCP"}],
    }


def track_releases(release: str) -> list[str]:
    """The Helm releases of every track of the app ``release``: stable, canary, rollout."""
    return [helm_release(release, track) for track in TRACKS]


def app_selector(release: str) -> dict[str, Any]:
    """Every pod of the app: web and worker pods of every track.

    The chart labels web pods with ``app`` (the base release) and ``release`` (the track's Helm
    release), worker pods with ``release`` only (no ``app``): ``release`` in the track releases
    is the one label all of them carry — and no pod of another release does.
    """
    return {"matchExpressions": [{"key": RELEASE_LABEL, "operator": "In", "values": track_releases(release)}]}


def suggested_spec(
    release: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE, *, monitoring: tuple[str, int] | None = None
) -> dict[str, Any]:
    """The NetworkPolicy spec: select the app's pods (web and workers of every track of ``release``,
    the base release name); ingress from the same pods and from the ingress controller's namespace,
    and with ``monitoring`` (namespace, metrics port) from the scrapers on that port."""
    spec = _spec(release, ingress_namespace)
    if monitoring is not None:
        spec["ingress"].append(monitoring_rule(*monitoring))
    return spec


def _spec(release: str, ingress_namespace: str) -> dict[str, Any]:
    return {
        "podSelector": app_selector(release),
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"podSelector": app_selector(release)},
                    {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ingress_namespace}}},
                ]
            }
        ],
    }


def suggested_block(
    release: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE, *, monitoring: tuple[str, int] | None = None
) -> dict[str, Any]:
    """The whole ``networkPolicy`` block, disabled."""
    return {"enabled": False, "spec": suggested_spec(release, ingress_namespace, monitoring=monitoring)}


def _json(value: str) -> str:
    import json  # here: json is start-up that validate and render need not pay

    return json.dumps(value)


def _scalar(value: str) -> str:
    """A YAML scalar that stays a string whatever the release is called (``true``, ``123``)."""
    plain = value and value[0].isalpha() and all(c.isalnum() or c in "-_." for c in value)
    return (
        value
        if plain and value.lower() not in ("true", "false", "yes", "no", "on", "off", "null")
        else _json(value)
    )


def suggestion_yaml(
    app: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE, *, release: str | None = None
) -> str:
    """The suggestion as a commented block ready to paste into .gitlab/auto-deploy-values.yaml.

    ``app`` is the base release name (``$HELM_RELEASE_NAME`` / the environment slug)."""
    ns = _scalar(ingress_namespace)
    values = "\n".join(f"                    - {_scalar(name)}" for name in track_releases(app))
    pod_values = "\n".join(f"            - {_scalar(name)}" for name in track_releases(app))
    origin = f' for release "{release}"' if release else ""
    return f"""\
# Network policy suggested by autodeploy-netpol{origin}.
# The app's pods accept traffic only from pods of the same app and from the ingress controller.
# Tip: keep only `enabled:` in your file and leave `spec:` out - the pipeline step fills in this
# spec for each environment (the release names differ per environment).
networkPolicy:
  # Nothing is enforced until you set this to true; review the rules first.
  enabled: false
  spec:
    # The policy applies to every pod of this app: web and worker pods of the stable, canary and
    # rollout tracks. The chart labels all of them release=<Helm release>; worker pods carry no
    # app label, so a selector on app would miss them.
    podSelector:
      matchExpressions:
        - key: release
          operator: In
          values:
{pod_values}
    # Only inbound traffic is restricted; outbound traffic stays open.
    policyTypes:
      - Ingress
    ingress:
      - from:
          # Allow the app's own pods (web, workers, every track) to reach each other.
          - podSelector:
              matchExpressions:
                - key: release
                  operator: In
                  values:
{values}
          # Allow the ingress controller's namespace, selected by the name label every
          # namespace carries since Kubernetes 1.21 (GitLab's managed_by label often is missing).
          - namespaceSelector:
              matchLabels:
                {NAMESPACE_NAME_LABEL}: {ns}
        # No other pod, namespace or address may connect.
"""


def merged_block(user_block: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The user's ``networkPolicy`` block with the suggested ``spec`` added (their keys kept, in
    their order; ``enabled`` as they wrote it, else ``false``)."""
    merged = {"enabled": False, **user_block} if "enabled" not in user_block else dict(user_block)
    merged["spec"] = spec
    return merged


def splice_block(text: str, line: int, key: str, block: dict[str, Any]) -> str | None:
    """``text`` (a values file) with the top-level block ``key``, whose key is on 1-based ``line``,
    replaced by ``block`` written as block-style YAML; the rest of the file, comments included,
    as it was. ``None`` when the key is not a plain top-level block key on that line (flow
    style, JSON, an anchor or a tag), where a text splice would not be safe."""
    import yaml

    lines = text.splitlines(keepends=True)
    if not 0 < line <= len(lines):
        return None
    head = lines[line - 1]
    if not head.startswith(f"{key}:"):
        return None
    rest = head[len(key) + 1 :].split("#", 1)[0].strip()
    if rest:  # flow style, an anchor, a tag or a scalar on the key's line
        return None
    end = line
    while end < len(lines):
        current = lines[end]
        if current.strip() and not current[0].isspace() and not current.startswith("#"):
            break
        end += 1
    # comment and blank lines just before the next key belong to it
    while end > line and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    written = yaml.safe_dump({key: block}, sort_keys=False, default_flow_style=False, width=10_000)
    return "".join([*lines[: line - 1], written, *lines[end:]])
