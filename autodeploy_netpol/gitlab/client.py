"""The GitLab edge: keeps one drift-report note per environment up to date on a merge request.

python-gitlab is imported here, inside functions, so that commands which never talk to
GitLab do not pay for it. The token is only ever sent to the configured origin (scheme, host and
port of ``CI_API_V4_URL``): a redirect elsewhere is refused, not followed (python-gitlab follows
redirects with requests, which drops ``Authorization`` on another host but not ``PRIVATE-TOKEN``).
Every message that may carry a server's text is masked (:func:`~autodeploy_netpol.masking.mask`)
before it is shortened. Retrying lives here too: python-gitlab's own retry loop is switched
off per request and this module retries the whole find-then-write round instead, within a fixed
number of attempts. A round is idempotent (it re-lists the notes before writing), so a POST whose
answer was lost in a timeout cannot produce a second note on the next attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import GitLabError
from ..masking import MASK, holds_secret, mask, register_secret
from .note import NOTE_LIMIT, ExistingNote, NoteAction, NotePlan, note_body, plan_note
from .target import MergeRequestTarget

if TYPE_CHECKING:
    import gitlab

DEFAULT_ATTEMPTS = 3
DEFAULT_TIMEOUT = 30.0
_FIRST_WAIT = 0.5
_LONGEST_WAIT = 8.0
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_PAGE_SIZE = 100
#: Per-request options that switch python-gitlab's retry loop (and its unbounded 429 wait) off.
_NO_LIBRARY_RETRY: dict[str, Any] = {
    "retry_transient_errors": False,
    "obey_rate_limit": False,
    "max_retries": 0,
}


@dataclass(frozen=True)
class NoteOutcome:
    """What happened on the merge request, for the job log."""

    environment: str
    action: NoteAction
    note_id: int
    merge_request_iid: int
    attempts: int
    foreign_note_ids: tuple[int, ...] = ()
    duplicate_note_ids: tuple[int, ...] = ()
    url: str | None = None

    def describe(self) -> str:
        """One or more lines for a person reading the job log."""
        where = self.url or f"!{self.merge_request_iid} note {self.note_id}"
        lines = [f"merge-request comment for environment {self.environment!r} {self.action.value}: {where}"]
        if self.foreign_note_ids:
            ids = ", ".join(map(str, self.foreign_note_ids))
            lines.append(
                f"  left alone: note(s) {ids} carry the same marker but were written by another user"
            )
        if self.duplicate_note_ids:
            ids = ", ".join(map(str, self.duplicate_note_ids))
            lines.append(f"  note(s) {ids} are older copies of this comment; delete them by hand if unwanted")
        return "\n".join(lines)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the default port made explicit."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


class OffOriginRedirect(Exception):
    """GitLab answered with a redirect to another origin: not followed, the token stays home."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(f"redirected from {source} to {target}")
        self.source = source
        self.target = target


def _origin_bound_session(api_url: str) -> Any:
    """A requests session that follows redirects only within the origin of ``api_url``."""
    import requests

    home = origin(api_url)

    class OriginBoundSession(requests.Session):
        def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
            # requests calls this for every redirect it is about to follow, before sending it.
            if origin(prepared_request.url) != home:
                raise OffOriginRedirect(response.url, prepared_request.url)
            super().rebuild_auth(prepared_request, response)

    return OriginBoundSession()


