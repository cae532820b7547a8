// The YAML ⇄ canvas model: what the canvas shows comes from the spec, canvas edits change
// only what they mean to, and comments and untouched lines survive them.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { badges, buildGraph, locate, POLICY_DEFAULTS } from "../src/model/graph";
import { addComponent, applyOverride, connect, setOptions, deleteEdge, deletedEdgeNotice, deleteNode, droppedCall, renameComponent, setField } from "../src/model/edits";
import { allErrors } from "../src/model/marks";
import { edit, parse, parsePath, pathAtLine } from "../src/model/yamlDoc";

const FIXTURES = join(__dirname, "fixtures");
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");
const comments = (text: string): string[] =>
  text.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("#"));

describe("round trip", () => {
  for (const name of readdirSync(FIXTURES)) {
    it(`an edit that changes nothing leaves ${name} byte-identical`, () => {
      const text = fixture(name);
      expect(edit(text, () => undefined)).toBe(text);
    });

    it(`changing one field of ${name} changes one line and keeps every comment`, () => {
      const text = fixture(name);
      const data = parse(text).data as { components: Record<string, unknown> };
      const first = Object.keys(data.components)[0];
      const out = setField(text, ["components", first, "replicas"], 7);
      const parsed = parseYaml(out);
      expect(parsed.components[first].replicas).toBe(7);
      // The rest of the spec is the same data.
      parsed.components[first].replicas = (parseYaml(text).components[first].replicas);
      if (parsed.components[first].replicas === undefined) delete parsed.components[first].replicas;
      expect(parsed).toEqual(parseYaml(text));
      expect(comments(out)).toEqual(comments(text));
      const before = text.split("\n");
      const after = out.split("\n");
      // One line replaced, or (when the field was absent) one line inserted; all else equal.
      const at = after.findIndex((line, i) => line !== before[i]);
      expect(after[at].trim()).toBe("replicas: 7");
      const skip = after.length - before.length;  // 0: replaced, 1: inserted
      expect([0, 1]).toContain(skip);
      expect(after.slice(at + 1)).toEqual(before.slice(at + 1 - skip));
      expect(after.slice(0, at)).toEqual(before.slice(0, at));
    });
  }

  it("a multi-line flow map the edit does not touch keeps its line breaks", () => {
    const text = fixture("retry-backoff.yaml");
    const out = setField(text, ["components", "dependency", "replicas"], 5);
    expect(out).toContain("retry: {attempts: 3, backoff: exponential, base: 25ms,\n                    max: 250ms, jitter: full}");
    expect(out).toContain("# Transient: each attempt fails independently.");
    expect(out.replace("replicas: 5", "replicas: 3")).toBe(text);
  });
});

