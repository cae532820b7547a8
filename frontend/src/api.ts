// The studio's HTTP API (docs/studio.md): the only way the front end reaches the engine.
export interface SpecIssue { line: number; column: number; path: string; message: string }
export interface Finding {
  rule: string; name: string; severity: "info" | "warning" | "error"; line: number; column: number;
  path: string; message: string; why: string; fixes: string[]; see: string | null;
}
export interface Validation { valid: boolean; errors: SpecIssue[]; findings: Finding[] }
export interface TemplateCard {
  id: string; version: number; title: string; summary: string; patterns: string[];
  category: string | null; spec: string; expected: { text: string; why: string }[];
}
export interface TemplateParam {
  name: string; type: string; unit: string | null; default: unknown; minimum: number | null;
  maximum: number | null; choices: string[]; allowed: string; help: string;
}
export interface TemplateDetails extends TemplateCard {
  parameters: TemplateParam[]; assumptions: string[]; scenario: string;
}
export type RunStatus = "queued" | "running" | "done" | "failed" | "cancelled";
export interface RunSummary {
  p50_ms: number | null; p99_ms: number | null; throughput_rps: number | null;
  error_rate: number | null; slo_met: boolean | null;
}
// seed_text: the seed it was started with as its digits (null: the spec's own); `seed`, the
// same as a JSON number, loses digits past 2^53.
export interface RunBrief {
  id: string; system: string; status: RunStatus; seed: number | null; seed_text: string | null; design_id: string | null;
  version: number | null; error: string | null; summary: RunSummary | null;
  created_at: string; finished_at: string | null;
}
// The result document is described in docs/results.md; new sections appear as new keys.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Result = Record<string, any>;
export interface RunState extends RunBrief { progress: number; spec: string; result?: Result }
export interface DesignBrief {
  id: string; name: string; created_at: string; updated_at: string; versions: number; runs: number;
}
export interface Design {
  id: string; name: string; created_at: string; updated_at: string; spec: string;
  layout: Record<string, { x: number; y: number }>; version: number;
  versions: { number: number; created_at: string; runs: number }[];
}
export interface PatternBrief {
  id: string; name: string; category: string; summary: string; level: string; problems: string[];
  related?: boolean; // in a search's hits: a fix of an anti-pattern that matches, not a match
}

export class ApiError extends Error {
  // data: the error's whole JSON body (e.g. a refused run's `cost` and `can_force`).
  constructor(public status: number, message: string, public errors: SpecIssue[] = [], public data: Record<string, unknown> = {}) {
    super(message);
  }
}

const TOKEN_KEY = "scalesim-studio-token";

/** The token `scalesim studio` put in the link (kept for this tab, removed from the URL). */
export function token(): string | null {
  const params = new URLSearchParams(window.location.search);
  const given = params.get("token");
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    params.delete("token");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? `?${rest}` : "") + window.location.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function headers(json: boolean): HeadersInit {
  const out: Record<string, string> = {};
  const t = token();
  if (t) out.Authorization = `Bearer ${t}`;
  if (json) out["Content-Type"] = "application/json";
  return out;
}

async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`api/${path}`, {
    method, headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    let errors: SpecIssue[] = [];
    let body: Record<string, unknown> = {};
    try {
      const data = await response.json();
      message = data.error ?? message;
      errors = data.errors ?? [];
      body = data;
    } catch { /* not JSON: keep the status line */ }
    throw new ApiError(response.status, message, errors, body);
  }
  return response;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await request(method, path, body);
  return (response.status === 204 ? null : await response.json()) as T;
}

