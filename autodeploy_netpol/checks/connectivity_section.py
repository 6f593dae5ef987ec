"""The connectivity section of a drift report: live vs after-the-deploy, in who can reach whom.

Textual drift says which fields differ; this says which connections the deploy opens or
closes. Each drifted object is also judged on its own: applying only that object's change
either changes connectivity or not — when not, its drift is *cosmetic* (it changes no
connection between the workloads of the input).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..kube.names import WORKLOAD_KINDS
from ..policy.analysis import analyse, diff_models
from ..policy.engine import Model
from ..policy.policies import CiliumEndpointPeer, PodPeer
from ..policy.selectors import CILIUM_NAMESPACE_KEY, CILIUM_NAMESPACE_LABELS_PREFIX, EXISTS, IN, Selector

#: Judging every drifted object on its own costs one analysis each; beyond this many, only
#: the whole change is analysed.
MAX_JUDGED_OBJECTS = 25

Identity = tuple[str, str, str]  # kind, namespace, name


def _identity(obj: Mapping[str, Any], default_namespace: str) -> Identity:
    metadata = obj.get("metadata") or {}
    return (
        str(obj.get("kind", "")),
        str(metadata.get("namespace") or default_namespace),
        str(metadata.get("name", "")),
    )


def _label(identity: Identity) -> str:
    kind, namespace, name = identity
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _apply(
    live: Sequence[Mapping[str, Any]], changes: Mapping[Identity, Mapping[str, Any] | None], namespace: str
) -> list[Mapping[str, Any]]:
    """``live`` with the objects of ``changes`` replaced (or added); ``None`` deletes."""
    out: list[Mapping[str, Any]] = []
    for obj in live:
        identity = _identity(obj, namespace)
        if identity not in changes:
            out.append(obj)
    for identity, change in changes.items():
        if change is not None:
            metadata = dict(change.get("metadata") or {})
            metadata.setdefault("namespace", identity[1])
            out.append({**change, "metadata": metadata})
    return out


def _satisfying(selector: Selector) -> dict[str, str] | None:
    """Labels a selector matches (``None`` when its requirements contradict each other)."""
    labels: dict[str, str] = {}
    for requirement in selector.requirements:
        if requirement.operator == IN and requirement.key not in labels:
            labels[requirement.key] = requirement.values[0]
        elif requirement.operator == EXISTS and requirement.key not in labels:
            labels[requirement.key] = "any"
    return labels if selector.matches(labels) else None


def stand_in_pods(objects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One pod for each pod selector of the policies, labelled so that the selector matches it.

    Connectivity is judged between workloads; when the live state lacks the pods a policy
    talks about (a snapshot of policies only, another namespace), these stand in for them so
    a change to that rule still shows. A stand-in is named ``[labels]`` after its labels.
    """
    model = Model.from_objects(objects)
    namespaces = dict(model.namespaces)
    wanted: dict[tuple[str, tuple[tuple[str, str], ...]], Selector] = {}
    extra_namespaces: dict[str, dict[str, str]] = {}

    def namespace_for(selector: Selector | None, fixed: str | None) -> str | None:
        if fixed is not None:
            return fixed
        for name, known in sorted(namespaces.items()):
            if selector is None or selector.matches(known):
                return name
        labels = _satisfying(selector) if selector is not None else {}
        if labels is None:
            return None
        name = labels.get("kubernetes.io/metadata.name") or "ns-" + "-".join(
            f"{k}-{v}" for k, v in sorted(labels.items())
        )
        extra_namespaces[name] = labels
        return name

    for policy in model.policies:
        selectors: list[tuple[Selector, str | None, Selector | None, bool]] = [
            (policy.subject, policy.namespace or None, None, policy.cilium)
        ]
        for rule in policy.rules:
            for peer in rule.peers or ():
                if isinstance(peer, PodPeer):
                    selectors.append((peer.pod_selector, peer.namespace, peer.namespace_selector, False))
                elif isinstance(peer, CiliumEndpointPeer):
                    selectors.append((peer.selector, None, None, True))
        for selector, fixed, namespace_selector, cilium in selectors:
            if cilium:
                pod = Selector(
                    tuple(r for r in selector.requirements if not r.key.startswith(("io.", "reserved:")))
                )
                ns_reqs = [
                    r for r in selector.requirements if r.key.startswith(CILIUM_NAMESPACE_LABELS_PREFIX)
                ]
                named = [
                    r for r in selector.requirements if r.key == CILIUM_NAMESPACE_KEY and r.operator == IN
                ]
                fixed = named[0].values[0] if named else fixed
                namespace_selector = Selector(
                    tuple(
                        type(r)(r.key.removeprefix(CILIUM_NAMESPACE_LABELS_PREFIX), r.operator, r.values)
                        for r in ns_reqs
                    )
                )
                selector = pod
            labels = _satisfying(selector)
            namespace = namespace_for(namespace_selector, fixed)
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
        name = "[" + ",".join(f"{k}={v}" for k, v in pod_labels) + "]" if pod_labels else "[any pod]"
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": pod_namespace, "labels": dict(pod_labels)},
            }
        )
    return pods


