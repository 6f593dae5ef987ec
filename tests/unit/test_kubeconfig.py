"""Kubeconfig resolution as kubectl does it, the retry backoff and the shipped RBAC."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from autodeploy_netpol.errors import ClusterError, ExitCode
from autodeploy_netpol.sources.cluster import (
    CILIUM_NETWORK_POLICIES,
    NETWORK_POLICIES,
    POLICY_RESOURCES,
    ClusterAccess,
    ClusterReader,
    RetryPolicy,
)
from autodeploy_netpol.sources.kubeconfig import NoClusterAccess, merge_kubeconfigs, resolve_target

REPO = Path(__file__).resolve().parents[2]


def kubeconfig(path: Path, contexts: dict[str, str], current: str | None = None, **extra: Any) -> str:
    """Write a kubeconfig: context name → server URL (cluster and user named after the context)."""
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}} for name, server in contexts.items()],
        "users": [{"name": name, "user": {"token": f"{name}-token"}} for name in contexts],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name in contexts],
        **extra,
    }
    if current is not None:
        document["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return str(path)


def test_explicit_kubeconfig_wins_over_the_environment(tmp_path: Path) -> None:
    explicit = kubeconfig(tmp_path / "explicit", {"a": "https://a:6443"}, current="a")
    listed = kubeconfig(tmp_path / "listed", {"b": "https://b:6443"}, current="b")

    target = resolve_target(kubeconfig=explicit, environ={"KUBECONFIG": listed})

    assert (target.context, target.server) == ("a", "https://a:6443")
    assert target.files == (explicit,)


def test_a_missing_explicit_kubeconfig_is_an_access_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterError) as caught:
        resolve_target(kubeconfig=str(tmp_path / "nope"), environ={})

    assert caught.value.exit_code == ExitCode.ACCESS
    assert "does not exist" in caught.value.message


def test_kubeconfig_list_merges_with_the_first_file_winning(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "first", {"shared": "https://first:6443"}, current="shared")
    second = kubeconfig(
        tmp_path / "second",
        {"shared": "https://second:6443", "only-second": "https://o:6443"},
        current="only-second",
    )
    missing = str(tmp_path / "missing")

    target = resolve_target(environ={"KUBECONFIG": os.pathsep.join([missing, first, "", second])})

    # current-context: the first file that sets it (the Python client's own merger takes the last).
    assert target.context == "shared"
    assert target.server == "https://first:6443"
    assert target.files == (first, second)
    other = resolve_target(context="only-second", environ={"KUBECONFIG": os.pathsep.join([first, second])})
    assert other.server == "https://o:6443"


def test_current_context_comes_from_a_later_file_when_the_first_sets_none(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "first", {"a": "https://a:6443"})
    second = kubeconfig(tmp_path / "second", {"b": "https://b:6443"}, current="a")

    target = resolve_target(environ={"KUBECONFIG": os.pathsep.join([first, second])})

    assert (target.context, target.server) == ("a", "https://a:6443")


def test_home_kubeconfig_is_the_default(tmp_path: Path) -> None:
    kubeconfig(tmp_path / ".kube" / "config", {"home": "https://home:6443"}, current="home")

    target = resolve_target(environ={"HOME": str(tmp_path)})

    assert target.server == "https://home:6443"


def test_an_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"dev": "https://d:6443", "prod": "https://p:6443"}, current="dev")

    with pytest.raises(ClusterError) as caught:
        resolve_target(kubeconfig=path, context="staging", environ={})

    assert "context 'staging' (from --context) does not exist" in caught.value.message
    assert caught.value.hint == "contexts present: dev, prod"


def test_no_current_context_and_no_context_option_is_an_error(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"dev": "https://d:6443"})

    with pytest.raises(ClusterError, match="no current-context") as caught:
        resolve_target(kubeconfig=path, environ={})

    assert "neither --context nor KUBE_CONTEXT" in caught.value.message
    assert "contexts present: dev" in caught.value.message


def test_relative_file_references_are_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    document = {
        "clusters": [
            {"name": "c", "cluster": {"server": "https://c:6443", "certificate-authority": "ca.crt"}}
        ],
        "users": [
            {
                "name": "u",
                "user": {
                    "client-certificate": "certs/me.crt",
                    "client-key": "/abs/me.key",
                    "exec": {"command": "./bin/login", "apiVersion": "client.authentication.k8s.io/v1"},
                },
            },
            {
                "name": "v",
                "user": {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}},
            },
        ],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }
    directory = tmp_path / "conf"

    merged = merge_kubeconfigs([(str(directory / "config"), document)])

    assert merged["clusters"][0]["cluster"]["certificate-authority"] == str(directory / "ca.crt")
    user = merged["users"][0]["user"]
    assert user["client-certificate"] == str(directory / "certs" / "me.crt")
    assert user["client-key"] == "/abs/me.key"
    assert user["exec"]["command"] == str(directory / "bin" / "login")
    assert merged["users"][1]["user"]["exec"]["command"] == "aws"  # a program on PATH stays a name


def test_nothing_configured_inside_a_pod_uses_the_service_account(tmp_path: Path) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    (account / "ca.crt").write_text("")
    (account / "namespace").write_text("my-app-production\n")
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

    target = resolve_target(environ=environ, service_account_dir=str(account))

    assert target.server == "https://10.96.0.1:443"
    assert target.context is None and target.kubeconfig is None
    assert target.namespace == "my-app-production"
    assert "in-cluster service account" in target.describe()


def test_a_kubeconfig_wins_over_the_service_account(tmp_path: Path) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    path = kubeconfig(tmp_path / "config", {"dev": "https://d:6443"}, current="dev")
    environ = {"KUBECONFIG": path, "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

    target = resolve_target(environ=environ, service_account_dir=str(account))

    assert target.server == "https://d:6443"


def test_nothing_configured_outside_a_cluster_is_an_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ClusterError) as caught:
        resolve_target(environ={"HOME": str(tmp_path)}, service_account_dir=str(tmp_path / "none"))

    assert "no Kubernetes cluster is configured" in caught.value.message
    assert caught.value.hint is not None and "--live" in caught.value.hint


def test_a_kubeconfig_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("- just\n- a list\n")

    with pytest.raises(ClusterError, match="not a single YAML mapping"):
        resolve_target(kubeconfig=str(path), environ={})


@pytest.mark.parametrize(
    ("retry", "rng", "expected"),
    [
        (1, 0.0, 0.25),  # the first pause: initial_delay scaled by the lowest jitter (0.5)
        (1, 1.0, 0.5),  # ... and by the highest (1.0)
        (3, 1.0, 2.0),  # doubles each retry
        (10, 1.0, 8.0),  # never above max_delay
        (10, 0.0, 4.0),
    ],
)
def test_backoff_is_exponential_jittered_and_bounded(retry: int, rng: float, expected: float) -> None:
    policy = RetryPolicy(attempts=20, initial_delay=0.5, max_delay=8.0)

    assert policy.backoff(retry, lambda: rng) == pytest.approx(expected)


def rbac_documents() -> list[dict[str, Any]]:
    with open(REPO / "deploy" / "rbac.yaml", encoding="utf-8") as stream:
        return [document for document in yaml.safe_load_all(stream) if document]


def test_the_shipped_rbac_grants_only_get_and_list_on_what_the_tool_reads() -> None:
    documents = rbac_documents()
    roles = {
        (document["kind"], document["metadata"]["name"]): document
        for document in documents
        if "rules" in document
    }

    def granted(role: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {
            (group, plural, verb)
            for rule in role["rules"]
            for group in rule["apiGroups"]
            for plural in rule["resources"]
            for verb in rule["verbs"]
        }

    policies = {
        (resource.group, resource.plural, verb) for resource in POLICY_RESOURCES for verb in ("get", "list")
    }
    assert set(roles) == {
        ("Role", "autodeploy-netpol-reader"),
        ("ClusterRole", "autodeploy-netpol-reader"),
        ("ClusterRole", "autodeploy-netpol-detection"),
    }
    assert granted(roles["Role", "autodeploy-netpol-reader"]) == policies | {("", "namespaces", "get")}
    assert granted(roles["ClusterRole", "autodeploy-netpol-reader"]) == policies
    assert granted(roles["ClusterRole", "autodeploy-netpol-detection"]) == {
        ("networking.k8s.io", "ingressclasses", "get"),
        ("networking.k8s.io", "ingressclasses", "list"),
        ("gateway.networking.k8s.io", "gatewayclasses", "get"),
        ("gateway.networking.k8s.io", "gatewayclasses", "list"),
        ("gateway.networking.k8s.io", "gateways", "get"),
        ("gateway.networking.k8s.io", "gateways", "list"),
        ("", "namespaces", "list"),
        ("", "pods", "list"),
    }
    bindings = {
        (document["kind"], document["roleRef"]["kind"], document["roleRef"]["name"])
        for document in documents
        if "roleRef" in document
    }
    assert bindings == {
        ("RoleBinding", "Role", "autodeploy-netpol-reader"),
        ("ClusterRoleBinding", "ClusterRole", "autodeploy-netpol-reader"),
        ("ClusterRoleBinding", "ClusterRole", "autodeploy-netpol-detection"),
    }
    assert {NETWORK_POLICIES.qualified, CILIUM_NETWORK_POLICIES.qualified} == {
        f"{plural}.{group}" for group, plural, _ in policies
    }


def test_the_in_cluster_client_carries_the_mounted_token_and_ca(tmp_path: Path) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    (account / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    reader = ClusterReader(ClusterAccess(), environ=environ, service_account_dir=str(account))

    configuration = reader._api_client().configuration

    assert configuration.host == "https://10.96.0.1:443"
    # What the client will send (its public auth settings; the api_key dict's key name changed
    # between client releases).
    assert configuration.auth_settings()["BearerToken"]["value"].lower() == "bearer pod-token"
    assert configuration.ssl_ca_cert == str(account / "ca.crt")
    assert configuration.retries is False  # the reader's retries are the only ones
    reader.close()


def agent_kubeconfig(path: Path) -> str:
    """As the GitLab agent writes it: one context per agent, no current-context."""
    return kubeconfig(
        path, {"platform/agents:production": "https://p:6443", "platform/agents:staging": "https://s:6443"}
    )


def test_kube_context_selects_the_context_when_no_option_does(tmp_path: Path) -> None:
    path = agent_kubeconfig(tmp_path / "config")

    target = resolve_target(environ={"KUBECONFIG": path, "KUBE_CONTEXT": "platform/agents:staging"})

    assert target.context == "platform/agents:staging" and target.server == "https://s:6443"


def test_the_context_option_wins_over_kube_context(tmp_path: Path) -> None:
    path = agent_kubeconfig(tmp_path / "config")
    environ = {"KUBECONFIG": path, "KUBE_CONTEXT": "platform/agents:staging"}

    target = resolve_target(context="platform/agents:production", environ=environ)

    assert target.server == "https://p:6443"


def test_a_kube_context_that_does_not_exist_says_where_it_came_from(tmp_path: Path) -> None:
    path = agent_kubeconfig(tmp_path / "config")

    with pytest.raises(ClusterError) as caught:
        resolve_target(environ={"KUBECONFIG": path, "KUBE_CONTEXT": "platform/agents:typo"})

    assert "'platform/agents:typo' (from KUBE_CONTEXT) does not exist" in caught.value.message
    assert "platform/agents:production, platform/agents:staging" in str(caught.value.hint)


def test_the_agent_kubeconfig_without_kube_context_lists_its_contexts(tmp_path: Path) -> None:
    path = agent_kubeconfig(tmp_path / "config")

    with pytest.raises(ClusterError) as caught:
        resolve_target(environ={"KUBECONFIG": path, "CI": "true"})

    assert "platform/agents:production, platform/agents:staging" in caught.value.message
    assert "KUBE_CONTEXT" in str(caught.value.hint)


def test_the_context_namespace_is_on_the_target(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": "https://c:6443"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "a:b", "context": {"cluster": "c", "user": "u", "namespace": "shop-42"}}
                ],
            }
        )
    )

    assert resolve_target(environ={"KUBECONFIG": str(path), "KUBE_CONTEXT": "a:b"}).namespace == "shop-42"


def service_account(tmp_path: Path) -> tuple[str, dict[str, str]]:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    (account / "ca.crt").write_text("")
    return str(account), {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


@pytest.mark.parametrize("ci", [{"CI": "true"}, {"GITLAB_CI": "true"}])
def test_in_ci_the_runner_pods_service_account_is_not_cluster_access(
    tmp_path: Path, ci: dict[str, str]
) -> None:
    account, environ = service_account(tmp_path)

    with pytest.raises(NoClusterAccess) as caught:
        resolve_target(environ={**environ, **ci, "HOME": str(tmp_path)}, service_account_dir=account)

    assert (
        caught.value.message == "no cluster access: set KUBECONFIG (GitLab agent) or NETPOL_IN_CLUSTER=true"
    )
    assert caught.value.exit_code == 3


def test_in_ci_without_a_pod_there_is_no_cluster_access_either(tmp_path: Path) -> None:
    with pytest.raises(NoClusterAccess, match="no cluster access"):
        resolve_target(
            environ={"CI": "true", "HOME": str(tmp_path)}, service_account_dir=str(tmp_path / "none")
        )


def test_in_ci_netpol_in_cluster_opts_in_to_the_service_account(tmp_path: Path) -> None:
    account, environ = service_account(tmp_path)

    target = resolve_target(
        environ={**environ, "CI": "true", "NETPOL_IN_CLUSTER": "true"}, service_account_dir=account
    )

    assert target.kubeconfig is None and target.server == "https://10.96.0.1:443"


def test_in_ci_the_opt_in_outside_a_pod_says_so(tmp_path: Path) -> None:
    with pytest.raises(
        NoClusterAccess, match="NETPOL_IN_CLUSTER is true, but this job does not run in a pod"
    ):
        resolve_target(
            environ={"CI": "true", "NETPOL_IN_CLUSTER": "true", "HOME": str(tmp_path)},
            service_account_dir=str(tmp_path / "none"),
        )


def test_the_in_cluster_option_ignores_kubeconfig_files(tmp_path: Path) -> None:
    account, environ = service_account(tmp_path)
    path = kubeconfig(tmp_path / "config", {"dev": "https://d:6443"}, current="dev")

    target = resolve_target(
        environ={**environ, "KUBECONFIG": path, "CI": "true"}, service_account_dir=account, in_cluster=True
    )

    assert target.server == "https://10.96.0.1:443"


def test_the_in_cluster_option_outside_a_pod_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="--in-cluster: this process does not run in a Kubernetes pod"):
        resolve_target(environ={}, service_account_dir=str(tmp_path / "none"), in_cluster=True)


def test_the_in_cluster_option_with_a_context_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="cannot be combined"):
        resolve_target(context="dev", environ={}, in_cluster=True)


def test_a_kubeconfig_in_ci_is_cluster_access(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"dev": "https://d:6443"}, current="dev")

    assert resolve_target(environ={"KUBECONFIG": path, "CI": "true"}).server == "https://d:6443"
