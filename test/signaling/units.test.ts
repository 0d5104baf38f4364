/**
 * The pure parts of the signaling client: backoff, state transitions, codec, pacer (fake
 * clock), candidate holding, endpoint cache (TTL, bound, file format), ICE expiry, credential
 * refresh and the metrics' moving average.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileEndpointCache,
  MemoryEndpointCache,
  parseCacheFile,
  type EndpointCacheEntry,
} from '../../lib/channel/endpoint-cache.js';
import { backoffDelay, maxTotalBackoff } from '../../lib/signaling/backoff.js';
import { CandidateHolder } from '../../lib/signaling/candidates.js';
import { decodeIncoming, encodeOutgoing, MAX_PAYLOAD_CHARS } from '../../lib/signaling/codec.js';
import { CredentialSource } from '../../lib/signaling/credentials.js';
import { defaultStunUrl, iceConfigFrom } from '../../lib/signaling/ice-config.js';
import { envLogLevel } from '../../lib/signaling/logger.js';
import { Ema, SignalingMetrics } from '../../lib/signaling/metrics.js';
import { Pacer, type PacerClock } from '../../lib/signaling/pacer.js';
import { classifyFailure, recoveryFor } from '../../lib/signaling/states.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');

describe('backoff', () => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 6 };
  it('doubles per retry with equal jitter and never exceeds the cap', () => {
    expect(backoffDelay(1, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 0)).toBe(200);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
    for (let r = 1; r < 50; r++) {
      const d = backoffDelay(r, opts, Math.random);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(1000);
    }
    expect(backoffDelay(40, opts, () => 1)).toBe(1000);
  });
  it('bounds a whole recovery', () => {
    expect(maxTotalBackoff(opts)).toBe(100 + 200 + 400 + 800 + 1000);
  });
});

describe('state transitions', () => {
  const o = { createIfMissing: true, knownArn: false };
  it('follows the C SDK: 401/403 to GET_CREDENTIALS, 404 to DESCRIBE or CREATE, connect failures to GET_ENDPOINT', () => {
    expect(recoveryFor('CONNECTING', 'auth', o)).toMatchObject({
      next: 'GET_CREDENTIALS',
      fatal: false,
    });
    expect(recoveryFor('DESCRIBE', 'auth', o).next).toBe('GET_CREDENTIALS');
    expect(recoveryFor('DESCRIBE', 'not-found', o)).toMatchObject({ next: 'CREATE', fatal: false });
    expect(recoveryFor('DESCRIBE', 'not-found', { ...o, createIfMissing: false }).fatal).toBe(true);
    expect(
      recoveryFor('DESCRIBE', 'not-found', { createIfMissing: true, knownArn: true }).fatal,
    ).toBe(true);
    expect(recoveryFor('CONNECTING', 'not-found', o)).toMatchObject({
      next: 'DESCRIBE',
      refreshDescribe: true,
    });
    for (const k of ['timeout', 'server', 'network', 'invalid'] as const) {
      expect(recoveryFor('CONNECTING', k, o)).toMatchObject({
        next: 'GET_ENDPOINT',
        refreshEndpoint: true,
        fatal: false,
      });
    }
    expect(recoveryFor('CONNECTING', 'throttled', o).next).toBe('CONNECTING');
    expect(recoveryFor('GET_ICE_CONFIG', 'server', o)).toMatchObject({
      next: 'GET_ICE_CONFIG',
      fatal: false,
    });
    expect(recoveryFor('DESCRIBE', 'invalid', o).fatal).toBe(true);
  });
  it('classifies statuses and error names', () => {
    expect(classifyFailure(403, 'AccessDeniedException')).toBe('auth');
    expect(classifyFailure(401)).toBe('auth');
    expect(classifyFailure(404)).toBe('not-found');
    expect(classifyFailure(400, 'ClientLimitExceededException')).toBe('throttled');
    expect(classifyFailure(503)).toBe('server');
    expect(classifyFailure(400, 'InvalidArgumentException')).toBe('invalid');
    expect(classifyFailure(undefined, 'TimeoutError')).toBe('timeout');
    expect(classifyFailure(undefined, 'ECONNREFUSED')).toBe('network');
    expect(classifyFailure(undefined, 'CredentialsProviderError')).toBe('invalid');
    expect(recoveryFor('GET_CREDENTIALS', 'invalid', o).fatal).toBe(true);
  });
});

describe('codec', () => {
  const sdp = { type: 'offer' as const, sdp: 'v=0\r\n' };
  it('encodes as the JS SDK does: camelCase keys, base64 JSON payload', () => {
    const text = encodeOutgoing(
      { action: 'SDP_OFFER', payload: sdp, recipientClientId: 'v1', correlationId: 'c.1' },
      'MASTER',
    );
    expect(JSON.parse(text)).toEqual({
      action: 'SDP_OFFER',
      messagePayload: b64(sdp),
      recipientClientId: 'v1',
      correlationId: 'c.1',
    });
    expect(JSON.parse(encodeOutgoing({ action: 'SDP_OFFER', payload: sdp }, 'VIEWER'))).toEqual({
      action: 'SDP_OFFER',
      messagePayload: b64(sdp),
    });
  });
  it('refuses what the service would refuse, naming the field and the limit', () => {
    expect(() => encodeOutgoing({ action: 'SDP_OFFER', payload: sdp }, 'MASTER')).toThrow(
      /recipientClientId/,
    );
    expect(() =>
      encodeOutgoing({ action: 'SDP_OFFER', payload: sdp, recipientClientId: 'm' }, 'VIEWER'),
    ).toThrow(/VIEWER/);
    expect(() =>
      encodeOutgoing({ action: 'SDP_ANSWER', payload: sdp, recipientClientId: 'v' }, 'MASTER'),
    ).toThrow(/type must be "answer"/);
    expect(() =>
      encodeOutgoing(
        { action: 'SDP_OFFER', payload: sdp, correlationId: 'x'.repeat(257) },
        'VIEWER',
      ),
    ).toThrow(/correlationId/);
    // The limit is on the base64 text: 7,500 bytes of JSON is exactly 10,000 characters.
    const fits = (n: number): string =>
      encodeOutgoing({ action: 'ICE_CANDIDATE', payload: { candidate: 'c'.repeat(n) } }, 'VIEWER');
    const overhead = JSON.stringify({ candidate: '' }).length;
    expect(
      (JSON.parse(fits(7500 - overhead)) as { messagePayload: string }).messagePayload,
    ).toHaveLength(MAX_PAYLOAD_CHARS);
    expect(() => fits(7500 - overhead + 1)).toThrow(/10004 characters.*limit is 10000/);
  });
  it('decodes every service message type, keys case-insensitively', () => {
    expect(
      decodeIncoming(
        JSON.stringify({
          senderClientId: 'v1',
          messageType: 'SDP_OFFER',
          messagePayload: b64(sdp),
        }),
      ),
    ).toEqual({ type: 'SDP_OFFER', senderClientId: 'v1', description: sdp });
    expect(
      decodeIncoming(
        JSON.stringify({
          SenderClientId: 'v1',
          MessageType: 'ICE_CANDIDATE',
          MessagePayload: b64({ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }),
        }),
      ),
    ).toEqual({
      type: 'ICE_CANDIDATE',
      senderClientId: 'v1',
      candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(decodeIncoming('{"messageType":"GO_AWAY"}')).toEqual({
      type: 'GO_AWAY',
      senderClientId: '',
    });
    expect(decodeIncoming('{"messageType":"RECONNECT_ICE_SERVER"}').type).toBe(
      'RECONNECT_ICE_SERVER',
    );
    expect(
      decodeIncoming(
        JSON.stringify({
          messageType: 'STATUS_RESPONSE',
          statusResponse: {
            correlationId: 'c',
            errorType: 'InvalidArgumentException',
            statusCode: '400',
            description: 'd',
          },
        }),
      ),
    ).toMatchObject({ type: 'STATUS_RESPONSE', status: { correlationId: 'c', statusCode: '400' } });
    for (const bad of [
      'nope',
      '[]',
      '{"messageType":"X"}',
      '{"messageType":"SDP_OFFER","messagePayload":"!!"}',
    ]) {
      expect(() => decodeIncoming(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_SIGNALING_BAD_MESSAGE' }),
      );
    }
  });
});

class FakeClock implements PacerClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      this.timers.sort((a, b) => a.at - b.at);
      const first = this.timers[0];
      if (!first || first.at > end) break;
      this.timers.shift();
      this.t = first.at;
      first.fn();
    }
    this.t = end;
  }
}

describe('pacer', () => {
  it('queues instead of exceeding 5 SDP and 20 ICE messages per window, in order', () => {
    const clock = new FakeClock();
    const pacer = new Pacer<string>(
      { rates: { sdp: 5, ice: 20 }, windowMs: 1000, maxQueued: 100 },
      clock,
    );
    const out: [number, string][] = [];
    pacer.resume((v) => {
      out.push([clock.now(), v]);
      return true;
    });
    for (let i = 0; i < 7; i++) pacer.enqueue('sdp', `s${i}`);
    for (let i = 0; i < 25; i++) pacer.enqueue('ice', `i${i}`);
    expect(out.length).toBe(5);
    clock.advance(5000);
    expect(out.map(([, v]) => v)).toEqual([
      ...Array.from({ length: 7 }, (_, i) => `s${i}`),
      ...Array.from({ length: 25 }, (_, i) => `i${i}`),
    ]);
    // No window of 1000 ms holds more than the rate of either class.
    for (const [cls, rate] of [
      ['s', 5],
      ['i', 20],
    ] as const) {
      const times = out.filter(([, v]) => v.startsWith(cls)).map(([t]) => t);
      for (const t of times)
        expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(rate);
    }
  });
  it('holds messages while paused, keeps them on a failed write, and bounds the queue', () => {
    const clock = new FakeClock();
    const pacer = new Pacer<number>(
      { rates: { sdp: 5, ice: 20 }, windowMs: 1000, maxQueued: 3 },
      clock,
    );
    pacer.enqueue('ice', 1);
    pacer.enqueue('ice', 2);
    pacer.enqueue('ice', 3);
    expect(() => pacer.enqueue('ice', 4)).toThrow(
      expect.objectContaining({ code: 'ERR_SIGNALING_QUEUE_FULL' }),
    );
    let open = false;
    const got: number[] = [];
    pacer.resume((v) => {
      if (!open) return false;
      got.push(v);
      return true;
    });
    expect(pacer.length).toBe(3);
    open = true;
    pacer.resume((v) => (got.push(v), true));
    expect(got).toEqual([1, 2, 3]);
    pacer.pause();
    pacer.enqueue('sdp', 5);
    pacer.unshift('ice', 9);
    expect(pacer.remove((v) => v === 5)).toBe(1);
    expect(pacer.drainAll()).toEqual([9]);
  });
});

describe('candidate holder', () => {
  it('holds candidates per sender until its SDP, then passes them through; held ones expire', () => {
    const h = new CandidateHolder<string>({ holdMs: 20_000, maxPerSender: 2, maxSenders: 2 });
    expect(h.candidate('a', 'a1', 0)).toBe(false);
    expect(h.candidate('a', 'a2', 10)).toBe(false);
    expect(h.candidate('b', 'b1', 20)).toBe(false);
    expect(h.sdp('a', 30)).toEqual(['a1', 'a2']);
    expect(h.candidate('a', 'a3', 40)).toBe(true);
    expect(h.heldFor('b')).toBe(1);
    expect(h.sweep(20_021)).toBe(1);
    expect(h.sdp('b', 20_030)).toEqual([]);
    // Bounded per sender (oldest dropped) and in senders.
    h.candidate('c', 'c1', 30_000);
    h.candidate('c', 'c2', 30_000);
    h.candidate('c', 'c3', 30_000);
    expect(h.heldFor('c')).toBe(2);
    expect(h.dropped).toBeGreaterThanOrEqual(2);
  });
});

describe('endpoint cache', () => {
  const entry = (channel: string, cachedAt: number): EndpointCacheEntry => ({
    channel,
    role: 'MASTER',
    region: 'us-west-2',
    controlEndpoint: '',
    channelArn: `arn:aws:kinesisvideo:us-west-2:123456789012:channel/${channel}/1`,
    wssEndpoint: 'wss://m-1.example',
    httpsEndpoint: 'https://r-1.example',
    cachedAt,
  });
  const key = (channel: string) => ({
    channel,
    role: 'MASTER' as const,
    region: 'us-west-2',
    controlEndpoint: '',
  });

  it('expires entries after 10 hours and keeps at most 32', () => {
    let now = 1_000_000;
    const c = new MemoryEndpointCache({ now: () => now });
    c.set(entry('a', now));
    now += 10 * 3600_000 - 1;
    expect(c.get(key('a'))?.channelArn).toMatch(/channel\/a\//);
    now += 1;
    expect(c.get(key('a'))).toBeUndefined();
    for (let i = 0; i < 40; i++) {
      now += 1;
      c.set(entry(`ch${i}`, now));
    }
    expect(c.size).toBe(32);
    expect(c.get(key('ch0'))).toBeUndefined();
    expect(c.get(key('ch39'))).toBeDefined();
    // Role and region are part of the key.
    expect(c.get({ ...key('ch39'), role: 'VIEWER' })).toBeUndefined();
    expect(c.get({ ...key('ch39'), region: 'eu-west-1' })).toBeUndefined();
  });

  it('persists one CSV line per channel and role, and survives a damaged file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-cache-unit-'));
    try {
      const file = join(dir, 'sub', 'cache.csv');
      const now = Date.now();
      const a = new FileEndpointCache(file, { now: () => now });
      a.set(entry('cam1', now));
      a.set({ ...entry('cam1', now), role: 'VIEWER' });
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]?.split(',').slice(0, 3)).toEqual(['cam1', 'MASTER', 'us-west-2']);
      const b = new FileEndpointCache(file, { now: () => now });
      expect(b.get(key('cam1'))?.wssEndpoint).toBe('wss://m-1.example');
      writeFileSync(file, `garbage\n${lines[0] ?? ''}\n,,,\n`);
      expect(parseCacheFile(readFileSync(file, 'utf8'))).toHaveLength(1);
      const c = new FileEndpointCache(file, { now: () => now + 11 * 3600_000 });
      expect(c.get(key('cam1'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ICE configuration', () => {
  it('expires at fetch time + smallest TTL − 30 s, STUN first', () => {
    const cfg = iceConfigFrom(
      [
        { Uris: ['turn:h:443?transport=udp'], Username: 'u1', Password: 'p1', Ttl: 300 },
        { Uris: ['turns:h:443?transport=tcp'], Username: 'u2', Password: 'p2', Ttl: 120 },
      ],
      1000,
      defaultStunUrl('us-west-2'),
    );
    expect(cfg.expiresAt).toBe(1000 + 90_000);
    expect(cfg.servers[0]).toEqual({
      urls: ['stun:stun.kinesisvideo.us-west-2.amazonaws.com:443'],
    });
    expect(cfg.servers[2]).toEqual({
      urls: ['turns:h:443?transport=tcp'],
      username: 'u2',
      credential: 'p2',
    });
    expect(defaultStunUrl('cn-north-1')).toMatch(/amazonaws\.com\.cn:443$/);
    expect(iceConfigFrom([], 0, undefined).expiresAt).toBe(270_000);
  });
});

describe('credentials', () => {
  it('refreshes before expiry and after invalidation, sharing one fetch', async () => {
    let now = 0;
    let n = 0;
    const src = new CredentialSource(
      () => {
        n++;
        return Promise.resolve({
          accessKeyId: `AK${n}`,
          secretAccessKey: 's',
          expiration: new Date(now + 10_000),
        });
      },
      2000,
      () => now,
    );
    const [x, y] = await Promise.all([src.get(), src.get()]);
    expect(x.accessKeyId).toBe('AK1');
    expect(y.accessKeyId).toBe('AK1');
    now = 7999;
    expect((await src.get()).accessKeyId).toBe('AK1');
    now = 8001;
    expect((await src.get()).accessKeyId).toBe('AK2');
    src.invalidate();
    expect((await src.get()).accessKeyId).toBe('AK3');
    expect(src.fetches).toBe(3);
  });
});

describe('metrics and logging', () => {
  it('averages latencies exponentially and reports 100 ns units', () => {
    const e = new Ema(0.5);
    e.add(10);
    e.add(20);
    expect(e.get()).toBe(15);
    let t = 0;
    const m = new SignalingMetrics(() => t);
    m.call('describe', 2);
    m.call('getIceConfig', 3);
    t = 5;
    m.connected();
    t = 8;
    const s = m.snapshot();
    expect(s.cpApiCallLatency).toBe(20_000);
    expect(s.dpApiCallLatency).toBe(30_000);
    expect(s.signalingClientUptime).toBe(80_000);
    expect(s.connectionDuration).toBe(30_000);
    m.disconnected();
    expect(m.snapshot().connectionDuration).toBe(0);
  });
  it('reads AWS_KVS_LOG_LEVEL, silent by default', () => {
    expect(envLogLevel({})).toBe(7);
    expect(envLogLevel({ AWS_KVS_LOG_LEVEL: '2' })).toBe(2);
    expect(envLogLevel({ AWS_KVS_LOG_LEVEL: 'x' })).toBe(7);
  });
});
