"""From a values file to the objects the deploy will create (validate → suggest + merge → render)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, Severity, ValidationFailed
from ..kube.releases import STABLE, helm_release
from .chart import DEFAULT_CHART_VERSION, appname, chart_defaults, render_objects
from .merge import helm_merge_all, layer_values
from .suggest import DEFAULT_INGRESS_NAMESPACE, metrics_port, suggested_spec
from .validate import Problem, errors_only, validate_values
from .values import BLOCKS, ValuesFile

#: ``DeployContext.ingress_source`` when nothing chose the ingress namespace.
DEFAULT_SOURCE = "default"


@dataclass(frozen=True)
class DeployContext:
    """What Auto Deploy knows about the deploy: release, namespace, track, project."""

    release: str
    namespace: str | None = None
    track: str = STABLE
    project_id: str | None = None
    ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE
    chart_version: str = DEFAULT_CHART_VERSION
    suggest: bool = True
    #: where ``ingress_namespace`` came from: an option or variable, ``detected: <evidence>``, or
    #: :data:`DEFAULT_SOURCE` (then the suggestion warns that the namespace must exist)
    ingress_source: str = DEFAULT_SOURCE
    #: the monitoring stack's namespace (``NETPOL_MONITORING_NAMESPACE`` or detected), if known
    monitoring_namespace: str | None = None
    monitoring_source: str = ""

    @property
    def ingress_detectable(self) -> bool:
        """Whether detection may still choose the ingress namespace (none was given)."""
        return self.ingress_source == DEFAULT_SOURCE

    @property
    def helm_release(self) -> str:
        """The Helm release name: ``<release>`` for stable, ``<release>-<track>`` otherwise."""
        return helm_release(self.release, self.track)

    @property
    def app(self) -> str:
        """The ``app`` label of the pods: Auto Deploy sets ``releaseOverride`` to the base release."""
        return appname(self.release)

    def set_values(self) -> dict[str, Any]:
        """The ``--set`` values Auto Deploy passes that matter for the policies (they win over files)."""
        gitlab: dict[str, Any] = {"projectID": self.project_id} if self.project_id is not None else {}
        return {
            "gitlab": gitlab,
            "releaseOverride": self.release,
            "application": {"track": self.track},
        }


@dataclass(frozen=True)
class Desired:
    """The desired objects and the merged values they come from."""

    objects: list[dict[str, Any]]
    #: the user's whole values file with the network-policy blocks merged (for ``--values-out``)
    merged_values: dict[str, Any]
    context: DeployContext
    warnings: list[Problem] = field(default_factory=list)
    #: what the suggestion admits and why (the ingress and monitoring namespaces), for the report
    notes: list[str] = field(default_factory=list)


def values_layer(
    name: str,
    user_block: dict[str, Any] | None,
    context: DeployContext,
    *,
    monitoring: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """The block as the merged values file gives it to Helm: the suggestion (only where the user
    gives no spec) under the user's block. Chart defaults are left to Helm, and nulls are kept so
    that Helm still deletes the defaults they name. ``monitoring``: the scrapers' namespace and the
    app's metrics port, admitted by the suggestion."""
    user = user_block or {}
    if uses_suggestion(name, user_block, context):
        spec = suggested_spec(context.app, context.ingress_namespace, monitoring=monitoring)
        return layer_values({"spec": spec}, user)
    return layer_values({}, user)


def uses_suggestion(name: str, user_block: dict[str, Any] | None, context: DeployContext) -> bool:
    """Whether the suggested spec fills in this block (a networkPolicy block without a spec)."""
    return name == "networkPolicy" and context.suggest and "spec" not in (user_block or {})


