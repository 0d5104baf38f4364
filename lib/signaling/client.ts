/**
 * SignalingClient: joins a KVS signaling channel as master or viewer, with the C SDK's state
 * machine, retries, endpoint cache, ICE configuration, resilience and metrics. The same code
 * talks to the real service (region + credentials) and to the local one (endpoint + CA).
 *
 * This file wires four parts and owns the events and the public API:
 * - `options.ts`: validation and defaults (CheckedOptions);
 * - `control-plane.ts`: the state machine up to READY, retries, ICE configuration;
 * - `session.ts`: the WebSocket (live and retiring sockets, keepalive, lifetime);
 * - `send-queue.ts`: outgoing messages, paced, queued while not connected.
 */
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { ChannelApi, type SharedClock } from '../channel/api.js';
import { CredentialSource } from '../channel/credentials.js';
import { KvsError } from '../errors.js';
import { CandidateHolder } from './candidates.js';
import {
  decodeIncoming,
  type IceCandidate,
  type IncomingMessage,
  type OutgoingAction,
  type SessionDescription,
  type SignalingRole,
  type StatusResponse,
} from './codec.js';
import { ControlPlane } from './control-plane.js';
import { closedError } from './errors.js';
import type { IceServer } from './ice-config.js';
import type { Logger } from './logger.js';
import { OfferAnswerTimer, SignalingMetrics, type SignalingClientStats } from './metrics.js';
import { checkInstance, checkSignal } from '../args.js';
import {
  checkClockOffset,
  checkOptions,
  type CheckedOptions,
  type SignalingClientOptions,
} from './options.js';
import { SendQueue, type Outgoing, type SendOptions } from './send-queue.js';
import { closeSocket, SignalingSession } from './session.js';
import { SIGNALING_CLIENT_STATE as S, type SignalingClientState } from './states.js';

export type { SignalingClientOptions } from './options.js';
export type { SendOptions } from './send-queue.js';