describe("graph", () => {
  it("has a node per component and workload and an edge per call", () => {
    const graph = buildGraph(parse(fixture("circuit-breaker.yaml")).data);
    expect(graph.nodes.map((n) => n.id).sort()).toEqual(["checkout", "payments", "workload:checkout"]);
    const call = graph.edges.find((e) => e.kind === "call")!;
    expect(call).toMatchObject({ source: "checkout", target: "payments", caller: "checkout.pay",
      callee: "payments.charge", isAsync: false });
    expect(call.badges).toEqual(["timeout 1s", "breaker", "fallback"]);
    expect(graph.edges.find((e) => e.kind === "entry")).toMatchObject({ source: "workload:checkout", target: "checkout" });
  });

  it("draws the replicas the spec says: none for a value that is not a number", () => {
    const text = fixture("circuit-breaker.yaml");
    const replicas = (spec: string) => buildGraph(parse(spec).data).nodes.find((n) => n.id === "checkout")!;
    expect(text).toMatch(/^ {4}replicas: 2$/m);
    expect(replicas(text)).toMatchObject({ replicas: 2, detail: "service · ×2 · 128 workers" });
    // QA: `2x` while typing drew ×1, the default, which the spec does not say.
    expect(replicas(text.replace(/^( {4}replicas:) 2$/m, "$1 2x"))).toMatchObject({ replicas: null, detail: "service · 128 workers" });
    expect(replicas(text.replace(/^ {4}replicas: 2\n/m, ""))).toMatchObject({ replicas: 1 });  // the spec's default
  });

  it("badges a policy left at its defaults as the engine runs it", () => {
    // The side panel's "retry → add" writes `retry: {}`: three attempts in all.
    expect(badges({ to: "b", retry: {} })).toEqual(["retry ×3"]);
    expect(badges({ to: "b", retry: { attempts: 5 } })).toEqual(["retry ×5"]);
    expect(badges({ to: "b", retry: { attempts: 1 } })).toEqual([]);  // one try: no retry
    expect(badges({ to: "b", bulkhead: {} })).toEqual(["bulkhead 25"]);
    expect(badges({ to: "b", bulkhead: { type: "threadpool" } })).toEqual(["bulkhead 10"]);
    expect(badges({ to: "b", hedge: {} })).toEqual(["hedge p95"]);
    // The same defaults as the spec's schema (docs/spec.schema.json, docs/resilience.md).
    const defs = JSON.parse(readFileSync(join(__dirname, "../../docs/spec.schema.json"), "utf8")).$defs;
    for (const [policy, fields] of [["Retry", POLICY_DEFAULTS.retry], ["Bulkhead", POLICY_DEFAULTS.bulkhead], ["Hedge", POLICY_DEFAULTS.hedge]] as const) {
      for (const [name, value] of Object.entries(fields)) expect(defs[policy].properties[name].default).toBe(value);
    }
  });

  it("shows parallel branches, queue subscriptions and cache backends", () => {
    const gateway = buildGraph(parse(fixture("gateway-aggregation.yaml")).data);
    expect(gateway.edges.filter((e) => e.parallel !== null).length).toBeGreaterThanOrEqual(4);
    const shop = buildGraph(parse(fixture("e-commerce.yaml")).data);
    expect(shop.edges.some((e) => e.kind === "consumer" && e.isAsync)).toBe(true);
    expect(shop.edges.some((e) => e.kind === "backend")).toBe(true);
  });

  it("draws an event store's projections and a queue's dead-letter route", () => {
    const text = [
      "components:",
      "  log: {kind: database, event_store: {projections: [{to: reader.apply, concurrency: 8}]}, operations: {append: {work: 1ms}}}",
      "  reader: {operations: {apply: {work: 1ms}}}",
      "  jobs: {kind: queue, delivery: {guarantee: at_least_once, max_deliveries: 5, dead_letter: jobs-dlq}, consumers: [worker.run]}",
      "  jobs-dlq: {kind: queue, consumers: [worker.run]}",
      "  worker: {operations: {run: {work: 1ms}}}",
      "workloads: [{name: w, to: log.append, rate: 1/s}]",
    ].join("\n");
    const graph = buildGraph(parse(text).data);
    const projection = graph.edges.find((e) => e.kind === "projection")!;
    expect(projection).toMatchObject({ id: "components.log.event_store.projections[0]", source: "log",
      target: "reader", callee: "reader.apply", isAsync: true, badges: ["concurrency 8"], label: "project → apply" });
    const dead = graph.edges.find((e) => e.kind === "dead-letter")!;
    expect(dead).toMatchObject({ source: "jobs", target: "jobs-dlq", isAsync: true,
      badges: ["after 5 deliveries"], path: ["components", "jobs", "delivery", "dead_letter"] });
    expect(locate(graph, parsePath("components.jobs.delivery.dead_letter"))).toEqual({ node: "jobs", edge: dead.id });
    // deleting the route leaves the queue's other delivery settings
    const after = parseYaml(deleteEdge(text, dead));
    expect(after.components.jobs.delivery).toEqual({ guarantee: "at_least_once", max_deliveries: 5 });
    expect(parseYaml(deleteEdge(text, projection)).components.log.event_store.projections).toEqual([]);
    // jobs-dlq has a consumer of its own: the notice says what went, no more
    expect(deletedEdgeNotice(dead, graph)).toBe("deleted the dead-letter route jobs → jobs-dlq: Undo (Ctrl+Z) brings it back");
    // without one, it says the queue left behind needs one now
    const bare = buildGraph(parse(text.replace("jobs-dlq: {kind: queue, consumers: [worker.run]}", "jobs-dlq: {kind: queue}")).data);
    expect(deletedEdgeNotice(bare.edges.find((e) => e.kind === "dead-letter")!, bare)).toBe(
      "deleted the dead-letter route jobs → jobs-dlq: 'jobs-dlq' is no longer a dead-letter queue, so it needs a " +
      "consumer (or delete it too); Undo (Ctrl+Z) brings it back");
    expect(deletedEdgeNotice(projection, graph)).toBe("deleted the edge log → reader.apply: Undo (Ctrl+Z) brings it back");
  });

  it("places an error at its node and edge, and a line at its path", () => {
    const text = fixture("circuit-breaker.yaml");
    const parsed = parse(text);
    const graph = buildGraph(parsed.data);
    const call = graph.edges.find((e) => e.kind === "call")!;
    expect(locate(graph, parsePath("components.checkout.operations.pay.calls[0].timeout")))
      .toEqual({ node: "checkout", edge: call.id });
    expect(locate(graph, parsePath("workloads[0].rate"))).toMatchObject({ node: "workload:checkout" });
    const line = text.split("\n").findIndex((l) => l.includes("replicas: 2")) + 1;
    expect(pathAtLine(parsed, line)).toEqual(["components", "checkout", "replicas"]);
  });

  it("survives text that is not a valid spec", () => {
    expect(buildGraph(parse("components: [1, 2]\nworkloads: 3").data)).toEqual({ nodes: [], edges: [], queues: {} });
    expect(parse("a: [").syntaxErrors[0].line).toBe(1);
  });
});

