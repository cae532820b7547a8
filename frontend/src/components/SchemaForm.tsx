// Forms generated from the spec's JSON Schema (GET /api/schema): one field per property, with
// its description, unit and default shown, and the server's error for that path inline.
// The schema's unions (a value or null; a number or a string with a unit such as "5ms" or
// "5%") become one text field that accepts either, which generic form libraries render as a
// choice of sub-forms.
import { useEffect, useState } from "react";
import type { SpecIssue } from "../api";
import { duration } from "../model/format";
import { formatPath, type Path } from "../model/yamlDoc";

type Schema = Record<string, unknown>;

export function resolveRef(root: Schema, node: Schema): Schema {
  let current = node;
  for (let i = 0; i < 10 && typeof current.$ref === "string"; i++) {
    const name = current.$ref.split("/").pop()!;
    const target = ((root.$defs ?? {}) as Record<string, Schema>)[name] ?? {};
    const { $ref: _ignored, ...rest } = current;
    current = { ...target, ...rest };
  }
  return current;
}

/** The schema with `anyOf [X, null]` collapsed to X (and refs followed). */
export function simplify(root: Schema, node: Schema): Schema {
  let current = resolveRef(root, node);
  if (Array.isArray(current.anyOf)) {
    const options = (current.anyOf as Schema[]).map((o) => resolveRef(root, o))
      .filter((o) => o.type !== "null");
    if (options.length === 1) {
      const { anyOf: _ignored, ...rest } = current;
      const inner = simplify(root, options[0]);
      // The value's own description names its unit ("a positive duration: 250us, 5ms…").
      const unit = typeof inner.description === "string" && inner.description !== rest.description
        ? inner.description : undefined;
      current = { ...inner, ...rest, description: rest.description ?? inner.description,
        unit: rest.description ? unit : undefined };
    } else {
      current = { ...current, anyOf: options };
    }
  }
  return current;
}

type Shape = "object" | "enum" | "boolean" | "number" | "integer" | "text" | "list" | "yaml";

function shapeOf(root: Schema, schema: Schema): Shape {
  if (Array.isArray(schema.enum) || schema.const !== undefined) return "enum";
  if (schema.type === "object" && schema.properties) return "object";
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "integer") return "integer";
  if (schema.type === "number") return "number";
  if (schema.type === "string") return "text";
  if (schema.type === "array") return "list";
  if (Array.isArray(schema.anyOf)) {
    const options = (schema.anyOf as Schema[]).map((o) => simplify(root, o));
    if (options.every((o) => ["string", "number", "integer"].includes(String(o.type)) || o.enum || o.const !== undefined)) return "text";
    return "yaml";
  }
  return "text";
}

function choices(schema: Schema): string[] {
  if (Array.isArray(schema.enum)) return schema.enum.map(String);
  return schema.const !== undefined ? [String(schema.const)] : [];
}

/** What the user typed, as the value the spec wants: numbers stay numbers where allowed. */
export function coerce(root: Schema, schema: Schema, typed: string): unknown {
  const text = typed.trim();
  if (text === "") return undefined;
  const shape = shapeOf(root, schema);
  const numeric = /^-?\d+(\.\d+)?([eE]-?\d+)?$/.test(text);
  if (shape === "integer" && /^-?\d+$/.test(text)) return Number(text);
  if (shape === "number" && numeric) return Number(text);
  if (shape === "text" && numeric && Array.isArray(schema.anyOf)) {
    const types = (schema.anyOf as Schema[]).map((o) => simplify(root, o).type);
    if (types.includes("number") || (types.includes("integer") && /^-?\d+$/.test(text))) return Number(text);
  }
  if (text === "true" || text === "false") return shape === "boolean" ? text === "true" : text;
  return text;
}

/** Whether a field takes a duration: a string with a unit ("5ms", "1.5s"), alone or as one
 * of its options. Its default comes from the schema as a number of seconds. */
export function isDuration(root: Schema, schema: Schema): boolean {
  const options = Array.isArray(schema.anyOf) ? (schema.anyOf as Schema[]).map((o) => simplify(root, o)) : [schema];
  return options.some((o) => {
    if (o.type !== "string" || typeof o.pattern !== "string") return false;
    try {
      const re = new RegExp(o.pattern);
      return re.test("5ms") && re.test("1.5s") && !re.test("5");
    } catch {
      return false;
    }
  });
}

/** A field's default as the placeholder shows it: a duration with its unit, as the hint
 * under the field asks the value to be written. */
