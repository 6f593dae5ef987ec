"""The connectivity section of a drift report: live vs after-the-deploy, in who can reach whom.

Textual drift says which fields differ; this says which connections the deploy opens or
closes, in the notation of ``connectivity``. Its endpoints are the live state's workloads; where
a policy names pods the live state does not list (a snapshot of policies only, a namespace
that is not there), hypothetical pods stand in for them, named ``(hypothetical) <labels>`` so
that no reader takes them for real ones. Each drifted object is also judged on its own: applying
only that object's change either changes a connection between these endpoints or not. An object
that changes none is said to be so — never "cosmetic": drift is cosmetic only when normalisation
removes it (a change in what a policy allows stays a change, whether or not a pod is there to
feel it now).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from ..kube.defaults import CILIUM_NAMESPACE_LABEL, CILIUM_NAMESPACE_LABELS_PREFIX, NAMESPACE_NAME_LABEL
from ..kube.names import CLUSTER_SCOPED_POLICY_KINDS, TIERED_POLICY_KINDS, WORKLOAD_KINDS
from ..policy.analysis import Baseline, analyse, diff_models, same_pods
from ..policy.engine import Model
from ..policy.policies import CiliumEndpointPeer, PodPeer, PolicyCompiler, PolicyError, is_compiled
from ..policy.selectors import IN, Selector
from ..policy.witnesses import satisfying_labels
from ..sources.yamlio import format_path

#: Kinds without a namespace: a release's cluster-wide policies and every cluster-scoped tier.
CLUSTER_SCOPED = (*CLUSTER_SCOPED_POLICY_KINDS, *TIERED_POLICY_KINDS)

#: Judging every drifted object on its own costs one analysis each; beyond this many, only
#: the whole change is analysed.
MAX_JUDGED_OBJECTS = 25

Identity = tuple[str, str, str]  # kind, namespace, name


class ConnectivitySection(TypedDict, total=False):
    """The drift report's ``connectivity`` member; ``not-analysed`` carries only verdict and notes."""

    verdict: str  # changes, unchanged or not-analysed
    added: list[dict[str, str]]  # connections the deploy opens (schemas/connectivity.schema.json)
    removed: list[dict[str, str]]  # connections it closes
    addedPairs: list[dict[str, str]]  # the same per pair: src, dst, allowed ("TCP 8080, UDP 53")
    removedPairs: list[dict[str, str]]
    changingObjects: list[str]  # drifted objects that change connectivity on their own
    unchangingObjects: list[str]  # drifted objects that change no connection (never "cosmetic")
    judgedPerObject: bool
    workloads: int  # real workloads of the live state (hypothetical endpoints not counted)
    hypothetical: list[str]  # endpoints shown that stand for pods the live state does not list
    notes: list[str]
    allowed: list[dict[str, str]]  # with allowed_into: every connection into that workload
    #: objects the verdict depends on could not be read (RBAC): the verdict covers what was read
    partial: bool
    unread: list[dict[str, str]]  # what was not read and the API server's reason


def _identity(obj: Mapping[str, Any], default_namespace: str) -> Identity:
    metadata = obj.get("metadata") or {}
    kind = str(obj.get("kind", ""))
    scope = "" if kind in CLUSTER_SCOPED else str(metadata.get("namespace") or default_namespace)
    return (kind, scope, str(metadata.get("name", "")))


