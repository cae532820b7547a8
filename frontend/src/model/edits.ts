// Canvas gestures as edits of the spec: add, delete and connect nodes, change a field. Each
// returns the new YAML text (via `edit`, so comments and untouched lines survive).
import { isMap, isScalar, isSeq, parse as parseYaml, type Document } from "yaml";
import { deleteIn, edit, setIn, type Path } from "./yamlDoc";
import { arr, isObj, kindOf, obj, resolve, str, type Kind } from "./spec";
import { workloadId, type EdgeModel, type Graph } from "./graph";

export function setField(text: string, path: Path, value: unknown): string {
  return edit(text, (doc) => {
    if (value === undefined || value === null || value === "") deleteIn(doc, path);
    else setIn(doc, path, value);
  });
}

/** Apply a `--set PATH=VALUE` override (a diagnosis fix) to the spec: PATH is dotted, with
 * list indices as numbers (`faults.0.at`); VALUE is YAML (`2000ms`, `true`, `[]`). */
export function applyOverride(text: string, override: string): string {
  const at = override.indexOf("=");
  if (at <= 0) throw new Error(`not PATH=VALUE: ${override}`);
  const path: Path = override.slice(0, at).split(".").map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  return edit(text, (doc) => setIn(doc, path, parseYaml(override.slice(at + 1))));
}

/** A fix's overrides as command-line options to paste: each `--set` quoted for a POSIX shell
 * where it needs it (a retry's `{attempts: 3, jitter: full}` holds spaces), as the CLI prints
 * them. */
export function setOptions(overrides: string[]): string {
  const quoted = (word: string) =>
    /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
  return overrides.map((item) => `--set ${quoted(item)}`).join(" ");
}

const STARTERS: Record<Kind, Record<string, unknown>> = {
  service: { kind: "service", replicas: 2, workers: 16, operations: { handle: { work: "5ms" } } },
  gateway: { kind: "gateway", replicas: 2, workers: 64, operations: { route: { work: "1ms" } } },
  database: { kind: "database", replicas: 1, workers: 32, operations: { query: { work: "3ms" } } },
  cache: { kind: "cache", replicas: 1, workers: 64, operations: { get: { work: "0.5ms" } } },
  queue: { kind: "queue" },
  external: { kind: "external", operations: { call: { work: "50ms" } } },
};

