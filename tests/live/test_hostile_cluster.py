"""A hostile or broken API server cannot hang the reader, exhaust its memory or crash it.

Real HTTP and the official client throughout: the kmock emulator scripted to misbehave, and for
what kmock cannot do (headers sent a byte at a time) a small socket server. Every failure is a
ClusterError (exit 3) that names the request; every read ends within its deadlines.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_harness import write_kubeconfig

from autodeploy_netpol.errors import ClusterError, ExitCode
from autodeploy_netpol.sources.cluster import NETWORK_POLICIES, ClusterAccess, ClusterReader, RetryPolicy

pytestmark = [pytest.mark.live, pytest.mark.scripted, pytest.mark.asyncio]

WHAT = "list networkpolicies.networking.k8s.io in namespace team-a"
ONE_TRY = RetryPolicy(attempts=1)


def np_resource(kmock: Any) -> Any:
    return kmock.resource("networking.k8s.io", "v1", "networkpolicies")


def page(names: list[str], following: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": "1"}
    if following:
        metadata["continue"] = following
    items = [{"metadata": {"name": name, "namespace": "team-a"}, "spec": {"podSelector": {}}} for name in names]
    return {"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1", "metadata": metadata, "items": items}


async def failure(reader: ClusterReader) -> ClusterError:
    with pytest.raises(ClusterError) as caught:
        await asyncio.to_thread(reader.list, NETWORK_POLICIES, "team-a")
    assert caught.value.exit_code == ExitCode.ACCESS
    return caught.value


async def test_continue_tokens_that_never_end_stop_at_the_page_limit(seeder) -> None:
    kmock = seeder.kmock
    counter = iter(range(1_000_000))
    kmock["list", np_resource(kmock)] << (lambda: page(["a"], f"token-{next(counter)}"))

    error = await failure(seeder.reader(max_pages=25))

    assert "more than 25 pages" in error.message and WHAT in error.message
    assert error.hint is not None and "--max-pages" in error.hint
    assert len(kmock[np_resource(kmock)]) == 25


async def test_the_page_limit_is_settable_from_the_environment_as_in_ci(seeder) -> None:
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main

    kmock = seeder.kmock
    # the namespace must exist (issue 15: a missing one is an error before any policy is listed)
    labels = {"kubernetes.io/metadata.name": "team-a"}
    seeder.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": labels}})
    counter = iter(range(1_000_000))
    kmock["list", np_resource(kmock)] << (lambda: page(["a"], f"token-{next(counter)}"))
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["lint", "-n", "team-a", "--kubeconfig", seeder.kubeconfig],
        env={"NETPOL_MAX_PAGES": "7", "NETPOL_READ_DEADLINE": "20s"},
    )
    assert result.exit_code == ExitCode.ACCESS, result.output
    assert "more than 7 pages" in result.output and WHAT in result.output
    assert len(kmock[np_resource(kmock)]) == 7


async def test_the_read_deadline_bounds_the_whole_read(seeder) -> None:
    kmock = seeder.kmock
    counter = iter(range(1_000_000))

    async def slow_page() -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return page(["a"], f"token-{next(counter)}")

    kmock["list", np_resource(kmock)] << slow_page
    started = time.monotonic()
    error = await failure(seeder.reader(read_deadline=1.0, max_pages=100_000))

    assert time.monotonic() - started < 10
    assert "read deadline of 1s" in error.message and WHAT in error.message
    assert error.hint is not None and "--read-deadline" in error.hint


async def test_a_body_trickled_byte_by_byte_times_out(seeder) -> None:
    kmock = seeder.kmock
    body = json.dumps(page([f"p{index}" for index in range(40)])).encode()

    async def trickle() -> AsyncIterator[bytes]:
        for index in range(len(body)):
            yield body[index : index + 1]
            await asyncio.sleep(0.02)  # the whole body would take about a minute

    kmock["list", np_resource(kmock)] << trickle
    started = time.monotonic()
    error = await failure(seeder.reader(request_timeout=1.0, retry=RetryPolicy(attempts=2, initial_delay=0.01)))

    assert time.monotonic() - started < 10
    assert "did not answer within 1s" in error.message and "gave up after 2 attempts" in error.message


@pytest.mark.parametrize("header", ["nan", "NaN", "inf", "-inf", "1e400", "-5", "soon", ""])
async def test_a_retry_after_that_is_not_a_wait_falls_back_to_backoff(seeder, header: str) -> None:
    kmock = seeder.kmock
    throttled = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 429, "message": "slow down"}
    kmock["list", np_resource(kmock)][:1] << 429 << kmock.headers({"Retry-After": header}) << throttled
    kmock["list", np_resource(kmock)] << page(["web"])
    delays: list[float] = []

    objects = await asyncio.to_thread(seeder.reader(sleep=delays.append).list, NETWORK_POLICIES, "team-a")

    assert [item["metadata"]["name"] for item in objects] == ["web"]
    assert len(delays) == 1 and 0 <= delays[0] <= 60


MALFORMED: dict[str, tuple[bytes, str]] = {
    "not-json": (b"<html>proxy login</html>", "is not JSON"),
    "not-utf8": (b'{"items": ["\xff\xfe"]}', "is not JSON"),
    "deeply-nested": (b'{"items": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nests data more than 100 levels deep"),
    "nested-within-recursion-limit": (b'{"items": [{"spec": ' + b'{"a": ' * 300 + b"1" + b"}" * 300 + b"}]}", "nests data more than 100 levels deep"),
    "huge-integer": (b'{"items": [], "metadata": {"x": ' + b"7" * 5000 + b"}}", "is not JSON"),
    "a-list": (b"[]", "is a JSON list, not an object"),
    "a-string": (b'"ok"', "is a JSON str, not an object"),
    "items-a-mapping": (b'{"items": {"a": 1}}', "'items' is a dict, not a list"),
    "item-a-string": (b'{"items": ["policy"]}', "items[0]: a str, not a mapping"),
    "metadata-a-list": (b'{"items": [], "metadata": []}', "'metadata' is a list, not a mapping"),
    "continue-a-number": (b'{"items": [], "metadata": {"continue": 7}}', "'metadata.continue' is a int"),
    "item-metadata-a-string": (b'{"items": [{"metadata": "x"}]}', "metadata is not a mapping"),
    "name-a-number": (b'{"items": [{"metadata": {"name": 5}}]}', "metadata.name is not a string"),
    "labels-not-strings": (b'{"items": [{"metadata": {"name": "a", "labels": {"app": 1}}}]}', "metadata.labels is not a mapping of strings"),
    "spec-a-list": (b'{"items": [{"metadata": {"name": "a"}, "spec": []}]}', "spec is not a mapping"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_every_malformed_answer_is_a_cluster_error_naming_the_request(seeder, case: str) -> None:
    kmock = seeder.kmock
    body, words = MALFORMED[case]
    kmock["list", np_resource(kmock)] << 200 << kmock.headers({"Content-Type": "application/json"}) << body

    error = await failure(seeder.reader(retry=ONE_TRY))

    assert WHAT in error.message and words in error.message, error.message


async def test_an_answer_over_the_size_limit_is_refused(seeder, monkeypatch) -> None:
    monkeypatch.setenv("NETPOL_MAX_RESPONSE_BYTES", "4Ki")
    kmock = seeder.kmock
    kmock["list", np_resource(kmock)] << page([f"policy-{index}" for index in range(200)])

    error = await failure(seeder.reader(retry=ONE_TRY))

    assert "over the 4,096-byte limit" in error.message and WHAT in error.message


class _HeaderTrickler:
    """A socket server that sends an HTTP status line and then headers one byte per 50 ms, forever."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.port = self.socket.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.socket.settimeout(0.2)
        while not self.stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self.stop.is_set():
                    connection.sendall(b"a")
                    time.sleep(0.05)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.socket.close()


