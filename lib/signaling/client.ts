/**
 * SignalingClient: joins a KVS signaling channel as master or viewer, with the C SDK's state
 * machine, retries, endpoint cache, ICE configuration, resilience and metrics. The same code
 * talks to the real service (region + credentials) and to the local one (endpoint + CA).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import { ChannelApi, ChannelCallError, type SharedClock } from '../channel/api.js';
import {
  FileEndpointCache,
  MemoryEndpointCache,
  type EndpointCache,
  type EndpointCacheKey,
} from '../channel/endpoint-cache.js';
import { KvsError } from '../errors.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { CandidateHolder, DEFAULT_CANDIDATE_HOLDER } from './candidates.js';
import {
  checkClientId,
  decodeIncoming,
  encodeOutgoing,
  type IceCandidate,
  type IncomingMessage,
  type OutgoingAction,
  type SessionDescription,
  type SignalingRole,
  type StatusResponse,
} from './codec.js';
import { CredentialSource, type CredentialsInput } from './credentials.js';
import { defaultStunUrl, iceConfigFrom, type IceConfig, type IceServer } from './ice-config.js';
import { consoleLogger, type Logger } from './logger.js';
import { SignalingMetrics, type SignalingClientStats } from './metrics.js';
import { DEFAULT_PACER, Pacer, type PaceClass } from './pacer.js';
import { openSignalingSocket } from './connection.js';
import { abortError, closedError } from './errors.js';
import { presignSignalingUrl } from './presign.js';
import {
  classifyFailure,
  recoveryFor,
  SIGNALING_CLIENT_STATE as S,
  type SignalingClientState,
} from './states.js';

/** Why a reconnect started. */
export type ReconnectReason = 'go-away' | 'connection-lost' | 'lifetime' | 'keepalive-timeout';

export interface SignalingClientOptions {
  /** The channel by name (it can then be created when missing) ... */
  channelName?: string;
  /** ... or by ARN (DESCRIBE and CREATE are then skipped). */
  channelArn?: string;
  role: SignalingRole;
  /** A viewer's id on the channel (required for viewers; 1-256 of [a-zA-Z0-9_-], not `AWS_...`). */
  clientId?: string;
  region: string;
  /** Static credentials or a provider; default: the AWS SDK's Node provider chain. */
  credentials?: CredentialsInput;
  /** Control-plane endpoint override, e.g. the local service's `https://127.0.0.1:PORT`. */
  endpoint?: string;
  /**
   * PEM file of a CA to trust besides Node's root store; the local service prints one. Default:
   * `AWS_KVS_CACERT_PATH` when set, as the C SDK.
   */
  caCertPath?: string;
  /** PEM text of a CA to trust besides Node's root store (instead of caCertPath). */
  caCert?: string | Buffer;
  /**
   * Endpoint cache: `'memory'` (default), `{ file }` for the C SDK's file cache (a restarted
   * device reconnects without control-plane calls), an own implementation, or `false`.
   */
  cache?: 'memory' | false | { file: string } | EndpointCache;
  /** CREATE the channel when DESCRIBE says it does not exist (channelName only). Default false. */
  createIfMissing?: boolean;
  /** MessageTtlSeconds for a channel this client creates (5-120; the service defaults to 60). */
  messageTtlSeconds?: number;
  /** Reconnect after GO_AWAY, a lost socket or the lifetime limit. Default true. */
  reconnect?: boolean;
  /** Retry policy of one recovery (exponential backoff with jitter, bounded). */
  retry?: Partial<BackoffOptions>;
  /** WebSocket ping interval keeping an idle connection alive; 0 disables. Default 60 s. */
  pingIntervalMs?: number;
  /** A connection without a pong for this long is dropped and reconnected. Default 2 pings + 10 s. */
  pongTimeoutMs?: number;
  /** The service's connection duration limit (1 h); the client renews the connection before it. */
  connectionLifetimeMs?: number;
  /** Refresh ICE servers proactively at TTL − 30 s (otherwise only lazily). Default true. */
  proactiveIceRefresh?: boolean;
  /** STUN URL put first in getIceServers(); default the region's KVS STUN server (none with an endpoint override). */
  stunUrl?: string | null;
  /** How long ICE candidates wait for their sender's SDP. Default 20 s. */
  candidateHoldMs?: number;
  /** Outgoing rates per connection (messages per second). Default SDP 5, ICE 20. */
  rates?: { sdpPerSecond?: number; icePerSecond?: number };
  /** Bound on queued outgoing messages. Default 1000. */
  maxQueuedMessages?: number;
  /** Refresh credentials when fewer than this many ms remain before they expire. Default 5 min. */
  credentialRefreshMarginMs?: number;
  /** Initial clock correction (ms added to the local clock when signing); corrected from the service. */
  systemClockOffset?: number;
  /** Timeouts (ms): API connect 2 s and completion 5 s, WebSocket connect 5 s. */
  timeouts?: { apiConnectMs?: number; apiRequestMs?: number; connectMs?: number };
  /** A logger; default: stderr at `AWS_KVS_LOG_LEVEL` (silent when unset). */
  logger?: Logger;
  /** Advanced: opens the WebSocket (e.g. through a proxy). */
  createWebSocket?: (url: string, options: ClientOptions) => WebSocket;
}

