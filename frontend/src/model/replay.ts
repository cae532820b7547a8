// Playing a run back on the canvas from its time series. Each kind of series is a channel:
// the table it reads (result.timeseries.NAME), the columns that name a row, the canvas element
// a row belongs to, and how the row decorates it. Tables added to results later get a generic
// channel until one is written for them here; charts are built from whatever tables a result
// has. What has no element of its own (the cluster's nodes) goes into the replay's notes.
import type { Result } from "../api";
import type { EdgeOverlay, NodeOverlay, Overlay } from "../components/Canvas";
import { buildGraph, type EdgeKind, type Graph, type QueueModel } from "./graph";
import { parse } from "./yamlDoc";

/** The design a run's replay draws: the spec the run ran, whose numbers its result holds
 * (an edge's concurrency, a node deleted since), not the open design edited after it; the
 * open design's own graph (`current`, drawn from `text`) while the two are the same text. */
export function ranGraph(runSpec: string, text: string, current: Graph): Graph {
  return runSpec === text ? current : buildGraph(parse(runSpec).data);
}

/** Causes an attempt fails with inside the caller, before it is sent (docs/results.md). */
const LOCAL_CAUSES = ["circuit_open", "bulkhead_full", "overflow"];

export type ColourBy = "utilization" | "errors";
type Row = Record<string, number | string | null>;

export interface Table { columns: string[]; rows: (number | string | null)[][] }

export interface Timeline {
  end: number; // the last t_s
  step: number; // the series interval
  measuredFrom: number; // the end of the warm-up
  times: number[];
}

export function tables(result: Result | undefined): Record<string, Table> {
  return (result?.timeseries ?? {}) as Record<string, Table>;
}

