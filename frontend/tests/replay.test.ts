// Replay of autoscaling, a canary, queues, breakers and a Raft leader cut off: what the canvas shows at a time t comes from
// real results (tests/results/*.json, checked against a fresh run by
// tests/studio/test_replay_results.py) and matches the numbers in their tables.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Result } from "../src/api";
import { buildGraph } from "../src/model/graph";
import { backingUp, ranGraph, breakerOpenings, breakerOwners, breakerTimeShares, keyColumns, leadershipAt, overlayAt, rowsAt, seriesOf, tables, type Transition } from "../src/model/replay";
import { parse } from "../src/model/yamlDoc";

const RESULTS = join(__dirname, "results");
const load = (name: string): { result: Result; graph: ReturnType<typeof buildGraph> } => ({
  result: JSON.parse(readFileSync(join(RESULTS, `${name}.json`), "utf8")) as Result,
  graph: buildGraph(parse(readFileSync(join(RESULTS, `${name}.yaml`), "utf8")).data),
});
const linesAt = (name: string, node: string, t: number): string[] => {
  const { result, graph } = load(name);
  return overlayAt(result, graph, t, "utilization").nodes[node]?.lines ?? [];
};

describe("replay of an autoscaled canary", () => {
  it("shows no replica count before the first sample", () => {
    expect(linesAt("canary", "api", 3).filter((l) => l.includes("ready"))).toEqual([]);
  });

  it("shows one replica set, and no rollout, before the rollout starts at 10 s", () => {
    const lines = linesAt("canary", "api", 7);
    expect(lines).toContain("replicas 4/4 ready");
    expect(lines.some((l) => l.includes("→ v2"))).toBe(false);
  });

  it("shows both versions with their own counts and traffic shares", () => {
    // Sampled at 10 s: the canary's first replica is starting; its weight is still 0.
    expect(linesAt("canary", "api", 12)).toEqual(expect.arrayContaining([
      "base 4/4 ready · 100% of traffic", "v2 0/1 ready · 1 starting · 0% of traffic", "canary → v2: weight 0%"]));
    // At 30 s the HPA doubled the Rollout (4 → 8): the stable set and the canary (ceil 25 % of
    // 8 = 2) both grow; the weight set at 15 s is 25 %.
    expect(linesAt("canary", "api", 32)).toEqual(expect.arrayContaining([
      "base 4/8 ready · 4 starting · 75% of traffic", "v2 1/2 ready · 1 starting · 25% of traffic",
      "canary → v2: weight 25%"]));
    // The second step (50 %) is reached at 50 s with 4 canary replicas.
    expect(linesAt("canary", "api", 55)).toEqual(expect.arrayContaining([
      "base 8/8 ready · 50% of traffic", "v2 4/4 ready · 50% of traffic", "canary → v2: weight 50%"]));
  });

  it("the weight changes exactly at the rollout's steps", () => {
    expect(linesAt("canary", "api", 14.9)).toContain("canary → v2: weight 0%");
    expect(linesAt("canary", "api", 15)).toContain("canary → v2: weight 25%");
    expect(linesAt("canary", "api", 49.9)).toContain("canary → v2: weight 25%");
    expect(linesAt("canary", "api", 50)).toContain("canary → v2: weight 50%");
  });

  it("charts one line per component and version", () => {
    const { result } = load("canary");
    const table = tables(result).replicas;
    const series = seriesOf(table, "ready", keyColumns("replicas", table));
    expect(series.lines.map((l) => l.label)).toEqual(["api base", "api v2"]);
    const at = (label: string, x: number): number | null =>
      series.lines.find((l) => l.label === label)!.values[series.x.indexOf(x)];
    expect([at("api base", 30), at("api v2", 30), at("api base", 35), at("api v2", 50)]).toEqual([4, 1, 8, 4]);
  });

  it("says how a rollout ended once it has", () => {
    const { result, graph } = load("canary");
    const aborted = { ...result, rollouts: [{ ...result.rollouts[0], outcome: "aborted", ended_s: 40,
      reason: "error_rate 9% > 2%", steps: [...result.rollouts[0].steps.slice(0, 2), { t_s: 40, weight: 0 }] }] };
    const node = overlayAt(aborted, graph, 45, "utilization").nodes.api;
    expect(node.lines).toContain("canary → v2 aborted at 40 s");
    expect(node.lines).toContain("base 8/8 ready · 100% of traffic");
    expect(node.alert).toBe("rollout aborted: error_rate 9% > 2%");
  });
});

