"""Where a run's cluster, context and namespace come from (issue 15): KUBE_CONTEXT, the context's
namespace as kubectl uses it, a namespace missing from a snapshot, and no cluster access in CI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
VALUES = REPO / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
SNAPSHOT = REPO / "examples" / "shop" / "live-snapshot.yaml"


def agent_kubeconfig(path: Path, *, namespace: str | None = None) -> Path:
    """The GitLab agent's KUBECONFIG: one context per agent, no current-context."""
    context: dict[str, Any] = {"cluster": "agent", "user": "agent"}
    if namespace:
        context["namespace"] = namespace
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "agent", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "agent", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "platform/agents:production", "context": context},
                    {"name": "platform/agents:staging", "context": {"cluster": "agent", "user": "agent"}},
                ],
            }
        )
    )
    return path


def test_a_snapshot_without_the_namespace_is_an_input_error(cli) -> None:
    result = cli("drift", VALUES, "-r", "production", "-n", "shop-42-typo", "--live", SNAPSHOT)

    assert result.exit_code == 2, result.output
    assert "error: namespace shop-42-typo is not in the snapshot" in result.output
    assert "namespaces in it: shop-42-production" in result.output


def test_a_snapshot_of_the_namespace_compares_as_before(cli) -> None:
    result = cli("drift", VALUES, "-r", "production", "-n", "shop-42-production", "--live", SNAPSHOT)

    assert result.exit_code == 1, result.output


def test_an_empty_snapshot_is_an_empty_namespace(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("apiVersion: v1\nkind: List\nitems: []\n")

    result = cli("drift", VALUES, "-r", "production", "-n", "shop-42-production", "--live", empty)

    assert result.exit_code == 1 and "missing" in result.output


def test_with_a_snapshot_kube_namespace_is_the_namespace(cli) -> None:
    result = cli(
        "drift", VALUES, "-r", "production", "--live", SNAPSHOT, env={"KUBE_NAMESPACE": "shop-42-production"}
    )

    assert result.exit_code == 1, result.output


def test_with_a_snapshot_and_no_namespace_it_is_a_usage_error(cli) -> None:
    result = cli("drift", VALUES, "-r", "production", "--live", SNAPSHOT)

    assert result.exit_code == 2
    assert "error: no namespace" in result.output and "KUBE_NAMESPACE" in result.output


def test_a_context_without_a_namespace_is_no_namespace_naming_the_context(cli, tmp_path: Path) -> None:
    kubeconfig = agent_kubeconfig(tmp_path / "kubeconfig")

    result = cli(
        "drift",
        VALUES,
        "-r",
        "production",
        env={"KUBECONFIG": str(kubeconfig), "KUBE_CONTEXT": "platform/agents:staging"},
    )

    assert result.exit_code == 2, result.output
    assert "error: no namespace" in result.output
    assert "context 'platform/agents:staging' sets no namespace" in result.output


def test_no_context_selected_lists_the_contexts_and_exits_3(cli, tmp_path: Path) -> None:
    kubeconfig = agent_kubeconfig(tmp_path / "kubeconfig")

    result = cli("drift", VALUES, "-r", "production", "-n", "shop", env={"KUBECONFIG": str(kubeconfig)})

    assert result.exit_code == 3, result.output
    assert "platform/agents:production, platform/agents:staging" in result.output


def test_in_ci_without_a_kubeconfig_there_is_no_cluster_access(cli, tmp_path: Path) -> None:
    environment = {
        "CI": "true",
        "GITLAB_CI": "true",
        "HOME": str(tmp_path),
        "KUBECONFIG": "",
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
    }

    result = cli("drift", VALUES, "-r", "production", "-n", "shop", env=environment)

    assert result.exit_code == 3, result.output
    assert (
        "error: no cluster access: set KUBECONFIG (GitLab agent) or NETPOL_IN_CLUSTER=true" in result.output
    )


def test_in_ci_without_access_and_without_a_namespace_the_access_error_wins(cli, tmp_path: Path) -> None:
    environment = {"CI": "true", "HOME": str(tmp_path), "KUBECONFIG": ""}

    result = cli("drift", VALUES, "-r", "production", env=environment)

    assert result.exit_code == 3, result.output
    assert "no cluster access" in result.output


def test_in_cluster_with_a_context_is_a_usage_error(cli) -> None:
    result = cli("drift", VALUES, "-r", "production", "-n", "shop", "--in-cluster", "--context", "x")

    assert result.exit_code == 2
    assert "--in-cluster" in result.output
