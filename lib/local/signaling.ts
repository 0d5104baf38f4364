/**
 * The WebSocket signaling hub: who is connected to which channel, how messages are routed,
 * held for offline recipients, rate limited, and how connections end (idle, lifetime, GO_AWAY).
 * The handshake (signature, ARN, policy) is checked before a socket reaches this module.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { rawDataText } from '../ws-data.js';
import { clientLimit, invalidArgument, notFound, ServiceError } from './errors.js';
import type { LocalKvsLimits } from './limits.js';
import type { Metrics, SignalingOperation } from './metrics.js';
import { RateLimiter } from './rate.js';
import type { Channel, ChannelStore } from './store.js';
import { CLIENT_ID_RE, CORRELATION_ID_RE } from './validate.js';

export type Role = 'MASTER' | 'VIEWER';

const ACTIONS: Record<string, SignalingOperation> = {
  SDP_OFFER: 'SendSdpOffer',
  SDP_ANSWER: 'SendSdpAnswer',
  ICE_CANDIDATE: 'SendCandidate',
};

/** Close codes the service uses; the real service's codes are not documented (inferred). */
export const CLOSE = {
  replaced: { code: 1000, reason: 'Replaced by a newer connection' },
  idle: { code: 1000, reason: 'Idle timeout' },
  lifetime: { code: 1000, reason: 'Connection duration limit reached' },
  goAway: { code: 1001, reason: 'Going away' },
  deleted: { code: 1000, reason: 'Channel deleted' },
} as const;

interface Pending {
  text: string;
  messageType: string;
  /** Who sent it; an undelivered offer/answer from the same sender is replaced by a newer one. */
  sender: string;
  expiresAt: number;
}

export interface ServerMessage {
  senderClientId?: string;
  messageType: string;
  messagePayload?: string;
  statusResponse?: {
    correlationId: string;
    errorType: string;
    statusCode: string;
    description: string;
  };
}

class Connection {
  readonly id = randomUUID();
  idleTimer: NodeJS.Timeout | undefined;
  lifetimeTimer: NodeJS.Timeout | undefined;
  goAwayTimer: NodeJS.Timeout | undefined;
  closed = false;
  detached = false;

  constructor(
    readonly ws: WebSocket,
    readonly role: Role,
    readonly clientId: string | undefined,
    readonly channelArn: string,
    readonly channelName: string,
  ) {}

  /** The key under which the hub addresses this endpoint. */
  get key(): string {
    return this.role === 'MASTER' ? 'MASTER' : `VIEWER:${this.clientId ?? ''}`;
  }

  send(msg: ServerMessage): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  close(how: { code: number; reason: string }): void {
    this.clearTimers();
    if (!this.closed) {
      this.closed = true;
      this.ws.close(how.code, how.reason);
      // A peer that never answers the close frame is cut off rather than left half-open.
      setTimeout(() => this.ws.terminate(), 5000).unref();
    }
  }

  clearTimers(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.lifetimeTimer);
    clearTimeout(this.goAwayTimer);
  }
}

interface ChannelState {
  master: Connection | undefined;
  viewers: Map<string, Connection>;
  pending: Map<string, Pending[]>;
  /** Messages in `pending`, all recipients together. */
  held: number;
}

interface AlexaWaiter {
  resolve: (answer: string) => void;
}

/** How often expired held messages are swept while any are held. */
const SWEEP_INTERVAL_MS = 1000;

export interface HubDeps {
  store: ChannelStore;
  limits: LocalKvsLimits;
  metrics: Metrics;
  now?: () => number;
}