describe("replay of a queue", () => {
  it("draws each subscription's backlog and oldest message on the queue", () => {
    expect(linesAt("queue", "jobs", 3).some((l) => l.startsWith("backlog"))).toBe(false);
    expect(linesAt("queue", "jobs", 7)).toContain("backlog 1 · oldest 7 ms");
    // The burst (300/s against 4 × 1/20 ms = 200/s) from 10 s to 20 s fills the queue…
    expect(linesAt("queue", "jobs", 17)).toContain("backlog 517 · oldest 1.6 s");
    expect(linesAt("queue", "jobs", 20)).toContain("backlog 996 · oldest 3.2 s");
    // …and the consumers drain it by 30 s.
    expect(linesAt("queue", "jobs", 26)).toContain("backlog 441 · oldest 4.5 s");
    expect(linesAt("queue", "jobs", 31)).toContain("backlog 3 · oldest 34 ms");
  });

  it("names the consumer when a queue has several subscriptions", () => {
    const { result, graph } = load("queue");
    const queues = tables(result).queues;
    const twin = { ...queues, rows: queues.rows.flatMap((r) => [r, [r[0], "jobs->audit.record", ...r.slice(2)]]) };
    const fanout = { ...result, timeseries: { ...result.timeseries, queues: twin } };
    const lines = overlayAt(fanout, graph, 20, "utilization").nodes.jobs.lines;
    expect(lines).toEqual(expect.arrayContaining(["→ worker.process: backlog 996 · oldest 3.2 s",
      "→ audit.record: backlog 996 · oldest 3.2 s"]));
  });
});

