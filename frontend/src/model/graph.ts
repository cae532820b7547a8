// The canvas model: a node per component and per workload, an edge per call (and per cache
// backend, queue subscription, event-store projection, dead-letter route and workload entry). Each carries the spec path it comes from,
// so a selection opens the right form and an error at a path lands on the right element.
import { duration } from "./format";
import { type Path } from "./yamlDoc";
import { arr, isObj, kindOf, obj, operationsOf, resolve, str, type Json, type Kind } from "./spec";

export type NodeKind = Kind | "workload";

export interface NodeModel {
  id: string;
  name: string;
  kind: NodeKind;
  path: Path;
  replicas: number | null;
  workers: string | null;
  tech: string | null;
  operations: string[];
  detail: string;
}

export type EdgeKind = "call" | "entry" | "backend" | "consumer" | "projection" | "dead-letter";

export interface EdgeModel {
  id: string;
  kind: EdgeKind;
  source: string;
  target: string;
  path: Path;
  caller: string; // component.operation, or the workload's name
  callee: string; // component.operation
  isAsync: boolean;
  parallel: string | null;
  badges: string[];
  label: string;
}

/** What a replay needs to know of a queue that its edges do not say. */
export interface QueueModel {
  /** Seconds of processed messages a Kafka consumer group may hold uncommitted: a topic with
   * `partitions` and at-least- or effectively-once delivery commits its offsets every
   * `delivery.commit_interval` (5 s by default), and its backlog counts from the committed
   * offset (docs/results.md), so it is no count of messages waiting; 0 for any other queue. */
  uncommittedS: number;
  /** Messages reach it other than by the calls the canvas draws into it: it is another
   * queue's `dead_letter` (a dead-letter edge, not a producer) or a choreographed saga's `via`. */
  fedOtherwise: boolean;
}

export interface Graph {
  nodes: NodeModel[];
  edges: EdgeModel[];
  /** Every queue component by name. */
  queues: Record<string, QueueModel>;
}

export const workloadId = (name: string): string => `workload:${name}`;

const POLICIES = ["timeout", "retry", "circuit_breaker", "bulkhead"] as const;

/** A call with `defaults.calls` filled in where it sets nothing (async calls inherit none). */
function effective(data: unknown, call: Json): Record<string, Json> {
  const own = obj(call);
  const defaults = obj(obj(obj(data).defaults).calls);
  if (own.async === true) return own;
  const out: Record<string, Json> = { ...own };
  for (const name of POLICIES) {
    if (out[name] === undefined && defaults[name] !== undefined) out[name] = defaults[name];
  }
  return out;
}

function seconds(value: Json): string {
  return typeof value === "number" ? duration(value) : String(value);
}

const UNIT_SECONDS: Record<string, number> = { us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, min: 60, h: 3600 };

/** A spec duration ('500ms', '5s') in seconds; `fallback` when it is missing or not one. */
export function durationSeconds(value: unknown, fallback: number): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  const match = /^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(us|µs|ms|s|m|min|h)\s*$/.exec(String(value ?? ""));
  return match ? Number(match[1]) * UNIT_SECONDS[match[2]] : fallback;
}

/** The replay's facts about each queue (see QueueModel). */
function queueModels(data: unknown): Record<string, QueueModel> {
  const components = obj(obj(data).components);
  const out: Record<string, QueueModel> = {};
  const fed = new Set<string>();
  for (const raw of Object.values(components)) {
    const comp = obj(raw);
    const deadLetter = str(obj(comp.delivery).dead_letter);
    if (deadLetter) fed.add(deadLetter);
    for (const op of Object.values(obj(comp.operations))) {
      for (const step of arr(obj(op).calls)) {
        const via = str(obj(obj(step).saga).via);
        if (via) fed.add(via);
      }
    }
  }
  for (const [name, raw] of Object.entries(components)) {
    const comp = obj(raw);
    if (kindOf(comp) !== "queue") continue;
    const delivery = isObj(comp.delivery) ? comp.delivery : null;
    const commits = comp.partitions != null && delivery !== null && (delivery.guarantee ?? "at_most_once") !== "at_most_once";
    out[name] = { uncommittedS: commits ? durationSeconds(delivery.commit_interval, 5) : 0, fedOtherwise: fed.has(name) };
  }
  return out;
}

/** The defaults of the policy fields a badge shows, as the engine applies them when a field
 * is left out (docs/resilience.md; `retry: {}` retries: three attempts in all). */
