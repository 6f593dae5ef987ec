"""The connectivity engine: who can reach whom under a set of network policies (pure, no I/O).

Inputs are plain manifests: NetworkPolicy, CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy
(L3/L4), Namespaces (labels; ``kubernetes.io/metadata.name`` is added when absent) and workloads
(Pods; Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs via their pod
templates, with labels and named container ports).

Per-flow API (what ``audit`` uses)::

    from autodeploy_netpol.policy import Endpoint, Model

    model = Model.build(policies, namespaces)          # namespaces: {name: labels} or manifests
    model = Model.from_objects(objects)                # any mix of manifests (workloads give named ports)
    web = Endpoint.pod("shop", {"app": "web"})         # pods need not exist: labels as recorded in a flow
    api = Endpoint.pod("shop", {"app": "api"})
    model.verdict(api, web, "TCP", 8080)               # -> Verdict(allowed, reason, policies, caveats)
    model.verdict(Endpoint.address("203.0.113.9"), web, "TCP", 443)   # external peer by IP
    model.verdict(Endpoint.entity_named("host"), web, "TCP", 8080)    # Cilium reserved identity
    model.connectivity(api, web).allowed               # -> ConnectionSet (all allowed protocol/ports)

``Endpoint`` is frozen and hashable; :meth:`Model.connectivity` is cached per (src, dst) pair
and :meth:`Model.verdict` per (src, dst, protocol, port), so a stream of flows between a few
thousand identities costs one dict lookup per flow. Reuse the same ``Endpoint`` objects for
the same identity (build them once per distinct label set) to save hashing work.

Semantics (Kubernetes NetworkPolicy, complete): a pod is isolated for a direction only if some
policy selecting it has that policyType (API defaults applied); allowed = union of the rules;
peers podSelector / namespaceSelector / both / ipBlock with except; ports TCP/UDP/SCTP with
endPort ranges and named ports resolved against the destination pod; a connection needs the
egress of the source AND the ingress of the destination. Cilium L3/L4: endpointSelector,
from/toEndpoints scoped to the policy's namespace unless the selector names the namespace
(``k8s:io.kubernetes.pod.namespace``) or namespace labels (``io.cilium.k8s.namespace.labels.*``),
entities, CIDR/CIDRSet with except, toPorts (protocol ANY by default, port 0 = all),
ingressDeny/egressDeny win over allows, enableDefaultDeny. L7 rules, toFQDNs, toServices,
fromRequires, ICMP and host policies are *not modelled*: they appear in ``Verdict.caveats`` /
:meth:`Model.notes` and never silently allow (an unmodelled peer matches nothing; an L7 rule
allows its L4 port, as the proxy would accept the connection).

All-pairs analysis for the commands lives in :mod:`.analysis` (equivalence classes of pods by
namespace, labels and named ports; peer sets as bitsets over those classes; external addresses
split into ranges at every CIDR boundary), so cost grows with distinct label sets and rules;
:class:`.analysis.Baseline` compares policy changes on the same pods, recomputing only the
classes a change touches. Questions about policies alone, without pods (does one policy allow
what another does not?), get their pods from :mod:`.witnesses`: one label set per kind of pod
the selectors can tell apart. Every Kubernetes and Cilium default is in ``kube/defaults.py``.
"""

from __future__ import annotations

from .endpoints import ENTITY, EXTERNAL, POD, Endpoint
from .engine import Model, PairConnectivity, Verdict
from .intervals import ALL_CONNECTIONS, NO_CONNECTIONS, ConnectionSet, IntervalSet
from .inventory import Inventory, Workload, build_inventory
from .policies import Policy, PolicyError, PolicyRef, Rule, compile_policy

__all__ = [
    "ALL_CONNECTIONS",
    "ENTITY",
    "EXTERNAL",
    "NO_CONNECTIONS",
    "POD",
    "ConnectionSet",
    "Endpoint",
    "IntervalSet",
    "Inventory",
    "Model",
    "PairConnectivity",
    "Policy",
    "PolicyError",
    "PolicyRef",
    "Rule",
    "Verdict",
    "Workload",
    "build_inventory",
    "compile_policy",
]