class MergeRequestNotes:
    """The notes of one merge request, written with the target's token."""

    def __init__(
        self,
        target: MergeRequestTarget,
        *,
        project_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        attempts: int = DEFAULT_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._target = target
        self._project_url = project_url.rstrip("/") if project_url else None
        self._timeout = timeout
        self._attempts = attempts
        self._sleep = sleep

    def publish(self, environment: str, markdown: str) -> NoteOutcome:
        """Create or update the note for ``environment``; leave it untouched when nothing changed.

        Raises :class:`GitLabError` (exit 3) with a readable message on 401/403/404, when
        transient failures (5xx, 429, timeouts, refused connections) outlast the attempts, or when
        the body is too long for a note.
        """
        body = note_body(environment, markdown)
        if len(body) > NOTE_LIMIT:
            raise GitLabError(
                f"the report is {len(body)} characters, GitLab accepts at most {NOTE_LIMIT} in a note",
                hint="render the Markdown with a max_chars limit (the report renderer cuts per object)",
            )
        import gitlab
        import requests

        library_errors = (gitlab.exceptions.GitlabError, requests.exceptions.RequestException)
        client = self._client()
        failure: Exception | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                plan = self._round(client, environment, mask(body))
            except OffOriginRedirect as redirect:
                raise self._redirect_error(redirect) from None
            except library_errors as error:
                if not _is_transient(error):
                    raise self._access_error(error) from _safe_cause(error)
                failure = error
                if attempt < self._attempts:
                    self._sleep(min(_FIRST_WAIT * 2 ** (attempt - 1), _LONGEST_WAIT))
                continue
            return self._outcome(environment, plan, attempt)
        assert failure is not None
        raise self._access_error(failure, attempts=self._attempts) from _safe_cause(failure)

    def _client(self) -> gitlab.Gitlab:
        import gitlab

        from .. import __version__

        register_secret(self._target.token)
        return gitlab.Gitlab(
            self._target.server_url,
            private_token=self._target.token,
            timeout=self._timeout,
            ssl_verify=self._target.ca_file or True,
            retry_transient_errors=False,
            user_agent=f"autodeploy-netpol/{__version__}",
            session=_origin_bound_session(self._target.api_url),
        )

    def _redirect_error(self, redirect: OffOriginRedirect) -> GitLabError:
        return GitLabError(
            f"GitLab at {mask(redirect.source)} redirected to {mask(redirect.target)}, another origin: "
            f"not followed, so the token in {self._target.token_variable} is not sent there",
            hint="set CI_API_V4_URL to the address GitLab really answers on (scheme, host and port); "
            "a redirect from http to https also counts",
        )

    def _round(self, client: gitlab.Gitlab, environment: str, body: str) -> _RoundResult:
        """One idempotent attempt: who am I, list the notes, then create, update or do nothing."""
        import gitlab

        user = client.http_get("/user", **_NO_LIBRARY_RETRY)
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise gitlab.exceptions.GitlabParsingError("GET /user answered without a user id")
        own_user_id = user["id"]
        project = client.projects.get(self._target.project_id, lazy=True)
        merge_request = project.mergerequests.get(self._target.merge_request_iid, lazy=True)
        existing = self._existing_notes(merge_request)
        plan = plan_note(existing, environment=environment, own_user_id=own_user_id, body=body)
        note_id = plan.note_id
        if plan.action is NoteAction.CREATE:
            created = merge_request.notes.create({"body": body}, **_NO_LIBRARY_RETRY)
            note_id = int(created.id)
        elif plan.action is NoteAction.UPDATE:
            assert note_id is not None
            merge_request.notes.update(note_id, {"body": body}, **_NO_LIBRARY_RETRY)
        assert note_id is not None
        return _RoundResult(plan, note_id)

    @staticmethod
    def _existing_notes(merge_request: Any) -> Iterator[ExistingNote]:
        # iterator=True follows the Link/X-Next-Page headers page by page.
        for note in merge_request.notes.list(iterator=True, per_page=_PAGE_SIZE, **_NO_LIBRARY_RETRY):
            author = getattr(note, "author", None) or {}
            yield ExistingNote(
                id=int(note.id),
                author_id=int(author.get("id", -1)),
                body=str(getattr(note, "body", "") or ""),
                system=bool(getattr(note, "system", False)),
            )

    def _outcome(self, environment: str, result: _RoundResult, attempts: int) -> NoteOutcome:
        iid = self._target.merge_request_iid
        url = (
            f"{self._project_url}/-/merge_requests/{iid}#note_{result.note_id}" if self._project_url else None
        )
        return NoteOutcome(
            environment=environment,
            action=result.plan.action,
            note_id=result.note_id,
            merge_request_iid=iid,
            attempts=attempts,
            foreign_note_ids=result.plan.foreign_note_ids,
            duplicate_note_ids=result.plan.duplicate_note_ids,
            url=url,
        )

    def _access_error(self, error: Exception, *, attempts: int | None = None) -> GitLabError:
        """Turn a python-gitlab / requests failure into a readable, token-free GitLabError."""
        import gitlab

        target = self._target
        where = f"merge request !{target.merge_request_iid} of project {target.project_id}"
        status = getattr(error, "response_code", None)
        detail = _short(error)
        tried = f" after {attempts} attempts" if attempts else ""
        if status == 401:
            return GitLabError(
                f"GitLab rejected the token in {target.token_variable} (401 Unauthorized): {detail}",
                hint="the token is expired, revoked or mistyped; it must be a project or personal access "
                "token with the 'api' scope",
            )
        if status == 403:
            return GitLabError(
                f"the token in {target.token_variable} may not write notes on {where} "
                f"(403 Forbidden): {detail}",
                hint="give the token the 'api' scope and at least the Reporter role in the project",
            )
        if status == 404:
            return GitLabError(
                f"{where} was not found (404): {detail}",
                hint="check CI_PROJECT_ID and CI_MERGE_REQUEST_IID; GitLab also answers 404 when the "
                "token's user cannot see the project",
            )
        if status is not None:
            return GitLabError(f"GitLab answered HTTP {status} for {where}{tried}: {detail}")
        if isinstance(error, gitlab.exceptions.GitlabParsingError):
            return GitLabError(f"GitLab's answer for {where} could not be read: {detail}")
        return GitLabError(
            f"could not reach GitLab at {target.api_url}{tried}: {detail}",
            hint="check CI_API_V4_URL and the network path from the runner; set CI_SERVER_TLS_CA_FILE for a "
            "private certificate authority",
        )


@dataclass(frozen=True)
class _RoundResult:
    plan: NotePlan
    note_id: int


def _is_transient(error: Exception) -> bool:
    import gitlab
    import requests

    if isinstance(error, OffOriginRedirect):
        return False
    if isinstance(error, gitlab.exceptions.GitlabError) and error.response_code is not None:
        code = error.response_code
        return code in _TRANSIENT_STATUS or 520 <= code <= 530
    return isinstance(error, requests.exceptions.RequestException)


def _short(error: Exception) -> str:
    """The library's message, masked, then one line and bounded: GitLab error pages can be whole
    HTML documents, and one that echoes the request must not leave a prefix of the token behind."""
    text = " ".join(mask(str(error)).split()) or type(error).__name__
    if len(text) <= 300:
        return text
    cut = text[:297]
    for size in range(len(MASK) - 1, 0, -1):  # no half "[MASKED]" at the end
        if cut.endswith(MASK[:size]):
            cut = cut[:-size]
            break
    return cut + "..."


def _safe_cause(error: Exception) -> Exception | None:
    """Chain the library error unless its text contains a credential (then the chain is cut)."""
    return None if holds_secret(f"{error!s} {error!r}") else error
