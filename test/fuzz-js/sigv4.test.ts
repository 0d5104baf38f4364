/**
 * Fuzzing the local service's SigV4 verifier (lib/local/sigv4.ts) with fast-check:
 * - requests as they come off the wire (Node hands the path, query and headers over as
 *   latin1 strings), built from SigV4's own tokens and random bytes, never make it throw, and
 *   never verify: without the secret no input may pass;
 * - whatever the AWS SDK's signer (@smithy/signature-v4) signs or presigns, with random paths,
 *   query parameters, headers and bodies, verifies, and a changed signature or body does not;
 * - the query canonicalisation is a fixed point, and the X-Amz-Date codec round-trips.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  formatAmzDate,
  parseAmzDate,
  parseQuery,
  uriEncode,
  verifyHeaderSigned,
  verifyPresigned,
  type CredentialRecord,
  type SigV4Request,
  type VerifyOptions,
  type VerifyResult,
} from '../../lib/local/sigv4.js';
import { Sha256 } from '../local/helpers.js';
import { check, checkAsync, testTimeout } from './budget.js';

const PROPERTIES = 5;
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const ALICE: CredentialRecord = { accessKeyId: 'AKIAALICE0000000001', secretAccessKey: 'secret' };
const TEMP: CredentialRecord = {
  accessKeyId: 'ASIATEMP00000000001',
  secretAccessKey: 'temp-secret',
  sessionToken: 'tok-123',
};
const TABLE = [ALICE, TEMP];
const OPTS: VerifyOptions = {
  region: 'us-west-2',
  service: 'kinesisvideo',
  now: NOW,
  clockSkewMs: 5 * 60_000,
  lookup: (id) => TABLE.find((c) => c.accessKeyId === id),
};
const FAILURES = new Set([
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'ExpiredTokenException',
]);

// ---- wire-shaped inputs ----

const latin1 = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const TOKENS = [
  '%',
  '%2',
  '%25',
  '%2F',
  '%20',
  '%E2%82%AC',
  '%C3',
  '%ZZ',
  '&',
  '=',
  '+',
  '/',
  ' ',
  '\t',
  ',',
  ';',
  'AWS4-HMAC-SHA256',
  'aws4_request',
  'kinesisvideo',
  'us-west-2',
  '20260102',
  '20260102T030405Z',
  '99991231T235959Z',
  ALICE.accessKeyId,
  TEMP.accessKeyId,
  'host',
  'x-amz-date',
  'x-amz-security-token',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  '0000000000000000000000000000000000000000000000000000000000000000',
];
/** A latin1 string made of SigV4's own tokens and random bytes. */
const wire = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOKENS) }, latin1), { maxLength: 40 })
  .map((parts) => parts.join(''));

const credentialField = fc
  .tuple(
    fc.oneof(fc.constantFrom(ALICE.accessKeyId, TEMP.accessKeyId, ''), wire),
    fc.oneof(fc.constant('20260102'), wire),
    fc.oneof(fc.constant('us-west-2'), wire),
    fc.oneof(fc.constant('kinesisvideo'), wire),
    fc.oneof(fc.constant('aws4_request'), wire),
  )
  .map((parts) => parts.join('/'));

const hex64 = fc
  .array(fc.constantFrom(...'0123456789abcdef'.split('')), { minLength: 64, maxLength: 64 })
  .map((c) => c.join(''));

const authorization = fc.oneof(
  wire,
  fc
    .tuple(
      fc.oneof(fc.constant('AWS4-HMAC-SHA256 '), wire),
      credentialField,
      fc.oneof(
        fc.constantFrom('host;x-amz-date', 'host', 'host;x-amz-date;x-amz-security-token'),
        wire,
      ),
      fc.oneof(hex64, wire),
    )
    .map(([alg, c, h, s]) => `${alg}Credential=${c}, SignedHeaders=${h}, Signature=${s}`),
);

const headerValue = fc.oneof(wire, fc.array(wire, { maxLength: 3 }), fc.constant(undefined));

const headers = fc.record(
  {
    authorization,
    host: fc.oneof(fc.constant('127.0.0.1:4443'), wire),
    'x-amz-date': fc.oneof(fc.constantFrom('20260102T030405Z', '20260102T040405Z'), wire),
    'x-amz-security-token': fc.oneof(fc.constant('tok-123'), wire),
    'x-amz-content-sha256': fc.oneof(fc.constant('UNSIGNED-PAYLOAD'), hex64, wire),
    other: headerValue,
  },
  { requiredKeys: [] },
);

