"""Suite-wide settings.

Hypothesis tests check behaviour, not speed (speed lives in bench/), so no example has a deadline
and slow generation is not a failure: a loaded CI machine must not turn them red. Locally each
run explores new examples; under CI (``CI`` set) they are derandomized, so a landing is judged
on the same inputs every time. A failure found locally is kept in ``.hypothesis/`` and replayed.

The external tools (pinned helm, kubectl, gitlab-ci-local, Debian's chromium via playwright-core)
come as fixtures from tests/toolchain.py, loaded here as a plugin; loading it puts ``.tools/bin``
first on ``PATH`` before any test module is collected.
"""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["toolchain"]

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("local", **_COMMON)
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.load_profile("ci" if os.environ.get("CI") else "local")
