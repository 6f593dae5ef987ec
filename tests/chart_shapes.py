"""The auto-deploy-app chart shapes, the values cases, and Auto Deploy's way of rendering them.

The fixture charts under ``tests/fixtures/charts/shapes/<shape>/`` are charts written for this
project, one per shape of GitLab's ``auto-deploy-app`` chart (FACTS.md, "The auto-deploy-app chart,
version by version"). Each renders what the real chart of its image tags renders for the objects
this tool reads: the NetworkPolicy, the CiliumNetworkPolicy, the ``customResources`` entries, and
the web and worker Deployments and the Service (names, labels, selectors, pod labels).

This module is the one place that knows

* the shapes (:data:`SHAPES`) and the values cases (:data:`CASES`);
* how Auto Deploy calls Helm (:func:`auto_deploy_command`: the ``auto-deploy`` script's
  ``helm upgrade --install`` flags, as ``helm template``);
* which rendered documents count and how two renders are compared (:func:`compare`):
  policy documents (network-policy.yaml, cilium-network-policy.yaml, custom-resources.yaml) must
  be identical text; Deployments and Services are compared on names, labels, selectors and pod
  labels, parsed the way YAML 1.1 reads them, duplicate keys included.

``python tests/chart_shapes.py --help`` renders, compares and regenerates the golden files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from autodeploy_netpol.desired.helm_engine import auto_deploy_set_values as tool_set_values

HERE = Path(__file__).resolve().parent
SHAPES_DIR = HERE / "fixtures" / "charts" / "shapes"
CASES_DIR = SHAPES_DIR / "cases"
GOLDEN_DIR = SHAPES_DIR / "golden"

#: Where the fixture charts' templates and the real chart's templates put what is compared.
POLICY_TEMPLATES = ("network-policy.yaml", "cilium-network-policy.yaml", "custom-resources.yaml")
WORKLOAD_TEMPLATES = ("deployment.yaml", "worker-deployment.yaml", "service.yaml")

NAMESPACE = "production-42-7"  # a GitLab-managed environment namespace: <env slug>-<project>-<agent>
PROJECT_PATH_SLUG = "group-project"
PROJECT_ID = "42"


@dataclass(frozen=True)
class Shape:
    """One fixture chart: the image tags whose chart it stands for, and what sets it apart."""

    id: str
    chart_version: str
    image_tags: str
    verified_at: str  # the image tag whose real chart it was compared with (README table)
    differs: str

    @property
    def path(self) -> Path:
        return SHAPES_DIR / self.id


SHAPES: tuple[Shape, ...] = (
    Shape(
        "a-2.2.0",
        "2.2.0",
        "v2.0.0 - v2.2.0",
        "v2.2.0",
        "NetworkPolicy labels app, chart, release, heritage only; no extraLabels; no sharedlabels "
        "helper; web pods carry app, track, tier, release only; worker `labels` not read",
    ),
    Shape(
        "b-2.5.0",
        "2.5.0",
        "v2.3.0 - v2.5.0",
        "v2.5.0",
        "sharedlabels (8 labels + extraLabels) on the NetworkPolicy, web Deployment and pods, Service; "
        "worker `labels` not read",
    ),
    Shape(
        "c-2.22.1",
        "2.22.1",
        "v2.6.0 - v2.22.1",
        "v2.22.1",
        "B + ciliumNetworkPolicy template and values (CiliumNetworkPolicy labelled app.gitlab.com/proj); "
        "worker `labels` not read yet",
    ),
    Shape(
        "c-2.39.0",
        "2.39.0",
        "v2.23.0 - v2.44.0",
        "v2.44.0",
        "C + workers.<name>.labels on worker pods (image v2.23.0 on, every later shape too)",
    ),
    Shape(
        "d-2.40.0",
        "2.40.0",
        "v2.45.0 - v2.50.0",
        "v2.50.0",
        "Cilium template and values removed: `ciliumNetworkPolicy` is ignored",
    ),
    Shape(
        "d-cr-2.40.0",
        "2.40.0",
        "v2.51.0 - v2.71.0",
        "v2.51.0",
        "D + customResources through toYaml, no `---` between entries (several entries run into one "
        "document with duplicate keys); same chart version as d-2.40.0",
    ),
    Shape(
        "d-cr-2.68.0-rewrite",
        "2.68.0",
        "v2.71.1 - v2.80.0",
        "v2.80.0",
        "NetworkPolicy template rewritten (`spec:` + nindent); same objects as d-cr-2.40.0; chart 2.68.0 "
        "also ships the old form (v2.69.0 - v2.71.0)",
    ),
    Shape(
        "d-cr-2.80.1-separator",
        "2.80.1",
        "v2.80.1 - v2.90.0",
        "v2.90.0",
        "customResources entries separated by `---`: each entry its own object; still no templating",
    ),
    Shape(
        "d-cr-tpl-2.100.2",
        "2.100.2",
        "v2.91.0 - v2.113.0 (chart 2.80.1 until v2.100.1)",
        "v2.100.2",
        "customResources entries pass through `tpl` ({{ .Release.Name }} ... rendered)",
    ),
)
SHAPE_IDS = tuple(shape.id for shape in SHAPES)


def shape(shape_id: str) -> Shape:
    for candidate in SHAPES:
        if candidate.id == shape_id:
            return candidate
    raise KeyError(f"no fixture shape {shape_id!r}; known: {', '.join(SHAPE_IDS)}")


@dataclass(frozen=True)
class Case:
    """A values case: the values file, the release's base name (RELEASE_NAME) and the track."""

    id: str
    values: str  # file name under CASES_DIR
    release: str = "production"
    track: str = "stable"

    @property
    def helm_release(self) -> str:
        """``auto-deploy``'s deploy_name: the base name, ``-<track>`` appended unless stable."""
        return self.release if self.track == "stable" else f"{self.release}-{self.track}"

    @property
    def values_path(self) -> Path:
        """The values file; ``values`` is a file name under CASES_DIR, or an absolute path."""
        return CASES_DIR / self.values