@pytest.fixture
def header_trickler() -> Iterator[_HeaderTrickler]:
    server = _HeaderTrickler()
    yield server
    server.close()


async def test_headers_trickled_byte_by_byte_time_out_too(header_trickler: _HeaderTrickler, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{header_trickler.port}")
    reader = ClusterReader(
        ClusterAccess(kubeconfig=str(kubeconfig), request_timeout=1.0, retry=RetryPolicy(attempts=2, initial_delay=0.01)),
        environ={},
    )
    started = time.monotonic()
    error = await failure(reader)

    assert time.monotonic() - started < 10
    assert "did not answer within 1s" in error.message and WHAT in error.message


@pytest.mark.parametrize(
    "token",
    ["kmock-first-half\nsecond-half-token", "kmock-token\twith-a-tab-inside"],
)
async def test_a_kubeconfig_token_with_a_line_break_is_never_printed(seeder, tmp_path: Path, token: str) -> None:
    import yaml
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main

    server = str(seeder.kmock.url).rstrip("/")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "ci",
        "clusters": [{"name": "c", "cluster": {"server": server.replace("://", "://deploy:url-pass-word@")}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "ci", "context": {"cluster": "c", "user": "u"}}],
    }
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["--debug", "lint", "-n", "team-a", "--kubeconfig", str(kubeconfig)]
    )
    assert result.exit_code == ExitCode.ACCESS, result.output
    assert "line break or another control character" in result.output
    for part in (*token.split(), "url-pass-word"):
        assert part not in result.output, result.output


class _Recorder:
    """Two real HTTP servers: ``redirector`` answers every GET with a redirect to ``target``, which
    records the headers it receives and answers an empty NetworkPolicyList."""

    def __init__(self, status: int) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received: list[dict[str, str]] = []
        self.received = received
        body = json.dumps(page([])).encode()

        class Target(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                received.append({key.lower(): value for key, value in self.headers.items()})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.target = ThreadingHTTPServer(("127.0.0.1", 0), Target)
        where = f"http://127.0.0.1:{self.target.server_address[1]}"

        class Redirector(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Location", f"{where}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
        self.url = f"http://127.0.0.1:{self.redirector.server_address[1]}"
        self.threads = [
            threading.Thread(target=server.serve_forever, daemon=True) for server in (self.target, self.redirector)
        ]
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        for server in (self.target, self.redirector):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_off_the_api_server_is_refused_and_the_token_never_sent(tmp_path: Path, status: int) -> None:
    from live_harness import TOKEN

    servers = _Recorder(status)
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", servers.url)
        reader = ClusterReader(ClusterAccess(kubeconfig=str(kubeconfig), request_timeout=5.0, retry=ONE_TRY), environ={})
        error = await failure(reader)
    finally:
        servers.close()

    assert servers.received == []  # not followed at all: no request reached the other origin
    assert WHAT in error.message and f"HTTP {status}" in error.message and "redirect" in error.message
    assert TOKEN not in str(error)
