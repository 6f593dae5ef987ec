"""From a values file to the objects the deploy will create (validate → suggest + merge → render).

What the deploy creates depends on three things besides the values file:

* the chart (:mod:`.shapes`): chosen from a chart directory, the image, a chart version or the
  live objects' chart label — the choice and its reason are in :attr:`Desired.notes`;
* how the values reach Helm (:class:`Delivery`): through ``render --values-out`` (the CI
  template's values jobs hand the merged file to Auto Deploy, ``$NETPOL_HANDOFF``), and whether
  the chart overlays are laid (``$NETPOL_OVERLAY_CHART``);
* the release (:class:`DeployContext`).

Only what that combination deploys is rendered. What the values ask for but the deploy would
not create (the extension with neither overlays nor ``customResources``, ``ciliumNetworkPolicy``
on a chart without its template, …) is a warning naming the fix, never an object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import InputError, Location, Severity, ValidationFailed
from ..kube.releases import STABLE, helm_release
from ..records import field, record, replace
from ..sources.goyaml import STR, plain_scalar
from .chart import (
    Placed,
    appname,
    chart_defaults,
    helm_typed,
    render_placed,
    render_workloads,
)
from .custom_resources import EntryProblem, entries_of
from .delivery import Delivery as Delivery  # re-exported: where callers have imported it from
from .delivery import delivery_problems as delivery_problems
from .delivery import helm_truthy
from .extension import CompileTarget, compile_extension
from .merge import helm_merge_all, layer_values
from .shapes import NEWEST, ShapeChoice, ShapeRequest, choose_shape
from .suggest import DEFAULT_INGRESS_NAMESPACE, metrics_port, suggested_spec
from .validate import Problem, _Checker, errors_only, step, validate_values
from .values import BLOCKS, ValuesFile

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

#: What Auto Deploy's ``deploy`` sets with ``--set`` (image v2.x), and from what: a template in
#: customResources that reads one of them renders what the deploy job knows.
AUTO_DEPLOY_SET_KEYS: dict[str, str] = {
    "gitlab.app": "$CI_PROJECT_PATH_SLUG",
    "gitlab.env": "$CI_ENVIRONMENT_SLUG",
    "gitlab.envName": "$CI_ENVIRONMENT_NAME",
    "gitlab.envURL": "$CI_ENVIRONMENT_URL",
    "gitlab.projectID": "$CI_PROJECT_ID",
    "releaseOverride": "$RELEASE_NAME",
    "image.repository": "$CI_APPLICATION_REPOSITORY",
    "image.tag": "$CI_APPLICATION_TAG",
    "application.track": "<track>",
    "application.database_url": "<the database URL>",
    "application.secretName": "<the application secret>",
    "application.secretChecksum": "<the application secret's checksum>",
    "application.initializeCommand": "$DB_INITIALIZE",
    "application.migrateCommand": "$DB_MIGRATE",
    "service.url": "$CI_ENVIRONMENT_URL",
    "service.additionalHosts": "$ADDITIONAL_HOSTS",
    "service.commonName": "$AUTO_DEVOPS_COMMON_NAME",
    "replicaCount": "$REPLICAS",
    "ingress.canary.weight": "<the rollout percentage>",
    "postgresql.managed": "$AUTO_DEVOPS_POSTGRES_MANAGED",
    "postgresql.managedClassSelector": "$AUTO_DEVOPS_POSTGRES_MANAGED_CLASS_SELECTOR",
}
#: Rendered entries are checked as written (their templates are gone).
NEWEST_LITERAL = replace(NEWEST, tpl=False)
#: The selector labels of the chart's Deployments: a pod label that overrides one breaks the Deployment.
WEB_SELECTOR_KEYS = ("app", "track", "tier", "release")
WORKER_SELECTOR_KEYS = ("track", "tier", "release")
#: ``DeployContext.ingress_source`` when nothing chose the ingress namespace.
DEFAULT_SOURCE = "default"


@record(frozen=True)
class DeployContext:
    """What Auto Deploy knows about the deploy: release, namespace, track, project, chart."""

    release: str
    namespace: str | None = None
    track: str = STABLE
    project_id: str | None = None
    ingress_namespace: str = DEFAULT_INGRESS_NAMESPACE
    #: an explicit chart version (``--chart-version``); the shape request may carry one too
    chart_version: str | None = None
    suggest: bool = True
    chart: ShapeRequest = field(default_factory=ShapeRequest)
    delivery: Delivery = field(default_factory=Delivery)
    #: render a templated customResources entry the model does not cover with real Helm
    helm_fallback: bool = True
    #: Auto Deploy's --set values known from the job's environment (``gitlab.env`` → the slug …)
    job_values: tuple[tuple[str, str], ...] = ()
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
        """The ``app`` label of the web pods: Auto Deploy sets ``releaseOverride`` to the base release."""
        return appname(self.release)

    @property
    def shape_request(self) -> ShapeRequest:
        if self.chart_version and not self.chart.chart_version:
            return replace(self.chart, chart_version=self.chart_version)
        return self.chart

    def set_values(self) -> dict[str, Any]:
        """The ``--set`` values Auto Deploy passes that are known here (they win over files)."""
        gitlab: dict[str, Any] = {"projectID": self.project_id} if self.project_id is not None else {}
        values: dict[str, Any] = {
            "gitlab": gitlab,
            "releaseOverride": self.release,
            "application": {"track": self.track},
        }
        for dotted, value in self.job_values:
            node = values
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = value
        return values

    def unknown_set_values(self) -> dict[str, str]:
        """Auto Deploy's ``--set`` values this run does not know (dotted key → where it comes from)."""
        # gitlab.projectID: an unset $CI_PROJECT_ID is the empty string, as the chart labels have it
        known = {
            "releaseOverride",
            "application.track",
            "gitlab.projectID",
            *(key for key, _ in self.job_values),
        }
        return {key: source for key, source in AUTO_DEPLOY_SET_KEYS.items() if key not in known}