def _label(identity: Identity) -> str:
    kind, namespace, name = identity
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _with_namespace(change: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    metadata = dict(change.get("metadata") or {})
    if namespace:  # "" for a cluster-scoped object
        metadata.setdefault("namespace", namespace)
    return {**change, "metadata": metadata}


def _apply(
    live: Sequence[Mapping[str, Any]], changes: Mapping[Identity, Mapping[str, Any] | None], namespace: str
) -> list[Mapping[str, Any]]:
    """``live`` with the objects of ``changes`` replaced (or added); ``None`` deletes.

    ``changes`` hold the objects as they are to be added (namespace set, see :func:`_with_namespace`).
    """
    out = [obj for obj in live if _identity(obj, namespace) not in changes]
    out.extend(change for change in changes.values() if change is not None)
    return out


#: How hypothetical endpoints are named (a pod, or a namespace no Namespace object gives).
HYPOTHETICAL = "(hypothetical)"


def hypothetical_name(labels: Mapping[str, str]) -> str:
    """``(hypothetical) app=web,tier=x``, or ``(hypothetical) any pod`` without labels."""
    text = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return f"{HYPOTHETICAL} {text or 'any pod'}"


def stand_in_pods(
    objects: Sequence[Mapping[str, Any]], compiler: PolicyCompiler | None = None
) -> list[dict[str, Any]]:
    """One hypothetical pod for each pod selector of the policies that no real workload
    satisfies, labelled so that the selector matches it.

    Connectivity is judged between workloads; when the live state lacks the pods a policy
    talks about (a snapshot of policies only, another namespace), these stand in for them so
    a change to that rule still shows. A stand-in is named ``(hypothetical) <labels>`` (see
    :func:`hypothetical_name`); a namespace a selector needs and no known namespace satisfies
    is ``(hypothetical) <labels>`` too. A selector for every namespace is given a pod in the
    policy's own namespace (or the first known one), never an invented namespace.
    """
    model = Model.from_objects(objects, compiler)
    namespaces = dict(model.namespaces)
    wanted: dict[tuple[str, tuple[tuple[str, str], ...]], Selector] = {}
    extra_namespaces: dict[str, dict[str, str]] = {}

    def namespace_for(selector: Selector | None, fixed: str | None, home: str) -> str | None:
        if fixed is not None:
            return fixed
        if (selector is None or selector.selects_all) and home:
            return home
        for name, known in sorted(namespaces.items()):
            if selector is None or selector.matches(known):
                return name
        labels = satisfying_labels(selector.requirements) if selector is not None else {}
        if labels is None:
            return None
        name = labels.get(NAMESPACE_NAME_LABEL) or hypothetical_name(labels)
        extra_namespaces[name] = labels
        return name

    seen: set[tuple[Selector, str | None, Selector | None, bool, str]] = set()
    for policy in model.policies:
        home = policy.namespace
        selectors: list[tuple[Selector, str | None, Selector | None, bool, str]] = [
            (policy.subject, policy.namespace or None, policy.subject_namespaces, policy.cilium, home)
        ]
        for rule in policy.all_rules:
            for peer in rule.peers or ():
                if isinstance(peer, PodPeer):
                    selectors.append(
                        (peer.pod_selector, peer.namespace, peer.namespace_selector, False, home)
                    )
                elif isinstance(peer, CiliumEndpointPeer):
                    selectors.append((peer.selector, None, None, True, home))
        for entry in selectors:
            if entry in seen:
                continue  # thousands of policies repeat a few selectors
            seen.add(entry)
            selector, fixed, namespace_selector, cilium, home = entry
            if cilium:
                pod = Selector(
                    tuple(r for r in selector.requirements if not r.key.startswith(("io.", "reserved:")))
                )
                ns_reqs = [
                    r for r in selector.requirements if r.key.startswith(CILIUM_NAMESPACE_LABELS_PREFIX)
                ]
                named = [
                    r for r in selector.requirements if r.key == CILIUM_NAMESPACE_LABEL and r.operator == IN
                ]
                fixed = named[0].values[0] if named else fixed
                namespace_selector = Selector(
                    tuple(
                        type(r)(r.key.removeprefix(CILIUM_NAMESPACE_LABELS_PREFIX), r.operator, r.values)
                        for r in ns_reqs
                    )
                )
                selector = pod
            labels = satisfying_labels(selector.requirements)
            namespace = namespace_for(namespace_selector, fixed, home)
            if labels is None or namespace is None:
                continue
            wanted.setdefault((namespace, tuple(sorted(labels.items()))), selector)
    pods: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        for name, labels in extra_namespaces.items()
    ]
    for (pod_namespace, pod_labels), selector in wanted.items():
        if any(w.namespace == pod_namespace and selector.matches(w.label_map) for w in model.workloads):
            continue  # a real workload already stands for this selector
        name = hypothetical_name(dict(pod_labels))
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": pod_namespace, "labels": dict(pod_labels)},
            }
        )
    return pods


def _usable(
    objects: Iterable[Mapping[str, Any]],
    compiler: PolicyCompiler,
    namespace: str,
    side: str,
    notes: list[str],
) -> list[Mapping[str, Any]]:
    """``objects`` without the policies the engine cannot compile (an invalid ipBlock CIDR in a
    hand-edited snapshot or a CRD the API server validated loosely), each said in ``notes``: one
    unusable policy leaves the section to the others instead of losing the whole report."""
    out: list[Mapping[str, Any]] = []
    for obj in objects:
        if is_compiled(obj):
            try:
                compiler(obj)
            except PolicyError as error:
                where = f" at {format_path(error.path)}" if error.path else ""
                notes.append(
                    f"{_label(_identity(obj, namespace))} ({side}) is left out: it cannot be modelled "
                    f"({error.message}{where}); connections of the pods it selects may differ from those shown"
                )
                continue
        out.append(obj)
    return out


def has_workloads(objects: Iterable[Mapping[str, Any]]) -> bool:
    return any(obj.get("kind") in WORKLOAD_KINDS for obj in objects)