describe("traffic on a queue's edges", () => {
  // The `queues` row of a subscription for the interval that contains t, as the calls' rows.
  const queueRow = (name: string, t: number): Record<string, number> => {
    const { result } = load(name);
    const table = tables(result).queues;
    const step = Number(table.rows[1][0]) - Number(table.rows[0][0]);
    const raw = table.rows.find((r) => Number(r[0]) - step < t && t <= Number(r[0]))!;
    return Object.fromEntries(table.columns.map((c, i) => [c, raw[i] as number]));
  };
  const edgeOf = (name: string, t: number, kind: string, source: string) => {
    const { result, graph } = load(name);
    const id = graph.edges.find((e) => e.kind === kind && e.source === source)!.id;
    return overlayAt(result, graph, t, "utilization").edges[id];
  };
  const rate = (v: number): string => v.toFixed(v < 10 ? 1 : 0);

  it("draws the interval's deliveries on the queue → consumer edge", () => {
    // queue.yaml, 5 s intervals: 100/s, then 300/s from 10 s to 20 s against 200/s of workers.
    for (const t of [7, 17, 26, 37]) {
      const edge = edgeOf("queue", t, "consumer", "jobs");
      expect(edge.badges[0]).toBe(`${rate(queueRow("queue", t).delivered_rps)}/s delivered`);
      expect(edge.animated).toBe(true);
      expect(edge.width).toBeGreaterThan(1.2);
    }
    expect(edgeOf("queue", 17, "consumer", "jobs").badges[0]).toBe("208/s delivered");
  });

  it("says the queue is backing up while more is published than delivered and a second's worth waits", () => {
    // 10–20 s: 300/s published, 208/s delivered, 517 then 996 waiting (≥ 312 and 303).
    const badges = (t: number) => edgeOf("queue", t, "consumer", "jobs").badges;
    expect(badges(12)).toContain("backing up");
    expect(badges(18)).toContain("backing up");
    // Draining from 20 s (98/s published, 209/s delivered, 441 still waiting), and steady
    // before and after: not backing up.
    for (const t of [3, 8, 23, 28, 38]) expect(badges(t)).not.toContain("backing up");
    expect(queueRow("queue", 23).backlog).toBeGreaterThan(queueRow("queue", 23).published_rps);
  });

  it("draws redeliveries and dead-lettering where the series has them", () => {
    // queue-redelivery.yaml: 10 % of deliveries fail and come back after 1 s; 3 % of
    // messages fail 3 times and go to the dead-letter queue.
    const r = queueRow("queue-redelivery", 11.5);
    expect(r.redelivered_rps).toBeGreaterThan(0);
    expect(r.dead_lettered_rps).toBeGreaterThan(0);
    const edge = edgeOf("queue-redelivery", 11.5, "consumer", "orders");
    expect(edge.badges).toEqual([`${rate(r.delivered_rps)}/s delivered`, `${rate(r.redelivered_rps)}/s redelivered`,
      `${rate(r.dead_lettered_rps)}/s dead-lettered`]);
    expect(edge.colour).toBe("#e65100");
    // The first interval: nothing has failed long enough to come back yet.
    expect(queueRow("queue-redelivery", 0.5).redelivered_rps).toBe(0);
    expect(edgeOf("queue-redelivery", 0.5, "consumer", "orders").badges.some((b) => b.includes("redelivered"))).toBe(false);
  });

  it("draws what is dead-lettered on the queue's dead-letter route too", () => {
    const r = queueRow("queue-redelivery", 11.5);
    const route = edgeOf("queue-redelivery", 11.5, "dead-letter", "orders");
    expect(route.badges).toEqual([`${rate(r.dead_lettered_rps)}/s dead-lettered`]);
    expect(route.animated).toBe(true);
    // before anything has failed its last delivery, the route carries nothing
    expect(edgeOf("queue-redelivery", 0.5, "dead-letter", "orders")).toEqual({ badges: [] });
  });

  it("puts the publications on the only producer's edge when that edge has no series of its own", () => {
    // A workload publishing to the queue, and an outbox's relay: no calls row for either.
    expect(edgeOf("queue-redelivery", 11.5, "entry", "workload:submit").badges)
      .toEqual([`${rate(queueRow("queue-redelivery", 11.5).published_rps)}/s published`]);
    expect(edgeOf("kafka-outbox", 9.5, "call", "orders").badges)
      .toEqual([`${rate(queueRow("kafka-outbox", 9.5).published_rps)}/s published`]);
    // A call to the queue has its calls row: its attempts, not the queue's count.
    const call = edgeOf("queue", 17, "call", "api");
    expect(call.badges.some((b) => b.endsWith("published"))).toBe(false);
    expect(call.badges[0]).toMatch(/^\d+(\.\d)?\/s$/);
  });

  it("puts no publications on an edge when the queue gets messages some other way too", () => {
    const { result } = load("queue-redelivery");
    const text = readFileSync(join(RESULTS, "queue-redelivery.yaml"), "utf8");
    const published = (spec: string): string[] => {
      const graph = buildGraph(parse(spec).data);
      return Object.values(overlayAt(result, graph, 11.5, "utilization").edges).flatMap((e) => e.badges)
        .filter((b) => b.endsWith("published"));
    };
    expect(published(text)).toHaveLength(1);
    // a second producer: the queue's count is theirs together
    expect(published(text.replace("workloads:\n", "workloads:\n  - {name: more, to: orders.publish, rate: 5/s}\n"))).toEqual([]);
    // another queue's dead letters land on it
    const fed = text.replace("  orders-dlq:\n    kind: queue\n    tech: sqs\n",
      "  orders-dlq:\n    kind: queue\n    tech: sqs\n  retries:\n    kind: queue\n    delivery: {guarantee: at_least_once, dead_letter: orders}\n    consumers: [fulfilment.process]\n");
    expect(buildGraph(parse(fed).data).queues.orders.fedOtherwise).toBe(true);
    expect(published(fed)).toEqual([]);
  });

  it("never says a Kafka topic backs up for the offsets its group has not committed yet", () => {
    // kafka-outbox.yaml: billing keeps up; the backlog counts from the offset committed every
    // 5 s, so it climbs to 5 s of messages and drops at each commit.
    const { result, graph } = load("kafka-outbox");
    expect(graph.queues["order-events"].uncommittedS).toBe(5);
    // Offsets committed after every message, or when each is taken: the backlog is waiting.
    const text = readFileSync(join(RESULTS, "kafka-outbox.yaml"), "utf8");
    const uncommitted = (delivery: string): number =>
      buildGraph(parse(text.replace("{guarantee: at_least_once}", delivery)).data).queues["order-events"].uncommittedS;
    expect(uncommitted("{guarantee: at_least_once, commit_interval: 500ms}")).toBe(0.5);
    expect(uncommitted("{guarantee: at_least_once, commit_interval: 0s}")).toBe(0);
    expect(uncommitted("{guarantee: at_most_once}")).toBe(0);
    const table = tables(result).queues;
    const rows = table.rows.map((raw) => Object.fromEntries(table.columns.map((c, i) => [c, raw[i]])));
    // Read as another queue's, some of its intervals would be backing up…
    expect(rows.filter((row) => backingUp(row, { uncommittedS: 0, fedOtherwise: false })).length).toBeGreaterThan(3);
    // …but on this topic none is.
    for (const row of rows) {
      expect(edgeOf("kafka-outbox", Number(row.t_s) - 0.5, "consumer", "order-events").badges).not.toContain("backing up");
    }
  });
});

