"""The names every layer shares: the kinds of object the tool reads, each written once."""

from __future__ import annotations

NETWORK_POLICY = "NetworkPolicy"
CILIUM_NETWORK_POLICY = "CiliumNetworkPolicy"
CILIUM_CLUSTERWIDE_NETWORK_POLICY = "CiliumClusterwideNetworkPolicy"
#: policy.networking.k8s.io v1alpha2 (network-policy-api v0.2.0) and v1beta1: the Admin and
#: Baseline tiers (see the tiered kinds below).
CLUSTER_NETWORK_POLICY = "ClusterNetworkPolicy"
#: The namespaced policy kinds an Auto Deploy release renders with the chart's own templates: what
#: drift, ownership, the plan and Helm's release record compare.
POLICY_KINDS = (NETWORK_POLICY, CILIUM_NETWORK_POLICY)
#: Cluster-scoped policy kinds: no namespace; a release can still create them (customResources).
CLUSTER_SCOPED_POLICY_KINDS = (CILIUM_CLUSTERWIDE_NETWORK_POLICY, CLUSTER_NETWORK_POLICY)
#: Every policy kind a release of the auto-deploy-app chart can create: the chart's own
#: NetworkPolicy and CiliumNetworkPolicy, and whatever ``customResources`` holds.
DEPLOYABLE_POLICY_KINDS = (*POLICY_KINDS, *CLUSTER_SCOPED_POLICY_KINDS)
#: The namespaced policies and the cluster-wide CiliumClusterwideNetworkPolicy, which decides what
#: reaches the app's pods whoever created it. (The engine also compiles the cluster-scoped tiers,
#: by kind and API group: ``policy.policies.COMPILED_KINDS`` and ``is_compiled``.)
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

#: The cluster-scoped policy tiers of kubernetes-sigs/network-policy-api (group
#: ``policy.networking.k8s.io``): AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1),
#: merged into ClusterNetworkPolicy (v1alpha2, v1beta1). Antrea has a ClusterNetworkPolicy kind of
#: its own (``crd.antrea.io``): the group tells them apart.
ADMIN_NETWORK_POLICY = "AdminNetworkPolicy"
BASELINE_ADMIN_NETWORK_POLICY = "BaselineAdminNetworkPolicy"
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

INGRESS_CLASS = "IngressClass"
GATEWAY_CLASS = "GatewayClass"
GATEWAY = "Gateway"
#: What says which ingress controllers and Gateway API implementations a cluster runs.
PLATFORM_KINDS = (INGRESS_CLASS, GATEWAY_CLASS, GATEWAY)

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

#: The API group each compiled policy kind must come from (an object without ``apiVersion`` is
#: taken by its kind): Calico and Antrea have kinds of the same names in groups of their own.
POLICY_GROUPS = {
    NETWORK_POLICY: ("networking.k8s.io", "extensions"),
    CILIUM_NETWORK_POLICY: ("cilium.io",),
    CILIUM_CLUSTERWIDE_NETWORK_POLICY: ("cilium.io",),
}

#: Kinds that change who can reach whom but that the engine does not model, with what that means
#: for a report (said in every output format, never silently ignored).
UNMODELLED_NETWORK_KINDS = {
    "MultiNetworkPolicy": "policies of secondary (Multus) networks: traffic on those interfaces is not analysed",
    "NetworkAttachmentDefinition": "secondary network interfaces: traffic on them is not analysed",
    "Route": "OpenShift routes: the router's traffic to their pods is analysed only as the router's own pods",
    "Ingress": "the ingress controller's traffic is analysed only as the controller's own pods, when given",
    "Gateway": "the gateway's traffic is analysed only as its own pods, when given",
    "HTTPRoute": "the gateway's traffic is analysed only as its own pods, when given",
    "GRPCRoute": "the gateway's traffic is analysed only as its own pods, when given",
    "TLSRoute": "the gateway's traffic is analysed only as its own pods, when given",
    "TCPRoute": "the gateway's traffic is analysed only as its own pods, when given",
    "UDPRoute": "the gateway's traffic is analysed only as its own pods, when given",
    "GlobalNetworkPolicy": "Calico policies: they may drop traffic shown as allowed",
    "StagedNetworkPolicy": "Calico staged policies: not enforced, not analysed",
    "StagedGlobalNetworkPolicy": "Calico staged policies: not enforced, not analysed",
    "NetworkSet": "Calico network sets: not analysed",
    "GlobalNetworkSet": "Calico network sets: not analysed",
    "Tier": "Calico/Antrea policy tiers: not analysed",
    "CiliumCIDRGroup": "Cilium CIDR groups: a rule naming one matches nothing here",
    "CiliumEgressGatewayPolicy": "Cilium egress gateways: not analysed",
    "EgressFirewall": "OVN-Kubernetes egress firewalls: they may drop egress shown as allowed",
    "EgressIP": "egress addresses: not analysed",
    "EgressNetworkPolicy": "OpenShift egress network policies: they may drop egress shown as allowed",
}

#: The owner a static pod's mirror pod names: the node it runs on (not a controller of pods).
NODE = "Node"

#: ``kind: List`` as ``kubectl get -o yaml`` prints it; typed lists are ``<Kind>List``.
LIST = "List"

#: Every kind the connectivity engine reads: policies, namespaces, workloads, VMs, networks.
ENGINE_KINDS = frozenset(
    (
        *POLICY_KINDS,
        CILIUM_CLUSTERWIDE_NETWORK_POLICY,
        *TIERED_POLICY_KINDS,
        NAMESPACE,
        *WORKLOAD_KINDS,
        *VM_KINDS,
        *NETWORK_KINDS,
    )
)
