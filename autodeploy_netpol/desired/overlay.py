"""Lay the chart overlays (``chart-overlays/auto-deploy-app/``) onto an auto-deploy-app chart.

The overlays are extra templates, named so they cannot collide with the chart's own
(``templates/zz-netpol-*.yaml``, ``templates/_netpol-overlay-helpers.tpl``). Every file written
starts with a Go-template comment (renders to nothing) carrying a marker and the SHA-256 of the
rest of the file. That is how a later run knows a file is its own and untouched:

* a missing file is added; an own, untouched file is rewritten when the overlay changed
  (``updated``) or left alone (``unchanged``) — running twice changes nothing;
* a file without the marker, or with the marker but edited since, is never overwritten:
  the whole run stops before writing anything (exit 2).

The chart's own CiliumNetworkPolicy template (auto-deploy-app 2.6.0 - 2.39.x) and the overlay's
replacement for charts from 2.40.0 on must never both render: the replacement is laid only on a
chart that has no CiliumNetworkPolicy template of its own, and removed again (if it is ours and
untouched) from one that has.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InputError, Location

MARKER = "autodeploy-netpol chart overlay"
#: The overlay template replacing the CiliumNetworkPolicy that auto-deploy-app 2.40.0 removed.
CILIUM_REPLACEMENT = "templates/zz-netpol-cilium-network-policy.yaml"
#: Helpers of the chart the overlays build on (they reuse its names and labels).
REQUIRED_HELPERS = ("fullname", "appname", "sharedlabels")

_HEADER = re.compile(r"\A\{\{- /\* " + re.escape(MARKER) + r" sha256:(?P<digest>[0-9a-f]{64}) .*?\*/ -\}\}\n")
_CILIUM_KIND = re.compile(r"^\s*kind:\s*[\"']?CiliumNetworkPolicy[\"']?\s*$", re.MULTILINE)
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt")


class Action(StrEnum):
    """What the overlay did to one file."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class OverlayChange:
    """One file of the overlay and what happened to it (``path`` relative to the chart)."""

    path: str
    action: Action
    reason: str = ""


def default_overlay_dir() -> Path:
    """The overlays shipped with the tool (``chart-overlays/auto-deploy-app``)."""
    return Path(str(resources.files("autodeploy_netpol") / "chart_overlays" / "auto-deploy-app"))


def stamped(body: str) -> str:
    """``body`` with the marker header (its SHA-256 inside) prepended."""
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    header = (
        f"{{{{- /* {MARKER} sha256:{digest} - written by `autodeploy-netpol overlay`; do not edit */ -}}}}\n"
    )
    return header + body


def ownership(text: str) -> str:
    """``"ours"`` (marker and matching hash), ``"edited"`` (marker, hash differs) or ``"foreign"``."""
    match = _HEADER.match(text)
    if not match:
        return "foreign"
    body = text[match.end() :]
    return "ours" if hashlib.sha256(body.encode("utf-8")).hexdigest() == match["digest"] else "edited"


def apply_overlay(
    chart_dir: str | os.PathLike[str], overlay_dir: str | os.PathLike[str] | None = None
) -> list[OverlayChange]:
    """Lay the overlays onto ``chart_dir``; returns what was done to each file.

    Raises :class:`InputError` (nothing written) when the directory is not an auto-deploy-app
    style chart or a file in the way was not written by this tool.
    """
    chart = Path(chart_dir)
    source = Path(overlay_dir) if overlay_dir is not None else default_overlay_dir()
    _check_chart(chart)
    overlays = _read_overlays(source)
    own_cilium = _chart_cilium_template(chart)

    planned: list[tuple[OverlayChange, str | None]] = []
    for relative, body in overlays.items():
        target = chart / relative
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if target.exists() and current is None:
            raise InputError(f"{relative} is in the way and is not a file", location=Location(str(target)))
        if current is not None:
            _check_ours(current, target)
        if relative == CILIUM_REPLACEMENT and own_cilium:
            reason = f"the chart renders its own CiliumNetworkPolicy: {own_cilium}"
            if current is None:
                planned.append((OverlayChange(relative, Action.SKIPPED, reason), None))
            else:
                planned.append((OverlayChange(relative, Action.REMOVED, reason), None))
            continue
        wanted = stamped(body)
        if current is None:
            planned.append((OverlayChange(relative, Action.ADDED), wanted))
        elif current == wanted:
            planned.append((OverlayChange(relative, Action.UNCHANGED), None))
        else:
            planned.append((OverlayChange(relative, Action.UPDATED), wanted))

    planned.extend((change, None) for change in _stale_own_files(chart, set(overlays)))

    for change, text in planned:
        target = chart / change.path
        if change.action is Action.REMOVED:
            target.unlink()
        elif text is not None:
            _write_atomically(target, text)
    return [change for change, _ in planned]


