// Every template as a card: its architecture, the patterns it demonstrates and the outcome
// its scenario shows. Filter by category and pattern; open one to design from it.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, type TemplateCard, type TemplateParam } from "../api";
import { MiniDiagram } from "../components/MiniDiagram";
import { paramInput, paramValues, problemsToShow, type ParamInput } from "../model/params";

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
      {templates && templates.length > 0 && shown.length === 0 && (
        <div className="empty" data-testid="no-match">
          <p>No template matches these filters
            ({[category && `category ${category}`, pattern && `pattern ${pattern}`].filter(Boolean).join(" and ")}).</p>
          <button type="button" className="primary" onClick={() => { setCategory(""); setPattern(""); }}>Clear the filters</button>
        </div>
      )}
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
            <Parameters card={t} onOpen={onOpen} />
          </article>
        ))}
      </div>
    </div>
  );
}

/** A template's parameters (`scalesim new --set NAME=VALUE`): shown on demand with their
 * defaults; "Open with these values" builds the spec from them on the server, which checks
 * each value and says which is wrong. */
function Parameters({ card, onOpen }: { card: TemplateCard; onOpen: (t: TemplateCard) => void }) {
  const [params, setParams] = useState<TemplateParam[] | null>(null);
  const [inputs, setInputs] = useState<Record<string, ParamInput>>({});
  const [error, setRefusal] = useState<string | null>(null);
  const [edited, setEdited] = useState<ReadonlySet<string>>(new Set());
  const setError = (message: string) => { setRefusal(message); setEdited(new Set()); };
  const show = () => api.template(card.id).then((d) => setParams(d.parameters),
    (e) => setError(String(e.message)));
  const open = async () => {
    // The fields that are numbers go to the server even when another is not, so that every
    // wrong value is named at once; the design opens only when none is wrong.
    const { values, problems } = paramValues(params ?? [], inputs);
    try {
      const built = await api.buildTemplate(card.id, values);
      if (problems.length) setError(problems.join("; "));
      else onOpen({ ...card, spec: built.spec });
    } catch (e) { setError([e instanceof ApiError ? e.message : String(e), ...problems].join("; ")); }
  };
  if (!params) return <button type="button" onClick={() => void show()} data-testid="parameters">Parameters…</button>;
  const { byParam, other } = problemsToShow(error ?? "", params.map((p) => p.name), edited);
  return (
    <div className="parameters" data-testid="parameter-form">
      {params.map((p) => {
        const value = paramInput(p, inputs);
        const set = (v: ParamInput) => { setInputs({ ...inputs, [p.name]: v }); setEdited(new Set([...edited, p.name])); };
        const id = `param-${card.id}-${p.name}`;
        const bad = byParam[p.name];
        return (
          <div key={p.name} className={`param${bad ? " invalid" : ""}`} data-param-field={p.name}>
            <label htmlFor={id}>{p.name}{p.unit ? ` (${p.unit})` : ""}</label>
            {typeof value === "boolean"
              ? <input id={id} type="checkbox" checked={Boolean(value)} onChange={(e) => set(e.target.checked)} />
              : p.choices.length > 0
                ? <select id={id} value={String(value)} onChange={(e) => set(e.target.value)}>
                    {p.choices.map((c) => <option key={c} value={c}>{c}</option>)}</select>
                : <input id={id} value={value} data-param={p.name} aria-invalid={bad ? true : undefined}
                    inputMode={p.type === "int" || p.type === "float" ? "decimal" : undefined}
                    onChange={(e) => set(e.target.value)} />}
            <p className="hint">{[p.help, p.allowed].filter(Boolean).join(" · ")}</p>
            {bad && <p className="field-error" role="alert">{bad}</p>}
          </div>
        );
      })}
      {other.map((o) => <p key={o} className="bad">{o}</p>)}
      <button type="button" onClick={() => void open()} data-testid="open-with-values">Open with these values</button>
    </div>
  );
}
