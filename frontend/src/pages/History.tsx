// Saved designs with their versions and runs: open, duplicate, delete, export and import YAML.
import { useEffect, useState } from "react";
import { api, ApiError, type Design, type DesignBrief, type RunBrief } from "../api";
import { localTime, number, runReason, share } from "../model/format";
import { imported, refusal } from "../model/importing";
import { mayDiscard, useDesign } from "../store";


export function HistoryPage({ onOpened, onRun }: { onOpened: () => void; onRun: () => void }) {
  const [designs, setDesigns] = useState<DesignBrief[]>([]);
  const [expanded, setExpanded] = useState<Design | null>(null);
  const [runs, setRuns] = useState<RunBrief[]>([]);
  const { load, notify, setRun } = useDesign();
  const refresh = () => { api.designs().then(setDesigns, (e) => notify("error", e.message)); api.runs().then(setRuns, () => undefined); };
  useEffect(refresh, [notify]);
  const fail = (e: unknown) => notify("error", e instanceof ApiError ? e.message : String(e));
  const open = async (id: string, version?: number) => {
    if (!mayDiscard()) return;
    try {
      const design = await api.design(id);
      if (version && version !== design.version) {
        const v = await api.version(id, version);
        load(v.spec, `${design.name} v${version}`, null, null, v.layout);
      } else load(design.spec, design.name, design.id, design.version, design.layout);
      onOpened();
    } catch (e) { fail(e); }
  };
  const exportYaml = async (id: string) => {
    let design;
    try { design = await api.design(id); } catch (e) { fail(e); return; }
    const url = URL.createObjectURL(new Blob([design.spec], { type: "application/yaml" }));
    const a = document.createElement("a");
    a.href = url; a.download = `${design.name.replace(/[^A-Za-z0-9-]+/g, "-")}.yaml`; a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const importYaml = async (file: File) => {
    try {
      const text = await file.text();
      const refused = refusal(file.name, text);
      if (refused) { notify("error", refused); return; }
      const name = file.name.replace(/\.ya?ml$/, "");
      const checked = await api.validate(text);
      await api.createDesign(name, text, {});
      refresh();
      notify("info", imported(name, checked.errors.length));
    } catch (e) { fail(e); }
  };
  const openRun = async (id: string) => {
    if (!mayDiscard()) return;
    try {
      const run = await api.run(id);
      // A run of a saved design opens under that design, as opening the design would (its
      // name, its layout, and Save adding a version to it); an older version opens as that
      // version does from the list above. A run of unsaved edits, or of a design deleted
      // since, opens as its spec alone. (The server records a run under a version only
      // when it ran that version's spec; the spec is compared too for runs recorded before
      // it checked, so that Simulate never sends a version with another spec.)
      const design = run.design_id ? await api.design(run.design_id).catch(() => null) : null;
      if (design && run.version === design.version && run.spec === design.spec) {
        load(run.spec, design.name, design.id, design.version, design.layout);
      } else if (design && run.version) {
        const v = await api.version(design.id, run.version).catch(() => null);
        load(run.spec, `${design.name} v${run.version}`, null, null, v?.layout ?? design.layout);
      } else load(run.spec, run.system);
      setRun(run);
      onRun();
    } catch (e) { fail(e); }
  };
  return (
    <div className="history">
      <div className="toolbar">
        <h2>Designs</h2>
        <label className="button">Import YAML… <input type="file" accept=".yaml,.yml" hidden onChange={(e) => { const file = e.target.files?.[0]; if (file) void importYaml(file); }} /></label>
      </div>
      {designs.length === 0 && <p className="hint">Nothing saved yet: open a template, then Save in the designer.</p>}
      <table className="list">
        <thead><tr><th>name</th><th>updated (local time)</th><th>versions</th><th>runs</th><th /></tr></thead>
        <tbody>
          {designs.map((d) => (
            <tr key={d.id}>
              <td><button type="button" className="link" onClick={() => void api.design(d.id).then(setExpanded, fail)}>{d.name}</button></td>
              <td>{localTime(d.updated_at)}</td><td className="num">{d.versions}</td><td className="num">{d.runs}</td>
              <td className="actions">
                <button type="button" className="small" onClick={() => void open(d.id)}>open</button>
                <button type="button" className="small" onClick={() => void api.duplicateDesign(d.id).then(refresh, fail)}>duplicate</button>
                <button type="button" className="small" onClick={() => void exportYaml(d.id)}>export</button>
                <button type="button" className="small danger" onClick={() => { if (confirm(`Delete '${d.name}' and its versions?`)) api.deleteDesign(d.id).then(refresh, fail); }}>delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {expanded && (
        <section>
          <h3>{expanded.name}: versions</h3>
          <ul>{expanded.versions.map((v) => <li key={v.number}><button type="button" className="link" onClick={() => void open(expanded.id, v.number)}>version {v.number}</button> · {localTime(v.created_at)} · {v.runs} runs</li>)}</ul>
        </section>
      )}
      <h2>Runs</h2>
      <table className="list">
        <thead><tr><th>system</th><th>started (local time)</th><th>status</th><th>p99 (ms)</th><th>error rate</th><th>SLO</th><th /></tr></thead>
        <tbody>
          {runs.map((r) => {
            const reason = runReason(r);
            return (
              <tr key={r.id}>
                <td>{r.system}</td><td>{localTime(r.created_at)}</td><td className={`run-status ${r.status}`}>{r.status}</td>
                {reason
                  ? <td colSpan={3} title={reason}><span className="run-reason" data-testid="run-reason">{reason}</span></td>
                  : <>
                      <td className="num">{number(r.summary?.p99_ms)}</td><td className="num">{share(r.summary?.error_rate)}</td>
                      <td>{r.summary?.slo_met === null || r.summary?.slo_met === undefined ? "–" : r.summary.slo_met ? "met" : "missed"}</td>
                    </>}
                <td>{r.status === "done" && <button type="button" className="small" onClick={() => void openRun(r.id)}>open</button>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
