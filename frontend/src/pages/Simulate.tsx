// Run the open design in a worker, follow its progress, and replay what happened: the canvas
// coloured at the chosen time, charts with the warm-up and fault windows, the numbers that
// matter (percentiles, throughput, errors by cause, SLO) and sampled requests as waterfalls.
import { useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, type Result, type RunState } from "../api";
import { Canvas } from "../components/Canvas";
import { Chart, type Band } from "../components/Chart";
import { Waterfall } from "../components/Waterfall";
import { inPageWords } from "../model/budget";
import { cancelRefused } from "../model/cancel";
import { applyOverride, setOptions } from "../model/edits";
import { share } from "../model/format";
import { queueRows, type QueueRow } from "../model/queues";
import { seedError } from "../model/seed";
import { breakerOpenings, ranGraph, breakerTimeShares, keyColumns, notesAt, overlayAt, seriesOf, tables, timeline, type ColourBy, type Transition } from "../model/replay";
import { useDesign } from "../store";

/** The charts drawn when their table has rows; `whenNonZero` ones only when a value is not 0
 * (a run without fallbacks has no degraded answers to show). */
const KNOWN_CHARTS: { table: string; column: string; title: string; unit: string; whenNonZero?: boolean }[] = [
  { table: "workloads", column: "throughput_rps", title: "Throughput", unit: "req/s" },
  { table: "workloads", column: "errors_rps", title: "Errors", unit: "req/s" },
  { table: "workloads", column: "degraded_rps", title: "Degraded answers (fallbacks)", unit: "req/s", whenNonZero: true },
  { table: "workloads", column: "p99_ms", title: "Latency p99", unit: "ms" },
  { table: "workloads", column: "p50_ms", title: "Latency p50", unit: "ms" },
  { table: "components", column: "utilization", title: "Utilization", unit: "share" },
  { table: "components", column: "queue_mean", title: "Queue length", unit: "requests" },
  { table: "calls", column: "attempts_rps", title: "Call attempts", unit: "req/s" },
  { table: "calls", column: "retries_rps", title: "Retries", unit: "req/s", whenNonZero: true },
  { table: "calls", column: "refused_here_rps", title: "Refused in the caller (breaker, bulkhead)", unit: "req/s", whenNonZero: true },
  { table: "breakers", column: "open_share", title: "Breakers open (share of the interval)", unit: "share" },
  { table: "queues", column: "backlog", title: "Queue backlog", unit: "messages" },
  { table: "queues", column: "oldest_age_s", title: "Oldest message waiting", unit: "s" },
  { table: "replicas", column: "ready", title: "Replicas ready", unit: "replicas" },
];

