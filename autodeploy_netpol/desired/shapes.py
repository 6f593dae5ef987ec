"""The shapes of GitLab's auto-deploy-app chart, and which one the pipeline deploys.

The chart ships inside the auto-deploy-image; GitLab's Deploy template pins the image
(``AUTO_DEPLOY_IMAGE_VERSION``). What the chart renders for network policies changed nine
times between image v2.0.0 and v2.113.0 (FACTS.md, tests/fixtures/charts/shapes/README.md);
chart version numbers repeat across those changes (2.40.0 with and without
``customResources``, 2.80.1 with and without ``tpl``), so the image tag is what identifies a
shape, and the chart version is only what the labels say.

:func:`choose_shape` picks the shape the way a deploy would get it, first match wins:

1. a chart directory (``render --chart DIR``): its templates say which features it has;
2. the image (``--image-version`` / ``$AUTO_DEPLOY_IMAGE_VERSION``), unless the project deploys
   its own chart (``$AUTO_DEVOPS_CHART``): the chart that image ships;
3. a chart version (``--chart-version`` / ``$AUTO_DEVOPS_CHART_VERSION``);
4. the ``helm.sh/chart`` label on the release's live objects, when a live state is read;
5. the newest shape.

Every choice carries a sentence saying what was chosen and why (shown in every output).
The tables are plain data: choosing costs microseconds and imports nothing.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable

from ..errors import InputError, Location
from ..records import record, replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


@record(frozen=True)
class ChartShape:
    """What one shape of the chart renders for the objects this tool reads."""

    id: str
    #: image tags whose chart has this shape, as "first - last"
    images: str
    #: the 8 shared labels (``sharedlabels``) and ``extraLabels`` on the policy objects (2.3.0 on);
    #: before that only ``app``, ``chart``, ``release`` and ``heritage``
    shared_labels: bool = True
    #: the chart's own CiliumNetworkPolicy template and ``ciliumNetworkPolicy`` values (v2.6.0 - v2.44.0)
    cilium_template: bool = False
    #: ``workers.<name>.labels`` reach the worker pods (v2.23.0 on)
    worker_labels: bool = True
    #: the ``customResources`` list (v2.51.0 on)
    custom_resources: bool = False
    #: a ``---`` after each ``customResources`` entry (v2.80.1 on); before, entries run into one document
    separator: bool = False
    #: entries pass through ``tpl`` (v2.91.0 on)
    tpl: bool = False

    @property
    def describe(self) -> str:
        """The shape's features in a few words."""
        parts = ["8 shared labels + extraLabels" if self.shared_labels else "4 labels, no extraLabels"]
        if self.cilium_template:
            parts.append("CiliumNetworkPolicy template")
        if self.custom_resources:
            mode = "tpl" if self.tpl else ("toYaml" if self.separator else "toYaml, no separator")
            parts.append(f"customResources ({mode})")
        return ", ".join(parts)


#: Every shape, oldest first (tests/fixtures/charts/shapes/ has a fixture chart for each).
SHAPES: tuple[ChartShape, ...] = (
    ChartShape("a", "v2.0.0 - v2.2.0", shared_labels=False, worker_labels=False),
    ChartShape("b", "v2.3.0 - v2.5.0", worker_labels=False),
    ChartShape("c", "v2.6.0 - v2.22.1", cilium_template=True, worker_labels=False),
    ChartShape("c-worker-labels", "v2.23.0 - v2.44.0", cilium_template=True),
    ChartShape("d", "v2.45.0 - v2.50.0"),
    ChartShape("d-cr", "v2.51.0 - v2.71.0", custom_resources=True),
    # The NetworkPolicy template was rewritten (`spec:` + nindent) at v2.71.1: the same objects.
    ChartShape("d-cr-rewrite", "v2.71.1 - v2.80.0", custom_resources=True),
    ChartShape("d-cr-separator", "v2.80.1 - v2.90.0", custom_resources=True, separator=True),
    ChartShape("d-cr-tpl", "v2.91.0 on", custom_resources=True, separator=True, tpl=True),
)
SHAPE_IDS = tuple(shape.id for shape in SHAPES)
NEWEST = SHAPES[-1]


