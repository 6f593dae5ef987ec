"""Fixtures for the GitLab edge: a fake GitLab over real HTTP with one merge request and two users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_gitlab import FakeGitLab

BOT_TOKEN = "glpat-BotSecretToken-0123456789"
OTHER_TOKEN = "glpat-SomebodyElse-9876543210"
PROJECT = "42"
IID = 7
NOTES_PATH = f"/api/v4/projects/{PROJECT}/merge_requests/{IID}/notes"


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        server.add_user(BOT_TOKEN, 101, "project_42_bot")
        server.add_user(OTHER_TOKEN, 202, "mallory")
        server.add_merge_request(PROJECT, IID)
        yield server


@pytest.fixture
def ci_environ(fake: FakeGitLab) -> dict[str, str]:
    """The variables GitLab CI sets in a merge-request pipeline, plus the bot's token."""
    return {
        "CI_API_V4_URL": fake.api_url,
        "CI_PROJECT_ID": PROJECT,
        "CI_MERGE_REQUEST_IID": str(IID),
        "CI_JOB_TOKEN": "job-token-should-never-be-used",
        "NETPOL_GITLAB_TOKEN": BOT_TOKEN,
    }
