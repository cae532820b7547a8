// Every template as a card: its architecture, the patterns it demonstrates and the outcome
// its scenario shows. Filter by category and pattern; open one to design from it.
import { useEffect, useMemo, useState } from "react";
import { api, type TemplateCard } from "../api";
import { MiniDiagram } from "../components/MiniDiagram";

export function GalleryPage({ onOpen, onPattern }: { onOpen: (t: TemplateCard) => void; onPattern: (id: string) => void }) {
  const [templates, setTemplates] = useState<TemplateCard[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [category, setCategory] = useState("");
  const [pattern, setPattern] = useState("");
  useEffect(() => { api.templates().then(setTemplates, (e) => setError(String(e.message))); }, []);
  const categories = useMemo(() => [...new Set((templates ?? []).map((t) => t.category ?? "other"))].sort(), [templates]);
  const patterns = useMemo(() => [...new Set((templates ?? []).flatMap((t) => t.patterns))].sort(), [templates]);
  const shown = (templates ?? []).filter((t) => (!category || (t.category ?? "other") === category) && (!pattern || t.patterns.includes(pattern)));
  return (
    <div className="gallery">
      <div className="toolbar">
        <h2>Templates</h2>
        <select value={category} onChange={(e) => setCategory(e.target.value)} aria-label="category">
          <option value="">every category</option>
          {categories.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
        <select value={pattern} onChange={(e) => setPattern(e.target.value)} aria-label="pattern">
          <option value="">every pattern</option>
          {patterns.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <span className="hint">{shown.length} of {templates?.length ?? 0}</span>
        <span className="grow" />
        <button type="button" onClick={() => onPattern("")}>Pattern catalog…</button>
      </div>
      {error && <p className="bad">{error}</p>}
      {!templates && !error && <p className="hint">loading…</p>}
      <div className="cards-grid">
        {shown.map((t) => (
          <article key={t.id} className="template-card" data-template={t.id}>
            <MiniDiagram spec={t.spec} />
            <h3>{t.title}</h3>
            <p className="hint">{t.category ?? ""} · <code>{t.id}</code></p>
            <p>{t.summary}</p>
            <div className="chips">{t.patterns.map((p) => <button key={p} type="button" className="chip" onClick={() => onPattern(p)}>{p}</button>)}</div>
            {t.expected.length > 0 && <p className="expected" title={t.expected.map((e) => e.why).join("\n")}>Shows: {t.expected[0].text}</p>}
            <button type="button" className="primary" onClick={() => onOpen(t)}>Open in designer</button>
          </article>
        ))}
      </div>
    </div>
  );
}
