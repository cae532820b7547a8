// The Compare page warns when two runs' seeds differ: their difference is not the change alone.
import { afterEach, describe, expect, it } from "vitest";
import type { RunBrief } from "../src/api";
import { defaultPair, designWarning, runLabel, seedHint } from "../src/model/compare";
import { localTime, metric, number, percentChange, runReason, share } from "../src/model/format";

describe("seed hint", () => {
  it("is shown when the seeds differ, naming both", () => {
    expect(seedHint("1", "2")).toBe("These runs have different seeds (1 and 2): "
      + "differences include sampling noise; use the same seed to compare designs.");
  });

  it("tells apart seeds one JavaScript number cannot (2^53 + 1 and 2^53)", () => {
    expect(seedHint("9007199254740993", "9007199254740992")).toContain("(9007199254740993 and 9007199254740992)");
  });

  it("is not shown for runs with the same seed, or before both seeds are known", () => {
    expect(seedHint("7", "7")).toBeNull();
    expect(seedHint("7", undefined)).toBeNull();
    expect(seedHint(undefined, "7")).toBeNull();
  });
});

describe("numbers in the History and Compare tables", () => {
  it("writes counts exactly, shares as percentages, the rest to 4 digits", () => {
    expect(number(31502)).toBe((31502).toLocaleString());  // was rounded to 31,500
    expect(number(327.9123)).toBe((327.9).toLocaleString());
    expect(share(0.0127)).toBe("1.27 %");  // as the Simulate page's card, not 0.0127
    expect(metric("error_rate", 0.1017)).toBe("10.17 %");
    expect(metric("failed", 31502)).toBe((31502).toLocaleString());
    expect(number(null)).toBe("–");
  });
});

describe("a run without numbers in the History table", () => {
  it("says why: the reason it failed or was cancelled with", () => {
    const limit = "stopped: the run took longer than the studio's wall-clock limit of 5 s";  // runner.py
    expect(runReason({ status: "failed", error: limit })).toBe(limit);
    expect(runReason({ status: "cancelled", error: "cancelled by the user" })).toBe("cancelled by the user");
    expect(runReason({ status: "failed", error: null })).toBe("failed, with no reason recorded");
  });

  it("is not given for a run that finished or is still on", () => {
    for (const status of ["done", "queued", "running"]) expect(runReason({ status, error: null })).toBeNull();
  });
});

describe("a relative change in the Compare table", () => {
  it("keeps its sign and never reads -0.0%", () => {
    expect(percentChange(0.0312)).toBe("+3.1%");
    expect(percentChange(-0.25)).toBe("-25.0%");
    expect(percentChange(-0.00001)).toBe("0.0%");
    expect(percentChange(0)).toBe("0.0%");
  });
});

const run: RunBrief = {
  id: "r1", system: "circuit-breaker", status: "done", seed: 7, seed_text: "7", design_id: "d1", version: 2,
  error: null, summary: null, created_at: "2026-12-06T21:00:00Z", finished_at: null,
};

describe("a stored time (UTC) in the user's time zone", () => {
  it("is the time where the user is, to the second, 24-hour", () => {
    expect(localTime("2026-12-07T19:05:47Z", "America/New_York")).toBe("2026-12-07 14:05:47");
    expect(localTime("2026-12-07T19:05:47Z", "UTC")).toBe("2026-12-07 19:05:47");
    expect(localTime("2026-12-07T23:30:00Z", "Asia/Tokyo")).toBe("2026-12-08 08:30:00");  // the next day there
    expect(localTime("2026-12-07T00:00:00Z", "UTC")).toBe("2026-12-07 00:00:00");  // not 24:00:00
  });

  it("leaves text that is not a time as it is", () => {
    expect(localTime("soon", "UTC")).toBe("soon");
  });
});

describe("run label", () => {
  const zone = process.env.TZ;
  afterEach(() => { if (zone === undefined) delete process.env.TZ; else process.env.TZ = zone; });

  it("names the saved version, or unsaved edits, and when it ran where the user is", () => {
    process.env.TZ = "America/New_York";  // the browser's time zone (Node follows TZ)
    expect(runLabel(run)).toMatch(/^circuit-breaker \(v2\) · 2026-12-06 16:00:00 · seed 7 · p99 /);
    expect(runLabel({ ...run, version: null, design_id: null })).toMatch(/^circuit-breaker \(unsaved edits\) ·/);
  });

  it("writes the seed's digits, not its JavaScript number", () => {
    const largest = { ...run, seed: Number(2n ** 63n - 1n), seed_text: "9223372036854775807" };
    expect(runLabel(largest)).toContain("seed 9223372036854775807 ·");  // not 9223372036854776000
    expect(runLabel({ ...run, seed: null, seed_text: null })).toContain("seed spec ·");
  });
});

describe("the runs Compare starts with", () => {
  // newest first, as GET /api/runs lists them
  const runs: RunBrief[] = [
    { ...run, id: "wq2", system: "work-queue", design_id: null, version: null },
    { ...run, id: "cb3", design_id: null, version: null },  // unsaved edits of d1
    { ...run, id: "wq1", system: "work-queue", design_id: "d2" },
    { ...run, id: "cb1" },
  ];
  it("are the two newest of the open design, edits not saved included, the older as A", () => {
    expect(defaultPair(runs, { designId: "d1", system: "circuit-breaker" })).toEqual(["cb1", "cb3"]);
    expect(defaultPair(runs, { designId: "d2", system: "work-queue" })).toEqual(["wq1", "wq2"]);
    expect(defaultPair(runs, { designId: null, system: "circuit-breaker" })).toEqual(["cb1", "cb3"]);
  });

  it("are the two newest of any design when the open one has fewer than two", () => {
    expect(defaultPair(runs, { designId: null, system: "banking-transfer" })).toEqual(["cb3", "wq2"]);
    expect(defaultPair(runs.slice(0, 1), { designId: null, system: null })).toBeNull();
  });
});

describe("runs of different designs", () => {
  it("are warned about: two systems, or two saved designs", () => {
    expect(designWarning(run, { ...run, system: "work-queue", design_id: "d2" })).toBe(
      "These runs are of different designs (circuit-breaker and work-queue): the deltas compare two designs, not a change to one.");
    expect(designWarning(run, { ...run, design_id: "d9" })).toContain("(two saved designs)");
  });

  it("are not: one design's versions and its edits not saved", () => {
    expect(designWarning(run, { ...run, version: 3 })).toBeNull();
    expect(designWarning(run, { ...run, design_id: null, version: null })).toBeNull();
  });
});
