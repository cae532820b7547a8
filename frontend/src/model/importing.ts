// Importing a file as a saved design: a design may be saved invalid (a draft), but a file
// that is not a spec at all (not text, not YAML, a Kubernetes or Compose file) is refused
// with the reason, instead of becoming a design that opens as nothing.
import { isObj } from "./spec";
import { parse } from "./yamlDoc";

/** Why `text` (the file `name`) cannot be imported as a design, or null when it can. */
export function refusal(name: string, text: string): string | null {
  if (text.includes("\u0000")) return `${name}: not a text file`;
  const parsed = parse(text);
  const bad = parsed.syntaxErrors[0];
  if (bad) return `${name}:${bad.line}:${bad.column}: not YAML: ${bad.message}`;
  if (!isObj(parsed.data)) return `${name}: a spec is a YAML mapping with scalesim, name, components and workloads`;
  if (!("scalesim" in parsed.data) && !("components" in parsed.data)) {
    const other = "apiVersion" in parsed.data || "services" in parsed.data;
    return `${name}: not a ScaleSim spec (it has neither scalesim nor components)` +
      (other ? "; turn Kubernetes or Compose files into one with scalesim import" : "");
  }
  return null;
}

/** What to tell after importing: the design's name and, when the spec does not validate
 * yet, how many problems the editor will mark. */
export function imported(name: string, problems: number): string {
  if (problems === 0) return `imported ${name}`;
  return `imported ${name} with ${problems} problem${problems === 1 ? "" : "s"}: open it to see each on its line`;
}