const presignedQuery = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...TOKENS.filter((t) => t.startsWith('X-Amz'))), wire),
      fc.oneof(
        credentialField,
        hex64,
        fc.constantFrom('AWS4-HMAC-SHA256', '299', '0', 'host'),
        wire,
      ),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

const request: fc.Arbitrary<SigV4Request> = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'POST'), wire),
  path: fc.oneof(fc.constant('/'), wire),
  query: fc.oneof(presignedQuery, wire),
  headers,
  body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
});

function wellFormed(r: VerifyResult): boolean {
  if (r.ok) return TABLE.includes(r.credential);
  return FAILURES.has(r.code) && typeof r.message === 'string' && r.message.length > 0;
}

// ---- what the AWS SDK signs ----

/** Text that can be a path segment, a query key or value: any code point but lone surrogates. */
const text = fc.string({ unit: 'binary', maxLength: 12 });
/** Header values as a client can send them: visible ASCII, spaces and tabs inside. */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 20,
});
const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,12}$/);

interface Signable {
  method: 'GET' | 'POST';
  segments: string[];
  trailingSlash: boolean;
  query: [string, string][];
  headers: [string, string][];
  body: string;
  credential: CredentialRecord;
  skewSeconds: number;
}

const signable: fc.Arbitrary<Signable> = fc.record({
  method: fc.constantFrom('GET', 'POST'),
  segments: fc.array(text, { maxLength: 4 }),
  trailingSlash: fc.boolean(),
  query: fc.array(fc.tuple(text, text), { maxLength: 4 }),
  headers: fc.uniqueArray(fc.tuple(headerName, headerText), {
    maxLength: 4,
    selector: ([k]) => k,
  }),
  body: fc.string({ unit: 'binary', maxLength: 64 }),
  credential: fc.constantFrom(ALICE, TEMP),
  skewSeconds: fc.integer({ min: -290, max: 290 }),
});

/** The path a client puts on the wire for these segments (each percent-encoded). */
function wirePath(s: Signable): string {
  const path = `/${s.segments.map(uriEncode).join('/')}`;
  return s.trailingSlash && s.segments.length > 0 ? `${path}/` : path;
}

function signer(c: CredentialRecord): SignatureV4 {
  return new SignatureV4({
    service: 'kinesisvideo',
    region: 'us-west-2',
    credentials: {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    },
    sha256: Sha256,
    uriEscapePath: true,
  });
}

function queryRecord(pairs: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

/** The query string on the wire, as the SDK's serialiser writes it. */
function wireQuery(q: Record<string, string | string[] | null | undefined> = {}): string {
  return Object.entries(q)
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v ?? '']]))
    .map(([k, v]) => `${uriEncode(k ?? '')}=${uriEncode(v ?? '')}`)
    .join('&');
}

function lower(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

async function sdkSigned(s: Signable): Promise<SigV4Request> {
  const path = wirePath(s);
  const signed = await signer(s.credential).sign(
    {
      method: s.method,
      protocol: 'https:',
      hostname: '127.0.0.1',
      port: 4443,
      path,
      query: queryRecord(s.query),
      headers: { host: '127.0.0.1:4443', ...Object.fromEntries(s.headers) },
      body: s.body,
    },
    { signingDate: new Date(NOW + s.skewSeconds * 1000) },
  );
  return {
    method: s.method,
    path,
    query: wireQuery(signed.query),
    headers: lower(signed.headers),
    body: Buffer.from(s.body, 'utf8'),
  };
}

async function sdkPresigned(s: Signable): Promise<SigV4Request> {
  const path = wirePath(s);
  const signed = await signer(s.credential).presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: '127.0.0.1',
      port: 4443,
      path,
      query: queryRecord(s.query.filter(([k]) => !k.startsWith('X-Amz-'))),
      headers: { host: '127.0.0.1:4443' },
    },
    { expiresIn: 299, signingDate: new Date(NOW + s.skewSeconds * 1000) },
  );
  return {
    method: 'GET',
    path,
    query: wireQuery(signed.query),
    headers: { host: '127.0.0.1:4443' },
    body: Buffer.alloc(0),
  };
}

