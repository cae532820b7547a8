// The heart of the studio: the canvas, the side panel and the YAML editor on one model.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api";
import { Canvas } from "../components/Canvas";
import { SidePanel } from "../components/SidePanel";
import { YamlEditor } from "../components/YamlEditor";
import { addComponent, connect, deleteEdge, deletedEdgeNotice, deleteNode } from "../model/edits";
import { locate } from "../model/graph";
import { layoutToSave } from "../model/layout";
import { allErrors, placeMarks } from "../model/marks";
import { KINDS, type Kind } from "../model/spec";
import { saveDesign } from "../model/saving";
import { formatPath } from "../model/yamlDoc";
import { saveLabel, saveTitle, selectedEdge, useDesign } from "../store";

export function DesignPage({ schema, onPattern }: { schema: Record<string, unknown> | null; onPattern: (id: string) => void }) {
  const state = useDesign();
  const { text, parsed, graph, validation, layout, selection } = state;
  const errors = allErrors(parsed, validation);
  const findings = useMemo(() => validation?.findings ?? [], [validation]);
  const marks = useMemo(() => placeMarks(graph, parsed, errors, findings), [graph, parsed, errors, findings]);
  const [focusLine, setFocusLine] = useState<number | null>(null);
  const [kind, setKind] = useState<Kind>("service");
  const [showYaml, setShowYaml] = useYamlShown();
  const goToLine = (line: number) => { setShowYaml(true); setFocusLine(line); };

  const add = () => {
    let name = "";
    let consumer: string | undefined;
    if (state.change((t, data) => { const r = addComponent(t, data, kind); name = r.name; consumer = r.consumer; return r.text; })) {
      state.select({ type: "node", id: name });
      if (consumer) {
        state.notify("info", `added '${name}' with '${consumer}' as its consumer (a queue needs one): ` +
          `drag from the queue to another component to subscribe that one too`);
      } else if (kind === "cache") {
        state.notify("info", `added '${name}': drag from it to the component its misses go to (its backend)`);
      }
    }
  };
  // Delete (or Backspace) on the canvas removes the selected node or edge, as the side
  // panel's delete does; Undo brings it back.
  useEffect(() => {
    const keys = (e: KeyboardEvent) => {
      if (e.key !== "Delete" && e.key !== "Backspace") return;
      if ((e.target as HTMLElement | null)?.closest?.(".cm-editor, input, select, textarea, [contenteditable=true]")) return;
      const current = useDesign.getState();
      const { selection: chosen, graph: g, change, select, notify } = current;
      if (!chosen) return;
      const edge = selectedEdge(current);
      const node = chosen.type === "node" ? g.nodes.find((x) => x.id === chosen.id) : undefined;
      if (!node && (!edge || edge.kind === "entry")) return;
      e.preventDefault();
      const done = node ? change((t, d) => deleteNode(t, d, node.id)) : change((t) => deleteEdge(t, edge!));
      if (done) {
        select(null);
        notify("info", node ? `deleted '${node.name}': Undo (Ctrl+Z) brings it back` : deletedEdgeNotice(edge!, g));
      }
    };
    window.addEventListener("keydown", keys);
    return () => window.removeEventListener("keydown", keys);
  }, []);
  const onConnect = (source: string, target: string) => {
    let path: (string | number)[] = [];
    if (state.change((t, data) => { const r = connect(t, data, source, target); path = r.path; return r.text; })) {
      const g = useDesign.getState().graph;
      const edge = g.edges.find((e) => formatPath(e.path) === formatPath(path)) ?? g.edges.find((e) => locate(g, path).edge === e.id);
      state.select(edge ? { type: "edge", id: edge.id } : null);
    }
  };
  const save = async () => {
    try {
      const request = { id: state.designId, version: state.version, name: state.name, spec: text, layout: layoutToSave(graph, layout) };
      const saved = await saveDesign(api, (question) => window.confirm(question), request);
      state.saved(saved.id, saved.version, saved.name, text);
      state.notify("info", state.designId !== null && saved.id !== state.designId
        ? `saved '${saved.name}' as a new design` : `saved '${saved.name}' as version ${saved.version}`);
    } catch (error) {
      state.notify("error", error instanceof ApiError ? error.message : String(error));
    }
  };

  return (
    <div className="design">
      <div className="toolbar">
        <input className="name" value={state.name} aria-label="design name" onChange={(e) => useDesign.setState({ name: e.target.value })} />
        <button type="button" onClick={() => void save()} title={saveTitle(state)}>{saveLabel(state)}</button>
        <span className="sep" />
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} aria-label="kind of component to add">
          {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <button type="button" onClick={add} data-testid="add-component">+ Add component</button>
        <span className="sep" />
        <button type="button" onClick={state.undo} disabled={!state.past.length} title="Undo (Ctrl+Z)">↶ Undo</button>
        <button type="button" onClick={state.redo} disabled={!state.future.length} title="Redo (Ctrl+Shift+Z)">↷ Redo</button>
        <span className="sep" />
        <button type="button" onClick={() => setShowYaml(!showYaml)} aria-pressed={showYaml} data-testid="toggle-yaml"
          title={showYaml ? "Hide the YAML editor: the canvas takes its width" : "Show the YAML editor beside the canvas"}>
          {showYaml ? "Hide YAML" : "Show YAML"}
        </button>
        <span className="grow" />
        <Status errors={errors.length} findings={findings.length} valid={validation?.valid ?? false}
          onClick={() => errors[0] && goToLine(errors[0].line)} />
      </div>
      <div className={`design-body${showYaml ? "" : " no-editor"}`}>
        {showYaml && (
          <section className="pane editor-pane">
            <YamlEditor text={text} onChange={(t) => state.setText(t, "editor")} onUndo={state.undo} onRedo={state.redo} errors={errors} findings={findings}
              schema={schema} focusLine={focusLine} />
          </section>
        )}
        <section className="pane canvas-pane">
          <Canvas graph={graph} layout={layout} selection={selection} nodeMarks={marks.nodes} edgeMarks={marks.edges}
            editable onSelect={state.select} onMove={state.move} onConnect={onConnect} />
          {errors.length > 0 && (
            <ul className="error-list" data-testid="error-list">
              {errors.slice(0, 6).map((e) => (
                <li key={`${e.line}-${e.path}-${e.message}`}>
                  <button type="button" className="link" onClick={() => goToLine(e.line)}>line {e.line}{e.column ? `:${e.column}` : ""}</button>{" "}
                  {e.path && <code>{e.path}</code>} {e.message}
                </li>
              ))}
            </ul>
          )}
        </section>
        <SidePanel schema={schema} errors={errors} findings={findings} onPattern={onPattern} />
      </div>
    </div>
  );
}

/** Whether the YAML editor is shown beside the canvas: remembered in the browser, so a user
 * who works on the canvas keeps its full width from one visit to the next. */
const YAML_SHOWN = "scalesim.design.yaml-shown";

function useYamlShown(): [boolean, (shown: boolean) => void] {
  const [shown, setShown] = useState(() => localStorage.getItem(YAML_SHOWN) !== "false");
  const set = (value: boolean) => {
    setShown(value);
    localStorage.setItem(YAML_SHOWN, String(value));
  };
  return [shown, set];
}

function Status({ errors, findings, valid, onClick }: { errors: number; findings: number; valid: boolean; onClick: () => void }) {
  if (errors) return <button type="button" className="status bad" onClick={onClick} data-testid="status">{errors} error{errors > 1 ? "s" : ""}</button>;
  return <span className={`status ${valid ? "good" : ""}`} data-testid="status">{valid ? "valid" : "checking…"}{findings ? ` · ${findings} finding${findings > 1 ? "s" : ""}` : ""}</span>;
}
export { Status };
