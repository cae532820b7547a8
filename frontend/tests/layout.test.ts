// Where the canvas puts what the user has not placed: the direction that shows the system
// larger in the pane, and call labels clear of one another where calls fan out or in.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getBezierPath, Position } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import { buildGraph, type Graph } from "../src/model/graph";
import { autoLayout, bestDirection, CONTROLS_ROOM, FIT_MAX_ZOOM, fitScale, labelOffsets, labelPlaces, labelRoom, labelShare, NODE_H, NODE_W, pointOnCurve, READABLE_ZOOM, readableView, STACKED_LABEL } from "../src/model/layout";
import { parse } from "../src/model/yamlDoc";

const fixture = (name: string) => buildGraph(parse(readFileSync(join(__dirname, "fixtures", `${name}.yaml`), "utf8")).data);
const shop = fixture("e-commerce");
const bank = fixture("banking-transfer");
const feed = fixture("social-feed");

function chain(length: number): Graph {
  const ids = Array.from({ length }, (_, i) => `s${i}`);
  return {
    nodes: ids.map((id) => ({ id, name: id, kind: "service" })),
    edges: ids.slice(1).map((id, i) => ({ id: `e${i}`, source: ids[i], target: id })),
    queues: {},
  } as unknown as Graph;
}

describe("layout direction", () => {
  it("lays callers left of their callees, or above them", () => {
    const across = autoLayout(chain(3), {}, "LR");
    const down = autoLayout(chain(3), {}, "TB");
    expect(across.s0.x + NODE_W).toBeLessThan(across.s1.x);
    expect(across.s0.y).toBe(across.s1.y);
    expect(down.s0.y + NODE_H).toBeLessThan(down.s1.y);
    expect(down.s0.x).toBe(down.s1.x);
  });

  it("keeps what the user placed", () => {
    expect(autoLayout(chain(3), { s1: { x: 7, y: 9 } }, "TB").s1).toEqual({ x: 7, y: 9 });
  });

  it("turns a long chain top to bottom in a tall pane and keeps it across in a wide one", () => {
    const long = chain(6);
    expect(bestDirection(long, 560, 700)).toBe("TB");
    expect(bestDirection(long, 1600, 500)).toBe("LR");
  });

  it("turns over only for a fit clearly larger than the current one", () => {
    for (const [w, h] of [[560, 700], [950, 700], [1600, 500], [400, 900]]) {
      // with the room between rows its labels need, taken as one line and badges each
      const across = fitScale(autoLayout(shop, {}, "LR"), w, h);
      const down = fitScale(autoLayout(shop, {}, "TB", undefined, {}), w, h);
      expect(bestDirection(shop, w, h, "LR")).toBe(down > 1.15 * across ? "TB" : "LR");
      expect(bestDirection(shop, w, h, "TB")).toBe(across > 1.15 * down ? "LR" : "TB");
    }
    // the e-commerce template in the designer's canvas pane at 1280 px: larger top to bottom
    expect(bestDirection(shop, 560, 700)).toBe("TB");
    // a chain drawn top to bottom at the largest zoom stays so when the pane widens (the
    // YAML editor hidden) and left to right would fit it less than 15 % smaller
    const long = chain(4);
    expect(fitScale(autoLayout(long, {}, "TB"), 1000, 900)).toBe(FIT_MAX_ZOOM);
    expect(fitScale(autoLayout(long, {}, "LR"), 1600, 900)).toBeGreaterThan(FIT_MAX_ZOOM / 1.15);
    expect(bestDirection(long, 1000, 900, "TB")).toBe("TB");
    expect(bestDirection(long, 1600, 900, "TB")).toBe("TB");
  });

  it("does not turn over what fits at the largest zoom either way, or an unmeasured pane", () => {
    expect(bestDirection(chain(2), 3000, 3000)).toBe("LR");
    expect(fitScale(autoLayout(chain(2), {}, "LR"), 3000, 3000)).toBe(FIT_MAX_ZOOM);
    expect(bestDirection(chain(6), 0, 0)).toBe("LR");
  });
});

