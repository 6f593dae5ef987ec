"""Errors of the pure core, placed in the files the run read: every error names the file and the object.

The checks and the policy model work on plain mappings and know no files. When one of them raises
an :class:`~autodeploy_netpol.errors.NetpolError` without a location, :func:`located` finds the
object it is about among the manifests the run read — by the ``subject`` the error names, or, for
a :class:`~autodeploy_netpol.policy.PolicyError` that names none, by compiling the policies one by
one (only on this error path) — and gives the error that object's file:line:column and name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..errors import Location, NetpolError
from ..kube.manifests import Manifest
from ..kube.names import ALL_POLICY_KINDS
from ..policy import Model, PolicyError

_POLICY_KINDS = frozenset(ALL_POLICY_KINDS)


@contextmanager
def located(manifests: Sequence[Manifest], *, fallback: str = "") -> Iterator[None]:
    """Give an error raised inside the block the location of the object it is about.

    ``fallback`` names the inputs when the object cannot be found (computed objects have no file
    position of their own).
    """
    try:
        yield
    except NetpolError as error:
        if error.location is None:
            _place(error, manifests, fallback)
        raise


def _place(error: NetpolError, manifests: Sequence[Manifest], fallback: str) -> None:
    manifest = _subject(error, manifests)
    path = error.path
    if manifest is None and isinstance(error, PolicyError):
        manifest, exact = _culprit(manifests)
        if exact is not None:
            error.message, error.hint, path = exact.message, exact.hint or error.hint, exact.path
    if manifest is not None:
        error.location = manifest.locate(path)
        described = manifest.describe()
        name = manifest.name
        named = described in error.message or (name and (f"'{name}'" in error.message or f"/{name}" in error.message))
        if not named:
            error.message = f"{described}: {error.message}"
    elif fallback:
        error.location = Location(fallback)


def _subject(error: NetpolError, manifests: Sequence[Manifest]) -> Manifest | None:
    if error.subject is None:
        return None
    for manifest in manifests:
        if manifest.data is error.subject:
            return manifest
    return None


def _culprit(manifests: Sequence[Manifest]) -> tuple[Manifest | None, PolicyError | None]:
    """The first policy that does not compile on its own, and its error."""
    for manifest in manifests:
        if manifest.kind not in _POLICY_KINDS:
            continue
        try:
            Model.build([manifest.data])
        except PolicyError as exact:
            return manifest, exact
    return None, None
