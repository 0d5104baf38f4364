/**
 * Joining the channel again after the signaling client gave up (its retries ran out, as in a
 * long outage of the service, or its credentials were refused for good). Without it a Master
 * stays unreachable for new viewers and a Viewer loses its signaling path to the master, while
 * their peer connections live on. The C SDK leaves this to the app ("recreate the client").
 * Shared by Master and Viewer: 1 s, doubling, at most a minute apart, until the client is
 * CONNECTED again or the session ends; never with `signaling.reconnect: false`.
 */
import { KvsError } from '../errors.js';
import type { SignalingClient } from '../signaling/client.js';
import type { Logger } from '../signaling/logger.js';

export const REJOIN_BASE_MS = 1000;
export const REJOIN_MAX_MS = 60_000;

/** The wait before rejoin number `n` (0 for the first): 1 s, 2 s, 4 s … capped at 60 s. */
export function rejoinDelay(n: number): number {
  return Math.min(REJOIN_MAX_MS, REJOIN_BASE_MS * 2 ** Math.min(Math.max(0, n), 16));
}

export interface RejoinOptions {
  signaling: SignalingClient;
  log: Logger;
  /** 'Master' or 'Viewer …', for messages. */
  what: string;
  /** False with `signaling.reconnect: false`: the app asked for no reconnecting at all. */
  enabled: boolean;
  /** Whether joining again makes sense now (the session is up and not closed). */
  wanted(): boolean;
  /** A failed rejoin (it is tried again later). */
  error(e: KvsError): void;
}

/** Watches `signaling` for DISCONNECTED (given up) and joins again later, and again. */
export class Rejoiner {
  #timer: NodeJS.Timeout | undefined;
  #attempts = 0;
  #stopped = false;

  constructor(private readonly o: RejoinOptions) {
    o.signaling.on('stateChange', (st) => {
      if (st === 'CONNECTED') this.#attempts = 0;
      else if (st === 'DISCONNECTED') this.later();
    });
  }

  /** Rejoins made since the client was last CONNECTED. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Schedules the next rejoin (once: a pending one is kept). */
  later(): void {
    const o = this.o;
    if (this.#stopped || this.#timer || !o.enabled || !o.wanted()) return;
    const delay = rejoinDelay(this.#attempts++);
    o.log.warn(`signaling gave up; joining the channel again in ${delay} ms`);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped || !o.wanted()) return;
      o.signaling.connect().catch((e: unknown) => {
        if (this.#stopped || !o.wanted()) return;
        o.error(KvsError.fromNative(e, `${o.what}: joining the channel again`));
        this.later();
      });
    }, delay);
    this.#timer.unref();
  }

  /** No more rejoins (the session is closing). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
