"""The names every layer shares: the kinds of object the tool reads, each written once."""

from __future__ import annotations

NETWORK_POLICY = "NetworkPolicy"
CILIUM_NETWORK_POLICY = "CiliumNetworkPolicy"
CILIUM_CLUSTERWIDE_NETWORK_POLICY = "CiliumClusterwideNetworkPolicy"
#: policy.networking.k8s.io/v1alpha2 (network-policy-api v0.2.0): the Admin and Baseline tiers.
CLUSTER_NETWORK_POLICY = "ClusterNetworkPolicy"
#: The namespaced policy kinds an Auto Deploy release renders with the chart's own templates: what
#: drift, ownership, the plan and Helm's release record compare.
POLICY_KINDS = (NETWORK_POLICY, CILIUM_NETWORK_POLICY)
#: Cluster-scoped policy kinds: no namespace; a release can still create them (customResources).
CLUSTER_SCOPED_POLICY_KINDS = (CILIUM_CLUSTERWIDE_NETWORK_POLICY, CLUSTER_NETWORK_POLICY)
#: Every policy kind a release of the auto-deploy-app chart can create: the chart's own
#: NetworkPolicy and CiliumNetworkPolicy, and whatever ``customResources`` holds.
DEPLOYABLE_POLICY_KINDS = (*POLICY_KINDS, *CLUSTER_SCOPED_POLICY_KINDS)
#: Every policy kind the connectivity engine models: the namespaced ones and the cluster-wide
#: CiliumClusterwideNetworkPolicy, which decides what reaches the app's pods whoever created it.
#: (ClusterNetworkPolicy is read and said "not modelled" until the engine has its tiers.)
ALL_POLICY_KINDS = (*POLICY_KINDS, CILIUM_CLUSTERWIDE_NETWORK_POLICY)
#: Cilium's policy kinds: a rule in ``spec`` and/or several in ``specs``, stored as written.
CILIUM_POLICY_KINDS = (CILIUM_NETWORK_POLICY, CILIUM_CLUSTERWIDE_NETWORK_POLICY)
#: The API group/version each policy kind is written with.
POLICY_API_VERSIONS = {
    NETWORK_POLICY: "networking.k8s.io/v1",
    CILIUM_NETWORK_POLICY: "cilium.io/v2",
    CILIUM_CLUSTERWIDE_NETWORK_POLICY: "cilium.io/v2",
    CLUSTER_NETWORK_POLICY: "policy.networking.k8s.io/v1alpha2",
}

NAMESPACE = "Namespace"
POD = "Pod"
SECRET = "Secret"
DEPLOYMENT = "Deployment"
STATEFUL_SET = "StatefulSet"
DAEMON_SET = "DaemonSet"
REPLICA_SET = "ReplicaSet"
JOB = "Job"
CRON_JOB = "CronJob"
#: Controllers whose pod template stands for their pods.
CONTROLLER_KINDS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB, CRON_JOB)
#: Everything that tells the connectivity engine which pods exist: controllers and bare pods.
WORKLOAD_KINDS = (*CONTROLLER_KINDS, POD)

INGRESS_CLASS = "IngressClass"
GATEWAY_CLASS = "GatewayClass"
GATEWAY = "Gateway"
#: What says which ingress controllers and Gateway API implementations a cluster runs.
PLATFORM_KINDS = (INGRESS_CLASS, GATEWAY_CLASS, GATEWAY)

#: ``kind: List`` as ``kubectl get -o yaml`` prints it; typed lists are ``<Kind>List``.
LIST = "List"
