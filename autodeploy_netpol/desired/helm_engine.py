"""The Helm edge: render a chart directory with real Helm, keep the network policies.

Two engines, chosen in this order:

* the ``helm`` CLI when one is on ``PATH`` (``helm template``) — the very binary a pipeline uses;
* ``helm-python-sdk`` (import name ``helm_python``, the ``[helm]`` extra): Helm 4's Go SDK
  through ctypes, offline, no binary needed.

Values are layered the way Auto Deploy layers them (``auto-deploy`` script, ``helm upgrade``):
the chart's defaults, then the values files, then the ``--set`` values, which win over every
values file whatever the order on the command line.

Only ``NetworkPolicy`` and ``CiliumNetworkPolicy`` objects are returned, in the order Helm emits
them (Helm's install order by kind, then template path, then position in the template).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import InputError, Location
from ..kube.names import DEPLOYABLE_POLICY_KINDS, NETWORK_POLICY
from ..sources.goyaml import dump as dump_go_yaml
from ..sources.yamlio import iter_documents, load_mapping

if TYPE_CHECKING:
    from .compute import DeployContext

#: The kinds this tool cares about; everything else the chart renders is dropped.
POLICY_KINDS = DEPLOYABLE_POLICY_KINDS
#: API versions offered to ``.Capabilities.APIVersions`` so templates gated on Cilium render.
DEFAULT_API_VERSIONS = ("cilium.io/v2",)

ENGINE_CLI = "helm-cli"
ENGINE_SDK = "helm-python-sdk"
ENGINES = (ENGINE_CLI, ENGINE_SDK)


# Helm sorts what it renders by kind (releaseutil.InstallOrder). NetworkPolicy is a known kind near
# the front; CiliumNetworkPolicy is unknown to Helm and goes after every known kind. Among the two
# kinds kept here that is simply "NetworkPolicy first".
def _kind_rank(kind: str) -> tuple[int, str]:
    return (0, "") if kind == NETWORK_POLICY else (1, kind)


_DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)
_POLICY_KIND = re.compile(
    r"^\s*(?:- )?kind:\s*[\"']?(?:(?:Cilium|CiliumClusterwide|Cluster)?NetworkPolicy|\w*List)[\"']?\s*$",
    re.MULTILINE,
)
# Where Helm says a template failed:
# "execution error at (auto-deploy-app/templates/x.yaml:12:4): message",
# "parse error at (auto-deploy-app/templates/x.yaml:2): message" and
# "template: auto-deploy-app/templates/x.yaml:9:14: executing ... nil pointer evaluating ..."
_TEMPLATE_ERROR = re.compile(
    r"(?P<template>[\w.-]+/(?:[\w.-]+/)*templates/[\w./-]+?\.(?:ya?ml|tpl|txt|json))"
    r":(?P<line>\d+)(?::(?P<column>\d+))?"
)


@dataclass(frozen=True)
class HelmRelease:
    """What ``helm template``/``helm upgrade`` is told besides the chart and the values files.

    ``set_values`` are Auto Deploy's ``--set`` expressions as ``dotted.key → string``; they win
    over the values. ``api_versions`` feed ``.Capabilities.APIVersions`` (``--api-versions``).
    """

    name: str
    namespace: str
    set_values: Mapping[str, str] = field(default_factory=dict)
    api_versions: tuple[str, ...] = DEFAULT_API_VERSIONS
    kube_version: str | None = None


@dataclass(frozen=True)
class RenderedManifest:
    """One object Helm rendered: the template it came from and the parsed manifest."""

    template: str
    index: int
    manifest: dict[str, Any]


def auto_deploy_set_values(
    *,
    release_override: str,
    track: str,
    project_id: str | None = None,
    app: str | None = None,
    env: str | None = None,
) -> dict[str, str]:
    """The ``--set`` values Auto Deploy passes that reach the network-policy templates.

    ``auto-deploy deploy`` always sets ``gitlab.app`` ($CI_PROJECT_PATH_SLUG), ``gitlab.env``
    ($CI_ENVIRONMENT_SLUG), ``gitlab.projectID`` ($CI_PROJECT_ID), ``releaseOverride`` (the base
    release name, also for the canary and rollout releases) and ``application.track``; an unset
    variable becomes an empty string (so the ``app.gitlab.com/proj`` label is ``""``, never null).
    """
    return {
        "gitlab.app": app or "",
        "gitlab.env": env or "",
        "gitlab.projectID": project_id or "",
        "releaseOverride": release_override,
        "application.track": track,
    }


def auto_deploy_release(
    context: DeployContext,
    *,
    app: str | None = None,
    env: str | None = None,
    api_versions: tuple[str, ...] = DEFAULT_API_VERSIONS,
    kube_version: str | None = None,
) -> HelmRelease:
    """The release Auto Deploy installs for ``context``: ``<release>[-<track>]`` in its namespace."""
    set_values = auto_deploy_set_values(
        release_override=context.release, track=context.track, project_id=context.project_id, app=app, env=env
    )
    namespace = context.namespace or "default"
    return HelmRelease(context.helm_release, namespace, set_values, api_versions, kube_version)


class LoadedChart(Protocol):
    """A chart ready to be rendered many times (the SDK keeps it loaded in memory)."""

    engine: str
    path: Path

    def render(self, values: Mapping[str, Any], release: HelmRelease) -> list[RenderedManifest]:
        """Render with ``values`` (the merged values files) under ``release``; policies only."""

    def close(self) -> None:
        """Release what the engine holds for this chart."""


def chart_version(chart_dir: str | os.PathLike[str]) -> str:
    """The ``version`` in the chart's Chart.yaml (it feeds the ``chart`` labels and the model)."""
    path = Path(chart_dir) / "Chart.yaml"
    if not path.is_file():
        raise InputError(
            "not a Helm chart directory (no Chart.yaml)",
            location=Location(str(Path(chart_dir))),
            hint="point --chart at the chart directory, e.g. chart/ after `auto-deploy download_chart`",
        )
    document = load_mapping(str(path), what="Chart.yaml")
    version = document.data.get("version")
    if not isinstance(version, str) or not version:
        raise InputError(
            "Chart.yaml has no version", location=document.locate(("version",)), hint="add `version: x.y.z`"
        )
    return version


