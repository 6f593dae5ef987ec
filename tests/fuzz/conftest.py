"""The fuzz suite's fixtures; the machinery is in ``fuzz_support.py`` (a module name of its own: the
test modules import it, and ``conftest`` is a name every test directory has)."""

from __future__ import annotations

from fuzz_support import _report, scratch, worker

__all__ = ["_report", "scratch", "worker"]
