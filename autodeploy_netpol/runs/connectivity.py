"""The connectivity use cases: ``connectivity``, ``diff``, ``explain`` and ``lint``.

Each reads its objects once — PATHs through the one manifest reader, or (given no PATH) the
cluster as one :class:`~..sources.live.LiveSnapshot` with the context the engine uses
(Namespaces, clusterwide Cilium policies, workloads, pods) — compiles them into a
:class:`~..policy.engine.Model` and returns typed results; the CLI renders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ..checks.audit import after_deploy
from ..checks.explain import PolicyExplanation, explain_model
from ..checks.lint import Finding, ScrapeTarget, lint_model
from ..desired.compute import DeployContext, compute_desired
from ..desired.located import located_objects
from ..desired.suggest import PROMETHEUS_PORT_ANNOTATION, ingress_class, metrics_port
from ..desired.values import ValuesPath, read_values
from ..errors import ExitCode, InputError, InputProblems, Location
from ..files import input_name
from ..kube.admission import (
    CLUSTER_SCOPED,
    AdmissionProblem,
    admission_problems,
    latest_objects,
)
from ..kube.labels import APP_LABEL
from ..kube.manifests import FixedOrigin, Manifest, PathElement
from ..kube.names import CONTROLLER_KINDS, ENGINE_KINDS, NAMESPACE, POD
from ..policy import Model, build_inventory
from ..policy.analysis import ConnectivityDiff, ConnectivityMap, analyse, diff_models
from ..records import replace  # records and dataclasses alike
from ..sources.cluster import ClusterAccess
from ..sources.collector import cycle_collector_paused
from ..sources.live import LiveScope
from ..sources.manifests import ManifestReader
from ..text import ascii_int
from .inputs import LiveInput, RunInputs
from .locating import located
from .platform import apply_detection, detect_in_objects, detect_live


@dataclass(frozen=True)
class ObjectSource:
    """Where a command reads its objects: PATHs, or without any the cluster (the policies of
    ``namespace``; ``None`` reads every namespace). With PATHs ``namespace`` is the namespace of
    the objects that name none (``None``: ``default``, said in a note)."""

    paths: tuple[str, ...] = ()
    namespace: str | None = None
    cluster: ClusterAccess = field(default_factory=ClusterAccess)


#: where objects without ``metadata.namespace`` go when no namespace is given (kubectl's default)
FALLBACK_NAMESPACE = "default"


@dataclass(frozen=True)
class LoadedModel:
    """The compiled model, the objects it came from (to locate findings) and the reading notes;
    ``warnings`` are what the API server would reject but was read anyway."""

    model: Model
    manifests: tuple[Manifest, ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    #: what the engine depends on and could not be read from the cluster (what, reason)
    unread: tuple[tuple[str, str], ...] = ()
    _by_id: dict[int, Manifest] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def has_namespaces(self) -> bool:
        """Whether Namespace objects were given (else namespace labels are unknown)."""
        return any(item.kind == NAMESPACE for item in self.manifests)

    def locate(self, body: Mapping[str, Any], path: Sequence[PathElement]) -> Location | None:
        """Where ``path`` inside ``body`` (a policy of the model) is in its source."""
        if not self._by_id:
            self._by_id.update((id(item.data), item) for item in self.manifests)
        manifest = self._by_id.get(id(body))
        return manifest.locate(path) if manifest is not None else None


def namespaceless(manifests: Sequence[Manifest]) -> list[Manifest]:
    """The namespaced objects the engine reads that name no namespace (policies, workloads, networks)."""
    return [
        item
        for item in manifests
        if item.namespace is None and item.kind not in CLUSTER_SCOPED and item.kind in ENGINE_KINDS
    ]


def load_model(
    source: ObjectSource, *, reader: ManifestReader | None = None, require_namespace: bool = False
) -> LoadedModel:
    """Read the objects of ``source`` once and compile them.

    PATHs are read one by one: within a PATH, what the API server would refuse (two objects of one
    kind with the same namespace and name, a Namespace twice, an invalid label) is an input error
    when the analysis depends on it (a kind the engine reads; a label key a selector reads) and a
    warning otherwise; an object given again in a later PATH replaces the earlier one, as
    ``kubectl apply`` of the files in turn would. ``require_namespace``: objects without a
    namespace are an error unless ``source.namespace`` places them (``diff``).
    """
    if not source.paths:
        with RunInputs(LiveInput(cluster=source.cluster)) as inputs:
            live = inputs.read_live(LiveScope(source.namespace, context=True, pods=True))
        unread = tuple((item.what, item.reason) for item in live.unread)
        read_notes = (*live.notes, *live.unread_notes())
        return LoadedModel(compile_model(live.manifests), live.manifests, read_notes, unread=unread)
    reader = reader or ManifestReader()
    groups: list[tuple[Manifest, ...]] = []
    notes: list[str] = []
    for path in source.paths:
        read = reader.read([path], what="manifest")
        groups.append(read.items)
        notes.extend(read.notes)
    namespace = source.namespace or FALLBACK_NAMESPACE
    problems = [problem for group in groups for problem in admission_problems(group, namespace)]
    items, replaced = latest_objects(groups, namespace)
    if replaced:
        notes.append(
            f"{replaced} object{'s' if replaced != 1 else ''} given again in a later PATH replace"
            f"{'s' if replaced == 1 else ''} the earlier one{'s' if replaced != 1 else ''} (as kubectl apply would)"
        )
    homeless = namespaceless(items)
    if homeless and source.namespace is None:
        if require_namespace:
            raise InputError(
                f"{len(homeless)} object{'s' if len(homeless) != 1 else ''} name no namespace "
                f"(first: {homeless[0].describe()} at {homeless[0].locate()}): which namespace they "
                "belong to decides what they select",
                location=homeless[0].locate(),
                hint="pass --namespace NS, the namespace the deploy uses (helm template and render print none)",
            )
        notes.append(
            f"{len(homeless)} object{'s' if len(homeless) != 1 else ''} without metadata.namespace analysed in "
            f"namespace {FALLBACK_NAMESPACE} (--namespace places them elsewhere)"
        )
    model = compile_model(items, namespace)
    errors, warnings = judge_admission(problems, model)
    if errors:
        raise InputProblems([*errors], what=", ".join(source.paths))
    return LoadedModel(model, tuple(items), tuple(notes), tuple(warnings))


def judge_admission(problems: Sequence[AdmissionProblem], model: Model) -> tuple[list[InputError], list[str]]:
    """(errors, warnings): a problem the analysis depends on is an error — a duplicate of a kind
    the engine reads, an invalid label whose key a selector reads — the others are warnings (the
    analysis is the same whichever way the API server would have settled them)."""
    read_keys = model.selector_keys()
    errors: list[InputError] = []
    warnings: list[str] = []
    for problem in problems:
        matters = (
            problem.label_key in read_keys if problem.label_key is not None else problem.kind in ENGINE_KINDS
        )
        if matters:
            errors.append(problem.error)
        else:
            why = (
                "no selector reads this label"
                if problem.label_key is not None
                else "the engine does not read this kind"
            )
            warnings.append(
                f"{problem.error.location}: {problem.error.message} (the API server rejects this; {why})"
            )
    return errors, warnings


def compile_model(manifests: Sequence[Manifest], default_namespace: str = FALLBACK_NAMESPACE) -> Model:
    """The model of ``manifests``; a policy the engine cannot understand is an
    :class:`InputError` at its file:line (:func:`~.locating.located`)."""
    inventory = build_inventory([item.data for item in manifests], default_namespace)
    with located(manifests):
        return Model.from_inventory(inventory, default_namespace=default_namespace)


@dataclass(frozen=True)
class ConnectivityRun:
    """Allowed connections, with the notes of reading and analysis."""

    connections: ConnectivityMap
    exit_code: int = ExitCode.OK
    #: objects the verdict depends on that could not be read (what, reason): a partial verdict
    unread: tuple[tuple[str, str], ...] = ()


def run_connectivity(source: ObjectSource) -> ConnectivityRun:
    """Every allowed connection between the workloads (and address ranges) of ``source``."""
    with cycle_collector_paused():  # thousands of manifests and compiled policies, no cycle
        loaded = load_model(source)
        result = analyse(loaded.model).merged()
    result.reading = [*loaded.notes]
    if not loaded.model.workloads:
        result.reading.append(
            "no workload in the input (Pod, Deployment, StatefulSet …): there is nothing to connect; "
            "give the workloads with the policies"
        )
    result.warnings = [*loaded.warnings, *result.warnings]
    return ConnectivityRun(result, unread=loaded.unread)


@dataclass(frozen=True)
class DiffRun:
    """Connections added and removed; exit 1 when connectivity changes."""

    diff: ConnectivityDiff
    exit_code: int


def run_diff(
    before: Sequence[str],
    after: Sequence[str],
    *,
    namespace: str | None = None,
    stdin: BinaryIO | None = None,
) -> DiffRun:
    """Compare the objects of ``before`` with those of ``after`` (``-`` is read once for both).

    Objects without a namespace (``render`` and ``helm template`` print none) need ``namespace``:
    without it the comparison is refused, since where they land decides what they select.
    """
    reader = ManifestReader(stdin)
    with cycle_collector_paused():  # thousands of manifests and compiled policies, no cycle
        old = load_model(ObjectSource(tuple(before), namespace), reader=reader, require_namespace=True)
        new = load_model(ObjectSource(tuple(after), namespace), reader=reader, require_namespace=True)
        if not old.model.workloads and not new.model.workloads:
            sides = f"before: {', '.join(map(input_name, before))}; after: {', '.join(map(input_name, after))}"
            raise InputError(
                f"neither side holds a workload (Pod, Deployment, StatefulSet …) ({sides}): with no pod "
                "to connect, no change could ever show, and 'no change' would mean nothing",
                hint="give the workloads on both sides, e.g. kubectl get ns,pods,deploy,sts,ds,netpol -A -o yaml "
                "> snapshot.yaml; diff --before snapshot.yaml --after snapshot.yaml rendered.yaml -n NS",
            )
        result = diff_models(old.model, new.model)
    for side in (result.added, result.removed):
        side.reading = sorted(set(old.notes) | set(new.notes))
        side.warnings = sorted({*old.warnings, *new.warnings, *side.warnings})
    return DiffRun(result, ExitCode.FINDINGS if result.changed else ExitCode.OK)


@dataclass(frozen=True)
class ExplainRun:
    """Each (selected) policy in plain words, and the reading notes."""

    explanations: tuple[PolicyExplanation, ...]
    notes: tuple[str, ...]
    exit_code: int = ExitCode.OK


def run_explain(source: ObjectSource, names: Sequence[str] = ()) -> ExplainRun:
    """Explain every policy, or those named ``[NS/]NAME`` in ``names``."""
    loaded = load_model(source)
    explanations = explain_model(loaded.model)
    if names:
        wanted = set(names)
        explanations = [
            e
            for e in explanations
            if e.policy in wanted or e.policy.split("/")[-1] in wanted or e.policy.split(":")[-1] in wanted
        ]
        if not explanations:
            raise InputError(
                f"no policy named {', '.join(names)} in the input", hint="names are NAME or NAMESPACE/NAME"
            )
    return ExplainRun(tuple(explanations), loaded.notes)


@dataclass(frozen=True)
class LocatedFinding:
    """A lint finding and where its policy (or the path inside it) is in the input."""

    finding: Finding
    location: Location | None


@dataclass(frozen=True)
class LintRun:
    """The findings, most severe first; exit 1 when any is an error or a warning."""

    findings: tuple[LocatedFinding, ...]
    notes: tuple[str, ...]
    exit_code: int


@dataclass(frozen=True)
class LintDesired:
    """Lint the policies the deploy will create from a values file (located at its lines), in
    place of the live ones they replace."""

    values: ValuesPath
    context: DeployContext


def run_lint(
    source: ObjectSource | None,
    *,
    ingress_namespace: str | None,
    desired: LintDesired | None = None,
    monitoring_namespace: str | None = None,
) -> LintRun:
    """Lint the policies of ``source`` (``ingress_namespace``: where the ingress controller runs;
    ``None`` detects it in the input, like ``monitoring_namespace``, else the default).

    With ``desired`` the model is the state after the deploy: the values file's objects plus the
    objects of ``source`` the deploy leaves alone; ``source`` ``None`` is no live state at all.
    """
    live_model: LoadedModel | None = None
    if source is None:
        manifests: tuple[Manifest, ...] = ()
        notes: tuple[str, ...] = ("no live state (--no-live): the policies of the values file alone",)
    else:
        live_model = load_model(source)
        manifests, notes = live_model.manifests, live_model.notes
    context = desired.context if desired is not None else DeployContext(release="")
    if ingress_namespace is not None:
        context = replace(context, ingress_namespace=ingress_namespace, ingress_source="--ingress-namespace")
    if monitoring_namespace is not None:
        context = replace(context, monitoring_namespace=monitoring_namespace, monitoring_source="set")
    if manifests and (context.ingress_detectable or context.monitoring_namespace is None):
        preferred = ingress_class(read_values(desired.values).data) if desired is not None else None
        if source is not None and not source.paths:
            # the cluster: its classes and the controllers' pods in every namespace, as drift reads them
            detection = detect_live(LiveInput(cluster=source.cluster), preferred_class=preferred)
        else:
            detection = detect_in_objects((item.data for item in manifests), preferred_class=preferred)
        context, detected_notes = apply_detection(context, detection)
        notes = (*notes, *detected_notes)
    elif context.ingress_detectable and source is not None:
        notes = (
            *notes,
            f"no ingress controller to detect: checked against namespace {context.ingress_namespace}",
        )
    targets = scrape_targets(item.data for item in manifests)
    if desired is not None:
        desired = replace(desired, context=context)
        manifests, desired_notes, desired_targets = _after_deploy(manifests, desired)
        notes = (*notes, *desired_notes)
        targets = [*targets, *desired_targets]
    if live_model is not None and desired is None:
        loaded = replace(live_model, notes=notes)  # the model of the input as read
    else:
        loaded = LoadedModel(compile_model(manifests), manifests, notes)
    findings = lint_model(
        loaded.model,
        ingress_namespace=context.ingress_namespace,
        namespaces_known=loaded.has_namespaces,
        monitoring_namespace=context.monitoring_namespace,
        scrape_targets=targets,
    )
    policies = loaded.model.policies
    located = tuple(
        LocatedFinding(
            finding,
            loaded.locate(policies[finding.policy_index].manifest, finding.path)
            if finding.policy_index >= 0
            else None,
        )
        for finding in findings
    )
    code = ExitCode.FINDINGS if any(finding.fails for finding in findings) else ExitCode.OK
    return LintRun(located, loaded.notes, code)


#: Pod annotations Prometheus' Kubernetes service discovery configurations go by.
_SCRAPE_ANNOTATION = "prometheus.io/scrape"


def scrape_targets(objects: Iterable[Mapping[str, Any]]) -> list[ScrapeTarget]:
    """Pods (and controllers' pod templates) annotated ``prometheus.io/scrape: "true"`` with a
    ``prometheus.io/port``: what a scraper reaches, by the labels of those pods."""
    targets = []
    for obj in objects:
        kind = obj.get("kind")
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
        assert isinstance(metadata, Mapping)
        if kind == POD:
            pod_metadata: Any = metadata
        elif kind in CONTROLLER_KINDS:
            spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
            assert isinstance(spec, Mapping)
            template = spec.get("template")
            pod_metadata = template.get("metadata") if isinstance(template, Mapping) else None
        else:
            continue
        if not isinstance(pod_metadata, Mapping):
            continue
        annotations = pod_metadata.get("annotations")
        labels = pod_metadata.get("labels")
        if not isinstance(annotations, Mapping) or not isinstance(labels, Mapping) or not labels:
            continue
        port = str(annotations.get(PROMETHEUS_PORT_ANNOTATION) or "").strip()
        number = ascii_int(port)
        if str(annotations.get(_SCRAPE_ANNOTATION)).lower() != "true" or number is None:
            continue
        if not 0 < number < 65536:
            continue
        targets.append(
            ScrapeTarget(
                str(metadata.get("namespace") or ""),
                tuple(sorted((str(k), str(v)) for k, v in labels.items())),
                int(port),
                f"annotated {_SCRAPE_ANNOTATION}, port {port}",
            )
        )
    return targets


def _after_deploy(
    live: tuple[Manifest, ...], desired: LintDesired
) -> tuple[tuple[Manifest, ...], tuple[str, ...], list[ScrapeTarget]]:
    """The manifests after the deploy: the values file's objects (located in it) replace the live
    ones they name, and the release's other live policies go, as Helm does. And the app's web
    pods as a scrape target when the values expose a metrics port."""
    context = desired.context
    namespace = context.namespace or "default"
    values_file = read_values(desired.values)
    computed = compute_desired(values_file, context)
    notes = [*(str(warning) for warning in computed.warnings), *computed.notes]
    port = metrics_port(values_file.data)
    targets = (
        [ScrapeTarget(namespace, ((APP_LABEL, context.app),), port[0], f"values: {port[1]}")]
        if port is not None
        else []
    )
    located = located_objects(computed.objects, values_file, helm_release=context.helm_release)
    planned = after_deploy(
        [item.data for item in located],
        [item.data for item in live],
        namespace=namespace,
        helm_release=context.helm_release,
    )
    placed = planned.objects
    notes += planned.notes
    kept_data, desired_data = placed[: len(placed) - len(located)], placed[len(placed) - len(located) :]
    kept: list[Manifest] = []
    position = 0
    for item in live:  # after_deploy keeps live objects in order, as copies
        if position < len(kept_data) and kept_data[position] == item.data:
            kept.append(item)
            position += 1
    after = [*kept, *(replace(item, data=data) for item, data in zip(located, desired_data, strict=True))]
    if not any(item.kind in CONTROLLER_KINDS or item.kind == POD for item in after):
        for workload in computed.workloads:
            placed_workload = {**workload, "metadata": {**workload["metadata"], "namespace": namespace}}
            after.append(
                Manifest(
                    str(workload["kind"]),
                    placed_workload,
                    FixedOrigin(Location("(modelled from the chart's labels)")),
                )
            )
        notes.append(
            "no workload in the input: the release's web and worker pods are modelled from the chart's labels"
        )
    if not values_file.exists:
        notes.append(f"{values_file.path}: not found: the deploy creates no policy from it")
    return tuple(after), tuple(notes), targets
