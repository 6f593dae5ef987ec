"""Where the cluster is and who we are: kubeconfig and service-account resolution, as kubectl does it.

kubectl (client-go's loading rules) picks its configuration in this order:

1. ``--kubeconfig FILE``: that file only; it must exist.
2. ``KUBECONFIG``: a list of files separated by ``:`` (``;`` on Windows); missing files are
   skipped; the files are merged, and *the first file to set a value wins* — for each named
   cluster, user and context, and for ``current-context``.
3. ``~/.kube/config`` if it exists.
4. Nothing configured (no context, no cluster) and running in a pod: the in-cluster service
   account (``KUBERNETES_SERVICE_HOST``/``_PORT`` plus the mounted token and CA).

``--context`` (else ``KUBE_CONTEXT``, which GitLab's agent setup uses: the agent's kubeconfig has one
context per agent and no ``current-context``) selects a context instead of ``current-context``.

In CI (``CI`` or ``GITLAB_CI`` set) step 4 needs an explicit opt-in (``--in-cluster`` or
``NETPOL_IN_CLUSTER=true``): Kubernetes-executor runners set ``KUBERNETES_SERVICE_HOST`` in every
job pod, which says nothing about access to the deploy cluster. Relative file paths in a
kubeconfig (certificates, keys, token files, exec commands) are relative to the file that
names them. The kubernetes Python client's own merger lets the *last* file set
``current-context`` and resolves paths differently, so the merging is done here and only the
final, merged mapping is handed to the client.

This module reads files and environment variables but does not touch the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ClusterError, Location
from ..masking import register_secret
from .yamlio import load_documents

#: Where Kubernetes mounts a pod's service-account credentials.
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

_NAMED_SECTIONS = ("clusters", "users", "contexts")

#: Variables that say the process runs in a CI job (GitLab sets both).
CI_VARIABLES = ("CI", "GITLAB_CI")

_CI_ACCESS_HINT = (
    "in GitLab CI the agent for Kubernetes provides KUBECONFIG (one context per agent; select it with "
    "KUBE_CONTEXT); NETPOL_IN_CLUSTER=true (or --in-cluster) uses the job pod's own service account, "
    "only right when the runner runs in the deploy cluster with the tool's Role; without cluster "
    "access use a snapshot (--live FILE)"
)

_KUBECONFIG_HINT = (
    "pass --kubeconfig FILE (and --context NAME), set KUBECONFIG, or run inside the cluster; "
    "without cluster access, compare against a snapshot with --live FILE"
)


@dataclass(frozen=True)
class ClusterTarget:
    """The resolved answer to "which API server, as whom": enough to build a client.

    ``kubeconfig`` is the merged kubeconfig mapping (``None`` for in-cluster access);
    ``origin`` says where it came from, for messages.
    """

    server: str
    context: str | None
    origin: str
    namespace: str | None = None
    kubeconfig: dict[str, Any] | None = None
    service_account_dir: str | None = None
    files: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """Short human description: ``context 'kind-dev' (https://127.0.0.1:6443)``."""
        if self.context is None:
            return f"in-cluster service account ({self.server})"
        return f"context '{self.context}' ({self.server})"


def kubeconfig_files(explicit: str | None, environ: Mapping[str, str]) -> list[str]:
    """The kubeconfig files kubectl would read, in precedence order (may be empty)."""
    if explicit:
        if not os.path.isfile(explicit):
            raise ClusterError(f"kubeconfig file {explicit} does not exist", hint=_KUBECONFIG_HINT)
        return [explicit]
    listed = environ.get("KUBECONFIG", "")
    if listed:
        seen: list[str] = []
        for path in listed.split(os.pathsep):
            if path and path not in seen and os.path.isfile(path):
                seen.append(path)
        return seen
    home = environ.get("HOME")
    default = os.path.join(home, ".kube", "config") if home else None
    return [default] if default and os.path.isfile(default) else []


def _absolute(path: Any, base: str) -> Any:
    if isinstance(path, str) and path and not os.path.isabs(path):
        return os.path.normpath(os.path.join(base, path))
    return path


def _resolve_paths(section: str, entry: dict[str, Any], base: str) -> dict[str, Any]:
    """Make the file references of one named entry absolute, relative to its own file."""
    body_key = section[:-1]  # clusters → cluster, users → user, contexts → context
    body = entry.get(body_key)
    if body is None:
        return entry
    if not isinstance(body, dict):
        raise ClusterError(
            f"kubeconfig: the {body_key} of {body_key} entry {entry['name']!r} must be a mapping",
            hint=_KUBECONFIG_HINT,
        )
    body = dict(body)
    if section == "clusters":
        body["certificate-authority"] = _absolute(body.get("certificate-authority"), base)
    elif section == "users":
        for key in ("client-certificate", "client-key", "tokenFile"):
            body[key] = _absolute(body.get(key), base)
        exec_config = body.get("exec")
        # client-go resolves an exec command only when it names a path, not a bare program name.
        if isinstance(exec_config, dict) and "/" in str(exec_config.get("command", "")):
            body["exec"] = {**exec_config, "command": _absolute(exec_config["command"], base)}
    body = {key: value for key, value in body.items() if value is not None}
    return {**entry, body_key: body}


def merge_kubeconfigs(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge kubeconfig mappings with kubectl's rule: the first file to set a value wins.

    ``documents`` are ``(path, mapping)`` pairs in precedence order. Named clusters, users and
    contexts are kept whole from the first file naming them; ``current-context`` comes from the
    first file that sets a non-empty one.
    """
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "current-context": ""}
    for section in _NAMED_SECTIONS:
        merged[section] = []
    names: dict[str, set[str]] = {section: set() for section in _NAMED_SECTIONS}
    for path, document in documents:
        base = os.path.dirname(os.path.abspath(path))
        for section in _NAMED_SECTIONS:
            entries = document.get(section) or []
            if not isinstance(entries, list):
                raise ClusterError(
                    f"kubeconfig {path}: '{section}' must be a list",
                    location=Location(path),
                    hint=_KUBECONFIG_HINT,
                )
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise ClusterError(
                        f"kubeconfig {path}: every entry of '{section}' needs a name",
                        location=Location(path),
                        hint=_KUBECONFIG_HINT,
                    )
                if entry["name"] in names[section]:
                    continue
                names[section].add(entry["name"])
                try:
                    merged[section].append(_resolve_paths(section, entry, base))
                except ClusterError as error:
                    error.location = Location(path)
                    raise
        current = document.get("current-context")
        if current is not None and not isinstance(current, str):
            raise ClusterError(
                f"kubeconfig {path}: 'current-context' must be a string",
                location=Location(path),
                hint=_KUBECONFIG_HINT,
            )
        if not merged["current-context"] and current:
            merged["current-context"] = current
    return merged


#: Keys of a kubeconfig user that hold a credential (also inside auth-provider config).
_CREDENTIAL_KEYS = frozenset(
    {"token", "password", "client-key-data", "id-token", "refresh-token", "access-token", "client-secret"}
)


def _register_credentials(document: dict[str, Any]) -> None:
    """Mask every credential of every user in a kubeconfig, used or not (the tool holds them all)."""
    users = document.get("users")
    for entry in users if isinstance(users, list) else []:
        user = entry.get("user") if isinstance(entry, dict) else None
        if not isinstance(user, dict):
            continue
        provider = user.get("auth-provider")
        config = provider.get("config") if isinstance(provider, dict) else None
        for mapping in (user, config if isinstance(config, dict) else {}):
            for key, value in mapping.items():
                if key in _CREDENTIAL_KEYS:
                    register_secret(value)
        exec_config = user.get("exec")
        variables = exec_config.get("env") if isinstance(exec_config, dict) else None
        for variable in variables if isinstance(variables, list) else []:
            if isinstance(variable, dict):
                register_secret(variable.get("value"))


def _read_kubeconfig(path: str) -> dict[str, Any]:
    documents = load_documents(path, what="kubeconfig")
    if not documents:
        return {}
    data = documents[0].data
    if len(documents) > 1 or not isinstance(data, dict):
        raise ClusterError(
            f"kubeconfig {path} is not a single YAML mapping",
            location=Location(path),
            hint="a kubeconfig starts with 'apiVersion: v1' and 'kind: Config'",
        )
    _register_credentials(data)
    return data


def _named(merged: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for entry in merged[section]:
        if entry["name"] == name:
            body = entry.get(section[:-1])
            return body if isinstance(body, dict) else {}
    return None


def in_cluster_possible(environ: Mapping[str, str], service_account_dir: str = SERVICE_ACCOUNT_DIR) -> bool:
    """Whether this process runs in a pod with a mounted service-account token (client-go's test)."""
    return bool(
        environ.get("KUBERNETES_SERVICE_HOST")
        and environ.get("KUBERNETES_SERVICE_PORT")
        and os.path.isfile(os.path.join(service_account_dir, "token"))
    )


def in_ci(environ: Mapping[str, str]) -> bool:
    """Whether this process runs as a CI job (``CI`` or ``GITLAB_CI`` set and not ``false``)."""
    return any(environ.get(name, "").strip().lower() not in ("", "false", "0") for name in CI_VARIABLES)


def in_cluster_opt_in(environ: Mapping[str, str]) -> bool:
    """Whether ``NETPOL_IN_CLUSTER`` asks for the pod's service account."""
    return environ.get("NETPOL_IN_CLUSTER", "").strip().lower() == "true"


class NoClusterAccess(ClusterError):
    """In CI, nothing grants access to the deploy cluster (no kubeconfig, no in-cluster opt-in)."""


def _in_cluster_target(environ: Mapping[str, str], service_account_dir: str) -> ClusterTarget:
    host = environ["KUBERNETES_SERVICE_HOST"]
    port = environ["KUBERNETES_SERVICE_PORT"]
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    namespace = None
    namespace_file = os.path.join(service_account_dir, "namespace")
    if os.path.isfile(namespace_file):
        with open(namespace_file, encoding="utf-8") as stream:
            namespace = stream.read().strip() or None
    return ClusterTarget(
        server=f"https://{host}:{port}",
        context=None,
        origin=f"in-cluster service account ({service_account_dir})",
        namespace=namespace,
        service_account_dir=service_account_dir,
    )


def resolve_target(
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
    service_account_dir: str = SERVICE_ACCOUNT_DIR,
    in_cluster: bool = False,
) -> ClusterTarget:
    """Decide which API server to talk to and with which credentials, as kubectl would.

    ``context`` defaults to ``KUBE_CONTEXT``. ``in_cluster`` (``--in-cluster``) asks for the pod's
    service account and ignores kubeconfig files; in CI the service account is otherwise used only
    with ``NETPOL_IN_CLUSTER=true``.

    Raises :class:`ClusterError` when nothing usable is configured (:class:`NoClusterAccess` in
    CI), when the context (flag or ``KUBE_CONTEXT``) names a context that does not exist, when no
    context is selected, or when a context points at a missing cluster.
    """
    env = os.environ if environ is None else environ
    if in_cluster:
        if kubeconfig or context:
            raise ClusterError(
                "--in-cluster uses the pod's service account: it cannot be combined with --kubeconfig or --context",
                hint="drop --in-cluster to use the kubeconfig",
            )
        if not in_cluster_possible(env, service_account_dir):
            raise ClusterError(
                "--in-cluster: this process does not run in a Kubernetes pod with a service account "
                f"(KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT and {service_account_dir}/token)",
                hint=_KUBECONFIG_HINT,
            )
        return _in_cluster_target(env, service_account_dir)
    origin = "--context"
    if not context and env.get("KUBE_CONTEXT", "").strip():
        context, origin = env["KUBE_CONTEXT"].strip(), "KUBE_CONTEXT"
    files = kubeconfig_files(kubeconfig, env)
    merged = merge_kubeconfigs([(path, _read_kubeconfig(path)) for path in files])
    empty = not any(merged[section] for section in _NAMED_SECTIONS)
    where = ", ".join(files) if files else "no kubeconfig file"
    ci = in_ci(env)
    if empty and not context and not kubeconfig:
        allowed = not ci or in_cluster_opt_in(env)
        if allowed and in_cluster_possible(env, service_account_dir):
            return _in_cluster_target(env, service_account_dir)
        if ci:
            if in_cluster_opt_in(env):
                raise NoClusterAccess(
                    "NETPOL_IN_CLUSTER is true, but this job does not run in a pod with a service-account "
                    f"token (KUBERNETES_SERVICE_HOST/PORT and {service_account_dir}/token) and has no KUBECONFIG",
                    hint=_CI_ACCESS_HINT,
                )
            raise NoClusterAccess(
                "no cluster access: set KUBECONFIG (GitLab agent) or NETPOL_IN_CLUSTER=true",
                hint=_CI_ACCESS_HINT,
            )
    if empty:
        raise ClusterError(f"no Kubernetes cluster is configured ({where})", hint=_KUBECONFIG_HINT)
    names = ", ".join(entry["name"] for entry in merged["contexts"]) or "none"
    chosen = context or merged["current-context"]
    if not chosen:
        raise ClusterError(
            f"no context selected: {where} sets no current-context, and neither --context nor KUBE_CONTEXT "
            f"names one (contexts present: {names})",
            hint="pass --context NAME or set KUBE_CONTEXT to one of them (GitLab's agent names its "
            "contexts <agent configuration project path>:<agent name>)",
        )
    context_body = _named(merged, "contexts", chosen)
    if context_body is None:
        given = f" (from {origin})" if context else ""
        raise ClusterError(
            f"context '{chosen}'{given} does not exist in {where}", hint=f"contexts present: {names}"
        )
    cluster_name = context_body.get("cluster")
    cluster = _named(merged, "clusters", cluster_name) if isinstance(cluster_name, str) else None
    if not cluster or not cluster.get("server"):
        raise ClusterError(
            f"context '{chosen}' refers to cluster '{cluster_name}', which has no server in {where}",
            hint=_KUBECONFIG_HINT,
        )
    namespace = context_body.get("namespace") or None
    for field_name, value in (("server", cluster["server"]), ("namespace", namespace)):
        if value is not None and not isinstance(value, str):
            raise ClusterError(
                f"context '{chosen}' in {where}: the {field_name} must be a string",
                hint=_KUBECONFIG_HINT,
            )
    merged["current-context"] = chosen
    return ClusterTarget(
        server=str(cluster["server"]).rstrip("/"),
        context=chosen,
        origin=f"kubeconfig {where}",
        namespace=namespace,
        kubeconfig=merged,
        files=tuple(files),
    )
