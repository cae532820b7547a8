// The pattern catalog in a drawer: search, one pattern's entry, its relations as a graph, the
// templates that demonstrate it, and decision help that asks one question at a time (in the
// entry's place while no pattern is picked; its answers stay while an entry is read).
import { useEffect, useState } from "react";
import { api, type Advice, type PatternBrief } from "../api";
import { entrySections, isAntiPattern, LIST_PAGE, listView, type CatalogEntry } from "../model/catalog";
import { MAX_QUERY } from "../model/limits";

type Entry = Record<string, unknown> & CatalogEntry & { id: string; name: string; summary: string; problem: string; solution: string;
  relations_both: { kind: string; id: string; name: string; reason: string | null }[]; templates: string[] };

/** The decision help's state: the decision chosen and the answers given so far. */
interface Decision { tree: string; answers: Record<string, string> }

export function PatternDrawer({ initial, onClose, onTemplate }: { initial: string; onClose: () => void; onTemplate: (id: string) => void }) {
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<PatternBrief[]>([]);
  const [shown, setShown] = useState(LIST_PAGE);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [current, setCurrent] = useState(initial);
  const [entry, setEntry] = useState<Entry | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [decision, setDecision] = useState<Decision>({ tree: "", answers: {} });
  useEffect(() => {
    const t = setTimeout(() => void api.patterns(query).then(
      (h) => { setHits(h); setShown(LIST_PAGE); setSearchError(null); },
      (e) => { setHits([]); setSearchError(e instanceof Error ? e.message : String(e)); }), 200);
    return () => clearTimeout(t);
  }, [query]);
  useEffect(() => {
    setError(null);
    if (current) api.pattern(current).then((e) => setEntry(e as Entry), (e) => setError(e.message));
    else setEntry(null);
  }, [current]);
  const list = listView(hits, shown, query);
  return (
    <div className="drawer" role="dialog" aria-label="pattern catalog">
      <div className="drawer-head">
        <h2>Pattern catalog</h2>
        {current !== "" && <button type="button" onClick={() => setCurrent("")} data-testid="decision-help">Decision help</button>}
        <button type="button" onClick={onClose}>Close</button>
      </div>
      <div className="drawer-body">
        <div className="drawer-list">
          <input placeholder="search: circuit braker, retries…" value={query} maxLength={MAX_QUERY} onChange={(e) => setQuery(e.target.value)} aria-label="search patterns" />
          {searchError && <p className="bad" data-testid="search-error">{searchError}</p>}
          {!searchError && query.trim() !== "" && hits.length === 0 && <p className="hint" data-testid="no-match">No pattern matches '{query.trim()}'.</p>}
          {!searchError && hits.length > 0 && <p className="hint" data-testid="list-count">{list.heading}</p>}
          <ul>{list.items.map((h, i) => <li key={h.id}>
            {h.related && !list.items[i - 1]?.related && <p className="hint related-head" data-testid="related-head">Related: they fix an anti-pattern that matches</p>}
            <button type="button" className={`link${h.id === current ? " active" : ""}`} onClick={() => setCurrent(h.id)}>{h.name}</button> <span className={h.category === "anti-pattern" ? "anti-tag" : "hint"}>{h.category}</span></li>)}</ul>
          {list.more > 0 && (
            <p>
              <button type="button" className="small" onClick={() => setShown(shown + LIST_PAGE)} data-testid="show-more">show {list.more} more</button>{" "}
              <button type="button" className="small" onClick={() => setShown(hits.length)}>show all {hits.length}</button>
            </p>
          )}
        </div>
        <div className="drawer-entry">
          {error && <p className="bad">{error}</p>}
          {entry ? (
            <>
              <h3>{entry.name}</h3>
              {isAntiPattern(entry) && <p className="anti-marker" data-testid="anti-pattern">Anti-pattern: a way systems fail, to recognise and fix, not a design to adopt</p>}
              <p>{entry.summary}</p>
              <h4>Problem</h4><p>{entry.problem}</p>
              <h4>{isAntiPattern(entry) ? "The way out" : "Solution"}</h4><p>{entry.solution}</p>
              {entrySections(entry).map((s) => <div key={s.title} data-section={s.title}><h4>{s.title}</h4><ul>{s.items.map((u) => <li key={u}>{u}</li>)}</ul></div>)}
              {(entry.anti_pattern?.fixed_by.length ?? 0) > 0 && (
                <><h4>Fixed by</h4>{entry.anti_pattern!.fixed_by.map((id) => <button key={id} type="button" className="chip" onClick={() => setCurrent(id)}>{entry.relations_both.find((r) => r.id === id)?.name ?? id}</button>)}</>
              )}
              {entry.templates.length > 0 && <><h4>Templates</h4>{entry.templates.map((t) => <button key={t} type="button" className="chip" onClick={() => onTemplate(t)}>{t}</button>)}</>}
              <h4>Relations</h4>
              <RelationGraph centre={entry.id} />
              <ul className="relations">{entry.relations_both.map((r) => <li key={`${r.kind}-${r.id}`}><span className="hint">{r.kind.replace(/_/g, " ")}</span> <button type="button" className="link" onClick={() => setCurrent(r.id)}>{r.name}</button>{r.reason && <span className="hint"> — {r.reason}</span>}</li>)}</ul>
            </>
          ) : !error && (
            <>
              <p className="hint">Pick a pattern or search on the left, or answer the questions of the decision help below.</p>
              <Advisor decision={decision} onDecide={setDecision} onPattern={setCurrent} />
            </>
          )}
        </div>
      </div>
    </div>
  );
}

