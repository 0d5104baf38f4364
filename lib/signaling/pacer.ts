/**
 * Client-side pacing to the service's per-connection rates (SDP offer/answer 5 TPS, ICE
 * candidates 20 TPS): messages wait in one FIFO queue instead of being refused by the service.
 * Order is kept across classes (a candidate never overtakes the offer before it). The clock and
 * timers are injected so the pacing is unit-tested with a fake clock.
 */
import { KvsError } from '../errors.js';

export type PaceClass = 'sdp' | 'ice';

export interface PacerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: PacerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface PacerOptions {
  /** Messages per window for each class. */
  rates: Record<PaceClass, number>;
  /** The service's window (1 s) plus a safety margin for clock granularity. */
  windowMs: number;
  /** Bound on queued messages; beyond it `enqueue` throws. */
  maxQueued: number;
}

export const DEFAULT_PACER: Readonly<PacerOptions> = Object.freeze({
  rates: Object.freeze({ sdp: 5, ice: 20 }),
  windowMs: 1050,
  maxQueued: 1000,
});

export interface PacedItem<T> {
  cls: PaceClass;
  value: T;
}

/**
 * The sink returns true when it took the item (it was written), false when it cannot take it
 * now (no open socket): the item then stays at the head until `resume()`.
 */
export type PacerSink<T> = (value: T) => boolean;

export class Pacer<T> {
  private readonly queue: PacedItem<T>[] = [];
  private readonly sent: Record<PaceClass, number[]> = { sdp: [], ice: [] };
  private timer: unknown;
  private sink: PacerSink<T> | undefined;

  constructor(
    private readonly opts: PacerOptions = DEFAULT_PACER,
    private readonly clock: PacerClock = realClock,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  /** Adds to the tail and sends what the rates allow. */
  enqueue(cls: PaceClass, value: T): void {
    if (this.queue.length >= this.opts.maxQueued) {
      throw new KvsError(
        'ERR_SIGNALING_QUEUE_FULL',
        `the outgoing signaling queue holds its maximum of ${this.opts.maxQueued} messages`,
      );
    }
    this.queue.push({ cls, value });
    this.pump();
  }

  /** Puts an item back at the head (its write failed): it goes first when delivery resumes. */
  unshift(cls: PaceClass, value: T): void {
    this.queue.unshift({ cls, value });
    this.pump();
  }

  /** Removes queued items matching `pred` (e.g. an aborted send); returns how many. */
  remove(pred: (value: T) => boolean): number {
    let n = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i] as PacedItem<T>;
      if (pred(item.value)) {
        this.queue.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  /** Starts (or restarts) delivery to `sink`. */
  resume(sink: PacerSink<T>): void {
    this.sink = sink;
    this.pump();
  }

  /** Stops delivery; queued items wait. */
  pause(): void {
    this.sink = undefined;
    this.cancelTimer();
  }

  /** Forgets every queued item and returns them (used by close()). */
  drainAll(): T[] {
    this.pause();
    return this.queue.splice(0).map((i) => i.value);
  }

  /** How long until `cls` may send again (0: now). */
  waitFor(cls: PaceClass, now: number): number {
    const since = now - this.opts.windowMs;
    const list = this.sent[cls].filter((t) => t > since);
    this.sent[cls] = list;
    if (list.length < this.opts.rates[cls]) return 0;
    return (list[0] as number) + this.opts.windowMs - now + 1;
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pump(): void {
    this.cancelTimer();
    // Bounded: at most one pass over the queue per call.
    for (let guard = this.queue.length; guard > 0 && this.sink; guard--) {
      const head = this.queue[0];
      if (!head) return;
      const now = this.clock.now();
      const wait = this.waitFor(head.cls, now);
      if (wait > 0) {
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      if (!this.sink(head.value)) return;
      this.queue.shift();
      this.sent[head.cls].push(now);
    }
  }
}