def shape_named(shape_id: str) -> ChartShape:
    for shape in SHAPES:
        if shape.id == shape_id:
            return shape
    raise KeyError(shape_id)


Version = tuple[int, int, int]


_ASCII_DIGITS = frozenset("0123456789")


def parse_version(text: str) -> Version | None:
    """``"v2.39.0"`` / ``"2.39"`` → ``(2, 39, 0)``; pre-release and build parts are ignored."""
    parts = text.split(".")
    if 2 <= len(parts) <= 3 and all(0 < len(part) <= 6 and _ASCII_DIGITS.issuperset(part) for part in parts):
        # "2.100.2", what is nearly always given: the same numbers as the pattern below reads,
        # without compiling it (start-up)
        return (int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 0)
    match = re.fullmatch(r"\s*v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?(?:[-+][0-9A-Za-z.+-]*)?\s*", text)
    if not match:
        return None
    return (int(match[1]), int(match[2]), int(match[3] or 0))


def _table_version(text: str) -> Version:
    """A version of the tables below (``"2.100.2"``: they hold nothing else), without the regex of
    :func:`parse_version` (read at every start)."""
    major, minor, patch = text.split(".")
    return (int(major), int(minor), int(patch))


def _tags(text: str) -> tuple[Version, ...]:
    return tuple(_table_version(tag) for tag in text.split())


#: Every auto-deploy-image release v2.0.0 - v2.113.0 (the tags of its repository).
KNOWN_IMAGES: tuple[Version, ...] = _tags(
    "2.0.0 2.0.1 2.0.2 2.1.0 2.2.0 2.3.0 2.3.1 2.4.0 2.5.0 2.6.0 2.7.0 2.8.0 2.9.0 2.10.0 2.11.0 "
    "2.11.1 2.11.2 2.11.3 2.11.4 2.12.0 2.12.1 2.13.0 2.14.0 2.15.0 2.16.0 2.17.0 2.18.0 2.18.1 "
    "2.19.0 2.20.0 2.21.0 2.21.1 2.22.0 2.22.1 2.23.0 2.24.0 2.25.0 2.26.0 2.27.0 2.28.0 2.28.1 "
    "2.28.2 2.29.0 2.29.1 2.30.0 2.30.1 2.31.0 2.32.0 2.33.0 2.34.0 2.35.0 2.36.0 2.37.0 2.38.0 "
    "2.38.1 2.39.0 2.40.0 2.41.0 2.42.0 2.42.1 2.43.0 2.44.0 2.45.0 2.46.0 2.47.0 2.48.0 2.48.1 "
    "2.48.2 2.48.3 2.49.0 2.50.0 2.51.0 2.51.1 2.52.0 2.53.0 2.54.0 2.55.0 2.56.0 2.57.0 2.58.0 "
    "2.58.1 2.59.0 2.59.1 2.60.0 2.61.0 2.62.0 2.63.0 2.64.0 2.65.0 2.66.0 2.67.0 2.68.0 2.69.0 "
    "2.70.0 2.71.0 2.71.1 2.72.0 2.73.0 2.74.0 2.75.0 2.76.0 2.76.1 2.77.0 2.78.0 2.79.0 2.80.0 "
    "2.80.1 2.81.0 2.82.0 2.83.0 2.84.0 2.85.0 2.86.0 2.87.0 2.88.0 2.89.0 2.90.0 2.91.0 2.92.0 "
    "2.93.0 2.94.0 2.95.0 2.96.0 2.97.0 2.98.0 2.99.0 2.100.0 2.100.1 2.100.2 2.101.0 2.102.0 "
    "2.103.0 2.104.0 2.105.0 2.106.0 2.107.0 2.108.0 2.109.0 2.110.0 2.111.0 2.112.0 2.113.0"
)
NEWEST_KNOWN_IMAGE = KNOWN_IMAGES[-1]

