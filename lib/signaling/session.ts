/**
 * The WebSocket session: opens the presigned socket, owns the live one and the ones being
 * retired (after GO_AWAY or a renewal they keep delivering until the new one is up), keeps the
 * connection alive with pings, renews it before the service's lifetime limit, and hands every
 * frame and every close to the client. What a message means, and what to do when the socket
 * goes, is the client's business.
 */
import type WebSocket from 'ws';
import type { SharedClock } from '../channel/api.js';
import type { AwsCredentials } from '../channel/credentials.js';
import { openSignalingSocket } from './connection.js';
import type { Logger } from './logger.js';
import type { CheckedOptions } from './options.js';
import { presignSignalingUrl } from './presign.js';
import type { SocketWriter } from './send-queue.js';
import { rawDataText } from '../ws-data.js';

// WebSocket readyState values (the WHATWG standard's, which `ws` uses).
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

export interface SessionHandlers {
  /** A text frame from the live socket or from one being retired. */
  message(ws: WebSocket, text: string): void;
  /** The live socket closed (retiring sockets close silently). */
  closed(ws: WebSocket, code: number, reason: string): void;
  /** No pong came for `pongTimeoutMs`. */
  keepaliveTimeout(): void;
  /** The connection is near the service's lifetime limit: renew it. */
  lifetimeReached(): void;
}

export interface SessionOptions {
  opts: CheckedOptions;
  log: Logger;
  clock: SharedClock;
  handlers: SessionHandlers;
}

/** Where and as whom to connect. */
export interface SessionTarget {
  wssEndpoint: string;
  channelArn: string;
  credentials: AwsCredentials;
}

export class SignalingSession {
  private live: WebSocket | undefined;
  private readonly retiring = new Set<WebSocket>();
  private pingTimer: NodeJS.Timeout | undefined;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private lastPingAt = 0;
  private lastPongAt = 0;

  constructor(private readonly o: SessionOptions) {}

  /** True while `ws` is the live socket. */
  isLive(ws: WebSocket): boolean {
    return ws === this.live;
  }

  get hasLive(): boolean {
    return this.live !== undefined;
  }

  /**
   * Presigns the URL and opens a socket (not yet live: `adopt` makes it so). Resolves with it
   * and the handshake's duration; rejects with a routable ChannelCallError.
   */
  async open(t: SessionTarget, signal: AbortSignal): Promise<{ ws: WebSocket; ms: number }> {
    const { opts, clock } = this.o;
    const url = await presignSignalingUrl({
      endpoint: t.wssEndpoint,
      channelArn: t.channelArn,
      clientId: opts.role === 'VIEWER' ? opts.clientId : undefined,
      region: opts.region,
      credentials: t.credentials,
      date: new Date(Date.now() + clock.offsetMs),
    });
    const started = performance.now();
    const ws = await openSignalingSocket({
      url,
      handshakeTimeoutMs: opts.connectTimeoutMs,
      ca: opts.caCerts,
      signal,
      clock,
      createWebSocket: opts.createWebSocket,
    });
    return { ws, ms: performance.now() - started };
  }

  /** Makes `ws` the live socket; retiring sockets are closed now that it is up. */
  adopt(ws: WebSocket): void {
    const h = this.o.handlers;
    ws.removeAllListeners();
    ws.on('message', (data, isBinary) => {
      if (!isBinary) h.message(ws, rawDataText(data));
    });
    ws.on('pong', () => {
      if (ws === this.live) this.lastPongAt = Date.now();
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
    ws.on('error', (e) => this.o.log.debug(`socket error: ${e.message}`));
    this.live = ws;
    for (const old of this.retiring) {
      this.retiring.delete(old);
      if (old.readyState === OPEN || old.readyState === CONNECTING) {
        old.close(1000);
        setTimeout(() => old.terminate(), 2000).unref();
      }
    }
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.retiring.delete(ws)) return;
    if (ws !== this.live) return;
    this.o.handlers.closed(ws, code, reason);
  }

  /** Keepalive pings and the lifetime renewal, for the live socket `ws`. */
  startTimers(ws: WebSocket): void {
    this.stopTimers();
    const { opts, log, handlers } = this.o;
    const ping = opts.pingIntervalMs;
    if (ping > 0) {
      const pongTimeout = opts.pongTimeoutMs;
      this.lastPingAt = 0;
      this.lastPongAt = Date.now();
      this.pingTimer = setInterval(() => {
        if (ws !== this.live || ws.readyState !== OPEN) return;
        if (this.lastPingAt > 0 && Date.now() - this.lastPongAt > pongTimeout) {
          log.warn('no pong from the service: dropping the connection');
          handlers.keepaliveTimeout();
          return;
        }
        this.lastPingAt = Date.now();
        ws.ping();
      }, ping);
      this.pingTimer.unref();
    }
    const lifetime = opts.connectionLifetimeMs;
    if (opts.reconnect && lifetime > 0) {
      // Renew well before the limit: 60 s early, but never later than 80 % of it.
      const renewAt = Math.max(lifetime - 60_000, lifetime * 0.8);
      this.lifetimeTimer = setTimeout(() => {
        if (ws === this.live) handlers.lifetimeReached();
      }, renewAt);
      this.lifetimeTimer.unref();
    }
  }

  stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.lifetimeTimer);
    this.pingTimer = undefined;
    this.lifetimeTimer = undefined;
  }

  /**
   * Leaves the live socket: it is terminated (a dead connection), or kept receiving until the
   * next socket is adopted (GO_AWAY, renewal, a lost connection).
   */
  leave(terminate: boolean): void {
    const ws = this.live;
    if (ws) {
      this.live = undefined;
      if (terminate) ws.terminate();
      else this.retiring.add(ws);
    }
    this.stopTimers();
  }

  /** Forgets the live socket and returns it, for the caller to close. */
  detach(): WebSocket | undefined {
    const ws = this.live;
    this.live = undefined;
    this.stopTimers();
    return ws;
  }

  /** Writes to the live socket; false when there is no open one. */
  readonly write: SocketWriter = (text, done) => {
    const ws = this.live;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(text, done);
    return true;
  };

  /** Closes the live and the retiring sockets (each at most 2 s, then terminated). */
  async closeAll(): Promise<void> {
    const sockets = [this.live, ...this.retiring];
    this.live = undefined;
    this.retiring.clear();
    await Promise.all(sockets.map((s) => closeSocket(s)));
  }
}

/** Closes `ws` cleanly (1000), terminating it if the close handshake takes over 2 s. */
export async function closeSocket(ws: WebSocket | undefined): Promise<void> {
  if (!ws) return;
  if (ws.readyState === CLOSED) return;
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
