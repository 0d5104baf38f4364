/**
 * The AWS IoT credential provider: trades a device's X.509 certificate for temporary AWS
 * credentials at the AWS IoT credentials endpoint, as the C SDK's IoT credential provider does.
 * `GET https://<endpoint>/role-aliases/<roleAlias>/credentials` over mutual TLS, with the
 * header `x-amzn-iot-thingname`. Cached, and fetched again before expiry with a margin.
 *
 * Written here on node:https: no npm package fits (the AWS SDK v3 has no IoT provider; the
 * CRT's X.509 provider is a native binding whose credentials never reach JavaScript).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { checkNumber, describeValue, MAX_TIMER_MS } from '../args.js';
import { KvsError } from '../errors.js';
import type { KvsErrorCode } from '../error-codes.js';
import { crypto, https } from '../lazy.js';
import type { FailureKind } from './failure.js';

export interface IotCredentialsOptions {
  /** The account's credentials endpoint (`aws iot describe-endpoint --endpoint-type iot:CredentialProvider`): `host`, `host:port` or `https://host:port`. */
  endpoint: string;
  roleAlias: string;
  thingName: string;
  /** PEM file of the device certificate. */
  certPath: string;
  /** PEM file of the device's private key. */
  keyPath: string;
  /** PEM file of the CA that signs the endpoint's certificate; default: Node's trust store. */
  caPath?: string;
  /**
   * Fetch again when fewer than this many ms remain before `expiration`. Default 5 min; never
   * more than half the credentials' lifetime, so short-lived ones are not fetched on every use.
   */
  refreshMarginMs?: number;
  /** Attempts for a throttled (429) or failing (5xx, network) request. Default 4. */
  maxAttempts?: number;
  /** The first back-off delay in ms, doubled after each failure (with jitter). Default 500. */
  backoffBaseMs?: number;
  /** Per-request time limit in ms. Default 10 000. */
  requestTimeoutMs?: number;
}

/**
 * Temporary credentials as AWS IoT issues them (a `CredentialProvider` result; declared here
 * so that credentials.ts, which picks this provider from the environment, is not imported back).
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}

/** A provider function (AWS SDK v3 shape) with the cache it keeps. */
export interface IotCredentialProvider {
  (): Promise<AwsCredentials>;
  /** Drops the cached credentials: the next call fetches. */
  invalidate(): void;
  /** Requests made to the endpoint so far (successful or not). */
  readonly requests: number;
}

const DEFAULTS = { refreshMarginMs: 5 * 60_000, maxAttempts: 4, backoffBaseMs: 500 };

/** The signaling state machine's reading of each IoT failure (see channel/failure.ts). */
export const IOT_FAILURE_KINDS: Readonly<Partial<Record<KvsErrorCode, FailureKind>>> =
  Object.freeze({
    // Retrying cannot fix a missing file, a refused certificate or an unknown alias.
    ERR_IOT_FILE_UNREADABLE: 'invalid',
    ERR_IOT_CERT_REFUSED: 'invalid',
    ERR_IOT_ROLE_ALIAS_NOT_FOUND: 'invalid',
    ERR_IOT_THROTTLED: 'throttled',
    ERR_IOT_REQUEST: 'network',
  });

function endpointUrl(endpoint: string, roleAlias: string): URL {
  const base = /^https:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `the IoT credentials endpoint ${endpoint} is not a host name or URL`,
    );
  }
  u.pathname = `/role-aliases/${encodeURIComponent(roleAlias)}/credentials`;
  u.search = '';
  return u;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new KvsError(
      'ERR_IOT_FILE_UNREADABLE',
      `the IoT ${what} ${path} cannot be read (${why})`,
      {
        cause: e,
      },
    );
  }
}

