"""The tool's model of the auto-deploy-app chart against real Helm, for every chart shape.

Three renderers, one answer:

* the model (``compute_desired``: shape detected from the fixture chart's templates, and again
  chosen from the image tag the fixture was verified at);
* the Helm 3 CLI (the pinned ``helm_bin``), ``helm template`` with Auto Deploy's own flags
  (tests/chart_shapes.py);
* helm-python-sdk (Helm 4's Go SDK), the other engine of ``render --chart``.

For every fixture shape and values case the policy objects (NetworkPolicy, CiliumNetworkPolicy,
the customResources policies, in Helm's order, key order included) and the web and worker
Deployments (names, labels, selectors, pod labels) must be identical; where Helm cannot render,
the model must refuse; where Helm renders objects the API server rejects (labels that YAML reads
as booleans or numbers: the deploy fails) the model must refuse too. Where the model renders the
same objects but reports an error (a quoted port number, ``enabled: "false"``, a label that breaks
a Deployment's selector) the expected ones are listed.

``python tests/chart_shapes.py model-table`` prints the same comparison as a table (README in
tests/fixtures/charts/shapes/).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from chart_shapes import (
    BOTH_FAIL,
    CASE_IDS,
    CASES,
    ENVIRONMENT_VALUES,
    IDENTICAL,
    IDENTICAL_ERROR,
    MODEL_SHAPES,
    NAMESPACE,
    REJECTED,
    SHAPE_IDS,
    SHAPES,
    auto_deploy_set_values,
    compare_model,
    helm_policy_objects,
    model_outcome,
    model_table,
    render,
)

from autodeploy_netpol.desired.helm_engine import ENGINE_SDK, HelmRelease, LoadedChart, open_chart
from autodeploy_netpol.desired.merge import layer_values
from autodeploy_netpol.desired.shapes import (
    KNOWN_IMAGES,
    ShapeRequest,
    choose_shape,
    detect_chart_shape,
    image_shape,
    parse_version,
)
from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.yamlio import load_mapping

pytestmark = pytest.mark.helm

#: (case, shapes) where the model renders Helm's objects and reports an error on purpose.
EXPECTED_ERRORS = {
    # port: "5432" is a named port to the API server, and names need a letter: it rejects the policy
    "netpol-own-spec": set(SHAPE_IDS),
    # a string Helm reads as true: the policy is switched ON
    "netpol-enabled-string-false": set(SHAPE_IDS),
    # extraLabels app: other breaks the web Deployment's selector (no extraLabels in shape a)
    "extra-labels": set(SHAPE_IDS) - {"a-2.2.0"},
}
#: Cases Helm cannot render in any shape, and cases whose objects the API server rejects.
HELM_FAILS = {"netpol-null", "release-2024"}
API_REJECTS = {"release-no", "release-on-canary", "release-1e3"}


def _expected(shape_id: str, case_id: str) -> str:
    if case_id in HELM_FAILS:
        return BOTH_FAIL
    if case_id in API_REJECTS:
        return REJECTED
    if shape_id in EXPECTED_ERRORS.get(case_id, ()):
        return IDENTICAL_ERROR
    return IDENTICAL


@pytest.fixture(scope="module")
def helm_renders(shapes_helm: str) -> dict[tuple[str, str], Any]:
    """Every fixture shape × case rendered once by the Helm CLI."""
    return {(shape.id, case.id): render(shapes_helm, shape.path, case) for shape in SHAPES for case in CASES}


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_model_renders_what_the_helm_cli_renders(helm_renders, shape, case):
    helm = helm_renders[(shape.id, case.id)]
    for request in (
        ShapeRequest(chart_dir=str(shape.path)),  # the chart's templates
        ShapeRequest(image_version=shape.verified_at),  # the image the Deploy template pins
    ):
        model = model_outcome(case, request)
        verdict, why = compare_model(helm, model)
        assert verdict == _expected(shape.id, case.id), f"{shape.id}/{case.id} ({request}): {verdict}: {why}"
        if model.objects is not None:
            assert model.shape == MODEL_SHAPES[shape.id]


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_the_shape_is_detected_from_the_templates_and_chosen_from_the_image(shape):
    detected = detect_chart_shape(shape.path)
    assert (detected.shape.id, detected.chart_version) == (MODEL_SHAPES[shape.id], shape.chart_version)
    chosen = choose_shape(ShapeRequest(image_version=shape.verified_at))
    assert (chosen.shape.id, chosen.chart_version) == (MODEL_SHAPES[shape.id], shape.chart_version)
    assert chosen.source == "image" and shape.verified_at in chosen.reason


def _tags(text: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    first, _, last = text.partition(" - ")
    last = last.split(" ")[0] or "v2.113.0"
    return parse_version(first), parse_version(last)  # type: ignore[return-value]


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_every_image_of_the_shape_table_gets_its_shape(shape):
    first, last = _tags(shape.image_tags)
    images = [image for image in KNOWN_IMAGES if first <= image <= last]
    assert images, shape.image_tags
    assert {image_shape(image).id for image in images} == {MODEL_SHAPES[shape.id]}


# --- helm-python-sdk, the third renderer -------------------------------------------------------


@pytest.fixture(scope="module")
def sdk_charts() -> Iterator[dict[str, LoadedChart]]:
    try:
        charts = {shape.id: open_chart(shape.path, engine=ENGINE_SDK) for shape in SHAPES}
    except InputError as error:
        pytest.skip(f"helm-python-sdk cannot load the charts here: {error}")
    yield charts
    for chart in charts.values():
        chart.close()


def _sdk_values(case) -> tuple[dict[str, Any], dict[str, str]]:
    """The environment values file and the case's values file, merged as Helm merges ``--values``,
    and the ``--set`` values (the SDK engine passes them as strings, like ``--set-string``)."""
    # layered as Helm layers --values files: a null stays, to delete the chart default it names
    values = layer_values(
        yaml.safe_load(ENVIRONMENT_VALUES), load_mapping(str(case.values_path), go_scalars=True).data
    )
    return values, {key: value for _, key, value in auto_deploy_set_values(case)}


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_helm_python_sdk_renders_what_the_helm_cli_renders(helm_renders, sdk_charts, shape, case):
    helm = helm_renders[(shape.id, case.id)]
    values, set_values = _sdk_values(case)
    if case.id == "release-2024":
        # --set releaseOverride=2024 is an int64 for the CLI (the chart prints %!s(int64=2024) and
        # fails); the SDK engine passes --set values as strings: labels 2024, which the API server
        # rejects as numbers. Either way the deploy fails.
        set_values.pop("releaseOverride")
        values["releaseOverride"] = 2024
    try:
        rendered = [
            m.manifest
            for m in sdk_charts[shape.id].render(
                values, HelmRelease(case.helm_release, NAMESPACE, set_values)
            )
        ]
    except InputError:
        assert not helm.ok, f"helm-python-sdk fails where the Helm CLI renders {shape.id}/{case.id}"
        return
    if case.id == "release-2024":
        labels = [label for obj in rendered for label in obj["metadata"].get("labels", {}).values()]
        assert 2024 in labels  # a number where the API server needs a string
        return
    assert helm.ok, f"helm-python-sdk renders where the Helm CLI fails: {shape.id}/{case.id}"
    assert [json.dumps(o) for o in rendered] == [json.dumps(o) for o in helm_policy_objects(helm.stdout)]


def test_the_readme_table_is_the_comparison(helm_renders):
    """The README's table of the model against Helm is what the comparison gives
    (``python tests/chart_shapes.py model-table`` prints it)."""
    verdicts = {
        (shape.id, case.id): compare_model(
            helm_renders[(shape.id, case.id)], model_outcome(case, ShapeRequest(chart_dir=str(shape.path)))
        )
        for shape in SHAPES
        for case in CASES
    }
    readme = (SHAPES[0].path.parent / "README.md").read_text(encoding="utf-8")
    assert model_table(verdicts, SHAPE_IDS) in readme


# --- generated values files: the model against helm-python-sdk and the Helm CLI, every shape ----

from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_model_agrees_with_helm import (  # noqa: E402
    cilium_spec,
    dns_label,
    label_value,
    labels,
    network_policy_spec,
)

from autodeploy_netpol.desired.compute import Delivery, DeployContext, compute_desired  # noqa: E402
from autodeploy_netpol.desired.values import ValuesFile  # noqa: E402
from autodeploy_netpol.sources.goyaml import STR, dump, plain_scalar  # noqa: E402

#: Templates users write in customResources: covered by the model, or not (then it must refuse).
TEMPLATES = [
    "{{ .Release.Name }}",
    "{{ .Release.Name }}-x",
    "{{ .Release.Namespace }}",
    '{{ include "fullname" . }}-np',
    '{{ include "appname" . }}',
    '{{ printf "%s-%s" .Release.Name "p" | trunc 20 | trimSuffix "-" }}',
    "{{ .Release.Name | quote }}",
    "{{ .Release.Name | squote }}",
    "{{ .Release.Name | upper }}",
    "{{ .Chart.Name }}-{{ .Chart.Version }}",
    '{{ .Chart.Version | replace "." "-" }}',
    "{{ .Values.gitlab.env }}",
    "{{ .Values.gitlab.projectID }}",
    '{{ default "none" .Values.gitlab.nothing }}',
    "{{- .Release.Name -}}",
    "x-{{ .Release.Name }}",
    "{{ .Release.Name }}: y",  # renders to YAML that breaks the entry
    "{{ if .Release.Name }}on{{ end }}",  # not covered: real Helm or refused
    "{{ .Release.Revision }}",  # not covered
    "{{ .Values.replicaCount }}",  # a chart default the tool does not know
]
template_or_text = st.one_of(st.sampled_from(TEMPLATES), label_value)
template_labels = st.dictionaries(
    st.sampled_from(["env", "release", "team", "k8s-app"]), template_or_text, max_size=3
)
name = st.one_of(dns_label, st.sampled_from([t for t in TEMPLATES[:8] if "quote" not in t]))
metadata = st.fixed_dictionaries(
    {"name": name},
    optional={
        "labels": template_labels,
        "annotations": st.dictionaries(st.sampled_from(["note", "by"]), template_or_text, max_size=2),
        "namespace": st.sampled_from(["{{ .Release.Namespace }}", "monitoring"]),
    },
)
cluster_network_policy_spec = st.fixed_dictionaries(
    {
        "tier": st.sampled_from(["Admin", "Baseline"]),
        "priority": st.integers(0, 1000),
        "subject": st.just(
            {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "{{ .Release.Namespace }}"}}}
        ),
    },
    optional={
        "ingress": st.just(
            [
                {
                    "action": "Deny",
                    "from": [{"namespaces": {}}],
                    "protocols": [{"tcp": {"destinationPort": {"number": 22}}}],
                }
            ]
        )
    },
)
entry = st.one_of(
    st.fixed_dictionaries(
        {
            "apiVersion": st.just("networking.k8s.io/v1"),
            "kind": st.just("NetworkPolicy"),
            "metadata": metadata,
        },
        optional={"spec": network_policy_spec},
    ),
    st.fixed_dictionaries(
        {
            "apiVersion": st.just("cilium.io/v2"),
            "kind": st.sampled_from(["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"]),
            "metadata": metadata,
            "spec": cilium_spec,
        }
    ),
    st.fixed_dictionaries(
        {
            "apiVersion": st.just("policy.networking.k8s.io/v1alpha2"),
            "kind": st.just("ClusterNetworkPolicy"),
            "metadata": metadata,
            "spec": cluster_network_policy_spec,
        }
    ),
    st.fixed_dictionaries(
        {
            "apiVersion": st.just("v1"),
            "kind": st.just("ConfigMap"),
            "metadata": metadata,
            "data": st.dictionaries(dns_label, template_or_text, max_size=2),
        }
    ),
)
worker = st.fixed_dictionaries(
    {"replicaCount": st.integers(1, 2), "command": st.just(["/bin/worker"])},
    optional={
        "labels": labels.map(
            lambda found: {k: v for k, v in found.items() if k not in ("tier", "track", "release")}
        )
    },
)
generated_values = st.fixed_dictionaries(
    {"customResources": st.lists(entry, min_size=1, max_size=3)},
    optional={
        "networkPolicy": st.fixed_dictionaries(
            {"enabled": st.sampled_from([True, True, False])}, optional={"spec": network_policy_spec}
        ),
        "ciliumNetworkPolicy": st.fixed_dictionaries(
            {"enabled": st.booleans()}, optional={"spec": cilium_spec}
        ),
        "extraLabels": labels.map(
            lambda found: {k: v for k, v in found.items() if k not in ("app", "release", "tier", "track")}
        ),
        "workers": st.dictionaries(dns_label, worker, max_size=2),
        "nameOverride": st.sampled_from(["", "web", "api-app"]),
    },
)


def _release_ok(name: str) -> bool:
    return all(plain_scalar(n)[0] == STR for n in (name, f"{name}-canary")) and len(name) <= 46


deploys = st.fixed_dictionaries(
    {"release": dns_label.filter(_release_ok), "track": st.sampled_from(["stable", "canary", "rollout"])}
)
SET_APP = "group-project"


def _model(values: dict[str, Any], shape, release: str, track: str) -> tuple[list[Any] | None, str]:
    context = DeployContext(
        release=release,
        namespace=NAMESPACE,
        track=track,
        project_id="42",
        suggest=False,
        chart=ShapeRequest(chart_dir=str(shape.path)),
        delivery=Delivery(handoff=False),
        helm_fallback=False,
        job_values=(("gitlab.app", SET_APP), ("gitlab.env", release)),
    )
    try:
        return compute_desired(ValuesFile("values.yaml", None, values), context, strict=False).objects, ""
    except InputError as error:
        problems = getattr(error, "problems", None) or []
        return None, "; ".join(p.message for p in problems) or error.message


def _set_values(release: str, track: str) -> dict[str, str]:
    return {
        "gitlab.app": SET_APP,
        "gitlab.env": release,
        "gitlab.projectID": "42",
        "releaseOverride": release,
        "application.track": track,
    }


#: Why the model may refuse what Helm renders: it does not guess, and it knows the deploy fails.
REFUSALS = (
    "does not evaluate",  # a template feature the model leaves to real Helm (none here)
    "tool does not know",  # a chart default value
    "only known in the deploy job",  # an Auto Deploy --set value
    "Helm fails",  # Helm's tpl fails: the render in the deploy fails
    "breaks the YAML",  # the rendered text is not YAML: Helm cannot apply it
    "changes the structure",
    "the same object name",  # two objects of one kind and name: the second one fails the deploy
)


def _judge(helm_objects: list[Any] | None, helm_error: str, model: list[Any] | None, refused: str) -> str:
    """The model must render what Helm renders, or refuse — never render something else."""
    if model is None:
        # Refusing is right when Helm fails, or when the model does not cover a template.
        assert helm_objects is None or any(reason in refused for reason in REFUSALS), refused
        return "refused" if helm_objects is not None else "both fail"
    assert helm_objects is not None, f"the model renders where Helm fails: {helm_error}"
    assert [json.dumps(o) for o in model] == [json.dumps(o) for o in helm_objects]
    return f"identical, {'some' if model else 'no'} objects"


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(values=generated_values, deploy=deploys)
def test_generated_values_render_as_helm_python_sdk_renders_them(sdk_charts, shape, values, deploy):
    release, track = deploy["release"], deploy["track"]
    helm_release = release if track == "stable" else f"{release}-{track}"
    try:
        rendered = sdk_charts[shape.id].render(
            values, HelmRelease(helm_release, NAMESPACE, _set_values(release, track))
        )
        helm_objects: list[Any] | None = [m.manifest for m in rendered]
        helm_error = ""
    except InputError as error:
        helm_objects, helm_error = None, error.message
    model, refused = _model(values, shape, release, track)
    event(f"{shape.id}: {_judge(helm_objects, helm_error, model, refused)}")


@pytest.mark.parametrize("shape", [SHAPES[5], SHAPES[7], SHAPES[8]], ids=lambda shape: shape.id)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(values=generated_values, deploy=deploys)
def test_generated_values_render_as_the_helm_cli_renders_them(
    shapes_helm, tmp_path_factory, shape, values, deploy
):
    """The same with the Helm 3 CLI, on the shapes with customResources (fewer examples: a process each)."""
    import subprocess

    release, track = deploy["release"], deploy["track"]
    helm_release = release if track == "stable" else f"{release}-{track}"
    values_file = tmp_path_factory.mktemp("values") / "values.yaml"
    values_file.write_text(dump(values), encoding="utf-8")
    command = [
        shapes_helm,
        "template",
        helm_release,
        str(shape.path),
        "--namespace",
        NAMESPACE,
        "--values",
        str(values_file),
    ]
    for key, value in _set_values(release, track).items():
        command += ["--set-string" if key == "gitlab.projectID" else "--set", f"{key}={value}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    helm_objects = helm_policy_objects(done.stdout) if done.returncode == 0 else None
    model, refused = _model(values, shape, release, track)
    event(f"{shape.id}: {_judge(helm_objects, done.stderr, model, refused)}")
