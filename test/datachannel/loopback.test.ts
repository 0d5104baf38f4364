// Data channels native to native on loopback.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerConnection, type DataChannel } from '../../lib/index.js';
import { LOOPBACK, negotiate, trickle, waitForState } from '../helpers/peers.js';

const open: PeerConnection[] = [];
function pc(): PeerConnection {
  const p = new PeerConnection(LOOPBACK);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

function once<T>(
  emitter: { once(e: string, f: (v: T) => void): unknown },
  event: string,
  ms = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

function messages(channel: DataChannel): (string | Buffer)[] {
  const got: (string | Buffer)[] = [];
  channel.on('message', (m) => got.push(m));
  return got;
}

async function until(done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function pair(): Promise<{
  a: PeerConnection;
  b: PeerConnection;
  ab: DataChannel;
  ba: DataChannel;
}> {
  const a = pc();
  const b = pc();
  trickle(a, b);
  const ab = a.createDataChannel('chat', { protocol: 'x-test' });
  expect(ab.readyState).toBe('connecting');
  const remote = once<DataChannel>(b, 'datachannel');
  await negotiate(a, b);
  await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
  const ba = await remote;
  if (ab.readyState !== 'open') await once(ab, 'open');
  return { a, b, ab, ba };
}

describe('data channels native to native', () => {
  it('opens in-band with label and protocol, ids by DTLS role, and carries text, binary and empty messages both ways', async () => {
    const { ab, ba } = await pair();
    expect(ba.label).toBe('chat');
    expect(ba.protocol).toBe('x-test');
    expect(ba.readyState).toBe('open');
    expect(ab.id).toBe(ba.id);
    // The offerer is the DTLS server here (the answerer takes setup:active): odd ids.
    expect((ab.id ?? 0) % 2).toBe(1);
    const atB = messages(ba);
    const atA = messages(ab);
    const blob = randomBytes(3000);
    ab.send('hello');
    ab.send(blob);
    ab.send('');
    ab.send(Buffer.alloc(0));
    ba.send('back');
    ba.send(new Uint8Array([1, 2, 3]));
    await until(() => atB.length === 4 && atA.length === 2);
    expect(atB[0]).toBe('hello');
    expect(Buffer.isBuffer(atB[1]) && atB[1].equals(blob)).toBe(true);
    expect(atB[2]).toBe('');
    expect(Buffer.isBuffer(atB[3]) && atB[3].length === 0).toBe(true);
    expect(atA[0]).toBe('back');
    expect([...(atA[1] as Buffer)]).toEqual([1, 2, 3]);
  });

  it('a 4 MiB message round-trips byte for byte', async () => {
    const { ab, ba } = await pair();
    // kvs-webrtc advertises 16 MiB by default.
    expect(ab.maxMessageSize).toBe(16 * 1024 * 1024);
    const big = randomBytes(4 * 1024 * 1024);
    const atB = messages(ba);
    ba.on('message', (m) => ba.send(m));
    const atA = messages(ab);
    ab.send(big);
    await until(() => atA.length === 1, 60_000);
    expect(atB.length).toBe(1);
    expect((atA[0] as Buffer).equals(big)).toBe(true);
  });

  it('negotiated channels open on both sides without DCEP', async () => {
    const a = pc();
    const b = pc();
    trickle(a, b);
    const ca = a.createDataChannel('neg', { negotiated: true, id: 6, ordered: false });
    const cb = b.createDataChannel('neg', { negotiated: true, id: 6, ordered: false });
    let announced = 0;
    b.on('datachannel', () => announced++);
    await negotiate(a, b);
    // Either may be open already: its event can come in the same batch that settled the
    // last negotiation step, before a listener added after it (seen under load).
    const isOpen = (c: DataChannel) =>
      c.readyState === 'open' ? Promise.resolve() : once(c, 'open');
    await Promise.all([isOpen(ca), isOpen(cb)]);
    expect(ca.id).toBe(6);
    const got = messages(cb);
    ca.send('unordered');
    await until(() => got.length === 1);
    expect(got[0]).toBe('unordered');
    expect(announced).toBe(0);
  });

  it('closing one of three channels leaves the other two working', async () => {
    const { a, b, ab } = await pair();
    const more = [a.createDataChannel('two'), a.createDataChannel('three')];
    const remote: DataChannel[] = [];
    b.on('datachannel', (c) => remote.push(c));
    await Promise.all(
      more.map((c) => (c.readyState === 'open' ? Promise.resolve() : once(c, 'open'))),
    );
    await until(() => remote.length === 2);
    const closedAtB = once(remote[0] as DataChannel, 'close');
    more[0]?.close();
    await closedAtB;
    expect(more[0]?.readyState).not.toBe('open');
    const got = messages(remote[1] as DataChannel);
    (more[1] as DataChannel).send('still here');
    ab.send('first too');
    await until(() => got.length === 1);
    expect(got[0]).toBe('still here');
  });

  it('refuses sends on a channel that is not open, and oversized messages, naming both sizes', async () => {
    const { ab } = await pair();
    const fresh = pc().createDataChannel('never');
    expect(() => fresh.send('x')).toThrow(/connecting, not open/);
    if (ab.maxMessageSize !== 0) {
      const tooBig = Buffer.alloc(ab.maxMessageSize + 1);
      expect(() => ab.send(tooBig)).toThrow(
        new RegExp(
          `${ab.maxMessageSize + 1} bytes is over the peer's max-message-size of ${ab.maxMessageSize}`,
        ),
      );
    }
  });
});
