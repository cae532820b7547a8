// What a comparison of two runs can be trusted for. Runs with the same seed draw the same
// random numbers where their designs agree (common random numbers: each component has its own
// stream), so their difference is the change; with different seeds it includes sampling noise.
import type { Result } from "../api";

export const SEED_HINT = "differences include sampling noise; use the same seed to compare designs";

/** The hint to show for two results, or null when they share their seed. */
export function seedHint(a: Result | undefined, b: Result | undefined): string | null {
  if (!a || !b || a.seed === undefined || b.seed === undefined || a.seed === b.seed) return null;
  return `These runs have different seeds (${a.seed} and ${b.seed}): ${SEED_HINT}.`;
}
