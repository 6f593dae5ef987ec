"""The fixture charts of every auto-deploy-app shape, and their golden renders.

``tests/fixtures/charts/shapes/<shape>/`` are charts written for this project, one per shape of
GitLab's auto-deploy-app chart (table in the README there). ``shapes/golden/<shape>/<case>.yaml``
is what real Helm prints for the fixture under Auto Deploy's flags and the values case
``shapes/cases/<case>.yaml``; each golden was checked against the real chart's output
(test_fixture_charts_vs_real.py with AUTO_DEPLOY_CHART_DIR). They are the oracle the chart model
is tested against.

Without Helm only the bookkeeping runs (every shape has its chart, every golden exists, the README
table is the shape table); the renders need a Helm CLI (HELM_BIN, the pinned one, or PATH).
"""

from __future__ import annotations

import re
import shutil
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from chart_shapes import (
    CASE_IDS,
    CASES,
    CASES_DIR,
    GOLDEN_DIR,
    SHAPE_IDS,
    SHAPES,
    SHAPES_DIR,
    case_named,
    documents,
    golden_path,
    golden_text,
    render,
)

from autodeploy_netpol.desired.overlay import REQUIRED_HELPERS, apply_overlay
from autodeploy_netpol.errors import InputError

#: Cases the real chart cannot render, in every shape (the deploy fails), and Helm's reason.
FAILING_CASES = {
    "netpol-null": "nil pointer evaluating interface {}.enabled",
    # --set releaseOverride=2024 is an int64: appname prints "%!s(int64=2024)", which is not YAML
    # (the first template Helm parses with it fails: cilium-network-policy.yaml in shape C).
    "release-2024": "found character that cannot start any token",
}
#: Shapes whose objects are the same for every case (only the template text differs).
SAME_OBJECTS = {("d-cr-2.40.0", "d-cr-2.68.0-rewrite")}


def _chart_metadata(shape_dir: Path) -> dict:
    return yaml.safe_load((shape_dir / "Chart.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_every_shape_is_a_chart_of_its_version(shape):
    metadata = _chart_metadata(shape.path)
    assert metadata["name"] == "auto-deploy-app"
    assert str(metadata["version"]) == shape.chart_version
    assert (shape.path / "values.yaml").is_file()
    assert (shape.path / "templates" / "network-policy.yaml").is_file()


def test_the_shape_directories_are_the_shape_table():
    on_disk = {p.name for p in SHAPES_DIR.iterdir() if (p / "Chart.yaml").is_file()}
    assert on_disk == set(SHAPE_IDS)


def test_every_case_is_a_values_mapping_and_every_values_file_a_case():
    for case in CASES:
        assert isinstance(yaml.safe_load(case.values_path.read_text(encoding="utf-8")), dict), case.id
    assert {p.name for p in CASES_DIR.glob("*.yaml")} == {case.values for case in CASES}


def test_there_is_a_golden_for_every_shape_and_case_and_nothing_else():
    expected = {golden_path(s, c) for s in SHAPE_IDS for c in CASE_IDS}
    assert set(GOLDEN_DIR.glob("*/*.yaml")) == expected


def test_the_readme_table_is_the_shape_table():
    readme = (SHAPES_DIR / "README.md").read_text(encoding="utf-8")
    rows = {
        cells[0].strip("` "): [cell.strip() for cell in cells]
        for cells in (
            line.strip().strip("|").split("|") for line in readme.splitlines() if line.startswith("| `")
        )
    }
    for shape in SHAPES:
        assert shape.id in rows, f"README.md has no row for {shape.id}"
        _, tags, version, verified, *_ = rows[shape.id]
        assert (tags, version, verified) == (shape.image_tags, shape.chart_version, shape.verified_at), (
            shape.id
        )


def _objects_without_version(text: str, version: str) -> str:
    return text.replace(f"auto-deploy-app-{version}", "auto-deploy-app-<version>")


def test_consecutive_shapes_render_differently_somewhere():
    """Each shape earns its place: some case tells it from the previous one (or it is documented
    as rendering the same objects with another template text)."""
    for earlier, later in pairwise(SHAPES):
        differing = [
            case
            for case in CASE_IDS
            if _objects_without_version(golden_path(earlier.id, case).read_text(), earlier.chart_version)
            != _objects_without_version(golden_path(later.id, case).read_text(), later.chart_version)
        ]
        if (earlier.id, later.id) in SAME_OBJECTS:
            assert differing == [], (
                f"{earlier.id} and {later.id} are documented as rendering the same objects"
            )
        else:
            assert differing, f"{later.id} renders exactly like {earlier.id}: one of them is redundant"


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_the_chart_overlays_find_their_helpers_from_shape_b_on(shape, tmp_path):
    chart = tmp_path / "auto-deploy-app"
    shutil.copytree(shape.path, chart)
    if shape.id.startswith("a-"):
        # Chart 2.2.0 has no sharedlabels helper: the overlays cannot be laid on it.
        with pytest.raises(InputError, match="sharedlabels"):
            apply_overlay(chart)
    else:
        apply_overlay(chart)
        helpers = (chart / "templates" / "_helpers.tpl").read_text(encoding="utf-8")
        assert all(f'define "{name}"' in helpers for name in REQUIRED_HELPERS)


# --- with Helm --------------------------------------------------------------------------------


@pytest.mark.helm
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_fixture_renders_its_golden(shapes_helm, shape, case):
    result = render(shapes_helm, shape.path, case)
    if case.id in FAILING_CASES:
        assert not result.ok, f"{shape.id} renders {case.id}, which fails with the real chart"
        assert result.normalized_error().endswith(": " + FAILING_CASES[case.id])
    else:
        assert result.ok, f"{shape.id} fails on {case.id}: {result.error}"
    expected = golden_path(shape.id, case.id).read_text(encoding="utf-8")
    assert golden_text(result) == expected, (
        f"{shape.id}/{case.id} no longer renders its golden; if the fixture change is intended, "
        "check it against the real chart (README) and rewrite the goldens: "
        "python tests/chart_shapes.py golden"
    )


@pytest.mark.helm
def test_every_rendered_document_names_its_template(shapes_helm):
    """The comparison keys documents on their template; a document without one would be lost."""
    for shape in SHAPES:
        result = render(shapes_helm, shape.path, case_named("release-no"))
        assert result.ok
        assert all(re.fullmatch(r"[\w.-]+\.yaml", doc.source) for doc in documents(result.stdout)), shape.id
