"""Run the CI template the way a user's project runs it: gitlab-ci-local (the npm package, 4.70.1)
on a throw-away Git project whose ``.gitlab-ci.yml`` includes GitLab's Auto DevOps templates (the
copies in ``../shared/gitlab/ci-templates``) and this repository's template, exactly as the README
says. Jobs run with the shell executor (there is no container engine here): the Auto DevOps deploy
jobs run their own, unchanged scripts, and ``auto-deploy`` on PATH is a probe that records what each
deploy job received. Only ``build`` is replaced (its script is ``/build/build.sh`` of the auto-build
image, and its docker-in-docker service needs an engine): the stand-in writes the same dotenv.

gitlab-ci-local resolves ``include: template:`` and ``include: project:`` from its state directory
(``.gitlab-ci-local/includes/<host>/<project>/<ref>/<file>``) and downloads only what is missing;
the project is seeded there, so nothing is fetched. It ignores ``workflow:rules``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / ".gitlab" / "autodeploy-netpol.gitlab-ci.yml"
SHARED_TEMPLATES = ROOT.parent / "shared" / "gitlab" / "ci-templates"
VERSION = "4.70.1"

#: Where the tool's project lives in the README's include example, and the ref it pins.
TOOL_PROJECT = "tools/autodeploy-netpol"
SERVER_HOST = "gitlab.example.com"
PROJECT_PATH = "shop/api"

#: The README's include, verbatim in spirit: Auto DevOps, then this template from the tool's project.
INCLUDE_AFTER = f"""\
include:
  - template: Auto-DevOps.gitlab-ci.yml
  - project: {TOOL_PROJECT}
    ref: {{ref}}
    file: .gitlab/autodeploy-netpol.gitlab-ci.yml
"""
INCLUDE_BEFORE = f"""\
include:
  - project: {TOOL_PROJECT}
    ref: {{ref}}
    file: .gitlab/autodeploy-netpol.gitlab-ci.yml
  - template: Auto-DevOps.gitlab-ci.yml
"""

#: The stand-in for Auto Build: the dotenv the real build job writes (image repository and tag).
BUILD_STANDIN = """\
build:
  services: []
  script:
    - echo "CI_APPLICATION_REPOSITORY=$CI_REGISTRY_IMAGE/$CI_COMMIT_REF_SLUG" > gl-auto-build-variables.env
    - echo "CI_APPLICATION_TAG=$CI_COMMIT_SHA" >> gl-auto-build-variables.env
"""

#: Auto DevOps jobs that need images and services the shell executor does not have; each has
#: its documented switch. The deploy jobs, build and the netpol jobs stay.
DISABLE_SCANNERS = {
    "TEST_DISABLED": "1",
    "CODE_QUALITY_DISABLED": "1",
    "CONTAINER_SCANNING_DISABLED": "1",
    "SECRET_DETECTION_DISABLED": "1",
    "SAST_DISABLED": "1",
    "DEPENDENCY_SCANNING_DISABLED": "1",
    "BROWSER_PERFORMANCE_DISABLED": "1",
    "LOAD_PERFORMANCE_DISABLED": "1",
    "DAST_DISABLED": "1",
    "CODE_INTELLIGENCE_DISABLED": "1",
}

#: The deploy jobs of Jobs/Deploy.gitlab-ci.yml and the environment whose handoff each receives.
DEPLOY_JOBS = {
    "review": "review",
    "staging": "staging",
    "canary": "production",
    "production": "production",
    "production_manual": "production",
    **{f"rollout {n}%": "production" for n in (10, 25, 50, 100)},
    **{f"timed rollout {n}%": "production" for n in (10, 25, 50, 100)},
}

PROBE = """\
#!{python}
# Stand-in for the auto-deploy-image's `auto-deploy`: records what a deploy job sees.
import json, os, sys
from pathlib import Path
record = {{
    "job": os.environ.get("CI_JOB_NAME"),
    "args": sys.argv[1:],
    "environment": os.environ.get("CI_ENVIRONMENT_NAME"),
    "env": {{k: os.environ.get(k) for k in (
        "HELM_UPGRADE_VALUES_FILE", "CI_APPLICATION_TAG", "CI_APPLICATION_REPOSITORY",
        "NETPOL_HANDOFF_ENVIRONMENT", "NETPOL_HANDOFF_JOB", "NETPOL_HANDOFF_VALUES_FILE")}},
}}
if sys.argv[1:2] == ["deploy"]:
    values = Path(os.environ.get("HELM_UPGRADE_VALUES_FILE") or ".gitlab/auto-deploy-values.yaml")
    record["values"] = values.read_text() if values.is_file() else None
    templates = Path("chart/templates")
    record["chart_templates"] = sorted(p.name for p in templates.iterdir()) if templates.is_dir() else None
