"""The merge-request note as a record: its hidden marker, its body, and what to do with it.

Pure: no network, no environment. The edge (:mod:`.client`) lists the notes, asks
:func:`plan_note` what to do and carries the plan out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

#: GitLab refuses notes longer than this (``Note::MAX_NOTE_LENGTH``).
NOTE_LIMIT = 1_000_000

_MARKER_PREFIX = "<!-- autodeploy-netpol:drift-report environment="


def note_marker(environment: str) -> str:
    """The hidden HTML comment that identifies the note for ``environment``.

    The environment name comes from CI variables; everything outside a small safe set is
    percent-encoded so that it can never close the comment (``-->``) or break the line.
    """
    if not environment:
        raise ValueError("environment must not be empty")
    return f"{_MARKER_PREFIX}{quote(environment, safe='._/')} -->"


def note_body(environment: str, markdown: str) -> str:
    """The full note text: the marker on the first line, then the rendered report."""
    return f"{note_marker(environment)}\n{markdown.strip()}"


def body_room(environment: str, limit: int = NOTE_LIMIT) -> int:
    """How many characters the rendered report may have so that the note fits ``limit``."""
    return limit - len(note_marker(environment)) - 1


@dataclass(frozen=True)
class ExistingNote:
    """The parts of a note on the merge request that matter for finding ours."""

    id: int
    author_id: int
    body: str
    system: bool = False


class NoteAction(enum.Enum):
    """What the edge has to do on the merge request."""

    CREATE = "created"
    UPDATE = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class NotePlan:
    """The decision: the action, the note to edit (for ``UPDATE``/``UNCHANGED``), and the notes
    that carry our marker but belong to somebody else (left alone, reported)."""

    action: NoteAction
    note_id: int | None
    foreign_note_ids: tuple[int, ...] = ()
    duplicate_note_ids: tuple[int, ...] = ()


def _same_text(left: str, right: str) -> bool:
    # GitLab keeps note bodies as sent, but editors and proxies may add a trailing newline.
    return left.rstrip() == right.rstrip()


def plan_note(notes: Iterable[ExistingNote], *, environment: str, own_user_id: int, body: str) -> NotePlan:
    """Decide whether to create, update or leave the note for ``environment``.

    A note is ours only if its first line is the marker AND it was written by the token's own
    user: anybody can paste the marker into a comment, and such a note must never be edited.
    When several of our notes carry the marker (e.g. two jobs raced), the oldest is kept up
    to date and the others are reported, not deleted.
    """
    marker = note_marker(environment)
    ours: list[ExistingNote] = []
    foreign: list[int] = []
    for note in notes:
        if note.system or note.body.split("\n", 1)[0].strip() != marker:
            continue
        if note.author_id == own_user_id:
            ours.append(note)
        else:
            foreign.append(note.id)
    if not ours:
        return NotePlan(NoteAction.CREATE, None, tuple(sorted(foreign)))
    ours.sort(key=lambda note: note.id)
    target, duplicates = ours[0], tuple(note.id for note in ours[1:])
    action = NoteAction.UNCHANGED if _same_text(target.body, body) else NoteAction.UPDATE
    return NotePlan(action, target.id, tuple(sorted(foreign)), duplicates)
