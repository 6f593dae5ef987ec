"""Label and annotation keys (and their telling values) written by Helm, the auto-deploy-app
chart, Kubernetes and GitLab: the one place each key is spelled.
"""

from __future__ import annotations

# --- Helm 3 ------------------------------------------------------------------------------------
#: Helm 3 (3.2+) writes these on every object it applies, and adopts an existing object into a
#: release only when both name that release and the managed-by label says Helm.
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
HELM = "Helm"
#: Helm 2's ``.Release.Service``: what the chart's ``heritage`` label said before Helm 3.
TILLER = "Tiller"
#: ``helm.sh/resource-policy: keep`` on a live object: Helm does not delete it when the release
#: stops rendering it (upgrade, rollback, uninstall).
RESOURCE_POLICY_ANNOTATION = "helm.sh/resource-policy"
RESOURCE_POLICY_KEEP = "keep"

# --- the auto-deploy-app chart's shared labels ----------------------------------------------------
APP_LABEL = "app"
CHART_LABEL = "chart"
RELEASE_LABEL = "release"
HERITAGE_LABEL = "heritage"
NAME_LABEL = "app.kubernetes.io/name"
HELM_CHART_LABEL = "helm.sh/chart"
INSTANCE_LABEL = "app.kubernetes.io/instance"
#: Pod labels of the chart's Deployments (workers carry ``tier: worker`` and no ``app``).
TRACK_LABEL = "track"
TIER_LABEL = "tier"
WEB_TIER = "web"
WORKER_TIER = "worker"

# --- GitLab ---------------------------------------------------------------------------------------
#: Saved by GitLab's UI policy editor (13.1-15.0) on every policy; the chart also writes it on its
#: CiliumNetworkPolicy.
UI_PROJECT_LABEL = "app.gitlab.com/proj"
#: The UI editor disables a policy by adding this label to its selector (it then selects nothing).
UI_DISABLED_LABEL = "network-policy.gitlab.com/disabled_by"
UI_DISABLED_VALUE = "gitlab"
#: Pod *annotations* (not labels) Auto Deploy writes: a selector on them selects nothing.
GITLAB_APP_ANNOTATION = "app.gitlab.com/app"
GITLAB_ENV_ANNOTATION = "app.gitlab.com/env"
#: Namespace label of the removed GitLab-managed apps; the chart's default spec still selects it.
GITLAB_MANAGED_BY_LABEL = "app.gitlab.com/managed_by"
GITLAB_MANAGED_BY_VALUE = "gitlab"
#: Annotation the chart's CiliumNetworkPolicy carries with alerts enabled.
GITLAB_ALERT_ANNOTATION = "app.gitlab.com/alert"

# --- Kubernetes ------------------------------------------------------------------------------------
# (kubernetes.io/metadata.name, on every Namespace, is a default: kube/defaults.NAMESPACE_NAME_LABEL)
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
