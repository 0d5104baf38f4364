/**
 * The handshake's failure mapping on a loopback HTTP server that refuses upgrades the way the
 * service does: status, error type, kind, and the clock correction from a refusal's Date header.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelCallError } from '../../lib/channel/api.js';
import { openSignalingSocket } from '../../lib/signaling/connection.js';

let server: Server;
let base = '';
const SKEW_MS = 10 * 60_000;

beforeAll(async () => {
  server = createServer();
  server.on('upgrade', (req, socket) => {
    const path = req.url ?? '/';
    const respond = (status: number, type: string, message: string, date?: Date): void => {
      const body = JSON.stringify({ __type: type, Message: message });
      socket.end(
        `HTTP/1.1 ${status} X\r\nConnection: close\r\nContent-Type: application/json\r\n` +
          `x-amzn-ErrorType: ${type}:https://kinesisvideo.amazonaws.com/doc/2017-09-30/\r\n` +
          (date ? `Date: ${date.toUTCString()}\r\n` : '') +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (path.startsWith('/skew'))
      respond(
        403,
        'AccessDeniedException',
        'Signature not yet current: X-Amz-Date is in the future.',
        new Date(Date.now() + SKEW_MS),
      );
    else if (path.startsWith('/denied'))
      respond(403, 'AccessDeniedException', 'not authorized', new Date());
    else if (path.startsWith('/gone'))
      respond(
        404,
        'ResourceNotFoundException',
        'The requested channel is not found or not active.',
      );
    else if (path.startsWith('/busy')) respond(400, 'ClientLimitExceededException', 'slow down');
    else respond(500, 'InternalFailure', 'oops');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function refusal(path: string, clock = { offsetMs: 0 }): Promise<ChannelCallError> {
  try {
    await openSignalingSocket({
      url: `${base}${path}`,
      handshakeTimeoutMs: 5000,
      signal: new AbortController().signal,
      clock,
    });
  } catch (e) {
    expect(e).toBeInstanceOf(ChannelCallError);
    return e as ChannelCallError;
  }
  throw new Error('the handshake unexpectedly succeeded');
}

describe('openSignalingSocket', () => {
  it('corrects the clock from the Date header of a refusal that blames the signature date', async () => {
    const clock = { offsetMs: 0 };
    const e = await refusal('/skew', clock);
    expect(e).toMatchObject({
      status: 403,
      errorName: 'AccessDeniedException',
      kind: 'auth',
      clockSkewCorrected: true,
    });
    // HTTP dates have one-second resolution.
    expect(Math.abs(clock.offsetMs - SKEW_MS)).toBeLessThan(3000);
  });

  it('leaves the clock alone for other refusals, and classifies them', async () => {
    const clock = { offsetMs: 0 };
    expect(await refusal('/denied', clock)).toMatchObject({
      status: 403,
      kind: 'auth',
      clockSkewCorrected: false,
    });
    expect(clock.offsetMs).toBe(0);
    expect(await refusal('/gone')).toMatchObject({
      status: 404,
      errorName: 'ResourceNotFoundException',
      kind: 'not-found',
    });
    expect(await refusal('/busy')).toMatchObject({ status: 400, kind: 'throttled' });
    expect(await refusal('/other')).toMatchObject({ status: 500, kind: 'server' });
  });

  it('maps a refused TCP connection and an abort', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(
      openSignalingSocket({
        url: `ws://127.0.0.1:${port}/`,
        handshakeTimeoutMs: 5000,
        signal: new AbortController().signal,
        clock: { offsetMs: 0 },
      }),
    ).rejects.toMatchObject({ kind: 'network', errorName: 'ECONNREFUSED' });
    const ac = new AbortController();
    ac.abort();
    await expect(
      openSignalingSocket({
        url: `${base}/skew`,
        handshakeTimeoutMs: 5000,
        signal: ac.signal,
        clock: { offsetMs: 0 },
      }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});
