"""The names every layer shares: the kinds of object the tool reads, each written once."""

from __future__ import annotations

NETWORK_POLICY = "NetworkPolicy"
CILIUM_NETWORK_POLICY = "CiliumNetworkPolicy"
CILIUM_CLUSTERWIDE_NETWORK_POLICY = "CiliumClusterwideNetworkPolicy"
#: The namespaced policy kinds an Auto Deploy release renders: what drift, ownership, the plan
#: and Helm's release record compare.
POLICY_KINDS = (NETWORK_POLICY, CILIUM_NETWORK_POLICY)
#: Every policy kind the connectivity engine models: the namespaced ones and the cluster-wide
#: CiliumClusterwideNetworkPolicy, which no release of the app renders but which still decides
#: what reaches its pods.
ALL_POLICY_KINDS = (*POLICY_KINDS, CILIUM_CLUSTERWIDE_NETWORK_POLICY)

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
