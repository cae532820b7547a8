// The canvas's finding counts are 11 px bold text on a coloured badge: WCAG AA asks 4.5:1 of
// text that small (QA: white on the warning orange #e69a1c was 2.33:1).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const css = readFileSync(join(__dirname, "../src/styles.css"), "utf8");
const variables = Object.fromEntries([...css.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2]]));

/** The value of `property` in the last rule whose selector is exactly `selector`, var(…) resolved. */
function declared(selector: string, property: string): string {
  const rules = [...css.matchAll(/([^{}]+)\{([^}]*)\}/g)].filter((m) => m[1].trim() === selector);
  const values = rules.flatMap((m) => [...m[2].matchAll(new RegExp(`(?:^|;)\\s*${property}:\\s*([^;]+)`, "g"))].map((d) => d[1].trim()));
  const value = (values.at(-1) ?? "").replace(/var\((--[\w-]+)\)/, (_, name: string) => variables[name]);
  return value.replace(/^#([0-9a-f])([0-9a-f])([0-9a-f])$/i, "#$1$1$2$2$3$3");
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const contrast = (a: string, b: string) => {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
};

describe("the canvas's finding badges", () => {
  it.each(["error", "warning"])("%s: its count is readable (4.5:1 or more)", (kind) => {
    const background = declared(`.mark.${kind}`, "background");
    const text = declared(`.mark.${kind}`, "color") || declared(".mark", "color");
    expect(background).toMatch(/^#[0-9a-f]{6}$/i);
    expect(text).toMatch(/^#[0-9a-f]{6}$/i);
    expect(contrast(text, background)).toBeGreaterThanOrEqual(4.5);
  });
});
