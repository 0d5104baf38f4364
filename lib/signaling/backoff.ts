/**
 * Exponential backoff with jitter, bounded in attempts and in delay. Pure: the random source is
 * passed in so tests can pin it.
 */

export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  baseDelayMs: number;
  /** Cap on any one delay (ms). */
  maxDelayMs: number;
  /** Attempts in one recovery (the first try included) before the client gives up. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxAttempts: 10,
});

/**
 * The delay before retry number `retry` (1 for the first retry): "equal jitter", i.e. half of
 * the exponential step fixed and half random, so a delay is never zero and never above the cap.
 */
export function backoffDelay(
  retry: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(retry));
  const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.min(n - 1, 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(step / 2 + (r * step) / 2);
}

/** The longest a whole recovery can wait between its attempts (the bound tests rely on). */
export function maxTotalBackoff(opts: BackoffOptions): number {
  let total = 0;
  for (let i = 1; i < opts.maxAttempts; i++) {
    total += Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.min(i - 1, 30));
  }
  return total;
}