/** The typed events of SignalingClient. */
export type SignalingClientEvents = {
  /** The state changed (C SDK names). */
  stateChange: [state: SignalingClientState, previous: SignalingClientState];
  sdpOffer: [description: SessionDescription, senderClientId: string];
  sdpAnswer: [description: SessionDescription, senderClientId: string];
  /** A candidate, released only after its sender's SDP (held candidates expire). */
  iceCandidate: [candidate: IceCandidate, senderClientId: string];
  /** The service could not deliver a message that carried this correlationId. */
  statusResponse: [status: StatusResponse];
  goAway: [];
  reconnectIceServer: [];
  /** Fresh ICE servers (after each refresh). */
  iceServers: [servers: IceServer[]];
  /** A reconnect started. */
  reconnect: [reason: ReconnectReason];
  /** A background failure (only emitted when someone listens). */
  error: [error: KvsError];
};

interface Outgoing {
  text: string;
  action: OutgoingAction;
  recipient: string | undefined;
  correlationId: string;
  resolve: (correlationId: string) => void;
  reject: (e: Error) => void;
}

const CLS: Record<OutgoingAction, PaceClass> = {
  SDP_OFFER: 'sdp',
  SDP_ANSWER: 'sdp',
  ICE_CANDIDATE: 'ice',
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
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

const ORDER: SignalingClientState[] = [
  S.NEW,
  S.GET_CREDENTIALS,
  S.DESCRIBE,
  S.CREATE,
  S.GET_ENDPOINT,
  S.GET_ICE_CONFIG,
  S.READY,
  S.CONNECTING,
  S.CONNECTED,
];

/** The earlier of two restart points. */
function earliest(
  a: SignalingClientState | undefined,
  b: SignalingClientState,
): SignalingClientState {
  if (a === undefined) return b;
  return ORDER.indexOf(a) <= ORDER.indexOf(b) ? a : b;
}

/**
 * A KVS WebRTC signaling client. Create it, `connect()`, then send with `sendSdpOffer`,
 * `sendSdpAnswer` and `sendIceCandidate` and listen to the typed events. Messages sent while
 * the client is not connected wait in a queue and go out, paced to the service's rates, once it
 * is. `close()` (or `await using`) ends it.
 */
export class SignalingClient extends EventEmitter<SignalingClientEvents> {
  /** `await using client = new SignalingClient(...)` closes it (where the runtime has the symbol). */
  declare [Symbol.asyncDispose]: () => Promise<void>;
  readonly role: SignalingRole;
  readonly clientId: string | undefined;
  readonly region: string;
  private stateValue: SignalingClientState = S.NEW;
  private readonly opts: SignalingClientOptions;
  private readonly log: Logger;
  private readonly metrics: SignalingMetrics;
  private readonly creds: CredentialSource;
  private readonly clock: SharedClock;
  private readonly api: ChannelApi;
  private readonly cache: EndpointCache | undefined;
  private readonly cacheKey: EndpointCacheKey;
  private readonly backoff: BackoffOptions;
  private readonly pacer: Pacer<Outgoing>;
  private readonly holder: CandidateHolder<IceCandidate>;
  private readonly caCert: string[] | undefined;

  private channelArn: string | undefined;
  private wssEndpoint: string | undefined;
  private httpsEndpoint: string | undefined;
  private ice: IceConfig | undefined;
  private iceInflight: Promise<IceConfig> | undefined;
  private iceTimer: NodeJS.Timeout | undefined;
  private refreshDescribe = false;
  private refreshEndpoint = false;

  private ws: WebSocket | undefined;
  private readonly retiring = new Set<WebSocket>();
  private pingTimer: NodeJS.Timeout | undefined;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private lastPingAt = 0;
  private lastPongAt = 0;

  private target: 'READY' | 'CONNECTED' | undefined;
  private driver: Promise<void> | undefined;
  private runAbort = new AbortController();
  private restartFrom: SignalingClientState | undefined;
  private background = false;
  private closed = false;
  private correlationCounter = 0;
  private readonly offerReceivedAt = new Map<string, number>();
  private offerSentAt: number | undefined;

  constructor(options: SignalingClientOptions) {
    super();
    const started = performance.now();
    const o = { ...options };
    if (o.role !== 'MASTER' && o.role !== 'VIEWER')
      throw new KvsError(
        'ERR_KVS_INVALID_ARGUMENT',
        `role must be MASTER or VIEWER, got ${String(o.role)}`,
      );
    if (!o.channelName && !o.channelArn)
      throw new KvsError('ERR_KVS_INVALID_ARGUMENT', 'channelName or channelArn is required');
    if (o.channelName !== undefined && !/^[a-zA-Z0-9_.-]{1,256}$/.test(o.channelName))
      throw new KvsError(
        'ERR_KVS_INVALID_ARGUMENT',
        `channelName must be 1-256 characters of [a-zA-Z0-9_.-], got ${JSON.stringify(o.channelName)}`,
      );
    if (o.channelArn !== undefined && (o.channelArn.length < 1 || o.channelArn.length > 1024))
      throw new KvsError('ERR_KVS_INVALID_ARGUMENT', 'channelArn must be 1-1024 characters');
    if (!o.region) throw new KvsError('ERR_KVS_INVALID_ARGUMENT', 'region is required');
    if (o.role === 'VIEWER') checkClientId(o.clientId, 'clientId');
    else if (o.clientId !== undefined) checkClientId(o.clientId, 'clientId');
    if (
      o.messageTtlSeconds !== undefined &&
      !(
        Number.isInteger(o.messageTtlSeconds) &&
        o.messageTtlSeconds >= 5 &&
        o.messageTtlSeconds <= 120
      )
    )
      throw new KvsError('ERR_KVS_INVALID_ARGUMENT', 'messageTtlSeconds must be an integer 5-120');
    this.opts = o;
    this.role = o.role;
    this.clientId = o.clientId;
    this.region = o.region;
    this.channelArn = o.channelArn;
    this.log = o.logger ?? consoleLogger();
    this.metrics = new SignalingMetrics();
    this.creds = new CredentialSource(o.credentials, o.credentialRefreshMarginMs);
    this.clock = { offsetMs: o.systemClockOffset ?? 0 };
    const caPath = o.caCertPath ?? process.env['AWS_KVS_CACERT_PATH'];
    const extraCa = o.caCert ?? (caPath ? readFileSync(caPath, 'utf8') : undefined);
    // Added to Node's root certificates, so the real service stays trusted too.
    this.caCert = extraCa === undefined ? undefined : [...rootCertificates, String(extraCa)];
    this.api = new ChannelApi({
      region: o.region,
      endpoint: o.endpoint,
      caCert: this.caCert,
      credentials: this.creds,
      clock: this.clock,
      connectTimeoutMs: o.timeouts?.apiConnectMs ?? 2000,
      requestTimeoutMs: o.timeouts?.apiRequestMs ?? 5000,
    });
    const c = o.cache ?? 'memory';
    this.cache =
      c === false
        ? undefined
        : c === 'memory'
          ? new MemoryEndpointCache()
          : 'file' in c && typeof c.file === 'string'
            ? new FileEndpointCache(c.file)
            : (c as EndpointCache);
    this.cacheKey = {
      channel: o.channelArn ?? (o.channelName as string),
      role: o.role,
      region: o.region,
      controlEndpoint: o.endpoint ?? '',
    };
    this.backoff = { ...DEFAULT_BACKOFF, ...o.retry };
    this.pacer = new Pacer<Outgoing>({
      rates: {
        sdp: o.rates?.sdpPerSecond ?? DEFAULT_PACER.rates.sdp,
        ice: o.rates?.icePerSecond ?? DEFAULT_PACER.rates.ice,
      },
      windowMs: DEFAULT_PACER.windowMs,
      maxQueued: o.maxQueuedMessages ?? DEFAULT_PACER.maxQueued,
    });
    this.holder = new CandidateHolder<IceCandidate>({
      ...DEFAULT_CANDIDATE_HOLDER,
      holdMs: o.candidateHoldMs ?? DEFAULT_CANDIDATE_HOLDER.holdMs,
    });
    this.metrics.createClientMs = performance.now() - started;
  }

  /** The current state, under the C SDK's names (`signalingClientGetCurrentState`). */
  get state(): SignalingClientState {
    return this.stateValue;
  }

  getCurrentState(): SignalingClientState {
    return this.stateValue;
  }

  /** The channel ARN once known (after DESCRIBE, CREATE or the cache). */
  get channelARN(): string | undefined {
    return this.channelArn;
  }

  /** The channel's WSS and HTTPS endpoints once known (after GET_ENDPOINT or the cache). */
  get endpoints(): { wss: string; https: string } | undefined {
    return this.wssEndpoint && this.httpsEndpoint
      ? { wss: this.wssEndpoint, https: this.httpsEndpoint }
      : undefined;
  }

  /**
   * The clock correction in ms added to the local clock when signing. It starts at the
   * `systemClockOffset` option and is corrected when the service reports clock skew.
   */
  get systemClockOffset(): number {
    return this.clock.offsetMs;
  }

  set systemClockOffset(ms: number) {
    this.clock.offsetMs = ms;
  }

  /** Messages waiting to be sent. */
  get queuedMessages(): number {
    return this.pacer.length;
  }

  /** SignalingClientStats (times in 100 ns units, as the C SDK). */
  getMetrics(): SignalingClientStats {
    return this.metrics.snapshot();
  }

  private setState(s: SignalingClientState): void {
    const prev = this.stateValue;
    if (prev === s) return;
    this.stateValue = s;
    this.log.debug(`state ${prev} -> ${s}`);
    this.emit('stateChange', s, prev);
  }

  private emitError(e: KvsError): void {
    this.log.warn(e.message);
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  /** Runs the state machine up to READY: credentials, channel, endpoints, ICE configuration. */
  async fetch(signal?: AbortSignal): Promise<void> {
    if (this.closed) throw closedError();
    if (this.stateValue === S.READY || this.stateValue === S.CONNECTED) return;
    this.target ??= 'READY';
    await this.awaitRun(this.startState(), signal);
  }

  /** Runs the state machine to CONNECTED (the promise resolves once connected). */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.closed) throw closedError();
    this.target = 'CONNECTED';
    if (this.stateValue === S.CONNECTED && this.ws) return;
    this.background = false;
    await this.awaitRun(this.startState(), signal);
  }

  private startState(): SignalingClientState {
    return this.stateValue === S.READY ? S.READY : S.GET_CREDENTIALS;
  }

  private async awaitRun(from: SignalingClientState, signal?: AbortSignal): Promise<void> {
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
  private run(from: SignalingClientState): Promise<void> {
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

  private async loop(from: SignalingClientState, signal: AbortSignal): Promise<void> {
    let state = from;
    let failures = 0;
    let fetchStarted: number | undefined;
    // Bounded: every failure counts towards maxAttempts, and a success moves forward.
    for (let steps = 0; steps < 10_000; steps++) {
      if (this.closed) throw closedError();
      if (signal.aborted) throw abortError();
      if (this.restartFrom !== undefined) {
        state = this.restartFrom;
        this.restartFrom = undefined;
      }
      if (state === S.GET_CREDENTIALS) fetchStarted ??= performance.now();
      if (state === S.READY && fetchStarted !== undefined) {
        this.metrics.fetchClientMs = performance.now() - fetchStarted;
        fetchStarted = undefined;
      }
      if (state === S.CONNECTED) return;
      if (state === S.READY && this.target !== 'CONNECTED') {
        this.setState(S.READY);
        return;
      }
      this.setState(state);
      try {
        state = await this.step(state, signal);
      } catch (e) {
        if (this.closed) throw closedError();
        if (signal.aborted) throw abortError();
        const err =
          e instanceof ChannelCallError
            ? e
            : new ChannelCallError(
                `${state} failed: ${(e as Error).message}`,
                undefined,
                (e as Error).name,
                classifyFailure(
                  undefined,
                  (e as Error).name === 'CredentialsProviderError'
                    ? 'CredentialsProviderError'
                    : ((e as { code?: string }).code ?? (e as Error).name),
                ),
                false,
                { cause: e },
              );
        const rec = recoveryFor(state, err.kind, {
          createIfMissing: this.opts.createIfMissing === true,
          knownArn: this.opts.channelArn !== undefined,
        });
        if (rec.next === S.CREATE && !rec.fatal) {
          // DESCRIBE's 404 with createIfMissing is the expected way to CREATE, not a failure.
          state = S.CREATE;
          continue;
        }
        failures++;
        this.metrics.error(this.background);
        this.log.warn(`${state}: ${err.message} (attempt ${failures}/${this.backoff.maxAttempts})`);
        if (rec.fatal) throw err;
        if (failures >= this.backoff.maxAttempts) {
          throw new KvsError(
            'ERR_KVS_SIGNALING_RETRIES_EXHAUSTED',
            `gave up after ${failures} attempts; last error: ${err.message}`,
            { cause: err },
          );
        }
        this.refreshDescribe ||= rec.refreshDescribe;
        this.refreshEndpoint ||= rec.refreshEndpoint;
        const skew =
          err.clockSkewCorrected || /Signature (expired|not yet current)/i.test(err.message);
        // Refused credentials are fetched again; a skewed clock is not the credentials' fault.
        if (err.kind === 'auth' && !skew) this.creds.invalidate();
        this.metrics.retries++;
        await sleep(err.clockSkewCorrected ? 0 : backoffDelay(failures, this.backoff), signal);
        state = rec.next;
      }
    }
    throw new KvsError('ERR_KVS_SIGNALING_RETRIES_EXHAUSTED', 'the state machine did not settle');
  }

  /** Performs the work of `state` and returns the next state. */
  private async step(
    state: SignalingClientState,
    signal: AbortSignal,
  ): Promise<SignalingClientState> {
    switch (state) {
      case S.NEW:
        return S.GET_CREDENTIALS;
      case S.GET_CREDENTIALS: {
        const t = performance.now();
        await this.creds.get();
        this.metrics.call('getToken', performance.now() - t);
        // A known ARN skips DESCRIBE (unless a 404 or 403 asks to check the channel again).
        return this.opts.channelArn !== undefined && !this.refreshDescribe
          ? S.GET_ENDPOINT
          : S.DESCRIBE;
      }
      case S.DESCRIBE: {
        const cached = this.refreshDescribe ? undefined : this.cache?.get(this.cacheKey);
        if (cached) {
          this.channelArn = cached.channelArn;
          return S.GET_ENDPOINT;
        }
        const t = performance.now();
        const d = await this.api.describe(
          this.opts.channelArn !== undefined
            ? { channelArn: this.opts.channelArn }
            : { channelName: this.opts.channelName as string },
          signal,
        );
        this.metrics.call('describe', performance.now() - t);
        if (d.status !== 'ACTIVE') {
          throw new ChannelCallError(
            `the channel is ${d.status}, not ACTIVE`,
            undefined,
            'ChannelNotActive',
            'server',
            false,
          );
        }
        if (this.channelArn !== d.channelArn) this.ice = undefined;
        this.channelArn = d.channelArn;
        this.refreshDescribe = false;
        return S.GET_ENDPOINT;
      }
      case S.CREATE: {
        const t = performance.now();
        await this.api.create(this.opts.channelName as string, this.opts.messageTtlSeconds, signal);
        this.metrics.call('create', performance.now() - t);
        this.refreshDescribe = true;
        return S.DESCRIBE;
      }
      case S.GET_ENDPOINT: {
        const arn = this.channelArn ?? (this.opts.channelArn as string);
        const cached = this.refreshEndpoint ? undefined : this.cache?.get(this.cacheKey);
        if (cached && cached.channelArn === arn) {
          this.wssEndpoint = cached.wssEndpoint;
          this.httpsEndpoint = cached.httpsEndpoint;
          return S.GET_ICE_CONFIG;
        }
        const t = performance.now();
        const ep = await this.api.getEndpoints(arn, this.role, signal);
        this.metrics.call('getEndpoint', performance.now() - t);
        this.channelArn = arn;
        this.wssEndpoint = ep.wssEndpoint;
        this.httpsEndpoint = ep.httpsEndpoint;
        this.refreshEndpoint = false;
        this.cache?.set({ ...this.cacheKey, channelArn: arn, ...ep, cachedAt: Date.now() });
        return S.GET_ICE_CONFIG;
      }
      case S.GET_ICE_CONFIG:
        if (!this.iceFresh()) await this.refreshIce(signal);
        return S.READY;
      case S.READY:
        return this.target === 'CONNECTED' ? S.CONNECTING : S.READY;
      case S.CONNECTING:
        await this.openSocket(signal);
        return S.CONNECTED;
      default:
        throw new KvsError('ERR_KVS_SIGNALING_STATE', `cannot run from state ${state}`);
    }
  }

  // ---- ICE configuration ----

  private iceFresh(): boolean {
    return this.ice !== undefined && Date.now() < this.ice.expiresAt;
  }

  private stunUrl(): string | undefined {
    if (this.opts.stunUrl === null) return undefined;
    if (this.opts.stunUrl !== undefined) return this.opts.stunUrl;
    return this.opts.endpoint ? undefined : defaultStunUrl(this.region);
  }

  /** One GetIceServerConfig call (concurrent callers share it); counted in iceRefreshCount. */
  private refreshIce(signal?: AbortSignal): Promise<IceConfig> {
    this.iceInflight ??= (async () => {
      try {
        const arn = this.channelArn;
        const https = this.httpsEndpoint;
        if (!arn || !https)
          throw new KvsError('ERR_KVS_SIGNALING_STATE', 'no channel endpoint yet');
        const t = performance.now();
        const raw = await this.api.getIceServerConfig(
          https,
          arn,
          this.role === 'VIEWER' ? this.clientId : undefined,
          signal,
        );
        this.metrics.call('getIceConfig', performance.now() - t);
        const cfg = iceConfigFrom(raw, Date.now(), this.stunUrl());
        this.ice = cfg;
        this.metrics.iceRefreshCount++;
        this.scheduleIceRefresh(cfg);
        this.emit(
          'iceServers',
          cfg.servers.map((s) => ({ ...s, urls: [...s.urls] })),
        );
        return cfg;
      } finally {
        this.iceInflight = undefined;
      }
    })();
    return this.iceInflight;
  }

  private scheduleIceRefresh(cfg: IceConfig): void {
    clearTimeout(this.iceTimer);
    this.iceTimer = undefined;
    if (this.opts.proactiveIceRefresh === false || this.closed) return;
    this.iceTimer = setTimeout(
      () => void this.backgroundIceRefresh(),
      Math.max(0, cfg.expiresAt - Date.now()),
    );
    this.iceTimer.unref();
  }

  /** A refresh nobody awaits: retried with backoff (bounded), failures counted as runtime errors. */
  private async backgroundIceRefresh(): Promise<void> {
    for (let attempt = 1; attempt <= this.backoff.maxAttempts && !this.closed; attempt++) {
      try {
        await this.refreshIce(this.runAbort.signal);
        return;
      } catch (e) {
        if (this.closed) return;
        this.metrics.error(true);
        this.log.warn(`ICE refresh failed: ${(e as Error).message}`);
        if (attempt === this.backoff.maxAttempts) {
          this.emitError(
            new KvsError(
              'ERR_KVS_SIGNALING_ICE_REFRESH',
              `ICE refresh failed: ${(e as Error).message}`,
              {
                cause: e,
              },
            ),
          );
          return;
        }
        this.metrics.retries++;
        try {
          await sleep(backoffDelay(attempt, this.backoff), this.runAbort.signal);
        } catch {
          return;
        }
      }
    }
  }

  /**
   * Fresh ICE servers (STUN first, then the channel's TURN servers): fetched when the cached
   * configuration is within 30 s of its smallest TTL (`signalingClientGetIceConfigInfo`).
   */
  async getIceServers(signal?: AbortSignal): Promise<IceServer[]> {
    if (this.closed) throw closedError();
    if (!this.httpsEndpoint || !this.channelArn) await this.fetch(signal);
    if (!this.iceFresh()) {
      try {
        await this.refreshIce(signal);
      } catch (e) {
        this.metrics.error(false);
        throw e;
      }
    }
    return (this.ice as IceConfig).servers.map((s) => ({ ...s, urls: [...s.urls] }));
  }

  // ---- the WebSocket ----

  private async openSocket(signal: AbortSignal): Promise<void> {
    const wss = this.wssEndpoint;
    const arn = this.channelArn;
    if (!wss || !arn) throw new KvsError('ERR_KVS_SIGNALING_STATE', 'no WSS endpoint yet');
    const credentials = await this.creds.get();
    const url = await presignSignalingUrl({
      endpoint: wss,
      channelArn: arn,
      clientId: this.role === 'VIEWER' ? this.clientId : undefined,
      region: this.region,
      credentials,
      date: new Date(Date.now() + this.clock.offsetMs),
    });
    const t = performance.now();
    const ws = await openSignalingSocket({
      url,
      handshakeTimeoutMs: this.opts.timeouts?.connectMs ?? 5000,
      ca: this.caCert,
      signal,
      clock: this.clock,
      createWebSocket: this.opts.createWebSocket,
    });
    if (this.closed) {
      ws.terminate();
      throw closedError();
    }
    const ms = performance.now() - t;
    this.metrics.call('connect', ms);
    this.metrics.connectClientMs = ms;
    this.adopt(ws);
  }

  /** Makes `ws` the live socket; retiring sockets are closed now that it is up. */
  private adopt(ws: WebSocket): void {
    ws.removeAllListeners();
    ws.on('message', (data, isBinary) => {
      if (!isBinary)
        this.onMessage(ws, Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    });
    ws.on('pong', () => {
      if (ws === this.ws) this.lastPongAt = Date.now();
    });
    ws.on('close', (code, reason) => this.onSocketClose(ws, code, reason.toString()));
    ws.on('error', (e) => this.log.debug(`socket error: ${e.message}`));
    this.ws = ws;
    for (const old of this.retiring) {
      this.retiring.delete(old);
      if (old.readyState === WebSocket.OPEN || old.readyState === WebSocket.CONNECTING) {
        old.close(1000);
        setTimeout(() => old.terminate(), 2000).unref();
      }
    }
    this.metrics.connected();
    this.setState(S.CONNECTED);
    this.startTimers(ws);
    this.pacer.resume((item) => this.write(item));
  }

  private startTimers(ws: WebSocket): void {
    this.stopTimers();
    const ping = this.opts.pingIntervalMs ?? 60_000;
    if (ping > 0) {
      const pongTimeout = this.opts.pongTimeoutMs ?? 2 * ping + 10_000;
      this.lastPingAt = 0;
      this.lastPongAt = Date.now();
      this.pingTimer = setInterval(() => {
        if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
        if (this.lastPingAt > 0 && Date.now() - this.lastPongAt > pongTimeout) {
          this.log.warn('no pong from the service: dropping the connection');
          this.reconnectNow('keepalive-timeout', S.GET_CREDENTIALS);
          return;
        }
        this.lastPingAt = Date.now();
        ws.ping();
      }, ping);
      this.pingTimer.unref();
    }
    const lifetime = this.opts.connectionLifetimeMs ?? 60 * 60_000;
    if (this.opts.reconnect !== false && lifetime > 0) {
      // Renew well before the limit: 60 s early, but never later than 80 % of it.
      const renewAt = Math.max(lifetime - 60_000, lifetime * 0.8);
      this.lifetimeTimer = setTimeout(() => {
        if (ws === this.ws) this.reconnectNow('lifetime', S.GET_CREDENTIALS);
      }, renewAt);
      this.lifetimeTimer.unref();
    }
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.lifetimeTimer);
    this.pingTimer = undefined;
    this.lifetimeTimer = undefined;
  }

  /** Leaves the live socket (it keeps delivering until the new one is up) and reconnects. */
  private reconnectNow(reason: ReconnectReason, from: SignalingClientState): void {
    if (this.closed) return;
    const ws = this.ws;
    if (ws) {
      this.ws = undefined;
      if (reason === 'keepalive-timeout') ws.terminate();
      else this.retiring.add(ws);
    }
    this.stopTimers();
    this.pacer.pause();
    this.metrics.disconnected();
    if (this.opts.reconnect === false) {
      this.setState(S.DISCONNECTED);
      return;
    }
    this.metrics.reconnects++;
    this.log.info(`reconnecting (${reason})`);
    this.emit('reconnect', reason);
    this.target = 'CONNECTED';
    this.background = true;
    this.run(from).catch((e: unknown) => {
      if (this.closed || (e instanceof KvsError && e.code === 'ERR_KVS_ABORTED')) return;
      this.metrics.runtimeErrors++;
      this.setState(S.DISCONNECTED);
      this.emitError(
        e instanceof KvsError
          ? e
          : new KvsError('ERR_KVS_SIGNALING_RECONNECT', `reconnect failed: ${String(e)}`, {
              cause: e,
            }),
      );
    });
  }

  private onSocketClose(ws: WebSocket, code: number, reason: string): void {
    if (this.retiring.delete(ws)) return;
    if (ws !== this.ws) return;
    this.log.info(`connection closed (${code} ${reason})`);
    if (this.closed || this.target !== 'CONNECTED') {
      this.ws = undefined;
      this.stopTimers();
      this.pacer.pause();
      this.metrics.disconnected();
      if (!this.closed) this.setState(S.READY);
      return;
    }
    this.reconnectNow('connection-lost', S.GET_CREDENTIALS);
  }

  private onMessage(ws: WebSocket, text: string): void {
    this.metrics.messagesReceived++;
    let m: IncomingMessage;
    try {
      m = decodeIncoming(text);
    } catch (e) {
      this.metrics.error(true);
      this.emitError(e as KvsError);
      return;
    }
    const now = Date.now();
    switch (m.type) {
      case 'SDP_OFFER':
      case 'SDP_ANSWER': {
        if (m.type === 'SDP_OFFER') {
          this.offerReceivedAt.set(m.senderClientId, now);
          if (this.offerReceivedAt.size > 256) {
            const first = this.offerReceivedAt.keys().next().value as string;
            this.offerReceivedAt.delete(first);
          }
        } else if (this.offerSentAt !== undefined) {
          this.metrics.offerToAnswerMs = now - this.offerSentAt;
          this.offerSentAt = undefined;
        }
        this.emit(
          m.type === 'SDP_OFFER' ? 'sdpOffer' : 'sdpAnswer',
          m.description,
          m.senderClientId,
        );
        for (const c of this.holder.sdp(m.senderClientId, now))
          this.emit('iceCandidate', c, m.senderClientId);
        return;
      }
      case 'ICE_CANDIDATE':
        if (this.holder.candidate(m.senderClientId, m.candidate, now))
          this.emit('iceCandidate', m.candidate, m.senderClientId);
        return;
      case 'STATUS_RESPONSE':
        this.metrics.error(false);
        this.log.warn(
          `STATUS_RESPONSE ${m.status.statusCode} ${m.status.errorType} for ${m.status.correlationId}: ${m.status.description}`,
        );
        this.emit('statusResponse', m.status);
        return;
      case 'GO_AWAY':
        this.emit('goAway');
        if (ws === this.ws) {
          this.refreshDescribe = true;
          this.refreshEndpoint = true;
          this.reconnectNow('go-away', S.DESCRIBE);
        }
        return;
      case 'RECONNECT_ICE_SERVER':
        this.emit('reconnectIceServer');
        void this.backgroundIceRefresh();
        return;
    }
  }

  // ---- sending ----

  private write(item: Outgoing): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.stateValue !== S.CONNECTED) return false;
    ws.send(item.text, (err) => {
      if (err) {
        // The socket died under the write: the message goes first once reconnected.
        this.log.debug(`write failed (${err.message}); requeued`);
        this.pacer.unshift(CLS[item.action], item);
        return;
      }
      this.metrics.messagesSent++;
      const now = Date.now();
      if (item.action === 'SDP_OFFER' && this.role === 'VIEWER') this.offerSentAt = now;
      if (item.action === 'SDP_ANSWER' && item.recipient !== undefined) {
        const at = this.offerReceivedAt.get(item.recipient);
        if (at !== undefined) {
          this.metrics.offerToAnswerMs = now - at;
          this.offerReceivedAt.delete(item.recipient);
        }
      }
      item.resolve(item.correlationId);
    });
    return true;
  }

  private nextCorrelationId(): string {
    this.correlationCounter = (this.correlationCounter + 1) % Number.MAX_SAFE_INTEGER;
    return `${Date.now().toString(36)}.${this.correlationCounter}`;
  }

  private send(
    action: OutgoingAction,
    payload: SessionDescription | IceCandidate,
    recipientClientId: string | undefined,
    options: SendOptions = {},
  ): Promise<string> {
    if (this.closed) return Promise.reject(closedError());
    if (options.signal?.aborted) return Promise.reject(abortError());
    let text: string;
    const correlationId = options.correlationId ?? this.nextCorrelationId();
    try {
      text = encodeOutgoing({ action, payload, recipientClientId, correlationId }, this.role);
    } catch (e) {
      this.metrics.error(false);
      return Promise.reject(e as Error);
    }
    return new Promise<string>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        if (this.pacer.remove((i) => i === item) > 0) reject(abortError());
      };
      const item: Outgoing = {
        text,
        action,
        recipient: recipientClientId,
        correlationId,
        resolve: (id) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(id);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.pacer.enqueue(CLS[action], item);
      } catch (e) {
        this.metrics.error(false);
        item.reject(e as Error);
      }
    });
  }

  /**
   * Sends an SDP offer. A master names the viewer; a viewer leaves `recipientClientId` out.
   * Resolves with the correlationId once written to the socket (queued while not connected).
   */
  sendSdpOffer(
    offer: SessionDescription,
    recipientClientId?: string,
    options?: SendOptions,
  ): Promise<string> {
    return this.send('SDP_OFFER', offer, recipientClientId, options);
  }

  /** Sends an SDP answer (see sendSdpOffer). */
  sendSdpAnswer(
    answer: SessionDescription,
    recipientClientId?: string,
    options?: SendOptions,
  ): Promise<string> {
    return this.send('SDP_ANSWER', answer, recipientClientId, options);
  }

  /** Sends an ICE candidate (see sendSdpOffer). */
  sendIceCandidate(
    candidate: IceCandidate,
    recipientClientId?: string,
    options?: SendOptions,
  ): Promise<string> {
    return this.send('ICE_CANDIDATE', candidate, recipientClientId, options);
  }

  // ---- ending ----

  /** Closes the socket but keeps the client (state READY); queued messages wait for connect(). */
  async disconnect(): Promise<void> {
    this.target = 'READY';
    this.runAbort.abort();
    await this.driver?.catch(() => undefined);
    const ws = this.ws;
    this.ws = undefined;
    this.stopTimers();
    this.pacer.pause();
    this.metrics.disconnected();
    await closeSocket(ws);
    if (!this.closed) this.setState(this.channelArn && this.wssEndpoint ? S.READY : S.DISCONNECTED);
  }

  /** Deletes the channel (DELETE → DELETED) and closes the client. */
  async deleteChannel(signal?: AbortSignal): Promise<void> {
    if (this.closed) throw closedError();
    if (!this.channelArn) await this.fetch(signal);
    this.setState(S.DELETE);
    const t = performance.now();
    try {
      await this.api.delete(this.channelArn as string, undefined, signal);
    } catch (e) {
      this.metrics.error(false);
      throw e;
    }
    this.metrics.call('delete', performance.now() - t);
    this.cache?.delete(this.cacheKey);
    await this.shutdown();
    this.setState(S.DELETED);
  }

  /** Ends the client: stops retries and timers, closes sockets, rejects queued sends. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.shutdown();
    this.setState(S.DISCONNECTED);
  }

  private async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.runAbort.abort();
    clearTimeout(this.iceTimer);
    this.stopTimers();
    await this.driver?.catch(() => undefined);
    for (const item of this.pacer.drainAll()) item.reject(closedError());
    const sockets = [this.ws, ...this.retiring];
    this.ws = undefined;
    this.retiring.clear();
    this.metrics.disconnected();
    await Promise.all(sockets.map((s) => closeSocket(s)));
    this.api.close();
    this.holder.clear();
  }
}

export interface SendOptions {
  /** Your own correlationId (1-256 of [a-zA-Z0-9_.-]); one is generated otherwise. */
  correlationId?: string;
  /** Withdraws the message while it is still queued. */
  signal?: AbortSignal;
}

async function closeSocket(ws: WebSocket | undefined): Promise<void> {
  if (!ws) return;
  if (ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2000);
    ws.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      ws.close(1000);
    } catch {
      ws.terminate();
    }
  });
}

// `await using client = new SignalingClient(...)` where the runtime has Symbol.asyncDispose
// (Node 18.18+/20+); Node 18.17 keeps working without it.
const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
if (asyncDispose) {
  Object.defineProperty(SignalingClient.prototype, asyncDispose, {
    value: function (this: SignalingClient) {
      return this.close();
    },
    configurable: true,
    writable: true,
  });
}

/** The C SDK's name: SignalingClientStats of `client`. */
export function signalingClientGetMetrics(client: SignalingClient): SignalingClientStats {
  return client.getMetrics();
}
