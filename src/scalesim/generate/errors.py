"""The one error generators raise: input that cannot become valid deployment files."""

from __future__ import annotations

from collections.abc import Sequence


class GenerateError(Exception):
    """Every problem found while planning output, so nothing is written and all are shown."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
