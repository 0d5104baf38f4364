// What the data-channel suites share: event waits with a safety deadline, a stream of
// numbered messages sent with back-pressure, and its receiving end, which checks that every
// message arrived once, whole and in order. Stack-neutral: each stack's channel is wrapped
// in a small adaptor (ours, node-datachannel's, werift's).
import crypto from 'node:crypto';
import { clearTimeout, setTimeout } from 'node:timers';
import { expect } from 'vitest';
import type { DataChannel, DataChannelInit, PeerConnection } from '../../lib/index.js';
import { negotiate, trickle, waitForState } from './peers.js';

/** Resolves with the first `event`; the deadline is a safety net, never the verdict. */
export function once<T = unknown>(
  emitter: { once(e: string, f: (v: T) => void): unknown },
  event: string,
  ms = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** Resolves once `channel` is open (now or later). */
export function opened(channel: DataChannel, ms = 30_000): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return once(channel, 'open', ms).then(() => undefined);
}

/**
 * Waits for a condition that events make true, checking it every 20 ms (not a timing
 * assertion: the deadline only bounds a test that would otherwise hang).
 */
export async function until(done: () => boolean, ms = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Everything a channel receives, in arrival order. */
export function collect(channel: DataChannel): (string | Buffer)[] {
  const got: (string | Buffer)[] = [];
  channel.on('message', (m) => got.push(m));
  return got;
}

/** A sending end, whatever the stack. */
export interface StreamSink {
  send(data: Buffer): void;
  bufferedAmount(): number;
  setLowThreshold(bytes: number): void;
  /** Registers the one listener for the stack's buffered-amount-low event. */
  onLow(listener: () => void): void;
}

export function kvsSink(channel: DataChannel): StreamSink {
  return {
    send: (data) => channel.send(data),
    bufferedAmount: () => channel.bufferedAmount,
    setLowThreshold: (bytes) => {
      channel.bufferedAmountLowThreshold = bytes;
    },
    onLow: (listener) => channel.on('bufferedamountlow', listener),
  };
}

export interface StreamOptions {
  totalBytes: number;
  messageBytes: number;
  /** Stop sending while this much is buffered... */
  highWater: number;
  /** ...until the low event for this threshold. */
  lowThreshold: number;
  /** A low event must come within this long of the wait starting (a stall otherwise). */
  stallMs?: number;
}

export interface SendReport {
  messages: number;
  bytes: number;
  digest: string;
  lowEvents: number;
  /** The most bufferedAmount ever reached (the back-pressure was real if it passed lowThreshold). */
  maxBuffered: number;
}

// Message i is a 4-byte big-endian sequence number, then bytes from a fixed random pool at an
// offset that depends on i: distinct messages, cheap to make, and checked by a digest.
const POOL = crypto.randomBytes(1 << 20);

export function streamMessage(i: number, size: number): Buffer {
  const m = Buffer.allocUnsafe(size);
  m.writeUInt32BE(i >>> 0, 0);
  const span = POOL.length - size;
  const offset = (i * 7919) % Math.max(1, span);
  POOL.copy(m, 4, offset, offset + size - 4);
  return m;
}

/**
 * Sends `totalBytes` in numbered messages, pausing at `highWater` until the low event. Rejects
 * if a low event does not come within `stallMs` while paused (the back-pressure stalled), or
 * if a send throws.
 */
export function streamOut(sink: StreamSink, o: StreamOptions): Promise<SendReport> {
  const hash = crypto.createHash('sha256');
  let sent = 0;
  let index = 0;
  let lowEvents = 0;
  let maxBuffered = 0;
  const count = Math.ceil(o.totalBytes / o.messageBytes);
  return new Promise((resolve, reject) => {
    let stallTimer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      if (stallTimer) clearTimeout(stallTimer);
      if (err) reject(err);
      else
        resolve({
          messages: index,
          bytes: sent,
          digest: hash.digest('hex'),
          lowEvents,
          maxBuffered,
        });
    };
    const pump = () => {
      if (finished) return;
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = undefined;
      try {
        while (index < count) {
          const buffered = sink.bufferedAmount();
          maxBuffered = Math.max(maxBuffered, buffered);
          if (buffered >= o.highWater) break;
          const size = Math.min(o.messageBytes, o.totalBytes - sent);
          const m = streamMessage(index, size);
          sink.send(m);
          hash.update(m);
          sent += size;
          index++;
        }
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (index >= count) {
        finish();
        return;
      }
      const stallMs = o.stallMs ?? 60_000;
      stallTimer = setTimeout(() => {
        finish(
          new Error(
            `back-pressure stalled: ${sent} of ${o.totalBytes} bytes sent, bufferedAmount ` +
              `${sink.bufferedAmount()} (threshold ${o.lowThreshold}), no low event within ${stallMs} ms ` +
              `(${lowEvents} so far)`,
          ),
        );
      }, stallMs);
    };
    sink.setLowThreshold(o.lowThreshold);
    sink.onLow(() => {
      lowEvents++;
      pump();
    });
    pump();
  });
}

export interface ReceiveReport {
  messages: number;
  bytes: number;
  digest: string;
}

/**
 * The receiving end of streamOut: feed it every message; it resolves once `totalBytes` have
 * arrived, and rejects at the first message out of sequence, of the wrong type, or past the
 * end.
 */
export function streamIn(totalBytes: number): {
  onMessage(m: string | Buffer | ArrayBuffer): void;
  done: Promise<ReceiveReport>;
  progress(): number;
} {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let next = 0;
  let settle: { resolve(r: ReceiveReport): void; reject(e: Error): void } | undefined;
  const done = new Promise<ReceiveReport>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let over = false;
  const fail = (e: Error) => {
    if (over) return;
    over = true;
    settle?.reject(e);
  };
  return {
    onMessage(m) {
      if (over) {
        if (typeof m !== 'string') bytes += m.byteLength;
        return;
      }
      if (typeof m === 'string') {
        fail(new Error(`message ${next} arrived as text`));
        return;
      }
      const b = Buffer.isBuffer(m) ? m : Buffer.from(m);
      if (b.length < 4 || b.readUInt32BE(0) !== next) {
        fail(
          new Error(
            `expected message ${next}, got ${b.length < 4 ? 'a short one' : b.readUInt32BE(0)}`,
          ),
        );
        return;
      }
      hash.update(b);
      bytes += b.length;
      next++;
      if (bytes > totalBytes) fail(new Error(`${bytes} bytes arrived, more than ${totalBytes}`));
      else if (bytes === totalBytes) {
        over = true;
        settle?.resolve({ messages: next, bytes, digest: hash.digest('hex') });
      }
    },
    done,
    progress: () => bytes,
  };
}

/** Rejects after `ms` with `what` (a safety net for a whole transfer). */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    }),
  ]);
}