LONG_RELEASE = "review-feature-with-a-rather-long-branch-name-0123456"  # 53: Helm's longest release name
assert len(LONG_RELEASE) == 53
LONG_BASE_FOR_CANARY = LONG_RELEASE[:46]  # ends in "-" (appname drops it); + "-canary" = 53

CASES: tuple[Case, ...] = (
    Case("default", "default.yaml"),
    Case("netpol-default-spec", "netpol-default-spec.yaml"),
    Case("netpol-own-spec", "netpol-own-spec.yaml"),
    Case("netpol-egress-only", "netpol-egress-only.yaml"),
    Case("netpol-spec-null", "netpol-spec-null.yaml"),
    Case("netpol-null", "netpol-null.yaml"),
    Case("netpol-enabled-string-false", "netpol-enabled-string-false.yaml"),
    Case("extra-labels", "extra-labels.yaml"),
    Case("workers", "workers.yaml"),
    Case("workers-canary", "workers.yaml", track="canary"),
    Case("workers-rollout", "workers.yaml", track="rollout"),
    Case("custom-resources", "custom-resources.yaml"),
    Case("custom-resource-single", "custom-resource-single.yaml"),
    Case("cilium", "cilium.yaml"),
    Case("name-override", "name-override.yaml"),
    Case("release-no", "policy-everything.yaml", release="no"),
    Case("release-on-canary", "policy-everything.yaml", release="on", track="canary"),
    Case("release-1e3", "policy-everything.yaml", release="1e3"),
    Case("release-2024", "policy-everything.yaml", release="2024"),
    Case("long-release", "policy-everything.yaml", release=LONG_RELEASE),
    Case("long-release-canary", "policy-everything.yaml", release=LONG_BASE_FOR_CANARY, track="canary"),
)
CASE_IDS = tuple(case.id for case in CASES)


def case_named(case_id: str) -> Case:
    for candidate in CASES:
        if candidate.id == case_id:
            return candidate
    raise KeyError(f"no values case {case_id!r}; known: {', '.join(CASE_IDS)}")


# --- Helm -------------------------------------------------------------------------------------