#: "first image tag=chart version it ships": each pair holds until the next one.
_IMAGE_CHART_TEXT = (
    "2.0.0=2.0.0 2.0.1=2.0.1 2.0.2=2.0.2 2.2.0=2.2.0 2.3.0=2.3.0 2.4.0=2.4.0 2.5.0=2.5.0 2.6.0=2.6.0 "
    "2.7.0=2.7.0 2.8.0=2.8.0 2.9.0=2.9.0 2.10.0=2.10.0 2.11.1=2.11.1 2.11.3=2.11.3 2.13.0=2.13.0 "
    "2.14.0=2.14.0 2.16.0=2.16.0 2.18.0=2.18.0 2.19.0=2.19.0 2.20.0=2.20.0 2.21.0=2.21.0 2.21.1=2.21.1 "
    "2.22.0=2.22.0 2.22.1=2.22.1 2.23.0=2.23.0 2.24.0=2.24.0 2.25.0=2.25.0 2.26.0=2.26.0 2.27.0=2.27.0 "
    "2.28.0=2.28.0 2.28.1=2.28.1 2.29.0=2.29.0 2.29.1=2.29.1 2.33.0=2.33.0 2.34.0=2.34.0 2.35.0=2.35.0 "
    "2.38.1=2.38.1 2.41.0=2.39.0 2.45.0=2.40.0 2.58.1=2.40.1 2.64.0=2.64.0 2.65.0=2.65.0 2.67.0=2.67.0 "
    "2.69.0=2.68.0 2.80.1=2.80.1 2.100.2=2.100.2"
)
_IMAGE_CHART_VERSIONS: tuple[tuple[Version, str], ...] = tuple(
    (_table_version(image), chart) for image, chart in (pair.split("=") for pair in _IMAGE_CHART_TEXT.split())
)
#: (first image tag, shape): each row holds until the next one.
_IMAGE_SHAPES: tuple[tuple[Version, ChartShape], ...] = tuple(
    (_table_version(shape.images.split()[0].removeprefix("v")), shape) for shape in SHAPES
)
#: The newest chart version known (image v2.100.2 - v2.113.0): the default for the labels.
DEFAULT_CHART_VERSION = _IMAGE_CHART_VERSIONS[-1][1]


def _row(rows: tuple[tuple[Version, object], ...], version: Version) -> int:
    return bisect.bisect_right([row[0] for row in rows], version) - 1


def image_shape(image: Version) -> ChartShape:
    """The shape of the chart ``image`` ships (image ≥ v2.0.0)."""
    return _IMAGE_SHAPES[max(_row(_IMAGE_SHAPES, image), 0)][1]


def image_chart_version(image: Version) -> str | None:
    """The chart version ``image`` ships; ``None`` for images newer than the tool knows."""
    if image > NEWEST_KNOWN_IMAGE:
        return None
    return _IMAGE_CHART_VERSIONS[max(_row(_IMAGE_CHART_VERSIONS, image), 0)][1]


def _version_text(version: Version) -> str:
    return ".".join(str(part) for part in version)


def _shipped_charts() -> list[tuple[Version, Version]]:
    """Every known image with the chart version it ships, as numbers (one walk of both tables,
    which hold plain ``x.y.z``)."""
    shipped: list[tuple[Version, Version]] = []
    row = 0
    for image in KNOWN_IMAGES:
        while row + 1 < len(_IMAGE_CHART_VERSIONS) and _IMAGE_CHART_VERSIONS[row + 1][0] <= image:
            row += 1
        shipped.append((image, _table_version(_IMAGE_CHART_VERSIONS[row][1])))
    return shipped


