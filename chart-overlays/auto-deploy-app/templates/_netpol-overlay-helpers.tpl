{{- /*
Helpers for the autodeploy-netpol chart overlays. Every name starts with "netpolOverlay." so
nothing can collide with the auto-deploy-app chart's own helpers ("fullname", "sharedlabels", ...),
which the overlays reuse so that names and labels are exactly the chart's.
*/ -}}

{{- /* <fullname>-<suffix>, cut to 63 characters, no trailing "-". Argument: dict root, suffix. */ -}}
{{- define "netpolOverlay.name" -}}
{{- printf "%s-%s" (include "fullname" .root) .suffix | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- /* "true" when a value is a map whose "enabled" is true. */ -}}
{{- define "netpolOverlay.on" -}}
{{- if and (kindIs "map" .) .enabled -}}true{{- end -}}
{{- end -}}

{{- /* "true" when an entry of networkPolicy.policies / ciliumNetworkPolicy.policies is on: a map
whose "enabled" is absent or null (Helm's "null deletes the key") defaults to true. A null entry
(deleted by a later values file) is off. */ -}}
{{- define "netpolOverlay.entryOn" -}}
{{- if kindIs "map" . -}}
{{- $on := true -}}
{{- if and (hasKey . "enabled") (not (kindIs "invalid" .enabled)) -}}{{- $on = .enabled -}}{{- end -}}
{{- if $on -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{- /* The suggested policy: every pod of the app - the web and worker pods of every track (the
chart labels all of them release=<Helm release>; worker pods carry no app label) - accepts
traffic from the same pods and from the ingress controller's namespace, selected by
kubernetes.io/metadata.name (set on every namespace since Kubernetes 1.21, unlike GitLab's
app.gitlab.com/managed_by label). */ -}}
{{- define "netpolOverlay.appSelector" -}}
{{- $base := .Values.releaseOverride | default .Release.Name -}}
matchExpressions:
- key: release
  operator: In
  values:
  - {{ $base | quote }}
  - {{ printf "%s-canary" $base | quote }}
  - {{ printf "%s-rollout" $base | quote }}
{{- end -}}

{{- define "netpolOverlay.suggestedSpec" -}}
{{- $suggested := .Values.networkPolicy.suggested | default dict -}}
podSelector:
{{ include "netpolOverlay.appSelector" . | indent 2 }}
policyTypes:
- Ingress
ingress:
- from:
  - podSelector:
{{ include "netpolOverlay.appSelector" . | indent 6 }}
  - namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: {{ $suggested.ingressNamespace | default "ingress-nginx" | quote }}
{{- end -}}

{{- /* The specs below go through fromYaml | toYaml, so keys come out sorted like every other
spec the chart writes with toYaml. */ -}}

{{- /* Namespace-wide default deny, DNS egress to kube-dns in kube-system (UDP and TCP 53) kept. */ -}}
{{- define "netpolOverlay.defaultDenySpec" -}}
podSelector: {}
policyTypes:
- Ingress
- Egress
egress:
- to:
  - namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: kube-system
    podSelector:
      matchLabels:
        k8s-app: kube-dns
  ports:
  - port: 53
    protocol: UDP
  - port: 53
    protocol: TCP
{{- end -}}

{{- /* auto-deploy-app 2.6.0 - 2.39.x default CiliumNetworkPolicy spec, for charts that dropped it. */ -}}
{{- define "netpolOverlay.ciliumDefaultSpec" -}}
endpointSelector: {}
ingress:
- fromEndpoints:
  - matchLabels:
      app.gitlab.com/managed_by: gitlab
{{- end -}}
