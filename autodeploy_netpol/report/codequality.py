"""GitLab Code Quality reports (``artifacts:reports:codequality``): findings in the merge-request
widget and, on the tiers that have it, inline on the changed lines of the values file.

The format is GitLab's documented subset of the Code Climate issue format ("Code Quality report
format" in GitLab's CI documentation): a JSON array of objects with ``description``,
``check_name``, ``fingerprint``, ``severity`` (``info``, ``minor``, ``major``, ``critical``,
``blocker``), ``location.path`` (relative to the project directory) and ``location.lines.begin``.
No byte order mark. ``tests/data/gitlab-codequality.schema.json`` holds that format as a JSON
Schema, and the tests check every report against it.

The fingerprint identifies a finding across pipelines (GitLab compares the merge request's report
with the target branch's to show new and resolved findings), so it leaves the line out: editing
lines above a finding must not make it "new".
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: GitLab's severities, least to most severe.
SEVERITIES = ("info", "minor", "major", "critical", "blocker")

#: The tool's severities as Code Quality severities: an error fails the pipeline or the deploy.
SEVERITY_OF = {"error": "critical", "warning": "major", "info": "info"}

#: ``check_name`` prefix: the report of several tools is merged by GitLab.
CHECK_PREFIX = "autodeploy-netpol"


@dataclass(frozen=True)
class Issue:
    """One Code Quality finding. ``identity`` is what makes it the same finding in another
    pipeline (e.g. the path inside the values file and the message), without the line."""

    description: str
    check: str
    severity: str
    path: str
    line: int
    identity: str = ""

    def to_json(self, project_dir: str | None = None) -> dict[str, Any]:
        """The issue in GitLab's format, its path relative to ``project_dir``."""
        path = project_path(self.path, project_dir)
        check_name = f"{CHECK_PREFIX}/{self.check}"
        key = "\0".join((check_name, path, self.identity or self.description))
        return {
            "description": self.description,
            "check_name": check_name,
            "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest()[:32],
            "severity": self.severity if self.severity in SEVERITIES else "major",
            "location": {"path": path, "lines": {"begin": max(1, int(self.line or 1))}},
        }


def project_dir_default() -> str:
    """Where paths are relative to: ``CI_PROJECT_DIR`` in a GitLab job, else the current directory."""
    return os.environ.get("CI_PROJECT_DIR") or os.getcwd()


def project_path(path: str, project_dir: str | None = None) -> str:
    """``path`` relative to the project directory, with forward slashes (GitLab matches it against
    the repository's files). A path outside the project stays as given."""
    base = os.path.abspath(project_dir or project_dir_default())
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive (Windows)
        relative = path
    if relative == os.curdir or relative.startswith(os.pardir + os.sep) or relative == os.pardir:
        relative = path
    relative = relative.replace(os.sep, "/")
    return relative[2:] if relative.startswith("./") else relative


def render_codequality(issues: Iterable[Issue], *, project_dir: str | None = None) -> str:
    """The report: a JSON array (``[]`` when there is nothing to say: the widget then shows the
    findings of the target branch as resolved)."""
    unique: dict[str, dict[str, Any]] = {}
    for issue in issues:
        document = issue.to_json(project_dir)
        # GitLab shows findings with one fingerprint as one entry: keep the first, on its line.
        unique.setdefault(document["fingerprint"], document)
    return json.dumps(list(unique.values()), indent=2, ensure_ascii=False) + "\n"


def drift_issues(document: Mapping[str, Any], *, path: str, line: int) -> list[Issue]:
    """The ownership warnings of a drift report as issues at the values file's ``networkPolicy``
    block (``path``, ``line``): what the deploy of this merge request would do to policies the
    pipeline does not own. Drift itself is the expected result of a merge request, not a finding."""
    issues = []
    for warning in document.get("warnings") or []:
        if not isinstance(warning, Mapping):
            continue
        code = str(warning.get("code") or "warning")
        where = f"{warning.get('kind', '')} {warning.get('namespace', '')}/{warning.get('name', '')}"
        environment = document.get("environment")
        prefix = f"[{environment}] " if environment else ""
        issues.append(
            Issue(
                description=f"{prefix}{code}: {where}: {warning.get('reason', '')}",
                check=f"ownership/{code}",
                severity=SEVERITY_OF.get(str(warning.get("severity")), "major"),
                path=path,
                line=line,
                identity=f"{environment}\0{where}\0{code}",
            )
        )
    return issues