@record(frozen=True)
class Desired:
    """The desired objects and the merged values they come from."""

    objects: list[dict[str, Any]]
    #: the user's whole values file with the network-policy blocks merged (for ``--values-out``)
    merged_values: dict[str, Any]
    context: DeployContext
    warnings: list[Problem] = field(default_factory=list)
    #: the chart the objects were rendered for, and why
    choice: ShapeChoice | None = None
    #: what the reader should know: the chart choice, what was compiled into customResources …
    notes: tuple[str, ...] = ()
    #: the release's web and worker Deployments as the chart writes them (pods and their labels)
    workloads: list[dict[str, Any]] = field(default_factory=list)
    #: with ``strict=False``: the errors that would have stopped the computation
    errors: list[Problem] = field(default_factory=list)


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
        suggestion = suggested_spec(context.release, context.ingress_namespace, monitoring=monitoring)
        # maps merge in Helm: the null deletes the chart default's `matchLabels: {}` beside the selector
        suggestion["podSelector"] = {"matchLabels": None, **suggestion["podSelector"]}
        return layer_values({"spec": suggestion}, user)
    return layer_values({}, user)


def uses_suggestion(name: str, user_block: dict[str, Any] | None, context: DeployContext) -> bool:
    """Whether the suggested spec fills in this block (a networkPolicy block without a spec)."""
    return name == "networkPolicy" and context.suggest and "spec" not in (user_block or {})


