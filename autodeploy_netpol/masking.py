"""Credentials never leave the process: the one masking function every output goes through.

The tool holds credentials: the GitLab token, and whatever the kubeconfig or the service account
gives the Kubernetes client (bearer tokens, passwords, client keys). Each is registered here the
moment it is read (:func:`register_secret`); :func:`mask` replaces every registered credential,
and the password of any ``scheme://user:password@host`` URL, with :data:`MASK`.

The exit points call :func:`mask`: the CLI's standard output and error (reports, messages, the
traceback under ``--debug``, warnings and log records, see ``cli/common.py``), every file the tool
writes (``files.write_output``) and the merge-request note (``gitlab/client.py``). Masking comes
before any cutting, so a shortened message cannot keep a prefix of a token.

A credential is also masked in the forms it takes in our outputs: JSON-escaped (a report), as
Python writes it in a ``repr`` (a traceback), and line by line when it spans lines (a token pasted
with a newline is printed by libraries one line at a time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[MASKED]"
#: Credentials (and lines of a multi-line one) shorter than this are not masked: a value of a few
#: characters would mask unrelated text everywhere ("t" in every word), and is no secret anyway.
MIN_FRAGMENT = 6

_secrets: set[str] = set()
#: Longest first, so that a credential containing another one is replaced whole.
_ordered: list[str] = []

# scheme://user:password@ — the password is whatever stands between ':' and '@' in the authority.
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:)(?P<password>[^\s/@]+)(?=@)")


def register_secret(value: object) -> None:
    """Remember a credential (a ``str`` or ``bytes``; anything else, empty or ``None`` is ignored)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or not value.strip():
        return
    import json  # here: json is start-up that validate and render need not pay

    forms = {value, value.strip()}
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.add(json.dumps(value)[1:-1])
    forms.add(repr(value)[1:-1])
    for line in value.splitlines():
        if len(line.strip()) >= MIN_FRAGMENT:
            forms.add(line.strip())
    new = {form for form in forms if len(form.strip()) >= MIN_FRAGMENT} - _secrets
    if new:
        _secrets.update(new)
        _ordered[:] = sorted(_secrets, key=len, reverse=True)


def register_secrets(values: Iterable[object]) -> None:
    """:func:`register_secret` for each of ``values``."""
    for value in values:
        register_secret(value)


def forget_secrets() -> None:
    """Forget every registered credential (a new run in the same process, e.g. in tests)."""
    _secrets.clear()
    _ordered.clear()


def mask(text: str) -> str:
    """``text`` with every registered credential and every URL password replaced by :data:`MASK`."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text:
        text = _USERINFO.sub(lambda match: match.group("head") + MASK, text)
    return text


def encodable(text: str) -> str:
    """``text`` as it can be written in UTF-8: a lone surrogate (JSON's ``"\\udc80"`` decodes to one)
    becomes its escape instead of failing the write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def holds_secret(text: str) -> bool:
    """Whether ``text`` contains a registered credential (before masking)."""
    return any(secret in text for secret in _ordered)
