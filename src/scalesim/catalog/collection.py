"""The loaded catalog: patterns in a stable order, looked up by id or alias."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator

from scalesim.catalog.model import Pattern

_SEPARATORS = re.compile(r"[\s_-]+")


def normalize_key(text: str) -> str:
    """One spelling per key, so 'Circuit Breaker', 'circuit_breaker' and 'circuit-breaker' meet."""
    return _SEPARATORS.sub("-", text.strip().casefold()).strip("-")


HINT_CUTOFF = 0.75  # difflib ratio: 'circut-breaker' 0.97, 'scalling' 0.93, 'nope'/'finops' 0.6


def did_you_mean(key: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a mistyped key, for 'did you mean' hints: close enough to
    be a slip of the keys (a letter or two), so 'nope' is not taken for 'finops'."""
    matches = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=HINT_CUTOFF)
    return matches[0] if matches else None


class UnknownPatternError(KeyError):
    """A lookup that matched no id or alias; carries the nearest id so callers can hint."""

    def __init__(self, key: str, suggestion: str | None) -> None:
        super().__init__(key)
        self.key = key
        self.suggestion = suggestion

    def __str__(self) -> str:
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"unknown pattern {self.key!r}{hint}"


class Catalog:
    """Validated patterns sorted by id; build it with `load_catalog`, which checks integrity."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self._by_id = {p.id: p for p in sorted(patterns, key=lambda p: p.id)}
        self._by_key: dict[str, str] = {normalize_key(pid): pid for pid in self._by_id}
        for pattern in self._by_id.values():
            for alias in pattern.aliases:
                self._by_key.setdefault(normalize_key(alias), pattern.id)

    def __iter__(self) -> Iterator[Pattern]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def get(self, key: str) -> Pattern | None:
        """The pattern whose id or alias is `key` (case and separators ignored), else None."""
        pattern_id = self._by_key.get(normalize_key(key))
        return None if pattern_id is None else self._by_id[pattern_id]

    def __getitem__(self, key: str) -> Pattern:
        pattern = self.get(key)
        if pattern is None:
            raise UnknownPatternError(key, self.suggest(key))
        return pattern

    def suggest(self, key: str) -> str | None:
        """The id whose id or alias is closest to `key`."""
        match = did_you_mean(normalize_key(key), self._by_key)
        return None if match is None else self._by_key[match]
