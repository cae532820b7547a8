// The Compare page warns when two runs' seeds differ: their difference is not the change alone.
import { describe, expect, it } from "vitest";
import type { RunBrief } from "../src/api";
import { runLabel, seedHint } from "../src/model/compare";
import { metric, number, percentChange, runReason, share } from "../src/model/format";

describe("seed hint", () => {
  it("is shown when the seeds differ, naming both", () => {
    expect(seedHint({ seed: 1 }, { seed: 2 })).toBe("These runs have different seeds (1 and 2): "
      + "differences include sampling noise; use the same seed to compare designs.");
  });

  it("is not shown for runs with the same seed, or before both results are there", () => {
    expect(seedHint({ seed: 7 }, { seed: 7 })).toBeNull();
    expect(seedHint({ seed: 7 }, undefined)).toBeNull();
    expect(seedHint({}, { seed: 7 })).toBeNull();
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

describe("run label", () => {
  const run: RunBrief = {
    id: "r1", system: "circuit-breaker", status: "done", seed: 7, design_id: "d1", version: 2,
    error: null, summary: null, created_at: "2026-12-06T21:00:00Z", finished_at: null,
  };
  it("names the saved version, or unsaved edits", () => {
    expect(runLabel(run)).toMatch(/^circuit-breaker \(v2\) · 2026-12-06 21:00:00 · seed 7 · p99 /);
    expect(runLabel({ ...run, version: null, design_id: null })).toMatch(/^circuit-breaker \(unsaved edits\) ·/);
  });
});
