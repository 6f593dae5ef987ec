"""The ``validate`` use case: every problem of the network-policy blocks of a values file."""

from __future__ import annotations

from ..desired.delivery import Delivery, delivery_problems
from ..desired.shapes import ShapeChoice, ShapeRequest, choose_shape
from ..desired.validate import Problem, validate_values
from ..desired.values import ValuesFile, ValuesPath, read_values
from ..errors import ExitCode, Severity
from ..records import record
from ..sources.collector import cycle_collector_paused


@record(frozen=True)
class ValidateRun:
    """The file as read and its problems (errors and warnings); exit 2 when any is an error."""

    values_file: ValuesFile
    problems: tuple[Problem, ...]
    exit_code: int
    #: the chart the file was checked against, and why
    choice: ShapeChoice

    @property
    def errors(self) -> list[Problem]:
        """The problems that make the file invalid."""
        return [problem for problem in self.problems if problem.severity is Severity.ERROR]


def run_validate(
    values: ValuesPath, chart: ShapeRequest | None = None, delivery: Delivery | None = None
) -> ValidateRun:
    """Read and validate against the chart ``chart`` describes (default: the newest) and what
    ``delivery`` deploys; a file that cannot be read at all raises :class:`InputError`."""
    choice = choose_shape(chart or ShapeRequest())
    delivery = delivery or Delivery()
    if choice.overlays_laid:
        delivery = Delivery(delivery.handoff, True)
    with cycle_collector_paused():  # big files: see sources/collector.py
        values_file = read_values(values)
        found = validate_values(values_file, shape=choice.shape)
        found.extend(delivery_problems(values_file, choice.shape, delivery))
    problems = tuple(sorted(found, key=lambda p: (p.location.line, p.location.column, p.message)))
    failed = any(problem.severity is Severity.ERROR for problem in problems)
    return ValidateRun(values_file, problems, ExitCode.INPUT if failed else ExitCode.OK, choice)