function RelationGraph({ centre }: { centre: string }) {
  const [graph, setGraph] = useState<Awaited<ReturnType<typeof api.patternGraph>> | null>(null);
  useEffect(() => { api.patternGraph(centre).then(setGraph, () => setGraph(null)); }, [centre]);
  if (!graph) return null;
  const others = graph.nodes.filter((n) => n.id !== centre);
  const size = 470;
  const r = 170;
  const pos = new Map<string, { x: number; y: number }>([[centre, { x: size / 2, y: size / 2 }]]);
  const angle = new Map<string, number>();
  others.forEach((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, others.length) - Math.PI / 2;
    angle.set(n.id, a);
    pos.set(n.id, { x: size / 2 + r * Math.cos(a), y: size / 2 + r * Math.sin(a) });
  });
  return (
    <svg width={size + 160} height={size} viewBox={`-80 0 ${size + 160} ${size}`} className="relation-graph" role="img" aria-label="relations">
      {graph.edges.map((e) => {
        const a = pos.get(e.source)!; const b = pos.get(e.target)!;
        return a && b ? <line key={`${e.source}-${e.kind}-${e.target}`} x1={a.x} y1={a.y} x2={b.x} y2={b.y} stroke="#b8c2cf"><title>{e.kind}</title></line> : null;
      })}
      {graph.nodes.map((n) => {
        const p = pos.get(n.id)!;
        return (
          <g key={n.id} transform={`translate(${p.x},${p.y})`}>
            <circle r={n.id === centre ? 9 : 6} fill={n.id === centre ? "#1b5fc1" : "#7f8c9d"} />
            {(() => {
              // Labels point away from the centre, so neighbours on a ring do not overlap.
              const a = angle.get(n.id);
              const cos = a === undefined ? 0 : Math.cos(a);
              const anchor = a === undefined || Math.abs(cos) < 0.3 ? "middle" : cos > 0 ? "start" : "end";
              const dx = a === undefined ? 0 : 11 * cos;
              const dy = a === undefined ? -13 : 11 * Math.sin(a) + 4;
              return <text x={dx} y={dy} textAnchor={anchor} fontSize={10}>{n.name.length > 24 ? `${n.name.slice(0, 23)}…` : n.name}</text>;
            })()}
          </g>
        );
      })}
    </svg>
  );
}

function Advisor({ decision, onDecide, onPattern }: { decision: Decision; onDecide: (d: Decision) => void; onPattern: (id: string) => void }) {
  const { tree, answers } = decision;
  const [trees, setTrees] = useState<{ id: string; title: string }[]>([]);
  const [advice, setAdvice] = useState<Advice | null>(null);
  useEffect(() => { api.trees().then(setTrees, () => undefined); }, []);
  useEffect(() => { if (tree) api.advise(tree, answers).then(setAdvice, () => setAdvice(null)); else setAdvice(null); }, [tree, answers]);
  return (
    <div className="advisor">
      <h4>Decision help</h4>
      <select value={tree} onChange={(e) => onDecide({ tree: e.target.value, answers: {} })} aria-label="decision">
        <option value="">choose a decision…</option>
        {trees.map((t) => <option key={t.id} value={t.id}>{t.title}</option>)}
      </select>
      {advice?.steps.map((s) => <p key={s.key} className="hint">{s.question} <strong>{s.label}</strong></p>)}
      {advice?.next && (
        <div>
          <p>{advice.next.text}</p>
          {advice.next.choices.map((c) => <button key={c.value} type="button" className="chip" onClick={() => onDecide({ tree, answers: { ...answers, [advice.next!.key]: c.value } })}>{c.label}</button>)}
        </div>
      )}
      {advice && advice.recommendations.length > 0 && (
        <ul>{advice.recommendations.map((r) => <li key={r.id}><button type="button" className="link" onClick={() => onPattern(r.id)}>{r.id}</button>: {r.reason}</li>)}</ul>
      )}
    </div>
  );
}
