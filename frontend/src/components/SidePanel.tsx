// The selected component, workload or call as a form generated from the JSON Schema; with
// nothing selected, the system's own settings. Findings for the selection list the catalog
// patterns that fix them.
import { useState } from "react";
import type { Finding, SpecIssue } from "../api";
import { deleteEdge, deletedEdgeNotice, deleteNode, renameComponent, setField } from "../model/edits";
import { MAX_NAME } from "../model/limits";
import type { EdgeModel } from "../model/graph";
import type { Path } from "../model/yamlDoc";
import { getIn, obj } from "../model/spec";
import { selectedEdge, useDesign } from "../store";
import { KindIcon } from "./icons";
import { SchemaForm } from "./SchemaForm";

type Schema = Record<string, unknown>;

export function SidePanel({ schema, errors, findings, onPattern }: {
  schema: Schema | null; errors: SpecIssue[]; findings: Finding[]; onPattern: (id: string) => void;
}) {
  const state = useDesign();
  const { selection, graph, parsed, change, select, notify } = state;
  const data = parsed.data;
  const defs = (schema?.$defs ?? {}) as Record<string, Schema>;
  const onSet = (path: Path, value: unknown) => change((text) => setField(text, path, value));
  if (!schema) return <aside className="side"><p className="hint">loading the schema…</p></aside>;
  if (parsed.syntaxErrors.length) {
    // No model to show: a form would read the broken text as an empty spec, and an edit
    // could not be written back. The canvas keeps the last graph that parsed.
    return (
      <aside className="side" data-testid="side-panel">
        <div className="side-unavailable" data-testid="form-unavailable" role="status">
          <strong>The form is unavailable until the YAML parses.</strong>
          <p>Fix the syntax error in the editor first:</p>
          <ul>{errors.slice(0, 3).map((e) => (
            <li key={`${e.line}-${e.column}-${e.message}`}>line {e.line}:{e.column}: {e.message}</li>
          ))}</ul>
        </div>
      </aside>
    );
  }
  const node = selection?.type === "node" ? graph.nodes.find((n) => n.id === selection.id) : undefined;
  const edge = selectedEdge(state);
  const related = (prefix: string) => findings.filter((f) => f.path === prefix || f.path.startsWith(`${prefix}.`) || f.path.startsWith(`${prefix}[`));

  if (node && node.kind !== "workload") {
    const component = getIn(data, node.path);
    const ops = Object.entries(obj(obj(component).operations));
    return (
      <aside className="side" data-testid="side-panel">
        <Header icon={<KindIcon kind={node.kind} />} title={node.name} subtitle={`component · ${node.kind}`}
          onDelete={() => { change((text, d) => deleteNode(text, d, node.id)); select(null); }}
          onRename={(name) => { if (change((text, d) => renameComponent(text, d, node.id, name))) select({ type: "node", id: name }); }} />
        <FindingList findings={related(`components.${node.id}`)} onPattern={onPattern} />
        {node.kind === "queue" && (
          <p className="hint" data-testid="queue-consumers">
            consumers: {graph.edges.filter((e) => e.kind === "consumer" && e.source === node.id).map((e) => e.callee).join(", ") || "none yet"}
            {" "}— drag from the queue&apos;s outgoing handle (right, or bottom when drawn top to bottom) to a component to subscribe it
          </p>
        )}
        <SchemaForm root={schema} schema={defs.Component} value={component} path={node.path}
          errors={errors} exclude={["operations", "consumers"]} onSet={onSet} />
        <h4>Operations</h4>
        {ops.length === 0 && <p className="hint">none (a queue accepts publish)</p>}
        {ops.map(([name, op]) => (
          <fieldset key={name} className="group">
            <legend>{name}</legend>
            <SchemaForm root={schema} schema={defs.Operation} value={op} path={[...node.path, "operations", name]}
              errors={errors} exclude={["calls"]} onSet={onSet} />
            <p className="hint">{(obj(op).calls as unknown[] | undefined)?.length ?? 0} call(s): select an edge to edit one</p>
          </fieldset>
        ))}
      </aside>
    );
  }
  if (node) {
    return (
      <aside className="side" data-testid="side-panel">
        <Header icon={<KindIcon kind="workload" />} title={node.name} subtitle="workload (entry point)"
          onDelete={() => { change((text, d) => deleteNode(text, d, node.id)); select(null); }} />
        <FindingList findings={related(`workloads[${node.path[1]}]`)} onPattern={onPattern} />
        <SchemaForm root={schema} schema={defs.Workload} value={getIn(data, node.path)} path={node.path}
          errors={errors} onSet={onSet} />
      </aside>
    );
  }
  if (edge) {
    const kindSchema = edge.kind === "consumer" || edge.kind === "projection" ? defs.Consumer
      : edge.kind === "entry" ? defs.Workload : defs.Call;
    // a dead-letter route is a field of the queue's delivery settings: the form shows them all
    const [formSchema, formPath] = edge.kind === "dead-letter" ? [defs.Delivery, edge.path.slice(0, -1)] : [kindSchema, edge.path];
    return (
      <aside className="side" data-testid="side-panel">
        <Header title={`${edge.caller} → ${edge.callee}`} subtitle={edgeSubtitle(edge, graph.edges.includes(edge))}
          onDelete={edge.kind === "entry" ? undefined : () => {
            if (change((text) => deleteEdge(text, edge))) notify("info", deletedEdgeNotice(edge, graph));
            select(null);
          }} />
        {edge.kind === "backend"
          ? <p className="hint">A cache's backend: set it on the cache (backend, hit_ratio).</p>
          : <SchemaForm root={schema} schema={formSchema} value={getIn(data, formPath)} path={formPath}
            errors={errors} onSet={onSet} />}
      </aside>
    );
  }
  return (
    <aside className="side" data-testid="side-panel">
      <Header title={String(obj(data).name ?? "system")} subtitle="the system: select a node or an edge to edit it" />
      <FindingList findings={findings} onPattern={onPattern} />
      <SchemaForm root={schema} schema={schema} value={data} path={[]} errors={errors}
        exclude={["scalesim", "components", "workloads", "faults"]} onSet={onSet} />
    </aside>
  );
}

