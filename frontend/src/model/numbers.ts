// The Generate preview highlights the numbers that come from the spec (replicas, workers,
// timeouts, thresholds) where the generated files write them. A number counts only as a
// word of its own: the 8 of "k8s" or the 2 of "v2" is part of a name, not a spec number.

/** A number with its unit, standing alone: not after a letter, digit or dot, nor before a
 * letter or digit. The group keeps it when text is split by it. */
const NUMBER = /(?<![\p{L}\p{N}_.])(\d+(?:\.\d+)?(?:ms|s|%)?)(?![\p{L}\p{N}_])/gu;

/** Numbers written in the spec, to find them again in what is generated (0 and 1 are too
 * common to mean anything). */
export function specNumbers(data: unknown): Set<string> {
  const out = new Set<string>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
    else if (typeof value === "number" && value > 1) out.add(String(value));
    else if (typeof value === "string") for (const m of value.match(NUMBER) ?? []) if (!/^[01]$/.test(m)) out.add(m);
  };
  visit(data);
  return out;
}

/** `text` in pieces, each marked when it is one of `numbers` standing alone. */
export function markNumbers(text: string, numbers: Set<string>): { text: string; mark: boolean }[] {
  return text.split(NUMBER).map((piece, i) => ({ text: piece, mark: i % 2 === 1 && numbers.has(piece) }));
}