export function timeline(result: Result): Timeline {
  const times = new Set<number>();
  for (const table of Object.values(tables(result))) {
    for (const row of table.rows) if (typeof row[0] === "number") times.add(row[0]);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const step = sorted.length > 1 ? sorted[1] - sorted[0] : sorted[0] ?? 1;
  const measuredFrom = sorted.length ? Math.max(0, sorted[0] - step) : 0;
  return { end: sorted[sorted.length - 1] ?? result.simulated_s ?? 0, step, measuredFrom, times: sorted };
}

/** The columns that name a row of a table: a replica set is a component and a version; the
 * cluster's `nodes` table has one row per interval and no name. Others: the second column. */
const KEYS: Record<string, string[]> = { replicas: ["component", "version"], nodes: [] };

export function keyColumns(name: string, table: Table): string[] {
  return KEYS[name] ?? [table.columns[1]];
}

/** The rows at `t` by their name (the key columns' values joined with a space). A table of
 * interval means gives the interval that contains `t` (rows are stamped with their interval's
 * end), the one ending at `t` when `t` is on a boundary, as the charts' cursor marks the
 * point stamped `t` (the next one was taken before, so the canvas at 11 s showed 11–12 s
 * beside the charts' 10–11 s); a `sampled` table (counts taken at each interval's end) gives
 * the last sample at or before `t`, so a replay never shows a replica before it was there. */
export function rowsAt(table: Table, t: number, step: number, keys: string[] = [table.columns[1]],
  sampled = false): Map<string, Row> {
  const out = new Map<string, Row>();
  let last = -Infinity;
  if (sampled) for (const raw of table.rows) if (Number(raw[0]) <= t + 1e-9) last = Math.max(last, Number(raw[0]));
  for (const raw of table.rows) {
    const end = Number(raw[0]);
    if (sampled ? end === last : end - step < t + 1e-9 && t <= end + 1e-9) {
      const row: Row = {};
      table.columns.forEach((c, i) => { row[c] = raw[i]; });
      const name = keys.map((k) => String(row[k])).join(" ");
      const kept = out.get(name);
      if (kept === undefined || Number(kept[table.columns[0]]) > end) out.set(name, row);  // the earlier one
    }
  }
  return out;
}

export function heat(value: number, good: number, bad: number): string {
  const share = Math.min(1, Math.max(0, (value - good) / (bad - good)));
  const stops = [[0xd9, 0xf2, 0xd9], [0xff, 0xe0, 0x8a], [0xf4, 0x9a, 0x8f]];
  const [low, high] = share < 0.5 ? [stops[0], stops[1]] : [stops[1], stops[2]];
  const local = share < 0.5 ? share * 2 : share * 2 - 1;
  return `rgb(${low.map((a, i) => Math.round(a + (high[i] - a) * local)).join(",")})`;
}

const pct = (v: number): string => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** What a row is drawn with besides itself: the time, the whole result (rollouts), the
 * table's other rows at that time, what nodes are coloured by, and the canvas's graph. */
export interface At { t: number; result: Result; rows: Map<string, Row>; colourBy: ColourBy; graph: Graph }

export interface Channel {
  table: string;
  target: "node" | "edge";
  /** Counts sampled at each interval's end rather than interval means (see rowsAt). */
  sampled?: boolean;
  /** The kinds of edge an edge channel decorates (any when left out). */
  edgeKinds?: EdgeKind[];
  /** The node id, or the call key ('caller.op->callee.op'), a row belongs to. */
  element?: (row: Row, graph: Graph) => string;
  apply: (row: Row, overlay: NodeOverlay | EdgeOverlay, at: At) => void;
}

interface RolloutResult { component: string; to: string; strategy: string; started_s: number | null;
  outcome: string; ended_s: number | null; reason: string | null; steps: { t_s: number; weight: number }[] }

const rollouts = (result: Result): RolloutResult[] => (result.rollouts ?? []) as RolloutResult[];

/** A component's rollout that has started by `t` (a component has at most one). */
function rolloutAt(result: Result, component: string, t: number): RolloutResult | undefined {
  return rollouts(result).find((r) => r.component === component && r.steps.length > 0 && r.steps[0].t_s <= t + 1e-9);
}

/** The new version's share of traffic at `t`, percent: the rollout's last weight at or before
 * `t` (results.md: the set weight, a replica share without traffic routing). */
export function rolloutWeight(rollout: RolloutResult, t: number): number {
  let weight = 0;
  for (const step of rollout.steps) if (step.t_s <= t + 1e-9) weight = step.weight;
  return weight;
}

/** A version's share of its component's traffic at `t`, percent. A rollout moves traffic from
 * the component's own version (`base`) to `to`; any other version takes none. */
export function trafficShare(result: Result, component: string, version: string, t: number): number {
  const rollout = rolloutAt(result, component, t);
  if (!rollout) return version === "base" ? 100 : 0;
  const weight = rolloutWeight(rollout, t);
  return version === rollout.to ? weight : version === "base" ? 100 - weight : 0;
}

const seconds = (v: number): string => (v < 1 ? `${(v * 1000).toFixed(0)} ms` : `${v.toFixed(1)} s`);
const perSecond = (v: number): string => `${v.toFixed(v < 10 ? 1 : 0)}/s`;

/** The diagnosis's rule for a queue that falls behind (src/scalesim/diagnosis/context.py,
 * held equal by tests/studio/test_shared_constants.py): its backlog holds at least BACKLOG_S
 * seconds of arrivals, and at least MIN_BACKLOG messages. */
const BACKLOG_S = 1;
const MIN_BACKLOG = 10;

/** Whether a subscription's `queues` row says it was backing up over its interval: more
 * messages were published than delivered, and the backlog at the interval's end holds at
 * least a second of its publications, and at least 10 messages (the diagnosis's rule for
 * falling behind, per interval). A burst the queue absorbs within a second is not. Never for
 * a Kafka topic whose group commits its offsets every `commit_interval`: its backlog counts
 * from the committed offset, so it holds messages processed and not yet committed as well as
 * those waiting, and the series does not say how many of each (the diagnosis bounds the
 * uncommitted ones over a whole run; within one interval that bound misses a fall behind or
 * makes one up). */
export function backingUp(row: Row, queue: QueueModel | undefined): boolean {
  const published = num(row.published_rps) ?? 0;
  const delivered = num(row.delivered_rps) ?? 0;
  const backlog = num(row.backlog);
  if (backlog === null || published <= delivered || (queue?.uncommittedS ?? 0) > 0) return false;
  return backlog >= Math.max(MIN_BACKLOG, published * BACKLOG_S);
}

export const CHANNELS: Channel[] = [
  {
    table: "components", target: "node",
    apply: (row, overlay, { colourBy }) => {
      const o = overlay as NodeOverlay;
      const util = num(row.utilization);
      const through = num(row.throughput_rps) ?? 0;
      const refused = num(row.refused_rps) ?? 0;
      if (colourBy === "utilization" && util !== null) o.fill = heat(util, 0.5, 0.95);
      if (colourBy === "errors") o.fill = heat(through + refused > 0 ? refused / (through + refused) : 0, 0.001, 0.1);
      o.lines.push(util !== null ? `util ${pct(util)} · ${through.toFixed(0)}/s` : `${(num(row.concurrency) ?? 0).toFixed(1)} busy · ${through.toFixed(0)}/s`);
      const queue = num(row.queue_mean) ?? 0;
      if (queue >= 0.05) o.lines.push(`queue ${queue.toFixed(queue < 10 ? 1 : 0)}`);
      if (refused > 0) o.alert = `${refused.toFixed(0)}/s refused`;
    },
  },
  {
    table: "breakers", target: "edge",
    apply: (row, overlay) => {
      const o = overlay as EdgeOverlay;
      const open = num(row.open_share) ?? 0;
      const half = num(row.half_open_share) ?? 0;
      if (open > 0) { o.badges.push(`breaker OPEN ${pct(open)}`); o.colour = "#c62828"; }
      else if (half > 0) o.badges.push(`breaker half-open ${pct(half)}`);
      else o.badges.push("breaker closed");
    },
  },
  {
    // One row per call edge, over the interval: the attempts per second that left the caller
    // (those an open breaker, a full bulkhead or the retry overflow refused there never reach
    // the callee), the retries the caller made (the series counts refused ones too, so they
    // are not "among" those that left), the attempts refused in the caller, and the failed
    // calls. Width is against the run's busiest edge.
    table: "calls", target: "edge",
    element: (row) => String(row.call),
    apply: (row, overlay, { result }) => {
      const o = overlay as EdgeOverlay;
      const rate = sent(row);
      const retries = num(row.retries_rps) ?? 0;
      const refused = num(row.refused_here_rps) ?? 0;
      // calls that failed after all their attempts: a fallback answered some (the design
      // working, as results.md counts them), the rest failed their caller
      const fellBack = num(row.fallbacks_rps) ?? 0;
      const failed = Math.max(0, (num(row.failed_rps) ?? 0) - fellBack);
      o.width = edgeWidth(rate, result);
      o.animated = rate > 0;
      o.badges.push(perSecond(rate));
      if (retries > 0) o.badges.push(`${perSecond(retries)} retried`);
      if (refused > 0) o.badges.push(`${perSecond(refused)} refused here`);
      if (fellBack > 0) o.badges.push(`${perSecond(fellBack)} fell back`);
      if (failed > 0) { o.badges.push(`${perSecond(failed)} failing`); o.colour ??= "#e65100"; }
    },
  },
  {
    // One row per component and version: its replica set's counts, and with two versions
    // the share of traffic each takes.
    table: "replicas", target: "node", sampled: true,
    element: (row) => String(row.component),
    apply: (row, overlay, { t, result, rows }) => {
      const component = String(row.component);
      const version = String(row.version);
      const versions = [...rows.values()].filter((r) => r.component === component).length;
      const counts = [`${num(row.ready) ?? 0}/${num(row.desired) ?? 0} ready`];
      for (const state of ["starting", "pending", "terminating"]) {
        if ((num(row[state]) ?? 0) > 0) counts.push(`${row[state]} ${state}`);
      }
      const share = versions > 1 ? ` · ${trafficShare(result, component, version, t)}% of traffic` : "";
      (overlay as NodeOverlay).lines.push(`${versions > 1 ? version : "replicas"} ${counts.join(" · ")}${share}`);
    },
  },
  {
    // One row per subscription ('queue->consumer.op'), drawn on the queue: its backlog and
    // oldest message as sampled at the interval's end.
    table: "queues", target: "node", sampled: true,
    element: (row) => String(row.subscription).split("->")[0],
    apply: (row, overlay, { rows }) => {
      const o = overlay as NodeOverlay;
      const [queue, consumer] = String(row.subscription).split("->");
      const shared = [...rows.keys()].filter((k) => k.split("->")[0] === queue).length > 1;
      const oldest = num(row.oldest_age_s);
      o.lines.push(`${shared ? `→ ${consumer}: ` : ""}backlog ${num(row.backlog) ?? 0}${oldest !== null ? ` · oldest ${seconds(oldest)}` : ""}`);
      const dead = num(row.dead_lettered_rps) ?? 0;
      if (dead > 0) o.alert = `${dead.toFixed(dead < 10 ? 1 : 0)}/s dead-lettered`;
    },
  },
  {
    // The same rows on each subscription's delivery edge (queue → consumer), over the
    // interval as a call edge's: the messages delivered per second (successful deliveries,
    // duplicates included), those delivered again, those moved to the dead-letter queue, and
    // whether the queue was backing up. Width is against the run's busiest edge.
    table: "queues", target: "edge", edgeKinds: ["consumer"],
    apply: (row, overlay, { result, graph }) => {
      const o = overlay as EdgeOverlay;
      const delivered = num(row.delivered_rps) ?? 0;
      const redelivered = num(row.redelivered_rps) ?? 0;
      const dead = num(row.dead_lettered_rps) ?? 0;
      o.width = edgeWidth(delivered, result);
      o.animated = delivered > 0;
      o.badges.push(`${perSecond(delivered)} delivered`);
      if (redelivered > 0) o.badges.push(`${perSecond(redelivered)} redelivered`);
      if (dead > 0) { o.badges.push(`${perSecond(dead)} dead-lettered`); o.colour ??= "#e65100"; }
      if (backingUp(row, graph.queues[String(row.subscription).split("->")[0]])) o.badges.push("backing up");
    },
  },
  {
    // The same rows on the queue's dead-letter route (queue → dead-letter queue): the
    // messages each subscription moved there per second, the failure path's traffic.
    table: "queues", target: "edge", edgeKinds: ["dead-letter"],
    element: (row, graph) => {
      const queue = String(row.subscription).split("->")[0];
      const route = graph.edges.find((e) => e.kind === "dead-letter" && e.source === queue);
      return route ? `${route.caller}->${route.callee}` : "";
    },
    apply: (row, overlay, { result, rows }) => {
      const o = overlay as EdgeOverlay;
      const dead = num(row.dead_lettered_rps) ?? 0;
      if (dead <= 0) return;
      const [queue, consumer] = String(row.subscription).split("->");
      const shared = [...rows.keys()].filter((k) => k.split("->")[0] === queue).length > 1;
      o.width = Math.max(o.width ?? 0, edgeWidth(dead, result));
      o.animated = true;
      o.badges.push(`${perSecond(dead)} dead-lettered${shared ? ` from ${consumer}` : ""}`);
    },
  },
];

/** Attempts per second a calls row says left the caller. */
const sent = (row: Row): number => Math.max(0, (num(row.attempts_rps) ?? 0) - (num(row.refused_here_rps) ?? 0));

const busiest = new WeakMap<Result, number>();

/** The rows of a table as records. */
function records(table: Table | undefined): Row[] {
  return (table?.rows ?? []).map((raw) => {
    const row: Row = {};
    table!.columns.forEach((c, i) => { row[c] = raw[i]; });
    return row;
  });
}

/** The highest rate any edge carries in any interval of the run (at least 1): the attempts
 * that left a caller, the messages a queue delivered or had published. */
function busiestEdge(result: Result): number {
  let top = busiest.get(result);
  if (top === undefined) {
    top = Math.max(1, ...records(tables(result).calls).map(sent),
      ...records(tables(result).queues).flatMap((row) => [num(row.delivered_rps) ?? 0, num(row.published_rps) ?? 0]));
    busiest.set(result, top);
  }
  return top;
}

/** An edge's width for a rate, against the run's busiest edge. */
const edgeWidth = (rate: number, result: Result): number => 1.2 + 4 * Math.log1p(rate) / Math.log1p(busiestEdge(result));

/** Any other table: its first two numbers on the element its key column names. */
function generic(table: string): Channel {
  return {
    table, target: "node",
    apply: (row, overlay) => {
      const shown = Object.entries(row).filter(([c, v]) => c !== "t_s" && typeof v === "number").slice(0, 2);
      if (shown.length) (overlay as NodeOverlay).lines.push(shown.map(([c, v]) => `${c} ${Number(v).toFixed(2)}`).join(" · "));
    },
  };
}

/** The rollout line of a component at `t`: its weight while it runs, then how it ended. */
function rolloutLine(rollout: RolloutResult, t: number): { line: string; alert?: string } {
  const name = `${rollout.strategy.replace("_", "-")} → ${rollout.to}`;
  if (rollout.ended_s !== null && t >= rollout.ended_s - 1e-9 && rollout.outcome !== "in_progress") {
    return rollout.outcome === "aborted"
      ? { line: `${name} aborted at ${rollout.ended_s} s`, alert: `rollout aborted${rollout.reason ? `: ${rollout.reason}` : ""}` }
      : { line: `${name} ${rollout.outcome} at ${rollout.ended_s} s` };
  }
  return { line: `${name}: weight ${rolloutWeight(rollout, t)}%` };
}

interface ElectionEvent { t_s: number; event: string; replica: number; term: number }
interface ElectionResult { type: string; events: ElectionEvent[] }

/** Events that end a replica's leadership, and those that end its acting as a second leader
 * (docs/results.md, `elections.NAME.events`). */
const LOSES = new Set(["crashed", "stopped", "released", "paused", "partitioned", "lease_lost", "stepped_down", "quorum_lost"]);
const STOPS_ACTING = new Set(["crashed", "stopped", "lease_lost", "stepped_down", "quorum_lost"]);

/** Who leads at `t` from the election's events (the first replication's): the leader and
 * its term, or null between losing one and electing the next, and the replaced leaders that
 * still act as one (from their `second_leader` event until they stop). */
export function leadershipAt(events: ElectionEvent[], t: number): { leader: number | null; term: number; second: number[] } {
  let leader: number | null = null;
  let term = 0;
  const second = new Set<number>();
  for (const e of events) {
    if (e.t_s > t + 1e-9) break;
    if (e.event === "elected") { leader = e.replica; term = e.term; }
    else if (e.event === "second_leader") second.add(e.replica);
    else if (LOSES.has(e.event) && e.replica === leader) leader = null;
    if (STOPS_ACTING.has(e.event)) second.delete(e.replica);
  }
  return { leader, term, second: [...second] };
}

/** The leader line of an elected component at `t`, alerting when there is none or two. */
function electionLine(election: ElectionResult, t: number): { line: string; alert?: string } {
  const { leader, term, second } = leadershipAt(election.events, t);
  const termText = election.type === "raft" ? ` (term ${term})` : "";
  const line = leader === null ? "no leader" : `leader: replica ${leader}${termText}`;
  if (second.length) {
    const others = second.map((r) => `replica ${r}`).join(", ");
    return { line, alert: `two leaders: ${others} still acts as leader` };
  }
  return leader === null ? { line, alert: "no leader: its leader-only operations are refused" } : { line };
}

/** What has no element on the canvas, at `t`: the cluster's nodes. */
export function notesAt(result: Result, t: number): string[] {
  const table = tables(result).nodes;
  if (!table) return [];
  const row = [...rowsAt(table, t, timeline(result).step, [], true).values()][0];
  if (!row) return [];
  const pending = num(row.pending) ?? 0;
  return [`cluster: ${row.nodes} nodes${pending > 0 ? ` · ${pending} pods pending` : ""}`];
}

export interface Transition { t_s: number; replica: number | null; from: string; to: string }

/** How many breakers a call has: one shared by all the caller's replicas (`scope: service`,
 * docs/resilience.md; its transitions name no replica, docs/results.md), else one per
 * calling replica (`scope: replica`, the default). The chart's shares and the edge's
 * "breaker OPEN n/owners" both count with it. A shared breaker that never changed state is
 * counted per replica, where nothing shows the count (it reads "breaker closed", and its
 * shares are 0). */
export function breakerOwners(result: Result, call: Result): number {
  const transitions = ((call.circuit_breaker as Result | undefined)?.transitions ?? []) as Transition[];
  if (transitions.some((tr) => tr.replica === null)) return 1;
  const replicas = result.components?.[String(call.from).split(".")[0]]?.replicas;
  return Number(replicas ?? Math.max(new Set(transitions.map((tr) => tr.replica)).size, 1));
}

/** How often a call's breakers opened (re-openings from half-open included), over every
 * calling replica's breaker: "never opened", "opened at 0.6 s", or "opened 8 times, from
 * 0.6 s to 30.2 s", as the CLI and the diagnosis count them. */
export function breakerOpenings(transitions: Transition[]): string {
  const opened = transitions.filter((tr) => tr.to === "open").map((tr) => tr.t_s);
  const at = (t: number): string => `${t.toFixed(t < 10 ? 1 : 0)} s`;
  if (opened.length === 0) return "never opened";
  if (opened.length === 1) return `opened at ${at(opened[0])}`;
  return `opened ${opened.length} times, from ${at(Math.min(...opened))} to ${at(Math.max(...opened))}`;
}

/** Seconds each state ("open", "half_open") lasted within (from, to] for one breaker whose
 * state changes are `changes` (time order; closed before the first). */
function timeIn(changes: { t: number; to: string }[], from: number, to: number): Record<string, number> {
  const spent: Record<string, number> = {};
  let state = "closed";
  let since = from;
  for (const change of changes) {
    if (change.t <= from) { state = change.to; continue; }
    if (change.t >= to) break;
    spent[state] = (spent[state] ?? 0) + change.t - since;
    state = change.to;
    since = change.t;
  }
  spent[state] = (spent[state] ?? 0) + to - since;
  return spent;
}

/** The `breakers` table with each interval's open and half-open shares averaged over the
 * interval from the exact transitions (the result's own shares are sampled at its end, so a
 * half-open spell inside an interval did not show); `not_permitted` as the result has it. */
export function breakerTimeShares(result: Result): Table | undefined {
  const table = tables(result).breakers;
  if (!table?.rows.length) return table;
  const { step, times } = timeline(result);
  const start = (end: number): number => {
    const i = times.indexOf(end);
    return i > 0 ? times[i - 1] : end - step;  // the last interval may be shorter
  };
  const at = (name: string): number => table.columns.indexOf(name);
  const byCall = new Map<string, { owners: number; changes: Map<string, { t: number; to: string }[]> }>();
  for (const call of (result.calls ?? []) as Result[]) {
    const breaker = call.circuit_breaker as Result | undefined;
    if (!breaker) continue;
    const changes = new Map<string, { t: number; to: string }[]>();
    for (const tr of breaker.transitions as Transition[]) {
      const owner = String(tr.replica);
      if (!changes.has(owner)) changes.set(owner, []);
      changes.get(owner)!.push({ t: tr.t_s, to: tr.to });
    }
    byCall.set(`${call.from}->${call.to}`, { owners: breakerOwners(result, call), changes });
  }
  const rows = table.rows.map((raw) => {
    const found = byCall.get(String(raw[at("call")]));
    if (!found) return raw;
    const end = Number(raw[at("t_s")]);
    const span = end - start(end);
    const open = [0, 0];
    for (const changes of found.changes.values()) {
      const spent = timeIn(changes, end - span, end);
      open[0] += spent.open ?? 0;
      open[1] += spent.half_open ?? 0;
    }
    const out = [...raw];
    out[at("open_share")] = open[0] / (span * found.owners);
    out[at("half_open_share")] = open[1] / (span * found.owners);
    return out;
  });
  return { columns: table.columns, rows };
}

/** Which edge a call key ('checkout.pay->payments.charge'), subscription
 * ('jobs->worker.process') or caller/callee pair is, among edges of `kinds` (any if none). */
function edgeFor(graph: Graph, key: string, kinds?: EdgeKind[]): string | undefined {
  const [caller, callee] = key.split("->");
  return graph.edges.find((e) => e.caller === caller && e.callee === callee && (!kinds || kinds.includes(e.kind)))?.id;
}

/** Breaker state from its exact transitions (warm-up included): the share of the caller's
 * breakers open at t. */
function breakerAt(result: Result, graph: Graph, t: number, edges: Record<string, EdgeOverlay>): Set<string> {
  const done = new Set<string>();
  for (const call of (result.calls ?? []) as Result[]) {
    const breaker = call.circuit_breaker as Result | undefined;
    if (!breaker) continue;
    const id = edgeFor(graph, `${call.from}->${call.to}`);
    if (!id) continue;
    const state = new Map<string, string>();
    for (const tr of breaker.transitions as Result[]) if (tr.t_s <= t) state.set(String(tr.replica), tr.to);
    const owners = breakerOwners(result, call);
    const open = [...state.values()].filter((s) => s === "open").length;
    const half = [...state.values()].filter((s) => s === "half_open").length;
    const o = (edges[id] ??= { badges: [] });
    if (open > 0) { o.badges.push(`breaker OPEN ${open}/${owners}`); o.colour = "#c62828"; }
    else if (half > 0) o.badges.push(`breaker half-open ${half}/${owners}`);
    else o.badges.push("breaker closed");
    done.add(id);
  }
  return done;
}

/** The edges with a traffic series of their own: a row in `calls` (or, for a result from
 * before calls had a series, an entry in `calls[]`). */
function edgesWithSeries(result: Result, graph: Graph): Set<string> {
  const table = tables(result).calls;
  const column = table?.columns.indexOf("call") ?? -1;
  const keys = new Set(table ? table.rows.map((raw) => String(raw[column]))
    : ((result.calls ?? []) as Result[]).map((call) => `${call.from}->${call.to}`));
  return new Set([...keys].map((key) => edgeFor(graph, key)).filter((id): id is string => id !== undefined));
}

/** A queue's publications in the interval at `t` on the edge that brings them, where that
 * edge has no series of its own (an outbox's relay, a workload that publishes to the queue;
 * a call has its `calls` row) and is the only way messages reach the queue: its only
 * producer on the canvas, and no dead-letter redrive or choreographed saga feeds it. Every
 * subscription of a queue receives every message, so their `published_rps` agree; when
 * they do not, or the queue has several producers, the result has no number for one edge
 * and nothing is drawn. */
function publishedAt(result: Result, graph: Graph, t: number, edges: Record<string, EdgeOverlay>): void {
  const table = tables(result).queues;
  if (!table) return;
  const rows = [...rowsAt(table, t, timeline(result).step, keyColumns("queues", table)).values()];
  const withSeries = edgesWithSeries(result, graph);
  for (const [queue, facts] of Object.entries(graph.queues)) {
    const rates = new Set(rows.filter((row) => String(row.subscription).split("->")[0] === queue)
      .map((row) => num(row.published_rps)));
    const producers = graph.edges.filter((e) => e.target === queue && (e.kind === "call" || e.kind === "entry"));
    const [rate] = rates;
    if (rates.size !== 1 || rate === null || producers.length !== 1 || facts.fedOtherwise || withSeries.has(producers[0].id)) continue;
    const o = (edges[producers[0].id] ??= { badges: [] });
    o.width = edgeWidth(rate, result);
    o.animated = rate > 0;
    o.badges.push(`${perSecond(rate)} published`);
  }
}

export function overlayAt(result: Result, graph: Graph, t: number, colourBy: ColourBy): Overlay {
  const line = timeline(result);
  const nodes: Record<string, NodeOverlay> = {};
  const edges: Record<string, EdgeOverlay> = {};
  const byTransitions = breakerAt(result, graph, t, edges);
  for (const [name, table] of Object.entries(tables(result))) {
    if (name === "workloads" || name === "nodes") continue;
    const channels = CHANNELS.filter((c) => c.table === name);
    for (const channel of channels.length ? channels : [generic(name)]) {
      const rows = rowsAt(table, t, line.step, keyColumns(name, table), channel.sampled);
      for (const [key, row] of rows) {
        const element = channel.element?.(row, graph) ?? key;
        const at: At = { t, result, rows, colourBy, graph };
        if (channel.target === "node") {
          if (graph.nodes.some((n) => n.id === element)) channel.apply(row, (nodes[element] ??= { lines: [] }), at);
        } else {
          const id = edgeFor(graph, element, channel.edgeKinds);
          // a breaker's state comes from its exact transitions where the result has them
          if (id && !(channel.table === "breakers" && byTransitions.has(id))) channel.apply(row, (edges[id] ??= { badges: [] }), at);
        }
      }
    }
  }
  publishedAt(result, graph, t, edges);
  for (const rollout of rollouts(result)) {
    if (!graph.nodes.some((n) => n.id === rollout.component) || !rolloutAt(result, rollout.component, t)) continue;
    const o = (nodes[rollout.component] ??= { lines: [] });
    const { line: text, alert } = rolloutLine(rollout, t);
    o.lines.push(text);
    if (alert) o.alert = alert;
  }
  const workloads = tables(result).workloads;
  if (workloads) {
    for (const [name, row] of rowsAt(workloads, t, line.step)) {
      const rps = num(row.throughput_rps) ?? 0;
      const p99 = num(row.p99_ms);
      nodes[`workload:${name}`] = { lines: [`${rps.toFixed(0)}/s · p99 ${p99 === null ? "–" : `${p99.toFixed(1)} ms`}`],
        alert: (num(row.errors_rps) ?? 0) > 0 ? `${Number(row.errors_rps).toFixed(0)}/s failing` : undefined };
    }
  }
  // A result written before calls had a series (a run in the history from an older
  // version): the attempts per second that left the caller, averaged over the whole run,
  // marked "avg". Attempts an open breaker, a full bulkhead or pool refused in the caller
  // never reach the callee, as in the CLI's diagram.
  const span = Number(result.simulated_s ?? 1) * Number(result.replications ?? 1);
  const rates = new Map<string, number>();
  const averaged = tables(result).calls === undefined ? ((result.calls ?? []) as Result[]) : [];
  for (const call of averaged) {
    const id = edgeFor(graph, `${call.from}->${call.to}`);
    const causes = (call.attempt_failures_by_cause ?? {}) as Record<string, number>;
    const local = LOCAL_CAUSES.reduce((sum, cause) => sum + Number(causes[cause] ?? 0), 0);
    if (id) rates.set(id, (rates.get(id) ?? 0) + (Number(call.attempts) - local) / span);
  }
  const top = Math.max(1, ...rates.values());
  for (const [id, rate] of rates) {
    const o = (edges[id] ??= { badges: [] });
    o.width = 1.2 + 4 * Math.log1p(rate) / Math.log1p(top);
    o.animated = rate > 0;
    o.badges.push(`${rate.toFixed(rate < 10 ? 1 : 0)}/s avg`);
  }
  for (const fault of (result.faults ?? []) as Result[]) {
    const active = fault.start_s <= t && (fault.end_s === null || t < fault.end_s);
    const node = String(fault.target).split("[")[0];
    if (active && graph.nodes.some((n) => n.id === node)) {
      const o = (nodes[node] ??= { lines: [] });
      o.alert = `fault: ${(fault.effects as string[]).join(", ")}`;
    }
  }
  for (const event of (result.events ?? []) as Result[]) {
    if (event.t_s <= t && t < event.t_s + line.step * 2 && graph.nodes.some((n) => n.id === event.component)) {
      const o = (nodes[event.component] ??= { lines: [] });
      o.alert = `replica ${event.replica}: ${event.event}`;
    }
  }
  // After the faults: what an election makes of one (two leaders, none) is added to its alert.
  for (const [component, election] of Object.entries((result.elections ?? {}) as Record<string, ElectionResult>)) {
    if (!graph.nodes.some((n) => n.id === component) || !election.events?.length) continue;
    const o = (nodes[component] ??= { lines: [] });
    const { line: text, alert } = electionLine(election, t);
    o.lines.push(text);
    if (alert) o.alert = o.alert ? `${o.alert} · ${alert}` : alert;
  }
  if (t < line.measuredFrom) {
    for (const node of graph.nodes) (nodes[node.id] ??= { lines: [] }).lines.unshift("warm-up (not measured)");
  }
  return { nodes, edges };
}

/** Chart series of one table column: one line per key (workload, component and version,
 * call, subscription). */
export function seriesOf(table: Table, column: string, keys: string[] = [table.columns[1]]): { x: number[]; lines: { label: string; values: (number | null)[] }[] } {
  const t = table.columns.indexOf("t_s");
  const k = keys.map((key) => table.columns.indexOf(key));
  const c = table.columns.indexOf(column);
  const x = [...new Set(table.rows.map((r) => Number(r[t])))].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const lines = new Map<string, (number | null)[]>();
  for (const row of table.rows) {
    const name = k.map((i) => String(row[i])).join(" ") || column;
    if (!lines.has(name)) lines.set(name, new Array(x.length).fill(null));
    lines.get(name)![index.get(Number(row[t]))!] = num(row[c]);
  }
  return { x, lines: [...lines].map(([label, values]) => ({ label, values })) };
}
