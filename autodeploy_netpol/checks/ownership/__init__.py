"""Ownership: who owns each live policy, and what the deploy would do to policies it does not own.

Pure (no I/O): live manifests and desired objects in, typed records out.

* :mod:`.fields` - ``metadata.managedFields`` parsed into managers, operations, times and paths;
* :mod:`.classify` - the owner of every live NetworkPolicy / CiliumNetworkPolicy, with evidence;
* :mod:`.widening` - "does the pipeline's policy widen the UI policies", asked of the connectivity engine;
* :mod:`.conflicts` - the warnings (override, both methods, collision, disabled UI policy) and
  the exit code they lead to;
* :mod:`.helm_history` - Helm 3's release record decoded from its Secret (for ``--helm-history``);
* :mod:`.check` - all of it over one namespace or many, as the drift command runs it.
"""

from .classify import Ownership, OwnershipVerdict, classify
from .conflicts import OwnershipReport, OwnershipWarning, WarningCode, assess, exit_code

__all__ = [
    "Ownership",
    "OwnershipReport",
    "OwnershipVerdict",
    "OwnershipWarning",
    "WarningCode",
    "assess",
    "classify",
    "exit_code",
]