def suggestion_admits(
    values: ValuesFile, context: DeployContext
) -> tuple[tuple[str, int] | None, list[Problem], list[str]]:
    """What the suggestion lets in besides the app's own pods, when it is used and enabled: the
    monitoring rule (or ``None``), warnings (an ingress namespace nobody chose) and notes."""
    block = values.block("networkPolicy")
    if not uses_suggestion("networkPolicy", block, context):
        return None, [], []
    where = values.locate(("networkPolicy",), key=True)
    warnings: list[Problem] = []
    notes = []
    enabled = (block or {}).get("enabled") is True
    if context.ingress_source == DEFAULT_SOURCE and enabled:
        warnings.append(
            Problem(
                where,
                ("networkPolicy",),
                f"the suggested policy admits the ingress controller from namespace {context.ingress_namespace}, "
                "the default: no NETPOL_INGRESS_NAMESPACE is set and no controller was detected. That namespace "
                "must exist and run your ingress controller, or nothing reaches the app once the policy is enabled",
                hint="set NETPOL_INGRESS_NAMESPACE (--ingress-namespace) to the controller's namespace, or let "
                "drift, lint or render --detect detect it (cluster access, or a snapshot with --live)",
                severity=Severity.WARNING,
            )
        )
    elif context.ingress_source != DEFAULT_SOURCE:
        notes.append(
            f"the suggested policy admits the ingress controller's namespace {context.ingress_namespace} "
            f"({context.ingress_source})"
        )
    port = metrics_port(values.data)
    monitoring = None
    if context.monitoring_namespace and port is not None:
        monitoring = (context.monitoring_namespace, port[0])
        notes.append(
            f"the suggested policy admits the monitoring stack's namespace {context.monitoring_namespace} "
            f"({context.monitoring_source}) on the metrics port TCP {port[0]} ({port[1]})"
        )
    elif context.monitoring_namespace:
        notes.append(
            f"monitoring stack in namespace {context.monitoring_namespace} ({context.monitoring_source}), but the "
            "values expose no metrics port (prometheus.metrics is off, no prometheus.io/port pod annotation): "
            "the suggested policy does not admit it"
        )
    elif port is not None:
        notes.append(
            f"the app exposes metrics on TCP {port[0]} ({port[1]}), but no monitoring namespace is set or "
            "detected: the suggested policy does not admit a scraper (set NETPOL_MONITORING_NAMESPACE)"
        )
    if not enabled:  # nothing is enforced: what the disabled suggestion would admit is no news
        notes = []
    return monitoring, warnings, notes


def compute_desired(values: ValuesFile, context: DeployContext) -> Desired:
    """Validate the values file and compute the objects the auto-deploy-app chart will render.

    Raises :class:`ValidationFailed` with every problem when the file is invalid.
    """
    problems = validate_values(values)
    errors = errors_only(problems)
    if errors:
        raise ValidationFailed(errors, file=values.path)
    monitoring, admit_warnings, notes = suggestion_admits(values, context)
    merged_values = dict(values.data)
    for name in BLOCKS:
        merged_values[name] = values_layer(name, values.block(name), context, monitoring=monitoring)
    # What Helm does: chart defaults, then the values files, then --set (which wins).
    chart_values = helm_merge_all(chart_defaults(context.chart_version), merged_values, context.set_values())
    objects = render_objects(chart_values, release=context.helm_release, chart_version=context.chart_version)
    _check_unique_names(objects, values)
    return Desired(
        objects, merged_values, context, [*(p for p in problems if p not in errors), *admit_warnings], notes
    )


def _check_unique_names(objects: list[dict[str, Any]], values: ValuesFile) -> None:
    seen: dict[tuple[str, str], int] = {}
    for obj in objects:
        key = (obj["kind"], obj["metadata"]["name"])
        seen[key] = seen.get(key, 0) + 1
    clashes = sorted(f"{kind} {name}" for (kind, name), count in seen.items() if count > 1)
    if clashes:
        raise InputError(
            f"two policies would get the same object name: {', '.join(clashes)}",
            location=values.locate(("networkPolicy", "policies")),
            hint="names are cut to 63 characters; use shorter or more distinct policy names",
        )
