/**
 * Per-key transactions-per-second limiter over a sliding one-second window. The clock is
 * passed in so the limiter stays a pure data structure.
 *
 * Keys are often per connection (`sdp:<connection id>`), so they come and go with clients:
 * keys idle for a whole window are dropped at most once per `pruneEveryMs`, which bounds what
 * is held to the keys active in that time rather than to every client ever seen.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private lastPrune: number | undefined;

  constructor(
    private readonly windowMs = 1000,
    private readonly pruneEveryMs = 10 * windowMs,
  ) {}

  /** Records a call and says whether it is within `limit` calls per window. */
  allow(key: string, limit: number, now: number): boolean {
    this.lastPrune ??= now;
    if (now - this.lastPrune >= this.pruneEveryMs) this.prune(now);
    const since = now - this.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (list.length >= limit) {
      this.hits.set(key, list);
      return false;
    }
    list.push(now);
    this.hits.set(key, list);
    return true;
  }

  /** Drops the keys with no call in the last window. */
  prune(now: number): void {
    this.lastPrune = now;
    const since = now - this.windowMs;
    for (const [k, list] of this.hits) {
      if (!list.some((t) => t > since)) this.hits.delete(k);
    }
  }

  /** Keys held: for tests and diagnostics. */
  get size(): number {
    return this.hits.size;
  }
}