/** The certificate id AWS IoT shows: the SHA-256 of the DER certificate, in hex. */
function certificateId(pem: Buffer): string | undefined {
  try {
    return new (crypto().X509Certificate)(pem).fingerprint256.replace(/:/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

interface Answer {
  status: number;
  body: string;
  retryAfterMs: number | undefined;
}

function get(
  url: URL,
  headers: Record<string, string>,
  tlsOpts: { cert: Buffer; key: Buffer; ca?: Buffer },
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https().request(
      url,
      { method: 'GET', headers, ...tlsOpts, timeout: timeoutMs, agent: false },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // A credentials answer is a few KB; anything far larger is not one.
          if (size > 64 * 1024) req.destroy(new Error('the answer is over 64 KiB'));
          else chunks.push(c);
        });
        res.on('end', () => {
          const ra = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfterMs: Number.isFinite(ra) && ra >= 0 ? Math.min(ra, 60) * 1000 : undefined,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function serviceMessage(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const m = j['message'] ?? j['Message'];
    if (typeof m === 'string') return m;
  } catch {
    // Not JSON: show the text itself.
  }
  return body.slice(0, 200);
}

function parseCredentials(body: string, where: string): AwsCredentials & { expiration: Date } {
  const bad = (why: string): KvsError =>
    new KvsError('ERR_IOT_REQUEST', `${where} answered 200 without usable credentials: ${why}`);
  let j: unknown;
  try {
    j = JSON.parse(body);
  } catch {
    throw bad('the body is not JSON');
  }
  const c: unknown = (j as { credentials?: unknown } | null)?.credentials;
  if (typeof c !== 'object' || c === null) throw bad('no "credentials" object');
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = c as Record<string, unknown>;
  if (typeof accessKeyId !== 'string' || accessKeyId === '') throw bad('no accessKeyId');
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '')
    throw bad('no secretAccessKey');
  if (typeof sessionToken !== 'string' || sessionToken === '') throw bad('no sessionToken');
  const exp = typeof expiration === 'string' ? new Date(expiration) : undefined;
  if (!exp || Number.isNaN(exp.getTime())) throw bad('no valid expiration');
  return { accessKeyId, secretAccessKey, sessionToken, expiration: exp };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * An AWS SDK v3 credential provider backed by the AWS IoT credentials endpoint. Errors are
 * KvsErrors: `ERR_IOT_FILE_UNREADABLE` (names the file), `ERR_IOT_CERT_REFUSED` (403, names
 * the certificate and its id), `ERR_IOT_ROLE_ALIAS_NOT_FOUND` (404), `ERR_IOT_THROTTLED` (429
 * after the retries), `ERR_IOT_REQUEST` (anything else).
 */
export function fromIotCredentials(options: IotCredentialsOptions): IotCredentialProvider {
  const raw: unknown = options;
  if (typeof raw !== 'object' || raw === null)
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `fromIotCredentials: options must be an object, got ${describeValue(raw)}`,
    );
  for (const k of ['endpoint', 'roleAlias', 'thingName', 'certPath', 'keyPath'] as const) {
    if (typeof options[k] !== 'string' || options[k] === '') {
      throw new KvsError('ERR_INVALID_ARGUMENT', `fromIotCredentials: ${k} is required`);
    }
  }
  const url = endpointUrl(options.endpoint, options.roleAlias);
  const msOption = (v: number | undefined, name: string, min: number): number | undefined =>
    checkNumber(v, `fromIotCredentials: ${name}`, { min, max: MAX_TIMER_MS });
  const margin =
    msOption(options.refreshMarginMs, 'refreshMarginMs', 0) ?? DEFAULTS.refreshMarginMs;
  const maxAttempts =
    checkNumber(options.maxAttempts, 'fromIotCredentials: maxAttempts', {
      min: 1,
      max: 100,
      integer: true,
    }) ?? DEFAULTS.maxAttempts;
  const base = msOption(options.backoffBaseMs, 'backoffBaseMs', 0) ?? DEFAULTS.backoffBaseMs;
  const timeoutMs = msOption(options.requestTimeoutMs, 'requestTimeoutMs', 1) ?? 10_000;
  const where = `the AWS IoT credentials endpoint ${url.host}`;

  let cached: { creds: AwsCredentials & { expiration: Date }; refreshAt: number } | undefined;
  let inflight: Promise<AwsCredentials> | undefined;
  let requests = 0;

  async function fetchOnce(): Promise<AwsCredentials> {
    // Read on every fetch: a rotated certificate is picked up without a restart.
    const cert = await readPem(options.certPath, 'device certificate');
    const key = await readPem(options.keyPath, 'private key');
    const ca =
      options.caPath === undefined ? undefined : await readPem(options.caPath, 'CA certificate');
    const certName = (): string => {
      const id = certificateId(cert);
      return `${options.certPath}${id ? ` (certificate id ${id})` : ''}`;
    };
    let lastThrottle = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      requests++;
      const fetchedAt = Date.now();
      let answer: Answer;
      try {
        answer = await get(
          url,
          { 'x-amzn-iot-thingname': options.thingName, accept: 'application/json' },
          { cert, key, ...(ca ? { ca } : {}) },
          timeoutMs,
        );
      } catch (e) {
        const msg = (e as Error).message;
        // The key not matching the certificate is the device's error, not the network's.
        if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(msg)) {
          throw new KvsError(
            'ERR_IOT_FILE_UNREADABLE',
            `the private key ${options.keyPath} does not belong to the device certificate ${options.certPath}`,
            { cause: e },
          );
        }
        if (/PEM|asn1|no start line|bad decrypt/i.test(msg)) {
          throw new KvsError(
            'ERR_IOT_FILE_UNREADABLE',
            `the device certificate ${options.certPath} or private key ${options.keyPath} is not valid PEM (${msg})`,
            { cause: e },
          );
        }
        if (attempt < maxAttempts) {
          await delay(backoff(attempt, base));
          continue;
        }
        throw new KvsError('ERR_IOT_REQUEST', `${where} could not be reached: ${msg}`, {
          cause: e,
        });
      }
      const { status, body } = answer;
      if (status === 200) {
        const creds = parseCredentials(body, where);
        const lifetime = creds.expiration.getTime() - fetchedAt;
        const m = Math.min(margin, Math.max(0, lifetime / 2));
        cached = { creds, refreshAt: creds.expiration.getTime() - m };
        return creds;
      }
      if (status === 403 || status === 401) {
        throw new KvsError(
          'ERR_IOT_CERT_REFUSED',
          `${where} refused the device certificate ${certName()} for thing ${options.thingName} ` +
            `(HTTP ${status}: ${serviceMessage(body)}). Check that the certificate is registered ` +
            `and active, attached to the thing, and that the role alias's policy allows it.`,
        );
      }
      if (status === 404) {
        throw new KvsError(
          'ERR_IOT_ROLE_ALIAS_NOT_FOUND',
          `${where} knows no role alias ${options.roleAlias} (HTTP 404: ${serviceMessage(body)})`,
        );
      }
      if (status === 429 || status >= 500) {
        lastThrottle = `HTTP ${status}: ${serviceMessage(body)}`;
        if (attempt < maxAttempts) {
          await delay(Math.max(answer.retryAfterMs ?? 0, backoff(attempt, base)));
          continue;
        }
        throw new KvsError(
          status === 429 ? 'ERR_IOT_THROTTLED' : 'ERR_IOT_REQUEST',
          `${where} still answered ${lastThrottle} after ${maxAttempts} attempts`,
        );
      }
      throw new KvsError(
        'ERR_IOT_REQUEST',
        `${where} answered HTTP ${status}: ${serviceMessage(body)}`,
      );
    }
    // The loop returns or throws on its last attempt.
    throw new KvsError('ERR_IOT_REQUEST', `${where}: no attempt made`);
  }

  const provider = (): Promise<AwsCredentials> => {
    if (cached && Date.now() < cached.refreshAt) return Promise.resolve({ ...cached.creds });
    inflight ??= fetchOnce().finally(() => {
      inflight = undefined;
    });
    return inflight.then((c) => ({ ...c }));
  };
  return Object.defineProperties(provider, {
    invalidate: {
      value: () => {
        cached = undefined;
      },
    },
    requests: { get: () => requests },
  }) as IotCredentialProvider;
}

/** Exponential back-off with full jitter in its upper half. */
function backoff(attempt: number, base: number): number {
  const cap = base * 2 ** (attempt - 1);
  return Math.min(30_000, cap / 2 + Math.random() * (cap / 2));
}

/** The C SDK's variables (c-sdk.md §7). */
export const IOT_ENV = Object.freeze({
  endpoint: 'AWS_IOT_CORE_CREDENTIAL_ENDPOINT',
  roleAlias: 'AWS_IOT_CORE_ROLE_ALIAS',
  thingName: 'AWS_IOT_CORE_THING_NAME',
  certPath: 'AWS_IOT_CORE_CERT',
  keyPath: 'AWS_IOT_CORE_PRIVATE_KEY',
  caPath: 'AWS_KVS_CACERT_PATH',
} as const);

/**
 * The provider's options from the `AWS_IOT_CORE_*` variables (and `AWS_KVS_CACERT_PATH`), or
 * undefined when none is set. Some but not all set is an error naming the missing ones.
 */
export function iotOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): IotCredentialsOptions | undefined {
  const raw: unknown = env;
  if (typeof raw !== 'object' || raw === null)
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `iotOptionsFromEnv: env must be an object, got ${describeValue(raw)}`,
    );
  const required = ['endpoint', 'roleAlias', 'thingName', 'certPath', 'keyPath'] as const;
  const present = required.filter((k) => (env[IOT_ENV[k]] ?? '') !== '');
  if (present.length === 0) return undefined;
  const missing = required.filter((k) => !present.includes(k)).map((k) => IOT_ENV[k]);
  if (missing.length > 0) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `AWS IoT credentials are half configured: set ${missing.join(', ')} too (or unset the AWS_IOT_CORE_* variables)`,
    );
  }
  const opts: IotCredentialsOptions = {
    endpoint: env[IOT_ENV.endpoint] as string,
    roleAlias: env[IOT_ENV.roleAlias] as string,
    thingName: env[IOT_ENV.thingName] as string,
    certPath: env[IOT_ENV.certPath] as string,
    keyPath: env[IOT_ENV.keyPath] as string,
  };
  const ca = env[IOT_ENV.caPath];
  if (ca) opts.caPath = ca;
  return opts;
}
