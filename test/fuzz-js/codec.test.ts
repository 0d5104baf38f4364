/**
 * Fuzzing the signaling message codec (lib/signaling/codec.ts) with fast-check:
 * - decodeIncoming, on any text (random strings, any JSON, and messages shaped like the
 *   service's with random fields, key spellings and payloads), returns a message or throws a
 *   KvsError ERR_SIGNALING_BAD_MESSAGE, nothing else;
 * - encodeOutgoing, on any value (bigint, nested objects, wrong types), returns the frame or
 *   throws a KvsError ERR_INVALID_ARGUMENT / ERR_SIGNALING_PAYLOAD_TOO_LARGE, nothing else;
 * - what encodeOutgoing writes, delivered as the service delivers it (the payload verbatim,
 *   the sender added), decodes to what was sent; it refuses exactly what is over 10,000
 *   base64 characters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvsError } from '../../lib/errors.js';
import {
  decodeIncoming,
  encodeOutgoing,
  MAX_PAYLOAD_CHARS,
  type IceCandidate,
  type OutgoingAction,
  type OutgoingMessage,
  type SessionDescription,
  type SignalingRole,
} from '../../lib/signaling/codec.js';
import { check, testTimeout } from './budget.js';

const PROPERTIES = 3;
const ACTIONS: OutgoingAction[] = ['SDP_OFFER', 'SDP_ANSWER', 'ICE_CANDIDATE'];
const TYPES = [...ACTIONS, 'STATUS_RESPONSE', 'GO_AWAY', 'RECONNECT_ICE_SERVER'];

/** True when `fn` returns, or throws a KvsError with one of `codes`; anything else fails. */
function onlyThrows(codes: string[], fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof KvsError && codes.includes(e.code)) return true;
    throw e;
  }
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v), 'utf8').toString('base64');

/** A key in any spelling the service or a client might use. */
const spelled = (key: string) =>
  fc.constantFrom(
    key,
    key.toLowerCase(),
    key.toUpperCase(),
    `${key.charAt(0).toUpperCase()}${key.slice(1)}`,
  );

const payloadObject = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constantFrom('offer', 'answer'), fc.jsonValue()),
      sdp: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      candidate: fc.oneof(fc.string(), fc.jsonValue()),
      sdpMid: fc.oneof(fc.string(), fc.constant(null), fc.jsonValue()),
      sdpMLineIndex: fc.oneof(fc.nat(), fc.constant(null), fc.jsonValue()),
      usernameFragment: fc.oneof(fc.string(), fc.constant(null), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);

const messagePayload = fc.oneof(
  payloadObject.map(b64),
  fc.base64String(),
  fc.string(),
  fc.jsonValue(),
  fc.constant(''),
);

/** A frame shaped like the service's, with random field values and spellings. */
const serviceFrame = fc
  .tuple(
    spelled('messageType'),
    fc.oneof(fc.constantFrom(...TYPES), fc.jsonValue()),
    spelled('messagePayload'),
    messagePayload,
    spelled('senderClientId'),
    fc.oneof(fc.string(), fc.jsonValue()),
    spelled('statusResponse'),
    fc.oneof(
      fc.record(
        {
          correlationId: fc.jsonValue(),
          errorType: fc.jsonValue(),
          statusCode: fc.jsonValue(),
          description: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    ),
    fc.uniqueArray(fc.nat({ max: 3 }), { maxLength: 4 }),
  )
  .map(([tk, t, pk, p, sk, s, rk, r, keep]) => {
    const fields: [string, unknown][] = [
      [tk, t],
      [pk, p],
      [sk, s],
      [rk, r],
    ];
    return JSON.stringify(Object.fromEntries(keep.map((i) => fields[i] as [string, unknown])));
  });

const anyText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  serviceFrame,
);

const clientId = fc.stringMatching(/^[a-zA-Z0-9_-]{1,16}$/).filter((s) => !s.startsWith('AWS_'));
const correlationId = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,16}$/);

const description = (action: 'SDP_OFFER' | 'SDP_ANSWER'): fc.Arbitrary<SessionDescription> =>
  fc.record({
    type: fc.constant(action === 'SDP_OFFER' ? ('offer' as const) : ('answer' as const)),
    // Up to a little over the limit, so that both sides of it are tried.
    sdp: fc.string({ unit: 'binary', minLength: 1, maxLength: 3000 }),
  });

const candidate: fc.Arbitrary<IceCandidate> = fc.record(
  {
    candidate: fc.string({ unit: 'binary', maxLength: 300 }),
    sdpMid: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null)),
    sdpMLineIndex: fc.oneof(fc.nat({ max: 64 }), fc.constant(null)),
    usernameFragment: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null)),
  },
  { requiredKeys: ['candidate'] },
);

const validMessage: fc.Arbitrary<{ role: SignalingRole; msg: OutgoingMessage }> = fc
  .tuple(
    fc.constantFrom<SignalingRole>('MASTER', 'VIEWER'),
    fc.constantFrom(...ACTIONS),
    clientId,
    fc.option(correlationId, { nil: undefined }),
  )
  .chain(([role, action, recipient, corr]) =>
    (action === 'ICE_CANDIDATE' ? candidate : description(action)).map((payload) => ({
      role,
      msg: {
        action,
        payload,
        ...(role === 'MASTER' ? { recipientClientId: recipient } : {}),
        ...(corr !== undefined ? { correlationId: corr } : {}),
      },
    })),
  );

