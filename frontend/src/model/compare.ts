// What a comparison of two runs can be trusted for. Runs with the same seed draw the same
// random numbers where their designs agree (common random numbers: each component has its own
// stream), so their difference is the change; with different seeds it includes sampling noise.
import type { Result, RunBrief } from "../api";
import { number } from "./format";

export const SEED_HINT = "differences include sampling noise; use the same seed to compare designs";

/** The hint to show for two results, or null when they share their seed. */
export function seedHint(a: Result | undefined, b: Result | undefined): string | null {
  if (!a || !b || a.seed === undefined || b.seed === undefined || a.seed === b.seed) return null;
  return `These runs have different seeds (${a.seed} and ${b.seed}): ${SEED_HINT}.`;
}

/** A run as the Compare page lists it: what ran (the saved version, or edits not saved: two
 * runs of one design before and after a change read alike without it), when, its seed and
 * its p99. */
export function runLabel(run: RunBrief): string {
  const what = run.version !== null ? `v${run.version}` : "unsaved edits";
  return `${run.system} (${what}) · ${run.created_at.replace("T", " ").replace("Z", "")} · ` +
    `seed ${run.seed ?? "spec"} · p99 ${number(run.summary?.p99_ms)} ms`;
}