describe("canvas edits", () => {
  const text = fixture("circuit-breaker.yaml");
  const data = parse(text).data;

  it("add a component, connect it, and the YAML has the call with its comments intact", () => {
    const added = addComponent(text, data, "cache");
    expect(added.name).toBe("cache");
    const connected = connect(added.text, parse(added.text).data, "checkout", "cache");
    const spec = parseYaml(connected.text);
    expect(spec.components.cache.kind).toBe("cache");
    expect(spec.components.checkout.operations.pay.calls[1]).toEqual({ to: "cache", timeout: "1s" });
    expect(connected.path).toEqual(["components", "checkout", "operations", "pay", "calls", 1]);
    expect(comments(connected.text)).toEqual(comments(text));
    const graph = buildGraph(parse(connected.text).data);
    expect(graph.edges.some((e) => e.source === "checkout" && e.target === "cache")).toBe(true);
  });

  it("a queue comes with a consumer, since a queue without one is not a valid spec", () => {
    const added = addComponent(text, data, "queue");
    expect(added).toMatchObject({ name: "queue", consumer: "worker" });
    const spec = parseYaml(added.text);
    expect(spec.components.queue).toEqual({ kind: "queue", consumers: [{ to: "worker" }] });
    expect(spec.components.worker.operations).toBeDefined();
    expect(comments(added.text)).toEqual(comments(text));
    const graph = buildGraph(parse(added.text).data);
    expect(graph.edges.some((e) => e.kind === "consumer" && e.source === "queue" && e.target === "worker")).toBe(true);
    // A second one gets names of its own.
    const again = addComponent(added.text, parse(added.text).data, "queue");
    expect(again).toMatchObject({ name: "queue-2", consumer: "worker-2" });
  });

  it("a cache's first connection is its backend (where misses go)", () => {
    const added = addComponent(text, data, "cache");
    const out = connect(added.text, parse(added.text).data, "cache", "payments");
    expect(out.path).toEqual(["components", "cache", "backend"]);
    const spec = parseYaml(out.text);
    expect(spec.components.cache).toMatchObject({ backend: "payments", hit_ratio: 0.8 });
    expect(buildGraph(parse(out.text).data).edges.some((e) => e.kind === "backend" && e.target === "payments")).toBe(true);
  });

  it("deleting a component removes the calls, workloads and faults that point at it", () => {
    const out = deleteNode(text, data, "payments");
    const spec = parseYaml(out);
    expect(spec.components.payments).toBeUndefined();
    expect(spec.components.checkout.operations.pay.calls).toEqual([]);
    expect(spec.faults).toEqual([]);
    expect(out).toContain("# The breaker opens in the warm-up");  // comment of a kept part
  });

  it("deleting an edge removes its call; undoing is the old text", () => {
    const graph = buildGraph(data);
    const call = graph.edges.find((e) => e.kind === "call")!;
    const out = deleteEdge(text, call);
    expect(parseYaml(out).components.checkout.operations.pay.calls).toEqual([]);
    expect(deleteEdge(text, graph.edges.find((e) => e.kind === "entry")!)).toBe(text);
  });

  it("renaming a component rewrites every reference", () => {
    const out = renameComponent(text, data, "payments", "psp");
    const spec = parseYaml(out);
    expect(Object.keys(spec.components)).toEqual(["checkout", "psp"]);
    expect(spec.components.checkout.operations.pay.calls[0].to).toBe("psp.charge");
    expect(spec.faults[0].target).toBe("psp");
    expect(comments(out)).toEqual(comments(text));
  });

  it("renaming a component moves only the lines with its name: the blank line and comment above it stay", () => {
    const spaced = text.replace("\n  payments:\n", "\n  # the card gateway\n  payments:\n");
    for (const before of [text, spaced]) {
      const after = renameComponent(before, parse(before).data, "payments", "psp");
      const changed = (t: string) => t.split("\n").filter((line, i) => line !== after.split("\n")[i]);
      expect(after.split("\n").length).toBe(before.split("\n").length);
      expect(changed(before).map((line) => line.trim())).toEqual(["- to: payments.charge", "payments:", "- target: payments"]);
    }
  });

  it("clearing a field removes it, so its default applies", () => {
    const out = setField(text, ["components", "checkout", "workers"], "");
    expect(parseYaml(out).components.checkout.workers).toBeUndefined();
  });
});

