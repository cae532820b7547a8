// Where nodes go when the user has not placed them: along the calls (dagre), left to right or
// top to bottom, whichever lets the whole system fit the canvas at the larger zoom.
import dagre from "@dagrejs/dagre";
import { getBezierPath, Position } from "@xyflow/react";
import type { Graph } from "./graph";

export const NODE_W = 180;
export const NODE_H = 78;

/** LR: callers to the left of what they call; TB: above it. */
export type Direction = "LR" | "TB";

/** Room between ranks: left to right it holds an edge's label (up to 165 px wide) between
 * the columns. Top to bottom the label sits between rows: 60 px hold a label of one line
 * anywhere along its call, and the rows under taller labels move down as far as those need
 * (autoLayout's labelHeights), so that a design of six ranks (social-feed) fits the replay.
 * Top to bottom the labels of a fan-out stand side by side by their callees, 78.4 % of the
 * way across (labelShare, 70 % along the curve): 32 px between nodes puts them 166 px
 * apart, clear of each other, and no further, so that a wide rank (e-commerce's six) still
 * fits the pane. */
const SPACING: Record<Direction, { nodesep: number; ranksep: number }> = {
  LR: { nodesep: 40, ranksep: 200 },
  TB: { nodesep: 32, ranksep: 60 },
};

/** The most a fit zooms in: a small system is drawn at this zoom, not blown up to the pane. */
export const FIT_MAX_ZOOM = 1.2;

/** The smallest zoom the replay's canvas fits a drawing at: its call labels (10 px) read at
 * 7.5 px and its nodes' numbers (12 px) at 9 px. A drawing larger than its pane at this zoom
 * is shown from its start, the rest a pan away. */
export const READABLE_ZOOM = 0.75;

/** Room kept between a drawing shown at READABLE_ZOOM and the pane's edge it starts at. */
const READABLE_MARGIN = 20;

/** The strip along the pane's left edge the zoom controls take (bottom-left, 15 px in and
 * about 27 px wide, as .error-list beside them counts them), with a gap: a drawing shown at
 * READABLE_ZOOM is placed right of it, so that no node lies under the buttons. */
export const CONTROLS_ROOM = 54;

/** cut: part of the drawing is out of the view (a pan away). */
export interface View { x: number; y: number; zoom: number; cut: boolean }

/** The view of a drawing (`bounds`, in canvas pixels) in a `width` × `height` pane when
 * fitting it whole (with `padding`, a share of the pane, as React Flow's fitView) would zoom
 * below `least`: at `least`, centred along a side the drawing fits along, and from its start
 * (its callers: left, top) along one it does not. Across, it starts right of the zoom
 * controls' CONTROLS_ROOM, or as far right as it can while whole. Null when the whole
 * drawing fits at `least` or larger, to be fitted as usual. */
export function readableView(bounds: { x: number; y: number; width: number; height: number },
  width: number, height: number, padding: number, least: number): View | null {
  const fit = Math.min(width / (bounds.width * (1 + padding)), height / (bounds.height * (1 + padding)));
  if (width <= 0 || height <= 0 || !(fit < least)) return null;
  const place = (start: number, size: number, pane: number, from: number) => {
    const free = pane - size * least;
    return (free >= 0 ? Math.min(Math.max(free / 2, from), free) : from) - start * least;
  };
  return { x: place(bounds.x, bounds.width, width, CONTROLS_ROOM), y: place(bounds.y, bounds.height, height, READABLE_MARGIN),
    zoom: least, cut: bounds.width * least > width || bounds.height * least > height };
}

/** The drawing turns over only when the other direction fits this much larger than the
 * current one, so that a pane resized a little does not turn it back and forth. */
const TURN_OVER = 1.15;

type Positions = Record<string, { x: number; y: number }>;

/** dagre's layouts of each graph, by direction and rank spacing: the canvas lays a graph out
 * both ways to choose a direction (`bestDirection`) and then draws it in one of them. */
const laidOut = new WeakMap<Graph, Map<string, Positions>>();

function dagreLayout(graph: Graph, direction: Direction, ranksep: number): Positions {
  let kept = laidOut.get(graph);
  if (!kept) laidOut.set(graph, (kept = new Map()));
  const key = `${direction} ${ranksep}`;
  const found = kept.get(key);
  if (found) return found;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: direction, nodesep: SPACING[direction].nodesep, ranksep, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_W, height: NODE_H });
  for (const edge of graph.edges) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  const out: Positions = {};
  for (const node of graph.nodes) {
    const laid = g.node(node.id);
    out[node.id] = { x: laid.x - NODE_W / 2, y: laid.y - NODE_H / 2 };
  }
  kept.set(key, out);
  return out;
}

