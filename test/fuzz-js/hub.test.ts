/**
 * Fuzzing the local service's WebSocket message handling (lib/local/signaling.ts, the hub)
 * with fast-check: random sequences of connects, frames (random text, any JSON, and messages
 * shaped like a client's with random fields, spellings and payloads), disconnects and clock
 * steps from a master and three viewers, on sockets that record what the hub sends. After
 * every step:
 * - nothing threw;
 * - every frame the hub sent is JSON with a messageType, which the client's decoder
 *   (lib/signaling/codec.ts) reads or refuses with ERR_SIGNALING_BAD_MESSAGE;
 * - a viewer only ever receives what the master addressed to it, the master only what
 *   viewers sent, each with the payload exactly as sent and the master told the sender;
 * - a STATUS_RESPONSE goes only to the sender of the frame, with its correlationId;
 * - with the rate limits out of the way, a valid message to a connected recipient is
 *   delivered at once, and nothing else reaches a socket.
 * At the end every socket closes and the hub holds no connection (and so no timer).
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { KvsError } from '../../lib/errors.js';
import { DEFAULT_LIMITS, type LocalKvsLimits } from '../../lib/local/limits.js';
import { Metrics } from '../../lib/local/metrics.js';
import { SignalingHub } from '../../lib/local/signaling.js';
import type { Channel, ChannelStore } from '../../lib/local/store.js';
import { decodeIncoming } from '../../lib/signaling/codec.js';
import { check, testTimeout } from './budget.js';

const PROPERTIES = 2;
const CHANNEL: Channel = {
  name: 'fuzz',
  arn: 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/fuzz/1',
  type: 'SINGLE_MASTER',
  status: 'ACTIVE',
  createdAt: 0,
  messageTtlSeconds: 60,
  version: '1',
  tags: {},
};
const VIEWERS = ['v1', 'v2', 'v3'] as const;
type Who = 'MASTER' | (typeof VIEWERS)[number];
const WHO: Who[] = ['MASTER', ...VIEWERS];

/** A socket as the hub uses one: it records what is sent, and closes when told. */
class FakeSocket extends EventEmitter {
  readyState = 1; // WebSocket.OPEN
  readonly sent: string[] = [];
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.emit('close', 1000, Buffer.alloc(0));
  }
  terminate(): void {
    this.close();
  }
}

type Step =
  | { kind: 'connect'; who: Who }
  | { kind: 'frame'; who: Who; text: string; binary: boolean }
  | { kind: 'close'; who: Who }
  | { kind: 'tick'; ms: number };

const spelled = (key: string) =>
  fc.constantFrom(
    key,
    key.toLowerCase(),
    key.toUpperCase(),
    `${key.charAt(0).toUpperCase()}${key.slice(1)}`,
  );

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v), 'utf8').toString('base64');

/** A field that is mostly there and mostly valid, sometimes absent or any JSON. */
const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 5, arbitrary: valid }, fc.jsonValue()), { freq: 8, nil: undefined });

/** A client frame: action, payload, recipient and correlationId, each random or valid. */
const clientFrame = fc
  .tuple(
    spelled('action'),
    field(fc.constantFrom('SDP_OFFER', 'SDP_ANSWER', 'ICE_CANDIDATE')),
    spelled('messagePayload'),
    field(
      fc.oneof(
        { weight: 4, arbitrary: fc.constant({ type: 'offer', sdp: 'v=0\r\n' }).map(b64) },
        { weight: 4, arbitrary: fc.record({ candidate: fc.string() }).map(b64) },
        fc.base64String({ maxLength: 64 }),
        fc.constant(''),
        fc.constant('x'.repeat(DEFAULT_LIMITS.maxPayloadChars)),
        fc.constant('x'.repeat(DEFAULT_LIMITS.maxPayloadChars + 1)),
      ),
    ),
    spelled('recipientClientId'),
    field(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...VIEWERS) },
        fc.constantFrom('nobody', ''),
      ),
    ),
    spelled('correlationId'),
    fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z0-9_.-]{1,12}$/) },
        fc.constantFrom('', 'bad id!', 'x'.repeat(257)),
        fc.constant(null),
        fc.jsonValue(),
      ),
      { freq: 2, nil: undefined },
    ),
  )
  .map(([ak, a, pk, p, rk, r, ck, c]) => {
    const o: Record<string, unknown> = {};
    if (a !== undefined) o[ak] = a;
    if (p !== undefined) o[pk] = p;
    if (r !== undefined) o[rk] = r;
    if (c !== undefined) o[ck] = c;
    return JSON.stringify(o);
  });