/** Why a reconnect started. */
export type ReconnectReason = 'go-away' | 'connection-lost' | 'lifetime' | 'keepalive-timeout';

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
  private readonly opts: CheckedOptions;
  private readonly log: Logger;
  private readonly metrics: SignalingMetrics;
  private readonly creds: CredentialSource;
  private readonly clock: SharedClock;
  private readonly api: ChannelApi;
  private readonly cp: ControlPlane;
  private readonly session: SignalingSession;
  private readonly queue: SendQueue;
  private readonly holder: CandidateHolder<IceCandidate>;
  private readonly offerAnswer: OfferAnswerTimer;
  private closed = false;

  constructor(options: SignalingClientOptions) {
    super();
    const started = performance.now();
    const o = checkOptions(options);
    this.opts = o;
    this.role = o.role;
    this.clientId = o.clientId;
    this.region = o.region;
    this.log = o.logger;
    this.metrics = new SignalingMetrics();
    this.creds = new CredentialSource(o.credentials, o.credentialRefreshMarginMs);
    this.clock = { offsetMs: o.systemClockOffset };
    this.api = new ChannelApi({
      region: o.region,
      endpoint: o.endpoint,
      caCert: o.caCerts,
      credentials: this.creds,
      clock: this.clock,
      connectTimeoutMs: o.apiConnectTimeoutMs,
      requestTimeoutMs: o.apiRequestTimeoutMs,
    });
    this.cp = new ControlPlane({
      opts: o,
      log: this.log,
      metrics: this.metrics,
      creds: this.creds,
      api: this.api,
      state: () => this.stateValue,
      setState: (s) => this.setState(s),
      closed: () => this.closed,
      connectSocket: (signal) => this.openSocket(signal),
      iceServers: (servers) => this.emit('iceServers', servers),
      error: (e) => this.emitError(e),
    });
    this.session = new SignalingSession({
      opts: o,
      log: this.log,
      clock: this.clock,
      handlers: {
        message: (ws, text) => this.onMessage(ws, text),
        closed: (_ws, code, reason) => this.onSocketClose(code, reason),
        keepaliveTimeout: () => this.reconnectNow('keepalive-timeout', S.GET_CREDENTIALS),
        lifetimeReached: () => this.reconnectNow('lifetime', S.GET_CREDENTIALS),
      },
    });
    this.offerAnswer = new OfferAnswerTimer(this.metrics);
    this.queue = new SendQueue({
      role: o.role,
      pacer: o.pacer,
      metrics: this.metrics,
      log: this.log,
      onWritten: (item, now) => this.onWritten(item, now),
    });
    this.holder = new CandidateHolder<IceCandidate>(o.candidateHolder);
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
    return this.cp.channelArn;
  }

  /** The channel's WSS and HTTPS endpoints once known (after GET_ENDPOINT or the cache). */
  get endpoints(): { wss: string; https: string } | undefined {
    const wss = this.cp.wssEndpoint;
    const https = this.cp.httpsEndpoint;
    return wss && https ? { wss, https } : undefined;
  }

  /**
   * The clock correction in ms added to the local clock when signing. It starts at the
   * `systemClockOffset` option and is corrected when the service reports clock skew.
   */
  get systemClockOffset(): number {
    return this.clock.offsetMs;
  }

  set systemClockOffset(ms: number) {
    this.clock.offsetMs = checkClockOffset(ms, 'systemClockOffset');
  }

  /** Messages waiting to be sent. */
  get queuedMessages(): number {
    return this.queue.length;
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
    checkSignal(signal, 'fetch');
    if (this.closed) throw closedError();
    if (this.stateValue === S.READY || this.stateValue === S.CONNECTED) return;
    this.cp.target ??= 'READY';
    await this.cp.awaitRun(this.startState(), signal);
  }

  /** Runs the state machine to CONNECTED (the promise resolves once connected). */
  async connect(signal?: AbortSignal): Promise<void> {
    checkSignal(signal, 'connect');
    if (this.closed) throw closedError();
    this.cp.target = 'CONNECTED';
    if (this.stateValue === S.CONNECTED && this.session.hasLive) return;
    this.cp.background = false;
    await this.cp.awaitRun(this.startState(), signal);
  }

  private startState(): SignalingClientState {
    return this.stateValue === S.READY ? S.READY : S.GET_CREDENTIALS;
  }

  /**
   * Fresh ICE servers (STUN first, then the channel's TURN servers): fetched when the cached
   * configuration is within 30 s of its smallest TTL (`signalingClientGetIceConfigInfo`).
   */
  async getIceServers(signal?: AbortSignal): Promise<IceServer[]> {
    checkSignal(signal, 'getIceServers');
    if (this.closed) throw closedError();
    if (!this.cp.httpsEndpoint || !this.cp.channelArn) await this.fetch(signal);
    return this.cp.iceServers(signal);
  }

  /**
   * getIceServers with the time their TURN credentials run out (ms since the epoch: fetch time
   * + the smallest TTL; undefined when the service gave no TTL), for a session that restarts
   * ICE before its relays' credentials expire.
   */
  async getIceConfig(
    signal?: AbortSignal,
  ): Promise<{ servers: IceServer[]; credentialsExpireAt: number | undefined }> {
    checkSignal(signal, 'getIceConfig');
    if (this.closed) throw closedError();
    if (!this.cp.httpsEndpoint || !this.cp.channelArn) await this.fetch(signal);
    const cfg = await this.cp.iceConfig(signal);
    return {
      servers: cfg.servers.map((s) => ({ ...s, urls: [...s.urls] })),
      credentialsExpireAt: cfg.credentialsExpireAt,
    };
  }

  // ---- the socket ----

  /** The CONNECTING step: presign, open, and make the socket live. */
  private async openSocket(signal: AbortSignal): Promise<void> {
    const wssEndpoint = this.cp.wssEndpoint;
    const channelArn = this.cp.channelArn;
    if (!wssEndpoint || !channelArn) throw new KvsError('ERR_INVALID_STATE', 'no WSS endpoint yet');
    const credentials = await this.creds.get();
    const { ws, ms } = await this.session.open({ wssEndpoint, channelArn, credentials }, signal);
    if (this.closed) {
      ws.terminate();
      throw closedError();
    }
    this.metrics.call('connect', ms);
    this.metrics.connectClientMs = ms;
    this.session.adopt(ws);
    this.metrics.connected();
    this.setState(S.CONNECTED);
    this.session.startTimers(ws);
    this.queue.resume((text, done) =>
      this.stateValue === S.CONNECTED ? this.session.write(text, done) : false,
    );
  }

  /** Leaves the live socket (it keeps delivering until the new one is up) and reconnects. */
  private reconnectNow(reason: ReconnectReason, from: SignalingClientState): void {
    if (this.closed) return;
    this.session.leave(reason === 'keepalive-timeout');
    this.queue.pause();
    this.metrics.disconnected();
    if (!this.opts.reconnect) {
      this.setState(S.DISCONNECTED);
      return;
    }
    this.metrics.reconnects++;
    this.log.info(`reconnecting (${reason})`);
    this.emit('reconnect', reason);
    this.cp.target = 'CONNECTED';
    this.cp.background = true;
    this.cp.run(from).catch((e: unknown) => {
      if (this.closed || (e instanceof KvsError && e.code === 'ERR_ABORTED')) return;
      this.metrics.runtimeErrors++;
      this.setState(S.DISCONNECTED);
      this.emitError(
        e instanceof KvsError
          ? e
          : new KvsError('ERR_SIGNALING_RECONNECT', `reconnect failed: ${String(e)}`, {
              cause: e,
            }),
      );
    });
  }

  private onSocketClose(code: number, reason: string): void {
    this.log.info(`connection closed (${code} ${reason})`);
    if (this.closed || this.cp.target !== 'CONNECTED') {
      this.session.detach();
      this.queue.pause();
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
      this.emitError(
        e instanceof KvsError
          ? e
          : new KvsError('ERR_SIGNALING_BAD_MESSAGE', String(e), { cause: e }),
      );
      return;
    }
    const now = Date.now();
    switch (m.type) {
      case 'SDP_OFFER':
      case 'SDP_ANSWER': {
        if (m.type === 'SDP_OFFER') this.offerAnswer.offerReceived(m.senderClientId, now);
        else this.offerAnswer.answerReceived(now);
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
        if (this.session.isLive(ws)) {
          this.cp.bypassCache();
          this.reconnectNow('go-away', S.DESCRIBE);
        }
        return;
      case 'RECONNECT_ICE_SERVER':
        this.emit('reconnectIceServer');
        // Never rejects: failures are counted and emitted as `error` inside.
        void this.cp.backgroundIceRefresh();
        return;
    }
  }

  // ---- sending ----

  private onWritten(item: Outgoing, now: number): void {
    this.metrics.messagesSent++;
    if (item.action === 'SDP_OFFER' && this.role === 'VIEWER') this.offerAnswer.offerSent(now);
    if (item.action === 'SDP_ANSWER' && item.recipient !== undefined)
      this.offerAnswer.answerSent(item.recipient, now);
  }

  private send(
    action: OutgoingAction,
    payload: SessionDescription | IceCandidate,
    recipientClientId: string | undefined,
    options?: SendOptions,
  ): Promise<string> {
    if (this.closed) return Promise.reject(closedError());
    return this.queue.send(action, payload, recipientClientId, options);
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
    this.cp.target = 'READY';
    await this.cp.stop();
    const ws = this.session.detach();
    this.queue.pause();
    this.metrics.disconnected();
    await closeSocket(ws);
    if (!this.closed)
      this.setState(this.cp.channelArn && this.cp.wssEndpoint ? S.READY : S.DISCONNECTED);
  }

  /** Deletes the channel (DELETE → DELETED) and closes the client. */
  async deleteChannel(signal?: AbortSignal): Promise<void> {
    checkSignal(signal, 'deleteChannel');
    if (this.closed) throw closedError();
    if (!this.cp.channelArn) await this.fetch(signal);
    const arn = this.cp.channelArn;
    if (!arn) throw new KvsError('ERR_INVALID_STATE', 'the channel ARN is not known');
    this.setState(S.DELETE);
    const t = performance.now();
    try {
      await this.api.delete(arn, undefined, signal);
    } catch (e) {
      this.metrics.error(false);
      throw e;
    }
    this.metrics.call('delete', performance.now() - t);
    this.opts.cache?.delete(this.opts.cacheKey);
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
    this.cp.stopIceTimer();
    this.session.stopTimers();
    await this.cp.stop();
    this.queue.rejectAll();
    this.metrics.disconnected();
    await this.session.closeAll();
    this.api.close();
    this.holder.clear();
  }
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
  return checkInstance(
    client,
    SignalingClient,
    'signalingClientGetMetrics: client',
    'SignalingClient',
  ).getMetrics();
}