export const MiB = 1024 * 1024;

/** Two connected kvs-webrtc peers on loopback and one open channel between them. */
export async function nativePair(
  make: () => PeerConnection,
  label = 'chat',
  init: DataChannelInit = {},
): Promise<{ a: PeerConnection; b: PeerConnection; ab: DataChannel; ba: DataChannel }> {
  const a = make();
  const b = make();
  trickle(a, b);
  const ab = a.createDataChannel(label, init);
  const remote = once<DataChannel>(b, 'datachannel');
  await negotiate(a, b);
  await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
  const ba = await remote;
  await opened(ab);
  return { a, b, ab, ba };
}

/**
 * A set of messages that exercises text and binary, multi-byte UTF-8, one byte to several
 * SCTP chunks, and 60 KB (under the 64 KiB a peer that advertises nothing takes).
 */
export function sampleMessages(tag: string): (string | Buffer)[] {
  return [
    `${tag}: hello`,
    `${tag}: ünïcødé ✓ 日本語`,
    Buffer.from([0, 1, 2, 255]),
    Buffer.from([tag.length & 0xff]),
    crypto.randomBytes(3000),
    `${tag}: ${'x'.repeat(20_000)}`,
    crypto.randomBytes(60_000),
  ];
}

/** A message as a comparable key that keeps its type (text or binary). */
export function messageKey(m: string | Buffer | ArrayBuffer): string {
  if (typeof m === 'string') return `text:${m}`;
  const b = Buffer.isBuffer(m) ? m : Buffer.from(m);
  return `binary:${b.toString('hex')}`;
}

/** The received keys, in order when the channel is ordered, as a sorted multiset when not. */
export function keysOf(messages: (string | Buffer)[], ordered: boolean): string[] {
  const keys = messages.map(messageKey);
  return ordered ? keys : keys.sort();
}

/** The other stack's end of a channel, as far as an exchange needs it. */
export interface ForeignEnd {
  send(m: string | Buffer): void;
  /** What it received so far, in arrival order. */
  received: (string | Buffer)[];
}

/** Sends the sample set each way on a channel pair and checks what arrived. */
export async function exchange(
  ourEnd: DataChannel,
  theirEnd: ForeignEnd,
  ordered: boolean,
  tag = ourEnd.label,
): Promise<void> {
  const atOurs = collect(ourEnd);
  const toTheirs = sampleMessages(`kvs->peer ${tag}`);
  const toOurs = sampleMessages(`peer->kvs ${tag}`);
  const already = theirEnd.received.length;
  for (const m of toTheirs) ourEnd.send(m);
  for (const m of toOurs) theirEnd.send(m);
  await until(
    () => atOurs.length >= toOurs.length && theirEnd.received.length - already >= toTheirs.length,
    60_000,
    `messages on ${tag}`,
  );
  expect(keysOf(theirEnd.received.slice(already), ordered)).toEqual(keysOf(toTheirs, ordered));
  expect(keysOf(atOurs, ordered)).toEqual(keysOf(toOurs, ordered));
}