export function SimulatePage() {
  const { text, graph, layout, designId, version, savedText, run, setRun, notify } = useDesign();
  const [seed, setSeed] = useState("");
  const seedProblem = seedError(seed);
  const [busy, setBusy] = useState(false);
  // A run the server refused (422: over the budget and not run anyway, or a result too large
  // to keep), with the text it was refused for: it stays until the next run or an edit.
  const [refusal, setRefusal] = useState<{ text: string; message: string } | null>(null);
  const source = useRef<EventSource | null>(null);

  useEffect(() => () => source.current?.close(), []);

  const start = async () => {
    source.current?.close();
    setRun(null);
    setRefusal(null);
    setBusy(true);
    try {
      const sameAsSaved = designId !== null && savedText === text;
      const begin = (force: boolean) => api.startRun(text, seed === "" ? null : seed.trim(), sameAsSaved ? designId : null, sameAsSaved ? version : null, force);
      let started;
      try {
        started = await begin(false);
      } catch (error) {
        // Over the run budget: the server's estimate, and the choice to run it anyway (the
        // studio's wall-clock limit still applies). A result too large to keep is refused
        // with force too, and the run's other errors are shown as they are.
        if (!(error instanceof ApiError && error.status === 422 && error.data.can_force === true &&
          window.confirm(`${inPageWords(error.message, "run it anyway")}\n\nRun it anyway?`))) throw error;
        started = await begin(true);
      }
      setRun({ id: started.id, status: started.status, progress: 0 } as RunState);
      const events = new EventSource(api.runEventsUrl(started.id));
      source.current = events;
      events.addEventListener("progress", (e) => {
        const data = JSON.parse(e.data);
        const current = useDesign.getState().run;
        if (current?.id === started.id) setRun({ ...current, status: data.status, progress: data.progress });
      });
      const end = async () => {
        events.close();
        setBusy(false);
        let final: RunState;
        try { final = await api.run(started.id); } catch (error) {
          notify("error", `the run ended but its result could not be fetched: ${error instanceof ApiError ? error.message : String(error)}`);
          return;
        }
        if (useDesign.getState().run?.id === started.id) setRun(final);
        if (final.status === "failed") notify("error", final.error ?? "the run failed");
      };
      events.addEventListener("end", () => void end());
      events.onerror = () => { /* the browser retries; the end event closes it */ };
    } catch (error) {
      setBusy(false);
      if (error instanceof ApiError && error.status === 422) setRefusal({ text, message: inPageWords(error.message) });
      else notify("error", error instanceof ApiError ? error.message : String(error));
    }
  };
  const cancel = async () => {
    if (!run) return;
    try { await api.cancelRun(run.id); } catch (error) {
      const refused = cancelRefused(error);
      notify(refused.kind, refused.text);
    }
  };

  const active = run && (run.status === "queued" || run.status === "running");
  const ran = useMemo(() => (run?.result ? ranGraph(run.spec, text, graph) : graph), [run, text, graph]);
  return (
    <div className="simulate">
      <div className="toolbar">
        <button type="button" className="primary" onClick={() => void start()} disabled={busy || seedProblem !== null} data-testid="run">▶ Run simulation</button>
        <label>seed <input className={`seed${seedProblem ? " invalid" : ""}`} value={seed} placeholder="from spec" aria-invalid={seedProblem !== null} onChange={(e) => setSeed(e.target.value)} data-testid="seed" /></label>
        {seedProblem && <span className="bad" data-testid="seed-problem">{seedProblem}</span>}
        {active && <button type="button" onClick={() => void cancel()} data-testid="cancel">Cancel</button>}
        {run && <span className={`run-status ${run.status}`} data-testid="run-status">{run.status}</span>}
        {active && <progress max={1} value={run.progress} />}
        {run?.error && <span className="bad">{run.error}</span>}
        {run?.result && run.spec !== text && (
          <span className="hint stale" data-testid="stale">the design has changed since this run: the replay draws the design as it ran, with its results; run again to see the change</span>
        )}
      </div>
      <div className="simulate-body">
        {refusal?.text === text && (
          <div className="refusal" role="alert" data-testid="refusal">
            <p>{refusal.message}</p>
            <button type="button" className="small" onClick={() => setRefusal(null)}>Dismiss</button>
          </div>
        )}
        {run?.result ? <Results result={run.result} graph={ran} layout={layout} /> :
          <div className="canvas-pane tall"><Canvas graph={graph} layout={layout} /></div>}
      </div>
    </div>
  );
}

