// The catalog drawer shows an anti-pattern as one: symptoms, causes, how to recognise it.
import { describe, expect, it } from "vitest";
import { ANTI_AVOID_WHEN, entrySections, isAntiPattern, LIST_PAGE, listView } from "../src/model/catalog";

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
      { title: ANTI_AVOID_WHEN, items: ["Never desirable."] },
    ]);
    // QA: "Not a problem when" over "Never desirable." contradicted itself.
    expect(ANTI_AVOID_WHEN).toBe("Is it ever acceptable?");
  });

  it("of a pattern says when to use it and when not", () => {
    expect(isAntiPattern(timeout)).toBe(false);
    expect(entrySections(timeout).map((s) => s.title)).toEqual(["Use when", "Avoid when"]);
    expect(entrySections({ ...timeout, avoid_when: [] }).map((s) => s.title)).toEqual(["Use when"]);
  });
});

describe("the catalog's list", () => {
  const hits: { id: string; related?: boolean }[] = Array.from({ length: 348 }, (_, i) => ({ id: `p${i}` }));

  it("says how many there are, shows the first page, and more on request", () => {
    expect(listView(hits, LIST_PAGE, "")).toEqual({
      items: hits.slice(0, 40), heading: "348 patterns in the catalog, the first 40 shown", more: 40 });
    expect(listView(hits, 320, "").more).toBe(28);
    expect(listView(hits, 360, "")).toEqual({ items: hits, heading: "348 patterns in the catalog", more: 0 });
  });

  it("counts the matches of a search", () => {
    expect(listView(hits.slice(0, 3), LIST_PAGE, " retry ")).toEqual({ items: hits.slice(0, 3), heading: "3 matches for 'retry'", more: 0 });
    expect(listView(hits.slice(0, 1), LIST_PAGE, "x").heading).toBe("1 match for 'x'");
  });

  it("counts the patterns only related to a search apart from its matches", () => {
    // QA: 'saga' said "7 matches", 3 of them reached only as fixes of Pattern Overload.
    const saga = [...hits.slice(0, 4), ...hits.slice(4, 7).map((h) => ({ ...h, related: true }))];
    expect(listView(saga, LIST_PAGE, "saga").heading).toBe("4 matches for 'saga' and 3 related patterns");
    expect(listView(saga.slice(0, 5), LIST_PAGE, "saga").heading).toBe("4 matches for 'saga' and 1 related pattern");
    expect(listView(saga, 2, "saga").heading).toBe("4 matches for 'saga' and 3 related patterns, the first 2 shown");
  });
});
