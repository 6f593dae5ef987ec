"""What Kubernetes and Cilium read when a manifest leaves something out: every default, written once.

The normalisation that drift compares through (``policy.normalize``), the connectivity engine
(``policy.policies``, ``policy.selectors``, ``policy.inventory``) and the values-file tools all read
these names; none of them spells a default itself.

NetworkPolicy (networking.k8s.io/v1), as the API server defaults and stores it:

* ``policyTypes`` empty or absent: ``[Ingress]``, plus ``Egress`` when the egress list is not
  empty (:func:`default_policy_types`);
* a port without ``protocol``: :data:`NETWORK_POLICY_PROTOCOL` (TCP); a rule without ``ports``
  (or ``ports: []``): every port of every protocol;
* an absent or empty ``from``/``to``: every peer; ``ingress: []`` (no rule): nothing;
* an absent ``podSelector`` is served as ``{}``; an empty selector selects everything;
* a peer without ``namespaceSelector``: pods of the policy's own namespace.

CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy (cilium.io/v2, stored as written):

* a port without ``protocol``: :data:`CILIUM_PROTOCOL` (ANY); port ``0`` or no port: every port;
* ``enableDefaultDeny`` absent: :data:`CILIUM_DEFAULT_DENY` (a rule list turns isolation on);
* a label key without a source is ``any:``; ``k8s:`` and ``any:`` both name a Kubernetes label
  (:data:`CILIUM_KUBERNETES_SOURCES`); ``reserved:`` names Cilium's reserved identities;
* an endpoint selector of a namespaced policy is scoped to its namespace through the
  :data:`CILIUM_NAMESPACE_LABEL` pseudo-label unless it names the namespace itself.

The cluster-scoped tiers (policy.networking.k8s.io: AdminNetworkPolicy, BaselineAdminNetworkPolicy,
ClusterNetworkPolicy):

* evaluation: the Admin tier by ``priority`` (:data:`TIER_PRIORITY_RANGE`, lower first; rules in
  the order written), then NetworkPolicy, then the Baseline tier, then "allowed";
* a rule's action: :data:`ACCEPT` (v1alpha1 spells it :data:`ALLOW`), :data:`DENY`, :data:`PASS`
  (hand over to the next tier); BaselineAdminNetworkPolicy knows Allow and Deny only;
* a rule without ``ports`` (v1alpha1) / ``protocols`` (v1alpha2, v1beta1): every port of every
  protocol; a ``portNumber`` / ``portRange`` without ``protocol``: :data:`TIER_PORT_PROTOCOL` (TCP);
  a ``tcp``/``udp``/``sctp`` entry without ``destinationPort``: every port of that protocol;
* a peer with none of the fields the engine knows fails closed: it matches nothing in an Accept
  rule and everything in a Deny or Pass rule (the API's rule for unknown peer types);
* the only BaselineAdminNetworkPolicy is named :data:`BASELINE_ADMIN_NAME`.

Namespaces and pods:

* every Namespace carries :data:`NAMESPACE_NAME_LABEL` = its name (Kubernetes 1.21 on);
* a container port without ``protocol``: :data:`CONTAINER_PORT_PROTOCOL` (TCP).
"""

from __future__ import annotations

INGRESS_TYPE, EGRESS_TYPE = "Ingress", "Egress"
POLICY_TYPES = (INGRESS_TYPE, EGRESS_TYPE)

#: A NetworkPolicy port without ``protocol``.
NETWORK_POLICY_PROTOCOL = "TCP"
#: A CiliumNetworkPolicy port without ``protocol`` (never TCP).
CILIUM_PROTOCOL = "ANY"
#: A CiliumNetworkPolicy port that means "every port" (also when ``port`` is absent).
CILIUM_ALL_PORTS = 0
#: ``enableDefaultDeny.ingress`` / ``.egress`` when absent.
CILIUM_DEFAULT_DENY = True
#: A container port without ``protocol``.
CONTAINER_PORT_PROTOCOL = "TCP"

#: The tiers of the cluster-scoped policies, and the rule actions.
ADMIN_TIER, BASELINE_TIER = "Admin", "Baseline"
TIERS = (ADMIN_TIER, BASELINE_TIER)
ACCEPT, DENY, PASS = "Accept", "Deny", "Pass"
#: v1alpha1's word for Accept.
ALLOW = "Allow"
#: ``spec.priority`` of AdminNetworkPolicy / ClusterNetworkPolicy: lower values are evaluated first.
TIER_PRIORITY_RANGE = (0, 1000)
#: A v1alpha1 ``portNumber``/``portRange`` without ``protocol``.
TIER_PORT_PROTOCOL = "TCP"
#: The one name a BaselineAdminNetworkPolicy may have.
BASELINE_ADMIN_NAME = "default"

#: The Namespace label OVN-Kubernetes requires (set at creation) before a primary user-defined
#: network may serve the namespace; and the role of a network that replaces the pod network.
PRIMARY_UDN_LABEL = "k8s.ovn.org/primary-user-defined-network"
PRIMARY_ROLE = "Primary"
#: The network a pod is on without a primary user-defined network.
DEFAULT_POD_NETWORK = ""

#: The label the API server gives every Namespace: its own name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

#: Cilium's pseudo-labels of an endpoint for its namespace: the name, and each namespace label.
CILIUM_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
CILIUM_NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
#: The source Cilium reads for a selector key written without one (``app`` is ``any:app``).
CILIUM_DEFAULT_SOURCE = "any:"
#: Label sources that mean "a Kubernetes label" in a Cilium selector.
CILIUM_KUBERNETES_SOURCES = ("k8s:", CILIUM_DEFAULT_SOURCE)
#: The source of Cilium's reserved identities (``reserved:host`` ...): never a pod label.
CILIUM_RESERVED_PREFIX = "reserved:"


def default_policy_types(egress: object) -> list[str]:
    """The ``policyTypes`` the API server sets on a NetworkPolicy whose ``policyTypes`` is empty.

    ``egress`` is the spec's egress list as written: ``Egress`` is added only when it has a rule.
    """
    return [INGRESS_TYPE, EGRESS_TYPE] if egress else [INGRESS_TYPE]


def strip_kubernetes_source(key: str) -> str:
    """A Cilium selector key without its ``k8s:`` / ``any:`` source (other sources stay)."""
    for prefix in CILIUM_KUBERNETES_SOURCES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key
