"""The relation graph: declared links plus their inverses, and neighbourhoods by BFS."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from scalesim.catalog.checks import links
from scalesim.catalog.collection import Catalog

# How each declared kind reads from the target's side; symmetric kinds read the same.
INVERSE = {
    "requires": "required_by",
    "often_with": "often_with",
    "alternative_to": "alternative_to",
    "specializes": "generalized_by",
    "composed_of": "part_of",
    "conflicts_with": "conflicts_with",
    "evolves_into": "evolves_from",
    "fixed_by": "fixes",
}
SYMMETRIC = frozenset(kind for kind, inverse in INVERSE.items() if kind == inverse)
# Kinds that say more than `often_with` about the same pair: a part, a prerequisite or a
# narrower form is used with its target by definition, so the pair is read under them alone.
SUBSUME_OFTEN_WITH = frozenset({"requires", "required_by", "composed_of", "part_of",
                                "specializes", "generalized_by"})
# Kinds that cannot hold for one pair together: an alternative is used instead of its target,
# a conflict is avoided with it; neither is commonly combined with, needed by or part of it.
CONTRADICTS = {
    "alternative_to": frozenset({"often_with", "requires", "required_by", "composed_of",
                                 "part_of"}),
    "conflicts_with": frozenset({"often_with", "requires", "required_by", "composed_of",
                                 "part_of"}),
}


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    kind: str
    target: str
    reason: str | None = field(default=None, compare=False)  # conflicts say why


def declared_edges(catalog: Catalog) -> list[Edge]:
    """Links as written in the files, a symmetric link declared on both sides kept once."""
    edges: dict[Edge, Edge] = {}
    for pattern in catalog:
        for kind, target in links(pattern):
            a, b = (min(pattern.id, target), max(pattern.id, target)) \
                if kind in SYMMETRIC else (pattern.id, target)
            edge = Edge(a, kind, b, pattern.relations.reason(kind, target))
            edges.setdefault(edge, edge)  # a link declared on both sides keeps its first reason
    return sorted(edges)


def relation_graph(catalog: Catalog) -> dict[str, list[Edge]]:
    """Every pattern's edges in both directions: A requires B shows on B as required_by A."""
    graph: dict[str, set[Edge]] = {pid: set() for pid in catalog.ids}
    for edge in declared_edges(catalog):
        graph[edge.source].add(edge)
        graph[edge.target].add(Edge(edge.target, INVERSE[edge.kind], edge.source, edge.reason))
    return {pid: sorted(edges) for pid, edges in graph.items()}


def as_read(catalog: Catalog, edges: list[Edge]) -> list[Edge]:
    """One pattern's edges as a reader should take them. The catalog records that a pattern
    counters an anti-pattern as `conflicts_with` between the two (the combinations-to-avoid
    view lists them with `--anti-patterns`), but from the pattern's side it means 'counters'
    (from the anti-pattern's side 'countered_by'), not 'avoid combining': relabel those, and
    drop the bare `fixes`/`fixed_by` edge that says the same thing without a reason. An
    `often_with` beside a stronger link to the same target (requires, composed_of, specializes
    or their inverses; one file may declare one and the other file the other) is shown under
    the stronger kind only."""
    def anti(pid: str) -> bool:
        return catalog[pid].anti_pattern is not None

    shown: list[Edge] = []
    for e in edges:
        if e.kind == "conflicts_with" and anti(e.source) != anti(e.target):
            shown.append(Edge(e.source, "countered_by" if anti(e.source) else "counters",
                              e.target, e.reason))
        else:
            shown.append(e)
    countered = {e.target for e in shown if e.kind in ("counters", "countered_by")}
    stronger = {e.target for e in shown if e.kind in SUBSUME_OFTEN_WITH}
    return sorted(e for e in shown
                  if not (e.kind in ("fixes", "fixed_by") and e.target in countered)
                  and not (e.kind == "often_with" and e.target in stronger))


def contradictions(edges: list[Edge]) -> list[tuple[str, str, str]]:
    """(target, kind, contradicting kind) for each target one pattern's edges (both
    directions, as `relation_graph` gives them) link under two kinds that exclude each other."""
    kinds: dict[str, set[str]] = {}
    for e in edges:
        kinds.setdefault(e.target, set()).add(e.kind)
    return [(target, kind, other) for target, held in sorted(kinds.items())
            for kind in sorted(held & CONTRADICTS.keys())
            for other in sorted(held & CONTRADICTS[kind])]


@dataclass(frozen=True)
class Related:
    id: str
    distance: int
    via: Edge  # the edge that first reached this pattern


def related(catalog: Catalog, key: str, depth: int = 1) -> list[Related]:
    """Patterns within `depth` links of `key` (id or alias), nearest first, then by id."""
    start = catalog[key].id
    graph = relation_graph(catalog)
    seen = {start}
    found: list[Related] = []
    queue = deque([(start, 0)])
    while queue:
        node, distance = queue.popleft()
        if distance == depth:
            continue
        for edge in graph[node]:
            if edge.target not in seen:
                seen.add(edge.target)
                found.append(Related(edge.target, distance + 1, edge))
                queue.append((edge.target, distance + 1))
    return sorted(found, key=lambda r: (r.distance, r.id))


# How much a declared link says "the target is worth knowing": being required or built upon
# counts most, company a little, conflicts not at all.
_WEIGHT = {"requires": 3.0, "specializes": 2.0, "composed_of": 2.0, "fixed_by": 2.0,
           "often_with": 1.0, "alternative_to": 0.5, "evolves_into": 0.5, "conflicts_with": 0.0}
DAMPING = 0.85


def centrality(catalog: Catalog, rounds: int = 100) -> dict[str, float]:
    """PageRank over the weighted links (often_with both ways): a pattern many others
    require, specialise or pair with ranks high. Sums to 1; deterministic."""
    ids = list(catalog.ids)
    index = {pid: n for n, pid in enumerate(ids)}
    weights = np.zeros((len(ids), len(ids)))
    for pattern in catalog:
        for kind, target in links(pattern):
            weights[index[pattern.id], index[target]] += _WEIGHT[kind]
            if kind in SYMMETRIC:
                weights[index[target], index[pattern.id]] += _WEIGHT[kind]
    out = weights.sum(axis=1, keepdims=True)
    # A pattern with no weighted links spreads its rank evenly (the usual dangling rule).
    moves = np.where(out > 0.0, weights / np.where(out > 0.0, out, 1.0), 1.0 / len(ids))
    rank = np.full(len(ids), 1.0 / len(ids))
    for _ in range(rounds):
        rank = (1.0 - DAMPING) / len(ids) + DAMPING * rank @ moves
    return {pid: float(rank[n]) for pid, n in index.items()}
