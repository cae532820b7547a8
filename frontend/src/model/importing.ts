// Importing a file as a saved design: a design may be saved invalid (a draft), but a file
// that is not a spec at all (not text, not YAML, a Kubernetes or Compose file) is refused
// with the reason, instead of becoming a design that opens as nothing.
import { isObj } from "./spec";
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { parse } from "./yamlDoc";

/** Why `text` (the file `name`) cannot be imported as a design, or null when it can. */
export function refusal(name: string, text: string): string | null {
  if (text.includes("\u0000")) return `${name}: not a text file`;
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (Array.isArray(documents) && documents.length > 1) return severalDocuments(name, lines, documents);
  const parsed = parse(text);
  const bad = parsed.syntaxErrors[0];
  if (bad) return `${name}:${bad.line}:${bad.column}: not YAML: ${bad.message}`;
  if (!isObj(parsed.data)) return `${name}: a spec is a YAML mapping with scalesim, name, components and workloads`;
  if (!("scalesim" in parsed.data) && !("components" in parsed.data)) {
    return `${name}: not a ScaleSim spec (it has neither scalesim nor components)${importHint([parsed.data])}`;
  }
  return null;
}

/** A file of several YAML documents (`---` between them) is never one spec; a Kubernetes
 * manifest usually is one, so it gets the same pointer to scalesim import as a single one. */
function severalDocuments(name: string, lines: LineCounter, documents: Document[]): string {
  const error = documents.flatMap((d) => d.errors)[0];
  if (error) {
    const { line, col } = lines.linePos(error.pos[0]);
    return `${name}:${line}:${col}: not YAML: ${error.message.split("\n")[0]}`;
  }
  const data = documents.map((d): unknown => { try { return d.toJS(); } catch { return null; } });
  return `${name}: not a ScaleSim spec (it holds ${documents.length} YAML documents, a spec is one)${importHint(data)}`;
}

/** The pointer to scalesim import when a document looks like a Kubernetes or Compose file. */
function importHint(data: unknown[]): string {
  const other = data.some((d) => isObj(d) && ("apiVersion" in d || "services" in d));
  return other ? "; turn Kubernetes or Compose files into one with scalesim import" : "";
}
/** What to tell after importing: the design's name and, when the spec does not validate
 * yet, how many problems the editor will mark. */
export function imported(name: string, problems: number): string {
  if (problems === 0) return `imported ${name}`;
  return `imported ${name} with ${problems} problem${problems === 1 ? "" : "s"}: open it to see each on its line`;
}
