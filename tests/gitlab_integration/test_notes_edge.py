"""python-gitlab against the fake GitLab: the exact requests the MR-comment edge makes."""

from __future__ import annotations

import pytest
from conftest import BOT_TOKEN, IID, NOTES_PATH, OTHER_TOKEN, PROJECT
from fake_gitlab import FakeGitLab

from autodeploy_netpol.errors import ExitCode, GitLabError
from autodeploy_netpol.gitlab import MergeRequestNotes, NoteAction, note_marker, target_from_environment

USER = "GET /api/v4/user"
LIST = f"GET {NOTES_PATH}"
CREATE = f"POST {NOTES_PATH}"


def notes_client(
    environ: dict[str, str], sleeps: list[float] | None = None, **kwargs: object
) -> MergeRequestNotes:
    waits = sleeps if sleeps is not None else []
    return MergeRequestNotes(target_from_environment(environ), sleep=waits.append, **kwargs)  # type: ignore[arg-type]


def test_first_run_creates_second_updates_third_writes_nothing(
    fake: FakeGitLab, ci_environ: dict[str, str]
) -> None:
    client = notes_client(ci_environ)

    first = client.publish("production", "## Drift\n\n2 objects differ")
    assert fake.routes() == [USER, LIST, CREATE]
    assert first.action is NoteAction.CREATE
    [note] = fake.notes_of(PROJECT, IID)
    assert note["body"] == note_marker("production") + "\n## Drift\n\n2 objects differ"
    assert note["author"]["id"] == 101
    assert fake.requests[-1].headers["private-token"] == BOT_TOKEN

    fake.requests.clear()
    second = client.publish("production", "## Drift\n\n1 object differs")
    assert fake.routes() == [USER, LIST, f"PUT {NOTES_PATH}/{note['id']}"]
    assert (second.action, second.note_id) == (NoteAction.UPDATE, note["id"])
    assert fake.notes_of(PROJECT, IID)[0]["body"].endswith("1 object differs")

    fake.requests.clear()
    third = client.publish("production", "## Drift\n\n1 object differs\n")
    assert fake.routes() == [USER, LIST]
    assert (third.action, third.note_id) == (NoteAction.UNCHANGED, note["id"])
    assert len(fake.notes_of(PROJECT, IID)) == 1


def test_one_note_per_environment(fake: FakeGitLab, ci_environ: dict[str, str]) -> None:
    client = notes_client(ci_environ)
    client.publish("staging", "staging report")
    client.publish("production", "production report")
    client.publish("staging", "staging report, second run")
    bodies = sorted(note["body"] for note in fake.notes_of(PROJECT, IID))
    assert bodies == [
        note_marker("production") + "\nproduction report",
        note_marker("staging") + "\nstaging report, second run",
    ]


def test_note_by_another_user_with_our_marker_is_left_alone(
    fake: FakeGitLab, ci_environ: dict[str, str]
) -> None:
    mallory = fake.users[OTHER_TOKEN]
    planted = note_marker("production") + "\nlooks like the bot's comment"
    planted_id = fake.add_note(PROJECT, IID, mallory, planted)

    outcome = notes_client(ci_environ).publish("production", "real report")

    assert fake.routes() == [USER, LIST, CREATE]
    assert outcome.action is NoteAction.CREATE
    assert outcome.foreign_note_ids == (planted_id,)
    assert "another user" in outcome.describe()
    planted_now = next(note for note in fake.notes_of(PROJECT, IID) if note["id"] == planted_id)
    assert planted_now["body"] == planted


def test_system_notes_and_quoted_markers_are_not_ours(fake: FakeGitLab, ci_environ: dict[str, str]) -> None:
    bot = fake.users[BOT_TOKEN]
    fake.add_note(PROJECT, IID, bot, note_marker("production") + "\nsystem", system=True)
    fake.add_note(PROJECT, IID, bot, "as the bot said:\n" + note_marker("production"))
    outcome = notes_client(ci_environ).publish("production", "report")
    assert outcome.action is NoteAction.CREATE
    assert len(fake.notes_of(PROJECT, IID)) == 3


def test_listing_follows_pagination_to_find_the_note_on_the_last_page(
    fake: FakeGitLab, ci_environ: dict[str, str]
) -> None:
    fake.page_cap = 2
    bot, mallory = fake.users[BOT_TOKEN], fake.users[OTHER_TOKEN]
    ours = fake.add_note(PROJECT, IID, bot, note_marker("review") + "\nold report")
    for number in range(5):
        fake.add_note(PROJECT, IID, mallory, f"review comment {number}")

    outcome = notes_client(ci_environ).publish("review", "new report")

    lists = [request for request in fake.requests if request.route == LIST]
    assert [request.query.get("page", "1") for request in lists] == ["1", "2", "3"]
    assert lists[0].query["per_page"] == "100"
    assert (outcome.action, outcome.note_id) == (NoteAction.UPDATE, ours)
    assert fake.routes()[-1] == f"PUT {NOTES_PATH}/{ours}"


