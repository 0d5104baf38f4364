/**
 * Per-key transactions-per-second limiter over a sliding one-second window. The clock is
 * passed in so the limiter stays a pure data structure.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly windowMs = 1000) {}

  /** Records a call and says whether it is within `limit` calls per window. */
  allow(key: string, limit: number, now: number): boolean {
    const since = now - this.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (list.length >= limit) {
      this.hits.set(key, list);
      return false;
    }
    list.push(now);
    this.hits.set(key, list);
    // Bounded memory: drop keys idle for a whole window now and then.
    if (this.hits.size > 10_000) this.prune(now);
    return true;
  }

  prune(now: number): void {
    const since = now - this.windowMs;
    for (const [k, list] of this.hits) {
      if (!list.some((t) => t > since)) this.hits.delete(k);
    }
  }
}