def chart_version_shapes(chart_version: Version) -> list[tuple[ChartShape, str]]:
    """The shapes a chart version was shipped with, oldest first, each with its image range.

    A version no image shipped (a chart of the project's own numbering, or one from a chart
    repository) gets the shape of the nearest version below it.
    """
    found: dict[str, tuple[ChartShape, list[Version]]] = {}
    shipped = _shipped_charts()
    for image, version in shipped:
        if version == chart_version:
            shape = image_shape(image)
            found.setdefault(shape.id, (shape, []))[1].append(image)
    if found:
        return [
            (shape, f"v{_version_text(images[0])} - v{_version_text(images[-1])}")
            for shape, images in found.values()
        ]
    below = [image for image, version in shipped if version <= chart_version]
    if not below:
        return [(SHAPES[0], "")]
    return [(image_shape(below[-1]), "")]


# --- the choice ------------------------------------------------------------------------------------


@record(frozen=True)
class ShapeChoice:
    """The chart the deploy uses: its shape, its version (for the labels) and why."""

    shape: ChartShape
    chart_version: str
    #: one sentence: what was chosen, from what
    reason: str
    #: what the choice assumes or could not know (an ambiguous version, an image newer than known …)
    caveats: tuple[str, ...] = ()
    #: where it came from: chart-dir, image, chart-version, live-label, default
    source: str = "default"
    #: for a chart directory: whether ``autodeploy-netpol overlay`` laid the overlays onto it
    overlays_laid: bool = False

    @property
    def notes(self) -> tuple[str, ...]:
        return (self.reason, *self.caveats)


@record(frozen=True)
class ShapeRequest:
    """What is known about the chart of the deploy (resolved from options and environment)."""

    chart_dir: str | None = None
    image_version: str | None = None
    #: where ``image_version`` came from, for the note (``--image-version``, ``AUTO_DEPLOY_IMAGE_VERSION``)
    image_origin: str = "--image-version"
    chart_version: str | None = None
    chart_version_origin: str = "--chart-version"
    #: ``$AUTO_DEVOPS_CHART``: the project deploys a chart of its own, not the image's
    custom_chart: str | None = None


def _described(shape: ChartShape, version: str) -> str:
    return f"chart shape {shape.id} (auto-deploy-app {version}; {shape.describe})"


def choose_shape(request: ShapeRequest, *, live_chart_labels: Iterable[str] = ()) -> ShapeChoice:
    """The shape and chart version of the deploy, from the first source that says (module doc)."""
    if request.chart_dir is not None:
        return detect_chart_shape(request.chart_dir)
    caveats: list[str] = []
    if request.image_version and not request.custom_chart:
        image = parse_version(request.image_version)
        if image is None:
            raise InputError(
                f"{request.image_origin}={request.image_version!r} is not an auto-deploy-image tag",
                hint="give the tag GitLab's Deploy template pins, e.g. v2.113.0",
            )
        if image < (2, 0, 0):
            raise InputError(
                f"{request.image_origin}={request.image_version}: auto-deploy-image v1 and older deploy "
                "with Helm 2 (Tiller), which this tool does not model",
                hint="move to a v2 image (GitLab's Deploy template pins one), or pass --chart-version",
            )
        shape = image_shape(image)
        version = image_chart_version(image)
        origin = f"{request.image_origin}={request.image_version}"
        if version is not None:
            if image not in KNOWN_IMAGES:
                caveats.append(
                    f"{request.image_version} is not a released auto-deploy-image tag; "
                    f"took the chart of the release before it"
                )
            return ShapeChoice(
                shape, version, f"{_described(shape, version)}: from {origin}", tuple(caveats), "image"
            )
        fallback = _from_version_or_label(request, live_chart_labels)
        known = f"v{_version_text(NEWEST_KNOWN_IMAGE)}"
        if fallback is not None:
            version = fallback.chart_version
            caveats.append(
                f"image {request.image_version} is newer than the newest image this tool knows ({known}): "
                f"shape {shape.id} assumed, chart version from {fallback.source}"
            )
        else:
            version = DEFAULT_CHART_VERSION
            caveats.append(
                f"image {request.image_version} is newer than the newest image this tool knows ({known}); "
                f"its chart version is not known: the labels say {version}, the version {known} ships "
                "(set AUTO_DEVOPS_CHART_VERSION, or render --chart with the chart the job deploys)"
            )
        return ShapeChoice(
            shape, version, f"{_described(shape, version)}: from {origin}", tuple(caveats), "image"
        )
    if request.image_version and request.custom_chart:
        caveats.append(
            f"AUTO_DEVOPS_CHART={request.custom_chart}: the project deploys its own chart, so the image's "
            f"chart ({request.image_origin}={request.image_version}) does not decide the shape"
        )
    found = _from_version_or_label(request, live_chart_labels)
    if found is not None:
        return replace(found, caveats=(*caveats, *found.caveats))
    caveats.append(
        "nothing says which chart the deploy uses (no --chart, --image-version, --chart-version, "
        "AUTO_DEPLOY_IMAGE_VERSION or AUTO_DEVOPS_CHART_VERSION): the newest shape is assumed"
    )
    return ShapeChoice(
        NEWEST,
        DEFAULT_CHART_VERSION,
        f"{_described(NEWEST, DEFAULT_CHART_VERSION)}: the newest shape",
        tuple(caveats),
        "default",
    )


