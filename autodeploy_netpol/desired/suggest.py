"""The suggested policy: the app's own pods accept traffic from the same app and the ingress controller.

"The same app" is the whole app: the web and worker pods of every track of the release
(:func:`app_selector`).

GitLab's chart default allows every pod in the namespace, plus namespaces labelled
``app.gitlab.com/managed_by: gitlab`` — a label that only GitLab-created namespaces carry. The
suggestion is narrower and works on every cluster since Kubernetes 1.21: it selects the ingress
controller's namespace by ``kubernetes.io/metadata.name``. It is disabled by default, like
GitLab's ("listen and record first, then act"): nothing is enforced until ``enabled: true``.
"""

from __future__ import annotations

from ..kube.defaults import NAMESPACE_NAME_LABEL
from ..kube.labels import RELEASE_LABEL
from ..kube.releases import TRACKS, helm_release

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

DEFAULT_INGRESS_NAMESPACE = "gitlab-managed-apps"


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


def suggested_spec(release: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE) -> dict[str, Any]:
    """The NetworkPolicy spec: select the app's pods (web and workers of every track of ``release``,
    the base release name); ingress from the same pods and from the ingress controller's namespace."""
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


def suggested_block(release: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE) -> dict[str, Any]:
    """The whole ``networkPolicy`` block, disabled."""
    return {"enabled": False, "spec": suggested_spec(release, ingress_namespace)}


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
