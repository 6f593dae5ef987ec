"""Where the cluster's ingress controller and monitoring stack run: detected, with the evidence.

The suggested policy lets the ingress controller's namespace in (and the monitoring stack's, on
the app's metrics port). GitLab's old answer, ``gitlab-managed-apps``, exists on no cluster of
2026: controllers live where people install them. Given a cluster (or a snapshot of one), the
namespace is found the way a person would look:

1. **IngressClasses** name their controller (``spec.controller``, e.g. ``k8s.io/ingress-nginx``);
   the default class (annotation ``ingressclass.kubernetes.io/is-default-class``) and a class the
   app's values ask for come first. **GatewayClasses** name theirs (``spec.controllerName``), and
   **Gateways** say which namespaces use them.
2. The **pods** of that controller (by the labels its installation sets) say where it runs.
   Gateway API data planes that run beside their Gateway carry
   ``gateway.networking.k8s.io/gateway-name``.
3. Without readable pods, a namespace with the controller's usual name is weaker evidence, and is
   said to be.

Monitoring is found from its pods: Prometheus (Prometheus Operator, kube-prometheus-stack, the
Prometheus chart), OpenTelemetry collectors, Grafana Agent and Alloy, vmagent.

Reading degrades: what RBAC forbids or the cluster does not serve (no Gateway API CRDs) is a
note, and the detection goes on with the rest. ``deploy/rbac.yaml`` part "detection" grants it.
This module decides from objects (:func:`detect`) and reads them (:func:`read_platform`); it
never prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import ClusterError
from ..kube.names import CONTROLLER_KINDS, GATEWAY, GATEWAY_CLASS, INGRESS_CLASS, NAMESPACE, POD

INGRESS = "ingress"
MONITORING = "monitoring"

#: The label a Gateway API implementation puts on the data-plane pods it runs for a Gateway.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"


@dataclass(frozen=True)
class Known:
    """A well-known ingress controller, Gateway API implementation or scraper."""

    name: str
    role: str
    #: label pairs of its pods (any one identifies them)
    labels: tuple[tuple[str, str], ...]
    #: IngressClass ``spec.controller`` values
    ingress_controllers: tuple[str, ...] = ()
    #: GatewayClass ``spec.controllerName`` values
    gateway_controllers: tuple[str, ...] = ()
    #: where its installation guides put it
    usual_namespaces: tuple[str, ...] = ()
    caveat: str = ""


KNOWN: tuple[Known, ...] = (
    Known(
        "ingress-nginx",
        INGRESS,
        (("app.kubernetes.io/name", "ingress-nginx"), ("app", "ingress-nginx")),
        ("k8s.io/ingress-nginx",),
        (),
        ("ingress-nginx",),
    ),
    Known(
        "NGINX Ingress Controller",
        INGRESS,
        (("app.kubernetes.io/name", "nginx-ingress"), ("app", "nginx-ingress")),
        ("nginx.org/ingress-controller",),
        (),
        ("nginx-ingress",),
    ),
    Known(
        "Traefik",
        INGRESS,
        (("app.kubernetes.io/name", "traefik"), ("app", "traefik")),
        ("traefik.io/ingress-controller",),
        ("traefik.io/gateway-controller",),
        ("traefik", "kube-system"),
    ),
    Known(
        "HAProxy",
        INGRESS,
        (("app.kubernetes.io/name", "kubernetes-ingress"), ("app.kubernetes.io/name", "haproxy-ingress")),
        ("haproxy.org/ingress-controller/haproxy", "haproxy-ingress.github.io/controller"),
        (),
        ("haproxy-controller", "haproxy-ingress"),
    ),
    Known(
        "Contour",
        INGRESS,
        (("app.kubernetes.io/name", "contour"), ("app", "envoy"), ("app", "contour")),
        ("projectcontour.io/ingress-controller",),
        ("projectcontour.io/gateway-controller",),
        ("projectcontour",),
    ),
    Known(
        "Kong",
        INGRESS,
        (("app.kubernetes.io/name", "kong"), ("app", "kong")),
        ("ingress-controllers.konghq.com/kong",),
        ("konghq.com/kic-gateway-controller", "konghq.com/gateway-operator"),
        ("kong",),
    ),
    Known(
        "Istio ingress gateway",
        INGRESS,
        (
            ("istio", "ingressgateway"),
            ("app", "istio-ingressgateway"),
            ("gateway.istio.io/managed", "istio.io-gateway-controller"),
        ),
        ("istio.io/ingress-controller",),
        ("istio.io/gateway-controller",),
        ("istio-ingress", "istio-system"),
    ),
    Known(
        "Envoy Gateway",
        INGRESS,
        (("app.kubernetes.io/managed-by", "envoy-gateway"),),
        (),
        ("gateway.envoyproxy.io/gatewayclass-controller",),
        ("envoy-gateway-system",),
    ),
    Known(
        "NGINX Gateway Fabric",
        INGRESS,
        (("app.kubernetes.io/name", "nginx-gateway"), ("app.kubernetes.io/name", "nginx-gateway-fabric")),
        (),
        ("gateway.nginx.org/nginx-gateway-controller",),
        ("nginx-gateway",),
    ),
    Known(
        "Cilium",
        INGRESS,
        (("k8s-app", "cilium"),),
        ("cilium.io/ingress-controller",),
        ("io.cilium/gateway-controller",),
        ("kube-system",),
        caveat="Cilium's Ingress and Gateway API traffic comes from the reserved:ingress identity, which a "
        "NetworkPolicy namespaceSelector does not match: allow it with a CiliumNetworkPolicy "
        "(fromEntities: [ingress]) in ciliumNetworkPolicy",
    ),
    Known(
        "Prometheus",
        MONITORING,
        (("app.kubernetes.io/name", "prometheus"), ("app", "prometheus")),
        usual_namespaces=("monitoring", "prometheus", "observability"),
    ),
    Known(
        "OpenTelemetry Collector",
        MONITORING,
        (
            ("app.kubernetes.io/component", "opentelemetry-collector"),
            ("app.kubernetes.io/name", "opentelemetry-collector"),
        ),
        usual_namespaces=("opentelemetry", "observability", "monitoring"),
    ),
    Known(
        "Grafana Alloy",
        MONITORING,
        (("app.kubernetes.io/name", "alloy"),),
        usual_namespaces=("alloy", "monitoring"),
    ),
    Known(
        "Grafana Agent",
        MONITORING,
        (("app.kubernetes.io/name", "grafana-agent"),),
        usual_namespaces=("grafana-agent", "monitoring"),
    ),
    Known(
        "VictoriaMetrics vmagent",
        MONITORING,
        (("app.kubernetes.io/name", "vmagent"),),
        usual_namespaces=("monitoring", "victoria-metrics"),
    ),
)


@dataclass(frozen=True)
class Found:
    """A namespace where the ingress controller (or the monitoring stack) runs, and why we think so."""

    namespace: str
    what: str
    evidence: tuple[str, ...]
    #: the evidence is a namespace's name only (pods could not be read)
    weak: bool = False
    caveat: str = ""

    def describe(self) -> str:
        """``ingress-nginx in namespace ingress-nginx (IngressClass …; 2 pods …)``."""
        return f"{self.what} in namespace {self.namespace} ({'; '.join(self.evidence)})"


@dataclass(frozen=True)
class Detection:
    """What was found for the ingress controller and the monitoring stack, with notes on what
    could not be read or was ambiguous."""

    ingress: Found | None = None
    monitoring: Found | None = None
    #: other namespaces where ingress controllers or scrapers were seen
    other_ingress: tuple[Found, ...] = ()
    other_monitoring: tuple[Found, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def found(item: Found | None) -> dict[str, Any] | None:
            if item is None:
                return None
            out: dict[str, Any] = {
                "namespace": item.namespace,
                "what": item.what,
                "evidence": list(item.evidence),
            }
            if item.weak:
                out["weak"] = True
            if item.caveat:
                out["caveat"] = item.caveat
            return out

        return {
            "ingress": found(self.ingress),
            "monitoring": found(self.monitoring),
            "otherIngress": [found(item) for item in self.other_ingress],
            "otherMonitoring": [found(item) for item in self.other_monitoring],
            "notes": list(self.notes),
        }


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(obj.get("metadata"))


def _labels(mapping: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items()} if isinstance(mapping, Mapping) else {}


def pod_labels(objects: Iterable[Mapping[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """(namespace, labels) of every pod, and of every controller's pod template."""
    found: list[tuple[str, dict[str, str]]] = []
    for obj in objects:
        kind = obj.get("kind")
        namespace = str(_metadata(obj).get("namespace") or "")
        if kind == POD:
            found.append((namespace, _labels(_metadata(obj).get("labels"))))
        elif kind in CONTROLLER_KINDS:
            spec = _mapping(obj.get("spec"))
            template = _mapping(spec.get("template"))
            if kind == "CronJob":
                job = _mapping(spec.get("jobTemplate"))
                job_spec = _mapping(job.get("spec"))
                template = _mapping(job_spec.get("template"))
            found.append((namespace, _labels(_metadata(template).get("labels"))))
    return found


