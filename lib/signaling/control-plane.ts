/**
 * The C SDK's signaling state machine, driven to READY (`fetch`) or CONNECTED (`connect`):
 * credentials, DESCRIBE (or CREATE), GET_ENDPOINT and GET_ICE_CONFIG through the control and
 * data plane, with the endpoint cache, bounded retries with backoff, the recovery table of
 * `states.ts`, and the ICE configuration's refreshes. Connecting the socket itself (the
 * CONNECTING step) is handed to the client, which owns the session.
 */
import type { ChannelApi } from '../channel/api.js';
import type { CredentialSource } from '../channel/credentials.js';
import { ChannelCallError, classifyFailure } from '../channel/failure.js';
import { IOT_FAILURE_KINDS } from '../channel/iot-credentials.js';
import { KvsError } from '../errors.js';
import { backoffDelay } from './backoff.js';
import { abortError, closedError } from './errors.js';
import { iceConfigFrom, type IceConfig, type IceServer } from './ice-config.js';
import type { Logger } from './logger.js';
import type { SignalingMetrics } from './metrics.js';
import type { CheckedOptions } from './options.js';
import {
  earliest,
  recoveryFor,
  SIGNALING_CLIENT_STATE as S,
  type SignalingClientState,
} from './states.js';

export interface ControlPlaneDeps {
  opts: CheckedOptions;
  log: Logger;
  metrics: SignalingMetrics;
  creds: CredentialSource;
  api: ChannelApi;
  state(): SignalingClientState;
  setState(state: SignalingClientState): void;
  closed(): boolean;
  /** The CONNECTING step: opens and adopts the socket (the client's session does it). */
  connectSocket(signal: AbortSignal): Promise<void>;
  iceServers(servers: IceServer[]): void;
  error(e: KvsError): void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** Any failure of a step as a routable ChannelCallError. */
function asCallError(e: unknown, state: SignalingClientState): ChannelCallError {
  if (e instanceof ChannelCallError) return e;
  // The IoT credential provider's errors say themselves whether a retry can help.
  const iotKind = e instanceof KvsError ? IOT_FAILURE_KINDS[e.code] : undefined;
  if (iotKind !== undefined) {
    return new ChannelCallError(
      `${state} failed: ${(e as KvsError).message}`,
      undefined,
      (e as KvsError).code,
      iotKind,
      false,
      {
        cause: e,
      },
    );
  }
  const err: Error & { code?: unknown } = e instanceof Error ? e : new Error(String(e));
  const name = err.name;
  const code = typeof err.code === 'string' ? err.code : undefined;
  return new ChannelCallError(
    `${state} failed: ${err.message}`,
    undefined,
    name,
    classifyFailure(
      undefined,
      name === 'CredentialsProviderError' ? 'CredentialsProviderError' : (code ?? name),
    ),
    false,
    { cause: e },
  );
}

/** The same credentials refused twice in one run: ERR_SIGNALING_AUTH, no more retries. */
function refusedError(
  state: SignalingClientState,
  err: ChannelCallError,
  creds: CredentialSource,
): KvsError {
  const key = creds.accessKeyId;
  return new KvsError(
    'ERR_SIGNALING_AUTH',
    `${state}: the credentials${key ? ` of access key ${key}` : ''} were refused again after ` +
      `fetching them anew (check the key, its secret and session token, and the policy): ` +
      err.message,
    { cause: err },
  );
}

function iotCause(err: ChannelCallError): KvsError | undefined {
  const c = err.cause;
  return c instanceof KvsError && IOT_FAILURE_KINDS[c.code] !== undefined ? c : undefined;
}

export class ControlPlane {
  /** Where `fetch`/`connect` want the machine to go. */
  target: 'READY' | 'CONNECTED' | undefined;
  /** Failures now are runtime errors (a reconnect nobody awaits). */
  background = false;

  private channelArnValue: string | undefined;
  private wssEndpointValue: string | undefined;
  private httpsEndpointValue: string | undefined;
  private refreshDescribe = false;
  private refreshEndpoint = false;
  private ice: IceConfig | undefined;
  private iceInflight: Promise<IceConfig> | undefined;
  private iceTimer: NodeJS.Timeout | undefined;