function edgeSubtitle(edge: EdgeModel, drawn: boolean): string {
  if (!drawn) return "call · not drawn: its `to` names no component (the message is under the field)";
  return `${edge.kind}${edge.isAsync ? " · async" : ""}${edge.parallel ? ` · ${edge.parallel}` : ""}`;
}

function Header({ icon, title, subtitle, onDelete, onRename }: {
  icon?: React.ReactNode; title: string; subtitle: string; onDelete?: () => void; onRename?: (name: string) => void;
}) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(title);
  return (
    <div className="side-head">
      <div className="side-title">
        {icon}
        {renaming ? (
          <input autoFocus value={name} maxLength={MAX_NAME} onChange={(e) => setName(e.target.value)} aria-label="new name"
            onKeyDown={(e) => { if (e.key === "Enter") { onRename?.(name); setRenaming(false); } if (e.key === "Escape") setRenaming(false); }} />
        ) : <strong>{title}</strong>}
      </div>
      <div className="hint">{subtitle}</div>
      <div className="side-actions">
        {onRename && <button type="button" className="small" onClick={() => { setName(title); setRenaming(true); }}>rename</button>}
        {onDelete && <button type="button" className="small danger" onClick={onDelete}>delete</button>}
      </div>
    </div>
  );
}

function FindingList({ findings, onPattern }: { findings: Finding[]; onPattern: (id: string) => void }) {
  if (!findings.length) return null;
  return (
    <div className="findings">
      {findings.map((f) => (
        <div key={`${f.rule}-${f.path}-${f.message}`} className={`finding ${f.severity}`}>
          <div><strong>{f.rule} {f.name}</strong> <span className="hint">line {f.line}</span></div>
          <div>{f.message}</div>
          <div className="hint">why: {f.why}</div>
          {f.fixes.length > 0 && <div>fix with: {f.fixes.map((id) => (
            <button key={id} type="button" className="chip" onClick={() => onPattern(id)}>{id}</button>))}</div>}
        </div>
      ))}
    </div>
  );
}