export const api = {
  health: () => json<Record<string, unknown>>("GET", "health"),
  schema: () => json<Record<string, unknown>>("GET", "schema"),
  templates: () => json<TemplateCard[]>("GET", "templates"),
  template: (id: string) => json<TemplateDetails>("GET", `templates/${encodeURIComponent(id)}`),
  buildTemplate: (id: string, params: Record<string, unknown>) =>
    json<{ spec: string }>("POST", `templates/${encodeURIComponent(id)}/spec`, { params }),
  validate: (spec: string) => json<Validation>("POST", "validate", { spec }),
  // force: run even when it is estimated over the run budget (the server refuses it with 422).
  // seed: its decimal digits, which the server reads as an integer (a JavaScript number
  // keeps 53 bits, so a seed up to 2^63 − 1 travels as text).
  startRun: (spec: string, seed: string | null, designId: string | null, version: number | null, force = false) =>
    json<{ id: string; status: RunStatus }>("POST", "runs", { spec, seed, design_id: designId, version, force }),
  run: (id: string) => json<RunState>("GET", `runs/${encodeURIComponent(id)}`),
  runs: (designId?: string) => json<RunBrief[]>("GET", `runs${designId ? `?design_id=${encodeURIComponent(designId)}` : ""}`),
  cancelRun: (id: string) => json<RunState>("DELETE", `runs/${encodeURIComponent(id)}`),
  runEventsUrl: (id: string) => {
    const t = token();
    return `api/runs/${encodeURIComponent(id)}/events${t ? `?token=${encodeURIComponent(t)}` : ""}`;
  },
  compare: (a: string, b: string) =>
    json<Comparison>("GET", `compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`),
  targets: () => json<GenerateTarget[]>("GET", "generate/targets"),
  // empty: why a target would write nothing for this spec (only the README), as the CLI says.
  targetsFor: (spec: string) => json<GenerateTarget[]>("POST", "generate/targets", { spec }),
  preview: (body: GenerateBody) =>
    json<{ system: string; files: { path: string; content: string }[] }>("POST", "generate", { ...body, format: "json" }),
  generateZip: async (body: GenerateBody): Promise<{ blob: Blob; filename: string }> => {
    const response = await request("POST", "generate", { ...body, format: "zip" });
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "scalesim.zip";
    return { blob: await response.blob(), filename };
  },
  designs: () => json<DesignBrief[]>("GET", "designs"),
  design: (id: string) => json<Design>("GET", `designs/${encodeURIComponent(id)}`),
  createDesign: (name: string, spec: string, layout: object) =>
    json<Design>("POST", "designs", { name, spec, layout }),
  // base_version: the version the edit started from (409 when another save made a newer one).
  updateDesign: (id: string, body: { name?: string; spec?: string; layout?: object; base_version?: number }) =>
    json<Design>("PUT", `designs/${encodeURIComponent(id)}`, body),
  deleteDesign: (id: string) => json<null>("DELETE", `designs/${encodeURIComponent(id)}`),
  duplicateDesign: (id: string) => json<Design>("POST", `designs/${encodeURIComponent(id)}/duplicate`),
  version: (id: string, n: number) =>
    json<{ number: number; spec: string; layout: Design["layout"] }>("GET", `designs/${encodeURIComponent(id)}/versions/${n}`),
  patterns: (q: string) => json<PatternBrief[]>("GET", `patterns${q ? `?q=${encodeURIComponent(q)}` : ""}`),
  pattern: (id: string) => json<Record<string, unknown>>("GET", `patterns/${encodeURIComponent(id)}`),
  patternGraph: (id: string) =>
    json<{ centre: string; nodes: (PatternBrief & { distance: number })[]; edges: { source: string; kind: string; target: string }[] }>(
      "GET", `patterns/${encodeURIComponent(id)}/graph`),
  trees: () => json<{ id: string; title: string }[]>("GET", "patterns/trees"),
  advise: (tree: string, answers: Record<string, string>) => json<Advice>("POST", "patterns/advise", { tree, answers }),
};

export interface GenerateTarget { id: string; available: boolean; empty?: string | null }
export interface GenerateBody { spec: string; targets: string[]; namespace: string; image_registry: string; k8s_version: string }
// seeds: the seeds the two runs drew from (the spec's when none was given), as digits.
export interface Comparison { a: RunBrief; b: RunBrief; seeds: { a: string; b: string }; deltas: Delta[] }
export interface Delta {
  scope: string; metric: string; a: number | null; b: number | null; change: number | null;
  relative: number | null; verdict: string;
}
export interface Advice {
  tree: string;
  steps: { key: string; question: string; answer: string; label: string }[];
  recommendations: { id: string; reason: string }[];
  next: { key: string; text: string; help: string | null; choices: { value: string; label: string }[] } | null;
}
