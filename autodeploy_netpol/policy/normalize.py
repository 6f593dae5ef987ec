"""Normalize policy manifests so that only differences of meaning remain (pure).

Both sides of a drift comparison go through :func:`normalize_policy`: the objects the deploy
will create (written by people, rendered by Helm) and the objects the API server serves back.
The server fills in defaults and drops what it does not store, and people write the same
policy in several equivalent ways. Each rewrite made here is one the API server makes, or one
that provably leaves the policy's meaning unchanged; each is recorded as a
:class:`Normalization` so verbose output can say why two texts that differ are "cosmetic".

What is rewritten (and what deliberately is not; the defaults themselves are written once, in
``kube/defaults.py``, which the engine's compiler reads too):

* NetworkPolicy (``networking.k8s.io/v1``), as the API server defaults and stores it:

  - ``policyTypes`` is set only when empty: ``[Ingress]``, plus ``Egress`` when there are egress
    rules (an ``egress: []`` adds nothing);
  - a port without ``protocol`` is ``TCP``;
  - empty lists and maps are not stored (the Go types are ``omitempty``), so ``ingress: []`` is
    the same as no ``ingress`` and ``{matchLabels: {}}`` is the same selector as ``{}``; a
    missing ``podSelector`` is served as ``{}``; ``null`` is the same as absent;
  - ``[{}]`` is NOT ``[]``: one empty rule allows everything, no rule allows nothing. A missing
    ``namespaceSelector`` in a peer (this namespace) is NOT ``{}`` (every namespace).

* CiliumNetworkPolicy (``cilium.io/v2``, a custom resource stored as written):

  - a port without ``protocol`` means ``ANY`` - never ``TCP``;
  - ports are strings (``80`` and ``"80"`` are the same port);
  - ``{matchLabels: {}}`` and ``{}`` are the same (empty) selector; ``null`` is the same as absent;
  - a label key without a source means ``any:`` (``any:app`` is ``app``; ``k8s:app`` is not);
  - absent, ``[]`` and ``[{}]`` all differ (``ingress: [{}]`` turns on default deny and allows
    nothing; no ``ingress`` leaves ingress alone), so lists are kept as written.

* Both kinds:

  - every list inside ``spec`` is a set (rules, peers, ports, ``except``, ``policyTypes``,
    selector requirements and their values...): order and repeats carry no meaning. Lists keep
    their written order here (so reports can point at the index a person wrote); the
    comparison uses :func:`canonical`, which ignores order and repeats;
  - a ``matchExpressions`` requirement ``In`` with a single value is the label ``matchLabels``
    entry it spells out;
  - metadata is reduced to what a deploy sets - name, namespace, labels and annotations -
    dropping what the server manages (uid, resourceVersion, generation, creationTimestamp,
    managedFields, selfLink, status...), kubectl's last-applied annotation and Helm's
    release bookkeeping annotations (ownership evidence, not content).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ..kube.defaults import (
    CILIUM_DEFAULT_SOURCE,
    CILIUM_PROTOCOL,
    NETWORK_POLICY_PROTOCOL,
    default_policy_types,
)
from ..kube.labels import HELM_NAMESPACE_ANNOTATION, HELM_RELEASE_ANNOTATION, LAST_APPLIED_ANNOTATION
from ..kube.names import (
    CILIUM_POLICY_KINDS,
    CLUSTER_SCOPED_POLICY_KINDS,
    NETWORK_POLICY,
)
from ..sources.yamlio import PathElement, format_path

#: Annotations that tools write for their own bookkeeping: never content, never drift.
BOOKKEEPING_ANNOTATIONS = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        HELM_RELEASE_ANNOTATION,
        HELM_NAMESPACE_ANNOTATION,
    }
)

#: Metadata fields the API server manages; listed for the documentation and the tests -
#: normalization keeps only name, namespace, labels and annotations anyway.
SERVER_MANAGED_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "ownerReferences",
    "finalizers",
)

# The same few paths repeat across thousands of policies.
_format_path = lru_cache(maxsize=8192)(format_path)

_SELECTOR_KEYS = frozenset({"podSelector", "namespaceSelector", "endpointSelector", "nodeSelector"})
# Cilium rule fields that hold lists of endpoint selectors.
_CILIUM_SELECTOR_LISTS = frozenset(
    {"fromEndpoints", "toEndpoints", "fromRequires", "toRequires", "fromNodes", "toNodes"}
)


class Normalization(NamedTuple):
    """One rewrite applied to a manifest: where, and why it does not change the meaning.

    A named tuple rather than a frozen dataclass: there is one per default filled in, and
    big comparisons make hundreds of thousands of them.
    """

    where: tuple[PathElement, ...]
    reason: str

    @property
    def path(self) -> str:
        """``spec.ingress[0].ports[0].protocol`` (formatted only when shown)."""
        return _format_path(self.where)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class NormalizedPolicy:
    """A policy reduced to what the comparison looks at.

    ``spec`` is normalized (defaults filled in, equivalent spellings unified, written order
    kept); ``raw_spec`` is the spec as given, so that "equal after normalization but written
    differently" can be reported as cosmetic.
    """

    kind: str
    namespace: str | None
    name: str
    labels: dict[str, Any]
    annotations: dict[str, Any]
    spec: dict[str, Any]
    raw_spec: Any
    raw_labels: dict[str, Any]
    raw_annotations: dict[str, Any]
    normalizations: tuple[Normalization, ...] = ()
    manifest: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity of the object: (namespace, kind, name)."""
        return (self.namespace or "", self.kind, self.name)


