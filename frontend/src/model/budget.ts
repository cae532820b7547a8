// A run over the run budget: the server's refusal tells an API client to send "force": true
// (studio/specs.py FORCE; tests/studio/test_shared_constants.py holds the two to one text).
// The page says it in its own words, since the Run button asks whether to run it anyway.
import type { Validation } from "../api";

export const FORCE_IN_API = 'run it anyway with "force": true';

/** How the page says it: Simulate's Run asks first, then runs it forced. */
export const RUN_ANYWAY = "run it anyway (Run simulation asks first)";

/** The server's message with the API's way to force a run put in the page's words. */
export function inPageWords(message: string, instead: string = RUN_ANYWAY): string {
  return message.replace(FORCE_IN_API, instead);
}

/** A validation whose findings (a run that would be refused) say it in the page's words. */
export function findingsInPageWords(validation: Validation): Validation {
  return { ...validation, findings: validation.findings.map((f) => ({ ...f, message: inPageWords(f.message) })) };
}
