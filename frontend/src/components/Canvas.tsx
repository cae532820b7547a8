// The architecture on a React Flow canvas: a node per component and workload, an edge per
// call with its policy badges. Validation errors and lint findings mark the elements they
// concern; during a replay the overlay colours nodes and edges by what happened at that time.
import {
  Background, BaseEdge, Controls, EdgeLabelRenderer, Handle, MarkerType, Panel, Position,
  ReactFlow, getBezierPath, useNodesState, useReactFlow, type Connection, type Edge, type EdgeProps, type Node, type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type RefObject } from "react";
import { droppedCall } from "../model/edits";
import type { EdgeModel, Graph, NodeModel } from "../model/graph";
import { autoLayout, bestDirection, FIT_MAX_ZOOM, labelOffsets, labelPlaces, labelRoom, pointOnCurve, READABLE_ZOOM, readableView, STACKED_LABEL, type Direction } from "../model/layout";
import type { Marks } from "../model/marks";
import { KindIcon } from "./icons";

export interface NodeOverlay { fill?: string; lines: string[]; alert?: string }
export interface EdgeOverlay { width?: number; colour?: string; badges: string[]; animated?: boolean }
export interface Overlay { nodes: Record<string, NodeOverlay>; edges: Record<string, EdgeOverlay> }

type NodeData = { model: NodeModel; marks?: Marks; overlay?: NodeOverlay; direction: Direction };
/** onMeasure: reports the label's height, which the stack it is in (calls joining the same
 * two nodes) and the room between rows are laid out by. */
type EdgeData = {
  model: EdgeModel; marks?: Marks; overlay?: EdgeOverlay; labelAt: number; labelShift: number;
  onMeasure: (id: string, height: number) => void;
};

/** Reports the height of a label (in the canvas's own pixels, whatever the zoom)
 * whenever it changes: a badge added by the replay can wrap it onto another line. */
function useLabelHeight(label: RefObject<HTMLDivElement | null>, id: string, onMeasure: (id: string, height: number) => void) {
  useLayoutEffect(() => {
    const el = label.current;
    if (!el) return;
    const report = () => onMeasure(id, el.offsetHeight);
    report();
    const observer = new ResizeObserver(report);
    observer.observe(el);
    return () => observer.disconnect();
  }, [label, id, onMeasure]);
}

const ComponentNode = memo(function ComponentNode({ data, selected }: NodeProps<Node<NodeData>>) {
  const { model, marks, overlay, direction } = data;
  const across = direction === "LR";
  const errors = marks?.errors.length ?? 0;
  const warnings = marks?.findings.length ?? 0;
  const title = [...(marks?.errors ?? []), ...(marks?.findings ?? []).map((f) => `${f.rule} ${f.message}`)].join("\n");
  return (
    <div className={`node kind-${model.kind}${selected ? " selected" : ""}${errors ? " has-error" : ""}`}
      style={overlay?.fill ? { background: overlay.fill } : undefined} data-node={model.id} title={title || undefined}>
      <Handle type="target" position={across ? Position.Left : Position.Top} />
      <div className="node-head">
        <span className="node-icon"><KindIcon kind={model.kind} /></span>
        <span className="node-name">{model.name}</span>
        {errors > 0 && <span className="mark error" data-testid="node-error">{errors}</span>}
        {warnings > 0 && <span className="mark warning" data-testid="node-finding">{warnings}</span>}
      </div>
      <div className="node-detail">{model.kind === "workload" ? `→ ${model.detail}` :
        [model.tech, model.replicas != null ? `×${model.replicas}` : null,
          model.workers ? `${model.workers} workers` : null].filter(Boolean).join(" · ") || model.kind}</div>
      {overlay?.lines.map((line) => <div key={line} className="node-metric">{line}</div>)}
      {overlay?.alert && <div className="node-alert">{overlay.alert}</div>}
      <Handle type="source" position={across ? Position.Right : Position.Bottom} />
    </div>
  );
});

/** A replay badge that needs attention: an open breaker; a queue backing up or dead-lettering. */
function badgeStyle(badge: string): string {
  if (/OPEN|open/.test(badge)) return " badge-open";
  return badge === "backing up" || badge.endsWith("dead-lettered") ? " badge-warn" : "";
}

/** A dead-letter route: the path of messages that failed every delivery, not of the work. */
const DEAD_LETTER = "#b5523b";

