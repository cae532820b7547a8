// What a comparison of two runs can be trusted for. Runs with the same seed draw the same
// random numbers where their designs agree (common random numbers: each component has its own
// stream), so their difference is the change; with different seeds it includes sampling noise.
// Seeds are compared and shown as the decimal digits the API gives (`seed_text`, the
// comparison's `seeds`): a JavaScript number past 2^53 would make 2^53 + 1 read as 2^53.
import type { RunBrief } from "../api";
import { localTime, number } from "./format";

export const SEED_HINT = "differences include sampling noise; use the same seed to compare designs";

/** The hint to show for the seeds two runs drew from (as digits), or null when they share
 * their seed or are not known yet. */
export function seedHint(a: string | undefined, b: string | undefined): string | null {
  if (a === undefined || b === undefined || a === b) return null;
  return `These runs have different seeds (${a} and ${b}): ${SEED_HINT}.`;
}

/** A run as the Compare page lists it: what ran (the saved version, or edits not saved: two
 * runs of one design before and after a change read alike without it), when (in the user's
 * time zone, as History shows it), its seed and its p99. */
export function runLabel(run: RunBrief): string {
  const what = run.version !== null ? `v${run.version}` : "unsaved edits";
  return `${run.system} (${what}) · ${localTime(run.created_at)} · ` +
    `seed ${run.seed_text ?? "spec"} · p99 ${number(run.summary?.p99_ms)} ms`;
}

/** The design open in the studio: its saved id (null for one not saved) and its system's
 * name (the spec's `name`, what a run records as `system`). */
export interface OpenDesign { designId: string | null; system: string | null }

/** A run of the open design: recorded under it, or of its system (a run of unsaved edits is
 * recorded under no design). */
function ofDesign(run: RunBrief, open: OpenDesign): boolean {
  return (open.designId !== null && run.design_id === open.designId) ||
    (open.system !== null && run.system === open.system);
}

/** The runs Compare starts with, [A, B]: the two newest of the open design (A the older),
 * or else the two newest of any; null with fewer than two. `runs` are newest first. */
export function defaultPair(runs: RunBrief[], open: OpenDesign): [string, string] | null {
  const own = runs.filter((run) => ofDesign(run, open));
  const pick = own.length >= 2 ? own : runs;
  return pick.length >= 2 ? [pick[1].id, pick[0].id] : null;
}

/** A warning when two runs are of different designs (different systems, or two saved
 * designs), whose deltas are those of two systems rather than of a change to one; else null. */
export function designWarning(a: RunBrief, b: RunBrief): string | null {
  const saved = a.design_id !== null && b.design_id !== null && a.design_id !== b.design_id;
  if (a.system === b.system && !saved) return null;
  const names = a.system === b.system ? "two saved designs" : `${a.system} and ${b.system}`;
  return `These runs are of different designs (${names}): the deltas compare two designs, not a change to one.`;
}
