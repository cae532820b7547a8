// Two finished runs side by side (variants simulated with the same seed share their random
// streams, so a difference comes from the change): deltas coloured better or worse.
import { useEffect, useState } from "react";
import { api, type Delta, type RunBrief, type RunState } from "../api";
import { runLabel, seedHint } from "../model/compare";
import { metric, percentChange } from "../model/format";
import { Summary } from "./Simulate";


export function ComparePage() {
  const [runs, setRuns] = useState<RunBrief[]>([]);
  const [a, setA] = useState("");
  const [b, setB] = useState("");
  const [deltas, setDeltas] = useState<Delta[] | null>(null);
  const [both, setBoth] = useState<[RunState, RunState] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.runs().then((all) => {
      const done = all.filter((r) => r.status === "done");
      setRuns(done);
      if (done.length >= 2) { setA(done[1].id); setB(done[0].id); }
    }, (e) => setError(e.message));
  }, []);
  useEffect(() => {
    if (!a || !b) return;
    setError(null);
    api.compare(a, b).then((c) => setDeltas(c.deltas), (e) => setError(e.message));
    Promise.all([api.run(a), api.run(b)]).then(([x, y]) => setBoth([x, y]), () => setBoth(null));
  }, [a, b]);
  return (
    <div className="compare">
      <div className="toolbar">
        <h2>Compare</h2>
        <label>A <select value={a} onChange={(e) => setA(e.target.value)} aria-label="run A">{runs.map((r) => <option key={r.id} value={r.id}>{runLabel(r)}</option>)}</select></label>
        <label>B <select value={b} onChange={(e) => setB(e.target.value)} aria-label="run B">{runs.map((r) => <option key={r.id} value={r.id}>{runLabel(r)}</option>)}</select></label>
      </div>
      {runs.length < 2 && <p className="hint">Run at least two simulations (two designs, or one design before and after a change, with the same seed) to compare them.</p>}
      {error && <p className="bad">{error}</p>}
      {both && seedHint(both[0].result, both[1].result) && (
        <p className="hint seed-hint" data-testid="seed-hint">{seedHint(both[0].result, both[1].result)}</p>)}
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