/** A name not used yet: `service`, then `service-2`, `service-3`... */
export function freeName(data: unknown, base: string): string {
  const taken = new Set(Object.keys(obj(obj(data).components)));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** Add a component of `kind`. A queue is valid only with a consumer, so it comes with one: a
 * new service (`worker`) subscribed to it, named in `consumer`. */
export function addComponent(text: string, data: unknown, kind: Kind
): { text: string; name: string; consumer?: string } {
  const name = freeName(data, kind);
  if (kind === "queue") {
    const taken = { components: { ...obj(obj(data).components), [name]: {} } };
    const consumer = freeName(taken, "worker");
    return { name, consumer, text: edit(text, (doc) => {
      setIn(doc, ["components", name], { ...STARTERS.queue, consumers: [{ to: consumer }] });
      setIn(doc, ["components", consumer], STARTERS.service);
    }) };
  }
  return { name, text: edit(text, (doc) => setIn(doc, ["components", name], STARTERS[kind])) };
}

/** Connect `source` to `target`: a workload's entry point, a queue's subscription, or a call
 * from the source's first operation (made if it has none). Returns the new edge's path. */
/** The call a connection makes that was dragged from a handle of node `from` and dropped
 * on the body of node `on` (not on its small handle): from `from` when the drag started at
 * its right (source) handle, into it from its left one; none when dropped on nothing or on
 * the node it started from. */
export function droppedCall(from: string, handle: "source" | "target", on: string | null
): { source: string; target: string } | null {
  if (!on || on === from) return null;
  return handle === "source" ? { source: from, target: on } : { source: on, target: from };
}

export function connect(text: string, data: unknown, source: string, target: string
): { text: string; path: Path } {
  const components = obj(obj(data).components);
  if (!(target in components)) throw new Error(`'${target}' is not a component`);
  if (source.startsWith("workload:")) {
    const index = arr(obj(data).workloads).findIndex((w) => workloadId(str(obj(w).name) ?? "") === source);
    if (index < 0) throw new Error(`no workload ${source}`);
    const path: Path = ["workloads", index];
    return { path, text: edit(text, (doc) => setIn(doc, [...path, "to"], target)) };
  }
  const comp = components[source];
  if (comp === undefined) throw new Error(`'${source}' is not a component`);
  if (kindOf(comp) === "queue") {
    const index = arr(obj(comp).consumers).length;
    const path: Path = ["components", source, "consumers", index];
    return { path, text: edit(text, (doc) => appendTo(doc, ["components", source, "consumers"], { to: target })) };
  }
  if (kindOf(comp) === "cache" && obj(comp).backend == null) {
    // A cache's first connection is where its misses go.
    const path: Path = ["components", source, "backend"];
    return { path, text: edit(text, (doc) => {
      setIn(doc, path, target);
      if (obj(comp).hit_ratio == null) setIn(doc, ["components", source, "hit_ratio"], 0.8);
    }) };
  }
  const operation = Object.keys(obj(obj(comp).operations))[0] ?? "handle";
  const callsPath: Path = ["components", source, "operations", operation, "calls"];
  const index = arr(obj(obj(obj(comp).operations)[operation]).calls).length;
  return {
    path: [...callsPath, index],
    text: edit(text, (doc) => appendTo(doc, callsPath, { to: target, timeout: "1s" })),
  };
}

function appendTo(doc: Document, path: Path, item: unknown): void {
  const seq = doc.getIn(path, true);
  if (isSeq(seq)) seq.add(doc.createNode(item));
  else setIn(doc, path, [item]);
}

/** Delete a component and everything that points at it (calls, subscriptions, a cache's
 * backend, workloads, faults), or a workload. */
export function deleteNode(text: string, data: unknown, id: string): string {
  if (id.startsWith("workload:")) {
    const index = arr(obj(data).workloads).findIndex((w) => workloadId(str(obj(w).name) ?? "") === id);
    return index < 0 ? text : edit(text, (doc) => deleteIn(doc, ["workloads", index]));
  }
  const doomed: Path[] = [["components", id]];
  const points = (ref: unknown): boolean => typeof ref === "string" && resolve(data, ref)[0] === id;
  for (const [name, raw] of Object.entries(obj(obj(data).components))) {
    if (name === id) continue;
    const comp = obj(raw);
    for (const [op, body] of Object.entries(obj(comp.operations))) {
      arr(obj(body).calls).forEach((step, index) => {
        const path: Path = ["components", name, "operations", op, "calls", index];
        if (isObj(step) && isObj(step.parallel)) {
          const branches = arr(step.parallel.calls);
          const hit = branches.map((c, i) => (points(obj(c).to) ? i : -1)).filter((i) => i >= 0);
          if (hit.length === branches.length) doomed.push(path);
          else hit.forEach((i) => doomed.push([...path, "parallel", "calls", i]));
        } else if (points(obj(step).to)) doomed.push(path);
      });
    }
    if (points(comp.backend)) doomed.push(["components", name, "backend"]);
    arr(comp.consumers).forEach((c, i) => {
      if (points(typeof c === "string" ? c : obj(c).to)) doomed.push(["components", name, "consumers", i]);
    });
  }
  arr(obj(data).workloads).forEach((w, i) => { if (points(obj(w).to)) doomed.push(["workloads", i]); });
  arr(obj(data).faults).forEach((f, i) => {
    if (String(obj(f).target ?? "").split("[")[0] === id) doomed.push(["faults", i]);
  });
  // Later list items first, so earlier indices stay valid while deleting.
  doomed.sort((a, b) => compareDesc(a, b));
  return edit(text, (doc) => doomed.forEach((path) => deleteIn(doc, path)));
}

function compareDesc(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (typeof a[i] === "number" && typeof b[i] === "number") return (b[i] as number) - (a[i] as number);
    return String(b[i]).localeCompare(String(a[i]));
  }
  return b.length - a.length;
}

