// The seed a run is started with, as the person types it: checked, never rewritten.

/** The largest `simulation.seed`: 2^63 − 1. */
export const MAX_SEED = 2n ** 63n - 1n;

/** Why `seed` cannot start a run, or null when it can: empty (the spec's own seed) or a
 * whole number from 0 to MAX_SEED. "-5", "1.5" and "abc" are refused rather than run as
 * 5, 15 or the spec's seed. */
export function seedError(seed: string): string | null {
  const digits = seed.trim();
  if (digits === "") return null;
  if (!/^\d+$/.test(digits) || BigInt(digits) > MAX_SEED) {
    return `seed: a whole number from 0 to ${MAX_SEED}, or empty for the spec's`;
  }
  return null;
}