function Results({ result, graph, layout }: { result: Result; graph: ReturnType<typeof useDesign.getState>["graph"]; layout: ReturnType<typeof useDesign.getState>["layout"] }) {
  const line = useMemo(() => timeline(result), [result]);
  const [t, setT] = useState(line.end);
  const [playing, setPlaying] = useState(false);
  const [colourBy, setColourBy] = useState<ColourBy>("utilization");
  useEffect(() => setT(line.end), [line]);
  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      setT((now) => {
        const next = now + line.step / 4;
        if (next >= line.end) { setPlaying(false); return line.end; }
        return next;
      });
    }, 60);
    return () => clearInterval(timer);
  }, [playing, line]);
  const overlay = useMemo(() => overlayAt(result, graph, t, colourBy), [result, graph, t, colourBy]);
  const notes = useMemo(() => notesAt(result, t), [result, t]);
  const bands: Band[] = useMemo(() => [
    ...(line.measuredFrom > 0 ? [{ from: 0, to: line.measuredFrom, label: "warm-up", colour: "rgba(120,120,120,0.12)" }] : []),
    ...((result.faults ?? []) as Result[]).map((f) => ({ from: f.start_s, to: f.end_s ?? line.end, label: `fault ${f.target}`, colour: "rgba(209,73,91,0.10)" })),
  ], [result, line]);
  const charts = useMemo(() => {
    const all = { ...tables(result) };
    const breakers = breakerTimeShares(result);
    if (breakers) all.breakers = breakers;
    const known = KNOWN_CHARTS.filter((c) => all[c.table]?.rows.length && (!c.whenNonZero ||
      all[c.table].rows.some((row) => Number(row[all[c.table].columns.indexOf(c.column)]) > 0)));
    const extra = Object.entries(all)
      .filter(([name, table]) => table.rows.length && !KNOWN_CHARTS.some((c) => c.table === name))
      .flatMap(([name, table]) => table.columns.filter((c) => c !== "t_s" && !keyColumns(name, table).includes(c)).map((column) => ({ table: name, column, title: `${name}: ${column}`, unit: column.split("_").pop() ?? "" })));
    return [...known, ...extra].map((c) => ({ ...c, ...seriesOf(all[c.table], c.column, keyColumns(c.table, all[c.table])) }));
  }, [result]);
  return (
    <div className="results">
      <div className="replay-row">
        <div className="canvas-pane replay-canvas">
          <Canvas graph={graph} layout={layout} overlay={overlay} readable />
        </div>
        <Summary result={result} />
      </div>
      <div className="replay" data-testid="replay">
        <button type="button" onClick={() => { if (t >= line.end) setT(0); setPlaying(!playing); }}>{playing ? "❚❚ Pause" : "▶ Play"}</button>
        <input type="range" min={0} max={line.end} step={line.step / 4} value={t} aria-label="replay time"
          onChange={(e) => { setPlaying(false); setT(Number(e.target.value)); }} data-testid="replay-slider" />
        <span className="replay-time" data-testid="replay-time">t = {t.toFixed(1)} s{t < line.measuredFrom ? " (warm-up)" : ""}</span>
        {notes.map((note) => <span key={note} className="replay-note" data-testid="replay-note">{note}</span>)}
        <select value={colourBy} onChange={(e) => setColourBy(e.target.value as ColourBy)} aria-label="colour nodes by">
          <option value="utilization">colour by utilization</option>
          <option value="errors">colour by refusals</option>
        </select>
      </div>
      <div className="charts">
        {charts.map((c) => (
          <Chart key={`${c.table}-${c.column}`} title={c.title} unit={c.unit} xMax={line.end} x={c.x} lines={c.lines} bands={bands}
            cursor={t} onPick={(v) => { setPlaying(false); setT(Math.max(0, Math.min(line.end, v))); }} />
        ))}
      </div>
      <Traces result={result} />
    </div>
  );
}

const fmt = (v: unknown, digits = 1) => (typeof v === "number" ? v.toLocaleString(undefined, { maximumFractionDigits: digits }) : "–");

/** `applicable`: the run is the open design's, so a fix's Apply may write into it (not on
 * the Compare page, whose runs may be of any design). */
