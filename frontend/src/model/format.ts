// How the History and Compare tables write a number, so that they agree with each other and
// with the Simulate page: counts exactly, other numbers to 4 significant digits, and a share
// (an error rate) as a percentage, as the Simulate page's cards show it; and a time the API
// stores (UTC) in the user's own time zone.

/** A count exactly (31,502, not 31,500); any other number to 4 significant digits. */
export function number(v: number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  return Number.isInteger(v) ? v.toLocaleString() : Number(v.toPrecision(4)).toLocaleString();
}

/** A share (0–1) as a percentage with two decimals: 0.0127 → "1.27 %". */
export function share(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : `${(v * 100).toFixed(2)} %`;
}

/** A relative change with its sign, to a tenth of a percent: 0.0312 → "+3.1%"; a change
 * that rounds to nothing is "0.0%", never "-0.0%". */
export function percentChange(relative: number): string {
  const tenths = Math.round(relative * 1000);
  return `${tenths > 0 ? "+" : tenths < 0 ? "-" : ""}${(Math.abs(tenths) / 10).toFixed(1)}%`;
}

/** A compared metric: error rates and other shares as percentages, the rest as numbers. */
export function metric(name: string, v: number | null | undefined): string {
  return name === "error_rate" || name.endsWith("_share") ? share(v) : number(v);
}

/** A duration in seconds (how the schema gives defaults) in the spec's own unit style:
 * 0.025 → "25ms", 0.0005 → "500us", 60 → "60s". */
export function duration(seconds: number): string {
  const tidy = (v: number): number => Number(v.toPrecision(12));  // 0.025 * 1000 is 25.000000000000004
  if (seconds === 0) return "0s";
  if (Math.abs(seconds) < 1e-3) return `${tidy(seconds * 1e6)}us`;
  if (Math.abs(seconds) < 1) return `${tidy(seconds * 1e3)}ms`;
  return `${tidy(seconds)}s`;
}

/** Why a run has no numbers: the reason a failed or cancelled run was recorded with (the
 * wall-clock limit, a safety limit, a cancel); null for a run that finished or is still on. */
export function runReason(run: { status: string; error: string | null }): string | null {
  if (run.status !== "failed" && run.status !== "cancelled") return null;
  return run.error?.trim() || `${run.status}, with no reason recorded`;
}

const CLOCK: Intl.DateTimeFormatOptions = {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
};

/** A time the API gives in UTC ("2026-12-07T19:05:47Z") as "2026-12-07 14:05:47" in
 * `timeZone` (by default the browser's own, where the user is: New York here); text that is
 * not a time is returned as it is. */
export function localTime(iso: string, timeZone?: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const part = Object.fromEntries(new Intl.DateTimeFormat("en-US", { ...CLOCK, timeZone }).formatToParts(at)
    .map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}