function CallEdge(props: EdgeProps<Edge<EdgeData>>) {
  const { sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, markerEnd } = props;
  const [path, middleX, middleY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const label = pointOnCurve(path, data!.labelAt);
  const [labelX, labelY] = label ? [label.x, label.y + data!.labelShift] : [middleX, middleY + data!.labelShift];
  const model = data!.model;
  const overlay = data!.overlay;
  const errors = data!.marks?.errors.length ?? 0;
  const deadLetter = model.kind === "dead-letter";
  const box = useRef<HTMLDivElement>(null);
  useLabelHeight(box, model.id, data!.onMeasure);
  const colour = errors ? "#c62828" : overlay?.colour ?? (selected ? "#1b5fc1" : deadLetter ? DEAD_LETTER : "#6b7685");
  return (
    <>
      <BaseEdge path={path} markerEnd={markerEnd} style={{
        stroke: colour, strokeWidth: overlay?.width ?? (selected ? 2.4 : 1.6),
        strokeDasharray: deadLetter ? "2 4" : model.isAsync ? "6 4" : undefined,
      }} className={overlay?.animated ? "flowing" : undefined} />
      <EdgeLabelRenderer>
        <div ref={box} className={`edge-label${selected ? " selected" : ""}`} data-edge={model.id}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}>
          <span className="edge-op">{model.label}{model.isAsync ? " · async" : ""}{model.parallel ? " · ∥" : ""}</span>
          {[...model.badges, ...(overlay?.badges ?? [])].map((badge) => (
            <span key={badge} className={`badge${badgeStyle(badge)}`}>{badge}</span>
          ))}
          {errors > 0 && <span className="mark error">{errors}</span>}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

const FIT = { padding: 0.15, maxZoom: FIT_MAX_ZOOM, duration: 200 };

/** Fit the view again when nodes or calls come or go (a template opened, a component added,
 * a call deleted: the automatic layout moves), the drawing turns over, the rows move apart
 * or together for the labels between them (labelRoom), or the pane changes size by a step
 * (a side pane shown or hidden). `readable`: never below READABLE_ZOOM (the
 * replay, whose numbers must be read), a drawing larger than that showing from its start;
 * `onCut` hears whether part of the drawing is then out of view. */
function FitOnChange({ ids, pane, readable, onCut }: {
  ids: string; pane: RefObject<HTMLDivElement | null>; readable: boolean; onCut: (cut: boolean) => void;
}) {
  const flow = useReactFlow();
  useEffect(() => {
    const timer = setTimeout(() => {
      const el = pane.current;
      const view = readable && el ? readableView(flow.getNodesBounds(flow.getNodes()), el.clientWidth,
        el.clientHeight, FIT.padding, READABLE_ZOOM) : null;
      onCut(view?.cut ?? false);
      void (view ? flow.setViewport({ x: view.x, y: view.y, zoom: view.zoom }, { duration: FIT.duration }) : flow.fitView(FIT));
    }, 50);
    return () => clearTimeout(timer);
  }, [ids, flow, pane, readable, onCut]);
  return null;
}

/** The pane's size in steps of SIZE_STEP px (0 × 0 until measured): what the layout's
 * direction and the fit follow, without laying out again for every pixel of a resize. */
const SIZE_STEP = 80;

function usePaneSize(pane: RefObject<HTMLDivElement | null>): { width: number; height: number } {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = pane.current;
    if (!el) return;
    const measure = () => {
      const width = Math.round(el.clientWidth / SIZE_STEP) * SIZE_STEP;
      const height = Math.round(el.clientHeight / SIZE_STEP) * SIZE_STEP;
      setSize((old) => (old.width === width && old.height === height ? old : { width, height }));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [pane]);
  return size;
}

/** The drawing's direction for the pane: turned over only when the other fits clearly larger
 * (`bestDirection`, from the current one), and kept as it is once the user has placed a node,
 * whose position was chosen in it (turning the rest over would strand it). */
function useDirection(graph: Graph, size: { width: number; height: number }, placed: boolean): Direction {
  const [direction, setDirection] = useState<Direction>("LR");
  useEffect(() => {
    if (!placed) setDirection((current) => bestDirection(graph, size.width, size.height, current));
  }, [graph, size, placed]);
  return direction;
}

const nodeTypes = { component: ComponentNode };
const edgeTypes = { call: CallEdge };

export interface CanvasProps {
  graph: Graph;
  layout: Record<string, { x: number; y: number }>;
  selection?: { type: "node" | "edge"; id: string } | null;
  nodeMarks?: Record<string, Marks>;
  edgeMarks?: Record<string, Marks>;
  overlay?: Overlay;
  /** The replay's canvas: fitted no smaller than a readable zoom (the rest a pan away). */
  readable?: boolean;
  editable?: boolean;
  onSelect?: (selection: { type: "node" | "edge"; id: string } | null) => void;
  onMove?: (id: string, x: number, y: number) => void;
  onConnect?: (source: string, target: string) => void;
}

export function Canvas({ graph, layout, selection, nodeMarks, edgeMarks, overlay, readable = false, editable = false,
  onSelect, onMove, onConnect }: CanvasProps) {
  const pane = useRef<HTMLDivElement>(null);
  const size = usePaneSize(pane);
  const direction = useDirection(graph, size, Object.keys(layout).length > 0);
  const [heights, setHeights] = useState<Record<string, number>>({});  // labels'
  const measured = useCallback((id: string, height: number) =>
    setHeights((old) => (old[id] === height ? old : { ...old, [id]: height })), []);
  const positions = useMemo(() => autoLayout(graph, layout, direction, undefined, heights), [graph, layout, direction, heights]);
  const room = useMemo(() => labelRoom(graph, direction, heights), [graph, direction, heights]);
  const [cut, setCut] = useState(false);  // part of the drawing out of the readable view
  const nodes: Node<NodeData>[] = useMemo(() => graph.nodes.map((model) => ({
    id: model.id, type: "component", position: positions[model.id] ?? { x: 0, y: 0 },
    data: { model, marks: nodeMarks?.[model.id], overlay: overlay?.nodes[model.id], direction },
    selected: selection?.type === "node" && selection.id === model.id,
  })), [graph, positions, nodeMarks, overlay, selection, direction]);
  const edges: Edge<EdgeData>[] = useMemo(() => {
    const places = labelPlaces(graph, direction);
    return graph.edges.map((model) => {
      const { share: labelAt, joint } = places[model.id];
      const shifts = labelOffsets(joint.map((id) => heights[id] ?? STACKED_LABEL), labelAt);
      return {
        id: model.id, source: model.source, target: model.target, type: "call",
        data: { model, marks: edgeMarks?.[model.id], overlay: overlay?.edges[model.id],
          labelAt, labelShift: shifts[joint.indexOf(model.id)], onMeasure: measured },
        markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, markerUnits: "userSpaceOnUse" },
        selected: selection?.type === "edge" && selection.id === model.id,
      };
    });
  }, [graph, edgeMarks, overlay, selection, direction, heights, measured]);
  const [shown, setShown, onNodesChange] = useNodesState(nodes);
  useEffect(() => setShown(nodes), [nodes, setShown]);
  return (
    <div className="canvas" data-testid="canvas" data-direction={direction} ref={pane}>
      <ReactFlow nodes={shown} edges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes}
        fitView fitViewOptions={{ padding: 0.15, maxZoom: FIT_MAX_ZOOM }} minZoom={0.2} maxZoom={2}
        nodesDraggable nodesConnectable={editable} elementsSelectable deleteKeyCode={null}
        onNodeClick={(_, node) => onSelect?.({ type: "node", id: node.id })}
        onEdgeClick={(_, edge) => onSelect?.({ type: "edge", id: edge.id })}
        onPaneClick={() => onSelect?.(null)}
        onNodeDragStop={(_, node) => onMove?.(node.id, node.position.x, node.position.y)}
        onNodesChange={onNodesChange}
        onConnect={(c: Connection) => c.source && c.target && c.source !== c.target && onConnect?.(c.source, c.target)}
        connectionRadius={30}
        onConnectEnd={(event, state) => {
          // Dropped on a node's body, not its 5 px handle: connect to that node all the same.
          if (state.isValid || !state.fromNode || !state.fromHandle) return;
          const at = "changedTouches" in event ? event.changedTouches[0] : event;
          const under = document.elementFromPoint(at.clientX, at.clientY)?.closest(".react-flow__node");
          const call = droppedCall(state.fromNode.id, state.fromHandle.type, under?.getAttribute("data-id") ?? null);
          if (call) onConnect?.(call.source, call.target);
        }}
        proOptions={{ hideAttribution: true }}>
        {cut && <Panel position="bottom-right"><span className="hint" data-testid="canvas-cut">drag the canvas to see the rest (the fit button shows it whole)</span></Panel>}
        <FitOnChange pane={pane} readable={readable} onCut={setCut} ids={`${graph.nodes.map((n) => n.id).join("|")} ${graph.edges.map((e) => `${e.source}>${e.target}`).join("|")} ${direction} ${size.width}×${size.height} ${room}`} />
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