describe("replay of a Raft leader cut off from the others", () => {
  // raft-cut.yaml: etcd[0] leads from the start and is cut off from 20 s to 35 s; without
  // CheckQuorum it leads on in its own eyes while the others elect replica 2.
  const node = (t: number) => {
    const { result, graph } = load("raft-cut");
    return overlayAt(result, graph, t, "utilization").nodes.etcd;
  };
  const events = () => load("raft-cut").result.elections.etcd.events as { t_s: number; event: string; replica: number }[];
  const at = (event: string, replica: number): number => events().find((e) => e.event === event && e.replica === replica)!.t_s;

  it("names the leader and its term while there is one", () => {
    expect(node(10).lines).toContain("leader: replica 0 (term 1)");
    expect(node(10).alert).toBeUndefined();
  });

  it("shows two leaders from the election until the old one steps down after the cut heals", () => {
    const elected = at("elected", 2);
    const stepped = at("stepped_down", 0);
    expect(elected).toBeGreaterThan(20);
    expect(stepped).toBeGreaterThanOrEqual(35);
    expect(node(elected - 0.01).lines).toContain("leader: replica 0 (term 1)");
    for (const t of [elected, (elected + stepped) / 2]) {  // the cut lasts until 35 s
      expect(node(t).lines).toContain("leader: replica 2 (term 2)");
      expect(node(t).alert).toBe("fault: partition · two leaders: replica 0 still acts as leader");
    }
    expect(node(stepped - 0.01).alert).toBe("two leaders: replica 0 still acts as leader");
    expect(node(stepped).alert).toBeUndefined();
    expect(node(45).lines).toContain("leader: replica 2 (term 2)");
  });

  it("has no leader between losing one and electing the next", () => {
    const events = [{ t_s: 0, event: "elected", replica: 0, term: 1 }, { t_s: 5, event: "crashed", replica: 0, term: 1 },
      { t_s: 6, event: "election", replica: 1, term: 2 }, { t_s: 6.5, event: "elected", replica: 1, term: 2 }];
    expect(leadershipAt(events, 4)).toEqual({ leader: 0, term: 1, second: [] });
    expect(leadershipAt(events, 5.5)).toEqual({ leader: null, term: 1, second: [] });
    expect(leadershipAt(events, 7)).toEqual({ leader: 1, term: 2, second: [] });
  });
});