def helm_binary() -> str | None:
    """The Helm 3 CLI to use: ``$HELM_BIN`` when set, else ``helm`` on PATH."""
    explicit = os.environ.get("HELM_BIN")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("helm")


def helm_version(binary: str) -> str:
    completed = subprocess.run(
        [binary, "version", "--short"], capture_output=True, text=True, check=False, timeout=60
    )
    return completed.stdout.strip()


def auto_deploy_set_values(case: Case) -> list[tuple[str, str, str]]:
    """``(flag, key, value)`` as the ``auto-deploy`` script's ``deploy`` passes them to Helm.

    The values that reach the network-policy templates come from the tool's own
    :func:`~autodeploy_netpol.desired.helm_engine.auto_deploy_set_values`; the rest of the
    script's ``helm upgrade --install`` flags (image v2.6.0 - v2.113.0) are added so a whole chart
    renders as in a pipeline: project ``group/project`` (id 42) deploying environment
    ``case.release``.
    """
    environment = case.release
    url = f"https://{environment}.example.com"
    policy_values = tool_set_values(
        release_override=case.release,
        track=case.track,
        project_id=PROJECT_ID,
        app=PROJECT_PATH_SLUG,
        env=environment,
    )
    flags = [("--set", key, value) for key, value in policy_values.items()]
    return [
        *flags,
        ("--set", "gitlab.envName", environment),
        ("--set", "gitlab.envURL", url),
        ("--set", "image.repository", f"registry.example.com/{PROJECT_PATH_SLUG}/main"),
        ("--set-string", "image.tag", "0123abcd"),
        ("--set", "application.database_url", ""),
        ("--set", "application.secretName", ""),
        ("--set", "application.secretChecksum", "e3b0c442"),
        ("--set", "service.url", url),
        ("--set", "service.additionalHosts", ""),
        ("--set", "replicaCount", "1"),
        ("--set", "ingress.canary.weight", "100"),
        ("--set", "postgresql.managed", ""),
        ("--set", "postgresql.managedClassSelector", ""),
        ("--set", "application.initializeCommand", ""),
        ("--set", "application.migrateCommand", ""),
    ]


#: The environment values file ``auto-deploy`` writes before every deploy (a private project).
ENVIRONMENT_VALUES = (
    "deploymentApiVersion: apps/v1\n"
    f"image: {{ secrets: [ {{ name: gitlab-registry-{PROJECT_PATH_SLUG} }} ] }}\n"
)


def auto_deploy_command(binary: str, chart: Path, case: Case, scratch: Path) -> list[str]:
    """``helm template`` with the arguments ``auto-deploy deploy`` gives ``helm upgrade --install``."""
    environment_values = scratch / "auto-deploy-environment-values.yaml"
    environment_values.write_text(ENVIRONMENT_VALUES, encoding="utf-8")
    command = [binary, "template"]
    for flag, key, value in auto_deploy_set_values(case):
        command += [flag, f"{key}={value}"]
    command += [
        "--values",
        str(environment_values),
        "--values",
        str(case.values_path),  # HELM_UPGRADE_VALUES_FILE (.gitlab/auto-deploy-values.yaml)
        f"--namespace={NAMESPACE}",
        case.helm_release,
        str(chart),
    ]
    return command


@dataclass(frozen=True)
class Render:
    """What ``helm template`` printed: the manifests, or the error."""

    ok: bool
    stdout: str
    error: str = ""

    def normalized_error(self) -> str:
        """``<template>: <reason>``: the failing template and Helm's last word on why.

        Positions differ between two charts failing the same way, and Helm 3 prints the error on
        one line where Helm 4 spreads it over several; both print the same reason last.
        """
        lines = [line.strip() for line in self.error.splitlines() if line.strip()]
        lines = [line for line in lines if not line.startswith("Use --debug")]
        if not lines:
            return "(no error text)"
        template = re.search(r"templates/([\w.-]+)", self.error)
        reason = lines[-1].rsplit(": ", 1)[-1]
        return f"{template[1] if template else '(no template)'}: {reason}"


def render(binary: str, chart: Path, case: Case) -> Render:
    with tempfile.TemporaryDirectory(prefix="chart-shapes-") as scratch:
        command = auto_deploy_command(binary, chart, case, Path(scratch))
        completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if completed.returncode != 0:
        return Render(False, completed.stdout, completed.stderr)
    return Render(True, completed.stdout)


