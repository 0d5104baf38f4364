/**
 * SigV4 verification, pure: no I/O, the clock and the secret lookup are passed in.
 * Covers both forms KVS clients use: header-signed HTTP requests (the AWS SDK) and
 * presigned WebSocket URLs (the JS and C signaling clients).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface SigV4Request {
  method: string;
  /** The path exactly as it appeared on the wire (still percent-encoded), without the query. */
  path: string;
  /** The raw query string without the leading `?`. */
  query: string;
  /** Lower-cased header names, as Node delivers them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface CredentialRecord {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch milliseconds after which requests signed with this credential are refused. */
  expiresAt?: number;
}

export interface VerifyOptions {
  region: string;
  service: string;
  now: number;
  /** Allowed distance between the signing time and now. */
  clockSkewMs: number;
  lookup: (accessKeyId: string) => CredentialRecord | undefined;
}

export type VerifyFailure = {
  ok: false;
  /** AWS error names as the real front end answers them. */
  code:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'InvalidSignatureException'
    | 'UnrecognizedClientException'
    | 'ExpiredTokenException';
  message: string;
};
export type VerifyResult = { ok: true; credential: CredentialRecord } | VerifyFailure;

const fail = (code: VerifyFailure['code'], message: string): VerifyFailure => ({
  ok: false,
  code,
  message,
});

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters escaped. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return s;
  }
}

export function parseQuery(query: string): [string, string][] {
  if (query === '') return [];
  return query.split('&').map((part) => {
    const eq = part.indexOf('=');
    return eq < 0
      ? [safeDecode(part), '']
      : [safeDecode(part.slice(0, eq)), safeDecode(part.slice(eq + 1))];
  });
}

export function canonicalQuery(pairs: [string, string][]): string {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Non-S3 services normalise the wire path (RFC 3986: empty and `.` segments dropped, `..`
 * resolved; a trailing slash kept) and encode it once more, segment by segment, as the AWS
 * SDK's signer does: a request it signed for `//x` or `/a/../x` verifies.
 */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const lead = rawPath.startsWith('/') || rawPath === '' ? '/' : '';
  const trail = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return `${lead}${segments.map((seg) => uriEncode(seg)).join('/')}${trail}`;
}

