"""Source names as spec names: kept when valid, otherwise mapped, and every mapping reported.

A spec name is letters, digits and '-', starting with a letter or digit, at most 63
characters. Compose allows '_' and '.', Kubernetes allows '.': those become '-'. Two source
names that map to the same spec name get numbered suffixes, so no component is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

MAX = 63
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_INVALID_RUN = re.compile(r"[^A-Za-z0-9]+")


def is_valid(name: str) -> bool:
    return bool(_VALID.match(name)) and len(name) <= MAX


def spec_name(source: str, fallback: str = "component") -> str:
    """'web_app' -> 'web-app', '.hidden' -> 'hidden'; a name with no letter or digit -> the
    fallback."""
    if is_valid(source):
        return source
    mapped = _INVALID_RUN.sub("-", source).strip("-")[:MAX].rstrip("-")
    return mapped or fallback


class Renamed(NamedTuple):
    """A source name the spec could not keep, the name it got, and why."""

    source: str
    name: str
    why: str


INVALID = "not a valid spec name"
CLASH = "same name as another once lower-cased"


@dataclass
class Names:
    """Source name -> spec name, unique; `mapped` lists the ones that changed, in order."""

    taken: dict[str, str] = field(default_factory=dict)     # spec name -> source name
    chosen: dict[str, str] = field(default_factory=dict)    # source name -> spec name

    def add(self, source: str) -> str:
        if source in self.chosen:
            return self.chosen[source]
        base = spec_name(source)
        name, number = base, 2
        while name.lower() in (taken.lower() for taken in self.taken):
            suffix = f"-{number}"
            name, number = base[: MAX - len(suffix)] + suffix, number + 1
        self.taken[name] = source
        self.chosen[source] = name
        return name

    @property
    def mapped(self) -> list[Renamed]:
        return [Renamed(source, name, _why(source, name))
                for source, name in self.chosen.items() if source != name]


def _why(source: str, name: str) -> str:
    """Invalid, clashing (Web-App beside web-app: Kubernetes names are lower case), or both."""
    base = spec_name(source)
    if base == name:
        return INVALID
    return CLASH if base == source else f"{INVALID}, and {base} is taken"
