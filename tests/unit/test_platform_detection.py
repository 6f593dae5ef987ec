"""Where the ingress controller and the monitoring stack run, decided from objects (sources/platform)."""

from __future__ import annotations

from typing import Any

from autodeploy_netpol.sources.platform import detect, pod_selectors


def ns(name: str) -> dict[str, Any]:
    return {"kind": "Namespace", "metadata": {"name": name}}


def pod(namespace: str, labels: dict[str, str], name: str = "p") -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels}}


def test_the_ingress_class_the_values_ask_for_comes_first() -> None:
    objects = [
        {
            "kind": "IngressClass",
            "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
        {
            "kind": "IngressClass",
            "metadata": {
                "name": "traefik",
                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            },
            "spec": {"controller": "traefik.io/ingress-controller"},
        },
        pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
        pod("edge", {"app.kubernetes.io/name": "traefik"}),
    ]
    assert detect(objects).ingress.namespace == "edge"  # the default class
    found = detect(objects, preferred_class="nginx")
    assert found.ingress.namespace == "ingress-nginx"
    assert (
        found.ingress.evidence[0]
        == "IngressClass nginx (the values ask for it) names controller k8s.io/ingress-nginx"
    )
    assert [other.namespace for other in found.other_ingress] == ["edge"]
    assert any("ingress controllers run in several namespaces" in note for note in found.notes)


def test_gateway_api_data_planes_beside_their_gateway() -> None:
    objects = [
        {
            "kind": "GatewayClass",
            "metadata": {"name": "istio"},
            "spec": {"controllerName": "istio.io/gateway-controller"},
        },
        {
            "kind": "Gateway",
            "metadata": {"name": "public", "namespace": "gateways"},
            "spec": {"gatewayClassName": "istio"},
        },
        pod("gateways", {"gateway.networking.k8s.io/gateway-name": "public"}),
    ]
    found = detect(objects).ingress
    assert found is not None and found.namespace == "gateways" and found.what == "Istio ingress gateway"
    assert "Gateway gateways/public uses it" in found.evidence


def test_without_readable_pods_a_usual_namespace_is_weak_evidence() -> None:
    objects = [ns("traefik"), ns("kube-system"), ns("monitoring")]
    found = detect(objects, pods_read=False)
    assert found.ingress is not None and found.ingress.namespace == "traefik" and found.ingress.weak
    assert "its pods could not be read" in found.ingress.evidence[-1]
    assert found.monitoring is not None and found.monitoring.namespace == "monitoring"
    # with the pods readable, a name alone proves nothing
    assert detect(objects, pods_read=True).ingress is None


def test_cilium_carries_its_caveat() -> None:
    objects = [
        {
            "kind": "IngressClass",
            "metadata": {"name": "cilium"},
            "spec": {"controller": "cilium.io/ingress-controller"},
        },
        pod("kube-system", {"k8s-app": "cilium"}),
    ]
    found = detect(objects).ingress
    assert found is not None and found.namespace == "kube-system" and "reserved:ingress" in found.caveat


def test_monitoring_from_controller_templates() -> None:
    objects = [
        {
            "kind": "StatefulSet",
            "metadata": {"name": "prometheus", "namespace": "obs"},
            "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": "prometheus"}}}},
        }
    ]
    found = detect(objects).monitoring
    assert found is not None and found.namespace == "obs" and found.what == "Prometheus"


def test_nothing_found_is_none() -> None:
    found = detect([ns("shop"), pod("shop", {"app": "web"})])
    assert found.ingress is None and found.monitoring is None


def test_pod_selectors_are_set_based_one_per_key() -> None:
    selectors = pod_selectors()
    assert "app.kubernetes.io/name in (" in " ".join(selectors)
    assert len(selectors) == len(set(selectors))
