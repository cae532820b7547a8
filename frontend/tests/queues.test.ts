// The results view lists each queue subscription's wait, as the CLI's Queues table does.
import { describe, expect, it } from "vitest";
import { queueRows } from "../src/model/queues";

// The work-queue template (seed 1), its `queues` section before and after the diagnosis's fix
// (consumers.0.concurrency=58, worker.replicas=8): the same deliveries and backlog at the
// end, the wait cut from 2.8 s to 52 ms at p99. Only the fields the table reads.
const subscription = (p50: number, p99: number) => ({
  "jobs->worker.process": {
    delivered_rps: 1411.7667, backlog_end: 33, dead_lettered: 0, failed: 0,
    lag_ms: { max: p99 * 1.03, mean: p50 * 1.1, p50, p99 },
  },
});

describe("queue rows of a result", () => {
  it("carry the wait, backlog and losses of each subscription", () => {
    expect(queueRows({ queues: subscription(680.4399, 2815.0953) })).toEqual([{
      subscription: "jobs->worker.process", deliveredRps: 1411.7667, backlogEnd: 33,
      lagP50Ms: 680.4399, lagP99Ms: 2815.0953, failed: 0, deadLettered: 0,
    }]);
  });

  it("tell a fixed queue from the one before, where the backlog does not", () => {
    const [before] = queueRows({ queues: subscription(680.4399, 2815.0953) });
    const [after] = queueRows({ queues: subscription(18.9672, 52.0767) });
    expect(after.backlogEnd).toBe(before.backlogEnd);
    expect(after.lagP99Ms).toBeLessThan(before.lagP99Ms! / 50);
  });

  it("are none without queues, and a missing number is null", () => {
    expect(queueRows({})).toEqual([]);
    expect(queueRows({ queues: { "q->c.op": { lag_ms: {} } } })[0].lagP99Ms).toBeNull();
  });
});
