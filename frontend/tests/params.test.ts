// The gallery's parameter form puts each refused value's reason under its own field.
import { describe, expect, it } from "vitest";
import { problemsByParam } from "../src/model/params";

describe("template parameter problems", () => {
  const names = ["with_breaker", "rps", "timeout_ms", "fallback_ms", "open_for_s"];

  it("go to the parameter each names, with what is allowed", () => {
    const message = "rps=5000: input should be less than or equal to 2000; allowed: a number from 1 to 2000 (req/s); "
      + "timeout_ms=-3: input should be greater than or equal to 10; allowed: a number from 10 to 30000 (ms)";
    expect(problemsByParam(message, names)).toEqual({
      byParam: {
        rps: "rps=5000: input should be less than or equal to 2000; allowed: a number from 1 to 2000 (req/s)",
        timeout_ms: "timeout_ms=-3: input should be greater than or equal to 10; allowed: a number from 10 to 30000 (ms)",
      },
      other: [],
    });
  });

  it("keep a check across parameters, and a name inside another's message, apart", () => {
    const message = "fallback_ms must be below timeout_ms=10; rps=abc: input should be a valid number; allowed: a number from 1 to 2000";
    expect(problemsByParam(message, names)).toEqual({
      byParam: { rps: "rps=abc: input should be a valid number; allowed: a number from 1 to 2000" },
      other: ["fallback_ms must be below timeout_ms=10"],
    });
  });
});