/** Where each node goes: where the user placed it (`fixed`), else where dagre lays it out,
 * top to bottom with the rows under a label, or a stack of labels, moved down as far as it
 * needs (`labelHeights`: the labels' heights by call id, STACKED_LABEL for one not given, as
 * `labelRoom`; without them, no room is added).
 * `ranksep`: room between ranks, when the edges carry no labels (the gallery's drawings). */
export function autoLayout(graph: Graph, fixed: Positions = {}, direction: Direction = "LR",
  ranksep = SPACING[direction].ranksep, labelHeights?: Record<string, number>): Positions {
  const laid = dagreLayout(graph, direction, ranksep);
  const room = labelHeights && direction === "TB" ? rowRoom(graph, laid, labelHeights) : new Map<number, number>();
  const out: Positions = {};
  for (const node of graph.nodes) {
    const at = laid[node.id];
    let down = 0;
    for (const [row, extra] of room) if (row <= at.y) down += extra;
    out[node.id] = fixed[node.id] ?? (down ? { x: at.x, y: at.y + down } : at);
  }
  return out;
}

/** The room added between rows, in steps of this many px, so that a label whose badges
 * change (the replay's) moves the rows only now and then. */
const ROOM_STEP = 20;

/** The extra room each row of the automatic top-to-bottom layout `laid` gets above it (by
 * its top), so that each label, or stack of labels (several calls between the same two
 * nodes), stands clear of its caller's row and its callee's: the most they need over the gap. */
function rowRoom(graph: Graph, laid: Positions, heights: Record<string, number>): Map<number, number> {
  const room = new Map<number, number>();
  const places = labelPlaces(graph, "TB");
  for (const edge of graph.edges) {
    const place = places[edge.id];
    if (place.joint[0] !== edge.id) continue;  // each stack once
    const caller = laid[edge.source];
    const callee = laid[edge.target];
    if (!caller || !callee || callee.y <= caller.y) continue;
    const needed = labelGap(place.joint.map((call) => heights[call] ?? STACKED_LABEL), place.share);
    const missing = Math.ceil((needed - (callee.y - caller.y - NODE_H)) / ROOM_STEP) * ROOM_STEP;
    if (missing > 0) room.set(callee.y, Math.max(room.get(callee.y) ?? 0, missing));
  }
  return room;
}

/** The room the automatic layout adds between rows for labels of `heights` (0 left to
 * right, where the labels stand between columns): when it changes, the drawing is fitted
 * again. */
export function labelRoom(graph: Graph, direction: Direction, heights: Record<string, number>): number {
  if (direction !== "TB") return 0;
  return [...rowRoom(graph, dagreLayout(graph, direction, SPACING[direction].ranksep), heights).values()]
    .reduce((sum, extra) => sum + extra, 0);
}

/** The zoom at which `positions` fit a `width` × `height` view (1 when empty), at most
 * FIT_MAX_ZOOM. */
export function fitScale(positions: Positions, width: number,
  height: number): number {
  const all = Object.values(positions);
  if (!all.length) return 1;
  const w = Math.max(...all.map((p) => p.x)) - Math.min(...all.map((p) => p.x)) + NODE_W;
  const h = Math.max(...all.map((p) => p.y)) - Math.min(...all.map((p) => p.y)) + NODE_H;
  return Math.min(width / w, height / h, FIT_MAX_ZOOM);
}

/** The direction whose automatic layout shows the graph larger in a `width` × `height` view:
 * a long chain of calls in a tall, narrow pane reads better top to bottom. The drawing turns
 * over only when the other direction fits TURN_OVER times larger than `current` (left to
 * right to begin with), so that a pane resized, an editor hidden or a node added does not
 * turn it back and forth; left to right for an unmeasured view. */