def available_engines() -> list[str]:
    """Engines usable on this machine, in order of preference."""
    found = []
    if shutil.which("helm"):
        found.append(ENGINE_CLI)
    if _sdk_importable():
        found.append(ENGINE_SDK)
    return found


def open_chart(chart_dir: str | os.PathLike[str], *, engine: str | None = None) -> LoadedChart:
    """Load the chart at ``chart_dir`` with ``engine`` (default: the first available one).

    Raises :class:`InputError` when the directory is not a chart or no engine is available.
    """
    path = Path(chart_dir)
    if not (path / "Chart.yaml").is_file():
        raise InputError(
            "not a Helm chart directory (no Chart.yaml)",
            location=Location(str(path)),
            hint="point --chart at the chart directory, e.g. chart/ after `auto-deploy download_chart`",
        )
    if engine is None:
        engines = available_engines()
        if not engines:
            raise InputError(
                "no Helm engine available to render the chart",
                hint=(
                    "install the helm CLI (https://helm.sh) so `helm` is on PATH, or install the "
                    "helm-python-sdk engine: pip install 'autodeploy-netpol[helm]'"
                ),
            )
        engine = engines[0]
    if engine == ENGINE_CLI:
        binary = shutil.which("helm")
        if binary is None:
            raise InputError("the helm CLI engine was requested but `helm` is not on PATH")
        return CliChart(path, binary)
    if engine == ENGINE_SDK:
        if not _sdk_importable():
            raise InputError(
                "the helm-python-sdk engine was requested but is not installed",
                hint="pip install 'autodeploy-netpol[helm]'",
            )
        return SdkChart(path)
    raise InputError(f"unknown Helm engine {engine!r}", hint=f"choose one of {', '.join(ENGINES)}")


def render_policies(
    chart_dir: str | os.PathLike[str],
    values: Mapping[str, Any],
    release: HelmRelease,
    *,
    engine: str | None = None,
) -> list[dict[str, Any]]:
    """Render ``chart_dir`` once and return the NetworkPolicy/CiliumNetworkPolicy manifests."""
    chart = open_chart(chart_dir, engine=engine)
    try:
        return [rendered.manifest for rendered in chart.render(values, release)]
    finally:
        chart.close()


def _sdk_importable() -> bool:
    try:
        import helm_python  # noqa: F401
    except (ImportError, OSError):  # OSError: the wheel's native library cannot load here
        return False
    return True


def _template_error(message: str, chart: Path, *, what: str) -> InputError:
    """Turn Helm's error text into an InputError pointing at chart/templates/file:line:column."""
    match = _TEMPLATE_ERROR.search(message)
    location = Location(str(chart))
    if match:
        # Helm names templates "<chart name>/templates/x.yaml"; the user knows the directory.
        inside = match["template"].split("/", 1)[1] if "/" in match["template"] else match["template"]
        location = Location(str(chart / inside), int(match["line"]), int(match["column"] or 0))
    return InputError(
        f"{what}: {message.strip()}",
        location=location,
        hint="fix the template or the values it reads; `helm template` shows the same error",
    )