def _stale_own_files(chart: Path, current: set[str]) -> list[OverlayChange]:
    """Files an earlier overlay version wrote that the overlays no longer have: removed when
    untouched, left alone (and said so) when edited by hand since."""
    stale = []
    for path in sorted((chart / "templates").rglob("*")):
        relative = path.relative_to(chart).as_posix()
        if not path.is_file() or relative in current:
            continue
        state = ownership(path.read_text(encoding="utf-8", errors="replace"))
        if state == "ours":
            stale.append(OverlayChange(relative, Action.REMOVED, "no longer part of the overlays"))
        elif state == "edited":
            reason = "no longer part of the overlays, but edited by hand: kept; delete it if unwanted"
            stale.append(OverlayChange(relative, Action.SKIPPED, reason))
    return stale


#: values (block, key) → the overlay template that renders them
_EXTENSION_TEMPLATES = {
    ("networkPolicy", "policies"): "templates/zz-netpol-network-policies.yaml",
    ("networkPolicy", "suggested"): "templates/zz-netpol-network-policies.yaml",
    ("networkPolicy", "defaultDeny"): "templates/zz-netpol-network-policies.yaml",
    ("ciliumNetworkPolicy", "policies"): "templates/zz-netpol-cilium-policies.yaml",
}


def missing_overlays(chart_dir: str | os.PathLike[str], values: Mapping[str, Any]) -> list[str]:
    """What ``values`` ask for that the chart at ``chart_dir`` cannot render without the overlays."""
    chart = Path(chart_dir)
    problems = []
    for (block, key), template in _EXTENSION_TEMPLATES.items():
        section = values.get(block)
        if not (isinstance(section, dict) and section.get(key)):
            continue
        path = chart / template
        if not path.is_file() or ownership(path.read_text(encoding="utf-8", errors="replace")) == "foreign":
            problems.append(
                f"{block}.{key} is set but {chart} has no chart-overlays ({template}): Helm ignores it;"
                f" run `autodeploy-netpol overlay {chart}` first, as the deploy job must"
            )
    return problems


def _check_ours(current: str, target: Path) -> None:
    state = ownership(current)
    if state == "foreign":
        raise InputError(
            "the file exists and was not written by autodeploy-netpol; refusing to overwrite it",
            location=Location(str(target)),
            hint="move or rename it; `autodeploy-netpol overlay` never overwrites files it did not write",
        )
    if state == "edited":
        raise InputError(
            "the file was written by autodeploy-netpol but edited since; refusing to overwrite the edit",
            location=Location(str(target)),
            hint="delete it (the overlay lays a fresh copy) or keep your version under another name",
        )


def _check_chart(chart: Path) -> None:
    if not (chart / "Chart.yaml").is_file():
        raise InputError(
            "not a Helm chart directory (no Chart.yaml)",
            location=Location(str(chart)),
            hint="give the chart directory, e.g. chart/ after `auto-deploy download_chart`",
        )
    defined: set[str] = set()
    for template in _chart_templates(chart):
        defined.update(
            re.findall(r'\{\{-?\s*define\s+"([^"]+)"', template.read_text(encoding="utf-8", errors="replace"))
        )
    missing = [name for name in REQUIRED_HELPERS if name not in defined]
    if missing:
        raise InputError(
            f"the chart does not define the auto-deploy-app helpers the overlays use: {', '.join(missing)}",
            location=Location(str(chart / "templates")),
            hint="the overlays are for GitLab's auto-deploy-app chart (or the project's own copy in chart/)",
        )


def _chart_templates(chart: Path) -> list[Path]:
    """The chart's own template files (not the overlays'), sorted."""
    found = []
    for path in sorted((chart / "templates").rglob("*")):
        if not (path.is_file() and path.suffix in _TEMPLATE_SUFFIXES):
            continue
        if ownership(path.read_text(encoding="utf-8", errors="replace")) == "foreign":
            found.append(path)
    return found


def _chart_cilium_template(chart: Path) -> str | None:
    """The chart's own template that renders a CiliumNetworkPolicy, relative to the chart."""
    for path in _chart_templates(chart):
        if _CILIUM_KIND.search(path.read_text(encoding="utf-8", errors="replace")):
            return path.relative_to(chart).as_posix()
    return None


def _read_overlays(source: Path) -> dict[str, str]:
    if not (source / "templates").is_dir():
        raise InputError("no overlay templates found", location=Location(str(source)))
    overlays = {}
    for path in sorted((source / "templates").iterdir()):
        if path.is_file():
            overlays[path.relative_to(source).as_posix()] = path.read_text(encoding="utf-8")
    return overlays


def _write_atomically(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
