"""One error hierarchy for the whole tool, and the exit codes the CLI maps it to.

Every error carries what a person needs to fix the problem: where (file:line:column),
what is wrong, and a hint. The CLI prints ``str(error)`` and exits with ``error.exit_code``;
nothing below the CLI prints or exits.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from .records import record


class ExitCode(IntEnum):
    """Documented exit codes (README, "Exit codes")."""

    OK = 0
    FINDINGS = 1  # drift, lint findings, dropped flows
    INPUT = 2  # bad input or usage
    ACCESS = 3  # cluster or GitLab access error
    OVERRIDE = 4  # the deploy would override UI-managed or hand-edited policies (--fail-on-override)
    PROOF = 5  # suggest --from-flows: the learned policy would drop recorded flows (its proof failed)
    INTERNAL = 70  # an unexpected error: a bug in the tool (EX_SOFTWARE); never a verdict


class Severity(StrEnum):
    """How bad a finding is, for every kind of finding (validate problems, lint findings,
    ownership warnings): wrong, or the deploy fails (error); someone's work is lost or the result
    is not what was meant (warning); just so you know (info). Each command decides which
    severities fail it."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the most severe: sort findings by it."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@record(frozen=True, order=True)
class Location:
    """A position in an input file; ``line`` and ``column`` are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


class NetpolError(Exception):
    """Base class: a problem the user can act on.

    The pure core does not know files: it names the object a problem is in (``subject``, the
    manifest mapping as read) and the ``path`` inside it; the use case that read the object
    turns that into the file:line:column (``runs/locating.py``).
    """

    exit_code: ExitCode = ExitCode.INPUT

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        location: Location | None = None,
        subject: object = None,
        path: tuple[str | int, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        self.subject = subject
        self.path = path

    def __str__(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        return f"{head}\n  hint: {self.hint}" if self.hint else head


class InputError(NetpolError):
    """Bad input: a values file, snapshot, flow file, chart or command-line usage (exit 2)."""

    exit_code = ExitCode.INPUT


class ValidationFailed(InputError):
    """The values file was read but breaks the rules; carries every problem found."""

    def __init__(self, problems: list, *, file: str) -> None:  # list[validate.Problem]
        count = len(problems)
        super().__init__(f"{file}: {count} problem{'s' if count != 1 else ''} found")
        self.problems = problems


class InputProblems(InputError):
    """Several problems in the input, each an :class:`InputError` with its own location and hint."""

    def __init__(self, problems: list[InputError], *, what: str = "the input") -> None:
        count = len(problems)
        super().__init__(f"{what}: {count} problem{'s' if count != 1 else ''} found")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([*(str(problem) for problem in self.problems), self.message])


class ClusterError(NetpolError):
    """The Kubernetes API could not be read (exit 3)."""

    exit_code = ExitCode.ACCESS


class GitLabError(NetpolError):
    """The GitLab API could not be used (exit 3)."""

    exit_code = ExitCode.ACCESS
