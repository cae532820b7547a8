// Cancelling a run that finishes between the click and the request: the API answers 409
// ("run '<id>' has already finished (done)"), which is no failure of the person's: the page
// says so plainly, as a note, and the run's own end shows its result.
import { ApiError } from "../api";

export const ALREADY_FINISHED = "the run had already finished";

/** The notice for a cancel the API did not carry out: a note when the run had finished
 * already (409), else the error as the API gives it. */
export function cancelRefused(error: unknown): { kind: "error" | "info"; text: string } {
  if (error instanceof ApiError && error.status === 409) return { kind: "info", text: ALREADY_FINISHED };
  return { kind: "error", text: error instanceof Error ? error.message : String(error) };
}
