// A template's parameters as the gallery's form shows them: the server refuses bad values
// with one message, "NAME=VALUE: why; allowed: …" per parameter joined by "; " (scalesim new
// --set says the same); the form puts each under its own field.

import type { TemplateParam } from "../api";

/** The server's message split by the parameter each part names; what names none (a check
 * across parameters) is `other`. */
export function problemsByParam(message: string, names: string[]): { byParam: Record<string, string>; other: string[] } {
  const starts: { at: number; name: string }[] = [];
  for (const name of names) {
    const prefix = `${name}=`;
    for (let at = message.indexOf(prefix); at >= 0; at = message.indexOf(prefix, at + 1)) {
      if (at === 0 || message.slice(at - 2, at) === "; ") starts.push({ at, name });
    }
  }
  starts.sort((a, b) => a.at - b.at);
  const byParam: Record<string, string> = {};
  const other: string[] = [];
  const lead = (starts.length ? message.slice(0, starts[0].at) : message).replace(/;\s*$/, "").trim();
  if (lead) other.push(lead);
  starts.forEach(({ at, name }, i) => {
    const part = message.slice(at, i + 1 < starts.length ? starts[i + 1].at : undefined).replace(/;\s*$/, "").trim();
    byParam[name] = byParam[name] ? `${byParam[name]}; ${part}` : part;
  });
  return { byParam, other };
}

/** The problems to show under the fields: a field edited since the values were refused is
 * no longer shown wrong (the next "Open with these values" checks it again); a check across
 * parameters stays until then. */
export function problemsToShow(message: string, names: string[], edited: ReadonlySet<string>): { byParam: Record<string, string>; other: string[] } {
  const { byParam, other } = problemsByParam(message, names);
  return { byParam: Object.fromEntries(Object.entries(byParam).filter(([name]) => !edited.has(name))), other };
}

/** What the form holds for one parameter: the text as typed (a number is read only when the
 * values are used, so "2." stays on the way to "2.5") or a checkbox's state. */
export type ParamInput = string | boolean;
type ParamShape = Pick<TemplateParam, "name" | "type" | "default" | "allowed">;

/** What the field shows: what was typed, else the default. */
export function paramInput(p: ParamShape, inputs: Record<string, ParamInput>): ParamInput {
  const bool = p.type === "bool" || typeof p.default === "boolean";
  return inputs[p.name] ?? (bool ? Boolean(p.default) : String(p.default ?? ""));
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The values to build the template with (only those the user set: the others keep their
 * defaults; a number field whose text is not a number is left out), and a problem in the
 * server's words for each such field, so the form puts it under its field. */
export function paramValues(params: ParamShape[], inputs: Record<string, ParamInput>): { values: Record<string, unknown>; problems: string[] } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const p of params) {
    const input = inputs[p.name];
    if (input === undefined) continue;
    const numeric = p.type === "int" || p.type === "float";
    if (!numeric || typeof input === "boolean") { values[p.name] = input; continue; }
    const text = input.trim();
    if (DECIMAL.test(text) && Number.isFinite(Number(text))) values[p.name] = Number(text);
    else problems.push(`${p.name}=${input}: not a number; allowed: ${p.allowed}`);
  }
  return { values, problems };
}