const who = fc.constantFrom(...WHO);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: who.map((w) => ({ kind: 'connect' as const, who: w })) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('frame' as const),
      who,
      text: fc.oneof(
        { weight: 4, arbitrary: clientFrame },
        fc.string({ unit: 'binary' }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      ),
      binary: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
    }),
  },
  { weight: 1, arbitrary: who.map((w) => ({ kind: 'close' as const, who: w })) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 90_000 }).map((ms) => ({ kind: 'tick' as const, ms })),
  },
);

/** What the hub must do with a frame when no rate limit applies (kvs-wire.md §3). */
function expectedRoute(
  from: Who,
  text: string,
  binary: boolean,
): { to: Who; payload: string; action: string } | undefined {
  if (binary) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const f = new Map<string, unknown>();
  for (const [k, v] of Object.entries(parsed)) f.set(k.toLowerCase(), v);
  const action = f.get('action');
  if (action !== 'SDP_OFFER' && action !== 'SDP_ANSWER' && action !== 'ICE_CANDIDATE') return;
  const corr = f.get('correlationid');
  if (
    corr !== undefined &&
    corr !== null &&
    corr !== '' &&
    !(typeof corr === 'string' && /^[a-zA-Z0-9_.-]{1,256}$/.test(corr))
  )
    return undefined;
  const payload = f.get('messagepayload');
  if (typeof payload !== 'string' || payload.length < 1) return undefined;
  if (payload.length > DEFAULT_LIMITS.maxPayloadChars) return undefined;
  if (from !== 'MASTER') return { to: 'MASTER', payload, action };
  const r = f.get('recipientclientid');
  if (typeof r !== 'string' || !/^[a-zA-Z0-9_.-]{1,256}$/.test(r)) return undefined;
  return VIEWERS.some((v) => v === r) ? { to: r as Who, payload, action } : undefined;
}

/** Everyone connects first (a second apart: the connect rate), then the random steps. */
const session = fc.array(step, { minLength: 5, maxLength: 40 }).map((steps): Step[] => [
  ...WHO.flatMap((w): Step[] => [
    { kind: 'connect', who: w },
    { kind: 'tick', ms: 1000 },
  ]),
  ...steps,
]);

