/**
 * Opens the signaling WebSocket on a presigned URL and turns every way the handshake can fail
 * (HTTP refusal, TLS or network error, timeout, abort) into a `ChannelCallError` the state
 * machine can route. A 403 that blames the signature's date corrects the shared clock from the
 * response's `Date` header when it has one.
 */
import type WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import type { SharedClock } from '../channel/api.js';
import { ChannelCallError, classifyFailure } from '../channel/failure.js';
import { webSocket } from '../lazy.js';
import { abortError } from './errors.js';

export interface OpenSocketOptions {
  url: string;
  handshakeTimeoutMs: number;
  /** CA certificates to trust (PEM). */
  ca?: string | Buffer | (string | Buffer)[] | undefined;
  signal: AbortSignal;
  clock: SharedClock;
  createWebSocket?: ((url: string, options: ClientOptions) => WebSocket) | undefined;
}

/** Resolves with the open socket (no listeners left on it) or rejects with ChannelCallError. */
export async function openSignalingSocket(o: OpenSocketOptions): Promise<WebSocket> {
  const { signal } = o;
  if (signal.aborted) throw abortError();
  const wsOptions: ClientOptions = {
    handshakeTimeout: o.handshakeTimeoutMs,
    perMessageDeflate: false,
    ...(o.ca ? { ca: o.ca } : {}),
  };
  const ws = o.createWebSocket
    ? o.createWebSocket(o.url, wsOptions)
    : new (webSocket())(o.url, wsOptions);
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (e?: Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners();
      // Until the caller attaches its own handlers, an error must not go unhandled.
      ws.on('error', () => undefined);
      if (e) {
        ws.terminate();
        reject(e);
      } else resolve();
    };
    const onAbort = (): void => done(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => done());
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4096) body += c;
      });
      const finish = (): void => {
        const status = res.statusCode ?? 0;
        const errorType = String(res.headers['x-amzn-errortype'] ?? '').split(':')[0] ?? '';
        const dateHeader = res.headers['date'];
        let skewCorrected = false;
        if (status === 403 && dateHeader && /Signature (expired|not yet current)/i.test(body)) {
          const server = Date.parse(dateHeader);
          if (
            Number.isFinite(server) &&
            Math.abs(Date.now() + o.clock.offsetMs - server) >= 60_000
          ) {
            o.clock.offsetMs = server - Date.now();
            skewCorrected = true;
          }
        }
        done(
          new ChannelCallError(
            `connect failed (HTTP ${status} ${errorType}): ${body.slice(0, 300)}`,
            status,
            errorType,
            classifyFailure(status, errorType),
            skewCorrected,
          ),
        );
      };
      res.on('end', finish);
      res.on('error', finish);
    });
    ws.once('error', (e: Error & { code?: string }) =>
      done(
        new ChannelCallError(
          `connect failed: ${e.message}`,
          undefined,
          e.code ?? e.name,
          classifyFailure(
            undefined,
            e.code ?? (/timed? ?out/i.test(e.message) ? 'Timeout' : e.name),
          ),
          false,
          { cause: e },
        ),
      ),
    );
    ws.once('close', () =>
      done(
        new ChannelCallError(
          'the socket closed during the handshake',
          undefined,
          'Closed',
          'network',
          false,
        ),
      ),
    );
  });
  return ws;
}
