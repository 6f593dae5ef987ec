"""From a values file to the objects the deploy will create (validate → suggest + merge → render)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, ValidationFailed
from ..kube.releases import STABLE, helm_release
from .chart import DEFAULT_CHART_VERSION, appname, chart_defaults, render_objects
from .merge import helm_merge_all, layer_values
from .suggest import DEFAULT_INGRESS_NAMESPACE, suggested_spec
from .validate import Problem, errors_only, validate_values
from .values import BLOCKS, ValuesFile


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


def values_layer(name: str, user_block: dict[str, Any] | None, context: DeployContext) -> dict[str, Any]:
    """The block as the merged values file gives it to Helm: the suggestion (only where the user
    gives no spec) under the user's block. Chart defaults are left to Helm, and nulls are kept so
    that Helm still deletes the defaults they name."""
    user = user_block or {}
    if name == "networkPolicy" and context.suggest and "spec" not in user:
        return layer_values({"spec": suggested_spec(context.app, context.ingress_namespace)}, user)
    return layer_values({}, user)


def compute_desired(values: ValuesFile, context: DeployContext) -> Desired:
    """Validate the values file and compute the objects the auto-deploy-app chart will render.

    Raises :class:`ValidationFailed` with every problem when the file is invalid.
    """
    problems = validate_values(values)
    errors = errors_only(problems)
    if errors:
        raise ValidationFailed(errors, file=values.path)
    merged_values = dict(values.data)
    for name in BLOCKS:
        merged_values[name] = values_layer(name, values.block(name), context)
    # What Helm does: chart defaults, then the values files, then --set (which wins).
    chart_values = helm_merge_all(chart_defaults(context.chart_version), merged_values, context.set_values())
    objects = render_objects(chart_values, release=context.helm_release, chart_version=context.chart_version)
    _check_unique_names(objects, values)
    return Desired(objects, merged_values, context, [p for p in problems if p not in errors])


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