export class SignalingHub {
  private readonly channels = new Map<string, ChannelState>();
  private readonly rate = new RateLimiter();
  /** Per channel and sender, in the order the offers went out: answers come back in order. */
  private readonly alexaWaiters = new Map<string, AlexaWaiter[]>();
  private readonly now: () => number;
  /** Messages held across all channels, and the sweep that expires them while there are any. */
  private heldTotal = 0;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HubDeps) {
    this.now = deps.now ?? Date.now;
  }

  private state(arn: string): ChannelState {
    let s = this.channels.get(arn);
    if (!s) {
      s = { master: undefined, viewers: new Map(), pending: new Map(), held: 0 };
      this.channels.set(arn, s);
    }
    return s;
  }

  /** Handshake-time checks after authentication: channel exists, connect rate, viewer count. */
  admit(channelArn: string, role: Role, clientId: string | undefined): Channel {
    const channel = this.deps.store.byArn(channelArn);
    if (!channel) throw notFound('The requested channel is not found or not active.');
    const { limits } = this.deps;
    if (
      !this.rate.allow(`connect:${role}:${channelArn}`, limits.connectTpsPerChannel, this.now())
    ) {
      throw clientLimit(
        `ConnectAs${role === 'MASTER' ? 'Master' : 'Viewer'} is limited to ${limits.connectTpsPerChannel} TPS per channel.`,
      );
    }
    if (role === 'VIEWER') {
      const s = this.channels.get(channelArn);
      const existing = s ? s.viewers.size - (s.viewers.has(clientId ?? '') ? 1 : 0) : 0;
      if (existing >= limits.maxViewers) {
        throw clientLimit(
          `The channel already has the maximum of ${limits.maxViewers} viewers connected.`,
        );
      }
    }
    return channel;
  }

  /** Takes over an upgraded socket. A newer master, or viewer with the same ClientId, wins. */
  attach(ws: WebSocket, role: Role, channel: Channel, clientId: string | undefined): void {
    const conn = new Connection(ws, role, clientId, channel.arn, channel.name);
    const s = this.state(channel.arn);
    const previous = role === 'MASTER' ? s.master : s.viewers.get(clientId ?? '');
    if (role === 'MASTER') s.master = conn;
    else s.viewers.set(clientId ?? '', conn);
    previous?.close(CLOSE.replaced);

    const { limits } = this.deps;
    const armIdle = (): void => {
      clearTimeout(conn.idleTimer);
      conn.idleTimer = setTimeout(() => conn.close(CLOSE.idle), limits.idleTimeoutMs);
    };
    armIdle();
    conn.lifetimeTimer = setTimeout(() => conn.close(CLOSE.lifetime), limits.connectionLifetimeMs);

    ws.on('message', (data, isBinary) => {
      armIdle();
      this.onMessage(conn, isBinary ? '' : rawDataText(data));
    });
    ws.on('ping', armIdle);
    ws.on('close', () => this.detach(conn));
    ws.on('error', () => this.detach(conn));

    this.flushPending(s, conn);
  }

  private detach(conn: Connection): void {
    // 'error' and 'close' may both fire for one socket: count one disconnect.
    if (conn.detached) return;
    conn.detached = true;
    const started = this.now();
    conn.closed = true;
    conn.clearTimers();
    const s = this.channels.get(conn.channelArn);
    if (!s) return;
    if (conn.role === 'MASTER' && s.master === conn) s.master = undefined;
    if (conn.role === 'VIEWER' && s.viewers.get(conn.clientId ?? '') === conn)
      s.viewers.delete(conn.clientId ?? '');
    this.deps.metrics.recordCall('Disconnect', conn.channelName, true, this.now() - started);
    this.forgetIfUnused(conn.channelArn, s);
  }

  private forgetIfUnused(arn: string, s: ChannelState): void {
    if (!s.master && s.viewers.size === 0 && s.pending.size === 0) this.channels.delete(arn);
  }

  /** Replaces (or, with an empty list, removes) what is held for one recipient. */
  private setPending(s: ChannelState, key: string, list: Pending[]): void {
    const old = s.pending.get(key)?.length ?? 0;
    if (list.length > 0) s.pending.set(key, list);
    else s.pending.delete(key);
    s.held += list.length - old;
    this.heldTotal += list.length - old;
    this.deps.metrics.setHeldMessages(this.heldTotal);
    if (this.heldTotal > 0 && !this.sweepTimer) {
      // Messages for a recipient that never connects must still go once their TTL has passed.
      this.sweepTimer = setInterval(() => this.sweepExpired(), SWEEP_INTERVAL_MS);
      this.sweepTimer.unref();
    } else if (this.heldTotal === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Drops every held message whose TTL has passed, and channel states left with nothing. */
  sweepExpired(): void {
    const now = this.now();
    for (const [arn, s] of this.channels) {
      for (const [key, list] of s.pending) {
        if (list.some((p) => p.expiresAt <= now)) {
          this.setPending(
            s,
            key,
            list.filter((p) => p.expiresAt > now),
          );
        }
      }
      this.forgetIfUnused(arn, s);
    }
  }

  /** How many messages are held for recipients that are not connected. */
  get heldMessages(): number {
    return this.heldTotal;
  }

  private onMessage(conn: Connection, text: string): void {
    const started = this.now();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // Both spellings are in use: the JS SDK sends camelCase, the C SDK capitalised keys.
    const fields = new Map<string, unknown>();
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed)) fields.set(k.toLowerCase(), v);
    }
    const action = fields.get('action');
    const op: SignalingOperation | undefined =
      typeof action === 'string' ? ACTIONS[action] : undefined;
    // An empty correlationId is taken as none, as a client that always sends the key may.
    const rawCorr = fields.get('correlationid');
    const corr = rawCorr === '' || rawCorr === null ? undefined : rawCorr;
    const correlationId =
      typeof corr === 'string' && CORRELATION_ID_RE.test(corr) ? corr : undefined;

    const fail = (e: ServiceError): void => {
      this.deps.metrics.recordCall(
        op ?? 'SendCandidate',
        conn.channelName,
        false,
        this.now() - started,
      );
      if (correlationId === undefined) return;
      conn.send({
        messageType: 'STATUS_RESPONSE',
        statusResponse: {
          correlationId,
          errorType: e.type,
          statusCode: String(e.status),
          description: e.message,
        },
      });
    };

    if (fields.size === 0) {
      fail(invalidArgument('The message must be a JSON object.'));
      return;
    }
    if (corr !== undefined && correlationId === undefined) {
      fail(invalidArgument('correlationId must match [a-zA-Z0-9_.-]{1,256}.'));
      return;
    }
    if (!op || typeof action !== 'string') {
      fail(invalidArgument('action must be one of SDP_OFFER, SDP_ANSWER, ICE_CANDIDATE.'));
      return;
    }
    const payload = fields.get('messagepayload');
    const { limits } = this.deps;
    if (
      typeof payload !== 'string' ||
      payload.length < 1 ||
      payload.length > limits.maxPayloadChars
    ) {
      fail(invalidArgument(`messagePayload must be 1-${limits.maxPayloadChars} characters.`));
      return;
    }
    const isIce = action === 'ICE_CANDIDATE';
    const allowed = isIce
      ? this.rate.allow(`ice:${conn.id}`, limits.iceTpsPerConnection, started)
      : this.rate.allow(`sdp:${conn.id}`, limits.sdpTpsPerConnection, started);
    if (!allowed) {
      fail(
        clientLimit(
          isIce
            ? `SendIceCandidate is limited to ${limits.iceTpsPerConnection} TPS per connection.`
            : `SendSdpOffer and SendSdpAnswer are limited to ${limits.sdpTpsPerConnection} TPS per connection.`,
        ),
      );
      return;
    }

    let recipientKey: string;
    let out: ServerMessage;
    if (conn.role === 'VIEWER') {
      // A viewer's recipient is ignored: its messages only ever reach the master.
      recipientKey = 'MASTER';
      out = { senderClientId: conn.clientId ?? '', messageType: action, messagePayload: payload };
    } else {
      const r = fields.get('recipientclientid');
      if (typeof r !== 'string' || !CLIENT_ID_RE.test(r)) {
        fail(invalidArgument('A master must name the recipient viewer in recipientClientId.'));
        return;
      }
      recipientKey = `VIEWER:${r}`;
      out = { messageType: action, messagePayload: payload };
      if (action === 'SDP_ANSWER' && this.resolveAlexa(conn.channelArn, r, payload)) {
        // The answer went back in the SendAlexaOfferToMaster response.
        this.deps.metrics.messageTransferred(conn.channelName);
        this.deps.metrics.recordCall(op, conn.channelName, true, this.now() - started);
        return;
      }
    }
    this.deps.metrics.messageTransferred(conn.channelName);
    this.deliver(conn.channelArn, conn.channelName, recipientKey, conn.key, out);
    this.deps.metrics.recordCall(op, conn.channelName, true, this.now() - started);
  }

  private connectionFor(s: ChannelState, key: string): Connection | undefined {
    return key === 'MASTER' ? s.master : s.viewers.get(key.slice('VIEWER:'.length));
  }

  /** Sends now if the recipient is connected, otherwise holds it for the channel's TTL. */
  private deliver(
    arn: string,
    channelName: string,
    recipientKey: string,
    senderKey: string,
    msg: ServerMessage,
  ): void {
    const s = this.state(arn);
    const target = this.connectionFor(s, recipientKey);
    if (target && target.send(msg)) {
      this.deps.metrics.messageTransferred(channelName);
      return;
    }
    const channel = this.deps.store.byArn(arn);
    if (!channel) return;
    const now = this.now();
    const list = (s.pending.get(recipientKey) ?? []).filter((p) => p.expiresAt > now);
    const isSdp = msg.messageType === 'SDP_OFFER' || msg.messageType === 'SDP_ANSWER';
    const kept = isSdp
      ? list.filter((p) => !(p.messageType === msg.messageType && p.sender === senderKey))
      : list;
    const { limits } = this.deps;
    const before = s.pending.get(recipientKey)?.length ?? 0;
    // Channel and service bounds: past them a message for an offline recipient is not held
    // (the recipient's own bound instead drops its oldest, as a newer candidate supersedes it).
    const room =
      s.held - before + kept.length < limits.maxPendingPerChannel &&
      this.heldTotal - before + kept.length < limits.maxPendingTotal;
    if (room || kept.length >= limits.maxPendingPerRecipient) {
      kept.push({
        text: JSON.stringify(msg),
        messageType: msg.messageType,
        sender: senderKey,
        expiresAt: now + channel.messageTtlSeconds * 1000,
      });
    }
    while (kept.length > limits.maxPendingPerRecipient) kept.shift();
    this.setPending(s, recipientKey, kept);
  }

  private flushPending(s: ChannelState, conn: Connection): void {
    const list = s.pending.get(conn.key);
    if (!list) return;
    this.setPending(s, conn.key, []);
    const now = this.now();
    for (const p of list) {
      if (p.expiresAt <= now) continue;
      conn.send(JSON.parse(p.text) as ServerMessage);
      this.deps.metrics.messageTransferred(conn.channelName);
    }
  }

  private connections(channelArn?: string): Connection[] {
    const out: Connection[] = [];
    for (const [arn, s] of this.channels) {
      if (channelArn !== undefined && arn !== channelArn) continue;
      if (s.master) out.push(s.master);
      out.push(...s.viewers.values());
    }
    return out.filter((c) => !c.closed);
  }

  /** Sends GO_AWAY and closes each socket after the grace period. Returns how many got it. */
  goAway(channelArn?: string): number {
    const conns = this.connections(channelArn);
    for (const c of conns) {
      c.send({ messageType: 'GO_AWAY' });
      clearTimeout(c.goAwayTimer);
      c.goAwayTimer = setTimeout(() => c.close(CLOSE.goAway), this.deps.limits.goAwayGraceMs);
    }
    return conns.length;
  }

  /** Sends RECONNECT_ICE_SERVER; the connection stays open. Returns how many got it. */
  reconnectIceServer(channelArn?: string): number {
    const conns = this.connections(channelArn);
    for (const c of conns) c.send({ messageType: 'RECONNECT_ICE_SERVER' });
    return conns.length;
  }

  /** Deleting a channel ends its connections and drops what was held for it. */
  channelDeleted(channelArn: string): void {
    for (const c of this.connections(channelArn)) c.close(CLOSE.deleted);
    const s = this.channels.get(channelArn);
    if (s) for (const key of [...s.pending.keys()]) this.setPending(s, key, []);
  }

  get connectionCount(): number {
    return this.connections().length;
  }

  /** Closes every socket now (after GO_AWAY's grace, or at once when forced). */
  closeAll(): void {
    for (const c of this.connections()) c.close(CLOSE.goAway);
    for (const c of this.connectionsIncludingClosed()) c.ws.terminate();
    this.channels.clear();
    this.heldTotal = 0;
    this.deps.metrics.setHeldMessages(0);
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private connectionsIncludingClosed(): Connection[] {
    const out: Connection[] = [];
    for (const s of this.channels.values()) {
      if (s.master) out.push(s.master);
      out.push(...s.viewers.values());
    }
    return out;
  }

  /**
   * SendAlexaOfferToMaster: hands the offer to the connected master as an SDP_OFFER from
   * `senderClientId` and resolves with the master's SDP_ANSWER to that client.
   */
  alexaOffer(channel: Channel, senderClientId: string, payload: string): Promise<string> {
    const s = this.channels.get(channel.arn);
    const master = s?.master;
    if (!master || master.closed) {
      return Promise.reject(notFound('The master of the channel is not connected.'));
    }
    const key = `${channel.arn}\u0000${senderClientId}`;
    return new Promise<string>((resolve, reject) => {
      const queue = this.alexaWaiters.get(key) ?? [];
      this.alexaWaiters.set(key, queue);
      const remove = (): void => {
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0 && this.alexaWaiters.get(key) === queue) {
          this.alexaWaiters.delete(key);
        }
      };
      const timer = setTimeout(() => {
        remove();
        reject(clientLimit('The master did not answer the offer in time.'));
      }, this.deps.limits.alexaAnswerTimeoutMs);
      // Concurrent offers from one SenderClientId: the master answers them in the order it got
      // them, so the first answer belongs to the oldest call still waiting.
      const waiter: AlexaWaiter = {
        resolve: (answer) => {
          clearTimeout(timer);
          remove();
          resolve(answer);
        },
      };
      queue.push(waiter);
      master.send({ senderClientId, messageType: 'SDP_OFFER', messagePayload: payload });
      this.deps.metrics.messageTransferred(channel.name, 2);
    });
  }

  private resolveAlexa(channelArn: string, recipient: string, payload: string): boolean {
    const w = this.alexaWaiters.get(`${channelArn}\u0000${recipient}`)?.[0];
    w?.resolve(payload);
    return w !== undefined;
  }
}