def suggestion_admits(
    values: ValuesFile, context: DeployContext
) -> tuple[tuple[str, int] | None, list[Problem], list[str]]:
    """What the suggestion lets in besides the app's own pods: the monitoring rule (or ``None``),
    and for an enabled block the warnings (an ingress namespace nobody chose) and notes."""
    block = values.block("networkPolicy")
    if not uses_suggestion("networkPolicy", block, context):
        return None, [], []
    port = metrics_port(values.data)
    monitoring = (context.monitoring_namespace, port[0]) if context.monitoring_namespace and port else None
    if not helm_truthy((block or {}).get("enabled")):
        return monitoring, [], []  # nothing is enforced: what it would admit is no news
    where = values.locate(("networkPolicy",), key=True)
    warnings: list[Problem] = []
    notes = []
    if context.ingress_source == DEFAULT_SOURCE:
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
    else:
        notes.append(
            f"the suggested policy admits the ingress controller's namespace {context.ingress_namespace} "
            f"({context.ingress_source})"
        )
    if monitoring is not None and port is not None:
        notes.append(
            f"the suggested policy admits the monitoring stack's namespace {monitoring[0]} "
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
    return monitoring, warnings, notes


def compute_desired(
    values: ValuesFile, context: DeployContext, *, live_chart_labels: Iterable[str] = (), strict: bool = True
) -> Desired:
    """Validate the values file and compute the objects the deploy will create.

    ``live_chart_labels``: the ``helm.sh/chart`` labels of the release's live objects, for the
    chart choice when nothing else names the chart. Raises :class:`ValidationFailed` with every
    problem when the file is invalid or the chart cannot render it. ``strict=False`` renders what
    the chart renders even where the values break the rules (the errors come back in
    :attr:`Desired.errors`); what the chart itself cannot render still raises.
    """
    choice = choose_shape(context.shape_request, live_chart_labels=live_chart_labels)
    shape = choice.shape
    _check_release_names(context)
    delivery = context.delivery
    if choice.overlays_laid and not delivery.overlays:
        delivery = replace(delivery, overlays=True)
    problems = validate_values(values, shape=shape)
    problems.extend(delivery_problems(values, shape, delivery, suggest=context.suggest))
    problems.extend(_workload_label_problems(values, context, shape))
    monitoring, admit_warnings, admit_notes = suggestion_admits(values, context)
    problems.extend(admit_warnings)
    errors = errors_only(problems)
    if errors and strict:
        raise ValidationFailed(_sorted(errors), file=values.path)
    notes = [*choice.notes, *admit_notes]
    merged_values = dict(values.data)
    for name in BLOCKS:
        if name in values.data or name == "networkPolicy":
            block = values.block(name)
            if values.data.get(name) is None and name in values.data:
                continue  # an explicit null stays (validate reported what it does)
            merged_values[name] = values_layer(name, block, context, monitoring=monitoring)
    overlays = delivery.overlays and shape.shared_labels
    if delivery.handoff and not overlays and shape.custom_resources:
        compiled = compile_extension(
            merged_values,
            shape,
            CompileTarget(context.helm_release, context.release, choice.chart_version, context.project_id),
        )
        merged_values = compiled.values
        if compiled.objects:
            notes.append(
                "compiled into customResources (the stock chart deploys them, no overlay needed): "
                + ", ".join(compiled.objects)
            )
        notes.extend(compiled.notes)
    # What Helm reads: the merged file when the pipeline hands it over, else the file as written.
    helm_input = merged_values if delivery.handoff else dict(values.data)
    # What Helm does: chart defaults, then the values files, then --set (which wins).
    set_values = context.set_values()
    chart_values = helm_merge_all(chart_defaults(choice.chart_version, shape), helm_input, set_values)
    try:
        placed = render_placed(
            chart_values,
            release=context.helm_release,
            chart_version=choice.chart_version,
            shape=shape,
            overlays=overlays,
            namespace=context.namespace or "default",
            helm_fallback=_helm_fallback(context, choice, chart_values) if context.helm_fallback else None,
            tpl_values=helm_typed(
                helm_merge_all(chart_defaults(choice.chart_version, shape), helm_input), set_values
            ),
            unknown_values=context.unknown_set_values(),
        )
    except EntryProblem as problem:
        path = ("customResources", problem.index, *problem.path)
        location = values.locate(path) if "customResources" in values.data else Location(values.path)
        raise ValidationFailed(
            [Problem(location, path, problem.message, problem.hint)], file=values.path
        ) from None
    objects = [item.obj for item in placed]
    rendered_problems = _check_rendered_entries(placed, values)
    problems.extend(rendered_problems)
    if errors_only(rendered_problems) and strict:
        raise ValidationFailed(_sorted(errors_only(rendered_problems)), file=values.path)
    _check_unique_names(objects, values)
    workloads = render_workloads(
        chart_values,
        release=context.helm_release,
        chart_version=choice.chart_version,
        shape=shape,
        namespace=context.namespace,
    )
    warnings = _sorted([p for p in problems if p.severity is not Severity.ERROR])
    errors = [] if strict else _sorted(errors_only(problems))
    return Desired(objects, merged_values, context, warnings, choice, tuple(notes), workloads, errors)


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = {(p.location, p.path, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.location.line, p.location.column, p.message))


_HELM_RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")


def _check_release_names(context: DeployContext) -> None:
    """Helm's rules for release names, and the chart's: it writes them unquoted into labels, so
    they must stay strings when YAML reads them."""
    name = context.helm_release
    if len(name) > 53 or not _HELM_RELEASE_NAME.match(name):
        raise InputError(
            f'Helm refuses the release name "{name}": at most 53 characters of lowercase letters, digits, '
            "'-' and '.', starting and ending with a letter or digit",
            hint="Auto Deploy names the release after the environment slug ($CI_ENVIRONMENT_SLUG) or "
            "$HELM_RELEASE_NAME; canary and rollout add -canary / -rollout",
        )
    for name, role in ((context.release, "release"), (context.helm_release, "Helm release")):
        tag, value = plain_scalar(name)
        if tag == STR:
            continue
        if (
            role == "release"
            and tag == "tag:yaml.org,2002:int"
            and name.isdigit()
            and not name.startswith("0")
        ):
            raise InputError(
                f'the {role} "{name}" is a number to Helm: Auto Deploy passes --set releaseOverride={name}, '
                f'the chart prints it with %s ("%!s(int64={name})") and Helm fails to read what it wrote: '
                "the render, and the deploy, fail",
                hint="give the environment a name that is not a number (HELM_RELEASE_NAME, or rename the "
                "environment)",
            )
        kind = {"tag:yaml.org,2002:bool": "the boolean", "tag:yaml.org,2002:null": "null"}.get(
            tag, "the number"
        )
        shown = "" if value is None else f" {str(value).lower() if isinstance(value, bool) else value}"
        raise InputError(
            f'the {role} "{name}" is read by YAML as {kind}{shown}: the chart writes it unquoted into the '
            "labels app and release, so the objects carry a non-string label value, which the API server "
            "rejects: the deploy fails",
            hint="give the environment a name YAML reads as a string (HELM_RELEASE_NAME, or rename the "
            "environment); names such as no, on, y, 1e3 or 0x1f are not",
        )


def _workload_label_problems(values: ValuesFile, context: DeployContext, shape: Any) -> list[Problem]:
    """Pod labels that override a Deployment's selector label: the API server rejects the Deployment."""
    problems: list[Problem] = []
    data = values.data
    extra = data.get("extraLabels")
    chart_writes = {"app": appname(context.release), "release": context.helm_release, "track": context.track}
    application = data.get("application") if isinstance(data.get("application"), dict) else {}
    chart_writes["tier"] = str(application.get("tier") or "web") if isinstance(application, dict) else "web"
    if shape.shared_labels and isinstance(extra, dict):
        for key in WEB_SELECTOR_KEYS:
            if key in extra and extra[key] != chart_writes[key]:
                problems.append(
                    Problem(
                        values.locate(("extraLabels", key), key=True),
                        ("extraLabels", key),
                        f'extraLabels sets "{key}" to {extra[key]!r} on the web pods, but the web Deployment selects '
                        f'{key}={chart_writes[key]}: the API server rejects the Deployment ("selector does not '
                        'match template labels") and the deploy fails',
                        "use a label key of your own",
                    )
                )
    workers = data.get("workers")
    if shape.worker_labels and isinstance(workers, dict):
        for worker, config in workers.items():
            labels = config.get("labels") if isinstance(config, dict) else None
            if not isinstance(labels, dict):
                continue
            wanted = {"track": context.track, "tier": "worker", "release": context.helm_release}
            for key in WORKER_SELECTOR_KEYS:
                if key in labels and labels[key] != wanted[key]:
                    path = ("workers", worker, "labels", key)
                    problems.append(
                        Problem(
                            values.locate(path, key=True),
                            path,
                            f'the worker\'s labels set "{key}" to {labels[key]!r}, but its Deployment selects '
                            f"{key}={wanted[key]}: the API server rejects the Deployment and the deploy fails",
                            "use a label key of your own",
                        )
                    )
    return problems


def _check_rendered_entries(placed: list[Placed], values: ValuesFile) -> list[Problem]:
    """Check the customResources policies rendered from templates like the values (their values
    are known now), at the positions of their entries in the values file."""
    entries = dict(entries_of(values.data.get("customResources")))
    problems: list[Problem] = []
    for item in placed:
        if item.entry is None or item.how not in ("tpl", "helm") or item.entry not in entries:
            continue
        path = ("customResources", item.entry)
        view = ValuesFile(values.path, values.document, {"customResources": {item.entry: item.obj}})
        checker = _Checker(view, NEWEST_LITERAL)
        checker.custom_resource(item.obj, path)
        problems.extend(
            replace(problem, message=f"as rendered: {problem.message}")
            for problem in checker.problems
            if problem.severity is Severity.ERROR and _from_entry(problem, entries[item.entry])
        )
    return problems


def _from_entry(problem: Problem, entry: Any) -> bool:
    """Whether ``problem`` (found in a rendered object) concerns a part of the entry with templates."""
    node: Any = entry
    for element in problem.path[2:]:
        found, child = step(node, element)
        if not found:
            break
        node = child
    return "{{" in repr(node)


def _helm_fallback(context: DeployContext, choice: ShapeChoice, chart_values: dict[str, Any]) -> Any:
    def render(index: int | str, entry: Any) -> list[Any]:
        from .helm_engine import available_engines, render_entry

        if not available_engines():
            from .custom_resources import EntryProblem as Problem_

            raise Problem_(
                index,
                (),
                "uses template features the tool's model of Helm's tpl does not evaluate, and no Helm is "
                "available to render it: the tool will not guess what it renders",
                "install the helm CLI or helm-python-sdk (pip install 'autodeploy-netpol[helm]'), or render --chart",
                fails=False,
            )
        return render_entry(
            entry,
            chart_values,
            release=context.helm_release,
            namespace=context.namespace or "default",
            chart_version=choice.chart_version,
        )

    return render


def _check_unique_names(objects: list[dict[str, Any]], values: ValuesFile) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for obj in objects:
        metadata = obj.get("metadata") or {}
        key = (obj["kind"], str(metadata.get("namespace") or ""), str(metadata.get("name")))
        seen[key] = seen.get(key, 0) + 1
    clashes = sorted(f"{kind} {name}" for (kind, _, name), count in seen.items() if count > 1)
    if clashes:
        raise InputError(
            f"two policies would get the same object name: {', '.join(clashes)}",
            location=values.locate(("networkPolicy", "policies")),
            hint="names are cut to 63 characters; use shorter or more distinct policy names (and "
            "customResources entries need names of their own)",
        )
