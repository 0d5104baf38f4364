/**
 * The pure SigV4 verifier against requests signed by @smithy/signature-v4 (the AWS SDK's
 * signer) and URLs presigned by the official KVS JS SDK: what they sign verifies, and every
 * tampering, wrong key, skew, expiry and token mismatch is refused with the right code.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4RequestSigner } from 'amazon-kinesis-video-streams-webrtc';
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
} from '../../lib/local/sigv4.js';
import { Sha256 } from './helpers.js';

const HOST = '127.0.0.1:4443';
const ALICE: CredentialRecord = {
  accessKeyId: 'AKIAALICE0000000001',
  secretAccessKey: 'alice-secret',
};
const TEMP: CredentialRecord = {
  accessKeyId: 'ASIATEMP00000000001',
  secretAccessKey: 'temp-secret',
  sessionToken: 'tok-123',
};

function opts(now: number, table: CredentialRecord[] = [ALICE, TEMP]): VerifyOptions {
  return {
    region: 'us-west-2',
    service: 'kinesisvideo',
    now,
    clockSkewMs: 5 * 60_000,
    lookup: (id) => table.find((c) => c.accessKeyId === id),
  };
}

async function headerSigned(
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  body: string,
  date: Date,
  region = 'us-west-2',
  extraHeaders: Record<string, string> = {},
): Promise<SigV4Request> {
  const signer = new SignatureV4({
    service: 'kinesisvideo',
    region,
    credentials: creds,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: '127.0.0.1',
      port: 4443,
      path: '/createSignalingChannel',
      query: {},
      headers: {
        host: HOST,
        'content-type': 'application/json',
        'x-amz-user-agent': 'aws-sdk-js/3',
        ...extraHeaders,
      },
      body,
    },
    { signingDate: date },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return {
    method: 'POST',
    path: '/createSignalingChannel',
    query: '',
    headers,
    body: Buffer.from(body),
  };
}

async function presigned(
  creds: CredentialRecord,
  date: Date,
  clientId = 'viewer-1',
): Promise<SigV4Request> {
  const signer = new SigV4RequestSigner('us-west-2', creds);
  const url = await signer.getSignedURL(
    `wss://${HOST}`,
    {
      'X-Amz-ChannelARN': 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/c/1',
      'X-Amz-ClientId': clientId,
    },
    date,
  );
  const u = new URL(url);
  return {
    method: 'GET',
    path: u.pathname,
    query: u.search.slice(1),
    headers: { host: u.host },
    body: Buffer.alloc(0),
  };
}

describe('header-signed requests (AWS SDK signer)', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const body = '{"ChannelName":"x"}';

  it('verifies a valid signature and returns the credential', async () => {
    const r = verifyHeaderSigned(await headerSigned(ALICE, body, new Date(now)), opts(now));
    expect(r).toEqual({ ok: true, credential: ALICE });
  });

  it('refuses a changed body, a changed header, a wrong secret and an unknown key', async () => {
    const req = await headerSigned(ALICE, body, new Date(now));
    expect(
      verifyHeaderSigned({ ...req, body: Buffer.from('{"ChannelName":"y"}') }, opts(now)),
    ).toMatchObject({
      ok: false,
      code: 'InvalidSignatureException',
    });
    expect(
      verifyHeaderSigned(
        { ...req, headers: { ...req.headers, 'x-amz-user-agent': 'other' } },
        opts(now),
      ),
    ).toMatchObject({ ok: false, code: 'InvalidSignatureException' });
    expect(
      verifyHeaderSigned(req, opts(now, [{ ...ALICE, secretAccessKey: 'other' }])),
    ).toMatchObject({ ok: false, code: 'InvalidSignatureException' });
    expect(verifyHeaderSigned(req, opts(now, []))).toMatchObject({
      ok: false,
      code: 'UnrecognizedClientException',
    });
  });

  it('applies the clock-skew window both ways', async () => {
    const req = await headerSigned(ALICE, body, new Date(now));
    expect(verifyHeaderSigned(req, opts(now + 4 * 60_000)).ok).toBe(true);
    expect(verifyHeaderSigned(req, opts(now - 4 * 60_000)).ok).toBe(true);
    expect(verifyHeaderSigned(req, opts(now + 6 * 60_000))).toMatchObject({
      code: 'InvalidSignatureException',
    });
    expect(verifyHeaderSigned(req, opts(now - 6 * 60_000))).toMatchObject({
      code: 'InvalidSignatureException',
    });
  });

  it('refuses a request scoped to another region', async () => {
    const req = await headerSigned(ALICE, body, new Date(now), 'eu-west-1');
    expect(verifyHeaderSigned(req, opts(now))).toMatchObject({ code: 'InvalidSignatureException' });
  });

  it('requires the matching session token, and refuses it after expiry', async () => {
    const req = await headerSigned(TEMP, body, new Date(now));
    expect(req.headers['x-amz-security-token']).toBe('tok-123');
    expect(verifyHeaderSigned(req, opts(now)).ok).toBe(true);
    const noToken = await headerSigned(
      { accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey },
      body,
      new Date(now),
    );
    expect(verifyHeaderSigned(noToken, opts(now))).toMatchObject({
      code: 'UnrecognizedClientException',
    });
    const expired = { ...TEMP, expiresAt: now - 1 };
    expect(verifyHeaderSigned(req, opts(now, [expired]))).toMatchObject({
      code: 'ExpiredTokenException',
    });
  });

  it('refuses UNSIGNED-PAYLOAD, so a captured request cannot be replayed with another body', async () => {
    // The AWS SDK signer takes a preset x-amz-content-sha256 as the payload hash it signs.
    const req = await headerSigned(ALICE, body, new Date(now), 'us-west-2', {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    });
    expect(req.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(verifyHeaderSigned(req, opts(now))).toMatchObject({
      ok: false,
      code: 'InvalidSignatureException',
    });
    const replayed = { ...req, body: Buffer.from('{"ChannelName":"someone-else"}') };
    expect(verifyHeaderSigned(replayed, opts(now))).toMatchObject({ ok: false });
    // A signed payload hash is still accepted.
    const hashed = await headerSigned(ALICE, body, new Date(now), 'us-west-2', {
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
    });
    expect(verifyHeaderSigned(hashed, opts(now)).ok).toBe(true);
  });

  it('treats a credential whose expiry is not a number as expired', async () => {
    const req = await headerSigned(TEMP, body, new Date(now));
    expect(verifyHeaderSigned(req, opts(now, [{ ...TEMP, expiresAt: NaN }]))).toMatchObject({
      code: 'ExpiredTokenException',
    });
  });

  it('says when authentication is missing or malformed', () => {
    const bare: SigV4Request = {
      method: 'POST',
      path: '/',
      query: '',
      headers: { host: HOST },
      body: Buffer.alloc(0),
    };
    expect(verifyHeaderSigned(bare, opts(now))).toMatchObject({
      code: 'MissingAuthenticationTokenException',
    });
    expect(
      verifyHeaderSigned(
        { ...bare, headers: { ...bare.headers, authorization: 'AWS4-HMAC-SHA256 Credential=x' } },
        opts(now),
      ),
    ).toMatchObject({ code: 'IncompleteSignatureException' });
  });
});

describe('presigned URLs (official KVS JS SDK signer)', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);

  it('verifies a valid URL, with and without a session token', async () => {
    expect(verifyPresigned(await presigned(ALICE, new Date(now)), opts(now))).toEqual({
      ok: true,
      credential: ALICE,
    });
    const withToken = await presigned(TEMP, new Date(now));
    expect(withToken.query).toContain('X-Amz-Security-Token=tok-123');
    expect(verifyPresigned(withToken, opts(now)).ok).toBe(true);
  });

  it('refuses a tampered query, another host, a wrong secret, expiry and a future date', async () => {
    const req = await presigned(ALICE, new Date(now));
    expect(
      verifyPresigned({ ...req, query: req.query.replace('viewer-1', 'viewer-2') }, opts(now)),
    ).toMatchObject({
      code: 'InvalidSignatureException',
    });
    expect(
      verifyPresigned({ ...req, headers: { host: '127.0.0.1:9999' } }, opts(now)),
    ).toMatchObject({
      code: 'InvalidSignatureException',
    });
    expect(verifyPresigned(req, opts(now, [{ ...ALICE, secretAccessKey: 'x' }]))).toMatchObject({
      code: 'InvalidSignatureException',
    });
    // X-Amz-Expires is 299 seconds.
    expect(verifyPresigned(req, opts(now + 298_000)).ok).toBe(true);
    expect(verifyPresigned(req, opts(now + 300_000))).toMatchObject({
      code: 'InvalidSignatureException',
    });
    expect(verifyPresigned(req, opts(now - 6 * 60_000))).toMatchObject({
      code: 'InvalidSignatureException',
    });
  });

  it('refuses a URL with no signature at all', () => {
    const bare: SigV4Request = {
      method: 'GET',
      path: '/',
      query: 'X-Amz-ChannelARN=a',
      headers: { host: HOST },
      body: Buffer.alloc(0),
    };
    expect(verifyPresigned(bare, opts(now))).toMatchObject({
      code: 'MissingAuthenticationTokenException',
    });
  });
});

describe('codec helpers', () => {
  it('encodes and sorts the canonical query as SigV4 wants', () => {
    expect(uriEncode("a b!'()*~._-/")).toBe('a%20b%21%27%28%29%2A~._-%2F');
    expect(canonicalQuery(parseQuery('b=2&a=3&a=1&c=x%2Fy&d'))).toBe('a=1&a=3&b=2&c=x%2Fy&d=');
  });

  it('round-trips X-Amz-Date', () => {
    const t = Date.UTC(2024, 1, 29, 23, 59, 58);
    expect(formatAmzDate(t)).toBe('20240229T235958Z');
    expect(parseAmzDate('20240229T235958Z')).toBe(t);
    expect(parseAmzDate('2024-02-29')).toBeNaN();
  });
});
