"""Learn a policy from recorded traffic (``suggest --from-flows``), and prove it (pure).

* :mod:`.record` — flows (as :mod:`~autodeploy_netpol.sources.flows` reads them) → the distinct
  connections of the app's pods, with counts and first/last seen; memory grows with distinct
  connections, never with flows.
* :mod:`.cidrs` — outside addresses → a few CIDR blocks (the prefix bound and the joining rule).
* :mod:`.build` — connections → the narrowest policy set for the app's web and worker pods of
  every track: the main NetworkPolicy (``networkPolicy.spec``) and one policy per component for
  ``customResources``; works on the aggregate only, so its cost is independent of the flow count.
* :mod:`.proof` — the suggestion replayed through the audit engine (nothing recorded may be
  dropped) and analysed by the connectivity engine (what it allows beyond the recording).
"""

from __future__ import annotations

from .build import learn_policy
from .policy_set import (
    Component,
    LearnedObject,
    LearnedPolicy,
    LearnedRule,
    LearnSettings,
    PeerEntry,
)
from .proof import LearnOutcome, Proof, SlackEntry, prove
from .record import FlowRecorder, Observations, Tally

__all__ = [
    "Component",
    "FlowRecorder",
    "LearnOutcome",
    "LearnSettings",
    "LearnedObject",
    "LearnedPolicy",
    "LearnedRule",
    "Observations",
    "PeerEntry",
    "Proof",
    "SlackEntry",
    "Tally",
    "learn_policy",
    "prove",
]
