// A cancel that comes too late (the run finished first) is a note, not an error with a raw id.
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api";
import { ALREADY_FINISHED, cancelRefused } from "../src/model/cancel";

describe("a cancel the API did not carry out", () => {
  it("is a neutral note without the run's id when the run had already finished (409)", () => {
    const late = new ApiError(409, "run 'ac738aa60cc14c81875d5737cd222319' has already finished (done)");
    expect(cancelRefused(late)).toEqual({ kind: "info", text: ALREADY_FINISHED });
    expect(ALREADY_FINISHED).not.toMatch(/[0-9a-f]{32}/);
  });

  it("is an error with the API's words for anything else", () => {
    expect(cancelRefused(new ApiError(404, "no run 'x'"))).toEqual({ kind: "error", text: "no run 'x'" });
    expect(cancelRefused(new TypeError("Failed to fetch"))).toEqual({ kind: "error", text: "Failed to fetch" });
  });
});