function headerValue(v: string | string[] | undefined): string {
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

export function canonicalRequest(
  method: string,
  path: string,
  query: string,
  headers: Record<string, string | string[] | undefined>,
  signedHeaders: string[],
  payloadHash: string,
): string {
  const canonHeaders = signedHeaders.map((h) => `${h}:${headerValue(headers[h])}\n`).join('');
  return [
    method,
    canonicalPath(path),
    query,
    canonHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

/** `20240102T030405Z` to epoch milliseconds, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, ...number[]];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, se);
}

export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

function parseCredential(cred: string): Scope | undefined {
  const parts = cred.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  if (!/^\d{8}$/.test(date) || accessKeyId === '') return undefined;
  return { accessKeyId, date, region, service };
}

function signaturesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Checks scope, clock, credential and token; returns the credential if all hold. */
function checkScopeAndCredential(
  scope: Scope,
  amzDate: string,
  signedAt: number,
  token: string | undefined,
  opts: VerifyOptions,
): VerifyResult {
  if (Number.isNaN(signedAt)) return fail('IncompleteSignatureException', 'Invalid X-Amz-Date.');
  if (scope.date !== amzDate.slice(0, 8)) {
    return fail('InvalidSignatureException', 'Credential scope date does not match X-Amz-Date.');
  }
  if (scope.region !== opts.region) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${scope.region}'.`,
    );
  }
  if (scope.service !== opts.service) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${opts.service}'.`,
    );
  }
  const cred = opts.lookup(scope.accessKeyId);
  if (!cred) {
    return fail(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  if ((cred.sessionToken ?? '') !== (token ?? '')) {
    return fail(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  // Written as "not before expiry" so that a NaN expiry counts as expired, not as never.
  if (cred.expiresAt !== undefined && !(opts.now < cred.expiresAt)) {
    return fail('ExpiredTokenException', 'The security token included in the request is expired');
  }
  return { ok: true, credential: cred };
}

/** Verifies a request signed in the `Authorization` header (what the AWS SDK sends). */
export function verifyHeaderSigned(req: SigV4Request, opts: VerifyOptions): VerifyResult {
  const auth = headerValue(req.headers['authorization']);
  if (auth === '')
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (!auth.startsWith(`${ALGORITHM} `)) {
    return fail(
      'IncompleteSignatureException',
      `Unsupported signing algorithm; expected ${ALGORITHM}.`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of auth.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeadersField = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeadersField || !signature) {
    return fail(
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature.',
    );
  }
  const scope = parseCredential(credential);
  if (!scope)
    return fail('IncompleteSignatureException', 'Malformed Credential in Authorization header.');
  const signedHeaders = signedHeadersField.split(';');
  if (!signedHeaders.includes('host')) {
    return fail('InvalidSignatureException', "'Host' must be a signed header.");
  }
  const amzDate = headerValue(req.headers['x-amz-date']);
  if (amzDate === '' || !signedHeaders.includes('x-amz-date')) {
    return fail('IncompleteSignatureException', 'X-Amz-Date must be present and signed.');
  }
  const signedAt = parseAmzDate(amzDate);
  if (!Number.isNaN(signedAt) && Math.abs(opts.now - signedAt) > opts.clockSkewMs) {
    return fail(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier or later than the allowed clock skew.`,
    );
  }
  const token = req.headers['x-amz-security-token'];
  const tokenValue = token === undefined ? undefined : headerValue(token);
  if (tokenValue !== undefined && !signedHeaders.includes('x-amz-security-token')) {
    return fail('IncompleteSignatureException', 'X-Amz-Security-Token must be signed.');
  }
  const checked = checkScopeAndCredential(scope, amzDate, signedAt, tokenValue, opts);
  if (!checked.ok) return checked;

  const bodyHash = sha256Hex(req.body);
  const declared = headerValue(req.headers['x-amz-content-sha256']);
  // An unsigned payload would let a captured request be replayed with another body inside the
  // clock window. The KVS clients all sign their bodies, so the marker is refused outright.
  if (declared === 'UNSIGNED-PAYLOAD') {
    return fail(
      'InvalidSignatureException',
      'UNSIGNED-PAYLOAD is not accepted: the request body must be signed.',
    );
  }
  if (declared !== '' && declared !== bodyHash) {
    return fail(
      'InvalidSignatureException',
      'The provided x-amz-content-sha256 does not match the body.',
    );
  }
  const payloadHash = declared !== '' ? declared : bodyHash;
  const canonical = canonicalRequest(
    req.method,
    req.path,
    canonicalQuery(parseQuery(req.query)),
    req.headers,
    signedHeaders,
    payloadHash,
  );
  const scopeString = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const expected = createHmac(
    'sha256',
    signingKey(checked.credential.secretAccessKey, scope.date, scope.region, scope.service),
  )
    .update(stringToSign(amzDate, scopeString, canonical))
    .digest('hex');
  if (!signaturesEqual(expected, signature)) {
    return fail(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided.',
    );
  }
  return checked;
}

/** Verifies a presigned URL (query-string SigV4), as the signaling clients open WebSockets. */
export function verifyPresigned(req: SigV4Request, opts: VerifyOptions): VerifyResult {
  const pairs = parseQuery(req.query);
  const get = (k: string): string | undefined => pairs.find(([key]) => key === k)?.[1];
  const algorithm = get('X-Amz-Algorithm');
  const credential = get('X-Amz-Credential');
  const amzDate = get('X-Amz-Date');
  const expires = get('X-Amz-Expires');
  const signedHeadersField = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  if (!algorithm && !credential && !signature) {
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  if (algorithm !== ALGORITHM) {
    return fail('IncompleteSignatureException', `X-Amz-Algorithm must be ${ALGORITHM}.`);
  }
  if (!credential || !amzDate || !expires || !signedHeadersField || !signature) {
    return fail(
      'IncompleteSignatureException',
      'Presigned URL requires X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.',
    );
  }
  const scope = parseCredential(credential);
  if (!scope) return fail('IncompleteSignatureException', 'Malformed X-Amz-Credential.');
  const expiresSec = Number(expires);
  if (!/^\d+$/.test(expires) || expiresSec < 1 || expiresSec > 604800) {
    return fail(
      'IncompleteSignatureException',
      'X-Amz-Expires must be between 1 and 604800 seconds.',
    );
  }
  const signedAt = parseAmzDate(amzDate);
  if (!Number.isNaN(signedAt)) {
    if (signedAt - opts.now > opts.clockSkewMs) {
      return fail(
        'InvalidSignatureException',
        'Signature not yet current: X-Amz-Date is in the future.',
      );
    }
    if (opts.now > signedAt + expiresSec * 1000) {
      return fail('InvalidSignatureException', 'Signature expired: the presigned URL has expired.');
    }
  }
  const signedHeaders = signedHeadersField.split(';');
  if (!signedHeaders.includes('host')) {
    return fail('InvalidSignatureException', "'Host' must be a signed header.");
  }
  const checked = checkScopeAndCredential(
    scope,
    amzDate,
    signedAt,
    get('X-Amz-Security-Token'),
    opts,
  );
  if (!checked.ok) return checked;
  const query = canonicalQuery(pairs.filter(([k]) => k !== 'X-Amz-Signature'));
  const scopeString = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const key = signingKey(
    checked.credential.secretAccessKey,
    scope.date,
    scope.region,
    scope.service,
  );
  // The JS SDK hashes the empty body; some signers use the unsigned-payload marker instead.
  const matches = [EMPTY_SHA256, 'UNSIGNED-PAYLOAD'].some((payloadHash) => {
    const canonical = canonicalRequest(
      req.method,
      req.path,
      query,
      req.headers,
      signedHeaders,
      payloadHash,
    );
    const expected = createHmac('sha256', key)
      .update(stringToSign(amzDate, scopeString, canonical))
      .digest('hex');
    return signaturesEqual(expected, signature);
  });
  if (!matches) {
    return fail(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided.',
    );
  }
  return checked;
}
