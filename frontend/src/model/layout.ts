// Where nodes go when the user has not placed them: left to right along the calls (dagre).
import dagre from "@dagrejs/dagre";
import type { Graph } from "./graph";

export const NODE_W = 180;
export const NODE_H = 78;

export function autoLayout(graph: Graph, fixed: Record<string, { x: number; y: number }> = {}
): Record<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 200, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_W, height: NODE_H });
  for (const edge of graph.edges) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  const out: Record<string, { x: number; y: number }> = {};
  for (const node of graph.nodes) {
    const placed = fixed[node.id];
    const laid = g.node(node.id);
    out[node.id] = placed ?? { x: laid.x - NODE_W / 2, y: laid.y - NODE_H / 2 };
  }
  return out;
}
