// A result's queue subscriptions as the results view lists them, with the numbers of the
// command line's Queues table that say how long a message waited (docs/results.md
// `queues`): the backlog charts alone do not show that a fix cut the wait.
import type { Result } from "../api";

export interface QueueRow {
  subscription: string; deliveredRps: number | null; backlogEnd: number | null;
  lagP50Ms: number | null; lagP99Ms: number | null; failed: number | null; deadLettered: number | null;
}

const num = (v: unknown): number | null => (typeof v === "number" ? v : null);

/** One row per subscription (`QUEUE->COMPONENT.OP`), in the result's order. */
export function queueRows(result: Result): QueueRow[] {
  return Object.entries((result.queues ?? {}) as Record<string, Result>).map(([subscription, q]) => ({
    subscription, deliveredRps: num(q.delivered_rps), backlogEnd: num(q.backlog_end),
    lagP50Ms: num(q.lag_ms?.p50), lagP99Ms: num(q.lag_ms?.p99), failed: num(q.failed),
    deadLettered: num(q.dead_lettered),
  }));
}
