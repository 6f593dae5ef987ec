"""Which merge request to comment on and with which token, from GitLab CI's predefined variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import GitLabError
from ..masking import register_secret

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


def _required(environ: Mapping[str, str], name: str, hint: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise GitLabError(f"{name} is not set", hint=hint)
    return value


def target_from_environment(environ: Mapping[str, str]) -> MergeRequestTarget:
    """Read the merge request and the token from CI variables; explain what is missing.

    ``CI_JOB_TOKEN`` is deliberately not used: GitLab does not let job tokens create notes.
    """
    in_mr = (
        "run the job in a merge-request pipeline (rules: if: $CI_PIPELINE_SOURCE == 'merge_request_event')"
    )
    api_url = _required(
        environ, "CI_API_V4_URL", "set it to https://<gitlab host>/api/v4 (GitLab CI sets it)"
    )
    api_url = api_url.rstrip("/")
    if not api_url.endswith(_API_SUFFIX) or not api_url.startswith(("http://", "https://")):
        raise GitLabError(
            f"CI_API_V4_URL must be an http(s) URL ending in {_API_SUFFIX}, got {api_url!r}",
            hint="GitLab CI sets it, e.g. https://gitlab.example.com/api/v4",
        )
    project_id = _required(environ, "CI_PROJECT_ID", in_mr)
    iid_text = _required(environ, "CI_MERGE_REQUEST_IID", in_mr)
    if not iid_text.isdigit() or int(iid_text) <= 0:
        raise GitLabError(f"CI_MERGE_REQUEST_IID must be a positive number, got {iid_text!r}", hint=in_mr)
    for name in TOKEN_VARIABLES:
        token = environ.get(name, "").strip()
        if token:
            register_secret(environ.get(name))
            if any(ord(char) < 32 or ord(char) == 127 for char in token):
                raise GitLabError(
                    f"the token in {name} contains a line break or another control character",
                    hint="the variable holds more than the token (pasted over two lines?); set it to the "
                    "token alone",
                )
            break
    else:
        if environ.get("CI_JOB_TOKEN"):
            raise GitLabError(
                "only CI_JOB_TOKEN is available, and GitLab does not allow a job token to create "
                "merge-request notes",
                hint=_TOKEN_HINT,
            )
        raise GitLabError(f"no GitLab token: set {' or '.join(TOKEN_VARIABLES)}", hint=_TOKEN_HINT)
    return MergeRequestTarget(
        api_url=api_url,
        project_id=project_id,
        merge_request_iid=int(iid_text),
        token=token,
        token_variable=name,
        ca_file=environ.get("CI_SERVER_TLS_CA_FILE") or None,
    )
