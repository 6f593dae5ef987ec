"""The names every layer shares: the policy kinds the tool reads and compares."""

from __future__ import annotations

NETWORK_POLICY = "NetworkPolicy"
CILIUM_NETWORK_POLICY = "CiliumNetworkPolicy"
POLICY_KINDS = (NETWORK_POLICY, CILIUM_NETWORK_POLICY)
