"""The relation graph as DOT, SVG (through Graphviz) or Mermaid, the format chosen by suffix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scalesim.catalog.collection import Catalog
from scalesim.catalog.graph import SYMMETRIC, Edge, declared_edges, related
from scalesim.catalog.model import Pattern
from scalesim.render import graphviz

_DOT_STYLE = {
    "requires": "style=bold",
    "often_with": "style=dashed",
    "alternative_to": "style=dotted",
    "conflicts_with": 'color="red"',
    "fixed_by": 'color="darkgreen"',
}


@dataclass(frozen=True)
class Subgraph:
    nodes: list[Pattern]
    edges: list[Edge]


def subgraph(catalog: Catalog, focus: str | None = None, depth: int = 1) -> Subgraph:
    """The whole catalog, or `focus` and the patterns within `depth` links of it."""
    if focus is None:
        ids = set(catalog.ids)
    else:
        ids = {catalog[focus].id} | {r.id for r in related(catalog, focus, depth)}
    edges = [e for e in declared_edges(catalog) if e.source in ids and e.target in ids]
    return Subgraph([catalog[pid] for pid in sorted(ids)], edges)


def dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(graph: Subgraph) -> str:
    lines = ["digraph patterns {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    lines += [f"  {dot_quote(p.id)} [label={dot_quote(p.name)}];" for p in graph.nodes]
    for e in graph.edges:
        attrs = [f"label={dot_quote(e.kind)}", *filter(None, [_DOT_STYLE.get(e.kind)])]
        if e.kind in SYMMETRIC:
            attrs.append("dir=none")
        lines.append(f"  {dot_quote(e.source)} -> {dot_quote(e.target)} [{', '.join(attrs)}];")
    return "\n".join([*lines, "}", ""])


def mermaid_node(pattern_id: str) -> str:
    """Ids may collide with Mermaid keywords ('end'); a prefix and '_' for '-' keep them safe."""
    return "p_" + pattern_id.replace("-", "_")


def mermaid_label(text: str) -> str:
    return '"' + text.replace("&", "#amp;").replace('"', "#quot;") + '"'


def to_mermaid(graph: Subgraph) -> str:
    lines = ["graph LR"]
    lines += [f"  {mermaid_node(p.id)}[{mermaid_label(p.name)}]" for p in graph.nodes]
    for e in graph.edges:
        arrow = "---" if e.kind in SYMMETRIC else "-->"
        lines.append(f"  {mermaid_node(e.source)} {arrow}|{e.kind}| {mermaid_node(e.target)}")
    return "\n".join([*lines, ""])


def to_svg(graph: Subgraph) -> str:
    return graphviz.render(to_dot(graph), "svg").decode("utf-8")


FORMATS: dict[str, Callable[[Subgraph], str]] = {
    ".dot": to_dot,
    ".gv": to_dot,
    ".mmd": to_mermaid,
    ".svg": to_svg,
}