export function Summary({ result, applicable = true }: { result: Result; applicable?: boolean }) {
  const latency = result.latency_ms ?? {};
  const causes = Object.entries(result.requests?.failed_by_cause ?? {}).filter(([, n]) => Number(n) > 0);
  return (
    <div className="summary" data-testid="summary">
      <div className="cards">
        {(["p50", "p95", "p99", "p999"] as const).map((p) => (
          <div key={p} className="card" data-testid={`latency-${p}`}><div className="label">{p}</div><div className="value">{fmt(latency[p], 2)} <small>ms</small></div></div>
        ))}
        <div className="card"><div className="label">throughput</div><div className="value">{fmt(result.throughput_rps)} <small>req/s</small></div></div>
        <div className="card"><div className="label">goodput</div><div className="value">{fmt(result.goodput_rps)} <small>req/s</small></div></div>
        <div className="card"><div className="label">error rate</div><div className="value">{fmt((result.error_rate ?? 0) * 100, 2)} <small>%</small></div></div>
        <div className="card"><div className="label">degraded</div><div className="value">{fmt(result.requests?.degraded, 0)}</div></div>
      </div>
      {result.slo && (
        <div className={`slo ${result.slo.met ? "good" : "bad"}`} data-testid="slo">
          SLO {result.slo.met ? "met" : "missed"}:{" "}
          {(result.slo.checks as Result[]).map((c) => (
            <span key={`${c.scope}-${c.name}`} className={c.met ? "good" : "bad"}>
              {c.scope && c.scope !== "all" ? `${c.scope}: ` : ""}{c.name}{" "}
              {c.actual_ms !== undefined ? `${fmt(c.actual_ms, 2)} / ${fmt(c.target_ms, 2)} ms` : `${share(c.actual)} / ${share(c.target)}`} {c.met ? "✓" : "✗"}{" "}
            </span>
          ))}
        </div>
      )}
      {Object.keys(result.workloads ?? {}).length > 1 && <Workloads result={result} />}
      {queueRows(result).length > 0 && <Queues result={result} />}
      {result.template_checks && <TemplateChecks found={result.template_checks as Result} />}
      <Diagnosis findings={(result.diagnosis ?? []) as Result[]} applicable={applicable} />
      <h4>Errors by cause</h4>
      {causes.length === 0 ? <p className="hint">no failed requests</p> : (
        <table className="causes"><tbody>
          {causes.map(([cause, n]) => (
            <tr key={cause}><td>{cause}</td><td className="num">{fmt(n, 0)}</td>
              <td><div className="bar" style={{ width: `${Math.max(2, (Number(n) / Math.max(1, result.requests.failed)) * 120)}px` }} /></td></tr>
          ))}
        </tbody></table>
      )}
      <h4>Circuit breakers</h4>
      {((result.calls ?? []) as Result[]).filter((c) => c.circuit_breaker).map((c) => {
        return <p key={`${c.from}-${c.to}`} data-testid="breaker-summary">{c.from} → {c.to}: {breakerOpenings(c.circuit_breaker.transitions as Transition[])}, {fmt(c.circuit_breaker.not_permitted, 0)} calls refused</p>;
      })}
      {!((result.calls ?? []) as Result[]).some((c) => c.circuit_breaker) && <p className="hint">none in this design</p>}
      {result.elections && <>
        <h4>Leader elections</h4>
        {Object.entries(result.elections as Record<string, Result>).map(([name, e]) => (
          <p key={name} data-testid="election-summary">
            {name} ({e.type}): {fmt(e.failovers, 0)} failover{e.failovers === 1 ? "" : "s"}
            {e.failovers > 0 && `, at most ${fmt(e.failover_ms.max / 1e3, 2)} s`} · without a leader {fmt(e.leaderless_s, 2)} s
            {e.split_brain_s > 0 && <span className="bad"> · two leaders {fmt(e.split_brain_s, 2)} s</span>}
          </p>
        ))}
      </>}
    </div>
  );
}

/** Each workload's own numbers, as the CLI's latency table gives them: the cards above mix
 * every workload, which hides a slow one behind a fast one. */