def _policies_from(template: str, text: str, source: str) -> Iterator[RenderedManifest]:
    """The policy documents of one rendered template; other kinds are not even parsed."""
    for index, chunk in enumerate(_DOCUMENT_SEPARATOR.split(text)):
        if not _POLICY_KIND.search(chunk):
            continue
        try:
            # Read as Helm and the API server read it: Go's scalars, a repeated key keeps its last value.
            documents = list(iter_documents(chunk, source, go_scalars=True, allow_duplicates=True))
        except InputError as error:
            raise InputError(
                f"Helm rendered YAML that does not parse: {error.message}",
                location=Location(source),
                hint="the template produces invalid YAML for these values (an indent or quoting problem)",
            ) from error
        for document in documents:
            for manifest in _items(document.data):
                if manifest.get("kind") in POLICY_KINDS:
                    yield RenderedManifest(template, index, manifest)


def _items(manifest: Any) -> Iterator[dict[str, Any]]:
    """The objects Helm applies: the items of a ``kind: List`` one by one."""
    if not isinstance(manifest, dict):
        return
    kind = manifest.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(manifest.get("items"), list):
        for item in manifest["items"]:
            yield from _items(item)
    else:
        yield manifest


def helm_order(manifests: list[RenderedManifest]) -> list[RenderedManifest]:
    """Helm's output order: kind, then template path, then position inside the template."""
    return sorted(manifests, key=lambda m: (_kind_rank(m.manifest["kind"]), m.template, m.index))


class SdkChart:
    """A chart loaded once into helm-python-sdk and rendered offline as often as needed."""

    engine = ENGINE_SDK

    def __init__(self, path: Path) -> None:
        import helm_python

        self.path = path
        self._helm = helm_python
        try:
            self._chart = helm_python.Chart.load(str(path))
        except helm_python.HelmError as exc:
            raise InputError(
                f"Helm cannot load the chart: {exc.detail}",
                location=Location(str(path)),
                hint="check Chart.yaml and the templates/ directory",
            ) from exc

    def render(self, values: Mapping[str, Any], release: HelmRelease) -> list[RenderedManifest]:
        """Render through the Go SDK; ``--set`` values layered over ``values`` like Helm does."""
        helm = self._helm
        layered = _layer_set_values(dict(values), release.set_values)
        try:
            rendered = self._render_native(layered, release)
        except helm.HelmRenderError as exc:
            raise _template_error(exc.detail, self.path, what="Helm cannot render the chart") from exc
        except helm.HelmValuesError as exc:
            raise InputError(
                f"Helm rejects the values: {exc.detail}",
                location=Location(str(self.path / "values.schema.json")),
                hint="the chart's values.schema.json does not accept these values",
            ) from exc
        except helm.HelmError as exc:
            raise InputError(f"Helm failed: {exc.detail}", location=Location(str(self.path))) from exc
        found: list[RenderedManifest] = []
        for template, text in rendered.items():
            inside = template.split("/", 1)[1] if "/" in template else template
            found.extend(_policies_from(template, text, str(self.path / inside)))
        return helm_order(found)

    def _render_native(self, values: dict[str, Any], release: HelmRelease) -> dict[str, str]:
        # helm-python-sdk 0.2.2's Chart.render() does not expose the render options the C library
        # accepts for capabilities (``api_versions``, ``kube_version``; checked in libhelm_c), so the
        # call is made one level down with the same JSON options object Chart.render() builds.
        # tests/unit/test_helm_engine.py proves the capabilities reach the templates.
        from helm_python import _native

        options: dict[str, Any] = {"name": release.name, "namespace": release.namespace}
        if release.api_versions:
            options["api_versions"] = list(release.api_versions)
        if release.kube_version:
            options["kube_version"] = release.kube_version
        payload = _native.call_string(
            "helm_render", self._chart._raw(), json.dumps(values), json.dumps(options)
        )
        rendered: dict[str, str] = json.loads(payload)
        return rendered

    def close(self) -> None:
        """Free the native chart handle."""
        self._chart.close()

    def __enter__(self) -> SdkChart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _layer_set_values(values: dict[str, Any], set_values: Mapping[str, str]) -> dict[str, Any]:
    """Apply ``--set key.path=value`` over ``values`` (a ``--set`` wins over every values file).

    Values go to the SDK as JSON, where Go decodes every number as float64; an int64 from
    ``--set gitlab.projectID=12345678`` would then print as ``1.2345678e+07``. The strings are
    therefore passed as strings (``--set-string``), which render identically under ``quote``,
    the only way the chart uses them.
    """
    result = json.loads(json.dumps(values, default=_as_helm_reads_it))  # deep copy, JSON types only
    for dotted, value in set_values.items():
        node = result
        *parents, leaf = dotted.split(".")
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[leaf] = value
    return result