const anyValue = fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true });

const anyMessage = fc.oneof(
  anyValue,
  fc.record(
    {
      action: fc.oneof(fc.constantFrom(...ACTIONS), anyValue),
      recipientClientId: fc.oneof(clientId, anyValue),
      correlationId: fc.oneof(correlationId, anyValue),
      payload: fc.oneof(payloadObject, anyValue, fc.dictionary(fc.string(), anyValue)),
    },
    { requiredKeys: [] },
  ),
);

describe('signaling codec (fuzzed)', () => {
  // Found by the encode property: a payload carrying a bigint, or an action that was not a
  // string, threw a TypeError from JSON.stringify or a template literal; the payload's other
  // fields went on the wire as given.
  it('refuses with a KvsError what once threw a TypeError, and sends only the known fields', () => {
    const bad: [unknown, RegExp][] = [
      [{ action: Object.create(null) as unknown, payload: {} }, /action must be one of/],
      [{ action: 'SDP_OFFER', payload: { type: 'offer', sdp: 5n } }, /payload\.sdp/],
      [
        { action: 'ICE_CANDIDATE', payload: { candidate: 'c', sdpMLineIndex: 1n } },
        /sdpMLineIndex/,
      ],
      [{ action: 'NOPE', payload: { type: 'offer', sdp: 'x' } }, /action must be one of/],
      [
        { action: 'SDP_OFFER', payload: { type: 'offer', sdp: 'x' }, correlationId: 7n },
        /correlationId/,
      ],
    ];
    for (const [msg, message] of bad) {
      expect(() => encodeOutgoing(msg as OutgoingMessage, 'VIEWER')).toThrow(message);
      try {
        encodeOutgoing(msg as OutgoingMessage, 'VIEWER');
      } catch (e) {
        expect(e).toBeInstanceOf(KvsError);
        expect((e as KvsError).code).toBe('ERR_INVALID_ARGUMENT');
      }
    }
    const frame = encodeOutgoing(
      { action: 'SDP_OFFER', payload: { type: 'offer', sdp: 'x', extra: 1n } as never },
      'VIEWER',
    );
    const payload = (JSON.parse(frame) as { messagePayload: string }).messagePayload;
    expect(JSON.parse(Buffer.from(payload, 'base64').toString('utf8'))).toEqual({
      type: 'offer',
      sdp: 'x',
    });
  });

  it(
    'decodes any text to a message or ERR_SIGNALING_BAD_MESSAGE',
    () => {
      check(
        'codec-decode',
        fc.property(anyText, (text) =>
          onlyThrows(['ERR_SIGNALING_BAD_MESSAGE'], () => decodeIncoming(text)),
        ),
        5000,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );

  it(
    'encodes any value to a frame or a KvsError for the argument or the size',
    () => {
      check(
        'codec-encode',
        fc.property(anyMessage, fc.constantFrom<SignalingRole>('MASTER', 'VIEWER'), (msg, role) =>
          onlyThrows(['ERR_INVALID_ARGUMENT', 'ERR_SIGNALING_PAYLOAD_TOO_LARGE'], () =>
            encodeOutgoing(msg as OutgoingMessage, role),
          ),
        ),
        5000,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );

  it(
    'round-trips what it encodes through the service, refusing exactly what is too large',
    () => {
      check(
        'codec-roundtrip',
        fc.property(validMessage, clientId, ({ role, msg }, sender) => {
          // The payload as it goes on the wire: undefined fields are left out.
          const sent = JSON.parse(JSON.stringify(msg.payload)) as Record<string, unknown>;
          const tooLarge = b64(sent).length > MAX_PAYLOAD_CHARS;
          let frame: string;
          try {
            frame = encodeOutgoing(msg, role);
          } catch (e) {
            expect(e).toBeInstanceOf(KvsError);
            expect((e as KvsError).code).toBe('ERR_SIGNALING_PAYLOAD_TOO_LARGE');
            expect((e as KvsError).message).toMatch(/10000/);
            return tooLarge;
          }
          expect(tooLarge).toBe(false);
          const out = JSON.parse(frame) as Record<string, unknown>;
          expect(Object.keys(out).sort()).toEqual(
            [
              'action',
              'messagePayload',
              ...(role === 'MASTER' ? ['recipientClientId'] : []),
              ...(msg.correlationId !== undefined ? ['correlationId'] : []),
            ].sort(),
          );
          expect(out['action']).toBe(msg.action);
          // The service forwards the payload verbatim and names the sender to the master.
          const delivered = decodeIncoming(
            JSON.stringify({
              senderClientId: role === 'VIEWER' ? sender : '',
              messageType: msg.action,
              messagePayload: out['messagePayload'],
            }),
          );
          expect(delivered.type).toBe(msg.action);
          if (delivered.type === 'ICE_CANDIDATE') expect(delivered.candidate).toEqual(sent);
          else if (delivered.type === 'SDP_OFFER' || delivered.type === 'SDP_ANSWER')
            expect(delivered.description).toEqual(sent);
          return true;
        }),
        3000,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );
});