/** What the notice says when an edge is deleted: what went, and, for a dead-letter route to
 * a queue nothing consumes, that it is now an ordinary queue, which needs a consumer. */
export function deletedEdgeNotice(edge: EdgeModel, graph: Graph): string {
  const orphan = edge.kind === "dead-letter" &&
    !graph.edges.some((e) => e.kind === "consumer" && e.source === edge.target);
  const what = edge.kind === "dead-letter" ? `the dead-letter route ${edge.source} → ${edge.target}`
    : `the edge ${edge.caller} → ${edge.callee}`;
  const undo = "Undo (Ctrl+Z) brings it back";
  return orphan ? `deleted ${what}: '${edge.target}' is no longer a dead-letter queue, so it needs a ` +
    `consumer (or delete it too); ${undo}` : `deleted ${what}: ${undo}`;
}

/** Delete the call (or subscription, or backend) an edge stands for. A workload's entry
 * cannot go: a workload needs a target (delete the workload instead). */
export function deleteEdge(text: string, edge: EdgeModel): string {
  if (edge.kind === "entry") return text;
  return edit(text, (doc) => {
    const path = edge.path;
    const inParallel = path.length >= 3 && path[path.length - 3] === "parallel";
    if (inParallel) {
      const branches = doc.getIn(path.slice(0, -1), true);
      if (isSeq(branches) && branches.items.length === 1) {
        deleteIn(doc, path.slice(0, -3));
        return;
      }
    }
    deleteIn(doc, path);
  });
}

/** Rename a component and every reference to it. */
export function renameComponent(text: string, data: unknown, from: string, to: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(to)) throw new Error("a name is letters, digits and '-'");
  if (to in obj(obj(data).components)) throw new Error(`'${to}' exists already`);
  const rewrite = (ref: unknown): string | null => {
    if (typeof ref !== "string") return null;
    const [component, operation] = ref.split(".", 2);
    return component === from ? (operation ? `${to}.${operation}` : to) : null;
  };
  return edit(text, (doc) => {
    const components = doc.getIn(["components"], true);
    if (isMap(components)) {
      const pair = components.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === from);
      if (pair) setKey(doc, pair, to);
    }
    const visit = (path: Path, value: unknown): void => {
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          const fixed = path[path.length - 1] === "consumers" ? rewrite(v) : null;
          if (fixed) setIn(doc, [...path, i], fixed);
          else visit([...path, i], v);
        });
      }
      else if (isObj(value)) {
        for (const [key, child] of Object.entries(value)) {
          const fixed = ["to", "backend"].includes(key) ? rewrite(child) : null;
          if (fixed) setIn(doc, [...path, key], fixed);
          else if (key === "target" && path[0] === "faults" && typeof child === "string"
            && child.split("[")[0] === from) setIn(doc, [...path, key], to + child.slice(from.length));
          else visit([...path, key], child);
        }
      }
    };
    const root = obj(data);
    for (const [name, comp] of Object.entries(obj(root.components))) {
      visit(["components", name === from ? to : name], comp);
    }
    visit(["workloads"], root.workloads);
    visit(["faults"], root.faults);
  });
}

/** Rename a map key in place: the key node keeps the blank line, comment and style around it,
 * so the reprint moves no line but the key's own. */
function setKey(doc: Document, pair: { key: unknown }, name: string): void {
  if (isScalar(pair.key)) pair.key.value = name;
  else pair.key = doc.createNode(name);
}