def canonical(value: Any) -> Hashable:
    """A hashable form of a normalized spec value that ignores list order and repeats.

    Every list in a policy spec is a set, so lists become frozensets; scalars keep their
    type (``80`` and ``"80"`` differ, as do ``true`` and ``1``).
    """
    kind = type(value)
    if kind is dict:
        return frozenset([(key, canonical(item)) for key, item in value.items()])
    if kind is list or kind is tuple:
        return ("list", frozenset([canonical(item) for item in value]))
    return (kind, value)


def normalize_policy(manifest: Mapping[str, Any], *, namespace: str | None = None) -> NormalizedPolicy:
    """Normalize one NetworkPolicy or CiliumNetworkPolicy manifest.

    ``namespace`` is used when the manifest has none (rendered objects: Helm's ``--namespace``
    decides). Input of unexpected shape is kept as it is, so that the comparison reports it
    rather than this function guessing.
    """
    kind = str(manifest.get("kind", ""))
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    raw_labels = _string_map(metadata.get("labels"))
    raw_annotations = _string_map(metadata.get("annotations"))
    annotations = {k: v for k, v in raw_annotations.items() if k not in BOOKKEEPING_ANNOTATIONS}
    raw_spec = manifest.get("spec")
    notes: list[Normalization] = []
    cilium = kind in CILIUM_POLICY_KINDS
    if cilium:
        spec = _normalize_cilium_policy(manifest, notes)
    elif kind == NETWORK_POLICY:
        spec = _normalize_network_policy(raw_spec, notes)
    else:
        spec = {"spec": raw_spec} if raw_spec is not None else {}
    if kind in CLUSTER_SCOPED_POLICY_KINDS:
        namespace = None  # cluster-scoped: a namespace in the manifest means nothing
        metadata = {key: value for key, value in metadata.items() if key != "namespace"}
    return NormalizedPolicy(
        kind=kind,
        namespace=str(metadata.get("namespace") or namespace or "") or None,
        name=str(metadata.get("name", "")),
        labels=raw_labels,
        annotations=annotations,
        spec=spec,
        raw_spec=written_spec(manifest),
        raw_labels=raw_labels,
        raw_annotations=raw_annotations,
        normalizations=tuple(notes),
        manifest=manifest,
    )


