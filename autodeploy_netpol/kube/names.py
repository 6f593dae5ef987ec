"""Kinds: the policy kinds the tool reads, and which of them a deploy writes."""

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

__all__ = [
    "ALL_POLICY_KINDS",
    "CILIUM_CLUSTERWIDE_NETWORK_POLICY",
    "CILIUM_NETWORK_POLICY",
    "NETWORK_POLICY",
    "POLICY_KINDS",
]
