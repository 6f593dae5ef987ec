"""The ``validate`` use case: every problem of the network-policy blocks of a values file."""

from __future__ import annotations

from dataclasses import dataclass

from ..desired.validate import Problem, validate_values
from ..desired.values import ValuesFile, ValuesPath, read_values
from ..errors import ExitCode, Severity
from ..sources.yamlio import cycle_collector_paused


@dataclass(frozen=True)
class ValidateRun:
    """The file as read and its problems (errors and warnings); exit 2 when any is an error."""

    values_file: ValuesFile
    problems: tuple[Problem, ...]
    exit_code: int

    @property
    def errors(self) -> list[Problem]:
        """The problems that make the file invalid."""
        return [problem for problem in self.problems if problem.severity is Severity.ERROR]


def run_validate(values: ValuesPath) -> ValidateRun:
    """Read and validate; a file that cannot be read at all raises :class:`InputError`."""
    with cycle_collector_paused():  # big files: see yamlio.cycle_collector_paused
        values_file = read_values(values)
        problems = tuple(validate_values(values_file))
    failed = any(problem.severity is Severity.ERROR for problem in problems)
    return ValidateRun(values_file, problems, ExitCode.INPUT if failed else ExitCode.OK)
