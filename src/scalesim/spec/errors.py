"""Spec errors that point at the exact place in the user's file."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class SpecIssue:
    """One problem: where (file, line, column, dotted path) and what. `file` is `--set #N`
    (line 0) for the N-th override, and line 0 means no position in the file."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        # Line 0: no place in a file (it cannot be read, or the problem is in a --set).
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return printable(text)


class SpecError(Exception):
    """Every problem found in a spec, so the user can fix them all in one go."""

    def __init__(self, issues: Sequence[SpecIssue]) -> None:
        self.issues = sorted(set(issues))
        super().__init__("\n".join(str(issue) for issue in self.issues))


class FieldProblems(ValueError):
    """A model's problems with its own fields, each at a path below the model (() for the
    model itself): the loader reports each at the field's line, where the person must edit,
    rather than all at the model's."""

    def __init__(self, problems: Sequence[tuple[Path, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{dotted(path)}: {message}" if path else message
                                   for path, message in self.problems))


def printable(text: str, keep: str = "\n\t") -> str:
    """`text` safe to show on a terminal: control and other invisible characters (an escape
    sequence in a name, say) are written as Python escapes, e.g. \\x1b; those in `keep`
    stay (keep="" for text that must stay on one line, as a YAML comment)."""
    if text.isprintable():  # almost always: skip the character-by-character copy
        return text
    return "".join(c if c.isprintable() or c in keep else ascii(c)[1:-1] for c in text)


SAME_SHOWN = 10  # problems shown with one message, the rest counted
ALL_SHOWN = 100  # problems shown in all


def shown_issues(issues: Sequence[SpecIssue]) -> list[str]:
    """The lines to print for `issues`: at most SAME_SHOWN with one message and ALL_SHOWN in
    all, then one line counting the rest. One mistake repeated in a 1,000-branch step
    made 50,000 lines that took seconds to print and buried every other problem."""
    lines: list[str] = []
    same: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    for issue in issues:
        same[issue.message] += 1
        if same[issue.message] > SAME_SHOWN or len(lines) == ALL_SHOWN:
            hidden[issue.message] += 1
        else:
            lines.append(str(issue))
    if hidden:
        message, count = hidden.most_common(1)[0]
        total = sum(hidden.values())
        lines.append(printable(f"… and {total:,} more problems not shown, {count:,} of them "
                               f"'{message}'"))
    return lines


def plain_message(message: str) -> str:
    """A pydantic message without the prefix it puts on a validator's own message."""
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def dotted(path: Path) -> str:
    """('components', 'api', 'calls', 0, 'to') -> 'components.api.calls[0].to'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def counted(count: float, noun: str, nouns: str | None = None) -> str:
    """'1 node', '3 nodes', '1 branch', '2 branches', '0.5 cores' (`nouns` when the plural
    is not +s; a float as few digits as it needs)."""
    number = f"{count:,}" if isinstance(count, int) else f"{count:g}"
    return f"{number} {noun if count == 1 else nouns or noun + 's'}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' hint, or '' when nothing is close."""
    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
