// 64 MiB streamed native to native on loopback, each way, with back-pressure: the sender
// stops at a high-water mark and resumes only on `bufferedamountlow`, so the transfer
// finishes only if that event comes every time the queue drains; the receiver checks every
// message arrived once, whole and in order (sequence numbers and a digest of the stream).
import { afterEach, describe, expect, it } from 'vitest';
import { PeerConnection } from '../../lib/index.js';
import {
  MiB,
  deadline,
  kvsSink,
  nativePair,
  streamIn,
  streamOut,
  type StreamOptions,
} from '../helpers/dc.js';
import { LOOPBACK } from '../helpers/peers.js';

const open: PeerConnection[] = [];
const pc = (): PeerConnection => {
  const p = new PeerConnection(LOOPBACK);
  open.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

const STREAM: StreamOptions = {
  totalBytes: 64 * MiB,
  messageBytes: 16 * 1024,
  highWater: 1 * MiB,
  lowThreshold: 256 * 1024,
};

describe('64 MiB with back-pressure, native to native', () => {
  for (const direction of ['offerer to answerer', 'answerer to offerer'] as const) {
    it(`arrives complete and in order, ${direction}`, async () => {
      const { ab, ba } = await nativePair(pc, 'bulk');
      const [from, to] = direction === 'offerer to answerer' ? [ab, ba] : [ba, ab];
      const inbound = streamIn(STREAM.totalBytes);
      to.on('message', (m) => inbound.onMessage(m));
      const sent = await deadline(streamOut(kvsSink(from), STREAM), 240_000, 'sending');
      const got = await deadline(inbound.done, 120_000, 'receiving');
      expect(sent.bytes).toBe(STREAM.totalBytes);
      expect(got.messages).toBe(sent.messages);
      expect(got.digest).toBe(sent.digest);
      // The sender really was held back, and resumed on the event each time.
      expect(sent.maxBuffered).toBeGreaterThanOrEqual(STREAM.highWater);
      expect(sent.lowEvents).toBeGreaterThan(0);
      expect(from.bufferedAmount).toBe(0);
    }, 300_000);
  }
});