with open(os.environ["NETPOL_PROBE_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
"""


def version_of(executable: str) -> str:
    """What ``gitlab-ci-local --version`` says."""
    result = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    return result.stdout.strip()


def missing_prerequisites() -> list[str]:
    """What else gitlab-ci-local's shell executor needs: it copies artifacts with rsync."""
    return [tool for tool in ("git", "rsync", "bash") if shutil.which(tool) is None]


@dataclass
class Run:
    """One gitlab-ci-local invocation: its exit code, output and what the probe recorded."""

    returncode: int
    output: str
    project: Project
    probes: list[dict[str, Any]] = field(default_factory=list)

    def job_log(self, job: str) -> str:
        """The job's log as gitlab-ci-local wrote it (``.gitlab-ci-local/output/<job>.log``)."""
        path = self.project.state / "output" / f"{safe_job_name(job)}.log"
        return path.read_text() if path.exists() else ""

    def passed(self) -> set[str]:
        return set(re.findall(r"^ PASS +(?:\[[^]]*\] +)?(\S.*?)\s*$", self.output, re.MULTILINE))

    def failed(self) -> set[str]:
        return set(re.findall(r"^ FAIL +(?:\[[^]]*\] +)?(\S.*?)\s*$", self.output, re.MULTILINE))

    def artifact(self, job: str, path: str) -> Path:
        return self.project.state / "artifacts" / safe_job_name(job) / path

    def deploys(self) -> dict[str, dict[str, Any]]:
        """The probe's record of each deploy job's `auto-deploy deploy` call, by job."""
        return {probe["job"]: probe for probe in self.probes if probe["args"][:1] == ["deploy"]}


def safe_job_name(job: str) -> str:
    """gitlab-ci-local's file-name form of a job name (non-word runs base64url-encoded)."""
    import base64

    def encode(match: re.Match[str]) -> str:
        return base64.urlsafe_b64encode(match.group(0).encode()).decode().rstrip("=")

    return re.sub(r"[^\w-]+", encode, job)


class Project:
    """A Git project on disk that includes Auto DevOps and the template, ready for gitlab-ci-local."""

    def __init__(
        self,
        root: Path,
        executable: str,
        *,
        ci_yaml: str | None = None,
        values: str | None = None,
        files: Mapping[str, str] | None = None,
        template: str | None = None,
        branch: str = "main",
    ) -> None:
        self.root = root
        self.executable = executable
        self.state = root / ".gitlab-ci-local"
        self.ref = "v" + tool_version()
        self.probe_log = root.parent / f"{root.name}-probe.jsonl"
        self.bin = root.parent / f"{root.name}-bin"
        root.mkdir(parents=True)
        self._git("init", "-q", "-b", "main")
        self._git("remote", "add", "origin", f"https://{SERVER_HOST}/{PROJECT_PATH}.git")
        self.write(
            ".gitlab-ci.yml",
            ci_yaml if ci_yaml is not None else INCLUDE_AFTER.format(ref=self.ref) + BUILD_STANDIN,
        )
        self.write("Dockerfile", "FROM scratch\n")
        if values is not None:
            self.write(".gitlab/auto-deploy-values.yaml", values)
        for name, text in (files or {}).items():
            self.write(name, text)
        self.commit("initial")
        # origin/HEAD, so gitlab-ci-local knows the default branch as GitLab would.
        self._git("update-ref", "refs/remotes/origin/main", "HEAD")
        self._git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
        if branch != "main":
            self._git("checkout", "-q", "-b", branch)
        self._seed_includes(template if template is not None else TEMPLATE.read_text())
        self.bin.mkdir()
        probe = self.bin / "auto-deploy"
        probe.write_text(PROBE.format(python=sys.executable))
        probe.chmod(0o755)

    def _git(self, *args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=ci@example.com", "-c", "user.name=CI", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def _seed_includes(self, template: str) -> None:
        gitlab = self.state / "includes" / "gitlab.com" / "gitlab-org" / "gitlab" / "-" / "raw" / "HEAD"
        shutil.copytree(SHARED_TEMPLATES, gitlab / "lib" / "gitlab" / "ci" / "templates")
        tool = self.state / "includes" / SERVER_HOST / TOOL_PROJECT / self.ref / ".gitlab"
        tool.mkdir(parents=True)
        (tool / "autodeploy-netpol.gitlab-ci.yml").write_text(template)

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def copy_tree(self, source: Path, name: str) -> None:
        shutil.copytree(source, self.root / name)

    def commit(self, message: str) -> None:
        self._git("add", "-A", ".")
        self._git("commit", "-q", "--allow-empty", "-m", message)

    def _command(self, args: Sequence[str], variables: Mapping[str, str], unset: Iterable[str]) -> list[str]:
        command = [self.executable, *args, "--no-color"]
        for name, value in variables.items():
            command += ["--variable", f"{name}={value}"]
        for name in unset:
            command += ["--unset-variable", name]
        if variables:
            command += ["--ignore-predefined-vars", ",".join(variables)]
        return command

    def _environ(self, path_first: Sequence[Path]) -> dict[str, str]:
        environ = {
            key: value
            for key, value in os.environ.items()
            # The runner's own CI variables must not leak into the simulated pipeline.
            if not key.startswith(("CI_", "GITLAB_", "NETPOL_", "KUBE"))
            and key not in {"CI", "HELM_UPGRADE_VALUES_FILE"}
        }
        path = [
            str(self.bin),
            *map(str, path_first),
            str(Path(sys.executable).parent),
            environ.get("PATH", ""),
        ]
        environ["PATH"] = os.pathsep.join(path)
        environ["NETPOL_PROBE_LOG"] = str(self.probe_log)
        environ["HOME"] = str(self.root.parent)
        return environ

    def jobs(
        self, variables: Mapping[str, str] | None = None, unset: Iterable[str] = ()
    ) -> dict[str, dict[str, Any]]:
        """``--list-json``: every job with its ``when`` after rules, as GitLab would create it."""
        result = subprocess.run(
            self._command(["--list-json", "--json-schema-validation=false"], variables or {}, unset),
            cwd=self.root,
            env=self._environ([]),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            raise AssertionError(f"gitlab-ci-local --list-json failed:\n{result.stdout}\n{result.stderr}")
        listed = json.loads(result.stdout[result.stdout.index("[") :])
        return {job["name"]: job for job in listed}

    def created(self, variables: Mapping[str, str] | None = None, unset: Iterable[str] = ()) -> set[str]:
        """The jobs GitLab would put into the pipeline (``when`` is not ``never``)."""
        return {name for name, job in self.jobs(variables, unset).items() if job["when"] != "never"}

    def preview(self) -> dict[str, Any]:
        """The merged configuration (includes, extends and !reference expanded)."""
        # Into a file, not a pipe: Node writes to a pipe asynchronously and gitlab-ci-local exits
        # before a long preview (over 64 KiB) is flushed, which cut the YAML short now and then.
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as output:
            subprocess.run(
                self._command(["--preview"], {}, ()),
                cwd=self.root,
                env=self._environ([]),
                stdout=output,
                stderr=subprocess.PIPE,
                text=True,
                check=True,
                timeout=300,
            )
            output.seek(0)
            stdout = output.read()
        document = yaml.safe_load(stdout[stdout.index("---") :] if "---" in stdout else stdout)
        assert isinstance(document, dict)
        return document

    def run(
        self,
        *jobs: str,
        variables: Mapping[str, str] | None = None,
        unset: Iterable[str] = (),
        manual: Iterable[str] = (),
        path_first: Sequence[Path] = (),
        validate_schema: bool = False,
    ) -> Run:
        """Run the pipeline (or only ``jobs``) with the shell executor, each job in its own copy of the
        project (``--shell-isolation``), artifacts passed as GitLab passes them."""
        if self.probe_log.exists():
            self.probe_log.unlink()
        args = [*jobs, "--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source"]
        # GitLab's CI JSON schema check costs seconds a run; the tests that need it ask for it.
        args.append(f"--json-schema-validation={'true' if validate_schema else 'false'}")
        for job in manual:
            args += ["--manual", job]
        result = subprocess.run(
            self._command(args, {**DISABLE_SCANNERS, **(variables or {})}, unset),
            cwd=self.root,
            env=self._environ(path_first),
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        probes = (
            [json.loads(line) for line in self.probe_log.read_text().splitlines()]
            if self.probe_log.exists()
            else []
        )
        return Run(result.returncode, result.stdout + result.stderr, self, probes)


def tool_version() -> str:
    """The version in pyproject.toml: the ref the README's include pins is ``v<version>``."""
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert match
    return match.group(1)


def load_template(text: str) -> dict[str, Any]:
    """The template as data, GitLab's ``!reference`` tags kept as ``["!reference", ...]`` lists."""

    class Loader(yaml.SafeLoader):
        pass

    def reference(loader: yaml.SafeLoader, node: yaml.Node) -> list[Any]:
        assert isinstance(node, yaml.SequenceNode)
        return ["!reference", *loader.construct_sequence(node)]

    Loader.add_constructor("!reference", reference)
    document = yaml.load(text, Loader=Loader)
    assert isinstance(document, dict)
    return document
