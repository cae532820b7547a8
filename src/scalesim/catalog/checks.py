"""Integrity checks across pattern files; each returns problems naming the file at fault."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import NamedTuple

from scalesim.catalog.collection import normalize_key
from scalesim.catalog.model import Pattern


class Located(NamedTuple):
    """A validated pattern and the file it came from, so cross-file problems can name it."""

    source: str
    pattern: Pattern


def links(pattern: Pattern) -> list[tuple[str, str]]:
    """Every (kind, target id) a pattern declares: its relations and an anti-pattern's fixes."""
    fixes = pattern.anti_pattern.fixed_by if pattern.anti_pattern else []
    return pattern.relations.all() + [("fixed_by", target) for target in fixes]


def duplicate_ids(entries: Sequence[Located]) -> list[str]:
    sources: dict[str, list[str]] = defaultdict(list)
    for source, pattern in entries:
        sources[pattern.id].append(source)
    return [
        f"{files[1]}: id {pid!r} is already used by {files[0]}"
        for pid, files in sorted(sources.items())
        if len(files) > 1
    ]


def alias_clashes(entries: Sequence[Located]) -> list[str]:
    """An alias must not name another pattern, or lookups would be ambiguous."""
    owners = {normalize_key(p.id): (p.id, source) for source, p in entries}
    problems = []
    for source, pattern in entries:
        for alias in pattern.aliases:
            owner, where = owners.setdefault(normalize_key(alias), (pattern.id, source))
            if owner != pattern.id:
                problems.append(
                    f"{source}: alias {alias!r} clashes with pattern {owner!r} ({where})"
                )
    return problems


def dangling_links(entries: Sequence[Located], known: Collection[str]) -> list[str]:
    return [
        f"{source}: {kind} -> {target!r} is not a pattern id"
        for source, pattern in entries
        for kind, target in links(pattern)
        if target not in known
    ]


def unknown_sources(entries: Sequence[Located], legend: Collection[str]) -> list[str]:
    """Source keys (of the pattern and of its figures) missing from the legend."""
    return [
        f"{source}: source {key!r} is not in the legend (sources.yaml)"
        for source, pattern in entries
        for key in dict.fromkeys([*pattern.sources, *(f.source for f in pattern.figures)])
        if key not in legend
    ]


def cycles(entries: Sequence[Located], *kinds: str) -> list[str]:
    """Cycles over `requires` and `specializes` (together: both mean "learn that first") make
    learning paths impossible; cycles in `composed_of` make expansion impossible."""
    kind = "/".join(kinds)
    edges = {p.id: sorted({t for k in kinds for t in getattr(p.relations, k)})
             for _, p in entries}
    source_of = {p.id: source for source, p in entries}
    state: dict[str, str] = {}  # "active" while on the DFS stack, "done" afterwards
    problems: list[str] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "active"
        for target in edges.get(node, []):
            if state.get(target) == "active":
                loop = [*stack[stack.index(target):], target]
                problems.append(f"{source_of[node]}: {kind} cycle {' -> '.join(loop)}")
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return problems


def all_problems(entries: Sequence[Located]) -> list[str]:
    known = {p.id for _, p in entries}
    return [
        *duplicate_ids(entries),
        *alias_clashes(entries),
        *dangling_links(entries, known),
        *cycles(entries, "requires", "specializes"),
        *cycles(entries, "composed_of"),
    ]