describe("traffic on the edges", () => {
  // breaker-edge.yaml: db fails from 10 s to 20 s; the call retries twice and its breaker
  // opens within the first interval of the fault.
  const edge = (t: number) => {
    const { result, graph } = load("breaker-edge");
    return Object.values(overlayAt(result, graph, t, "utilization").edges)[0];
  };
  const row = (t: number): Record<string, number> => {
    const table = tables(load("breaker-edge").result).calls;
    const raw = table.rows.find((r) => Number(r[0]) - 1 < t && t <= Number(r[0]))!;
    return Object.fromEntries(table.columns.map((c, i) => [c, raw[i] as number]));
  };

  const rate = (v: number): string => v.toFixed(v < 10 ? 1 : 0);

  it("is the interval's attempts that left the caller, without 'avg'", () => {
    expect(edge(4.5).badges).toContain(`${rate(row(4.5).attempts_rps)}/s`);
    expect(edge(4.5).badges.some((b) => b.includes("avg") || b.includes("retried") || b.includes("refused"))).toBe(false);
  });

  it("shows the retries, refusals and fallbacks of the interval the fault starts in", () => {
    // Every failed call there is answered by its fallback: they fell back, none is failing.
    const r = row(10.5);
    expect(r.retries_rps).toBeGreaterThan(0);
    expect(r.refused_here_rps).toBeGreaterThan(0);
    expect(r.fallbacks_rps).toBe(r.failed_rps);
    expect(edge(10.5).badges).toEqual(expect.arrayContaining([
      `${rate(r.attempts_rps - r.refused_here_rps)}/s`, `${rate(r.retries_rps)}/s retried`,
      `${rate(r.refused_here_rps)}/s refused here`, `${rate(r.fallbacks_rps)}/s fell back`]));
    expect(edge(10.5).badges.some((b) => b.endsWith("failing"))).toBe(false);
  });

  it("carries nothing while the breaker refuses every attempt in the caller, and says so", () => {
    const r = row(12.5);
    expect(r.refused_here_rps).toBe(r.attempts_rps);
    expect(edge(12.5).badges).toEqual(expect.arrayContaining(["0.0/s", `${rate(r.refused_here_rps)}/s refused here`,
      "breaker OPEN 1/1"]));
    expect(edge(12.5).animated).toBe(false);
  });

  it("never words retries refused in the caller as among the attempts that left it", () => {
    // The audit's "0.0/s · 6.0/s retries": retries the re-opened breaker refused.
    const table = tables(load("breaker-edge").result).calls;
    for (const raw of table.rows) {
      const r = Object.fromEntries(table.columns.map((c, i) => [c, raw[i] as number]));
      const badges = edge(Number(r.t_s) - 0.5).badges;
      expect(badges.some((b) => b.endsWith("/s retries"))).toBe(false);
      if (r.refused_here_rps > 0) expect(badges).toContain(`${rate(r.refused_here_rps)}/s refused here`);
    }
  });

  it("is what left the caller, averaged over the run, for a result without a calls series", () => {
    // 300 attempts in 10 s, of which an open breaker refused 240 in the caller: 6/s reached
    // the callee (the badge read 30/s, beside a callee serving a handful).
    const graph = buildGraph(parse(`scalesim: 1
name: edge
components:
  a: {operations: {x: {calls: [{to: b.y}]}}}
  b: {operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 30/s}]
`).data);
    const result = { simulated_s: 10, replications: 1, timeseries: {}, calls: [{
      from: "a.x", to: "b.y", attempts: 300,
      attempt_failures_by_cause: { circuit_open: 240, timeout: 3 } }] } as unknown as Result;
    const badges = Object.values(overlayAt(result, graph, 5, "utilization").edges)
      .flatMap((e) => e.badges);
    expect(badges).toContain("6.0/s avg");
  });
});

describe("a breaker shared by the caller's replicas", () => {
  // shared-breaker.yaml: three api replicas share one breaker (scope: service); db fails
  // from 10 s to 20 s and the breaker is open from 10.2 s, but for its half-open probes.
  const { result, graph } = load("shared-breaker");
  const call = (result.calls as Record<string, unknown>[])[0];

  it("counts one breaker, on the edge and in the chart alike", () => {
    expect(result.components.api.replicas).toBe(3);
    expect(breakerOwners(result, call)).toBe(1);
    const badges = Object.values(overlayAt(result, graph, 12, "utilization").edges).flatMap((e) => e.badges);
    expect(badges).toContain("breaker OPEN 1/1");
    const table = breakerTimeShares(result)!;
    const open = table.rows.find((r) => Number(r[0]) === 12)![table.columns.indexOf("open_share")];
    expect(open).toBe(1);
  });

  it("counts one breaker per calling replica otherwise", () => {
    const perReplica = { ...call, circuit_breaker: { transitions: [{ t_s: 1, replica: 2, from: "closed", to: "open" }] } };
    expect(breakerOwners(result, perReplica)).toBe(3);
    const overlay = overlayAt({ ...result, calls: [perReplica] }, graph, 12, "utilization");
    expect(Object.values(overlay.edges).flatMap((e) => e.badges)).toContain("breaker OPEN 1/3");
  });
});