def _matching(pods: Sequence[tuple[str, dict[str, str]]], known: Known) -> dict[str, tuple[str, int]]:
    """namespace → (the label that matched, how many pods) for the pods of ``known``."""
    out: dict[str, tuple[str, int]] = {}
    for namespace, labels in pods:
        for key, value in known.labels:
            if labels.get(key) == value:
                label, count = out.get(namespace, (f"{key}={value}", 0))
                out[namespace] = (label, count + 1)
                break
    return out


def _pods_line(label: str, count: int, namespace: str) -> str:
    return f"{count} pod{'s' if count != 1 else ''} labelled {label} in namespace {namespace}"


@dataclass
class _Claim:
    """A controller the cluster's classes name, and how they name it."""

    known: Known
    evidence: list[str] = field(default_factory=list)
    rank: int = 2
    gateway_namespaces: set[str] = field(default_factory=set)
    gateway_names: set[tuple[str, str]] = field(default_factory=set)


def detect(
    objects: Iterable[Mapping[str, Any]],
    *,
    pods_read: bool = True,
    preferred_class: str | None = None,
    notes: Sequence[str] = (),
) -> Detection:
    """Find the ingress controller's and the monitoring stack's namespaces in ``objects``
    (IngressClasses, GatewayClasses, Gateways, Namespaces, pods and workloads).

    ``pods_read``: whether the pods of the cluster were readable (otherwise namespace names are
    the fallback evidence); ``preferred_class``: the IngressClass the app's values ask for.
    """
    objects = list(objects)
    pods = pod_labels(objects)
    namespaces = {str(_metadata(obj).get("name")) for obj in objects if obj.get("kind") == NAMESPACE}
    by_ingress = {controller: known for known in KNOWN for controller in known.ingress_controllers}
    by_gateway = {controller: known for known in KNOWN for controller in known.gateway_controllers}
    claims: dict[str, _Claim] = {}
    gateway_classes: dict[str, Known] = {}
    for obj in objects:
        kind, name = obj.get("kind"), str(_metadata(obj).get("name") or "")
        spec = _mapping(obj.get("spec"))
        if kind == INGRESS_CLASS:
            controller = str(spec.get("controller") or "")
            known = by_ingress.get(controller)
            if known is None:
                continue
            default = (
                str((_metadata(obj).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION, "")).lower()
                == "true"
            )
            claim = claims.setdefault(known.name, _Claim(known))
            role = (
                " (the values ask for it)"
                if name == preferred_class
                else " (the default class)"
                if default
                else ""
            )
            claim.evidence.append(f"IngressClass {name}{role} names controller {controller}")
            claim.rank = min(claim.rank, 0 if name == preferred_class else 1 if default else 2)
        elif kind == GATEWAY_CLASS:
            controller = str(spec.get("controllerName") or "")
            known = by_gateway.get(controller)
            if known is not None:
                gateway_classes[name] = known
                claim = claims.setdefault(known.name, _Claim(known))
                claim.evidence.append(f"GatewayClass {name} names controller {controller}")
                claim.rank = min(claim.rank, 3)
    for obj in objects:
        if obj.get("kind") != GATEWAY:
            continue
        spec = _mapping(obj.get("spec"))
        known = gateway_classes.get(str(spec.get("gatewayClassName") or ""))
        if known is not None:
            claim = claims[known.name]
            namespace = str(_metadata(obj).get("namespace") or "")
            claim.gateway_namespaces.add(namespace)
            claim.gateway_names.add((namespace, str(_metadata(obj).get("name") or "")))
    ingress: list[Found] = []
    for claim in sorted(claims.values(), key=lambda c: c.rank):
        ingress.extend(_locate(claim, pods, namespaces, pods_read))
    if not ingress:  # no class names a known controller: its pods alone
        for known in KNOWN:
            if known.role == INGRESS:
                ingress.extend(_locate(_Claim(known), pods, namespaces, pods_read, classless=True))
    monitoring: list[Found] = []
    for known in KNOWN:
        if known.role == MONITORING:
            monitoring.extend(_locate(_Claim(known), pods, namespaces, pods_read, classless=True))
    ingress, monitoring = _unique(ingress), _unique(monitoring)
    all_notes = list(notes)
    if len({found.namespace for found in ingress}) > 1:
        all_notes.append(
            "ingress controllers run in several namespaces ("
            + ", ".join(found.describe() for found in ingress)
            + f"): the suggestion admits {ingress[0].namespace}; set NETPOL_INGRESS_NAMESPACE to choose"
        )
    return Detection(
        ingress[0] if ingress else None,
        monitoring[0] if monitoring else None,
        tuple(ingress[1:]),
        tuple(monitoring[1:]),
        tuple(all_notes),
    )


