"""The GitLab token goes to the configured origin only, and never into a message, whole or in part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BOT_TOKEN, IID, NOTES_PATH, PROJECT
from fake_gitlab import FakeGitLab

from autodeploy_netpol.cli import main
from autodeploy_netpol.errors import ExitCode, GitLabError
from autodeploy_netpol.gitlab import MergeRequestNotes, NoteAction, target_from_environment

USER_PATH = "/api/v4/user"
ROOT = Path(__file__).resolve().parents[2]


def publish(environ: dict[str, str], body: str = "report") -> object:
    return MergeRequestNotes(target_from_environment(environ), sleep=lambda _: None).publish("production", body)


@pytest.fixture
def elsewhere():
    """Another server (another port): whatever reaches it is recorded."""
    with FakeGitLab() as server:
        yield server


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(("method", "path"), [("GET", USER_PATH), ("GET", NOTES_PATH), ("POST", NOTES_PATH)])
def test_a_redirect_to_another_origin_is_refused_and_the_token_never_sent(
    fake: FakeGitLab, elsewhere: FakeGitLab, ci_environ: dict[str, str], status: int, method: str, path: str
) -> None:
    fake.redirect(method, path, f"{elsewhere.url}{path}", status=status, times=5)

    with pytest.raises(GitLabError) as caught:
        publish(ci_environ)

    assert elsewhere.requests == []  # not followed at all: no token, no report
    assert "another origin" in caught.value.message and caught.value.exit_code is ExitCode.ACCESS
    assert fake.routes().count(f"{method} {path}") == 1  # refused at once, not retried
    assert BOT_TOKEN not in str(caught.value)


def test_a_redirect_to_another_port_of_the_same_host_is_another_origin(
    fake: FakeGitLab, elsewhere: FakeGitLab, ci_environ: dict[str, str]
) -> None:
    assert elsewhere.url.split(":")[1] == fake.url.split(":")[1]  # same host, 127.0.0.1
    fake.redirect("GET", USER_PATH, f"{elsewhere.url}{USER_PATH}")
    with pytest.raises(GitLabError, match="another origin"):
        publish(ci_environ)
    assert elsewhere.requests == []


def test_a_redirect_within_the_origin_is_followed_with_the_token(fake: FakeGitLab, ci_environ: dict[str, str]) -> None:
    fake.redirect("GET", "^/api/v4/moved-user$", f"{fake.url}{USER_PATH}")
    fake.redirect("GET", f"^{USER_PATH}$", f"{fake.url}/api/v4/moved-user")
    outcome = publish(ci_environ)
    assert outcome.action is NoteAction.CREATE  # type: ignore[attr-defined]
    followed = [request for request in fake.requests if request.path == USER_PATH]
    assert len(followed) == 2 and followed[-1].headers["private-token"] == BOT_TOKEN


def test_an_echoing_error_page_leaves_no_prefix_of_the_token(fake: FakeGitLab, ci_environ: dict[str, str]) -> None:
    # The message is cut to 300 characters: the token starts at 290, across the cut.
    fake.fail("GET", NOTES_PATH, 403, body={"message": "x" * 280 + " token: {token} was refused"})
    with pytest.raises(GitLabError) as caught:
        publish(ci_environ)
    text = str(caught.value)
    assert "token: " in text
    for size in range(6, len(BOT_TOKEN) + 1):
        assert BOT_TOKEN[:size] not in text


@pytest.mark.parametrize(
    "token",
    [
        "glpat-first-half\nsecond-half-0123",  # pasted over two lines into a CI variable
        "glpat-with\r\ncarriage-return-99",
        'glpat-"quoted"\\back-slash',
    ],
)
def test_a_token_with_newlines_or_quotes_is_never_printed(
    fake: FakeGitLab, ci_environ: dict[str, str], token: str, tmp_path: Path
) -> None:
    # The report itself carries the token (a hostile cluster could put it in an annotation): the
    # printed note, the error (requests refuses a header with a newline) and the traceback of
    # --debug are all masked.
    path = tmp_path / "report.json"
    made = CliRunner().invoke(
        main,
        ["drift", str(ROOT / "examples/shop/.gitlab/auto-deploy-values.yaml"), "-r", "production",
         "-n", "shop-42-production",  # the snapshot's namespace (another one is an error, issue 15)
         "--live", str(ROOT / "tests/fixtures/drift/live-drift.yaml"), "--no-connectivity", "-q", "-o", str(path)],
    )
    assert made.exit_code in (0, 1), made.output
    report = json.loads(path.read_text())
    report["notes"].append(f"annotation from the cluster: {token}")
    path.write_text(json.dumps(report))
    markdown = tmp_path / "report.md"
    result = CliRunner().invoke(
        main,
        ["--debug", "comment", "--report", str(path), "--environment", "production", "--markdown-out", str(markdown)],
        env={**ci_environ, "NETPOL_GITLAB_TOKEN": token},
    )
    out = result.output + markdown.read_text() + "".join(str(note["body"]) for note in fake.notes_of(PROJECT, IID))
    for line in token.splitlines():
        if len(line.strip()) >= 6:
            assert line.strip() not in out, out
    assert json.dumps(token)[1:-1] not in out
    assert result.exit_code in (0, 2, 3), out