def connectivity_section(
    live: Sequence[Mapping[str, Any]],
    desired: Sequence[Mapping[str, Any]],
    drifted: Sequence[tuple[str, str, str, str]],
    *,
    namespace: str,
    allowed_into: str | None = None,
) -> ConnectivitySection:
    """The JSON-ready section.

    ``live``: every live object (policies, Namespaces, workloads); ``desired``: the objects the
    deploy creates; ``drifted``: ``(kind, namespace, name, change)`` of the drift entries, where
    change ``unexpected`` means the deploy deletes the live object. ``allowed_into`` (a workload
    as the analysis names it, ``namespace/name``) adds ``allowed``: every connection into it after
    the deploy - what the policies allow, for a run that has no live state to compare with.
    """
    # Every manifest is compiled once, whichever models it is part of.
    compiler = PolicyCompiler()
    unusable: list[str] = []
    live = _usable(live, compiler, namespace, "live", unusable)
    desired = _usable(desired, compiler, namespace, "desired", unusable)
    desired_by_id = {_identity(obj, namespace): obj for obj in desired}
    changes: dict[Identity, Mapping[str, Any] | None] = {}
    for kind, entry_namespace, name, change in drifted:
        identity = (kind, "" if kind in CLUSTER_SCOPED else entry_namespace or namespace, name)
        wanted = None if change == "unexpected" else desired_by_id.get(identity)
        changes[identity] = None if wanted is None else _with_namespace(wanted, identity[1])
    # Pods standing in for every selector of both sides, so a rule about pods the live state does
    # not list still shows when it changes. Desired objects the deploy does not change mean what
    # their live versions mean (drift found no difference), so the live ones speak for them.
    live = [*live, *stand_in_pods([*live, *(c for c in changes.values() if c is not None)], compiler)]
    before = Model.from_objects(live, compiler)
    after = Model.from_objects(_apply(live, changes, namespace), compiler)
    if same_pods(before, after):
        baseline = Baseline(before, other_policies=after.policies)
        diff = baseline.diff(after)
    else:
        baseline, diff = None, diff_models(before, after)
    changing: list[str] = []
    unchanging: list[str] = []
    judged = True
    if not diff.changed:
        unchanging = [_label(identity) for identity in changes]
    elif len(changes) == 1:
        changing = [_label(identity) for identity in changes]
    elif len(changes) <= MAX_JUDGED_OBJECTS:
        live_policies = {_identity(obj, namespace): obj for obj in live if is_compiled(obj)}
        for identity, obj in changes.items():
            if baseline is not None:
                old = live_policies.get(identity)
                changed = baseline.changes(
                    compiler(old) if old is not None else [], compiler(obj) if obj is not None else []
                )
            else:
                alone = Model.from_objects(_apply(live, {identity: obj}, namespace), compiler)
                changed = diff_models(before, alone).changed
            (changing if changed else unchanging).append(_label(identity))
    else:
        judged = False
    added_pairs, removed_pairs = diff.added.lines(), diff.removed.lines()
    stand_ins = {
        w.qualified_name
        for w in after.workloads
        if w.name.startswith(HYPOTHETICAL) or w.namespace.startswith(HYPOTHETICAL)
    }
    # the hypothetical endpoints the section shows (those no change involves are not mentioned)
    hypothetical = sorted(
        {
            end
            for src, dst, _ in (*added_pairs, *removed_pairs)
            for end in (src, dst)
            if end in stand_ins or end.startswith(HYPOTHETICAL) or f"/{HYPOTHETICAL}" in end
        }
    )
    notes = [*unusable, *sorted(set(before.notes()) | set(after.notes()))]
    if hypothetical:
        notes.insert(
            0,
            (
                f"1 endpoint named {HYPOTHETICAL} stands"
                if len(hypothetical) == 1
                else f"{len(hypothetical)} endpoints named {HYPOTHETICAL} stand"
            )
            + " for pods a policy selector names where the live state lists none: "
            "what the policies would do to such pods, not pods that exist",
        )
    real = [w for w in after.workloads if w.qualified_name not in stand_ins]
    section: ConnectivitySection = {
        "verdict": "changes" if diff.changed else "unchanged",
        "added": [record.as_dict() for record in diff.added.connections()],
        "removed": [record.as_dict() for record in diff.removed.connections()],
        # one line per pair, in the notation of ``connectivity`` (what the reports show)
        "addedPairs": [{"src": s, "dst": d, "allowed": a} for s, d, a in added_pairs],
        "removedPairs": [{"src": s, "dst": d, "allowed": a} for s, d, a in removed_pairs],
        "changingObjects": changing,
        "unchangingObjects": unchanging,
        "judgedPerObject": judged,
        "workloads": len({w.qualified_name for w in real}),
        "hypothetical": hypothetical,
        "notes": notes,
    }
    if allowed_into is not None:
        section["allowed"] = [
            record.as_dict() for record in analyse(after).merged().connections() if record.dst == allowed_into
        ]
    return section