def _unique(found: list[Found]) -> list[Found]:
    seen: set[str] = set()
    out = []
    for item in found:
        if item.namespace not in seen:
            seen.add(item.namespace)
            out.append(item)
    return out


def _locate(
    claim: _Claim,
    pods: Sequence[tuple[str, dict[str, str]]],
    namespaces: set[str],
    pods_read: bool,
    *,
    classless: bool = False,
) -> list[Found]:
    known = claim.known
    found: list[Found] = []
    matching = _matching(pods, known)
    if claim.gateway_names:
        # data planes beside their Gateway (Istio, NGINX Gateway Fabric 2, Envoy Gateway's namespace mode)
        for namespace, gateway in sorted(claim.gateway_names):
            count = sum(
                1 for ns, labels in pods if ns == namespace and labels.get(GATEWAY_NAME_LABEL) == gateway
            )
            if count:
                line = _pods_line(f"{GATEWAY_NAME_LABEL}={gateway}", count, namespace)
                found.append(
                    Found(
                        namespace,
                        known.name,
                        (*claim.evidence, f"Gateway {namespace}/{gateway} uses it", line),
                        caveat=known.caveat,
                    )
                )
    for namespace, (label, count) in sorted(matching.items(), key=lambda item: -item[1][1]):
        found.append(
            Found(
                namespace,
                known.name,
                (*claim.evidence, _pods_line(label, count, namespace)),
                caveat=known.caveat,
            )
        )
    if found or pods_read:
        return found
    for namespace in known.usual_namespaces:
        if classless and namespace == "kube-system":
            continue  # every cluster has it: no evidence without a class that names the controller
        if namespace in namespaces:
            line = f"namespace {namespace} exists, where {known.name} is usually installed (its pods could not be read)"
            return [Found(namespace, known.name, (*claim.evidence, line), weak=True, caveat=known.caveat)]
    return []