def _from_version_or_label(request: ShapeRequest, live_chart_labels: Iterable[str]) -> ShapeChoice | None:
    if request.chart_version:
        return _from_chart_version(
            request.chart_version, f"{request.chart_version_origin}={request.chart_version}", "chart-version"
        )
    labels = sorted({label for label in live_chart_labels if label})
    for label in labels:
        match = re.fullmatch(r"auto-deploy-app-(.+)", label)
        if match and parse_version(match[1].replace("_", "+")) is not None:
            choice = _from_chart_version(
                match[1].replace("_", "+"), f"the live objects' label helm.sh/chart={label}", "live-label"
            )
            if len(labels) > 1:
                choice = replace(
                    choice,
                    caveats=(
                        *choice.caveats,
                        f"live objects carry several chart labels: {', '.join(labels)}",
                    ),
                )
            return choice
    return None


def _from_chart_version(text: str, origin: str, source: str) -> ShapeChoice:
    version = parse_version(text)
    if version is None:
        raise InputError(
            f"{origin}: not a chart version",
            hint="give the auto-deploy-app chart version, e.g. 2.100.2",
        )
    candidates = chart_version_shapes(version)
    shape = candidates[-1][0]
    caveats: list[str] = []
    if len(candidates) > 1:
        ranges = "; ".join(f"{c.id}: image {images}" for c, images in candidates)
        caveats.append(
            f"chart {text} was shipped in {len(candidates)} shapes ({ranges}): the newest is assumed; "
            "AUTO_DEPLOY_IMAGE_VERSION (or --image-version) tells them apart"
        )
    elif not candidates[0][1]:
        caveats.append(
            f"no auto-deploy-image shipped chart {text}: took the shape of the nearest older version"
        )
    return ShapeChoice(shape, text, f"{_described(shape, text)}: from {origin}", tuple(caveats), source)


def live_chart_labels(objects: Iterable[Any], helm_releases: Iterable[str]) -> list[str]:
    """The chart labels (``helm.sh/chart``, else ``chart``) of the live objects of these Helm
    releases (``release`` label or Helm's release annotation), auto-deploy-app ones only."""
    releases = set(helm_releases)
    found: list[str] = []
    for obj in objects:
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(metadata, dict):
            continue
        labels: dict[str, Any] = metadata["labels"] if isinstance(metadata.get("labels"), dict) else {}
        annotations: dict[str, Any] = (
            metadata["annotations"] if isinstance(metadata.get("annotations"), dict) else {}
        )
        owner = annotations.get("meta.helm.sh/release-name") or labels.get("release")
        if owner not in releases:
            continue
        label = labels.get("helm.sh/chart") or labels.get("chart")
        if isinstance(label, str) and label.startswith("auto-deploy-app-") and label not in found:
            found.append(label)
    return found