def chart_version(chart: Path) -> str:
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    return str(metadata["version"])


def fixture_copy(fixture: Shape, version: str, destination: Path) -> Path:
    """A copy of the fixture chart whose Chart.yaml says ``version`` (chart versions repeat across
    shapes and a shape spans many versions: the comparison is about templates, not the number)."""
    target = destination / fixture.id / "auto-deploy-app"
    shutil.copytree(fixture.path, target)
    metadata = target / "Chart.yaml"
    text = metadata.read_text(encoding="utf-8")
    metadata.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", text), encoding="utf-8")
    return target


# --- documents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """One manifest of ``helm template`` output and the template it came from."""

    source: str  # the template's file name, e.g. network-policy.yaml
    text: str  # the manifest without the "# Source:" line


_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def documents(stream: str) -> list[Document]:
    """Split ``helm template`` output into manifests, keeping each one's template name."""
    found = []
    for chunk in _SEPARATOR.split(stream):
        lines = chunk.strip("\n").splitlines()
        if not lines:
            continue
        source = ""
        if lines[0].startswith("# Source: "):
            source = lines[0][len("# Source: ") :].rsplit("/", 1)[-1]
            lines = lines[1:]
        text = "\n".join(lines)
        if text.strip():
            found.append(Document(source, text))
    return found


class _RecordingLoader(yaml.SafeLoader):
    """YAML 1.1 as Helm's reader sees scalars (``no`` is false), recording duplicate keys."""

    duplicates: list[str]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if isinstance(key, list | dict):
                continue
            if key in seen:
                self.duplicates.append(str(key))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse(text: str) -> tuple[Any, list[str]]:
    """The object of one manifest, and the keys that appear twice in one of its mappings."""
    loader = _RecordingLoader(text)
    loader.duplicates = []
    try:
        return loader.get_single_data(), loader.duplicates  # type: ignore[no-untyped-call]
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]


