"""Ways to slice the catalog, computed from the pattern files so no total is kept by hand."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scalesim.catalog.collection import Catalog
from scalesim.catalog.graph import Edge, centrality, declared_edges
from scalesim.catalog.model import (
    Category,
    Effort,
    Layer,
    LearningLevel,
    Level,
    Pattern,
    Problem,
)


def select(
    catalog: Catalog,
    *,
    category: Category | None = None,
    layer: Layer | None = None,
    problem: Problem | None = None,
    level: LearningLevel | None = None,
) -> list[Pattern]:
    """Patterns matching every filter given; a category also matches its also_in patterns."""
    return [
        p
        for p in catalog
        if (category is None or category is p.category or category in p.also_in)
        and (layer is None or layer in p.layers)
        and (problem is None or problem in p.problems)
        and (level is None or level is p.level)
    ]


def by_category(catalog: Catalog) -> dict[str, list[str]]:
    """Ids under their primary category, categories in catalog order, empty ones left out."""
    return _group(catalog, lambda p: [p.category], list(Category))


def by_layer(catalog: Catalog) -> dict[str, list[str]]:
    return _group(catalog, lambda p: p.layers, list(Layer))


@dataclass(frozen=True)
class ProblemGroup:
    primary: list[str] = field(default_factory=list)  # the problem is listed first
    supporting: list[str] = field(default_factory=list)  # the problem is listed later


# The problem families the seeds organise their guidance by, as groups of catalog problems.
FAMILIES: dict[str, tuple[Problem, ...]] = {
    "availability": (Problem.AVAILABILITY, Problem.FAULT_TOLERANCE),
    "scalability": (Problem.SCALABILITY,),
    "latency": (Problem.PERFORMANCE,),
    "consistency": (Problem.CONSISTENCY, Problem.COORDINATION, Problem.DATA_MANAGEMENT),
    "migration": (Problem.MIGRATION,),
    "cost": (Problem.COST,),
}


def family_of(pattern: Pattern) -> str | None:
    """The family of a pattern's first (most important) problem, if it has one."""
    return next((f for f, members in FAMILIES.items() if pattern.problems[0] in members), None)


def problem_matrix(catalog: Catalog) -> dict[str, ProblemGroup]:
    """Families x patterns: primary when the pattern's first problem is in the family,
    supporting when a later one is; anti-patterns left out (they are the problems).
    Each list is ordered by centrality, most central first."""
    rank = centrality(catalog)
    matrix: dict[str, ProblemGroup] = {}
    for family, members in FAMILIES.items():
        group = ProblemGroup()
        for p in catalog:
            if p.category is Category.ANTI_PATTERN:
                continue
            if p.problems[0] in members:
                group.primary.append(p.id)
            elif any(problem in members for problem in p.problems[1:]):
                group.supporting.append(p.id)
        group.primary.sort(key=lambda pid: (-rank[pid], pid))
        group.supporting.sort(key=lambda pid: (-rank[pid], pid))
        matrix[family] = group
    return matrix


def by_problem(catalog: Catalog) -> dict[str, ProblemGroup]:
    groups: dict[str, ProblemGroup] = {}
    for problem in Problem:
        group = ProblemGroup()
        for p in catalog:
            if p.problems[0] is problem:
                group.primary.append(p.id)
            elif problem in p.problems:
                group.supporting.append(p.id)
        if group.primary or group.supporting:
            groups[problem.value] = group
    return groups


@dataclass(frozen=True)
class PathStep:
    id: str
    name: str
    level: LearningLevel
    prerequisite: bool  # from a lower level, listed because a pattern of this level requires it


def prerequisites(pattern: Pattern) -> list[str]:
    """What must be learnt before `pattern`: what it requires, and what it specializes (a
    sidecar before the adapter container that is one)."""
    return [*pattern.relations.requires, *pattern.relations.specializes]


