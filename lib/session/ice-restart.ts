/**
 * A session's ICE restart (RFC 8445 §2.4; W3C restartIce) with fresh ICE servers, as the
 * offering side (the Viewer) makes it: fresh servers from signaling, setConfiguration,
 * restartIce, a new offer sent (our candidates held until then), and the answer applied by
 * the session as any answer. Attempts are bounded, with backoff; one runs at a time. The
 * DTLS association, SRTP and SCTP carry on: only the path changes, make-before-break (the
 * old pair keeps carrying media until the new one is selected).
 *
 * It also restarts shortly before the TURN credentials the connection gathered with run
 * out, when a relay carries the media: RFC 8656 ties an allocation to its username, so the
 * allocation cannot be refreshed past that (coturn in REST-secret mode refuses it).
 */
import { checkNumber, describeValue, MAX_TIMER_MS } from '../args.js';
import { invalidArgument, KvsError } from '../errors.js';
import type { PeerIceServer } from '../peer/config.js';
import type { PeerConnectionState, SessionDescription } from '../peer/peer-connection.js';
import type { Logger } from '../signaling/logger.js';
import type { PeerLink } from './peer-link.js';

/** What set a restart off. */
export type IceRestartReason =
  /** The connection went `disconnected` (nothing heard on the selected pair). */
  | 'disconnected'
  /** A TURN allocation carrying the media failed. */
  | 'relay-failed'
  /** The TURN credentials of the relay in use are about to expire. */
  | 'credentials';

export interface IceRestartOptions {
  /** Attempts per restart before the session gives up (ends `failed`). Default 5. */
  maxAttempts?: number;
  /** How long one attempt waits for the connection to be `connected` again (ms). Default 20 s. */
  attemptTimeoutMs?: number;
}

