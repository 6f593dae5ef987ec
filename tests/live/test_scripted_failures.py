"""The emulator misbehaves on cue: pages, expired tokens, denials, missing CRDs, 5xx, 429, hangs.

kmock ignores ``limit``/``continue`` and never fails by itself, so each answer is scripted.
These tests are skipped against a real cluster (--kubeconfig), which cannot fail on cue.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
from live_harness import TOKEN, write_kubeconfig

from autodeploy_netpol.errors import ClusterError, ExitCode
from autodeploy_netpol.sources.cluster import (
    NETWORK_POLICIES,
    RBAC_FILE,
    ClusterAccess,
    ClusterReader,
    ResourceNotServed,
    RetryPolicy,
)

pytestmark = [pytest.mark.live, pytest.mark.scripted, pytest.mark.asyncio]


def policy(name: str, namespace: str = "team-a") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"podSelector": {}}}


def page(names: list[str], following: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": "4711"}
    if following:
        metadata["continue"] = following
    return {
        "kind": "NetworkPolicyList",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": metadata,
        "items": [policy(name) for name in names],
    }


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def np_resource(kmock: Any) -> Any:
    return kmock.resource("networking.k8s.io", "v1", "networkpolicies")


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [item["metadata"]["name"] for item in objects]


async def read_policies(reader: ClusterReader, namespace: str | None = "team-a") -> list[dict[str, Any]]:
    return await asyncio.to_thread(reader.list, NETWORK_POLICIES, namespace)


async def failure(call: Any, *args: Any) -> ClusterError:
    with pytest.raises(ClusterError) as caught:
        await asyncio.to_thread(call, *args)
    return caught.value


async def test_pages_are_followed_with_limit_and_continue(seeder) -> None:
    kmock = seeder.kmock
    pages = {"": page(["a", "b"], "tok-1"), "tok-1": page(["c", "d"], "tok-2"), "tok-2": page(["e"])}
    kmock["list", np_resource(kmock)] << (lambda request: pages[request.params.get("continue", "")])

    objects = await read_policies(seeder.reader(page_size=2))

    assert names(objects) == ["a", "b", "c", "d", "e"]
    requests = list(kmock[np_resource(kmock)])
    assert [request.params.get("continue") for request in requests] == [None, "tok-1", "tok-2"]
    assert {request.params.get("limit") for request in requests} == {"2"}
    assert all(item["kind"] == "NetworkPolicy" for item in objects)


async def test_an_expired_continue_token_restarts_the_list_once(seeder) -> None:
    kmock = seeder.kmock
    expired = status(
        410, "Expired", "The provided continue parameter is too old to display a consistent list"
    )
    kmock["list", np_resource(kmock), kmock.params({"continue": "stale"})] << 410 << expired
    first_pages = iter([page(["a"], "stale"), page(["a2", "b"], "fresh")])
    kmock["list", np_resource(kmock), kmock.params({"continue": "fresh"})] << page(["c"])
    kmock["list", np_resource(kmock)] << (lambda: next(first_pages))

    objects = await read_policies(seeder.reader(page_size=1))

    # The half-read first pass ("a") is dropped: only the consistent second pass counts.
    assert names(objects) == ["a2", "b", "c"]
    continues = [request.params.get("continue") for request in kmock[np_resource(kmock)]]
    assert continues == [None, "stale", None, "fresh"]


async def test_a_token_expiring_again_after_the_restart_is_an_error(seeder) -> None:
    kmock = seeder.kmock
    expired = status(410, "Expired", "The provided continue parameter is too old")
    kmock["list", np_resource(kmock), kmock.params({"continue": "stale"})] << 410 << expired
    kmock["list", np_resource(kmock)] << page(["a"], "stale")

    error = await failure(seeder.reader(page_size=1).list, NETWORK_POLICIES, "team-a")

    assert "HTTP 410" in error.message
    assert len(kmock[np_resource(kmock)]) == 4  # first pass, its expiry, the restart, its expiry


async def test_forbidden_names_verb_resource_namespace_and_the_shipped_role(seeder) -> None:
    kmock = seeder.kmock
    denial = (
        'networkpolicies.networking.k8s.io is forbidden: User "system:serviceaccount:ci:deployer" '
        'cannot list resource "networkpolicies" in API group "networking.k8s.io" in the namespace "team-a"'
    )
    kmock["list", np_resource(kmock)] << 403 << status(403, "Forbidden", denial)

    error = await failure(seeder.reader().policies, "team-a")

    assert error.exit_code == ExitCode.ACCESS
    assert error.message.startswith("cannot list networkpolicies.networking.k8s.io in namespace team-a")
    assert 'User "system:serviceaccount:ci:deployer"' in error.message
    assert error.hint is not None and RBAC_FILE in error.hint and "Role and RoleBinding" in error.hint
    assert len(kmock[np_resource(kmock)]) == 1  # a denial is not retried


async def test_forbidden_across_all_namespaces_points_at_the_cluster_role(seeder) -> None:
    kmock = seeder.kmock
    kmock["list", np_resource(kmock)] << 403 << status(403, "Forbidden", "forbidden")

    error = await failure(seeder.reader().policies, None)

    assert "cannot list networkpolicies.networking.k8s.io across all namespaces" in error.message
    assert error.hint is not None and "ClusterRole" in error.hint and RBAC_FILE in error.hint


async def test_forbidden_cilium_policies_are_an_error_not_a_skip(seeder) -> None:
    kmock = seeder.kmock
    (
        kmock["list", kmock.resource("cilium.io", "v2", "ciliumnetworkpolicies")]
        << 403
        << status(403, "Forbidden", "no")
    )

    error = await failure(seeder.reader().policies, "team-a")

    assert "cannot list ciliumnetworkpolicies.cilium.io in namespace team-a" in error.message


async def test_unauthorized_says_the_credentials_were_rejected(seeder) -> None:
    kmock = seeder.kmock
    kmock["list", np_resource(kmock)] << 401 << status(401, "Unauthorized", "Unauthorized")

    error = await failure(seeder.reader().policies, "team-a")

    assert error.exit_code == ExitCode.ACCESS
    assert "rejected the credentials of context 'emulator'" in error.message
    assert "HTTP 401" in error.message


async def test_without_the_cilium_crd_cilium_policies_are_skipped_with_a_note(seeder) -> None:
    seeder.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", **policy("web")})
    # Nothing declares cilium.io/v2: the emulator answers 404, as an API server without the CRD.

    state = await asyncio.to_thread(seeder.reader().policies, "team-a")

    assert names(state.objects) == ["web"]
    assert len(state.notes) == 1
    assert "CiliumNetworkPolicy skipped" in state.notes[0] and "CRD is not installed" in state.notes[0]
    cilium_requests = list(seeder.kmock[seeder.kmock.resource("cilium.io", "v2", "ciliumnetworkpolicies")])
    assert len(cilium_requests) == 1  # a missing resource is not retried


async def test_without_the_cilium_crd_clusterwide_policies_are_skipped_with_a_note(seeder) -> None:
    state = await asyncio.to_thread(seeder.reader().clusterwide_policies)

    assert state.objects == []
    assert state.notes == [
        "CiliumClusterwideNetworkPolicy skipped: the cluster does not serve cilium.io/v2 "
        "ciliumclusterwidenetworkpolicies (its CRD is not installed)"
    ]


async def test_a_missing_built_in_api_is_an_error(seeder) -> None:
    kmock = seeder.kmock
    (
        kmock["list", np_resource(kmock)]
        << 404
        << status(404, "NotFound", "the server could not find the requested resource")
    )

    with pytest.raises(ResourceNotServed) as caught:
        await asyncio.to_thread(seeder.reader().policies, "team-a")

    assert caught.value.exit_code == ExitCode.ACCESS
    assert "does not serve networkpolicies.networking.k8s.io/v1" in caught.value.message


async def test_a_server_error_is_retried_then_succeeds(seeder) -> None:
    kmock = seeder.kmock
    kmock["list", np_resource(kmock)][:1] << 500 << status(500, "InternalError", "etcdserver: leader changed")
    kmock["list", np_resource(kmock)] << page(["web"])
    delays: list[float] = []

    objects = await read_policies(seeder.reader(sleep=delays.append))

    assert names(objects) == ["web"]
    assert len(kmock[np_resource(kmock)]) == 2
    assert len(delays) == 1 and 0.0005 <= delays[0] <= 0.001  # initial_delay scaled into [0.5, 1]


async def test_a_server_that_keeps_failing_gives_up_after_the_attempts(seeder) -> None:
    kmock = seeder.kmock
    (
        kmock["list", np_resource(kmock)]
        << 503
        << status(503, "ServiceUnavailable", "apiserver is shutting down")
    )
    delays: list[float] = []

    error = await failure(seeder.reader(sleep=delays.append).list, NETWORK_POLICIES, "team-a")

    assert "HTTP 503: apiserver is shutting down" in error.message
    assert "gave up after 3 attempts" in error.message
    assert len(kmock[np_resource(kmock)]) == 3
    # Exponential: the second pause draws from twice the first one's range; never above max_delay.
    assert 0.0005 <= delays[0] <= 0.001 and 0.001 <= delays[1] <= 0.002


async def test_too_many_requests_waits_as_long_as_retry_after_says(seeder) -> None:
    kmock = seeder.kmock
    throttled = status(429, "TooManyRequests", "too many requests, please try again later")
    kmock["list", np_resource(kmock)][:1] << 429 << kmock.headers({"Retry-After": "7"}) << throttled
    kmock["list", np_resource(kmock)] << page(["web"])
    delays: list[float] = []

    objects = await read_policies(seeder.reader(sleep=delays.append))

    assert names(objects) == ["web"]
    assert delays == [7.0]


async def test_retry_after_is_capped(seeder) -> None:
    kmock = seeder.kmock
    throttled = status(429, "TooManyRequests", "slow down")
    kmock["list", np_resource(kmock)][:1] << 429 << kmock.headers({"Retry-After": "3600"}) << throttled
    kmock["list", np_resource(kmock)] << page(["web"])
    delays: list[float] = []
    retry = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.002, max_retry_after=5.0)

    await read_policies(seeder.reader(sleep=delays.append, retry=retry))

    assert delays == [5.0]


async def test_a_hung_response_times_out_and_is_retried(seeder) -> None:
    kmock = seeder.kmock
    release = asyncio.Event()
    kmock["list", np_resource(kmock)][:1] << (lambda: release.wait())
    kmock["list", np_resource(kmock)] << page(["web"])
    try:
        # Long enough that the answers after the hang arrive in time on a loaded CI machine.
        objects = await read_policies(seeder.reader(request_timeout=1.5))
    finally:
        release.set()

    assert names(objects) == ["web"]
    assert len(kmock[np_resource(kmock)]) == 2


async def test_a_server_that_never_answers_is_a_timeout_error(seeder) -> None:
    kmock = seeder.kmock
    release = asyncio.Event()
    kmock["list", np_resource(kmock)] << (lambda: release.wait())
    retry = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.002)
    try:
        error = await failure(seeder.reader(request_timeout=0.3, retry=retry).policies, "team-a")
    finally:
        release.set()

    assert error.exit_code == ExitCode.ACCESS
    assert "did not answer within 0.3s" in error.message and "gave up after 2 attempts" in error.message
    assert error.hint is not None and "--request-timeout" in error.hint


async def test_an_unreachable_server_is_an_error_with_a_hint(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    delays: list[float] = []
    reader = ClusterReader(
        ClusterAccess(kubeconfig=kubeconfig, retry=RetryPolicy(attempts=3, initial_delay=0.001)),
        environ={},
        sleep=delays.append,
    )

    error = await failure(reader.policies, "team-a")

    assert f"the API server at http://127.0.0.1:{port} is unreachable" in error.message
    assert "gave up after 3 attempts" in error.message
    assert error.hint is not None and "--kubeconfig" in error.hint and "--live" in error.hint
    assert len(delays) == 2


async def test_context_selection_uses_that_contexts_server_and_credentials(seeder, tmp_path: Path) -> None:
    kmock = seeder.kmock
    server = str(kmock.url).rstrip("/")
    kubeconfig = write_kubeconfig(
        tmp_path / "two", "http://127.0.0.1:9", extra_contexts={"ci": (server, "ci-token")}
    )
    seeder.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", **policy("web")})

    reader = ClusterReader(ClusterAccess(kubeconfig=kubeconfig, context="ci"), environ={})
    state = await asyncio.to_thread(reader.policies, "team-a")

    assert names(state.objects) == ["web"]
    assert "context 'ci'" in state.source
    assert {request.headers.get("Authorization") for request in kmock} == {"Bearer ci-token"}


async def test_the_reader_only_ever_sends_get_requests_with_the_token(seeder) -> None:
    team = seeder.namespace()
    seeder.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", **policy("web", team)})
    reader = seeder.reader()

    await asyncio.to_thread(reader.policies, team)
    await asyncio.to_thread(reader.policies, None)
    await asyncio.to_thread(reader.pods, team)
    await asyncio.to_thread(reader.workloads, team)
    await asyncio.to_thread(reader.secret, team, "missing")

    requests = list(seeder.kmock)
    assert len(requests) >= 10
    assert {str(request.method.value) for request in requests} == {"GET"}
    assert {request.headers.get("Authorization") for request in requests} == {f"Bearer {TOKEN}"}


async def test_a_tls_failure_is_reported_once_with_a_certificate_hint(seeder, tmp_path: Path) -> None:
    # Speaking TLS to the emulator's plain-HTTP port fails the handshake, as a wrong CA or a
    # TLS-intercepting proxy would; that is not transient, so it is not retried.
    server = str(seeder.kmock.url).rstrip("/").replace("http://", "https://")
    kubeconfig = write_kubeconfig(tmp_path / "tls", server)
    delays: list[float] = []
    reader = ClusterReader(ClusterAccess(kubeconfig=kubeconfig), environ={}, sleep=delays.append)

    error = await failure(reader.policies, "team-a")

    assert error.exit_code == ExitCode.ACCESS
    assert f"TLS connection to {server} failed" in error.message
    assert error.hint is not None and "certificate-authority" in error.hint
    assert delays == []


async def test_retries_against_a_failing_server_print_progress_lines(seeder, tmp_path: Path) -> None:
    """A server that keeps failing costs the default retries (seconds): the wait is told on stderr."""
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main

    kmock = seeder.kmock
    namespace = seeder.namespace()
    (
        kmock["list", np_resource(kmock)]
        << 503
        << status(503, "ServiceUnavailable", "apiserver is shutting down")
    )
    values = Path(__file__).resolve().parents[2] / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
    args = ["drift", str(values), "-r", "production", "-n", namespace, "--kubeconfig", seeder.kubeconfig]

    result = await asyncio.to_thread(
        CliRunner().invoke, main, args, env={"KUBE_NAMESPACE": None, "KUBE_CONTEXT": None, "CI": None}
    )

    assert result.exit_code == 3, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("progress: ")]
    assert progress, result.stderr
    assert all("HTTP 503" in line and " in " in line.rsplit("; ", 1)[-1] for line in progress)
    assert "gave up after 5 attempts" in result.stderr
