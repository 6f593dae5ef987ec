"""The pure part of the MR comment: marker, body, create/update/unchanged decision, CI variables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodeploy_netpol.errors import ExitCode, GitLabError
from autodeploy_netpol.gitlab import note_marker, target_from_environment
from autodeploy_netpol.gitlab.note import ExistingNote, NoteAction, NotePlan, body_room, note_body, plan_note

OWN = 1
OTHER = 2


def test_marker_is_a_single_html_comment_naming_the_environment() -> None:
    assert note_marker("production") == "<!-- autodeploy-netpol:drift-report environment=production -->"
    assert (
        note_marker("review/feature-1")
        == "<!-- autodeploy-netpol:drift-report environment=review/feature-1 -->"
    )


@given(st.text(min_size=1) | st.sampled_from(["a-->b", "x --!> y", "-- >", "review\n<!--"]))
def test_no_environment_name_can_break_out_of_the_marker(environment: str) -> None:
    marker = note_marker(environment)
    inner = marker.removeprefix("<!-- ").removesuffix(" -->")
    assert "\n" not in marker and "\r" not in marker
    assert ">" not in inner and "<" not in inner and "!" not in inner
    assert marker.index("-->") == len(marker) - 3
    assert note_marker(environment) != note_marker(environment + "x")


def test_body_room_keeps_the_note_under_the_limit() -> None:
    room = body_room("staging", limit=200)
    assert len(note_body("staging", "x" * room)) == 200


def note(note_id: int, author: int, body: str, system: bool = False) -> ExistingNote:
    return ExistingNote(note_id, author, body, system)


BODY = note_body("production", "report")


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ([], NotePlan(NoteAction.CREATE, None)),
        ([note(3, OWN, "unrelated")], NotePlan(NoteAction.CREATE, None)),
        ([note(3, OWN, note_body("staging", "report"))], NotePlan(NoteAction.CREATE, None)),
        ([note(3, OWN, BODY)], NotePlan(NoteAction.UNCHANGED, 3)),
        ([note(3, OWN, BODY + "\n")], NotePlan(NoteAction.UNCHANGED, 3)),
        ([note(3, OWN, note_body("production", "old"))], NotePlan(NoteAction.UPDATE, 3)),
        ([note(3, OTHER, BODY)], NotePlan(NoteAction.CREATE, None, foreign_note_ids=(3,))),
        ([note(3, OWN, BODY, system=True)], NotePlan(NoteAction.CREATE, None)),
        ([note(3, OWN, "quote:\n" + BODY)], NotePlan(NoteAction.CREATE, None)),
        (
            [note(9, OWN, BODY), note(4, OWN, note_body("production", "old")), note(5, OTHER, BODY)],
            NotePlan(NoteAction.UPDATE, 4, foreign_note_ids=(5,), duplicate_note_ids=(9,)),
        ),
    ],
)
def test_plan_note(notes: list[ExistingNote], expected: NotePlan) -> None:
    assert plan_note(notes, environment="production", own_user_id=OWN, body=BODY) == expected


@given(st.lists(st.tuples(st.integers(1, 50), st.sampled_from([OWN, OTHER]), st.booleans(), st.booleans())))
def test_never_edits_a_note_of_another_user(specs: list[tuple[int, int, bool, bool]]) -> None:
    notes = [note(i, author, BODY if marked else "hello", system) for i, author, marked, system in specs]
    plan = plan_note(notes, environment="production", own_user_id=OWN, body=note_body("production", "new"))
    if plan.note_id is not None:
        chosen = [n for n in notes if n.id == plan.note_id and n.author_id == OWN and not n.system]
        assert chosen


BASE = {
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4/",
    "CI_PROJECT_ID": "42",
    "CI_MERGE_REQUEST_IID": "7",
}


def test_target_from_ci_variables_prefers_netpol_token() -> None:
    target = target_from_environment({**BASE, "NETPOL_GITLAB_TOKEN": "glpat-a", "GITLAB_TOKEN": "glpat-b"})
    assert (target.server_url, target.project_id, target.merge_request_iid) == (
        "https://gitlab.example.com",
        "42",
        7,
    )
    assert (target.token, target.token_variable) == ("glpat-a", "NETPOL_GITLAB_TOKEN")
    assert "glpat-a" not in repr(target)
    assert target_from_environment({**BASE, "GITLAB_TOKEN": "glpat-b"}).token_variable == "GITLAB_TOKEN"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({**BASE, "CI_JOB_TOKEN": "jt"}, "only CI_JOB_TOKEN is available"),
        (BASE, "no GitLab token: set NETPOL_GITLAB_TOKEN or GITLAB_TOKEN"),
        ({**BASE, "CI_MERGE_REQUEST_IID": "", "GITLAB_TOKEN": "t"}, "CI_MERGE_REQUEST_IID is not set"),
        ({**BASE, "CI_MERGE_REQUEST_IID": "7a", "GITLAB_TOKEN": "t"}, "must be a positive number"),
        ({**BASE, "CI_API_V4_URL": "gitlab.example.com", "GITLAB_TOKEN": "t"}, "must be an http(s) URL"),
    ],
)
def test_missing_or_wrong_ci_variables_are_explained(environ: dict[str, str], message: str) -> None:
    with pytest.raises(GitLabError) as caught:
        target_from_environment(environ)
    assert message in caught.value.message
    assert caught.value.exit_code is ExitCode.ACCESS


def test_job_token_message_says_what_to_create() -> None:
    with pytest.raises(GitLabError) as caught:
        target_from_environment({**BASE, "CI_JOB_TOKEN": "jt"})
    assert "project access token with the 'api' scope" in str(caught.value)
    assert "jt" not in caught.value.message.replace("CI_JOB_TOKEN", "")


def test_python_gitlab_is_imported_only_when_a_comment_is_posted() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, autodeploy_netpol.gitlab, autodeploy_netpol.cli.comment, autodeploy_netpol.cli.drift;"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'gitlab', 'requests'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_open_merge_requests_of_this_project_in_the_order_given() -> None:
    from autodeploy_netpol.gitlab import merge_requests_from_environment

    found = merge_requests_from_environment(
        {"CI_PROJECT_PATH": "g/p", "CI_OPEN_MERGE_REQUESTS": "g/p!4, other/p!5,g/p!2,g/p!4,g/pp!6,bad"}
    )
    assert found.iids == (4, 2) and found.source == "CI_OPEN_MERGE_REQUESTS"
    assert found.notes == (
        "not commenting on other/p!5: the merge request is in another project",
        "not commenting on g/pp!6: the merge request is in another project",
        "CI_OPEN_MERGE_REQUESTS item 'bad' is not <project path>!<iid>: skipped",
    )


def test_a_merge_request_pipeline_has_exactly_its_own() -> None:
    from autodeploy_netpol.gitlab import merge_requests_from_environment

    found = merge_requests_from_environment({"CI_MERGE_REQUEST_IID": "7", "CI_OPEN_MERGE_REQUESTS": "g/p!8"})
    assert found.iids == (7,) and found.source == "CI_MERGE_REQUEST_IID"


def test_no_token_is_its_own_error_class() -> None:
    from autodeploy_netpol.gitlab import NoToken, token_from_environment

    with pytest.raises(NoToken):
        token_from_environment({"CI_JOB_TOKEN": "jt"})
    assert token_from_environment({"GITLAB_TOKEN": " t "}) == ("t", "GITLAB_TOKEN")