export interface IceRestartContext {
  link: PeerLink;
  /** Fresh ICE servers, and when their TURN credentials run out (ms since the epoch). */
  iceConfig(): Promise<{ servers: PeerIceServer[]; credentialsExpireAt: number | undefined }>;
  sendOffer(offer: SessionDescription): Promise<void>;
  log: Logger;
  /** A restart completed: connected again after `ms`. */
  restarted(reason: IceRestartReason, ms: number): void;
  /** Every attempt failed. */
  gaveUp(reason: IceRestartReason, error: KvsError): void;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 20_000;
/** Between attempts: 500 ms, doubling, at most 8 s. */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8000;

/**
 * How long before the credentials run out a restart is made: a quarter of what is left when
 * it is scheduled, at least 2 s (a restart takes a round trip through signaling and the
 * checks) and at most a minute.
 */
export function credentialMarginMs(remainingMs: number): number {
  return Math.min(60_000, Math.max(2000, remainingMs / 4));
}

/** The DTLS fingerprint of a description (`a=fingerprint:`), lower-cased; undefined if none. */
export function fingerprintOf(sdp: string): string | undefined {
  const m = /^a=fingerprint:(\S+)\s+([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
  return m ? `${(m[1] ?? '').toLowerCase()} ${(m[2] ?? '').toLowerCase()}` : undefined;
}

export class IceRestarter {
  readonly #ctx: IceRestartContext;
  readonly #maxAttempts: number;
  readonly #attemptTimeoutMs: number;
  #running: IceRestartReason | undefined;
  #closed = false;
  #credentialTimer: NodeJS.Timeout | undefined;
  #credentialsExpireAt: number | undefined;
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  #cancelWait: (() => void) | undefined;

  constructor(ctx: IceRestartContext, options: IceRestartOptions = {}) {
    this.#ctx = ctx;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  }

  /** A restart is in flight. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Restarts now, unless one is in flight already (it covers this cause too). */
  trigger(reason: IceRestartReason): void {
    if (this.#closed || this.#running || this.#ctx.link.closed) return;
    this.#running = reason;
    clearTimeout(this.#credentialTimer);
    void this.#run(reason);
  }

  /**
   * The credentials the connection gathered with run out at `expireAt`: a restart is
   * scheduled shortly before, if a relay carries the media by then (read from the stats).
   */
  watchCredentials(expireAt: number | undefined): void {
    this.#credentialsExpireAt = expireAt;
    this.#scheduleCredentialRestart();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#credentialTimer);
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
    }
    this.#cancelWait?.();
  }

  #scheduleCredentialRestart(): void {
    clearTimeout(this.#credentialTimer);
    const expireAt = this.#credentialsExpireAt;
    if (expireAt === undefined || this.#closed) return;
    const remaining = expireAt - Date.now();
    // At least a second apart, whatever the TTL: never a loop of restarts.
    const delay = Math.max(1000, remaining - credentialMarginMs(remaining));
    this.#credentialTimer = setTimeout(() => void this.#credentialsDue(), delay);
    this.#credentialTimer.unref();
  }

  async #credentialsDue(): Promise<void> {
    const link = this.#ctx.link;
    if (this.#closed || link.closed || this.#running) return;
    let relayed = false;
    try {
      relayed = (await link.poll()).local?.type === 'relay';
    } catch {
      return; // closing meanwhile
    }
    if (this.#gone()) return;
    if (relayed) this.trigger('credentials');
    else this.#ctx.log.debug(`${link.remoteId}: TURN credentials expire; no relay in use`);
  }

  async #run(reason: IceRestartReason): Promise<void> {
    const started = performance.now();
    let last: KvsError | undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (this.#stopped()) {
        this.#done();
        return;
      }
      try {
        await this.#attempt();
        this.#done();
        this.#ctx.link.counters.iceRestarts++;
        this.#ctx.restarted(reason, performance.now() - started);
        this.#scheduleCredentialRestart();
        return;
      } catch (e) {
        last = KvsError.fromNative(e, `${this.#ctx.link.remoteId}: ICE restart`);
        // A failed or closed connection ends the session elsewhere.
        if (this.#stopped()) {
          this.#done();
          return;
        }
        this.#ctx.log.warn(`ICE restart attempt ${attempt} (${reason}): ${last.message}`);
        if (attempt < this.#maxAttempts)
          await this.#pause(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)));
      }
    }
    this.#done();
    if (this.#stopped()) return;
    this.#ctx.gaveUp(
      reason,
      new KvsError(
        'ERR_SESSION_FAILED',
        `${this.#ctx.link.remoteId}: ICE restart gave up after ${this.#maxAttempts} attempts (${last?.message ?? 'no cause'})`,
        { cause: last },
      ),
    );
  }

  /** Read afresh (not narrowed): close() may run while an await is pending. */
  #gone(): boolean {
    return this.#closed || this.#ctx.link.closed;
  }

  #stopped(): boolean {
    const s = this.#ctx.link.state;
    return this.#closed || this.#ctx.link.closed || s === 'failed' || s === 'closed';
  }

  #done(): void {
    this.#running = undefined;
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  /** One attempt: resolves once connected on the new generation; rejects otherwise. */
  async #attempt(): Promise<void> {
    const { link } = this.#ctx;
    const pc = link.pc;
    const { servers, credentialsExpireAt } = await this.#ctx.iceConfig();
    if (this.#stopped()) throw new KvsError('ERR_SESSION_CLOSED', 'the session ended');
    await pc.setConfiguration({ iceServers: servers });
    // Listening before the restart: the state goes `connecting` with it, then `connected`.
    const connected = this.#nextConnected();
    connected.catch(() => undefined); // awaited below, after the offer is out
    link.holdOutgoing();
    try {
      await pc.restartIce();
      const offer = await pc.createOffer();
      await link.applyLocal(offer);
      await this.#ctx.sendOffer(offer);
    } catch (e) {
      this.#cancelWait?.();
      throw e;
    } finally {
      link.releaseOutgoing();
    }
    await connected;
    this.#credentialsExpireAt = credentialsExpireAt;
  }

  #nextConnected(): Promise<void> {
    const link = this.#ctx.link;
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: KvsError): void => {
        clearTimeout(timer);
        link.off('statechange', on);
        this.#cancelWait = undefined;
        if (err) reject(err);
        else resolve();
      };
      const on = (s: PeerConnectionState): void => {
        if (s === 'connected') finish();
        else if (s === 'failed' || s === 'closed')
          finish(new KvsError('ERR_SESSION_FAILED', `the connection went ${s}`));
      };
      const timer = setTimeout(
        () =>
          finish(
            new KvsError(
              'ERR_SESSION_TIMEOUT',
              `not connected ${this.#attemptTimeoutMs} ms after the restart's offer`,
            ),
          ),
        this.#attemptTimeoutMs,
      );
      timer.unref();
      this.#cancelWait = () => finish(new KvsError('ERR_SESSION_CLOSED', 'cancelled'));
      link.on('statechange', on);
    });
  }
}

/** Validates a session's `iceRestart` option. */
export function checkIceRestartOptions(value: unknown, what: string): void {
  if (value === undefined || value === false) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument(
      `${what} must be false or { maxAttempts?, attemptTimeoutMs? }, got ${describeValue(value)}`,
    );
  const o = value as IceRestartOptions;
  checkNumber(o.maxAttempts, `${what}.maxAttempts`, { min: 1, max: 100, integer: true });
  checkNumber(o.attemptTimeoutMs, `${what}.attemptTimeoutMs`, { min: 1000, max: MAX_TIMER_MS });
}
