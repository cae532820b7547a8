"""Learning paths as curricula: a few core patterns per level, prerequisites first.

A level's core is chosen from the catalog data alone: its established, general patterns
(anti-patterns and domain-specialised ones aside) whose first problem is in one of the seeds'
six problem families, each family given slots in proportion to the centrality it holds at
that level, and the most central patterns filling them. Prerequisites may come from any
family. The prerequisites of the core
(`requires` and `specializes`, transitively) join it unless an easier path already taught
them, and the whole is put in a topological order, most central first among equals. The
anti-patterns of the level form their own track, each with the path's patterns that fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scalesim.catalog.collection import Catalog
from scalesim.catalog.graph import centrality
from scalesim.catalog.model import Category, LearningLevel, Maturity
from scalesim.catalog.views import FAMILIES, family_of, prerequisites, topological

CORE_SLOTS = 15  # core patterns per path before prerequisites
MAX_STEPS = 20  # a path longer than this is cut back from its least central core patterns
ANTI_PATTERNS = 5  # entries of the anti-pattern track
OTHER = "other"  # the family shown for a prerequisite whose first problem is in none


@dataclass(frozen=True)
class Lesson:
    id: str
    name: str
    level: LearningLevel
    family: str  # the problem family of its first problem, or "other"
    why: str  # "core" or "prerequisite of X, Y"
    requires: list[str]  # what it needs, among the patterns taught so far


@dataclass(frozen=True)
class Pitfall:
    id: str
    name: str
    fixed_by: list[str]  # the fixes this path (or an easier one) teaches


@dataclass(frozen=True)
class Curriculum:
    level: LearningLevel
    lessons: list[Lesson]
    anti_patterns: list[Pitfall]
    builds_on: list[str] = field(default_factory=list)  # prerequisites taught by easier paths


def core(catalog: Catalog, level: LearningLevel, rank: dict[str, float]) -> list[str]:
    """The level's most central established patterns, spread over the problem families."""
    candidates: dict[str, list[str]] = {family: [] for family in FAMILIES}
    for p in catalog:
        family = family_of(p)
        if (family is not None and p.level is level and p.maturity is Maturity.ESTABLISHED
                and p.category not in (Category.ANTI_PATTERN, Category.DOMAIN_SPECIALIZED)):
            candidates[family].append(p.id)
    mass = {f: sum(rank[pid] for pid in ids) for f, ids in candidates.items()}
    slots = apportion(mass, {f: len(ids) for f, ids in candidates.items()}, CORE_SLOTS)
    chosen: list[str] = []
    for family, ids in candidates.items():
        chosen += sorted(ids, key=lambda pid: (-rank[pid], pid))[:slots[family]]
    return chosen


def apportion(mass: dict[str, float], available: dict[str, int], seats: int) -> dict[str, int]:
    """Slots per family adding up to `seats` (fewer only when the candidates run out): one
    for each family with candidates, then one at a time to the family furthest below its
    share of `mass`, earlier families first on a tie. Rounding each family's share on its
    own gave the beginner path 16."""
    slots = {f: min(1, available[f]) for f in mass}
    total = sum(mass.values()) or 1.0
    while sum(slots.values()) < seats:
        room = [f for f in mass if slots[f] < available[f]]
        if not room:
            break
        slots[max(room, key=lambda f: seats * mass[f] / total - slots[f])] += 1
    return slots


def closure(catalog: Catalog, start: list[str]) -> set[str]:
    found = set(start)
    todo = list(start)
    while todo:
        for needed in prerequisites(catalog[todo.pop()]):
            if needed not in found:
                found.add(needed)
                todo.append(needed)
    return found


def curricula(catalog: Catalog) -> dict[LearningLevel, Curriculum]:
    """Every level's path, easiest first (each knows what the easier ones taught)."""
    rank = centrality(catalog)
    taught: set[str] = set()
    paths: dict[LearningLevel, Curriculum] = {}
    for level in LearningLevel:
        chosen = core(catalog, level, rank)
        # Cut the least central core patterns until the path with its prerequisites fits.
        while len(closure(catalog, chosen) - taught) > MAX_STEPS:
            chosen.remove(min(chosen, key=lambda pid: (rank[pid], pid)))
        members = closure(catalog, chosen) - taught
        order = topological(members, lambda pid: prerequisites(catalog[pid]),
                            key=lambda pid: (-rank[pid], pid))
        needed_by: dict[str, list[str]] = {}
        for pid in order:
            for needed in prerequisites(catalog[pid]):
                needed_by.setdefault(needed, []).append(pid)
        lessons = [
            Lesson(pid, catalog[pid].name, catalog[pid].level, family_of(catalog[pid]) or OTHER,
                   "core" if pid in chosen else "prerequisite of " + ", ".join(needed_by[pid]),
                   [n for n in prerequisites(catalog[pid]) if n in members | taught])
            for pid in order
        ]
        builds_on = sorted({n for pid in order for n in prerequisites(catalog[pid])} & taught)
        taught |= members
        paths[level] = Curriculum(level, lessons, pitfalls(catalog, level, rank, taught),
                                  builds_on)
    return paths


def pitfalls(catalog: Catalog, level: LearningLevel, rank: dict[str, float],
             taught: set[str]) -> list[Pitfall]:
    """The level's most central anti-patterns, with the fixes taught so far."""
    anti = [p for p in catalog if p.category is Category.ANTI_PATTERN and p.level is level]
    anti.sort(key=lambda p: (-rank[p.id], p.id))
    return [Pitfall(p.id, p.name, [f for f in p.anti_pattern.fixed_by if f in taught]
                    if p.anti_pattern else [])
            for p in anti[:ANTI_PATTERNS]]