def _string_map(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


# --- NetworkPolicy -----------------------------------------------------------------------------


def _normalize_network_policy(spec: Any, notes: list[Normalization]) -> dict[str, Any]:
    path: tuple[PathElement, ...] = ("spec",)
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return {"spec": spec}
    out = _drop_empty(spec, path, notes, keep=("podSelector",))
    if "podSelector" not in out:
        if "podSelector" not in spec:
            notes.append(Normalization(("spec", "podSelector"), "absent is served as {} (selects every pod)"))
        out["podSelector"] = {}
    for key, value in list(out.items()):
        if key in _SELECTOR_KEYS:
            out[key] = _selector(value, (*path, key), notes)
        elif key in ("ingress", "egress") and isinstance(value, list):
            peers_key = "from" if key == "ingress" else "to"
            out[key] = [
                _network_policy_rule(rule, (*path, key, index), peers_key, notes)
                for index, rule in enumerate(value)
            ]
    if not out.get("policyTypes"):
        types = default_policy_types(out.get("egress"))
        out["policyTypes"] = types
        notes.append(
            Normalization(
                ("spec", "policyTypes"),
                f"not set: the API server sets {types} (Ingress, plus Egress when there are egress rules)",
            )
        )
    return out


def _network_policy_rule(
    rule: Any, path: tuple[PathElement, ...], peers_key: str, notes: list[Normalization]
) -> Any:
    if not isinstance(rule, dict):
        return rule
    out = _drop_empty(rule, path, notes, keep=())
    peers = out.get(peers_key)
    if isinstance(peers, list):
        out[peers_key] = [
            _network_policy_peer(peer, (*path, peers_key, i), notes) for i, peer in enumerate(peers)
        ]
    ports = out.get("ports")
    if isinstance(ports, list):
        out["ports"] = [
            _network_policy_port(port, (*path, "ports", i), notes) for i, port in enumerate(ports)
        ]
    return out


def _network_policy_peer(peer: Any, path: tuple[PathElement, ...], notes: list[Normalization]) -> Any:
    if not isinstance(peer, dict):
        return peer
    # A selector that is present but empty ({}) is kept: it means "all", absence does not.
    out = _drop_empty(peer, path, notes, keep=_SELECTOR_KEYS)
    for key in _SELECTOR_KEYS & out.keys():
        out[key] = _selector(out[key], (*path, key), notes)
    block = out.get("ipBlock")
    if isinstance(block, dict):
        out["ipBlock"] = _drop_empty(block, (*path, "ipBlock"), notes, keep=())
    return out


def _network_policy_port(port: Any, path: tuple[PathElement, ...], notes: list[Normalization]) -> Any:
    if not isinstance(port, dict):
        return port
    out = _drop_empty(port, path, notes, keep=())
    if "protocol" not in out:
        out["protocol"] = NETWORK_POLICY_PROTOCOL
        notes.append(
            Normalization((*path, "protocol"), f"not set: the API server sets {NETWORK_POLICY_PROTOCOL}")
        )
    return out


# --- CiliumNetworkPolicy -----------------------------------------------------------------------


def written_spec(manifest: Mapping[str, Any]) -> Any:
    """The spec as written: ``spec`` of a NetworkPolicy; a Cilium(Clusterwide)NetworkPolicy's ``spec``
    and/or ``specs`` under those names."""
    if manifest.get("kind") in CILIUM_POLICY_KINDS:
        return {key: manifest[key] for key in ("spec", "specs") if key in manifest}
    return manifest.get("spec")


def _normalize_cilium_policy(manifest: Mapping[str, Any], notes: list[Normalization]) -> dict[str, Any]:
    # A CiliumNetworkPolicy carries one rule in ``spec`` and/or several in ``specs``; both
    # halves are compared, under their own names.
    out: dict[str, Any] = {}
    spec = manifest.get("spec")
    if spec is not None:
        out["spec"] = _cilium_rule(spec, ("spec",), notes)
    elif "spec" in manifest:
        notes.append(Normalization(("spec",), "null is the same as absent"))
    specs = manifest.get("specs")
    if isinstance(specs, list):
        out["specs"] = [_cilium_rule(rule, ("specs", i), notes) for i, rule in enumerate(specs)]
    elif specs is not None:
        out["specs"] = specs
    return out


def _cilium_rule(rule: Any, path: tuple[PathElement, ...], notes: list[Normalization]) -> Any:
    if not isinstance(rule, dict):
        return rule
    out = _drop_nulls(rule, path, notes)
    for key in _SELECTOR_KEYS & out.keys():
        out[key] = _selector(out[key], (*path, key), notes, cilium=True)
    for key in ("ingress", "egress", "ingressDeny", "egressDeny"):
        sections = out.get(key)
        if sections == []:
            # Cilium: "if omitted or empty, this rule does not apply at ingress" (and at egress;
            # enableDefaultDeny counts a direction without rules as off): [] means absent
            del out[key]
            notes.append(Normalization((*path, key), "an empty list: Cilium reads it as not set"))
        elif isinstance(sections, list):
            out[key] = [_cilium_section(item, (*path, key, i), notes) for i, item in enumerate(sections)]
    return out


def _cilium_section(section: Any, path: tuple[PathElement, ...], notes: list[Normalization]) -> Any:
    if not isinstance(section, dict):
        return section
    out = _drop_nulls(section, path, notes)
    for key, value in list(out.items()):
        if key in _CILIUM_SELECTOR_LISTS and isinstance(value, list):
            out[key] = [_selector(item, (*path, key, i), notes, cilium=True) for i, item in enumerate(value)]
        elif key == "toPorts" and isinstance(value, list):
            out[key] = [_cilium_port_rule(item, (*path, key, i), notes) for i, item in enumerate(value)]
    return out


def _cilium_port_rule(rule: Any, path: tuple[PathElement, ...], notes: list[Normalization]) -> Any:
    if not isinstance(rule, dict):
        return rule
    out = _drop_nulls(rule, path, notes)
    ports = out.get("ports")
    if isinstance(ports, list):
        out["ports"] = [_cilium_port(port, (*path, "ports", i), notes) for i, port in enumerate(ports)]
    return out


def _cilium_port(port: Any, path: tuple[PathElement, ...], notes: list[Normalization]) -> Any:
    if not isinstance(port, dict):
        return port
    out = _drop_nulls(port, path, notes)
    if "protocol" not in out:
        out["protocol"] = CILIUM_PROTOCOL
        notes.append(
            Normalization((*path, "protocol"), f"not set: Cilium reads it as {CILIUM_PROTOCOL} (not TCP)")
        )
    number = out.get("port")
    if isinstance(number, int) and not isinstance(number, bool):
        out["port"] = str(number)
        notes.append(Normalization((*path, "port"), "Cilium ports are strings"))
    return out


# --- shared ------------------------------------------------------------------------------------


def _selector(
    selector: Any, path: tuple[PathElement, ...], notes: list[Normalization], *, cilium: bool = False
) -> Any:
    """Unify the spellings of one label selector; an empty selector becomes ``{}``.

    Cilium reads a label key without a source as ``any:<key>``, so there ``any:app`` is ``app``.
    """
    if selector is None:
        notes.append(Normalization(path, "null selector is served as {}"))
        return {}
    if not isinstance(selector, dict):
        return selector
    out = dict(selector)
    labels = out.get("matchLabels")
    expressions = out.get("matchExpressions")
    if isinstance(labels, dict) or labels is None:
        labels = dict(labels or {})
        if cilium:
            labels = _without_any_source(labels, (*path, "matchLabels"), notes)
    if cilium and isinstance(expressions, list):
        expressions = [
            _requirement_without_any_source(item, (*path, "matchExpressions", i), notes)
            for i, item in enumerate(expressions)
        ]
    if isinstance(expressions, list) and isinstance(labels, dict):
        kept: list[Any] = []
        for index, requirement in enumerate(expressions):
            folded = _single_value_in(requirement)
            if folded is not None and labels.get(folded[0], folded[1]) == folded[1]:
                labels[folded[0]] = folded[1]
                notes.append(
                    Normalization(
                        (*path, "matchExpressions", index),
                        f"'{folded[0]} In [{folded[1]}]' is the matchLabels entry {folded[0]}: {folded[1]}",
                    )
                )
            else:
                kept.append(_requirement(requirement))
        expressions = kept
    for key, value in (("matchLabels", labels), ("matchExpressions", expressions)):
        if value is None or value == {} or value == []:
            # Emptied by folding In into matchLabels is recorded above; written empty is noted here.
            if key in selector and selector[key] in (None, {}, []):
                notes.append(Normalization((*path, key), "empty is the same as absent"))
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _without_any_source(
    labels: dict[str, Any], path: tuple[PathElement, ...], notes: list[Normalization]
) -> dict[str, Any]:
    if not any(isinstance(key, str) and key.startswith(CILIUM_DEFAULT_SOURCE) for key in labels):
        return labels
    out: dict[str, Any] = {}
    for key, value in labels.items():
        bare = (
            key.removeprefix(CILIUM_DEFAULT_SOURCE)
            if isinstance(key, str) and key.startswith(CILIUM_DEFAULT_SOURCE)
            else key
        )
        if bare in out and out[bare] != value:
            return labels  # 'app' and 'any:app' with different values select nothing: keep as written
        out[bare] = value
    notes.append(Normalization(path, "Cilium reads a label key without a source as 'any:': any:app is app"))
    return out


def _requirement_without_any_source(
    requirement: Any, path: tuple[PathElement, ...], notes: list[Normalization]
) -> Any:
    key = requirement.get("key") if isinstance(requirement, dict) else None
    if not isinstance(key, str) or not key.startswith(CILIUM_DEFAULT_SOURCE):
        return requirement
    notes.append(Normalization((*path, "key"), "Cilium reads a label key without a source as 'any:'"))
    return {**requirement, "key": key.removeprefix(CILIUM_DEFAULT_SOURCE)}


def _single_value_in(requirement: Any) -> tuple[str, Any] | None:
    if not isinstance(requirement, dict) or requirement.get("operator") != "In":
        return None
    values = requirement.get("values")
    key = requirement.get("key")
    if not isinstance(key, str) or not isinstance(values, list) or len({canonical(v) for v in values}) != 1:
        return None
    if set(requirement) - {"key", "operator", "values"}:
        return None
    return key, values[0]


def _requirement(requirement: Any) -> Any:
    if not isinstance(requirement, dict):
        return requirement
    out = dict(requirement)
    # Exists / DoesNotExist carry no values; an empty list is how some writers spell that.
    if out.get("values") in ([], None):
        out.pop("values", None)
    return out


def _drop_empty(
    mapping: Mapping[str, Any],
    path: tuple[PathElement, ...],
    notes: list[Normalization],
    keep: Collection[str],
) -> dict[str, Any]:
    """Drop keys the API server does not store: null, empty lists, empty maps (``omitempty``).

    Keys in ``keep`` are pointers to selectors in the API types: an empty map there is
    stored and means "everything", so only null is dropped.
    """
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if value is None or value == [] or (value == {} and key not in keep):
            shown = "null" if value is None else ("[]" if value == [] else "{}")
            notes.append(Normalization((*path, key), f"{shown} is not stored: same as absent"))
            continue
        out[key] = value
    return out


def _drop_nulls(
    mapping: Mapping[str, Any], path: tuple[PathElement, ...], notes: list[Normalization]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if value is None:
            notes.append(Normalization((*path, key), "null is the same as absent"))
            continue
        out[key] = value
    return out
