"""The one error generators raise: input that cannot become valid deployment files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scalesim.spec.errors import Path


@dataclass(frozen=True)
class Problem:
    """One problem, and where in the spec it is (('components', 'api'), so the CLI can name
    the line as for any spec error), or () when the input is not the spec's (an option, the
    output folder)."""

    message: str
    place: Path = ()


class GenerateError(Exception):
    """Every problem found while planning output, so nothing is written and all are shown.
    `problems` are the messages, `located` the same problems with their places."""

    def __init__(self, problems: Sequence[str | Problem]) -> None:
        self.located = [p if isinstance(p, Problem) else Problem(p) for p in problems]
        self.problems = [problem.message for problem in self.located]
        super().__init__("\n".join(self.problems))