function run(steps: Step[], unlimited: boolean): boolean {
  let now = 1_000_000;
  const limits: LocalKvsLimits = {
    ...DEFAULT_LIMITS,
    maxPendingPerRecipient: 4,
    ...(unlimited
      ? { sdpTpsPerConnection: 1e9, iceTpsPerConnection: 1e9, connectTpsPerChannel: 1e9 }
      : {}),
  };
  const store = { byArn: (arn: string) => (arn === CHANNEL.arn ? CHANNEL : undefined) };
  const hub = new SignalingHub({
    store: store as unknown as ChannelStore,
    limits,
    metrics: new Metrics(),
    now: () => now,
  });
  const sockets = new Map<Who, FakeSocket>();
  const all: FakeSocket[] = [];
  try {
    for (const s of steps) {
      const seen = new Map<FakeSocket, number>(all.map((ws) => [ws, ws.sent.length]));
      let sender: FakeSocket | undefined;
      let route: ReturnType<typeof expectedRoute>;
      let corr: string | undefined;
      switch (s.kind) {
        case 'connect': {
          try {
            hub.admit(CHANNEL.arn, s.who === 'MASTER' ? 'MASTER' : 'VIEWER', viewerId(s.who));
          } catch (e) {
            // Refused at the handshake (rate, viewer count): the socket never reaches the hub.
            expect((e as Error).name).toBe('ClientLimitExceededException');
            break;
          }
          const ws = new FakeSocket();
          all.push(ws);
          seen.set(ws, 0);
          hub.attach(
            ws as unknown as WebSocket,
            s.who === 'MASTER' ? 'MASTER' : 'VIEWER',
            CHANNEL,
            viewerId(s.who),
          );
          sockets.set(s.who, ws);
          // Messages held for this endpoint may be flushed to it now: not checked here.
          seen.set(ws, ws.sent.length);
          break;
        }
        case 'frame': {
          const ws = sockets.get(s.who);
          if (!ws || ws.readyState !== 1) break;
          sender = ws;
          route = expectedRoute(s.who, s.text, s.binary);
          corr = correlationOf(s.text);
          ws.emit('message', Buffer.from(s.text, 'utf8'), s.binary);
          break;
        }
        case 'close':
          sockets.get(s.who)?.close();
          break;
        case 'tick':
          now += s.ms;
          break;
      }
      for (const ws of all) {
        const fresh = ws.sent.slice(seen.get(ws) ?? 0);
        const owner = [...sockets].find(([, v]) => v === ws)?.[0];
        for (const text of fresh) checkFrame(text, ws, owner, sender, corr, s);
      }
      if (unlimited && s.kind === 'frame' && sender) {
        const target = route ? sockets.get(route.to) : undefined;
        const got = (ws: FakeSocket | undefined) =>
          ws ? ws.sent.slice(seen.get(ws) ?? 0).filter((t) => !t.includes('STATUS_RESPONSE')) : [];
        if (route && target && target.readyState === 1) {
          expect(got(target)).toHaveLength(1);
          const m = JSON.parse(got(target)[0] ?? '{}') as Record<string, unknown>;
          expect(m['messagePayload']).toBe(route.payload);
          expect(m['messageType']).toBe(route.action);
        }
        for (const ws of all) if (ws !== target) expect(got(ws)).toEqual([]);
      }
    }
  } finally {
    for (const ws of all) ws.close();
  }
  expect(hub.connectionCount).toBe(0);
  return true;
}

function viewerId(w: Who): string | undefined {
  return w === 'MASTER' ? undefined : w;
}

function correlationOf(text: string): string | undefined {
  try {
    const o = JSON.parse(text) as unknown;
    if (typeof o !== 'object' || o === null) return undefined;
    for (const [k, v] of Object.entries(o))
      if (k.toLowerCase() === 'correlationid') return v as string;
  } catch {
    return undefined;
  }
  return undefined;
}

function checkFrame(
  text: string,
  ws: FakeSocket,
  owner: Who | undefined,
  sender: FakeSocket | undefined,
  corr: string | undefined,
  s: Step,
): void {
  const m = JSON.parse(text) as Record<string, unknown>;
  expect(typeof m['messageType']).toBe('string');
  try {
    decodeIncoming(text);
  } catch (e) {
    expect(e).toBeInstanceOf(KvsError);
    expect((e as KvsError).code).toBe('ERR_SIGNALING_BAD_MESSAGE');
  }
  const type = m['messageType'];
  if (type === 'STATUS_RESPONSE') {
    expect(ws).toBe(sender);
    expect((m['statusResponse'] as Record<string, unknown>)['correlationId']).toBe(corr);
    return;
  }
  expect(['SDP_OFFER', 'SDP_ANSWER', 'ICE_CANDIDATE']).toContain(type);
  expect(s.kind).toBe('frame');
  if (s.kind !== 'frame') return;
  if (owner === 'MASTER') {
    expect(s.who).not.toBe('MASTER');
    expect(m['senderClientId']).toBe(s.who);
  } else {
    expect(s.who).toBe('MASTER');
    expect(m['senderClientId']).toBeUndefined();
  }
  expect(m['messagePayload']).toBe(
    (JSON.parse(s.text) as Record<string, unknown>)[
      Object.keys(JSON.parse(s.text) as object).find((k) => k.toLowerCase() === 'messagepayload') ??
        ''
    ],
  );
}

describe('local signaling hub (fuzzed)', () => {
  it(
    'routes, refuses and answers random traffic as the service does, within its limits',
    () => {
      check(
        'hub-limited',
        fc.property(session, (steps) => run(steps, false)),
        500,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );

  it(
    'delivers exactly the valid messages to connected recipients when no rate limit applies',
    () => {
      check(
        'hub-unlimited',
        fc.property(session, (steps) => run(steps, true)),
        500,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );
});
