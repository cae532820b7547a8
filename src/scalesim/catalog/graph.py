"""The relation graph: declared links plus their inverses, and neighbourhoods by BFS."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

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


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    kind: str
    target: str


def declared_edges(catalog: Catalog) -> list[Edge]:
    """Links as written in the files, a symmetric link declared on both sides kept once."""
    edges = set()
    for pattern in catalog:
        for kind, target in links(pattern):
            a, b = (min(pattern.id, target), max(pattern.id, target)) \
                if kind in SYMMETRIC else (pattern.id, target)
            edges.add(Edge(a, kind, b))
    return sorted(edges)


def relation_graph(catalog: Catalog) -> dict[str, list[Edge]]:
    """Every pattern's edges in both directions: A requires B shows on B as required_by A."""
    graph: dict[str, set[Edge]] = {pid: set() for pid in catalog.ids}
    for edge in declared_edges(catalog):
        graph[edge.source].add(edge)
        graph[edge.target].add(Edge(edge.target, INVERSE[edge.kind], edge.source))
    return {pid: sorted(edges) for pid, edges in graph.items()}


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