def _pick(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _workload_view(manifest: Any) -> Any:
    """What the tool reads of a Deployment, a List of Deployments or a Service."""
    if not isinstance(manifest, dict):
        return manifest
    kind = manifest.get("kind")
    view: dict[str, Any] = {
        "apiVersion": manifest.get("apiVersion"),
        "kind": kind,
        "name": _pick(manifest, "metadata", "name"),
        "labels": _pick(manifest, "metadata", "labels"),
    }
    if kind == "List":
        view["items"] = [_workload_view(item) for item in manifest.get("items") or []]
    elif kind == "Service":
        view["selector"] = _pick(manifest, "spec", "selector")
        view["ports"] = _pick(manifest, "spec", "ports")
        view["type"] = _pick(manifest, "spec", "type")
    else:
        view["selector"] = _pick(manifest, "spec", "selector")
        view["podLabels"] = _pick(manifest, "spec", "template", "metadata", "labels")
    return view


@dataclass
class Compared:
    """The relevant documents of one render, in output order."""

    policies: list[Document] = field(default_factory=list)
    workloads: list[tuple[str, Any, list[str]]] = field(default_factory=list)  # source, view, dups


def relevant(stream: str) -> Compared:
    result = Compared()
    for document in documents(stream):
        if document.source in POLICY_TEMPLATES:
            result.policies.append(document)
        elif document.source in WORKLOAD_TEMPLATES:
            manifest, duplicates = parse(document.text)
            result.workloads.append((document.source, _workload_view(manifest), duplicates))
    return result


def compare(real: Render, fixture: Render) -> list[str]:
    """Why the fixture's render differs from the real chart's (empty: identical)."""
    if real.ok != fixture.ok:
        if real.ok:
            return [f"the fixture fails where the real chart renders: {fixture.normalized_error()}"]
        return [f"the fixture renders where the real chart fails: {real.normalized_error()}"]
    if not real.ok:
        if real.normalized_error() != fixture.normalized_error():
            return [
                f"different errors: real {real.normalized_error()!r}, fixture {fixture.normalized_error()!r}"
            ]
        return []
    differences = []
    mine, theirs = relevant(fixture.stdout), relevant(real.stdout)
    if len(mine.policies) != len(theirs.policies):
        differences.append(
            f"policy documents: real {[d.source for d in theirs.policies]}, "
            f"fixture {[d.source for d in mine.policies]}"
        )
    for position, (ours, reference) in enumerate(zip(mine.policies, theirs.policies, strict=False)):
        if ours != reference:
            differences.append(
                f"policy document {position + 1} ({reference.source}) differs:\n"
                + _diff(reference.text, ours.text)
            )
    if len(mine.workloads) != len(theirs.workloads):
        differences.append(
            f"workload documents: real {[w[0] for w in theirs.workloads]}, fixture {[w[0] for w in mine.workloads]}"
        )
    for ours_w, reference_w in zip(mine.workloads, theirs.workloads, strict=False):
        if ours_w != reference_w:
            differences.append(f"{reference_w[0]} differs: real {reference_w[1:]!r}, fixture {ours_w[1:]!r}")
    return differences


def _diff(expected: str, actual: str) -> str:
    import difflib

    return "\n".join(
        difflib.unified_diff(expected.splitlines(), actual.splitlines(), "real", "fixture", lineterm="")
    )


# --- the tool's model against Helm ---------------------------------------------------------------

#: Each fixture shape and the tool's shape of the same features (desired/shapes.py).
MODEL_SHAPES = {
    "a-2.2.0": "a",
    "b-2.5.0": "b",
    "c-2.22.1": "c",
    "c-2.39.0": "c-worker-labels",
    "d-2.40.0": "d",
    "d-cr-2.40.0": "d-cr",
    "d-cr-2.68.0-rewrite": "d-cr-rewrite",
    "d-cr-2.80.1-separator": "d-cr-separator",
    "d-cr-tpl-2.100.2": "d-cr-tpl",
}


def helm_policy_objects(stream: str) -> list[dict[str, Any]]:
    """The policy objects of a ``helm template`` stream as Helm applies them and the API server
    gets them: Go's YAML scalars (``no`` is false), a repeated key keeps its last value, the
    items of a ``kind: List`` one by one; in Helm's order."""
    from autodeploy_netpol.desired.helm_engine import _split_template_output

    return [rendered.manifest for rendered in _split_template_output(stream, Path("chart"))]


def helm_workloads(stream: str) -> list[dict[str, Any]]:
    """The web and worker Deployments of a ``helm template`` stream, read as the API server reads them."""
    from autodeploy_netpol.sources.yamlio import iter_documents

    found: list[dict[str, Any]] = []
    for document in documents(stream):
        if document.source not in ("deployment.yaml", "worker-deployment.yaml"):
            continue
        for parsed in iter_documents(document.text, document.source, go_scalars=True, allow_duplicates=True):
            items = parsed.data.get("items") if parsed.data.get("kind") == "List" else [parsed.data]
            for item in items or []:
                found.append(_workload_essentials(item))
    return found


def _workload_essentials(manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _pick(manifest, "metadata", "name"),
        "labels": _pick(manifest, "metadata", "labels"),
        "selector": _pick(manifest, "spec", "selector", "matchLabels"),
        "pods": _pick(manifest, "spec", "template", "metadata", "labels"),
    }


def model_context(case: Case, shape_request: Any) -> Any:
    """The deploy of ``case`` as the tool models it: the release, namespace and project of
    :func:`auto_deploy_command`, the job's known --set values, the values file handed to Helm as
    written (no suggestion, nothing compiled: what Helm is given here)."""
    from autodeploy_netpol.desired.compute import Delivery, DeployContext

    url = f"https://{case.release}.example.com"
    return DeployContext(
        release=case.release,
        namespace=NAMESPACE,
        track=case.track,
        project_id=PROJECT_ID,
        suggest=False,
        chart=shape_request,
        delivery=Delivery(handoff=False, overlays=False),
        job_values=(
            ("gitlab.app", PROJECT_PATH_SLUG),
            ("gitlab.env", case.release),
            ("gitlab.envName", case.release),
            ("gitlab.envURL", url),
            ("service.url", url),
        ),
    )


@dataclass(frozen=True)
class ModelOutcome:
    """What the model makes of a case: the objects and workloads, or why it refuses."""

    objects: list[dict[str, Any]] | None
    workloads: list[dict[str, Any]] | None = None
    refused: str = ""
    shape: str = ""
    #: the errors the tool reports while it still renders (``strict=False``)
    errors: tuple[str, ...] = ()


def model_outcome(case: Case, shape_request: Any) -> ModelOutcome:
    from autodeploy_netpol.desired.compute import compute_desired
    from autodeploy_netpol.desired.values import read_values
    from autodeploy_netpol.errors import InputError

    context = model_context(case, shape_request)
    try:
        desired = compute_desired(read_values(str(case.values_path)), context, strict=False)
    except InputError as error:
        problems = getattr(error, "problems", None)
        detail = "; ".join(p.message for p in problems) if problems else error.message
        return ModelOutcome(None, refused=detail)
    workloads = [_workload_essentials(w) for w in desired.workloads]
    shape_id = desired.choice.shape.id if desired.choice else ""
    return ModelOutcome(
        desired.objects, workloads, shape=shape_id, errors=tuple(str(e) for e in desired.errors)
    )


IDENTICAL = "identical"
#: the same objects, and the tool says why the deploy fails or the values are wrong
IDENTICAL_ERROR = "identical + error"
BOTH_FAIL = "both fail"
REJECTED = "both fail (API server)"
DIFFERENT = "DIFFERENT"


def _non_string_labels(objects: Iterable[dict[str, Any]]) -> list[str]:
    bad = []
    for obj in objects:
        for key, value in (_pick(obj, "metadata", "labels") or {}).items():
            if not isinstance(value, str):
                bad.append(f"{key}={value!r}")
    return bad


def compare_model(helm: Render, model: ModelOutcome) -> tuple[str, str]:
    """The verdict on one case: identical objects (and workloads); both fail (Helm's render, or the
    API server refusing label values that are not strings); or different, and how."""
    if not helm.ok:
        if model.objects is None:
            return BOTH_FAIL, f"helm: {helm.normalized_error()}; model: {model.refused}"
        return DIFFERENT, f"Helm fails ({helm.normalized_error()}) where the model renders"
    objects = helm_policy_objects(helm.stdout)
    workloads = helm_workloads(helm.stdout)
    if model.objects is None:
        rejected = _non_string_labels(objects) or _non_string_labels(
            [{"metadata": {"labels": w["pods"]}} for w in workloads]
        )
        if rejected:
            return REJECTED, f"labels {', '.join(rejected[:3])}; model: {model.refused}"
        return DIFFERENT, f"the model refuses ({model.refused}) where Helm renders"
    if [json.dumps(o) for o in objects] != [json.dumps(o) for o in model.objects]:
        return DIFFERENT, "policies:\n" + _diff(_dump(objects), _dump(model.objects))
    if workloads != model.workloads:
        return DIFFERENT, "workloads:\n" + _diff(_dump(workloads), _dump(model.workloads or []))
    if model.errors:
        return IDENTICAL_ERROR, "; ".join(model.errors)
    return IDENTICAL, ""


def _dump(value: Any) -> str:
    return json.dumps(value, indent=1)


# --- goldens ----------------------------------------------------------------------------------


def golden_path(shape_id: str, case_id: str) -> Path:
    return GOLDEN_DIR / shape_id / f"{case_id}.yaml"


def golden_text(result: Render) -> str:
    """The golden form of a render: Helm's output as printed, or the (normalized) error."""
    if result.ok:
        return result.stdout
    return f"# helm template fails:\n# {result.normalized_error()}\n"


# --- command line -----------------------------------------------------------------------------


def _compare_chart(binary: str, chart: Path, shape_ids: Sequence[str], cases: Iterable[Case]) -> int:
    version = chart_version(chart)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="chart-shapes-") as scratch:
        copies = {sid: fixture_copy(shape(sid), version, Path(scratch)) for sid in shape_ids}
        for case in cases:
            real = render(binary, chart, case)
            for sid in shape_ids:
                differences = compare(real, render(binary, copies[sid], case))
                verdict = "identical" if not differences else "DIFFERS"
                print(f"{sid}\t{case.id}\t{verdict}")
                for line in differences:
                    print("    " + line.replace("\n", "\n    "))
                failures += bool(differences)
    return failures


