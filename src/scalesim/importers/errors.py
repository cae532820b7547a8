"""The one error importers raise: input that cannot become a system spec.

Every problem names the file and line a person should look at, so the command can print
them all as FILE:LINE: message and exit 2 before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else \
            f"{self.file}: {self.message}"


class ImportFailed(Exception):
    """Every problem found in the input, in file and line order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def fail(file: str, line: int, message: str) -> ImportFailed:
    return ImportFailed([Problem(file, line, message)])