# --- a chart directory ----------------------------------------------------------------------------

_OVERLAY_MARKER = "autodeploy-netpol chart overlay"
# What the templates are searched for (compiled by re on first use: only --chart needs them, and
# compiling them costs every other run start-up)
_DEFINE = r'\{\{-?\s*define\s+"([^"]+)"'
_CILIUM_KIND = r"(?m)^\s*kind:\s*[\"']?CiliumNetworkPolicy[\"']?\s*$"
_CUSTOM_RESOURCES = r"\.Values\.customResources\b"
_WORKER_LABELS = r"\{\{-?\s*with\s+\$\w+\.labels\b"
_RANGE_BODY = r"(?s)\{\{-?\s*range\b.*?\.Values\.customResources.*?\}\}(?P<body>.*?)\{\{-?\s*end\s*-?\}\}"


def detect_chart_shape(chart_dir: str | os.PathLike[str]) -> ShapeChoice:
    """The shape of the chart at ``chart_dir``, from its templates; its version from Chart.yaml."""
    from pathlib import Path  # here: only a chart directory needs it (start-up)

    from .helm_engine import chart_version  # Chart.yaml is read (and checked) in one place

    path = Path(chart_dir)
    version = chart_version(path)
    templates = path / "templates"
    texts: dict[str, str] = {}
    overlays = False
    if templates.is_dir():
        for template in sorted(templates.rglob("*")):
            if template.is_file() and template.suffix in (".yaml", ".yml", ".tpl", ".txt"):
                text = template.read_text(encoding="utf-8", errors="replace")
                if _OVERLAY_MARKER in text[:200]:  # the overlays are not the chart's own
                    overlays = True
                else:
                    texts[template.relative_to(path).as_posix()] = text
    if not texts:
        raise InputError(
            "the chart has no templates",
            location=Location(str(templates)),
            hint="point at the chart directory (with Chart.yaml and templates/)",
        )
    joined = "\n".join(texts.values())
    defined = set(re.findall(_DEFINE, joined))
    custom = [text for text in texts.values() if re.search(_CUSTOM_RESOURCES, text)]
    body = next((m["body"] for text in custom if (m := re.search(_RANGE_BODY, text))), "")
    detected = ChartShape(
        "detected",
        "",
        shared_labels="sharedlabels" in defined,
        cilium_template=bool(re.search(_CILIUM_KIND, joined)),
        worker_labels=bool(re.search(_WORKER_LABELS, joined)),
        custom_resources=bool(custom),
        separator=bool(re.search(r"^---\s*$", body, re.MULTILINE)),
        tpl=bool(re.search(r"\btpl\b", body)),
    )
    same = [shape for shape in SHAPES if replace(shape, id="detected", images="") == detected]
    caveats: list[str] = []
    if len(same) > 1:
        # d-cr and d-cr-rewrite render the same objects; the NetworkPolicy template tells them apart
        rewritten = any(re.search(r"spec:\s*\{\{[^}]*nindent", text) for text in texts.values())
        same = [s for s in same if s.id.endswith("-rewrite") == rewritten] or same
    if same:
        shape = same[-1]
    else:
        shape = replace(detected, id="custom")
        caveats.append(
            f"the templates match no auto-deploy-app release: modelled by their features ({shape.describe})"
        )
    if "fullname" not in defined or not any("NetworkPolicy" in text for text in texts.values()):
        caveats.append(
            "the chart does not look like auto-deploy-app (no fullname helper or NetworkPolicy template)"
        )
    reason = f"{_described(shape, version)}: from the templates of {path}"
    if overlays:
        reason += " (chart overlays laid)"
    return ShapeChoice(shape, version, reason, tuple(caveats), "chart-dir", overlays)
