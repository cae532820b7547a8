// The charts' axis ticks: round steps (1, 2, 5 × 10^k) and a count the axis has room for.
import { describe, expect, it } from "vitest";
import { tickDecimals, tickRoom, tickStep, ticks } from "../src/model/ticks";

describe("the charts' axis ticks", () => {
  it("step by 1, 2 or 5 × 10^k, the smallest that keeps within the count", () => {
    expect(tickStep(140, 8)).toBe(20);     // canary's 140 s: 0, 20, … 140
    expect(tickStep(140, 4)).toBe(50);     // narrower: 0, 50, 100
    expect(tickStep(0.0656, 5)).toBe(0.02); // a utilization of 6 %: not uPlot's 0.025
    expect(tickStep(31.5, 5)).toBe(10);
    expect(tickStep(1.05, 5)).toBe(0.5);
    expect(tickStep(51000, 5)).toBe(20000);
    expect(tickStep(0.3, 4)).toBe(0.1);    // 0.3 / 3 is 0.09999…, still 0.1
    expect(tickStep(1000, 11)).toBe(100);
  });

  it("are the step's multiples within the range, at most the count, in round numbers", () => {
    expect(ticks(0, 140, 8)).toEqual([0, 20, 40, 60, 80, 100, 120, 140]);
    expect(ticks(0, 0.0689, 5)).toEqual([0, 0.02, 0.04, 0.06]);  // not 0.060000000000000005
    expect(ticks(0, 1050, 5)).toEqual([0, 500, 1000]);
    expect(ticks(-3, 7, 6)).toEqual([-2, 0, 2, 4, 6]);
    expect(ticks(0, 1.05, 5)).toEqual([0, 0.5, 1]);
    for (const [max, most] of [[7, 3], [123.4, 4], [0.00042, 6], [98765, 7], [4.1, 4]]) {
      const found = ticks(0, max, most);
      expect(found.length).toBeLessThanOrEqual(most);
      expect(found.length).toBeGreaterThanOrEqual(2);
      const step = found[1] - found[0];
      const mantissa = Number((step / 10 ** Math.floor(Math.log10(step))).toFixed(6));
      expect([1, 2, 5]).toContain(mantissa);
    }
  });

  it("fit the axis's room and show the step's decimals", () => {
    expect(tickRoom(380, 70)).toBe(6);
    expect(tickRoom(20, 70)).toBe(4);  // at least two ticks from 0 (a step under the span)
    expect(tickDecimals(20)).toBe(0);
    expect(tickDecimals(1)).toBe(0);
    expect(tickDecimals(0.5)).toBe(1);
    expect(tickDecimals(0.02)).toBe(2);
  });
});