function Workloads({ result }: { result: Result }) {
  const rows = Object.entries(result.workloads as Record<string, Result>);
  return (
    <table className="causes workloads" data-testid="workloads">
      <thead><tr><th>workload</th><th>p50 ms</th><th>p99 ms</th><th>req/s</th><th>errors</th></tr></thead>
      <tbody>
        {rows.map(([name, w]) => (
          <tr key={name}><td>{name}</td><td className="num">{fmt(w.latency_ms?.p50, 2)}</td>
            <td className="num">{fmt(w.latency_ms?.p99, 2)}</td><td className="num">{fmt(w.throughput_rps, 1)}</td>
            <td className="num">{share(w.requests?.total ? w.requests.failed / w.requests.total : 0)}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

/** Each queue subscription's wait (publication to its first successful processing), backlog
 * and losses, as the CLI's Queues table gives them: a fix to a queue shows here. One column
 * per subscription, so that the table fits the summary's narrow pane. */
function Queues({ result }: { result: Result }) {
  const rows = queueRows(result);
  const WAIT = "from publication to the first successful processing";
  const lines: { label: string; title?: string; cell: (q: QueueRow) => string; bad?: (q: QueueRow) => boolean }[] = [
    { label: "lag p50 ms", title: WAIT, cell: (q) => fmt(q.lagP50Ms, 1) },
    { label: "lag p99 ms", title: WAIT, cell: (q) => fmt(q.lagP99Ms, 1) },
    { label: "delivered/s", cell: (q) => fmt(q.deliveredRps, 1) },
    { label: "backlog at the end", cell: (q) => fmt(q.backlogEnd, 0) },
    { label: "failed", cell: (q) => fmt(q.failed, 0) },
    { label: "dead-lettered", cell: (q) => fmt(q.deadLettered, 0), bad: (q) => Boolean(q.deadLettered) },
  ];
  return (
    <div className="queues-table">
      <h4>Queues</h4>
      <table className="causes queues" data-testid="queues">
        <thead><tr><th />{rows.map((q) => <th key={q.subscription} className="num">{q.subscription}</th>)}</tr></thead>
        <tbody>
          {lines.map((l) => (
            <tr key={l.label}><td title={l.title}>{l.label}</td>
              {rows.map((q) => <td key={q.subscription} className={`num${l.bad?.(q) ? " bad" : ""}`}>{l.cell(q)}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A spec `scalesim new` wrote: its template's expectations for this run, as
 * `scalesim simulate` prints them, so a scenario that does what it should reads so. */
function TemplateChecks({ found }: { found: Result }) {
  const checks = found.checks as Result[];
  const met = checks.filter((c) => c.met).length;
  // Edited away from the template's design, a miss may be the change at work: not red.
  const missed = found.edited ? "changed" : "bad";
  return (
    <section className="template-checks" data-testid="template-checks">
      <h4>Expected by template {found.template}: <span className={met === checks.length ? "good" : missed}>{met}/{checks.length} met</span></h4>
      {found.edited && <p className="hint" data-testid="template-edited">These describe the template's own design; this one differs from it, so a miss may be your change at work.</p>}
      <ul>{checks.map((c) => (
        <li key={c.text} className={c.met ? "good" : missed}>
          {c.met ? "✓" : "✗"} {c.text}: {c.actual === null ? "missing" : fmt(c.actual, 3)} — {c.why}
        </li>
      ))}</ul>
    </section>
  );
}

/** The run's diagnosis (docs/results.md): what is wrong, the evidence, and the smallest change
 * that fixes it, which "Apply" writes into the design for the next run (when `applicable`). */
function Diagnosis({ findings, applicable }: { findings: Result[]; applicable: boolean }) {
  const { change, notify } = useDesign();
  const [applied, setApplied] = useState<string[]>([]);  // fixes written into the design
  const apply = (sets: string[]) => {
    if (change((text) => sets.reduce(applyOverride, text))) notify("info", `applied ${sets.join(", ")}: run the simulation again to see the effect`);
    else notify("info", `${sets.join(", ")} is in the design already: run the simulation again to see the effect`);
    setApplied((done) => [...done, sets.join(" ")]);
  };
  return (
    <section className="diagnosis" data-testid="diagnosis">
      <h4>Diagnosis</h4>
      {findings.length === 0 && <p className="hint">nothing stands out</p>}
      {findings.map((f, i) => (
        <div key={i} className={`finding ${f.severity}`} data-testid="finding">
          <p className="finding-summary">{f.severity === "problem" ? "✗" : "!"} {f.summary}</p>
          {(f.evidence as string[]).length > 0 && <ul>{(f.evidence as string[]).map((e) => <li key={e}>{e}</li>)}</ul>}
          {f.fix && (
            <p className="finding-fix">fix: {f.fix.summary}
              {(f.fix.set as string[]).length > 0 && <>
                {" "}<code>{setOptions(f.fix.set as string[])}</code>{" "}
                {applicable && <button type="button" onClick={() => apply(f.fix.set as string[])} data-testid="apply-fix"
                  disabled={applied.includes((f.fix.set as string[]).join(" "))}>
                  {applied.includes((f.fix.set as string[]).join(" ")) ? "Applied"
                    : (f.fix.set as string[]).every((set) => set.startsWith("faults=")) ? "Remove the fault" : "Apply"}</button>}
              </>}
            </p>
          )}
        </div>
      ))}
    </section>
  );
}

function Traces({ result }: { result: Result }) {
  const traces = (result.traces ?? []) as Result[];
  const [chosen, setChosen] = useState(0);
  if (!traces.length) return null;
  const trace = traces[Math.min(chosen, traces.length - 1)];
  return (
    <section className="traces">
      <h3>Sampled requests</h3>
      <select value={chosen} onChange={(e) => setChosen(Number(e.target.value))} aria-label="trace">
        {traces.map((tr, i) => <option key={tr.trace_id} value={i}>{tr.workload} · {tr.kind} · {fmt(tr.duration_ms, 2)} ms · {tr.status}</option>)}
      </select>
      <Waterfall trace={trace} />
    </section>
  );
}
