// Two finished runs side by side (variants simulated with the same seed share their random
// streams, so a difference comes from the change): deltas coloured better or worse.
import { useEffect, useState } from "react";
import { api, type Comparison, type RunBrief, type RunState } from "../api";
import { defaultPair, designWarning, runLabel, seedHint } from "../model/compare";
import { metric, percentChange } from "../model/format";
import { obj, str } from "../model/spec";
import { useDesign } from "../store";
import { Summary } from "./Simulate";


export function ComparePage() {
  const designId = useDesign((s) => s.designId);
  const system = useDesign((s) => str(obj(s.parsed.data).name) ?? null);
  const [runs, setRuns] = useState<RunBrief[]>([]);
  const [a, setA] = useState("");
  const [b, setB] = useState("");
  const [compared, setCompared] = useState<Comparison | null>(null);
  const [both, setBoth] = useState<[RunState, RunState] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.runs().then((all) => {
      const done = all.filter((r) => r.status === "done");
      setRuns(done);
      const pair = defaultPair(done, { designId, system });
      if (pair) { setA(pair[0]); setB(pair[1]); }
    }, (e) => setError(e.message));
    // The pair is chosen once, for the design open when the page opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    if (!a || !b) return;
    setError(null);
    api.compare(a, b).then(setCompared, (e) => setError(e.message));
    Promise.all([api.run(a), api.run(b)]).then(([x, y]) => setBoth([x, y]), () => setBoth(null));
  }, [a, b]);
  const deltas = compared?.deltas;
  const seeds = compared ? seedHint(compared.seeds.a, compared.seeds.b) : null;
  const designs = compared ? designWarning(compared.a, compared.b) : null;
  return (
    <div className="compare">
      <div className="toolbar">
        <h2>Compare</h2>
        <label>A <select value={a} onChange={(e) => setA(e.target.value)} aria-label="run A">{runs.map((r) => <option key={r.id} value={r.id}>{runLabel(r)}</option>)}</select></label>
        <label>B <select value={b} onChange={(e) => setB(e.target.value)} aria-label="run B">{runs.map((r) => <option key={r.id} value={r.id}>{runLabel(r)}</option>)}</select></label>
      </div>
      {runs.length < 2 && <p className="hint">Run at least two simulations (two designs, or one design before and after a change, with the same seed) to compare them.</p>}
      {error && <p className="bad">{error}</p>}
      {designs && <p className="hint stale design-hint" data-testid="design-hint">{designs}</p>}
      {seeds && <p className="hint seed-hint" data-testid="seed-hint">{seeds}</p>}
      {both && (
        <div className="side-by-side">
          <div><h3>A: {both[0].system}</h3>{both[0].result && <Summary result={both[0].result} applicable={false} />}</div>
          <div><h3>B: {both[1].system}</h3>{both[1].result && <Summary result={both[1].result} applicable={false} />}</div>
        </div>
      )}
      {deltas && (
        <table className="deltas" data-testid="deltas">
          <thead><tr><th>scope</th><th>metric</th><th>A</th><th>B</th><th>change</th><th /></tr></thead>
          <tbody>
            {deltas.map((d) => (
              <tr key={`${d.scope}-${d.metric}`} className={d.verdict}>
                <td>{d.scope}</td><td>{d.metric}</td><td className="num">{metric(d.metric, d.a)}</td><td className="num">{metric(d.metric, d.b)}</td>
                <td className="num">{d.relative !== null ? percentChange(d.relative) : metric(d.metric, d.change)}</td><td>{d.verdict}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
