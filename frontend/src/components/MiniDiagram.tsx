// A small static drawing of a spec's architecture for the gallery cards (same model and
// layout as the canvas, no interaction).
import { useMemo } from "react";
import { buildGraph } from "../model/graph";
import { autoLayout, NODE_H, NODE_W } from "../model/layout";
import { parse } from "../model/yamlDoc";
import { KindIcon } from "./icons";

/** Room between the columns of a drawing without call labels: a card's drawing is scaled
 * down to its width, and the canvas's room for labels would shrink its text with it. */
const UNLABELLED_RANKSEP = 70;

export function MiniDiagram({ spec }: { spec: string }) {
  const { graph, positions, box } = useMemo(() => {
    const g = buildGraph(parse(spec).data);
    const p = autoLayout(g, {}, "LR", UNLABELLED_RANKSEP);
    const xs = Object.values(p);
    const box = {
      x: Math.min(...xs.map((v) => v.x)) - 10, y: Math.min(...xs.map((v) => v.y)) - 10,
      w: Math.max(...xs.map((v) => v.x)) - Math.min(...xs.map((v) => v.x)) + NODE_W + 20,
      h: Math.max(...xs.map((v) => v.y)) - Math.min(...xs.map((v) => v.y)) + NODE_H + 20,
    };
    // Small systems are not blown up: the view is at least this big, centred.
    const w = Math.max(box.w, 760);
    const h = Math.max(box.h, 240);
    return { graph: g, positions: p, box: { x: box.x - (w - box.w) / 2, y: box.y - (h - box.h) / 2, w, h } };
  }, [spec]);
  if (!graph.nodes.length) return null;
  return (
    <svg className="mini" viewBox={`${box.x} ${box.y} ${box.w} ${box.h}`} role="img" aria-label="architecture">
      {graph.edges.map((e) => {
        const a = positions[e.source];
        const b = positions[e.target];
        return <line key={e.id} x1={a.x + NODE_W} y1={a.y + NODE_H / 2} x2={b.x} y2={b.y + NODE_H / 2}
          stroke="#8792a2" strokeWidth={3} strokeDasharray={e.isAsync ? "10 8" : undefined} />;
      })}
      {graph.nodes.map((n) => {
        const p = positions[n.id];
        return (
          <g key={n.id} transform={`translate(${p.x},${p.y})`}>
            <rect width={NODE_W} height={NODE_H} rx={10} className={`mini-node kind-${n.kind}`} />
            <g transform="translate(12,12) scale(1.6)" color="#34495e"><KindIcon kind={n.kind} /></g>
            <NodeName name={n.name} />
          </g>
        );
      })}
    </svg>
  );
}

/** Room for a name right of the icon, and the width of an average character at its size. */
const NAME_ROOM = NODE_W - 56 - 8;
const CHAR_W = 13.5;
const LONGEST_NAME = 14;

/** A node's name in its box: a name wider than the room is squeezed into it (up to
 * LONGEST_NAME characters, then cut with "…"), never drawn past the box's edge. */
function NodeName({ name }: { name: string }) {
  const shown = name.length > LONGEST_NAME ? `${name.slice(0, LONGEST_NAME - 1)}…` : name;
  const squeeze = shown.length * CHAR_W > NAME_ROOM;
  return (
    <text x={56} y={46} fontSize={24} textLength={squeeze ? NAME_ROOM : undefined}
      lengthAdjust={squeeze ? "spacingAndGlyphs" : undefined}>{shown}</text>
  );
}