def has_workloads(objects: Iterable[Mapping[str, Any]]) -> bool:
    return any(obj.get("kind") in WORKLOAD_KINDS for obj in objects)


def connectivity_section(
    live: Sequence[Mapping[str, Any]],
    desired: Sequence[Mapping[str, Any]],
    drifted: Sequence[tuple[str, str, str, str]],
    *,
    namespace: str,
    allowed_into: str | None = None,
) -> dict[str, Any]:
    """The JSON-ready section.

    ``live``: every live object (policies, Namespaces, workloads); ``desired``: the objects the
    deploy creates; ``drifted``: ``(kind, namespace, name, change)`` of the drift entries, where
    change ``unexpected`` means the deploy deletes the live object. ``allowed_into`` (a workload
    as the analysis names it, ``namespace/name``) adds ``allowed``: every connection into it after
    the deploy - what the policies allow, for a run that has no live state to compare with.
    """
    # pods standing in for every selector of both sides, so a rule about pods the live state
    # does not list still shows when it changes
    # (the desired objects carry no namespace: Helm puts them in the deploy's, as _apply does)
    placed = [{**obj, "metadata": {"namespace": namespace, **(obj.get("metadata") or {})}} for obj in desired]
    live = [*live, *stand_in_pods([*live, *placed])]
    desired_by_id = {_identity(obj, namespace): obj for obj in desired}
    changes: dict[Identity, Mapping[str, Any] | None] = {}
    for kind, entry_namespace, name, change in drifted:
        identity = (kind, entry_namespace or namespace, name)
        changes[identity] = None if change == "unexpected" else desired_by_id.get(identity)
    before = Model.from_objects(live)
    after = Model.from_objects(_apply(live, changes, namespace))
    diff = diff_models(before, after)
    changing: list[str] = []
    cosmetic: list[str] = []
    judged = True
    if not diff.changed:
        cosmetic = [_label(identity) for identity in changes]
    elif len(changes) == 1:
        changing = [_label(identity) for identity in changes]
    elif len(changes) <= MAX_JUDGED_OBJECTS:
        for identity, obj in changes.items():
            alone = Model.from_objects(_apply(live, {identity: obj}, namespace))
            (changing if diff_models(before, alone).changed else cosmetic).append(_label(identity))
    else:
        judged = False
    notes = sorted(set(before.notes()) | set(after.notes()))
    notes.insert(
        0,
        "pods named [labels] stand in for the pods a policy selector names, where the live state lists none",
    )
    section: dict[str, Any] = {
        "verdict": "changes" if diff.changed else "unchanged",
        "added": [record.as_dict() for record in diff.added.connections()],
        "removed": [record.as_dict() for record in diff.removed.connections()],
        "changingObjects": changing,
        "cosmeticObjects": cosmetic,
        "judgedPerObject": judged,
        "workloads": len(after.workloads),
        "notes": notes,
    }
    if allowed_into is not None:
        section["allowed"] = [
            record.as_dict() for record in analyse(after).merged().connections() if record.dst == allowed_into
        ]
    return section