export const POLICY_DEFAULTS = {
  retry: { attempts: 3 },
  bulkhead: { type: "semaphore", max_concurrent: 25, size: 10 },
  hedge: { after: "p95" },
} as const;

/** Short words for each policy a call carries, in the order they wrap the call. */
export function badges(call: Record<string, Json>): string[] {
  const out: string[] = [];
  if (call.timeout != null) out.push(`timeout ${seconds(call.timeout)}`);
  if (call.deadline != null) out.push(`deadline ${seconds(call.deadline)}`);
  if (call.retry != null) {
    const attempts = Number(obj(call.retry).attempts ?? POLICY_DEFAULTS.retry.attempts);
    if (attempts > 1) out.push(`retry ×${attempts}`);
  }
  if (call.circuit_breaker != null) out.push("breaker");
  if (call.bulkhead != null) {
    const b = obj(call.bulkhead);
    const d = POLICY_DEFAULTS.bulkhead;
    out.push(`bulkhead ${(b.type ?? d.type) === "threadpool" ? b.size ?? d.size : b.max_concurrent ?? d.max_concurrent}`);
  }
  if (call.hedge != null) out.push(`hedge ${seconds(obj(call.hedge).after ?? POLICY_DEFAULTS.hedge.after)}`);
  if (call.on_failure != null && call.on_failure !== "fail") {
    out.push(call.on_failure === "continue" ? "continue" : "fallback");
  }
  return out;
}

function rate(workload: Record<string, Json>): string {
  if (workload.users != null) return `${workload.users} users`;
  if (workload.profile != null) return "rate profile";
  return workload.rate != null ? String(workload.rate) : "";
}

/** The replicas the spec says: its number, the default 1 when it says none, and null (no
 * number drawn) for a value that is not a number, such as `2x` while it is being typed. */
function replicasOf(value: Json | undefined): number | null {
  if (value === undefined || value === null) return 1;
  return typeof value === "number" ? value : null;
}

export function buildGraph(data: unknown): Graph {
  const nodes: NodeModel[] = [];
  const edges: EdgeModel[] = [];
  const components = obj(obj(data).components);
  const names = new Set(Object.keys(components));
  arr(obj(data).workloads).forEach((raw, index) => {
    const wl = obj(raw);
    const name = str(wl.name) ?? `workload-${index + 1}`;
    nodes.push({ id: workloadId(name), name, kind: "workload", path: ["workloads", index],
      replicas: null, workers: null, tech: null, operations: [], detail: rate(wl) });
    const to = str(wl.to);
    if (to) {
      const [target, operation] = resolve(data, to);
      if (names.has(target)) {
        edges.push({ id: `workloads[${index}]`, kind: "entry", source: workloadId(name), target,
          path: ["workloads", index], caller: name, callee: `${target}.${operation}`,
          isAsync: false, parallel: null, badges: [], label: operation });
      }
    }
  });
  for (const [name, raw] of Object.entries(components)) {
    const comp = obj(raw);
    const kind = kindOf(comp);
    const workers = comp.workers == null ? null : String(comp.workers);
    const replicas = replicasOf(comp.replicas);
    nodes.push({ id: name, name, kind, path: ["components", name], replicas, workers,
      tech: str(comp.tech) ?? null, operations: operationsOf(comp),
      detail: [kind, replicas === null ? "" : `×${replicas}`, workers ? `${workers} workers` : ""].filter(Boolean).join(" · ") });
    for (const [opName, op] of Object.entries(obj(comp.operations))) {
      arr(obj(op).calls).forEach((step, index) => {
        const stepPath: Path = ["components", name, "operations", opName, "calls", index];
        const parallel = isObj(step) && isObj(step.parallel) ? step.parallel : null;
        const saga = isObj(step) && isObj(step.saga) ? step.saga : null;
        if (saga) {  // each step's call and its compensation, as the coordinator makes them
          arr(saga.steps).forEach((sagaStep, i) => {
            const stepAt: Path = [...stepPath, "saga", "steps", i];
            addCall(data, edges, names, name, opName, sagaStep, stepAt, null, `saga step ${i + 1}`);
            const undo = isObj(sagaStep) ? sagaStep.compensate : undefined;
            if (undo !== undefined && undo !== null) {
              addCall(data, edges, names, name, opName, typeof undo === "string" ? { to: undo } : undo,
                [...stepAt, "compensate"], null, `compensates step ${i + 1}`);
            }
          });
        } else if (parallel) {
          const wait = parallel.wait_for ?? "all";
          const calls = arr(parallel.calls);
          const label = typeof wait === "number" ? `parallel, wait ${wait} of ${calls.length}`
            : `parallel, wait ${wait}`;
          calls.forEach((call, branch) => addCall(data, edges, names, name, opName, call,
            [...stepPath, "parallel", "calls", branch], label));
        } else {
          addCall(data, edges, names, name, opName, step, stepPath, null);
        }
      });
    }
    const backend = str(comp.backend);
    if (kind === "cache" && backend) {
      const [target, operation] = resolve(data, backend);
      if (names.has(target)) {
        const miss = 1 - Number(typeof comp.hit_ratio === "number" ? comp.hit_ratio : 0);
        edges.push({ id: `components.${name}.backend`, kind: "backend", source: name, target,
          path: ["components", name, "backend"], caller: `${name}.${operationsOf(comp)[0] ?? ""}`,
          callee: `${target}.${operation}`, isAsync: false, parallel: null,
          badges: typeof comp.hit_ratio === "number" ? [`miss ${Math.round(miss * 100)}%`] : [],
          label: `miss → ${operation}` });
      }
    }
    arr(comp.consumers).forEach((consumer, index) =>
      addSubscriber(data, edges, names, name, consumer, ["components", name, "consumers", index], "consumer"));
    arr(obj(comp.event_store).projections).forEach((projection, index) =>
      addSubscriber(data, edges, names, name, projection,
        ["components", name, "event_store", "projections", index], "projection"));
    const delivery = obj(comp.delivery);
    const deadLetter = str(delivery.dead_letter);
    if (deadLetter && names.has(deadLetter)) {
      const after = delivery.max_deliveries;
      edges.push({ id: `components.${name}.delivery.dead_letter`, kind: "dead-letter", source: name,
        target: deadLetter, path: ["components", name, "delivery", "dead_letter"], caller: name,
        callee: deadLetter, isAsync: true, parallel: null,
        badges: after != null ? [`after ${after} deliveries`] : [], label: "dead letters" });
    }
  }
  return { nodes, edges, queues: queueModels(data) };
}

