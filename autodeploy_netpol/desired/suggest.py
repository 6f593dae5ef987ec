"""The suggested policy: the app's own pods accept traffic from the same app and the ingress controller.

GitLab's chart default allows every pod in the namespace, plus namespaces labelled
``app.gitlab.com/managed_by: gitlab`` — a label that only GitLab-created namespaces carry. The
suggestion is narrower and works on every cluster since Kubernetes 1.21: it selects the ingress
controller's namespace by ``kubernetes.io/metadata.name``. It is disabled by default, like
GitLab's ("listen and record first, then act"): nothing is enforced until ``enabled: true``.
"""

from __future__ import annotations

import json
from typing import Any

from ..kube.defaults import NAMESPACE_NAME_LABEL
from ..kube.labels import APP_LABEL

DEFAULT_INGRESS_NAMESPACE = "gitlab-managed-apps"


def suggested_spec(app: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE) -> dict[str, Any]:
    """The NetworkPolicy spec: select ``app: <app>``; ingress from the same app and the ingress namespace."""
    return {
        "podSelector": {"matchLabels": {APP_LABEL: app}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"podSelector": {"matchLabels": {APP_LABEL: app}}},
                    {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ingress_namespace}}},
                ]
            }
        ],
    }


def suggested_block(app: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE) -> dict[str, Any]:
    """The whole ``networkPolicy`` block, disabled."""
    return {"enabled": False, "spec": suggested_spec(app, ingress_namespace)}


def _scalar(value: str) -> str:
    """A YAML scalar that stays a string whatever the release is called (``true``, ``123``)."""
    plain = value and value[0].isalpha() and all(c.isalnum() or c in "-_." for c in value)
    return (
        value
        if plain and value.lower() not in ("true", "false", "yes", "no", "on", "off", "null")
        else json.dumps(value)
    )


def suggestion_yaml(
    app: str, ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE, *, release: str | None = None
) -> str:
    """The suggestion as a commented block ready to paste into .gitlab/auto-deploy-values.yaml."""
    a, ns = _scalar(app), _scalar(ingress_namespace)
    origin = f' for release "{release}"' if release else ""
    return f"""\
# Network policy suggested by autodeploy-netpol{origin}.
# The app's pods accept traffic only from pods of the same app and from the ingress controller.
# Tip: keep only `enabled:` in your file and leave `spec:` out - the pipeline step fills in this
# spec for each environment (the `app` label is the environment's release name).
networkPolicy:
  # Nothing is enforced until you set this to true; review the rules first.
  enabled: false
  spec:
    # The policy applies to this app's pods (the chart labels them app=<release>).
    podSelector:
      matchLabels:
        app: {a}
    # Only inbound traffic is restricted; outbound traffic stays open.
    policyTypes:
      - Ingress
    ingress:
      - from:
          # Allow pods of the same app (web, workers, canary track) to reach each other.
          - podSelector:
              matchLabels:
                app: {a}
          # Allow the ingress controller's namespace, selected by the name label every
          # namespace carries since Kubernetes 1.21 (GitLab's managed_by label often is missing).
          - namespaceSelector:
              matchLabels:
                {NAMESPACE_NAME_LABEL}: {ns}
        # No other pod, namespace or address may connect.
"""
