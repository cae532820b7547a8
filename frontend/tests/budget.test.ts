// A run over the budget: the page tells how to run it anyway in its own words, not the API's.
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/api";
import { findingsInPageWords, inPageWords } from "../src/model/budget";

// How the server words it (budget.Estimate.refusal with studio/specs.py FORCE).
const refused = "refused: this run is estimated at 1,004,342,952 events: about 17 min, over the 10 min budget. "
  + 'Shorten simulation.duration, lower the rate or raise simulation.interval, or run it anyway with "force": true.';

describe("a run over the budget", () => {
  it("is refused in the page's words: the Run button asks", () => {
    expect(inPageWords(refused)).toBe(refused.replace('run it anyway with "force": true',
      "run it anyway (Run simulation asks first)"));
    expect(inPageWords(refused)).not.toMatch(/force/);
    expect(inPageWords(refused, "run it anyway")).toMatch(/raise simulation\.interval, or run it anyway\.$/);
  });

  it("is a finding in the page's words too, the other findings as they are", () => {
    const finding = (rule: string, message: string): Finding => ({
      rule, name: rule, message, severity: "warning", line: 1, column: 1, path: "simulation", why: "", fixes: [], see: null });
    const other = finding("SS106", "'checkout' has 2 replicas but no readiness probe");
    const checked = findingsInPageWords({ valid: true, errors: [], findings: [finding("RUN", `a run would be refused: ${refused}`), other] });
    expect(checked.findings[0].message).toMatch(/or run it anyway \(Run simulation asks first\)\.$/);
    expect(checked.findings[1]).toEqual(other);
  });
});
