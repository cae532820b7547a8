// The catalog drawer shows an anti-pattern as one: symptoms, causes, how to recognise it.
import { describe, expect, it } from "vitest";
import { entrySections, isAntiPattern } from "../src/model/catalog";

// GET /api/patterns/blocked-threads, the lists only.
const blocked = {
  category: "anti-pattern",
  use_when: ["Recognise it when throughput drops to zero while CPU is idle and the process is still up."],
  avoid_when: ["Never desirable."],
  anti_pattern: {
    symptoms: ["Process alive but not responding; CPU idle."],
    causes: ["Unbounded waits on pools, locks and remote calls."],
    fixed_by: ["timeout", "bulkhead"],
  },
};
// GET /api/patterns/timeout, the lists only (their first items).
const timeout = {
  category: "resilience", use_when: ["Any call crosses a process or network boundary."],
  avoid_when: ["The work is non-idempotent and abandoning it client-side leaves an unknown outcome without a way to check."],
  anti_pattern: null,
};

describe("a catalog entry", () => {
  it("of an anti-pattern shows its symptoms and causes, and how to recognise it", () => {
    expect(isAntiPattern(blocked)).toBe(true);
    expect(entrySections(blocked)).toEqual([
      { title: "Symptoms", items: blocked.anti_pattern.symptoms },
      { title: "Causes", items: blocked.anti_pattern.causes },
      { title: "Recognise it", items: blocked.use_when },
      { title: "Not a problem when", items: ["Never desirable."] },
    ]);
  });

  it("of a pattern says when to use it and when not", () => {
    expect(isAntiPattern(timeout)).toBe(false);
    expect(entrySections(timeout).map((s) => s.title)).toEqual(["Use when", "Avoid when"]);
    expect(entrySections({ ...timeout, avoid_when: [] }).map((s) => s.title)).toEqual(["Use when"]);
  });
});
