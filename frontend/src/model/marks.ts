// Validation errors and lint findings placed on the canvas elements they concern: by their
// spec path, or (for a YAML syntax error, which has none) by the line they are on.
import type { Finding, SpecIssue, Validation } from "../api";
import { locate, type Graph } from "./graph";
import { parsePath, pathAtLine, type Parsed } from "./yamlDoc";

export interface Marks { errors: string[]; findings: Finding[] }

function add(map: Record<string, Marks>, id: string | undefined, error?: string, finding?: Finding): void {
  if (!id) return;
  const marks = (map[id] ??= { errors: [], findings: [] });
  if (error) marks.errors.push(error);
  if (finding) marks.findings.push(finding);
}

export function allErrors(parsed: Parsed, validation: Validation | null): SpecIssue[] {
  if (parsed.syntaxErrors.length) {
    // The parser reports one mistake once for each node it breaks ("Nested mappings…"
    // twice for `: : [` on one line): the first of each message on a line is the mistake.
    const seen = new Set<string>();
    return parsed.syntaxErrors.filter((e) => {
      const key = `${e.line}\u0000${e.message}`;
      return !seen.has(key) && seen.add(key);
    }).map((e) => ({ ...e, path: "", message: e.message }));
  }
  return validation?.errors ?? [];
}

export function placeMarks(graph: Graph, parsed: Parsed, errors: SpecIssue[], findings: Finding[]
): { nodes: Record<string, Marks>; edges: Record<string, Marks> } {
  const nodes: Record<string, Marks> = {};
  const edges: Record<string, Marks> = {};
  for (const error of errors) {
    const path = error.path ? parsePath(error.path) : pathAtLine(parsed, error.line);
    const where = locate(graph, path);
    const text = `line ${error.line}: ${error.path ? `${error.path}: ` : ""}${error.message}`;
    add(nodes, where.node, text);
    if (where.edge && graph.edges.find((e) => e.id === where.edge)?.kind !== "entry") add(edges, where.edge, text);
  }
  for (const finding of findings) {
    const where = locate(graph, parsePath(finding.path));
    add(nodes, where.node, undefined, finding);
  }
  return { nodes, edges };
}
