/** Exponential backoff with full jitter, so many retrying adapters do not retry in lockstep. */
export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  readonly initialMs: number;
  /** Ceiling for any delay, ms. */
  readonly maxMs: number;
}

export function backoffDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: never zero, never above the ceiling.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
