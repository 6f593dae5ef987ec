"""The shared cluster options, through click, as a command that reads a cluster would use them."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from autodeploy_netpol.cli.cluster_options import (
    CLUSTER_OPTION_NAMES,
    access_from_options,
    cluster_access_options,
    cluster_options,
)
from autodeploy_netpol.cli.common import handle_errors
from autodeploy_netpol.sources.cluster import ClusterReader, RetryPolicy


@click.command()
@cluster_options
@click.option("--namespace", default="team-a")
@handle_errors
def read_policies(
    kubeconfig: str | None,
    context: str | None,
    request_timeout: float,
    page_size: int,
    in_cluster: bool,
    read_deadline: float,
    max_pages: int,
    all_namespaces: bool,
    namespace: str,
) -> int:
    """A command shaped like `drift`: report the options, then read policies."""
    fast = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.002)
    access = access_from_options(
        kubeconfig,
        context,
        request_timeout,
        page_size,
        in_cluster=in_cluster,
        read_deadline=read_deadline,
        max_pages=max_pages,
        retry=fast,
    )
    with ClusterReader(access) as reader:
        access = reader.access
        click.echo(f"timeout={access.request_timeout:g} page={access.page_size} context={access.context}")
        click.echo(f"deadline={access.read_deadline:g} pages={access.max_pages}")
        state = reader.policies(None if all_namespaces else namespace)
        click.echo(f"{len(state.objects)} objects from {state.source}")
    return 0


@click.command()
@cluster_access_options
@click.option("--all-namespaces", "-A", "everywhere", is_flag=True, help="The command's own flag.")
def own_flag(everywhere: bool, **access: Any) -> None:
    """A command like `drift`, whose --all-namespaces also applies to snapshots."""
    resolved = access_from_options(**{name: access.pop(name) for name in CLUSTER_OPTION_NAMES})
    click.echo(f"everywhere={everywhere} timeout={resolved.request_timeout:g} left={sorted(access)}")


def test_read_deadline_and_max_pages_reach_the_reader(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        read_policies,
        ["--kubeconfig", unreachable_kubeconfig(tmp_path), "--read-deadline", "2m", "--max-pages", "9"],
    )
    assert "deadline=120 pages=9" in result.output
    defaults = CliRunner().invoke(read_policies, ["--kubeconfig", unreachable_kubeconfig(tmp_path)])
    assert "deadline=300 pages=1000" in defaults.output


def test_access_options_leave_all_namespaces_to_the_command() -> None:
    result = CliRunner().invoke(own_flag, ["-A", "--request-timeout", "5s", "--context", "dev"])

    assert result.exit_code == 0, result.output
    assert result.output == "everywhere=True timeout=5 left=[]\n"


def unreachable_kubeconfig(tmp_path: Path) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "gone", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return str(path)


@pytest.mark.parametrize(
    ("given", "seconds"), [("30", "30"), ("500ms", "0.5"), ("2m", "120"), ("1.5s", "1.5")]
)
def test_request_timeout_takes_kubectl_style_durations(tmp_path: Path, given: str, seconds: str) -> None:
    result = CliRunner().invoke(
        read_policies,
        ["--kubeconfig", str(tmp_path / "absent"), "--request-timeout", given, "--page-size", "7"],
    )

    assert f"timeout={seconds} page=7 context=None" in result.output


@pytest.mark.parametrize("given", ["soon", "0", "-1s", "5d"])
def test_a_bad_request_timeout_is_a_usage_error(given: str) -> None:
    result = CliRunner().invoke(read_policies, ["--request-timeout", given])

    assert result.exit_code == 2
    assert "--request-timeout" in result.output


def test_an_unreachable_cluster_exits_3_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    kubeconfig = unreachable_kubeconfig(tmp_path)

    result = CliRunner().invoke(read_policies, ["--kubeconfig", kubeconfig, "--request-timeout", "1s", "-A"])

    assert result.exit_code == 3
    assert "error: cannot list networkpolicies.networking.k8s.io across all namespaces" in result.output
    assert "is unreachable" in result.output and "gave up after 2 attempts" in result.output
    assert "hint:" in result.output
    assert "Traceback" not in result.output


def test_a_missing_kubeconfig_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(read_policies, ["--kubeconfig", str(tmp_path / "absent")])

    assert result.exit_code == 3
    assert f"error: kubeconfig file {tmp_path / 'absent'} does not exist" in result.output
