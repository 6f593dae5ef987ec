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

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["toolchain"]

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("local", **_COMMON)
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.load_profile("ci" if os.environ.get("CI") else "local")


@pytest.fixture(scope="session")
def gitlab_ci_local(request: pytest.FixtureRequest) -> str:
    """gitlab-ci-local 4.70.1 (``make tools``, or ``$GITLAB_CI_LOCAL``) with GitLab's Auto DevOps
    templates from ../shared beside the repo, and rsync for its shell executor."""
    from gitlab_integration.gcl import SHARED_TEMPLATES, VERSION, missing_prerequisites, version_of
    from toolchain import missing_tool

    if not (SHARED_TEMPLATES / "Auto-DevOps.gitlab-ci.yml").is_file():
        pytest.skip(f"GitLab's Auto DevOps templates are not at {SHARED_TEMPLATES} (../shared is absent)")
    executable = os.environ.get("GITLAB_CI_LOCAL") or str(request.getfixturevalue("gitlab_ci_local_bin"))
    version = version_of(executable)
    if version != VERSION:
        pytest.fail(
            f"{executable} is gitlab-ci-local {version or '?'}, the tests need {VERSION}", pytrace=False
        )
    missing = missing_prerequisites()
    if missing:
        missing_tool(", ".join(missing), "gitlab-ci-local's shell executor needs it (apt-get install rsync)")
    return executable
