"""The names every layer shares: the kinds of object the tool reads, each written once."""

from __future__ import annotations

NETWORK_POLICY = "NetworkPolicy"
CILIUM_NETWORK_POLICY = "CiliumNetworkPolicy"
CILIUM_CLUSTERWIDE_NETWORK_POLICY = "CiliumClusterwideNetworkPolicy"
#: The namespaced policies a deploy creates and drift compares.
POLICY_KINDS = (NETWORK_POLICY, CILIUM_NETWORK_POLICY)

#: The cluster-scoped policy tiers of kubernetes-sigs/network-policy-api (group
#: ``policy.networking.k8s.io``): AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1),
#: merged into ClusterNetworkPolicy (v1alpha2, v1beta1). Antrea has a ClusterNetworkPolicy kind of
#: its own (``crd.antrea.io``): the group tells them apart.
ADMIN_NETWORK_POLICY = "AdminNetworkPolicy"
BASELINE_ADMIN_NETWORK_POLICY = "BaselineAdminNetworkPolicy"
CLUSTER_NETWORK_POLICY = "ClusterNetworkPolicy"
POLICY_API_GROUP = "policy.networking.k8s.io"
#: The API versions of each tiered kind the engine reads.
TIERED_POLICY_VERSIONS = {
    ADMIN_NETWORK_POLICY: ("v1alpha1",),
    BASELINE_ADMIN_NETWORK_POLICY: ("v1alpha1",),
    CLUSTER_NETWORK_POLICY: ("v1alpha2", "v1beta1"),
}
TIERED_POLICY_KINDS = tuple(TIERED_POLICY_VERSIONS)

NAMESPACE = "Namespace"
POD = "Pod"
SECRET = "Secret"
DEPLOYMENT = "Deployment"
STATEFUL_SET = "StatefulSet"
DAEMON_SET = "DaemonSet"
REPLICA_SET = "ReplicaSet"
JOB = "Job"
CRON_JOB = "CronJob"
REPLICATION_CONTROLLER = "ReplicationController"
#: Controllers whose pod template stands for their pods.
CONTROLLER_KINDS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB, CRON_JOB, REPLICATION_CONTROLLER)
#: Everything that tells the connectivity engine which pods exist: controllers and bare pods.
WORKLOAD_KINDS = (*CONTROLLER_KINDS, POD)

#: OVN-Kubernetes user-defined networks (``k8s.ovn.org``): a namespace on a primary one is cut
#: off from the cluster's default pod network and from every other primary network.
USER_DEFINED_NETWORK = "UserDefinedNetwork"
CLUSTER_USER_DEFINED_NETWORK = "ClusterUserDefinedNetwork"
OVN_GROUP = "k8s.ovn.org"
NETWORK_KINDS = (USER_DEFINED_NETWORK, CLUSTER_USER_DEFINED_NETWORK)

#: KubeVirt: a VirtualMachine runs in a virt-launcher pod carrying its template's labels.
VIRTUAL_MACHINE = "VirtualMachine"
VIRTUAL_MACHINE_INSTANCE = "VirtualMachineInstance"
KUBEVIRT_GROUP = "kubevirt.io"
VM_KINDS = (VIRTUAL_MACHINE, VIRTUAL_MACHINE_INSTANCE)

#: The owner a static pod's mirror pod names: the node it runs on (not a controller of pods).
NODE = "Node"

#: ``kind: List`` as ``kubectl get -o yaml`` prints it; typed lists are ``<Kind>List``.
LIST = "List"
