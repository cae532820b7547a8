"""Source names as spec names: kept when valid, otherwise mapped, and every mapping reported.

A spec name is letters, digits and '-', starting with a letter or digit, at most 63
characters. Compose allows '_' and '.', Kubernetes allows '.': those become '-'. A spec has
one namespace: a name that several Kubernetes namespaces use is qualified by each one, as
its DNS name `<name>.<namespace>` maps (`orders` in `billing` -> `orders-billing`). Two
source names that still map to the same spec name get numbered suffixes, so no component
is lost.
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
NAMESPACES = "same name in another namespace"


@dataclass
class Names:
    """Source name -> spec name, unique; `mapped` lists the ones that changed, in order.

    A source is named by its key (its name unless given: a Kubernetes component's is
    `<namespace>/<name>`), so two sources of one name are two components. With `namespace`
    the name is qualified by it (the name is also used in another namespace)."""

    taken: dict[str, str] = field(default_factory=dict)     # lower-cased spec name -> key
    chosen: dict[str, str] = field(default_factory=dict)    # key -> spec name
    # key -> (the source as shown, the name it maps to, qualified by its namespace)
    shown: dict[str, tuple[str, str, bool]] = field(default_factory=dict)

    def add(self, source: str, key: str | None = None, namespace: str | None = None) -> str:
        key = source if key is None else key
        if key in self.chosen:
            return self.chosen[key]
        base = spec_name(source if namespace is None else f"{source}.{namespace}")
        name, number = base, 2
        while name.lower() in self.taken:
            suffix = f"-{number}"
            name, number = base[: MAX - len(suffix)] + suffix, number + 1
        self.taken[name.lower()] = key
        self.chosen[key] = name
        self.shown[key] = (source if namespace is None else f"{namespace}/{source}", base,
                           namespace is not None)
        return name

    @property
    def mapped(self) -> list[Renamed]:
        renamed = []
        for key, name in self.chosen.items():
            source, base, qualified = self.shown[key]
            if source != name:
                renamed.append(Renamed(source, name, _why(source, base, name, qualified)))
        return renamed


def _why(source: str, base: str, name: str, qualified: bool) -> str:
    """Invalid, clashing (Web-App beside web-app: Kubernetes names are lower case), used in
    several namespaces, or some of these."""
    if qualified:
        return NAMESPACES if base == name else f"{NAMESPACES}, and {base} is taken"
    if base == name:
        return INVALID
    return CLASH if base == source else f"{INVALID}, and {base} is taken"