  private driver: Promise<void> | undefined;
  private runAbort = new AbortController();
  private restartFrom: SignalingClientState | undefined;

  constructor(private readonly d: ControlPlaneDeps) {
    this.channelArnValue = d.opts.channel.arn;
  }

  get channelArn(): string | undefined {
    return this.channelArnValue;
  }

  get wssEndpoint(): string | undefined {
    return this.wssEndpointValue;
  }

  get httpsEndpoint(): string | undefined {
    return this.httpsEndpointValue;
  }

  /** After GO_AWAY: describe and ask for the endpoints again, bypassing the cache. */
  bypassCache(): void {
    this.refreshDescribe = true;
    this.refreshEndpoint = true;
  }

  /** Runs from `from` (or asks the running machine to go back there); `signal` aborts it. */
  async awaitRun(from: SignalingClientState, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError();
    const run = this.run(from);
    if (!signal) return run;
    const onAbort = (): void => this.runAbort.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await run;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Starts the state machine at `from`, or asks a running one to go back there. */
  run(from: SignalingClientState): Promise<void> {
    if (this.driver) {
      this.restartFrom = earliest(this.restartFrom, from);
      return this.driver;
    }
    if (this.runAbort.signal.aborted) this.runAbort = new AbortController();
    const signal = this.runAbort.signal;
    this.driver = this.loop(from, signal).finally(() => {
      this.driver = undefined;
    });
    return this.driver;
  }

  /** Stops the running machine (its promise rejects with ERR_ABORTED) and waits for it. */
  async stop(): Promise<void> {
    this.runAbort.abort();
    await this.driver?.catch(() => undefined);
  }

  private async loop(from: SignalingClientState, signal: AbortSignal): Promise<void> {
    const { metrics, log, opts } = this.d;
    let state = from;
    let failures = 0;
    /** Digests of the credentials refused in this run (see CredentialSource.fingerprint). */
    const refused = new Set<string>();
    let fetchStarted: number | undefined;
    // Bounded: every failure counts towards maxAttempts, and a success moves forward.
    for (let steps = 0; steps < 10_000; steps++) {
      if (this.d.closed()) throw closedError();
      if (signal.aborted) throw abortError();
      if (this.restartFrom !== undefined) {
        state = this.restartFrom;
        this.restartFrom = undefined;
      }
      if (state === S.GET_CREDENTIALS) fetchStarted ??= performance.now();
      if (state === S.READY && fetchStarted !== undefined) {
        metrics.fetchClientMs = performance.now() - fetchStarted;
        fetchStarted = undefined;
      }
      if (state === S.CONNECTED) return;
      if (state === S.READY && this.target !== 'CONNECTED') {
        this.d.setState(S.READY);
        return;
      }
      this.d.setState(state);
      try {
        state = await this.step(state, signal);
      } catch (e) {
        if (this.d.closed()) throw closedError();
        // Read afresh: the step's awaits may have seen the signal fire.
        if (isAborted(signal)) throw abortError();
        const err = asCallError(e, state);
        const rec = recoveryFor(state, err.kind, {
          createIfMissing: opts.createIfMissing,
          knownArn: opts.channel.arn !== undefined,
        });
        if (rec.next === S.CREATE && !rec.fatal) {
          // DESCRIBE's 404 with createIfMissing is the expected way to CREATE, not a failure.
          state = S.CREATE;
          continue;
        }
        failures++;
        metrics.error(this.background);
        log.warn(`${state}: ${err.message} (attempt ${failures}/${opts.backoff.maxAttempts})`);
        // A credential provider's own KvsError (e.g. ERR_IOT_CERT_REFUSED) is the clearer one.
        if (rec.fatal) throw iotCause(err) ?? err;
        const skew =
          err.clockSkewCorrected || /Signature (expired|not yet current)/i.test(err.message);
        // Refused credentials (401/403 that is not the clock): fetched again once, and if the
        // same ones are refused again no backoff can help: fail now, not after maxAttempts.
        if (err.kind === 'auth' && !skew) {
          const used = this.d.creds.fingerprint();
          if (used !== undefined && refused.has(used)) throw refusedError(state, err, this.d.creds);
          if (used !== undefined) refused.add(used);
          this.d.creds.invalidate();
        }
        if (failures >= opts.backoff.maxAttempts) {
          throw new KvsError(
            'ERR_SIGNALING_RETRIES_EXHAUSTED',
            `gave up after ${failures} attempts; last error: ${err.message}`,
            { cause: err },
          );
        }
        this.refreshDescribe ||= rec.refreshDescribe;
        this.refreshEndpoint ||= rec.refreshEndpoint;
        metrics.retries++;
        await sleep(err.clockSkewCorrected ? 0 : backoffDelay(failures, opts.backoff), signal);
        state = rec.next;
      }
    }
    throw new KvsError('ERR_SIGNALING_RETRIES_EXHAUSTED', 'the state machine did not settle');
  }

  /** Performs the work of `state` and returns the next state. */
  private async step(
    state: SignalingClientState,
    signal: AbortSignal,
  ): Promise<SignalingClientState> {
    const { opts, metrics, api } = this.d;
    const cache = opts.cache;
    switch (state) {
      case S.NEW:
        return S.GET_CREDENTIALS;
      case S.GET_CREDENTIALS: {
        const t = performance.now();
        await this.d.creds.get();
        metrics.call('getToken', performance.now() - t);
        // A known ARN skips DESCRIBE (unless a 404 or 403 asks to check the channel again).
        return opts.channel.arn !== undefined && !this.refreshDescribe
          ? S.GET_ENDPOINT
          : S.DESCRIBE;
      }
      case S.DESCRIBE: {
        const cached = this.refreshDescribe ? undefined : cache?.get(opts.cacheKey);
        if (cached) {
          this.channelArnValue = cached.channelArn;
          return S.GET_ENDPOINT;
        }
        const t = performance.now();
        const d = await api.describe(
          opts.channel.arn !== undefined
            ? { channelArn: opts.channel.arn }
            : { channelName: opts.channel.name },
          signal,
        );
        metrics.call('describe', performance.now() - t);
        if (d.status !== 'ACTIVE') {
          throw new ChannelCallError(
            `the channel is ${d.status}, not ACTIVE`,
            undefined,
            'ChannelNotActive',
            'server',
            false,
          );
        }
        if (this.channelArnValue !== d.channelArn) this.ice = undefined;
        this.channelArnValue = d.channelArn;
        this.refreshDescribe = false;
        return S.GET_ENDPOINT;
      }
      case S.CREATE: {
        // recoveryFor only leads here for a channel given by name.
        const name = opts.channel.name;
        if (name === undefined) throw new KvsError('ERR_INVALID_STATE', 'CREATE needs a name');
        const t = performance.now();
        await api.create(name, opts.messageTtlSeconds, signal);
        metrics.call('create', performance.now() - t);
        this.refreshDescribe = true;
        return S.DESCRIBE;
      }
      case S.GET_ENDPOINT: {
        const arn = this.channelArnValue;
        // DESCRIBE, the cache or the options have set it by now.
        if (arn === undefined) throw new KvsError('ERR_INVALID_STATE', 'no channel ARN yet');
        const cached = this.refreshEndpoint ? undefined : cache?.get(opts.cacheKey);
        if (cached && cached.channelArn === arn) {
          this.wssEndpointValue = cached.wssEndpoint;
          this.httpsEndpointValue = cached.httpsEndpoint;
          return S.GET_ICE_CONFIG;
        }
        const t = performance.now();
        const ep = await api.getEndpoints(arn, opts.role, signal);
        metrics.call('getEndpoint', performance.now() - t);
        this.wssEndpointValue = ep.wssEndpoint;
        this.httpsEndpointValue = ep.httpsEndpoint;
        this.refreshEndpoint = false;
        cache?.set({ ...opts.cacheKey, channelArn: arn, ...ep, cachedAt: Date.now() });
        return S.GET_ICE_CONFIG;
      }
      case S.GET_ICE_CONFIG:
        if (!this.iceFresh()) await this.refreshIce(signal);
        return S.READY;
      case S.READY:
        return this.target === 'CONNECTED' ? S.CONNECTING : S.READY;
      case S.CONNECTING:
        await this.d.connectSocket(signal);
        return S.CONNECTED;
      default:
        throw new KvsError('ERR_INVALID_STATE', `cannot run from state ${state}`);
    }
  }

  // ---- ICE configuration ----

  private iceFresh(): boolean {
    return this.ice !== undefined && Date.now() < this.ice.expiresAt;
  }

  /** One GetIceServerConfig call (concurrent callers share it); counted in iceRefreshCount. */
  private refreshIce(signal?: AbortSignal): Promise<IceConfig> {
    this.iceInflight ??= (async () => {
      try {
        const arn = this.channelArnValue;
        const https = this.httpsEndpointValue;
        if (!arn || !https) throw new KvsError('ERR_INVALID_STATE', 'no channel endpoint yet');
        const { opts, metrics, api } = this.d;
        const t = performance.now();
        const raw = await api.getIceServerConfig(
          https,
          arn,
          opts.role === 'VIEWER' ? opts.clientId : undefined,
          signal,
        );
        metrics.call('getIceConfig', performance.now() - t);
        const cfg = iceConfigFrom(raw, Date.now(), opts.stunUrl);
        this.ice = cfg;
        metrics.iceRefreshCount++;
        this.scheduleIceRefresh(cfg);
        this.d.iceServers(copyServers(cfg));
        return cfg;
      } finally {
        this.iceInflight = undefined;
      }
    })();
    return this.iceInflight;
  }

  private scheduleIceRefresh(cfg: IceConfig): void {
    this.stopIceTimer();
    if (!this.d.opts.proactiveIceRefresh || this.d.closed()) return;
    this.iceTimer = setTimeout(
      // Failures are counted, logged and emitted inside; nothing is left to reject.
      () => void this.backgroundIceRefresh(),
      Math.max(0, cfg.expiresAt - Date.now()),
    );
    this.iceTimer.unref();
  }

  stopIceTimer(): void {
    clearTimeout(this.iceTimer);
    this.iceTimer = undefined;
  }

  /**
   * A refresh nobody awaits (the proactive timer, RECONNECT_ICE_SERVER): retried with backoff
   * (bounded), failures counted as runtime errors. It never rejects.
   */
  async backgroundIceRefresh(): Promise<void> {
    const { opts, metrics, log } = this.d;
    for (let attempt = 1; attempt <= opts.backoff.maxAttempts && !this.d.closed(); attempt++) {
      try {
        await this.refreshIce(this.runAbort.signal);
        return;
      } catch (e) {
        if (this.d.closed()) return;
        const message = e instanceof Error ? e.message : String(e);
        metrics.error(true);
        log.warn(`ICE refresh failed: ${message}`);
        if (attempt === opts.backoff.maxAttempts) {
          this.d.error(
            new KvsError('ERR_SIGNALING_ICE_REFRESH', `ICE refresh failed: ${message}`, {
              cause: e,
            }),
          );
          return;
        }
        metrics.retries++;
        try {
          await sleep(backoffDelay(attempt, opts.backoff), this.runAbort.signal);
        } catch {
          return;
        }
      }
    }
  }

  /** Fresh ICE servers, fetched when the cached configuration is stale. */
  async iceServers(signal?: AbortSignal): Promise<IceServer[]> {
    return copyServers(await this.iceConfig(signal));
  }

  /** The fresh configuration itself (servers, and when their credentials run out). */
  async iceConfig(signal?: AbortSignal): Promise<IceConfig> {
    let cfg = this.iceFresh() ? this.ice : undefined;
    if (!cfg) {
      try {
        cfg = await this.refreshIce(signal);
      } catch (e) {
        this.d.metrics.error(false);
        throw e;
      }
    }
    return cfg;
  }
}

function copyServers(cfg: IceConfig): IceServer[] {
  return cfg.servers.map((s) => ({ ...s, urls: [...s.urls] }));
}