describe("call labels", () => {
  it("go by the callees of a fan-out top to bottom, halfway left to right", () => {
    expect(labelShare("TB", 5, 1)).toBe(0.7);
    expect(labelShare("TB", 1, 2)).toBe(0.3);
    expect(labelShare("TB", 1, 1)).toBe(0.5);
    expect(labelShare("LR", 5, 1)).toBe(0.5);  // 70 % of a 200 px gap: a 165 px label over the callee
  });

  it("of calls joining the same two nodes stand one under another", () => {
    const S = STACKED_LABEL + 4;  // a label and the gap under it
    expect(labelOffsets([30, 30, 30], 0.5)).toEqual([-S, 0, S]);  // halfway: centred
    expect(labelOffsets([30, 30, 30], 0.7)).toEqual([-2 * S, -S, 0]);  // up from the callee
    expect(labelOffsets([30, 30, 30], 0.3)).toEqual([0, S, 2 * S]);  // down from the caller
    for (const share of [0.3, 0.5, 0.7]) expect(labelOffsets([46], share)).toEqual([0]);
  });

  it("of calls joining the same two nodes stay clear of each other whatever their heights", () => {
    // banking-transfer's execute → debit, refund and settle: labels of two and three lines
    const heights = [46, 46, 62];
    for (const share of [0.3, 0.5, 0.7]) {
      const centres = labelOffsets(heights, share);
      for (let i = 1; i < heights.length; i++) {
        const bottom = centres[i - 1] + heights[i - 1] / 2;
        const top = centres[i] - heights[i] / 2;
        expect(top).toBeGreaterThanOrEqual(bottom + 2);
      }
    }
  });

  it("lie on the drawn curve", () => {
    const [path, midX, midY] = getBezierPath({ sourceX: 10, sourceY: 20, sourcePosition: Position.Bottom,
      targetX: 250, targetY: 180, targetPosition: Position.Top });
    expect(pointOnCurve(path, 0)).toEqual({ x: 10, y: 20 });
    expect(pointOnCurve(path, 1)).toEqual({ x: 250, y: 180 });
    const middle = pointOnCurve(path, 0.5)!;
    expect(middle.x).toBeCloseTo(midX, 6);
    expect(middle.y).toBeCloseTo(midY, 6);
    expect(pointOnCurve("M0,0 L5,5", 0.5)).toBeNull();
  });

  it("of a fan-out stand apart", () => {
    const placed = autoLayout(shop, {}, "TB");
    const orders = shop.edges.filter((e) => e.source === "orders");
    expect(orders.length).toBeGreaterThanOrEqual(5);
    const at = (share: number) => orders.map((e) => {
      const [path] = getBezierPath({ sourceX: placed.orders.x + NODE_W / 2, sourceY: placed.orders.y + NODE_H,
        sourcePosition: Position.Bottom, targetX: placed[e.target].x + NODE_W / 2, targetY: placed[e.target].y,
        targetPosition: Position.Top });
      return pointOnCurve(path, share)!;
    });
    // an edge label is at most 165 px wide (styles.css .edge-label) and two lines tall
    const clashes = (points: { x: number; y: number }[]) => points.flatMap((a, i) => points.slice(i + 1)
      .filter((b) => Math.abs(a.x - b.x) < 165 && Math.abs(a.y - b.y) < 30));
    expect(clashes(at(labelShare("TB", orders.length, 1)))).toEqual([]);
    expect(clashes(at(0.5)).length).toBeGreaterThan(0);  // halfway, they did overlap
  });
});

describe("rows under a stack of labels", () => {
  // banking-transfer's execute → debit, refund and settle (transfer to ledger): labels of
  // three lines each, as the canvas measures them, stacked up from the point 70 % of the way
  const stack = bank.edges.filter((e) => e.source === "transfer" && e.target === "ledger").map((e) => e.id);
  const heights = Object.fromEntries(stack.map((id, i) => [id, i === 2 ? 62 : 48]));
  const stacked = (placed: Record<string, { x: number; y: number }>) => {
    const { share, joint } = labelPlaces(bank, "TB")[stack[0]];
    const [path] = getBezierPath({ sourceX: placed.transfer.x + NODE_W / 2, sourceY: placed.transfer.y + NODE_H,
      sourcePosition: Position.Bottom, targetX: placed.ledger.x + NODE_W / 2, targetY: placed.ledger.y,
      targetPosition: Position.Top });
    const point = pointOnCurve(path, share)!;
    const sizes = joint.map((id) => heights[id]);
    const offsets = labelOffsets(sizes, share);
    return { top: point.y + offsets[0] - sizes[0] / 2, bottom: point.y + offsets[2] + sizes[2] / 2,
      height: sizes.reduce((a, b) => a + b) + 2 * 4 };
  };

  it("stand apart as far as the stack needs, clear of the caller and the callee", () => {
    expect(stack).toHaveLength(3);
    const before = autoLayout(bank, {}, "TB");
    expect(stacked(before).top).toBeLessThan(before.transfer.y + NODE_H);  // over transfer's details
    const placed = autoLayout(bank, {}, "TB", undefined, heights);
    const { top, bottom, height } = stacked(placed);
    expect(placed.ledger.y - placed.transfer.y - NODE_H).toBeGreaterThanOrEqual(height);
    expect(top).toBeGreaterThanOrEqual(placed.transfer.y + NODE_H + 4);
    expect(bottom).toBeLessThanOrEqual(placed.ledger.y - 4);
    const added = placed.ledger.y - before.ledger.y;
    for (const id of ["workload:transfers", "gateway", "transfer"]) expect(placed[id]).toEqual(before[id]);  // rows above: as they were
    for (const id of ["fraud", "partner-bank"]) expect(placed[id].y - before[id].y).toBe(added);
    // the row under transfer-events also makes room for its labels (taken as one line and badges)
    expect(placed.notifications.y - before.notifications.y).toBe(labelRoom(bank, "TB", heights));
  });

  it("only where a label needs it: no other row, direction or node the user placed moves", () => {
    const before = autoLayout(chain(3), {}, "TB");
    expect(autoLayout(chain(3), {}, "TB", undefined, { e0: 17, e1: 30 })).toEqual(before);  // 60 px hold them
    const tall = autoLayout(chain(3), {}, "TB", undefined, { e0: 56, e1: 30 });
    expect(tall.s0).toEqual(before.s0);
    const added = tall.s1.y - before.s1.y;
    expect(added).toBeGreaterThan(0);
    expect(tall.s1.y - tall.s0.y - NODE_H).toBeGreaterThanOrEqual(56 + 2 * 12);  // clear of both rows
    expect(tall.s2.y - before.s2.y).toBe(added);
    expect(labelRoom(chain(3), "TB", { e0: 56, e1: 30 })).toBe(added);
    expect(autoLayout(bank, {}, "LR", undefined, heights)).toEqual(autoLayout(bank, {}, "LR"));
    expect(labelRoom(bank, "LR", heights)).toBe(0);
    expect(autoLayout(bank, { ledger: { x: 1, y: 2 } }, "TB", undefined, heights).ledger).toEqual({ x: 1, y: 2 });
  });
});

