"""Which merge request to comment on and with which token, from GitLab CI's predefined variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import GitLabError
from ..masking import register_secret
from ..text import ascii_int

#: Token variables, in the order they are looked up.
TOKEN_VARIABLES = ("NETPOL_GITLAB_TOKEN", "GITLAB_TOKEN")

_API_SUFFIX = "/api/v4"

_TOKEN_HINT = (
    "create a project access token with the 'api' scope and the Reporter role (Settings > Access "
    "tokens) and store it as a masked CI/CD variable NETPOL_GITLAB_TOKEN"
)


@dataclass(frozen=True)
class MergeRequestTarget:
    """A merge request and the credentials to write notes on it.

    The token is excluded from ``repr`` so that it cannot leak through a log line or a
    test failure message.
    """

    api_url: str
    project_id: str
    merge_request_iid: int
    token: str = field(repr=False)
    token_variable: str
    ca_file: str | None = None

    @property
    def server_url(self) -> str:
        """The instance URL python-gitlab wants (``CI_API_V4_URL`` without ``/api/v4``)."""
        return self.api_url[: -len(_API_SUFFIX)]


class NoToken(GitLabError):
    """No token that can write notes: commenting is skipped with a notice, the run goes on (its report
    is in the job log and artifacts)."""


@dataclass(frozen=True)
class MergeRequests:
    """The merge requests of this pipeline to comment on, and why others are left out."""

    iids: tuple[int, ...]
    #: where they came from: ``CI_MERGE_REQUEST_IID`` or ``CI_OPEN_MERGE_REQUESTS``
    source: str
    notes: tuple[str, ...] = ()


#: GitLab's IIDs are 64-bit integers.
_MAX_IID = 2**63 - 1


def _positive_iid(text: str) -> int | None:
    value = ascii_int(text)
    return value if value is not None and 0 < value <= _MAX_IID else None


def _iid(text: str, variable: str, hint: str) -> int:
    value = _positive_iid(text)
    if value is None:
        raise GitLabError(f"{variable} must be a positive number, got {text!r}", hint=hint)
    return value


_IN_MR = (
    "run the job in a merge-request pipeline (CI_MERGE_REQUEST_IID), or in the branch pipeline of a branch "
    "with an open merge request (CI_OPEN_MERGE_REQUESTS)"
)


def merge_requests_from_environment(environ: Mapping[str, str]) -> MergeRequests:
    """``CI_MERGE_REQUEST_IID`` in a merge-request pipeline; else the merge requests of this project
    in ``CI_OPEN_MERGE_REQUESTS`` (``path!iid`` items, comma separated, up to four: what GitLab sets in
    the branch pipeline of a branch with open merge requests). Merge requests in other projects (a
    fork's upstream) are left out with a note: this project's token cannot be assumed to reach them.
    """
    single = environ.get("CI_MERGE_REQUEST_IID", "").strip()
    if single:
        return MergeRequests((_iid(single, "CI_MERGE_REQUEST_IID", _IN_MR),), "CI_MERGE_REQUEST_IID")
    listed = environ.get("CI_OPEN_MERGE_REQUESTS", "").strip()
    if not listed:
        raise GitLabError("CI_MERGE_REQUEST_IID is not set and CI_OPEN_MERGE_REQUESTS is empty", hint=_IN_MR)
    project_path = environ.get("CI_PROJECT_PATH", "").strip()
    if not project_path:
        raise GitLabError(
            "CI_OPEN_MERGE_REQUESTS needs CI_PROJECT_PATH to tell this project's merge requests from others",
            hint="GitLab CI sets both in branch pipelines",
        )
    iids: list[int] = []
    notes: list[str] = []
    for item in (part.strip() for part in listed.split(",")):
        if not item:
            continue
        path, bang, number = item.rpartition("!")
        iid = _positive_iid(number) if bang else None
        if iid is None:
            notes.append(f"CI_OPEN_MERGE_REQUESTS item {item!r} is not <project path>!<iid>: skipped")
        elif path != project_path:
            notes.append(f"not commenting on {item}: the merge request is in another project")
        elif iid not in iids:
            iids.append(iid)
    return MergeRequests(tuple(iids), "CI_OPEN_MERGE_REQUESTS", tuple(notes))


def token_from_environment(environ: Mapping[str, str]) -> tuple[str, str]:
    """The token and the variable it came from; :class:`NoToken` when there is none that may write
    notes (``CI_JOB_TOKEN`` may not)."""
    for name in TOKEN_VARIABLES:
        token = environ.get(name, "").strip()
        if token:
            register_secret(environ.get(name))
            if any(ord(char) < 32 or ord(char) == 127 for char in token):
                # a token that is there but unusable fails like a token GitLab refuses (not NoToken)
                raise GitLabError(
                    f"the token in {name} contains a line break or another control character",
                    hint="the variable holds more than the token (pasted over two lines?); set it to the "
                    "token alone",
                )
            return token, name
    if environ.get("CI_JOB_TOKEN"):
        raise NoToken(
            "only CI_JOB_TOKEN is available, and GitLab does not allow a job token to create "
            "merge-request notes",
            hint=_TOKEN_HINT,
        )
    raise NoToken(f"no GitLab token: set {' or '.join(TOKEN_VARIABLES)}", hint=_TOKEN_HINT)


def _required(environ: Mapping[str, str], name: str, hint: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise GitLabError(f"{name} is not set", hint=hint)
    return value


def target_from_environment(
    environ: Mapping[str, str], *, merge_request_iid: int | None = None
) -> MergeRequestTarget:
    """Read the merge request and the token from CI variables; explain what is missing.

    ``merge_request_iid`` (one of :func:`merge_requests_from_environment`) replaces
    ``CI_MERGE_REQUEST_IID``. ``CI_JOB_TOKEN`` is deliberately not used: GitLab does not let job
    tokens create notes.
    """
    api_url = _required(
        environ, "CI_API_V4_URL", "set it to https://<gitlab host>/api/v4 (GitLab CI sets it)"
    )
    api_url = api_url.rstrip("/")
    if not api_url.endswith(_API_SUFFIX) or not api_url.startswith(("http://", "https://")):
        raise GitLabError(
            f"CI_API_V4_URL must be an http(s) URL ending in {_API_SUFFIX}, got {api_url!r}",
            hint="GitLab CI sets it, e.g. https://gitlab.example.com/api/v4",
        )
    project_id = _required(environ, "CI_PROJECT_ID", _IN_MR)
    if merge_request_iid is None:
        merge_request_iid = _iid(
            _required(environ, "CI_MERGE_REQUEST_IID", _IN_MR), "CI_MERGE_REQUEST_IID", _IN_MR
        )
    token, name = token_from_environment(environ)
    return MergeRequestTarget(
        api_url=api_url,
        project_id=project_id,
        merge_request_iid=merge_request_iid,
        token=token,
        token_variable=name,
        ca_file=environ.get("CI_SERVER_TLS_CA_FILE") or None,
    )