def _as_helm_reads_it(value: object) -> str:
    """YAML types JSON lacks, as Helm's YAML reader hands them to templates.

    Helm (sigs.k8s.io/yaml) keeps an unquoted timestamp such as ``2001-01-01`` as the string
    written; PyYAML makes it a date. ``!!binary`` becomes its decoded text.
    """
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise InputError(
        f"the values hold a {type(value).__name__}, which Helm values cannot carry",
        hint="write it as a plain string, number, list or mapping",
    )


class CliChart:
    """A chart rendered by the ``helm`` binary: one ``helm template`` process per render."""

    engine = ENGINE_CLI

    def __init__(self, path: Path, binary: str) -> None:
        self.path = path
        self.binary = binary

    def render(self, values: Mapping[str, Any], release: HelmRelease) -> list[RenderedManifest]:
        """``helm template`` with Auto Deploy's ``--set`` values and the merged values file."""
        with tempfile.TemporaryDirectory(prefix="autodeploy-netpol-") as scratch:
            values_file = Path(scratch) / "values.yaml"
            # Written so that Helm (Go's yaml.v2) reads every string back as a string ("y", "1e3").
            values_file.write_text(dump_go_yaml(dict(values)), encoding="utf-8")
            command = [
                self.binary,
                "template",
                release.name,
                str(self.path),
                "--namespace",
                release.namespace,
            ]
            for key, value in release.set_values.items():
                command += ["--set", f"{key}={value}"]
            command += ["--values", str(values_file)]
            for api_version in release.api_versions:
                command += ["--api-versions", api_version]
            if release.kube_version:
                command += ["--kube-version", release.kube_version]
            try:
                completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise InputError(f"cannot run {self.binary}: {exc}") from exc
        if completed.returncode != 0:
            raise _template_error(
                completed.stderr or completed.stdout, self.path, what="helm template failed"
            )
        return list(_split_template_output(completed.stdout, self.path))

    def close(self) -> None:
        """Nothing is held between renders."""


def _split_template_output(stream: str, chart: Path) -> Iterator[RenderedManifest]:
    """Split ``helm template`` output (already in Helm's order) by its ``# Source:`` comments."""
    for position, chunk in enumerate(_DOCUMENT_SEPARATOR.split(stream)):
        source = re.search(r"^# Source: (\S+)", chunk, flags=re.MULTILINE)
        template = source[1] if source else ""
        inside = template.split("/", 1)[1] if "/" in template else template
        for rendered in _policies_from(template, chunk, str(chart / inside)):
            yield RenderedManifest(rendered.template, position, rendered.manifest)


# --- one customResources entry, through real Helm's tpl ---------------------------------------------

#: The chart's name helpers as the auto-deploy-app chart defines them (written for this tool).
_ENTRY_HELPERS = """\
{{- define "name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 24 | trimSuffix "-" -}}
{{- end -}}
{{- define "fullname" -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- printf "%s-%s" .Release.Name $name | trimSuffix "-app" | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "appname" -}}
{{- $release := default .Release.Name .Values.releaseOverride -}}
{{- printf "%s" $release | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "trackableappname" -}}
{{- $name := printf "%s-%s" (include "appname" .) .Values.application.track -}}
{{- $name | trimSuffix "-stable" | trunc 63 | trimSuffix "-" -}}
{{- end -}}
"""
_ENTRY_KEY = "autodeployNetpolEntry"
_ENTRY_TEMPLATE = '{{ tpl (toYaml (index .Values "' + _ENTRY_KEY + '")) $ }}\n'


def render_entry(
    entry: Any,
    values: Mapping[str, Any],
    *,
    release: str,
    namespace: str,
    chart_version: str,
    engine: str | None = None,
) -> list[dict[str, Any]]:
    """One ``customResources`` entry as the auto-deploy-app chart renders it from image v2.91.0
    (``tpl`` of its ``toYaml`` with the chart's root context), by real Helm: a chart of the
    chart's name and version holding the entry's template and the chart's name helpers.

    Returns the policy objects it renders (none when it renders to another kind); a template
    Helm cannot render is an :class:`InputError` with Helm's message.
    """
    with tempfile.TemporaryDirectory(prefix="autodeploy-netpol-entry-") as scratch:
        chart = Path(scratch) / "auto-deploy-app"
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(
            f"apiVersion: v1\nname: auto-deploy-app\nversion: {json.dumps(chart_version)}\n", encoding="utf-8"
        )
        (chart / "templates" / "_helpers.tpl").write_text(_ENTRY_HELPERS, encoding="utf-8")
        (chart / "templates" / "custom-resources.yaml").write_text(_ENTRY_TEMPLATE, encoding="utf-8")
        loaded = open_chart(chart, engine=engine)
        try:
            rendered = loaded.render({**values, _ENTRY_KEY: entry}, HelmRelease(release, namespace, {}, ()))
        finally:
            loaded.close()
    return [item.manifest for item in rendered]
