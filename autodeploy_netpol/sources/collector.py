"""Python's cycle collector, paused where it can only cost: reading big inputs, and start-up.

Parsed documents are acyclic, and so is nearly everything an import builds; yet every automatic
collection walks all the young objects again. A short-lived command gains nothing from those
walks: with the collector running, reading a 5 MB values file took three times as long
(bench/values.py), and the imports of a plain ``validate`` triggered some 25 collections
(bench/peers.py measures start-up). This module imports nothing but the standard library, so the
command line can use it before anything else is loaded.
"""

from __future__ import annotations

import gc


class _Paused:
    """The context of :func:`cycle_collector_paused` (a class: contextlib is start-up to spare)."""

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *_: object) -> None:
        if self._was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def cycle_collector_paused() -> _Paused:
    """Pause Python's cycle collector (restoring its state afterwards).

    What was built meanwhile is handed to the oldest generation on the way out (freeze and
    unfreeze move whole generation lists, at no cost per object): left in the youngest, the first
    collection after the pause would walk all of it (a third of a second for a 5 MB values file).
    """
    return _Paused()
