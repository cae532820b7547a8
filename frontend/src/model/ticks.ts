// The time-series charts' axis ticks: round steps (1, 2 or 5 × 10^k, never uPlot's 2.5 that
// gave 0, 0.025, 0.05), as many as the axis has room for and no more.

/** The smallest round step (1, 2 or 5 × 10^k) that splits `span` into at most `most - 1`
 * intervals, so at most `most` ticks. */
export function tickStep(span: number, most: number): number {
  const raw = span > 0 && Number.isFinite(span) ? span / Math.max(1, most - 1) : 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  // the smallest multiple at least raw (a hair's tolerance: 0.3 / 3 is 0.09999…)
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw * (1 - 1e-9)) ?? 10 * power;
}

/** Decimal places a step's ticks need: 0 for 1, 2, 5, 10…; 2 for 0.05. */
export function tickDecimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** The multiples of the round step between `min` and `max`, at most `most` of them. */
export function ticks(min: number, max: number, most: number): number[] {
  const step = tickStep(max - min, most);
  const decimals = tickDecimals(step);
  const out: number[] = [];
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) {
    out.push(Number((i * step).toFixed(decimals)) + 0);  // + 0: no -0
  }
  return out;
}

/** How many ticks an axis of `pixels` has room for, one per `spacing` px; at least four,
 * whose step (under 2.5 × a third of the span) leaves two ticks on an axis from 0. */
export function tickRoom(pixels: number, spacing: number): number {
  return Math.max(4, Math.floor(pixels / spacing) + 1);
}
