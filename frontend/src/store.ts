// The open design: its YAML text (the one source of truth), what is derived from it, the undo
// history, the canvas layout, the selection, validation and the latest run.
import { create } from "zustand";
import type { RunState, Validation } from "./api";
import { buildGraph, type EdgeModel, type Graph } from "./model/graph";
import { getIn, isObj, str } from "./model/spec";
import { parse, type Parsed } from "./model/yamlDoc";

export type Selection = { type: "node" | "edge"; id: string } | null;
export type Layout = Record<string, { x: number; y: number }>;
const HISTORY = 200;
const COALESCE_MS = 1000; // typing in the editor: one undo step per pause

interface DesignState {
  text: string;
  parsed: Parsed;
  graph: Graph; // from the last text that parsed, so the canvas survives a typo
  past: string[];
  future: string[];
  lastEditorEdit: number;
  name: string;
  designId: string | null;
  version: number | null;
  savedText: string | null;
  baseline: string; // the text as loaded or last saved: what unsaved edits are measured from
  layout: Layout;
  savedLayout: Layout; // the node positions as loaded or last saved (a save keeps them too)
  selection: Selection;
  selectedAs: EdgeModel | null; // the selected edge as drawn when it was selected (selectedEdge)
  validation: Validation | null;
  run: RunState | null;
  notice: { kind: "error" | "info"; text: string } | null;
  setText: (text: string, source: "editor" | "canvas") => void;
  load: (text: string, name: string, designId?: string | null, version?: number | null, layout?: Layout) => void;
  change: (edit: (text: string, data: unknown) => string) => boolean;
  undo: () => void;
  redo: () => void;
  select: (selection: Selection) => void;
  move: (id: string, x: number, y: number) => void;
  setValidation: (validation: Validation | null) => void;
  setRun: (run: RunState | null) => void;
  saved: (designId: string, version: number, name: string, text: string) => void;
  notify: (kind: "error" | "info", text: string) => void;
}

function derive(text: string, previous: Graph | null): { parsed: Parsed; graph: Graph } {
  const parsed = parse(text);
  return { parsed, graph: parsed.data !== null || previous === null ? buildGraph(parsed.data) : previous };
}

export const useDesign = create<DesignState>((set, get) => ({
  text: "",
  ...derive("", null),
  past: [],
  future: [],
  lastEditorEdit: 0,
  name: "untitled",
  designId: null,
  version: null,
  savedText: null,
  baseline: "",
  savedLayout: {},
  layout: {},
  selection: null,
  selectedAs: null,
  validation: null,
  run: null,
  notice: null,
  setText: (text, source) => {
    const state = get();
    if (text === state.text) return;
    const now = Date.now();
    const coalesce = source === "editor" && now - state.lastEditorEdit < COALESCE_MS;
    set({
      text, ...derive(text, state.graph), future: [],
      past: coalesce ? state.past : [...state.past, state.text].slice(-HISTORY),
      lastEditorEdit: source === "editor" ? now : 0,
    });
  },
  load: (text, name, designId = null, version = null, layout = {}) => set({
    text, ...derive(text, null), past: [], future: [], name, designId, version,
    savedText: designId ? text : null, baseline: text, layout, savedLayout: layout, selection: null, selectedAs: null, validation: null,
    run: null, notice: null,
  }),
  change: (editFn) => {
    const state = get();
    try {
      state.setText(editFn(state.text, state.parsed.data), "canvas");
      return true;
    } catch (error) {
      state.notify("error", error instanceof Error ? error.message : String(error));
      return false;
    }
  },
  undo: () => {
    const { past, text, future, graph } = get();
    if (!past.length) return;
    const previous = past[past.length - 1];
    // a notice about the edit undone ("deleted …: Undo brings it back") no longer holds
    set({ text: previous, ...derive(previous, graph), past: past.slice(0, -1), future: [text, ...future], lastEditorEdit: 0, notice: null });
  },
  redo: () => {
    const { past, text, future, graph } = get();
    if (!future.length) return;
    const next = future[0];
    set({ text: next, ...derive(next, graph), past: [...past, text], future: future.slice(1), lastEditorEdit: 0, notice: null });
  },
  select: (selection) => set({
    selection, selectedAs: selection?.type === "edge" ? get().graph.edges.find((e) => e.id === selection.id) ?? null : null,
  }),
  move: (id, x, y) => set({ layout: { ...get().layout, [id]: { x, y } } }),
  setValidation: (validation) => set({ validation }),
  setRun: (run) => set({ run }),
  saved: (designId, version, name, text) => set({ designId, version, name, savedText: text, baseline: text, savedLayout: get().layout }),
  notify: (kind, text) => set({ notice: { kind, text } }),
}));

/** The selected edge: as the canvas draws it, or, for a call the canvas no longer draws
 * because an edit made its `to` name no component, the call as it was selected with its new
 * target, so that its form stays open with the server's message under `to`. */
export function selectedEdge(state: Pick<DesignState, "selection" | "selectedAs" | "graph" | "parsed">): EdgeModel | undefined {
  const { selection, selectedAs, graph, parsed } = state;
  if (selection?.type !== "edge") return undefined;
  const drawn = graph.edges.find((e) => e.id === selection.id);
  if (drawn || selectedAs?.id !== selection.id || selectedAs.kind !== "call") return drawn;
  const call = getIn(parsed.data, selectedAs.path);
  return isObj(call) ? { ...selectedAs, callee: str(call.to) ?? "?", badges: [] } : undefined;
}

/** Whether the open design has changed since it was loaded or saved: its text, or where the
 * user dragged its nodes (a save keeps the layout as well). */
export function unsavedEdits(state: Pick<DesignState, "text" | "baseline" | "layout" | "savedLayout">): boolean {
  return state.text !== state.baseline || !sameLayout(state.layout, state.savedLayout);
}

/** The Save button's label: "Save *" while there are unsaved edits (those mayDiscard asks
 * about), stored design or not. */
export function saveLabel(state: Pick<DesignState, "text" | "baseline" | "layout" | "savedLayout">): string {
  return unsavedEdits(state) ? "Save *" : "Save";
}

export function saveTitle(state: Pick<DesignState, "designId" | "text" | "baseline" | "layout" | "savedLayout">): string {
  const what = state.designId === null ? "Save as a new design" : "Save a new version of this design";
  return unsavedEdits(state) ? `${what} (it has unsaved changes)` : what;
}

function sameLayout(a: Layout, b: Layout): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length &&
    keys.every((id) => b[id] !== undefined && a[id].x === b[id].x && a[id].y === b[id].y);
}

/** Whether the open design may be replaced: yes when it has no edits since it was loaded or
 * saved, else when the person confirms that they may be thrown away. */
export function mayDiscard(): boolean {
  const state = useDesign.getState();
  return !unsavedEdits(state) || window.confirm(`Discard the unsaved changes to '${state.name}'?`);
}
