// Deployment files from the open design: pick targets, preview every file with the numbers
// that come from the spec highlighted, download them as a zip.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, type GenerateTarget } from "../api";
import { markNumbers, specNumbers } from "../model/numbers";
import { useDesign } from "../store";

function Highlighted({ text, numbers }: { text: string; numbers: Set<string> }) {
  return <pre className="file-content">{markNumbers(text, numbers).map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}</pre>;
}

type Files = { path: string; content: string }[];

/** What the page was left with, kept while the app is open: its settings, and the last
 * preview with the spec it was made from (shown again only while the spec is the same). */
const kept: { chosen: string[]; namespace: string; registry: string; preview: { spec: string; files: Files; open: number } | null } = {
  chosen: ["k8s"], namespace: "default", registry: "registry.local/scalesim", preview: null,
};

export function GeneratePage() {
  const { text, parsed, notify } = useDesign();
  const [targets, setTargets] = useState<GenerateTarget[]>([]);
  const [chosen, setChosen] = useState<string[]>(kept.chosen);
  const [namespace, setNamespace] = useState(kept.namespace);
  const [registry, setRegistry] = useState(kept.registry);
  const [files, setFiles] = useState<Files | null>(kept.preview?.spec === text ? kept.preview.files : null);
  const [open, setOpen] = useState(kept.preview?.spec === text ? kept.preview.open : 0);
  const [error, setError] = useState<string | null>(null);
  // Which targets would write nothing for this spec (a spec that does not load: every target
  // is listed without it, and the preview names the spec's problem).
  useEffect(() => {
    let current = true;
    const show = (found: GenerateTarget[]) => { if (current) setTargets(found); };
    api.targetsFor(text).then(show, () => api.targets().then(show, () => undefined));
    return () => { current = false; };
  }, [text]);
  const nothing = targets.filter((t) => t.empty && chosen.includes(t.id));
  useEffect(() => {
    Object.assign(kept, { chosen, namespace, registry, preview: files ? { spec: text, files, open } : kept.preview });
  }, [chosen, namespace, registry, files, open, text]);
  const numbers = useMemo(() => specNumbers(parsed.data), [parsed]);
  const body = { spec: text, targets: chosen, namespace, image_registry: registry, k8s_version: "1.33" };
  const preview = async () => {
    setError(null);
    try { const r = await api.preview(body); setFiles(r.files); setOpen(0); }
    catch (e) { setFiles(null); setError(e instanceof ApiError ? e.message : String(e)); }
  };
  const download = async () => {
    try {
      const { blob, filename } = await api.generateZip(body);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url; a.download = filename; document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) { notify("error", e instanceof ApiError ? e.message : String(e)); }
  };
  return (
    <div className="generate">
      <div className="toolbar">
        <h2>Generate</h2>
        {targets.filter((t) => t.id !== "all").map((t) => (
          <label key={t.id} className={t.available && !t.empty ? "" : "hint"} title={t.empty ?? undefined} data-empty={t.empty ? true : undefined}>
            <input type="checkbox" disabled={!t.available} checked={chosen.includes(t.id)}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, t.id] : chosen.filter((c) => c !== t.id))} /> {t.id}
          </label>
        ))}
        <label>namespace <input value={namespace} onChange={(e) => setNamespace(e.target.value)} /></label>
        <label>registry <input value={registry} onChange={(e) => setRegistry(e.target.value)} /></label>
        <button type="button" onClick={() => void preview()} disabled={!chosen.length} data-testid="preview">Preview</button>
        <button type="button" className="primary" onClick={() => void download()} disabled={!chosen.length} data-testid="download">Download zip</button>
      </div>
      {error && <p className="bad">{error}</p>}
      {nothing.length > 0 && (
        <div className="nothing-to-generate" data-testid="nothing-to-generate">
          {nothing.map((t) => <p key={t.id}>{t.empty}</p>)}
        </div>
      )}
      {!files && kept.preview && kept.preview.spec !== text && (
        <p className="hint" data-testid="preview-stale">The design has changed since the last preview: preview again.</p>
      )}
      {files && (
        <div className="files">
          <ul className="file-list">{files.map((f, i) => <li key={f.path}><button type="button" className={`link${i === open ? " active" : ""}`} onClick={() => setOpen(i)}>{f.path}</button></li>)}</ul>
          <div className="file-view">
            <p className="hint">{files.length} {files.length === 1 ? "file" : "files"} · <mark>highlighted</mark>: numbers that come from your spec</p>
            {files[open] && <Highlighted text={files[open].content} numbers={numbers} />}
          </div>
        </div>
      )}
    </div>
  );
}