def _write_goldens(binary: str, shape_ids: Sequence[str]) -> None:
    for sid in shape_ids:
        for case in CASES:
            target = golden_path(sid, case.id)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(golden_text(render(binary, shape(sid).path, case)), encoding="utf-8")
            print(target.relative_to(HERE.parent))


def model_verdicts(binary: str, shape_ids: Sequence[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(shape, case) → (verdict, why) of the model (shape from the fixture's templates) against Helm."""
    from autodeploy_netpol.desired.shapes import ShapeRequest

    verdicts = {}
    for sid in shape_ids:
        for case in CASES:
            helm = render(binary, shape(sid).path, case)
            outcome = model_outcome(case, ShapeRequest(chart_dir=str(shape(sid).path)))
            verdicts[(sid, case.id)] = compare_model(helm, outcome)
    return verdicts


def model_table(verdicts: dict[tuple[str, str], tuple[str, str]], shape_ids: Sequence[str]) -> str:
    """The Markdown table of the README: case × shape, and the counts."""
    lines = ["| case | " + " | ".join(f"`{sid}`" for sid in shape_ids) + " |"]
    lines.append("| --- |" + " --- |" * len(shape_ids))
    for case in CASES:
        lines.append(f"| {case.id} | " + " | ".join(verdicts[(sid, case.id)][0] for sid in shape_ids) + " |")
    counted = [verdict for (sid, _), (verdict, _) in verdicts.items() if sid in shape_ids]
    counts = ", ".join(
        f"{verdict}: {counted.count(verdict)}"
        for verdict in (IDENTICAL, IDENTICAL_ERROR, BOTH_FAIL, REJECTED, DIFFERENT)
    )
    lines.append("")
    lines.append(f"{counts} (of {len(counted)})")
    return "\n".join(lines) + "\n"


def _model_table(binary: str, shape_ids: Sequence[str]) -> int:
    """Markdown: per case and shape, the model's verdict against Helm (``helm template``)."""
    verdicts = model_verdicts(binary, shape_ids)
    for (sid, case_id), (verdict, why) in verdicts.items():
        if verdict != IDENTICAL:
            print(f"{sid} {case_id}: {verdict}: {why}", file=sys.stderr)
    print(f"Helm: {helm_version(binary)}\n")
    print(model_table(verdicts, shape_ids), end="")
    return 1 if any(verdict == DIFFERENT for verdict, _ in verdicts.values()) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    compare_cmd = sub.add_parser("compare", help="compare a real chart directory with fixture shapes")
    compare_cmd.add_argument("chart", type=Path, help="the real auto-deploy-app chart directory")
    compare_cmd.add_argument("--shape", action="append", choices=SHAPE_IDS, help="default: every shape")
    compare_cmd.add_argument("--case", action="append", choices=CASE_IDS, help="default: every case")
    model_cmd = sub.add_parser(
        "model-table", help="the tool's model against Helm on every fixture shape and case"
    )
    model_cmd.add_argument("--shape", action="append", choices=SHAPE_IDS, help="default: every shape")
    golden_cmd = sub.add_parser("golden", help="(re)write the golden files from the fixture charts")
    golden_cmd.add_argument("--shape", action="append", choices=SHAPE_IDS, help="default: every shape")
    arguments = parser.parse_args(argv)
    binary = helm_binary()
    if binary is None:
        parser.error("no helm: set HELM_BIN or put a Helm 3 CLI on PATH")
    if arguments.command == "compare":
        cases = [c for c in CASES if not arguments.case or c.id in arguments.case]
        return 1 if _compare_chart(binary, arguments.chart, arguments.shape or SHAPE_IDS, cases) else 0
    if arguments.command == "model-table":
        return _model_table(binary, arguments.shape or SHAPE_IDS)
    _write_goldens(binary, arguments.shape or SHAPE_IDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
