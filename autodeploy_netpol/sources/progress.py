"""Progress lines for slow cluster reads: retries, long and cluster-wide lists.

A read that retries against a slow API server can take minutes with the default timeout; a list
of every pod of a large cluster too. Silence then looks like a hang. :class:`Progress` turns the
reader's events into occasional lines: nothing in the first seconds of a run (a short run stays
silent, in CI logs as on a terminal), then at most one line every few seconds, always the latest
state. A retry whose wait makes the run long is said at once, with the wait, so the line comes
before the pause rather than after it.

The reader only calls :meth:`Progress.report`; where the lines go (standard error) is the
command line's business.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Seconds of a run during which nothing is said.
QUIET_FOR = 3.0
#: At most one line per this many seconds.
INTERVAL = 5.0


@dataclass
class Progress:
    """Rate-limited progress lines; ``emit`` writes one line."""

    emit: Callable[[str], None]
    quiet_for: float = QUIET_FOR
    interval: float = INTERVAL
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)
    _last: float = field(default=float("-inf"), init=False)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def report(self, message: str, *, wait: float = 0.0) -> bool:
        """Say ``message`` if the run is (or, after ``wait`` seconds, will be) past the quiet start
        and the last line is ``interval`` old; whether it was said."""
        now = self.clock()
        if now + wait - self.started < self.quiet_for or now - self._last < self.interval:
            return False
        self._last = now
        self.emit(f"progress: {message}")
        return True


def silent() -> Progress:
    """A progress that says nothing (tests, library use)."""
    return Progress(lambda _: None, quiet_for=float("inf"))
