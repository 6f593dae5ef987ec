"""How the values reach Helm, and what the values ask for that this deploy would not create.

``validate`` needs this and not the chart model (:mod:`.chart`, :mod:`.custom_resources`, the
``tpl`` evaluator, :mod:`.extension`): what a deploy creates from the extension is decided by the
values, the chart's shape and the :class:`Delivery` alone. Kept apart so that a plain
``validate`` never imports the model (tests/acceptance/test_values_imports.py).
"""

from __future__ import annotations

from ..errors import Severity
from ..records import record
from .validate import Problem

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from .shapes import ChartShape
    from .values import ValuesFile


@record(frozen=True)
class Delivery:
    """How the values reach Helm, and what the chart holds besides its own templates."""

    #: the merged values file of ``render --values-out`` is what Auto Deploy reads (the CI
    #: template's values jobs; ``$NETPOL_HANDOFF``, on by default): the suggestion and the
    #: compiled extension reach the chart only this way
    handoff: bool = True
    #: the chart overlays are laid onto the chart (``$NETPOL_OVERLAY_CHART``)
    overlays: bool = False


def helm_truthy(value: Any) -> bool:
    """Go template truth (``{{ if value }}``): false, 0, nil, and empty strings, maps and lists are
    false; everything else — the string "false" too — is true."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def enabled(block: Any) -> bool:
    return isinstance(block, dict) and helm_truthy(block.get("enabled"))


def entries_on(block: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``policies`` entries that render, by key: a mapping whose ``enabled`` is absent, null or
    true as Helm's ``if`` reads it (null deletes the key, and the overlay defaults to on)."""
    entries = block.get("policies") or {}
    if not isinstance(entries, dict):
        return []
    return [
        (key, policy)
        for key, policy in sorted(entries.items())
        if isinstance(policy, dict)
        and ("enabled" not in policy or policy["enabled"] is None or helm_truthy(policy["enabled"]))
    ]


def extension_objects_wanted(values: dict[str, Any], shape: ChartShape) -> list[tuple[tuple[str, ...], str]]:
    """The parts of the extension that ask for objects (path, description), whatever delivers them."""
    wanted: list[tuple[tuple[str, ...], str]] = []
    network = values.get("networkPolicy")
    if enabled(network):
        assert isinstance(network, dict)
        if enabled(network.get("suggested")):
            wanted.append((("networkPolicy", "suggested"), "the suggested policy (networkPolicy.suggested)"))
        for key, _ in entries_on(network):
            wanted.append((("networkPolicy", "policies", key), f"networkPolicy.policies.{key}"))
        if enabled(network.get("defaultDeny")):
            wanted.append(
                (("networkPolicy", "defaultDeny"), "the default-deny policy (networkPolicy.defaultDeny)")
            )
    cilium = values.get("ciliumNetworkPolicy")
    if not shape.cilium_template and enabled(cilium):
        assert isinstance(cilium, dict)
        wanted.append((("ciliumNetworkPolicy",), "the CiliumNetworkPolicy (ciliumNetworkPolicy)"))
        for key, _ in entries_on(cilium):
            wanted.append((("ciliumNetworkPolicy", "policies", key), f"ciliumNetworkPolicy.policies.{key}"))
    elif shape.cilium_template and enabled(cilium):
        assert isinstance(cilium, dict)
        for key, _ in entries_on(cilium):
            wanted.append((("ciliumNetworkPolicy", "policies", key), f"ciliumNetworkPolicy.policies.{key}"))
    return wanted


def delivery_problems(
    values: ValuesFile, shape: Any, delivery: Delivery, *, suggest: bool = True
) -> list[Problem]:
    """Warnings for what the values ask for but this deploy would not create, each naming the fix."""
    problems: list[Problem] = []
    overlays = delivery.overlays and shape.shared_labels
    data = values.data
    for path, what in extension_objects_wanted(data, shape):
        if overlays:
            continue
        if path[0] == "ciliumNetworkPolicy" and path == ("ciliumNetworkPolicy",):
            if shape.custom_resources and delivery.handoff:
                continue
            fix = (
                "pass the values through `autodeploy-netpol render --values-out` (the CI template's values jobs, "
                "NETPOL_HANDOFF=true): it compiles it into customResources"
                if shape.custom_resources
                else "lay the chart overlays (NETPOL_OVERLAY_CHART=true, or `autodeploy-netpol overlay chart/`), "
                "or move to auto-deploy-image v2.51.0 or later and hand the values over with render --values-out"
            )
            problems.append(
                Problem(
                    values.locate(path, key=True),
                    path,
                    f"{what} is not deployed: chart shape {shape.id} (image {shape.images}) has no "
                    "CiliumNetworkPolicy template and ignores the key",
                    fix,
                    Severity.WARNING,
                )
            )
            continue
        if shape.custom_resources and delivery.handoff:
            continue
        if shape.custom_resources:
            reason = "the values reach Auto Deploy as written (NETPOL_HANDOFF is off), and only the overlays render it"
            fix = "turn NETPOL_HANDOFF back on (render --values-out compiles it into customResources), or lay the overlays"
        elif not shape.shared_labels:
            reason = f"chart shape {shape.id} (image {shape.images}) can take neither the overlays nor customResources"
            fix = "move to auto-deploy-image v2.51.0 or later"
        else:
            reason = (
                f"chart shape {shape.id} (image {shape.images}) has no customResources, and the chart overlays "
                "are not laid"
            )
            fix = (
                "lay the chart overlays (NETPOL_OVERLAY_CHART=true in the CI template, or `autodeploy-netpol "
                "overlay chart/` in the deploy job; --overlays here), or move to auto-deploy-image v2.51.0 or later"
            )
        problems.append(
            Problem(
                values.locate(path, key=True),
                path,
                f"{what} is not deployed: {reason}",
                fix,
                Severity.WARNING,
            )
        )
    network = data.get("networkPolicy")
    if (
        suggest
        and not delivery.handoff
        and isinstance(network, dict)
        and "spec" not in network
        and helm_truthy(network.get("enabled"))
    ):
        problems.append(
            Problem(
                values.locate(("networkPolicy",), key=True),
                ("networkPolicy",),
                "the suggested spec is not deployed: it reaches the chart only in the values file of "
                "`render --values-out`, and NETPOL_HANDOFF is off, so the chart's namespace-wide default spec "
                "is deployed",
                "turn NETPOL_HANDOFF back on, or write the spec into the values file (autodeploy-netpol suggest)",
                Severity.WARNING,
            )
        )
    return problems
