"""The cluster edge over real HTTP: the kmock emulator by default, a real cluster with --kubeconfig.

Two kinds of tests live here:

- *read tests* seed objects through the :class:`Seeder` fixture and read them back with the
  real :class:`~autodeploy_netpol.sources.cluster.ClusterReader`; they run against kmock's
  in-memory Kubernetes emulator, or against a real cluster when pytest is given
  ``--kubeconfig FILE`` (that option and the ``kube_cluster`` fixture come from
  pytest-helm-charts; objects are then created in throw-away namespaces made by its
  ``namespace_factory_function_scope`` fixture, through its pykube client);
- *scripted tests* (marker ``scripted``) make the emulator misbehave on purpose — pages,
  403, 410, 5xx, hangs, 429 — and are skipped against a real cluster, which cannot be told
  to fail on cue.

The reader under test is synchronous (urllib3); the emulator is asyncio. Tests are async and
run the reader in a worker thread (``asyncio.to_thread``) while the emulator serves on the
test's event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_harness import Emulator, EmulatorSeeder, RealClusterSeeder, Seeder, write_kubeconfig


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "scripted: makes the kmock emulator fail on cue; skipped on a real cluster"
    )


def real_cluster_kubeconfig(config: pytest.Config) -> str | None:
    """The --kubeconfig given on the pytest command line (not the KUBECONFIG variable)."""
    value = config.getoption("kubeconfig", default=None)
    return str(value) if value else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.kmock(cls=Emulator))
    if real_cluster_kubeconfig(config) is None:
        return
    skip = pytest.mark.skip(reason="scripted emulator failure; not reproducible on a real cluster")
    for item in items:
        if item.get_closest_marker("scripted") is not None:
            item.add_marker(skip)


@pytest.fixture
def seeder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeder]:
    """The cluster under test: kmock's emulator, or the real cluster named by --kubeconfig."""
    if real_cluster_kubeconfig(request.config) is None:
        kmock = request.getfixturevalue("kmock")
        yield EmulatorSeeder(kmock, write_kubeconfig(tmp_path / "kubeconfig", str(kmock.url).rstrip("/")))
    else:
        kube_cluster = request.getfixturevalue("kube_cluster")
        factory = request.getfixturevalue("namespace_factory_function_scope")
        yield RealClusterSeeder(kube_cluster, factory)