# --- reading -------------------------------------------------------------------------------------


class PlatformLister(Protocol):
    """What :func:`read_platform` needs of the cluster reader."""

    def platform_objects(
        self, *, namespaces: bool = True
    ) -> tuple[list[dict[str, Any]], list[str], bool]: ...


def pod_selectors() -> list[str]:
    """Label selectors for the pods of every known controller, one per label key (set-based)."""
    by_key: dict[str, set[str]] = {}
    for known in KNOWN:
        for key, value in known.labels:
            by_key.setdefault(key, set()).add(value)
    selectors = [f"{key} in ({','.join(sorted(values))})" for key, values in sorted(by_key.items())]
    return [*selectors, GATEWAY_NAME_LABEL]


def read_platform(
    cluster: PlatformLister,
    *,
    preferred_class: str | None = None,
    known: Sequence[Mapping[str, Any]] = (),
    namespaces: bool = True,
) -> Detection:
    """Detect from the cluster; what cannot be read becomes a note. ``known``: objects the run read
    already (e.g. the Namespaces: then ``namespaces=False`` does not list them again)."""
    try:
        objects, notes, pods_read = cluster.platform_objects(namespaces=namespaces)
    except ClusterError as exc:  # the cluster itself cannot be reached
        return Detection(notes=(f"detection skipped: {exc.message}",))
    return detect([*known, *objects], pods_read=pods_read, preferred_class=preferred_class, notes=notes)