export function bestDirection(graph: Graph, width: number, height: number,
  current: Direction = "LR"): Direction {
  if (width <= 0 || height <= 0 || graph.nodes.length < 2) return current;
  const other: Direction = current === "LR" ? "TB" : "LR";
  const now = fitScale(autoLayout(graph, {}, current, undefined, {}), width, height);
  const turned = fitScale(autoLayout(graph, {}, other, undefined, {}), width, height);
  return turned > TURN_OVER * now ? other : current;
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

/** Where along its edge a call's label goes (0 at the caller, 1 at the callee). Top to
 * bottom, where the edges leave a node for several callees their midpoints crowd near it and
 * the labels (up to 165 px wide) overlap side by side, so a fan-out's labels go 70 % of the
 * way, by their callees (a fan-in's 30 %, by their callers). Left to right the labels of a
 * fan-out stand one above another already, and 70 % of a 200 px gap would put a wide label
 * over the callee: halfway. */
export function labelShare(direction: Direction, callerOut: number, calleeIn: number): number {
  if (direction === "LR" || callerOut === calleeIn) return 0.5;
  return callerOut > calleeIn ? 0.7 : 0.3;
}

/** Where a call's label goes: `share` of the way along it, and, when several calls join the
 * same two nodes (their curves are one), `joint`: their ids in order, whose labels stack. */
export interface LabelPlace { share: number; joint: string[] }

/** Each call's LabelPlace in a drawing laid out in `direction`. */
export function labelPlaces(graph: Graph, direction: Direction): Record<string, LabelPlace> {
  const out = new Map<string, number>();
  const into = new Map<string, number>();
  const between = new Map<string, string[]>();
  for (const e of graph.edges) {
    out.set(e.source, (out.get(e.source) ?? 0) + 1);
    into.set(e.target, (into.get(e.target) ?? 0) + 1);
    const pair = `${e.source}\u0000${e.target}`;
    between.set(pair, [...(between.get(pair) ?? []), e.id]);
  }
  const places: Record<string, LabelPlace> = {};
  for (const e of graph.edges) {
    places[e.id] = { share: labelShare(direction, out.get(e.source) ?? 0, into.get(e.target) ?? 0),
      joint: between.get(`${e.source}\u0000${e.target}`) ?? [e.id] };
  }
  return places;
}

/** The height a call's label is taken to have until the canvas has measured it (one line
 * with its badges), and by the choice of a direction (bestDirection). */
export const STACKED_LABEL = 30;

/** Room left between labels stacked one under another. */
const STACK_GAP = 4;

/** How far each label moves off its edge's point (at `share` of the way) when several calls
 * join the same two nodes (their curves are one), given the labels' `heights` (a label with
 * several badges wraps onto more lines): one under another, each clear of the next, so that
 * each can be read and clicked. The stack is centred on a point halfway, and otherwise goes
 * away from the node the point is near (up from a point by the callee, down from one by the
 * caller). */
export function labelOffsets(heights: number[], share: number): number[] {
  const centres: number[] = [];
  let top = 0;
  for (const height of heights) {
    centres.push(top + height / 2);
    top += height + STACK_GAP;
  }
  const total = top - STACK_GAP;
  const last = heights[heights.length - 1] ?? 0;
  const anchor = share > 0.5 ? total - last / 2 : share < 0.5 ? heights[0] / 2 : total / 2;
  return centres.map((centre) => centre - anchor);
}

/** Room kept between a label (or a stack) and the rows above and below it (the caller's
 * handle, the callee's arrowhead). */
const STACK_CLEARANCE = 12;

/** How far down the gap between two rows the point at `t` of a call's curve lies (0 at the
 * caller's row, 1 at the callee's): React Flow's curve leaves and enters upright, so not t. */
function depthAt(t: number): number {
  const [path] = getBezierPath({ sourceX: 0, sourceY: 0, sourcePosition: Position.Bottom,
    targetX: 0, targetY: 1, targetPosition: Position.Top });
  return pointOnCurve(path, t)?.y ?? t;
}

/** The gap between two rows (top to bottom) that a label, or a stack of labels, of
 * `heights`, placed at `share` of the way (labelOffsets), needs to stand clear of both. */
function labelGap(heights: number[], share: number): number {
  const offsets = labelOffsets(heights, share);
  const above = heights[0] / 2 - offsets[0];  // from the stack's top to its point
  const below = offsets[offsets.length - 1] + heights[heights.length - 1] / 2;
  const depth = depthAt(share);
  return Math.max((above + STACK_CLEARANCE) / depth, (below + STACK_CLEARANCE) / (1 - depth));
}

/** The point at `t` (0 to 1) on an SVG cubic Bézier path "M x,y C x1,y1 x2,y2 x,y" (what
 * React Flow's getBezierPath draws); null for a path of another shape. */
export function pointOnCurve(path: string, t: number): { x: number; y: number } | null {
  const numbers = path.match(/-?\d+(?:\.\d+)?(?:e-?\d+)?/gi)?.map(Number);
  if (!/^M[^C]*C/.test(path) || !numbers || numbers.length !== 8) return null;
  const [x0, y0, x1, y1, x2, y2, x3, y3] = numbers;
  const u = 1 - t;
  const [a, b, c, d] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return { x: a * x0 + b * x1 + c * x2 + d * x3, y: a * y0 + b * y1 + c * y2 + d * y3 };
}
