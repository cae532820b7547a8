// The gallery's parameter form puts each refused value's reason under its own field.
import { describe, expect, it } from "vitest";
import { paramInput, paramValues, problemsByParam, problemsToShow, type ParamInput } from "../src/model/params";

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

describe("template parameter problems after an edit", () => {
  // work-queue's, as POST /api/templates/work-queue/spec refuses jobs_rps=-5, worker_replicas=0
  const names = ["jobs_rps", "burst_factor", "worker_replicas", "threads", "job_ms", "keda"];
  const message = "jobs_rps=-5: input should be greater than or equal to 1; allowed: a number from 1 to 100000 (jobs/s); "
    + "worker_replicas=0: input should be greater than or equal to 1; allowed: an integer from 1 to 128 (instances)";

  it("leave the field edited since, and keep the others", () => {
    const shown = problemsToShow(message, names, new Set(["jobs_rps"]));
    expect(shown.byParam).toEqual({ worker_replicas: "worker_replicas=0: input should be greater than or equal to 1; "
      + "allowed: an integer from 1 to 128 (instances)" });
    expect(problemsToShow(message, names, new Set()).byParam).toEqual(problemsByParam(message, names).byParam);
  });

  it("keep a check across parameters until the values are sent again", () => {
    expect(problemsToShow("fallback_ms must be below timeout_ms=10", names, new Set(names)).other)
      .toEqual(["fallback_ms must be below timeout_ms=10"]);
  });
});

describe("template parameter values", () => {
  // load-balanced-service's parameters, as GET /api/templates/{id} gives them.
  const params = [
    { name: "replicas", type: "int", default: 8, allowed: "an integer from 1 to 64 (instances)" },
    { name: "service_ms", type: "float", default: 2, allowed: "a number from 0.1 to 100 (ms)" },
    { name: "balancer", type: "choice", default: "least_requests", allowed: "one of least_requests, p2c, round_robin, random" },
    { name: "autoscale", type: "bool", default: false, allowed: "true or false" },
  ];
  const [, serviceMs] = params;

  it("keep the text typed key by key, and read the number when used", () => {
    let inputs: Record<string, ParamInput> = { service_ms: "" };  // the field cleared
    const shown: ParamInput[] = [];
    for (const key of "2.5") {
      inputs = { ...inputs, service_ms: `${String(paramInput(serviceMs, inputs))}${key}` };
      shown.push(paramInput(serviceMs, inputs));
    }
    expect(shown).toEqual(["2", "2.", "2.5"]);
    expect(paramValues(params, inputs)).toEqual({ values: { service_ms: 2.5 }, problems: [] });
  });

  it("show the defaults, and send only what was set", () => {
    expect(params.map((p) => paramInput(p, {}))).toEqual(["8", "2", "least_requests", false]);
    expect(paramValues(params, { autoscale: true, balancer: "round_robin", replicas: " 12 " }))
      .toEqual({ values: { replicas: 12, balancer: "round_robin", autoscale: true }, problems: [] });
  });

  it("say which field is not a number, under that field", () => {
    const { values, problems } = paramValues(params, { replicas: "4", service_ms: "2.5.1" });
    expect(values).toEqual({ replicas: 4 });
    expect(problems).toEqual(["service_ms=2.5.1: not a number; allowed: a number from 0.1 to 100 (ms)"]);
    expect(problemsByParam(problems.join("; "), params.map((p) => p.name)).byParam)
      .toEqual({ service_ms: problems[0] });
    for (const text of ["", "abc", "0x10", "1e400", "2,5"]) {
      expect(paramValues(params, { service_ms: text }).problems).toHaveLength(1);
    }
  });
});
