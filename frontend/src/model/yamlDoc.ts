// The spec's YAML text is the one source of truth of a design. The canvas, the forms and the
// editor all read it; every edit is made on a `yaml` Document (which keeps comments) and
// written back as text. Untouched lines stay byte-for-byte what the user wrote: the edited
// document is reprinted and three-way merged with the original, so only the lines an edit
// really changes move (a reprint alone would refold long comments-free scalars and flow maps).
import { diff3Merge } from "node-diff3";
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Node as YamlNode } from "yaml";

export type Path = (string | number)[];

export const PRINT = { lineWidth: 96, flowCollectionPadding: false, indentSeq: true } as const;

export interface Parsed {
  doc: Document;
  data: unknown; // plain JS, null when the YAML does not parse
  lines: LineCounter;
  syntaxErrors: { line: number; column: number; message: string }[];
}

export function parse(text: string): Parsed {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntaxErrors = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return { line: pos.line, column: pos.col, message: e.message.split("\n")[0] };
  });
  let data: unknown = null;
  if (syntaxErrors.length === 0) {
    try {
      data = doc.toJS();
    } catch {
      data = null;
    }
  }
  return { doc, data, lines, syntaxErrors };
}

function splitLines(text: string): string[] {
  return text.split("\n");
}

/** Apply `mutate` to the document of `text` and return the new text, changing only the
 * lines the mutation changes. Throws when `text` does not parse (edit the YAML first). */
export function edit(text: string, mutate: (doc: Document) => void): string {
  const base = parseDocument(text);
  if (base.errors.length) throw new Error("the YAML has syntax errors: fix them in the editor");
  const changed = parseDocument(text);
  mutate(changed);
  const before = base.toString(PRINT);
  const after = changed.toString(PRINT);
  if (before === text || before === after) return before === after ? text : after;
  const merged: string[] = [];
  for (const region of diff3Merge(splitLines(text), splitLines(before), splitLines(after))) {
    if (region.ok) merged.push(...region.ok);
    else if (region.conflict) merged.push(...region.conflict.b);
  }
  return merged.join("\n");
}

/** Set a value, creating the maps on the way; plain objects become block or flow maps as
 * the reprint decides. */
export function setIn(doc: Document, path: Path, value: unknown): void {
  doc.setIn(path, doc.createNode(value));
}

export function deleteIn(doc: Document, path: Path): void {
  doc.deleteIn(path);
}

/** The path of the deepest node that starts on `line` (1-based), or that contains it. */
export function pathAtLine(parsed: Parsed, line: number): Path {
  let best: Path = [];
  const visit = (node: unknown, path: Path): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyNode = pair.key as YamlNode | null;
        const start = keyNode?.range ? parsed.lines.linePos(keyNode.range[0]).line : -1;
        const value = pair.value as YamlNode | null;
        const end = value?.range ? parsed.lines.linePos(value.range[1]).line : start;
        if (start <= line && line <= end) {
          best = [...path, key];
          visit(value, [...path, key]);
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        const n = item as YamlNode;
        if (!n?.range) return;
        const start = parsed.lines.linePos(n.range[0]).line;
        const end = parsed.lines.linePos(n.range[1]).line;
        if (start <= line && line <= end) {
          best = [...path, index];
          visit(n, [...path, index]);
        }
      });
    }
  };
  visit(parsed.doc.contents, []);
  return best;
}

/** 'components.api.calls[0].to' -> ['components', 'api', 'calls', 0, 'to']. */
export function parsePath(dotted: string): Path {
  const out: Path = [];
  for (const part of dotted.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    out.push(part.startsWith("[") ? Number(part.slice(1, -1)) : part);
  }
  return out;
}

export function formatPath(path: Path): string {
  return path.reduce<string>((text, part) =>
    typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${part}` : part, "");
}
