"""Ownership: who owns each live policy, and what the deploy would do to policies it does not own.

Pure (no I/O): live manifests and desired objects in, typed records out.

* :mod:`.fields` - ``metadata.managedFields`` parsed into managers, operations, times and paths;
* :mod:`.classify` - the owner of every live NetworkPolicy / CiliumNetworkPolicy, with evidence;
* :mod:`.widening` - the structural "does the pipeline's policy widen the UI policies" check.
"""

from .classify import Ownership, OwnershipVerdict, classify

__all__ = ["Ownership", "OwnershipVerdict", "classify"]
