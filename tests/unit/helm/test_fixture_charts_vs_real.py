"""A real auto-deploy-app chart against the fixture chart of its shape, with real Helm.

Runs when ``AUTO_DEPLOY_CHART_DIR`` points at a real chart directory (``chart/`` after
``auto-deploy download_chart``, or ``assets/auto-deploy-app`` of an auto-deploy-image checkout);
skips otherwise. ``AUTO_DEPLOY_CHART_SHAPE`` names the fixture to compare with (e.g. ``c-2.39.0``);
without it every fixture is tried and one must match every case.

Both charts are rendered with ``helm template`` and Auto Deploy's own flags for every values case;
the fixture is rendered from a copy whose Chart.yaml carries the real chart's version (a shape
spans many versions). The policy documents (NetworkPolicy, CiliumNetworkPolicy, customResources)
must be the same text; the web and worker Deployments and the Service the same names, labels,
selectors and pod labels, duplicate keys included. Where the real chart fails, the fixture must
fail in the same template for the same reason.

The procedure and its last results are in tests/fixtures/charts/shapes/README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chart_shapes import (
    CASE_IDS,
    CASES,
    SHAPE_IDS,
    Render,
    chart_version,
    compare,
    fixture_copy,
    render,
    shape,
)

CHART_DIR = os.environ.get("AUTO_DEPLOY_CHART_DIR", "").strip()
CHART_SHAPE = os.environ.get("AUTO_DEPLOY_CHART_SHAPE", "").strip()

pytestmark = [
    pytest.mark.helm,
    pytest.mark.skipif(
        not CHART_DIR,
        reason=(
            "needs a real auto-deploy-app chart: set AUTO_DEPLOY_CHART_DIR to its directory "
            "(and AUTO_DEPLOY_CHART_SHAPE to the fixture shape, optional)"
        ),
    ),
]


@pytest.fixture(scope="module")
def real_chart() -> Path:
    chart = Path(CHART_DIR)
    if not (chart / "Chart.yaml").is_file():
        pytest.fail(
            f"AUTO_DEPLOY_CHART_DIR={CHART_DIR} is not a chart directory (no Chart.yaml)", pytrace=False
        )
    if CHART_SHAPE and CHART_SHAPE not in SHAPE_IDS:
        pytest.fail(
            f"AUTO_DEPLOY_CHART_SHAPE={CHART_SHAPE} is not a fixture shape; known: {', '.join(SHAPE_IDS)}",
            pytrace=False,
        )
    return chart


@pytest.fixture(scope="module")
def fixtures_at_real_version(real_chart: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Shape → a copy of its fixture chart that says the real chart's version."""
    version = chart_version(real_chart)
    place = tmp_path_factory.mktemp("fixture-shapes")
    wanted = [CHART_SHAPE] if CHART_SHAPE else list(SHAPE_IDS)
    return {sid: fixture_copy(shape(sid), version, place) for sid in wanted}


@pytest.fixture(scope="module")
def verdicts(shapes_helm: str, real_chart: Path, fixtures_at_real_version: dict[str, Path]):
    """(case, shape) → the differences between the real chart's render and the fixture's."""
    found: dict[tuple[str, str], list[str]] = {}
    real: dict[str, Render] = {case.id: render(shapes_helm, real_chart, case) for case in CASES}
    for sid, chart in fixtures_at_real_version.items():
        for case in CASES:
            found[case.id, sid] = compare(real[case.id], render(shapes_helm, chart, case))
    return found


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_the_fixture_renders_what_the_real_chart_renders(verdicts, case_id):
    per_shape = {sid: why for (cid, sid), why in verdicts.items() if cid == case_id}
    if CHART_SHAPE:
        differences = per_shape[CHART_SHAPE]
        assert not differences, f"{CHART_SHAPE} differs from {CHART_DIR} on {case_id}:\n" + "\n".join(
            differences
        )
    else:
        assert any(not why for why in per_shape.values()), (
            f"no fixture shape renders {case_id} like {CHART_DIR}:\n"
            + "\n".join(f"{sid}: {why[0][:400]}" for sid, why in per_shape.items())
        )


@pytest.mark.skipif(bool(CHART_SHAPE), reason="AUTO_DEPLOY_CHART_SHAPE names the shape")
def test_one_shape_matches_every_case(verdicts):
    matching = [sid for sid in SHAPE_IDS if not any(verdicts[case_id, sid] for case_id in CASE_IDS)]
    assert matching, f"no fixture shape matches {CHART_DIR} on every case"
    print(f"{CHART_DIR} renders like the fixture shape(s): {', '.join(matching)}")
