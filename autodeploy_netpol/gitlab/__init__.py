"""The GitLab edge: publishing the drift report as one merge-request note per environment.

:func:`target_from_environment` reads the CI variables, :class:`MergeRequestNotes` talks to the
API (python-gitlab, imported lazily), :mod:`.note` holds the pure decision of what to write.
"""

from __future__ import annotations

from .client import MergeRequestNotes, NoteOutcome
from .note import NOTE_LIMIT, NoteAction, body_room, note_marker
from .target import (
    TOKEN_VARIABLES,
    MergeRequests,
    MergeRequestTarget,
    NoToken,
    merge_requests_from_environment,
    target_from_environment,
    token_from_environment,
)

__all__ = [
    "NOTE_LIMIT",
    "TOKEN_VARIABLES",
    "MergeRequestNotes",
    "MergeRequestTarget",
    "MergeRequests",
    "NoToken",
    "NoteAction",
    "NoteOutcome",
    "body_room",
    "merge_requests_from_environment",
    "note_marker",
    "target_from_environment",
    "token_from_environment",
]
