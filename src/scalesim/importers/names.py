"""Source names as spec names: kept when valid, otherwise mapped, and every mapping reported.

A spec name is letters, digits and '-', starting with a letter or digit, at most 63
characters. Compose allows '_' and '.', Kubernetes allows '.': those become '-'. A spec has
one namespace: a name that several Kubernetes namespaces use is qualified by each one, as
its DNS name `<name>.<namespace>` maps (`orders` in `billing` -> `orders-billing`). Two
source names that still map to the same spec name get numbered suffixes, so no component
is lost; so do Kubernetes workloads of different kinds that share a name (a Deployment
and a StatefulSet `api`: two objects, both running).
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


class _Shown(NamedTuple):
    """A source as the renamed list shows it: its name (qualified by its namespace when
    that is used), the name it maps to before a suffix, and why a suffix is added."""

    source: str
    base: str
    qualified: bool
    kind: str           # a Kubernetes workload's kind, shown when others share its name
    clash: str


@dataclass
class Names:
    """Source name -> spec name, unique; `mapped` lists the ones that changed, in order.

    A source is named by its key (its name unless given: a Kubernetes component's is
    `<namespace>/<name>`), so two sources of one name are two components. With `namespace`
    the name is qualified by it (the name is also used in another namespace)."""

    taken: dict[str, str] = field(default_factory=dict)     # lower-cased spec name -> key
    chosen: dict[str, str] = field(default_factory=dict)    # key -> spec name
    shown: dict[str, _Shown] = field(default_factory=dict)    # key -> how it is shown

    def add(self, source: str, key: str | None = None, namespace: str | None = None,
            kind: str = "", clash: str = CLASH) -> str:
        """The spec name of a source; `kind` and `clash` show a workload whose name
        workloads of other kinds share, and why it got a suffix."""
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
        self.shown[key] = _Shown(source if namespace is None else f"{namespace}/{source}",
                                 base, namespace is not None, kind, clash)
        return name

    @property
    def mapped(self) -> list[Renamed]:
        renamed = []
        for key, name in self.chosen.items():
            shown = self.shown[key]
            if shown.source != name:
                renamed.append(Renamed(f"{shown.kind} {shown.source}".lstrip(), name,
                                       _why(shown, name)))
        return renamed


def _why(shown: _Shown, name: str) -> str:
    """Invalid, clashing (Web-App beside web-app: Kubernetes names are lower case; or a
    workload of another kind), used in several namespaces, or some of these."""
    if shown.qualified:
        return NAMESPACES if shown.base == name else f"{NAMESPACES}, and {shown.base} is taken"
    if shown.base == name:
        return INVALID
    return shown.clash if shown.base == shown.source else f"{INVALID}, and {shown.base} is taken"