describe("a diagnosis fix applied to the design", () => {
  const spec = `# the controller
components:
  ctl:
    replicas: 3  # three members
    leader_election: {type: lease, lease_duration: 3s, renew_deadline: 2500ms, retry_period: 1s}
    operations: {reconcile: {calls: [{to: db.q, timeout: 2s}]}}
  db: {operations: {q: {}}}
workloads: [{name: w, to: ctl.reconcile, rate: 10/s}]
faults:
  - {target: "ctl[0]", at: 20s, for: 10s, partition: {with: ctl}}
`;

  it("sets a nested field, keeping comments and the other lines", () => {
    const out = applyOverride(spec, "components.ctl.leader_election.renew_deadline=2000ms");
    const data = parseYaml(out);
    expect(data.components.ctl.leader_election).toEqual(
      { type: "lease", lease_duration: "3s", renew_deadline: "2000ms", retry_period: "1s" });
    expect(out).toContain("# the controller");
    expect(out).toContain("replicas: 3 # three members");
  });

  it("reads list indices as numbers and values as YAML", () => {
    const timeout = parseYaml(applyOverride(spec, "components.ctl.operations.reconcile.calls.0.timeout=500ms"));
    expect(timeout.components.ctl.operations.reconcile.calls).toEqual([{ to: "db.q", timeout: "500ms" }]);
    expect(parseYaml(applyOverride(spec, "faults=[]")).faults).toEqual([]);
    expect(parseYaml(applyOverride(spec, "components.ctl.replicas=5")).components.ctl.replicas).toBe(5);
  });

  it("refuses what is not PATH=VALUE", () => {
    expect(() => applyOverride(spec, "components.ctl.replicas")).toThrow("not PATH=VALUE");
  });

  it("prints overrides to paste into a shell, quoted only where they need it", () => {
    expect(setOptions(["components.ctl.replicas=5", "faults=[]",
      "components.ctl.operations.reconcile.calls.0.retry={attempts: 3, jitter: full}", "x.name=it's"]))
      .toBe("--set components.ctl.replicas=5 --set 'faults=[]' "
        + "--set 'components.ctl.operations.reconcile.calls.0.retry={attempts: 3, jitter: full}' "
        + `--set 'x.name=it'"'"'s'`);
  });
});


describe("a saga on the canvas", () => {
  it("draws each step's call and its compensation from the coordinator", () => {
    // saga-orchestration's orders floated apart from its participants: the steps are calls.
    const graph = buildGraph(parse(`scalesim: 1
name: saga
components:
  orders:
    operations:
      place:
        calls:
          - saga:
              steps:
                - {name: reserve, to: inventory.reserve, compensate: inventory.release}
                - {name: pay, to: payments.authorize}
  inventory: {operations: {reserve: {}, release: {}}}
  payments: {operations: {authorize: {}}}
workloads: [{name: w, to: orders.place, rate: 10/s}]
`).data);
    const calls = graph.edges.filter((e) => e.kind === "call")
      .map((e) => [e.source, e.callee, e.badges[0]]);
    expect(calls).toEqual([
      ["orders", "inventory.reserve", "saga step 1"],
      ["orders", "inventory.release", "compensates step 1"],
      ["orders", "payments.authorize", "saga step 2"],
    ]);
    expect(locate(graph, ["components", "orders", "operations", "place", "calls", 0, "saga",
      "steps", 1, "retry"]).edge).toBe("components.orders.operations.place.calls.0.saga.steps.1");
  });
});

describe("a connection dropped on a node's body", () => {
  it("calls that node from the node the drag started at its right handle", () => {
    expect(droppedCall("checkout", "source", "db")).toEqual({ source: "checkout", target: "db" });
  });
  it("calls the node the drag started at from the one it was dropped on, from a left handle", () => {
    expect(droppedCall("db", "target", "checkout")).toEqual({ source: "checkout", target: "db" });
  });
  it("makes no call dropped on nothing or on its own node", () => {
    expect(droppedCall("checkout", "source", null)).toBeNull();
    expect(droppedCall("checkout", "source", "checkout")).toBeNull();
  });
});

describe("a YAML syntax error", () => {
  it("is listed once per line and message, with its column", () => {
    const errors = allErrors(parse("a: 1\nkind: service: : [oops\nb: 2\n"), null);
    const nested = errors.filter((e) => e.message.startsWith("Nested mappings"));
    expect(nested).toHaveLength(1);
    expect(nested[0]).toMatchObject({ line: 2, column: 7 });
  });
});