/** The same signature with one hex digit changed. */
function tampered(sig: string, at: number): string {
  const i = at % sig.length;
  const c = sig[i] === '0' ? '1' : '0';
  return `${sig.slice(0, i)}${c}${sig.slice(i + 1)}`;
}

describe('SigV4 verifier (fuzzed)', () => {
  // Found by the SDK-signed property: the verifier did not normalise the path as the signer
  // does (empty, "." and ".." segments), so SDK-signed requests for such paths were refused.
  it('verifies SDK-signed requests whose path has empty, "." or ".." segments', async () => {
    for (const segments of [['', ''], [''], ['a', '.', 'b'], ['a', '..', 'b'], ['..', 'x']]) {
      const s: Signable = {
        method: 'POST',
        segments,
        trailingSlash: true,
        query: [],
        headers: [],
        body: '{}',
        credential: ALICE,
        skewSeconds: 0,
      };
      expect(verifyHeaderSigned(await sdkSigned(s), OPTS), segments.join('/')).toMatchObject({
        ok: true,
      });
      expect(verifyPresigned(await sdkPresigned(s), OPTS), segments.join('/')).toMatchObject({
        ok: true,
      });
    }
  });

  it(
    'never throws on requests off the wire, and verifies none of them',
    () => {
      check(
        'sigv4-wire',
        fc.property(request, (req) => {
          const a = verifyHeaderSigned(req, OPTS);
          const b = verifyPresigned(req, OPTS);
          return wellFormed(a) && wellFormed(b) && !a.ok && !b.ok;
        }),
        3000,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );

  it(
    'canonicalises any query to a fixed point, never throwing',
    () => {
      check(
        'sigv4-query',
        fc.property(fc.oneof(wire, presignedQuery), (q) => {
          const pairs = parseQuery(q);
          if (!pairs.every(([k, v]) => typeof k === 'string' && typeof v === 'string'))
            return false;
          const once = canonicalQuery(pairs);
          return canonicalQuery(parseQuery(once)) === once;
        }),
        3000,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );

  it(
    'reads back every X-Amz-Date it writes, and reads anything else as NaN or a time',
    () => {
      check(
        'sigv4-date',
        fc.property(fc.integer({ min: 0, max: 253402300799999 }), wire, (ms, junk) => {
          const back = parseAmzDate(formatAmzDate(ms));
          const other = parseAmzDate(junk);
          return back === ms - (ms % 1000) && (Number.isNaN(other) || Number.isFinite(other));
        }),
        3000,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );

  it(
    'verifies what the AWS SDK signs, and refuses it with a changed signature or body',
    async () => {
      await checkAsync(
        'sigv4-sdk-signed',
        fc.asyncProperty(signable, fc.nat(), async (s, at) => {
          const req = await sdkSigned(s);
          const ok = verifyHeaderSigned(req, OPTS);
          expect(ok, JSON.stringify(req)).toEqual({ ok: true, credential: s.credential });
          const auth = req.headers['authorization'] as string;
          const sig = /Signature=([0-9a-f]+)/.exec(auth)?.[1] ?? '';
          const forged = {
            ...req,
            headers: { ...req.headers, authorization: auth.replace(sig, tampered(sig, at)) },
          };
          expect(verifyHeaderSigned(forged, OPTS)).toMatchObject({
            ok: false,
            code: 'InvalidSignatureException',
          });
          const changedBody = { ...req, body: Buffer.concat([req.body, Buffer.from('x')]) };
          expect(verifyHeaderSigned(changedBody, OPTS)).toMatchObject({
            ok: false,
            code: 'InvalidSignatureException',
          });
        }),
        300,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );

  it(
    'verifies what the AWS SDK presigns, and refuses it with a changed signature',
    async () => {
      await checkAsync(
        'sigv4-sdk-presigned',
        fc.asyncProperty(signable, fc.nat(), async (s, at) => {
          const req = await sdkPresigned(s);
          expect(verifyPresigned(req, OPTS), JSON.stringify(req)).toEqual({
            ok: true,
            credential: s.credential,
          });
          const sig = /X-Amz-Signature=([0-9a-f]+)/.exec(req.query)?.[1] ?? '';
          const forged = { ...req, query: req.query.replace(sig, tampered(sig, at)) };
          expect(verifyPresigned(forged, OPTS)).toMatchObject({
            ok: false,
            code: 'InvalidSignatureException',
          });
        }),
        300,
        PROPERTIES,
      );
    },
    testTimeout(PROPERTIES),
  );
});
