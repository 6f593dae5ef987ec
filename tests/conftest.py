"""Suite-wide settings.

Hypothesis tests check behaviour, not speed (speed lives in bench/), so no example has a deadline
and slow generation is not a failure: a loaded CI machine must not turn them red. Locally each
run explores new examples; under CI (``CI`` set) they are derandomized, so a landing is judged
on the same inputs every time. A failure found locally is kept in ``.hypothesis/`` and replayed.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("local", **_COMMON)
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.load_profile("ci" if os.environ.get("CI") else "local")


@pytest.fixture(scope="session")
def gitlab_ci_local() -> str:
    """gitlab-ci-local 4.70.1, with GitLab's Auto DevOps templates from ../shared beside the repo."""
    from gitlab_integration.gcl import SHARED_TEMPLATES, find_gitlab_ci_local, missing_prerequisites

    if not (SHARED_TEMPLATES / "Auto-DevOps.gitlab-ci.yml").is_file():
        pytest.skip(f"GitLab's Auto DevOps templates are not at {SHARED_TEMPLATES} (../shared is absent)")
    # With NETPOL_REQUIRE_TOOLS (set by .ci/run) a missing tool fails instead of skipping.
    absent = pytest.fail if os.environ.get("NETPOL_REQUIRE_TOOLS", "").strip() not in ("", "0") else pytest.skip
    executable, why = find_gitlab_ci_local()
    if executable is None:
        absent(why)
    missing = missing_prerequisites()
    if missing:
        absent(f"gitlab-ci-local's shell executor needs {', '.join(missing)} on PATH")
    assert executable is not None
    return executable
