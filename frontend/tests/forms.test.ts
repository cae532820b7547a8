// Forms generated from the spec's JSON Schema turn what a person types into what the spec
// means: numbers where numbers are allowed, unit strings kept as written.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { coerce, defaultText, simplify } from "../src/components/SchemaForm";
import { duration } from "../src/model/format";
import { MAX_SEED, seedError } from "../src/model/seed";

const schema = JSON.parse(readFileSync(join(__dirname, "../../docs/spec.schema.json"), "utf8"));
const defs = schema.$defs;
const field = (def: string, name: string) => simplify(schema, defs[def].properties[name]);

describe("schema fields", () => {
  it("collapse 'value or null' to the value and keep its unit", () => {
    const timeout = field("Call", "timeout");
    expect(timeout.type).toBe("string");
    expect(timeout.description).toBe("per attempt");
    expect(String(timeout.unit)).toMatch(/duration: 250us, 5ms/);
  });

  it("keep integers, numbers and unit strings apart", () => {
    expect(coerce(schema, field("Component", "replicas"), "4")).toBe(4);
    expect(coerce(schema, field("Component", "replicas"), "4.5")).toBe("4.5");  // the server explains
    expect(coerce(schema, field("Call", "timeout"), "250ms")).toBe("250ms");
    expect(coerce(schema, field("Component", "workers"), "unlimited")).toBe("unlimited");
    expect(coerce(schema, field("Component", "workers"), "16")).toBe(16);
    expect(coerce(schema, field("Component", "hit_ratio"), "0.9")).toBe(0.9);
    expect(coerce(schema, field("Component", "hit_ratio"), "90%")).toBe("90%");
    expect(coerce(schema, field("Component", "queue"), "  ")).toBeUndefined();  // back to the default
  });

  it("follow references to enums", () => {
    const balancer = field("Component", "balancer");
    expect(balancer.enum).toContain("least_requests");
    expect(balancer.default).toBe("round_robin");
  });

  it("show a duration's default with its unit, as the hint asks values to be written", () => {
    // The schema gives duration defaults in seconds: Retry.base 0.025, max 0.25.
    const retry = (name: string) => defaultText(schema, field("Retry", name), defs.Retry.properties[name].default);
    expect(retry("base")).toBe("default: 25ms");
    expect(retry("max")).toBe("default: 250ms");
    expect(retry("attempts")).toBe("default: 3");  // a count stays a number
    expect(defaultText(schema, field("CircuitBreaker", "open_for"), 60)).toBe("default: 60s");
    expect(defaultText(schema, field("CircuitBreaker", "failure_rate"), 0.5)).toBe("default: 0.5");  // a fraction
    expect(defaultText(schema, field("EventStore", "read_per_event"), 2e-5)).toBe("default: 20us");
    expect(defaultText(schema, field("Call", "timeout"), null)).toBe("");
    expect([0, 0.0005, 0.1, 1.5, 300].map(duration)).toEqual(["0s", "500us", "100ms", "1.5s", "300s"]);
  });
});

describe("the run's seed", () => {
  it("is refused, never rewritten, when it is not a whole number up to 2^63 − 1", () => {
    for (const typed of ["-5", "1.5", "abc", "1e3", "9223372036854775808"]) {
      expect(seedError(typed)).toMatch(/whole number from 0 to 9223372036854775807/);
    }
  });
  it("is taken as typed when it is one, or empty for the spec's own", () => {
    for (const typed of ["", " ", "0", "42", "9223372036854775807"]) expect(seedError(typed)).toBeNull();
    expect(MAX_SEED.toString()).toBe("9223372036854775807");
  });
});