def learning_path(catalog: Catalog, level: LearningLevel) -> list[PathStep]:
    """Patterns of `level`, prerequisites first (ties by name), led by lower-level prerequisites."""
    rank = list(LearningLevel).index
    members = {p.id for p in catalog if p.level is level}
    extra: set[str] = set()
    pending = sorted(members)
    while pending:
        for target in prerequisites(catalog[pending.pop()]):
            if rank(catalog[target].level) < rank(level) and target not in extra:
                extra.add(target)
                pending.append(target)
    order = topological(
        members | extra,
        lambda pid: prerequisites(catalog[pid]),
        key=lambda pid: (pid not in extra, catalog[pid].name.casefold(), pid),
    )
    return [
        PathStep(pid, catalog[pid].name, catalog[pid].level, prerequisite=pid in extra)
        for pid in order
    ]


def topological(
    nodes: Iterable[str],
    needs: Callable[[str], Iterable[str]],
    key: Callable[[str], tuple[object, ...]],
) -> list[str]:
    """Kahn's order over `nodes` (edges to outside nodes ignored); `key` breaks ties."""
    nodes = set(nodes)
    waiting = {n: {d for d in needs(n) if d in nodes} for n in nodes}
    dependents: dict[str, list[str]] = {n: [] for n in nodes}
    for node, deps in waiting.items():
        for dep in deps:
            dependents[dep].append(node)
    ready = [(key(n), n) for n, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for dependent in dependents[node]:
            waiting[dependent].discard(node)
            if not waiting[dependent]:
                heapq.heappush(ready, (key(dependent), dependent))
    return order


@dataclass(frozen=True)
class Composition:
    id: str
    parts: tuple[Composition, ...]

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "parts": [part.to_dict() for part in self.parts]}


def compositions(catalog: Catalog) -> list[Composition]:
    """Every pattern built from others, parts expanded recursively (the loader forbids cycles)."""

    def expand(pid: str) -> Composition:
        return Composition(pid, tuple(expand(part) for part in catalog[pid].relations.composed_of))

    return [expand(p.id) for p in catalog if p.relations.composed_of]


def complexity_matrix(catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    """Ids by forces.complexity (rows) and learning level (columns); every cell is present."""
    matrix: dict[str, dict[str, list[str]]] = {
        c.value: {lvl.value: [] for lvl in LearningLevel} for c in Level
    }
    for p in catalog:
        matrix[p.forces.complexity][p.level].append(p.id)
    return matrix


def effort_matrix(catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    """Ids by effort to implement (rows) and maintenance burden (columns); every cell present."""
    matrix: dict[str, dict[str, list[str]]] = {
        e.value: {m.value: [] for m in Level} for e in Effort
    }
    for p in catalog:
        matrix[p.effort.implement][p.effort.maintenance].append(p.id)
    return matrix


@dataclass(frozen=True)
class SelectionRow:
    id: str
    name: str
    consistency: Level
    latency: Level
    complexity: Level
    effort: Effort  # to implement the first time
    maintenance: Level  # to keep it running
    use_when: str  # the first, most telling, reason to pick it


def selection_matrix(catalog: Catalog) -> list[SelectionRow]:
    return [
        SelectionRow(
            p.id, p.name, p.forces.consistency, p.forces.latency, p.forces.complexity,
            p.effort.implement, p.effort.maintenance, p.use_when[0],
        )
        for p in catalog
    ]


def combinations_to_avoid(catalog: Catalog, anti_patterns: bool = False) -> list[Edge]:
    """Every declared `conflicts_with` with its reason: by default between two patterns (the
    combinations to avoid); with `anti_patterns`, also anti-patterns against their cures."""
    def anti(pid: str) -> bool:
        return catalog[pid].category is Category.ANTI_PATTERN

    return [e for e in declared_edges(catalog) if e.kind == "conflicts_with"
            and (anti_patterns or not (anti(e.source) or anti(e.target)))]


def _group(
    catalog: Catalog, keys: Callable[[Pattern], Iterable[str]], order: Iterable[str]
) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {k: [] for k in order}
    for p in catalog:
        for k in keys(p):
            groups[k].append(p.id)
    return {str(k): ids for k, ids in groups.items() if ids}