export function defaultText(root: Schema, schema: Schema, fallback: unknown): string {
  if (fallback === undefined || fallback === null) return "";
  return `default: ${typeof fallback === "number" && isDuration(root, schema) ? duration(fallback) : show(fallback)}`;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return JSON.stringify(value).replace(/"/g, "");
  return String(value);
}

interface FormProps {
  root: Schema;
  schema: Schema;
  value: unknown;
  path: Path;
  errors: SpecIssue[];
  exclude?: string[];
  onSet: (path: Path, value: unknown) => void;
}

export function SchemaForm({ root, schema, value, path, errors, exclude = [], onSet }: FormProps) {
  const node = simplify(root, schema);
  const properties = (node.properties ?? {}) as Record<string, Schema>;
  const current = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  return (
    <div className="form">
      {Object.entries(properties).filter(([key]) => !exclude.includes(key)).map(([key, prop]) => (
        <Field key={key} root={root} schema={prop} name={key} value={current[key]}
          path={[...path, key]} errors={errors} onSet={onSet} required={Array.isArray(node.required) && node.required.includes(key)} />
      ))}
    </div>
  );
}

interface FieldProps {
  root: Schema; schema: Schema; name: string; value: unknown; path: Path; errors: SpecIssue[];
  required: boolean; onSet: (path: Path, value: unknown) => void;
}

function Field({ root, schema, name, value, path, errors, required, onSet }: FieldProps) {
  const node = simplify(root, schema);
  const shape = shapeOf(root, node);
  const dotted = formatPath(path);
  const mine = errors.filter((e) => e.path === dotted || (shape !== "object" && e.path.startsWith(`${dotted}.`)) || e.path.startsWith(`${dotted}[`));
  const description = [node.description, node.unit].filter((d) => typeof d === "string").join(" — ");
  const fallback = node.default;
  const id = `f-${dotted.replace(/[^A-Za-z0-9]/g, "-")}`;
  const [open, setOpen] = useState(value !== undefined && value !== null);
  useEffect(() => setOpen(value !== undefined && value !== null), [value]);

  if (shape === "object") {
    const present = value !== undefined && value !== null;
    return (
      <fieldset className={`group${mine.length ? " invalid" : ""}`}>
        <legend>
          <button type="button" className="link" onClick={() => setOpen(!open)} aria-expanded={open}>{open ? "▾" : "▸"} {name}</button>
          {!present && <button type="button" className="small" onClick={() => { onSet(path, {}); setOpen(true); }}>add</button>}
          {present && !required && <button type="button" className="small" onClick={() => onSet(path, undefined)}>remove</button>}
        </legend>
        {description && <p className="hint">{description}</p>}
        {open && present && <SchemaForm root={root} schema={node} value={value} path={path} errors={errors} onSet={onSet} />}
        {mine.filter((e) => e.path === dotted).map((e) => <p key={e.message} className="field-error">{e.message}</p>)}
      </fieldset>
    );
  }
  return (
    <div className={`field${mine.length ? " invalid" : ""}`}>
      <label htmlFor={id}>{name}{required ? " *" : ""}</label>
      <Input id={id} root={root} schema={node} shape={shape} value={value} fallback={fallback}
        onCommit={(v) => onSet(path, v)} />
      {description && <p className="hint">{description}</p>}
      {mine.map((e) => <p key={e.path + e.message} className="field-error" role="alert">{e.message}</p>)}
    </div>
  );
}

interface InputProps {
  id: string; root: Schema; schema: Schema; shape: Shape; value: unknown; fallback: unknown;
  onCommit: (value: unknown) => void;
}

function Input({ id, root, schema, shape, value, fallback, onCommit }: InputProps) {
  const [draft, setDraft] = useState(show(value));
  useEffect(() => setDraft(show(value)), [value]);
  const placeholder = defaultText(root, schema, fallback);
  if (shape === "enum") {
    return (
      <select id={id} value={show(value)} onChange={(e) => onCommit(e.target.value || undefined)}>
        <option value="">{placeholder || "—"}</option>
        {choices(schema).map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    );
  }
  if (shape === "boolean") {
    return (
      <select id={id} value={value === undefined ? "" : String(value)}
        onChange={(e) => onCommit(e.target.value === "" ? undefined : e.target.value === "true")}>
        <option value="">{placeholder || "—"}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  if (shape === "list" || (shape === "yaml" && typeof value === "object" && value !== null)) {
    return <input id={id} value={show(value)} readOnly title="edit this one in the YAML" className="readonly" />;
  }
  const commit = () => {
    if (draft === show(value)) return;
    onCommit(coerce(root, schema, draft));
  };
  return (
    <input id={id} value={draft} placeholder={placeholder} inputMode={shape === "integer" || shape === "number" ? "decimal" : undefined}
      onChange={(e) => setDraft(e.target.value)} onBlur={commit}
      onKeyDown={(e) => { if (e.key === "Enter") commit(); if (e.key === "Escape") setDraft(show(value)); }} />
  );
}