def test_a_500_is_retried_and_only_one_note_is_created(fake: FakeGitLab, ci_environ: dict[str, str]) -> None:
    fake.fail("POST", NOTES_PATH, 500)
    sleeps: list[float] = []

    outcome = notes_client(ci_environ, sleeps).publish("production", "report")

    assert fake.routes() == [USER, LIST, CREATE, USER, LIST, CREATE]
    assert [request.route for request in fake.writes()] == [CREATE, CREATE]
    assert (outcome.action, outcome.attempts) == (NoteAction.CREATE, 2)
    assert sleeps == [0.5]
    assert len(fake.notes_of(PROJECT, IID)) == 1


def test_retries_are_bounded(fake: FakeGitLab, ci_environ: dict[str, str]) -> None:
    fake.fail("GET", NOTES_PATH, 502, times=10)
    sleeps: list[float] = []

    with pytest.raises(GitLabError) as caught:
        notes_client(ci_environ, sleeps).publish("production", "report")

    assert fake.routes() == [USER, LIST] * 3
    assert sleeps == [0.5, 1.0]
    assert "HTTP 502" in caught.value.message and "after 3 attempts" in caught.value.message
    assert caught.value.exit_code is ExitCode.ACCESS


def test_a_lost_answer_to_a_create_does_not_make_a_second_note(
    fake: FakeGitLab, ci_environ: dict[str, str]
) -> None:
    fake.hang("POST", NOTES_PATH, after_handling=True)

    outcome = notes_client(ci_environ, timeout=0.5).publish("production", "report")

    assert fake.routes() == [USER, LIST, CREATE, USER, LIST]
    assert outcome.action is NoteAction.UNCHANGED
    assert len(fake.notes_of(PROJECT, IID)) == 1


@pytest.mark.parametrize(
    ("status", "route", "expected"),
    [
        (401, USER, "GitLab rejected the token in NETPOL_GITLAB_TOKEN (401 Unauthorized)"),
        (403, CREATE, "may not write notes on merge request !7 of project 42 (403 Forbidden)"),
        (404, LIST, "merge request !7 of project 42 was not found (404)"),
    ],
)
def test_access_errors_are_readable_and_not_retried(
    fake: FakeGitLab, ci_environ: dict[str, str], status: int, route: str, expected: str
) -> None:
    method, path = route.split(" ", 1)
    fake.fail(method, path, status, body={"message": f"{status} refused token {{token}}"})
    sleeps: list[float] = []

    with pytest.raises(GitLabError) as caught:
        notes_client(ci_environ, sleeps).publish("production", "report")

    error = caught.value
    assert expected in error.message
    assert error.exit_code is ExitCode.ACCESS and error.hint
    assert fake.routes()[-1] == route and fake.routes().count(route) == 1 and sleeps == []
    assert BOT_TOKEN not in str(error) and "[MASKED]" in str(error)
    assert error.__cause__ is None or BOT_TOKEN not in repr(error.__cause__)


def test_an_unknown_token_gets_401_from_the_server(fake: FakeGitLab, ci_environ: dict[str, str]) -> None:
    environ = {**ci_environ, "NETPOL_GITLAB_TOKEN": "glpat-revoked-token-000"}
    with pytest.raises(GitLabError) as caught:
        notes_client(environ).publish("production", "report")
    assert "401 Unauthorized" in caught.value.message
    assert "glpat-revoked-token-000" not in str(caught.value)
    assert fake.routes() == [USER]


def test_unreachable_gitlab_is_an_access_error(ci_environ: dict[str, str], fake: FakeGitLab) -> None:
    fake.__exit__(None, None, None)
    sleeps: list[float] = []
    with pytest.raises(GitLabError) as caught:
        notes_client(ci_environ, sleeps).publish("production", "report")
    assert caught.value.message.startswith(f"could not reach GitLab at {fake.api_url} after 3 attempts")
    assert sleeps == [0.5, 1.0]


def test_a_report_too_long_for_a_note_is_refused_before_any_request(
    fake: FakeGitLab, ci_environ: dict[str, str]
) -> None:
    with pytest.raises(GitLabError, match="GitLab accepts at most 1000000"):
        notes_client(ci_environ).publish("production", "x" * 1_000_000)
    assert fake.requests == []
