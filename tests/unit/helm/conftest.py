"""Charts for the Helm tests: the fixture auto-deploy-app chart in its two historical shapes.

* ``2.39`` — still ships templates/cilium-network-policy.yaml and the ciliumNetworkPolicy values;
* ``2.100`` — today's chart: both removed in 2.40.0 (FACTS.md).

Each test gets its own copy, so laying overlays never touches the fixture in the repository.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURE_CHART = Path(__file__).resolve().parents[2] / "fixtures" / "charts" / "auto-deploy-app"

ChartFactory = Callable[..., Path]


def build_chart(destination: Path, *, modern: bool = False, overlays: bool = False) -> Path:
    """Copy the fixture chart to ``destination``; ``modern`` makes it a 2.100 chart without Cilium."""
    from autodeploy_netpol.desired.overlay import apply_overlay

    chart = destination / "auto-deploy-app"
    shutil.copytree(FIXTURE_CHART, chart)
    if modern:
        (chart / "templates" / "cilium-network-policy.yaml").unlink()
        values = (chart / "values.yaml").read_text(encoding="utf-8")
        (chart / "values.yaml").write_text(values[: values.index("ciliumNetworkPolicy:")], encoding="utf-8")
        metadata = (chart / "Chart.yaml").read_text(encoding="utf-8")
        (chart / "Chart.yaml").write_text(
            metadata.replace("version: 2.39.0", "version: 2.100.0"), encoding="utf-8"
        )
    if overlays:
        apply_overlay(chart)
    return chart


@pytest.fixture
def make_chart(tmp_path: Path) -> ChartFactory:
    """``make_chart(modern=False, overlays=False)`` → a fresh chart directory."""
    counter = iter(range(1_000))

    def factory(*, modern: bool = False, overlays: bool = False) -> Path:
        place = tmp_path / f"chart-{next(counter)}"
        place.mkdir()
        return build_chart(place, modern=modern, overlays=overlays)

    return factory


@pytest.fixture(scope="session")
def overlaid_charts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Chart version → a fixture chart with chart-overlays laid on, in both shapes (shared, read-only)."""
    charts = {}
    for version, modern in (("2.39.0", False), ("2.100.0", True)):
        charts[version] = build_chart(
            tmp_path_factory.mktemp(f"chart-{version}"), modern=modern, overlays=True
        )
    return charts


@pytest.fixture(scope="session")
def shapes_helm(request: pytest.FixtureRequest) -> str:
    """The Helm CLI for the fixture-shape tests: the suite's pinned ``helm_bin`` when the toolchain
    provides one, else ``$HELM_BIN`` or ``helm`` on PATH; skips with a note when there is none."""
    from chart_shapes import helm_binary, helm_version

    try:
        return str(request.getfixturevalue("helm_bin"))
    except pytest.FixtureLookupError:
        pass
    binary = helm_binary()
    if binary is None:
        pytest.skip("no Helm CLI: set HELM_BIN to a Helm 3 binary or put one on PATH")
    if not helm_version(binary).startswith(("v3.", "v4.")):
        pytest.skip(f"{binary} is not Helm 3 or 4 ({helm_version(binary) or 'no version'})")
    return binary
