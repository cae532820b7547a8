// The Compare page warns when two runs' seeds differ: their difference is not the change alone.
import { describe, expect, it } from "vitest";
import { seedHint } from "../src/model/compare";

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