describe("the breaker summary", () => {
  it("counts every opening, re-openings from half-open included", () => {
    // breaker-edge.yaml: opens at the fault, re-opens after each failed half-open probe.
    const calls = load("breaker-edge").result.calls as { circuit_breaker: { transitions: Transition[] } }[];
    const transitions = calls[0].circuit_breaker.transitions;
    const opened = transitions.filter((tr) => tr.to === "open").map((tr) => tr.t_s);
    expect(opened.length).toBeGreaterThan(1);
    expect(breakerOpenings(transitions)).toBe(
      `opened ${opened.length} times, from ${opened[0].toFixed(0)} s to ${opened[opened.length - 1].toFixed(0)} s`);
  });

  it("says when it opened once, or never", () => {
    expect(breakerOpenings([])).toBe("never opened");
    expect(breakerOpenings([{ t_s: 0.6, replica: 0, from: "closed", to: "open" },
      { t_s: 5.6, replica: 0, from: "open", to: "half_open" }])).toBe("opened at 0.6 s");
  });
});

describe("the breakers chart", () => {
  // breaker-edge.yaml, one calling replica: the breaker opens at 10.08 s and, each time it
  // half-opens, its two probes fail within 10 ms and it opens again.
  const shares = () => {
    const { result } = load("breaker-edge");
    const table = breakerTimeShares(result)!;
    const column = (name: string) => table.columns.indexOf(name);
    const transitions = (result.calls as { circuit_breaker: { transitions: Transition[] } }[])[0].circuit_breaker.transitions;
    const at = (t: number) => table.rows.find((r) => Number(r[0]) === t)!;
    return { at, open: column("open_share"), half: column("half_open_share"), transitions };
  };

  it("averages the open share over each interval from the exact transitions", () => {
    const { at, open, transitions } = shares();
    const opened = transitions.find((tr) => tr.to === "open")!.t_s;
    expect(Number(at(Math.floor(opened))[open])).toBe(0);
    expect(Number(at(Math.ceil(opened))[open])).toBeCloseTo(Math.ceil(opened) - opened, 9);
  });

  it("shows a half-open spell the interval's end would miss", () => {
    const { at, half, transitions } = shares();
    const probe = transitions.find((tr) => tr.to === "half_open")!;
    const closed = transitions.find((tr) => tr.t_s > probe.t_s)!;
    const end = Math.ceil(probe.t_s);
    expect(closed.t_s).toBeLessThan(end);  // over before the interval ends
    expect(Number(at(end)[half])).toBeCloseTo(closed.t_s - probe.t_s, 9);
    const sampled = tables(load("breaker-edge").result).breakers;
    expect(Number(sampled.rows.find((r) => Number(r[0]) === end)![half])).toBe(0);
  });
});

describe("the interval shown at a time", () => {
  const table = { columns: ["t_s", "workload", "throughput_rps"], rows: [[1, "w", 10], [2, "w", 20], [3, "w", 30]] };
  const at = (t: number): unknown => rowsAt(table, t, 1).get("w")?.throughput_rps;
  it("is the one ending there on a boundary, as the charts' cursor marks it", () => {
    expect(at(2)).toBe(20);  // 1–2 s, not 2–3 s
    expect(at(3)).toBe(30);
  });
  it("is the one containing it otherwise, the first from the start", () => {
    expect(at(1.5)).toBe(20);
    expect(at(0)).toBe(10);
  });
});

describe("the design a replay draws", () => {
  const spec = readFileSync(join(RESULTS, "queue.yaml"), "utf8");
  const { result } = load("queue");
  const delivery = (graph: ReturnType<typeof buildGraph>) => graph.edges.find((e) => e.kind === "consumer")!;

  it("is the spec the run ran, not the design edited since (a fix applied, a node deleted)", () => {
    const edited = spec.replace("concurrency: 4", "concurrency: 44").replace(/ {2}worker:[\s\S]*?(?=workloads:)/, "");
    const current = buildGraph(parse(edited).data);
    expect(current.nodes.map((n) => n.id)).not.toContain("worker");
    const drawn = ranGraph(spec, edited, current);
    expect(drawn.nodes.map((n) => n.id)).toContain("worker");
    const edge = delivery(drawn);
    expect(edge.badges).toContain("concurrency 4");
    expect(overlayAt(result, drawn, 15, "utilization").edges[edge.id]?.badges.some((b) => b.endsWith("/s delivered"))).toBe(true);
  });

  it("is the open design's own graph while its text is the run's", () => {
    const current = buildGraph(parse(spec).data);
    expect(ranGraph(spec, spec, current)).toBe(current);
  });
});
