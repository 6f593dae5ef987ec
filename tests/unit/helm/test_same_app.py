""" "The same app" is the whole app: web and worker pods of every track, and nothing else.

For every chart shape, the chart's Deployments are rendered — web, two workers, on the stable
track (release ``production``) and the canary track (``production-canary``) — by real Helm from
the fixture chart and by the model. The suggested policy comes from the model and, rendered from
the merged values file ``render --values-out`` writes, from real Helm. The connectivity engine
then says, on TCP 5000:

* every pod of the app is protected (isolated for ingress) and reaches every other one;
* the ingress controller's namespace reaches them;
* pods of another release in the same namespace (``staging``) do not, nor do pods of the release
  ``production`` — the same ``app`` value — in another namespace.

The old suggestion (``podSelector: {app: <release>}``) fails the same check: worker pods carry no
``app`` label, so they are neither protected nor admitted.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from chart_shapes import CASES_DIR, NAMESPACE, SHAPE_IDS, SHAPES, Case, model_context, render

from autodeploy_netpol.desired.compute import Delivery, compute_desired
from autodeploy_netpol.desired.shapes import ShapeRequest
from autodeploy_netpol.desired.values import read_values
from autodeploy_netpol.policy import Endpoint, Model
from autodeploy_netpol.records import replace
from autodeploy_netpol.sources.goyaml import dump
from autodeploy_netpol.sources.yamlio import iter_documents

pytestmark = pytest.mark.helm

OTHER_NAMESPACE = "production-43-7"  # another project's production environment
INGRESS_NAMESPACE = "ingress-nginx"
PORT = 5000
APP = [Case("stable", "workers.yaml"), Case("canary", "workers.yaml", track="canary")]
STRANGERS = [(Case("staging", "workers.yaml", release="staging"), NAMESPACE), (APP[0], OTHER_NAMESPACE)]


def _context(case: Case, shape):
    context = model_context(case, ShapeRequest(chart_dir=str(shape.path)))
    # the pipeline's way: the merged values file (with the suggestion) is what Helm reads
    return replace(
        context, suggest=True, delivery=Delivery(), ingress_namespace=INGRESS_NAMESPACE
    )


def _helm_deployments(binary: str, shape, case: Case) -> list[dict[str, Any]]:
    result = render(binary, shape.path, case)
    assert result.ok, result.error
    found = []
    for document in iter_documents(result.stdout, "helm template", go_scalars=True, allow_duplicates=True):
        manifest = document.data
        items = manifest.get("items") if manifest.get("kind") == "List" else [manifest]
        found += [item for item in items or [] if item.get("kind") == "Deployment"]
    return found


def _helm_policies(
    binary: str, shape, case: Case, merged_values: dict[str, Any], tmp_path: Path
) -> list[dict[str, Any]]:
    """The chart's policies as real Helm renders them from the merged values file (values-out)."""
    from chart_shapes import helm_policy_objects

    values = tmp_path / f"{case.id}-values-out.yaml"
    values.write_text(dump(merged_values), encoding="utf-8")
    result = render(binary, shape.path, dataclasses.replace(case, values=str(values)))
    assert result.ok, result.error
    return helm_policy_objects(result.stdout)


def _pods(deployments: list[dict[str, Any]], namespace: str) -> list[tuple[str, Endpoint]]:
    return [
        (
            f"{namespace}/{d['metadata']['name']}",
            Endpoint.pod(namespace, d["spec"]["template"]["metadata"]["labels"]),
        )
        for d in deployments
    ]


def _namespaces() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        }
        for name in (NAMESPACE, OTHER_NAMESPACE, INGRESS_NAMESPACE)
    ]


def _check(
    policies: list[dict[str, Any]], app: list[tuple[str, Endpoint]], strangers: list[tuple[str, Endpoint]]
) -> list[str]:
    """What is wrong with how ``policies`` treat the app's pods (empty: nothing)."""
    placed = [{**p, "metadata": {**p["metadata"], "namespace": NAMESPACE}} for p in policies]
    model = Model.from_objects([*_namespaces(), *placed])
    ingress = Endpoint.pod(INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"})
    wrong = []
    for name, pod in app:
        if not model.connectivity(ingress, pod).ingress_isolated:
            wrong.append(f"{name} is not protected")
        if not model.verdict(ingress, pod, "TCP", PORT).allowed:
            wrong.append(f"the ingress controller cannot reach {name}")
        for other_name, other in app:
            if other is not pod and not model.verdict(other, pod, "TCP", PORT).allowed:
                wrong.append(f"{other_name} cannot reach {name}")
        for stranger_name, stranger in strangers:
            if model.verdict(stranger, pod, "TCP", PORT).allowed:
                wrong.append(f"{stranger_name} (another release) reaches {name}")
    return wrong


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_the_suggestion_protects_and_admits_the_whole_app(shapes_helm, shape, tmp_path):
    desired = {
        case.id: compute_desired(read_values(str(CASES_DIR / case.values)), _context(case, shape))
        for case in APP
    }
    model_policies = [obj for d in desired.values() for obj in d.objects]
    helm_policies = [
        obj
        for case in APP
        for obj in _helm_policies(shapes_helm, shape, case, desired[case.id].merged_values, tmp_path)
    ]
    assert [json_of(p) for p in helm_policies] == [json_of(p) for p in model_policies]
    assert len(model_policies) == 2  # one NetworkPolicy per track's release

    helm_app = [pod for case in APP for pod in _pods(_helm_deployments(shapes_helm, shape, case), NAMESPACE)]
    model_app = [pod for d in desired.values() for pod in _pods(d.workloads, NAMESPACE)]
    assert len(helm_app) == 6  # web + two workers, on both tracks
    assert sorted(pod.labels for _, pod in helm_app) == sorted(pod.labels for _, pod in model_app)
    assert any("app" not in dict(pod.labels) for _, pod in helm_app)  # worker pods: no app label

    strangers = [
        pod
        for case, namespace in STRANGERS
        for pod in _pods(_helm_deployments(shapes_helm, shape, case), namespace)
    ]
    assert any(dict(pod.labels).get("app") == "production" for _, pod in strangers)  # the same app elsewhere
    for policies in (helm_policies, model_policies):
        for app in (helm_app, model_app):
            assert _check(policies, app, strangers) == []

    # The old suggestion, podSelector/from app=production, misses the workers: the check can fail.
    old = [
        {
            **p,
            "spec": {
                **p["spec"],
                "podSelector": {"matchLabels": {"app": "production"}},
                "ingress": [
                    {
                        "from": [
                            {"podSelector": {"matchLabels": {"app": "production"}}},
                            *p["spec"]["ingress"][0]["from"][1:],
                        ]
                    }
                ],
            },
        }
        for p in model_policies
    ]
    problems = _check(old, helm_app, strangers)
    assert any("worker" in problem or "sidekiq" in problem or "cron" in problem for problem in problems), (
        problems
    )


def json_of(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)
