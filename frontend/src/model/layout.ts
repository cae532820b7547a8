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

/** What the server keeps of a layout (docs/studio.md, `layout`; the values of
 * src/scalesim/studio/routes/designs.py, held equal by tests/studio/test_shared_constants.py):
 * node ids of 1 to 200 characters, coordinates within ±10,000,000 px, at most 4,000
 * positions. */
export const MAX_NODE_ID = 200;
export const MAX_COORDINATE = 10_000_000;

/** The positions a save sends: those of the nodes the graph draws now (a renamed or deleted
 * node's old position is dropped, so they do not pile up towards the server's bound), with
 * finite coordinates kept within the server's range. */
export function layoutToSave(graph: Graph, layout: Record<string, { x: number; y: number }>
): Record<string, { x: number; y: number }> {
  const clamp = (v: number) => Math.min(MAX_COORDINATE, Math.max(-MAX_COORDINATE, v));
  const out: Record<string, { x: number; y: number }> = {};
  for (const node of graph.nodes) {
    const placed = layout[node.id];
    if (placed && Number.isFinite(placed.x) && Number.isFinite(placed.y) && node.id.length <= MAX_NODE_ID) {
      out[node.id] = { x: clamp(placed.x), y: clamp(placed.y) };
    }
  }
  return out;
}
