"""Progress lines for slow cluster reads (issue 15): silent in short runs, at most one per interval."""

from __future__ import annotations

from autodeploy_netpol.sources.cluster import ClusterAccess, ClusterReader, RetryPolicy
from autodeploy_netpol.sources.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def progress(clock: Clock) -> tuple[Progress, list[str]]:
    lines: list[str] = []
    return Progress(lines.append, quiet_for=3.0, interval=5.0, clock=clock), lines


def test_a_short_run_says_nothing() -> None:
    clock = Clock()
    reporter, lines = progress(clock)
    for step in range(20):
        clock.now = 100.0 + step * 0.1
        reporter.report(f"page {step}")
    assert lines == []


def test_a_long_run_says_the_latest_state_at_most_once_per_interval() -> None:
    clock = Clock()
    reporter, lines = progress(clock)
    for step in range(200):  # 20 s of events every 0.1 s
        clock.now = 100.0 + step * 0.1
        reporter.report(f"{step} read")
    assert lines == ["progress: 30 read", "progress: 80 read", "progress: 130 read", "progress: 180 read"]


def test_a_wait_that_makes_the_run_long_is_said_before_it() -> None:
    clock = Clock()
    reporter, lines = progress(clock)
    clock.now = 100.5
    assert reporter.report("retry 1 of 4 in 0.5s", wait=0.5) is False
    assert reporter.report("retry 2 of 4 in 8.0s", wait=8.0) is True
    assert lines == ["progress: retry 2 of 4 in 8.0s"]


def test_the_reader_tells_its_retries() -> None:
    """Every attempt fails to connect: the retries are told (rate-limited), then the error."""
    clock = Clock()
    lines: list[str] = []
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    access = ClusterAccess(
        kubeconfig=None,
        retry=RetryPolicy(attempts=4, initial_delay=4.0, max_delay=8.0),
        request_timeout=1.0,
        progress=Progress(lines.append, quiet_for=3.0, interval=5.0, clock=clock),
    )
    environ = {"KUBECONFIG": "", "HOME": "/nonexistent"}
    reader = ClusterReader(access, environ=environ, sleep=sleep, rng=lambda: 1.0)
    reader._target = _unreachable_target()
    try:
        reader.policies("shop")
    except Exception as error:  # the ClusterError after the last attempt
        assert "gave up after 4 attempts" in str(error)
    assert slept == [4.0, 8.0, 8.0]
    # retry 2 comes 4 s after the line of retry 1: within the interval, not said
    assert [line.split("; ")[-1] for line in lines] == ["retry 1 of 3 in 4.0s", "retry 3 of 3 in 8.0s"]
    assert all(
        line.startswith("progress: cannot list networkpolicies.networking.k8s.io in namespace shop")
        for line in lines
    )


def _unreachable_target():  # type: ignore[no-untyped-def]
    import socket

    from autodeploy_netpol.sources.kubeconfig import ClusterTarget

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "gone", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
    }
    return ClusterTarget(server=f"http://127.0.0.1:{port}", context="gone", origin="test", kubeconfig=config)
