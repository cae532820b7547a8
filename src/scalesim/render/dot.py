"""Graphviz DOT of an architecture: deterministic text (spec order, no timestamps), so it can
be diffed, kept as a golden file, and rendered by `dot` to SVG or PNG."""

from __future__ import annotations

from itertools import groupby

from scalesim.render.escape import dot_label, dot_string
from scalesim.render.graph import ROUTE_COLOURS, WORKLOAD, Architecture, Edge, Node

SHAPES = {
    "service": 'shape=box, style="rounded,filled"',
    "gateway": 'shape=hexagon, style="filled"',
    "database": 'shape=cylinder, style="filled"',
    "cache": 'shape=box3d, style="filled"',
    "queue": 'shape=cds, style="filled"',
    "external": 'shape=box, style="rounded,dashed,filled"',
    WORKLOAD: 'shape=invhouse, style="filled", fillcolor="#dde8f8"',
}
DEFAULT_FILL = "#f5f5f5"


def _node(node: Node) -> str:
    lines = [node.name, node.detail] + ([node.metric] if node.metric else [])
    fill = "" if node.kind == WORKLOAD else f', fillcolor="{node.fill or DEFAULT_FILL}"'
    return f"  {dot_string(node.id)} [{SHAPES[node.kind]}{fill}, label={dot_label(lines)}];"


def _edge(edge: Edge) -> str:
    """Async edges (deliveries, projections, dead letters) are dashed; a projection or a
    dead-letter route also has its own colour, so the failure path stands out."""
    style = ', style=dashed' if edge.is_async else ""
    colour = ROUTE_COLOURS.get(edge.route)
    if colour:
        style += f', color="{colour}", fontcolor="{colour}"'
    width = f", penwidth={edge.width:.2f}" if edge.rps is not None else ""
    return (f"  {dot_string(edge.source)} -> {dot_string(edge.target)} "
            f"[label={dot_label(edge.lines)}{style}{width}];")


def to_dot(arch: Architecture) -> str:
    """The DOT source: workloads at the left, calls flowing right, clusters per group."""
    title = [arch.name] + ([arch.description] if arch.description else [])
    out = [f"digraph {dot_string(arch.name)} {{",
           f"  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=14, labelloc=t, "
           f"label={dot_label(title)}, nodesep=0.35, ranksep=0.9];",
           '  node [fontname="Helvetica", fontsize=11, color="#555555", margin="0.15,0.06"];',
           '  edge [fontname="Helvetica", fontsize=9, color="#555555", fontcolor="#333333"];']
    keyed = sorted(enumerate(arch.nodes), key=lambda item: (item[1].group or "", item[0]))
    for group, members in groupby(keyed, key=lambda item: item[1].group):
        if group is None:
            out += [_node(node) for _, node in members]
            continue
        out.append(f"  subgraph {dot_string('cluster_' + group)} {{")
        out.append(f'    label={dot_string(group)}; style="rounded,dashed"; color="#999999";')
        out += ["  " + _node(node) for _, node in members]
        out.append("  }")
    out += [_edge(edge) for edge in arch.edges]
    out.append("}")
    return "\n".join(out) + "\n"