/** A queue's subscription or an event store's projection: what it delivers to, and how many
 * at once. */
function addSubscriber(data: unknown, edges: EdgeModel[], names: Set<string>, owner: string,
  subscriber: Json, path: Path, kind: "consumer" | "projection"): void {
  const to = typeof subscriber === "string" ? subscriber : str(obj(subscriber).to);
  if (!to) return;
  const [target, operation] = resolve(data, to);
  if (!names.has(target)) return;
  const concurrency = obj(subscriber).concurrency;
  edges.push({ id: path.map(String).join(".").replace(/\.(\d+)$/, "[$1]"), kind, source: owner, target, path,
    caller: owner, callee: `${target}.${operation}`, isAsync: true, parallel: null,
    badges: concurrency != null ? [`concurrency ${concurrency}`] : [],
    label: `${kind === "consumer" ? "deliver" : "project"} → ${operation}` });
}

function addCall(data: unknown, edges: EdgeModel[], names: Set<string>, component: string,
  operation: string, raw: Json, path: Path, parallel: string | null, role?: string): void {
  const call = effective(data, raw);
  const to = str(call.to);
  if (!to) return;
  const [target, targetOp] = resolve(data, to);
  if (!names.has(target)) return;
  const isAsync = call.async === true;
  edges.push({ id: path.map(String).join("."), kind: "call", source: component, target, path,
    caller: `${component}.${operation}`, callee: `${target}.${targetOp}`, isAsync, parallel,
    badges: role ? [role, ...badges(call)] : badges(call), label: `${operation} → ${targetOp}` });
}

/** The node and edge an error or finding at `path` belongs to. */
export function locate(graph: Graph, path: Path): { node?: string; edge?: string } {
  if (path[0] === "workloads" && typeof path[1] === "number") {
    const node = graph.nodes.find((n) => n.kind === "workload" && n.path[1] === path[1]);
    return node ? { node: node.id, edge: `workloads[${path[1]}]` } : {};
  }
  if (path[0] !== "components" || typeof path[1] !== "string") return {};
  const node = graph.nodes.some((n) => n.id === path[1]) ? String(path[1]) : undefined;
  let edge: EdgeModel | undefined;
  for (const candidate of graph.edges) {
    const p = candidate.path;
    if (p.length <= path.length && p.every((part, i) => part === path[i])) {
      if (!edge || p.length > edge.path.length) edge = candidate;
    }
  }
  return { node, edge: edge?.id };
}
