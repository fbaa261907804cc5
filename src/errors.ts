/** How raftsim quotes an exception in a finding or an error message (one home for both forms). */

/** "RangeError: hole": an exception thrown by code under test, where its class says something. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The message alone: an error raftsim wraps in its own message (bad JSON, a failed load). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