describe("the replay's view", () => {
  const bounds = (positions: Record<string, { x: number; y: number }>) => {
    const xs = Object.values(positions).map((p) => p.x);
    const ys = Object.values(positions).map((p) => p.y);
    return { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs) + NODE_W,
      height: Math.max(...ys) - Math.min(...ys) + NODE_H };
  };

  // The replay's canvas in a 1280 × 800 window (styles.css .replay-row) beside the summary's
  // 320 px and a 15 px scrollbar: 944 × 649 px, which the canvas takes in steps of 80 px
  // (960 × 640) to choose its direction.
  const [paneW, paneH] = [944, 649];
  const stepped = (n: number) => Math.round(n / 80) * 80;

  it("shows up to five nodes in a chain whole at a readable zoom in the 1280 px replay pane", () => {
    for (const length of [3, 4, 5]) {
      const direction = bestDirection(chain(length), stepped(paneW), stepped(paneH));
      expect(direction).toBe("TB");
      const view = readableView(bounds(autoLayout(chain(length), {}, direction)), paneW, paneH, 0.15, READABLE_ZOOM);
      expect(view?.cut ?? false).toBe(false);  // fitted as usual (zoom ≥ 0.75) or at 0.75, whole
    }
    // across, work-queue's chain of four was 990 px wide at 0.75: its last node off the pane
    expect(readableView(bounds(autoLayout(chain(4), {}, "LR")), paneW, paneH, 0.15, READABLE_ZOOM)!.cut).toBe(true);
  });

  it("shows e-commerce's 13 nodes whole at the readable zoom in the 1280 px replay pane", () => {
    expect(shop.nodes).toHaveLength(13);
    const direction = bestDirection(shop, stepped(paneW), stepped(paneH));
    expect(direction).toBe("TB");
    const drawn = bounds(autoLayout(shop, {}, direction));
    expect(fitScale(autoLayout(shop, {}, direction), paneW, paneH) / 1.15).toBeLessThan(READABLE_ZOOM);  // whole, padded
    const view = readableView(drawn, paneW, paneH, 0.15, READABLE_ZOOM)!;
    expect(view.zoom).toBe(READABLE_ZOOM);
    expect(view.cut).toBe(false);  // its six callees of a rank were 1,430 px wide: 1,073 at 0.75
    // 14 px to spare across: as far right of the zoom controls as it goes whole (centred: 7)
    expect(drawn.x * view.zoom + view.x).toBeCloseTo(paneW - drawn.width * READABLE_ZOOM);
    expect(paneW - drawn.width * READABLE_ZOOM).toBeLessThan(CONTROLS_ROOM);
    expect(drawn.y * view.zoom + view.y).toBeCloseTo((paneH - drawn.height * READABLE_ZOOM) / 2);
    // a wider one shows from its callers on the left, right of the zoom controls
    const wide = readableView({ ...drawn, width: 1430 }, paneW, paneH, 0.15, READABLE_ZOOM)!;
    expect(wide.cut).toBe(true);
    expect(drawn.x * wide.zoom + wide.x).toBe(CONTROLS_ROOM);
  });

  it("keeps e-commerce's left column off the zoom controls in a 900 px window", () => {
    // QA: under 960 px the replay's canvas takes the width (885 × 480 beside a scrollbar);
    // e-commerce, cut across, started 20 px in, its product-db under the controls (15 to 42 px).
    const drawn = bounds(autoLayout(shop, {}, "TB"));
    const view = readableView(drawn, 885, 480, 0.15, READABLE_ZOOM)!;
    expect(view.cut).toBe(true);
    expect(drawn.x * view.zoom + view.x).toBe(CONTROLS_ROOM);
    expect(CONTROLS_ROOM).toBeGreaterThan(15 + 27);
  });

  // The labels' heights as the replay measures them (one line 17 px; with badges 30, 43 or 56).
  const measured = (graph: Graph, tall: Record<string, number>) => {
    expect(Object.keys(tall).filter((id) => !graph.edges.some((e) => e.id === id))).toEqual([]);
    return Object.fromEntries(graph.edges.map((e) => [e.id, tall[e.id] ?? 30]));
  };

  it.each([
    // the stack execute → debit, refund, settle; transfer-events' consumer of three lines
    ["banking-transfer", bank, 9, measured(bank, { "workloads[0]": 17,
      "components.transfer.operations.execute.calls.1.saga.steps.0": 43,
      "components.transfer.operations.execute.calls.1.saga.steps.0.compensate": 56,
      "components.transfer.operations.execute.calls.1.saga.steps.1": 43,
      "components.transfer.operations.execute.calls.1.saga.steps.2": 56,
      "components.transfer-events.consumers[0]": 43 })],
    // six ranks, from the readers to timeline-db
    ["social-feed", feed, 11, measured(feed, { "workloads[0]": 17, "workloads[1]": 17,
      "components.feed.operations.read.calls.1.parallel.calls.0": 43,
      "components.feed.operations.read.calls.1.parallel.calls.1": 43,
      "components.timelines.backend": 17, "components.fanout-worker.operations.push.calls.0": 17 })],
  ])("shows %s whole at the readable zoom in the 1280 px replay pane", (_, graph, count, heights) => {
    expect(graph.nodes).toHaveLength(count);
    expect(bestDirection(graph, stepped(paneW), stepped(paneH))).toBe("TB");
    const drawn = bounds(autoLayout(graph, {}, "TB", undefined, heights));
    const view = readableView(drawn, paneW, paneH, 0.15, READABLE_ZOOM)!;
    expect(view.zoom).toBe(READABLE_ZOOM);
    expect(view.cut).toBe(false);  // with 110 px between rows, social-feed was 1,018 px tall: 764 at 0.75
  });

  it("shows a drawing too tall for the pane from its top", () => {
    const drawn = bounds(autoLayout(chain(5), {}, "TB"));
    const view = readableView(drawn, 900, 300, 0.15, READABLE_ZOOM)!;
    expect(drawn.y * view.zoom + view.y).toBe(20);
    expect(drawn.x * view.zoom + view.x).toBeCloseTo((900 - drawn.width * READABLE_ZOOM) / 2);
  });

  it("centres a five-node chain that is only too wide", () => {
    const drawn = bounds(autoLayout(chain(5), {}, "LR"));
    const view = readableView(drawn, 900, 480, 0.15, READABLE_ZOOM)!;
    expect(drawn.x * view.zoom + view.x).toBe(CONTROLS_ROOM);
    expect(drawn.y * view.zoom + view.y).toBeCloseTo((480 - drawn.height * READABLE_ZOOM) / 2);
  });

  it("says a drawing that fits at the readable zoom only without the fit's padding is whole", () => {
    const drawn = bounds(autoLayout(chain(4), {}, "LR"));  // 1,320 px wide: 990 px at 0.75
    const view = readableView(drawn, 1000, 480, 0.15, READABLE_ZOOM)!;
    expect(view.zoom).toBe(READABLE_ZOOM);
    expect(view.cut).toBe(false);
    expect(readableView(drawn, 900, 480, 0.15, READABLE_ZOOM)!.cut).toBe(true);
  });

  it("leaves a drawing that fits readable whole to the usual fit", () => {
    expect(readableView(bounds(autoLayout(chain(2), {}, "LR")), 900, 480, 0.15, READABLE_ZOOM)).toBeNull();
    expect(readableView(bounds(autoLayout(chain(5), {}, "LR")), 0, 0, 0.15, READABLE_ZOOM)).toBeNull();
  });
});
