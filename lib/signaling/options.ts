/**
 * The signaling client's options: what a caller may pass, and `checkOptions`, which validates
 * them once and resolves every default, so the rest of the client reads typed values (a
 * channel is a name or an ARN, never "maybe both undefined").
 */
import { readFileSync } from 'node:fs';
import type WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import {
  FileEndpointCache,
  MemoryEndpointCache,
  type EndpointCache,
  type EndpointCacheKey,
} from '../channel/endpoint-cache.js';
import type { CredentialsInput } from '../channel/credentials.js';
import { checkFunction, describeValue, MAX_TIMER_MS, readFields } from '../args.js';
import { KvsError } from '../errors.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { DEFAULT_CANDIDATE_HOLDER, type CandidateHolderOptions } from './candidates.js';
import { checkClientId, type SignalingRole } from './codec.js';
import { defaultStunUrl } from './ice-config.js';
import { consoleLogger, type Logger } from './logger.js';
import { DEFAULT_PACER, type PacerOptions } from './pacer.js';
import { tls } from '../lazy.js';

/**
 * Checked at construction (ERR_INVALID_ARGUMENT naming the field): every delay in ms is at
 * most 2^31 - 1 (2147483647, Node's timer limit; a longer one would fire at once), `region`
 * is 1-64 of [a-z0-9-], `endpoint` an https:// URL.
 */
export interface SignalingClientOptions {
  /** The channel by name (it can then be created when missing) ... */
  channelName?: string;
  /** ... or by ARN (DESCRIBE and CREATE are then skipped). */
  channelArn?: string;
  role: SignalingRole;
  /** A viewer's id on the channel (required for viewers; 1-256 of [a-zA-Z0-9_-], not `AWS_...`). */
  clientId?: string;
  region: string;
  /**
   * Static credentials or a provider (e.g. `fromIotCredentials`); default: AWS IoT when the
   * `AWS_IOT_CORE_*` variables are set, else the AWS SDK's Node provider chain.
   */
  credentials?: CredentialsInput;
  /** Control-plane endpoint override, e.g. the local service's `https://127.0.0.1:PORT`. */
  endpoint?: string;
  /**
   * PEM file of a CA to trust besides Node's root store; the local service prints one. Default:
   * `AWS_KVS_CACERT_PATH` when set, as the C SDK.
   */
  caCertPath?: string;
  /** PEM text of a CA to trust besides Node's root store (instead of caCertPath). */
  caCert?: string | Buffer;
  /**
   * Endpoint cache: `'memory'` (default), `{ file }` for the C SDK's file cache (a restarted
   * device reconnects without control-plane calls), an own implementation, or `false`.
   */
  cache?: 'memory' | false | { file: string } | EndpointCache;
  /** CREATE the channel when DESCRIBE says it does not exist (channelName only). Default false. */
  createIfMissing?: boolean;
  /** MessageTtlSeconds for a channel this client creates (5-120; the service defaults to 60). */
  messageTtlSeconds?: number;
  /** Reconnect after GO_AWAY, a lost socket or the lifetime limit. Default true. */
  reconnect?: boolean;
  /**
   * Retry policy of one recovery (exponential backoff with jitter, bounded). Refused
   * credentials are the exception: the same ones refused twice end it at once
   * (ERR_SIGNALING_AUTH).
   */
  retry?: Partial<BackoffOptions>;
  /** WebSocket ping interval keeping an idle connection alive; 0 disables. Default 60 s. */
  pingIntervalMs?: number;
  /** A connection without a pong for this long is dropped and reconnected. Default 2 pings + 10 s. */
  pongTimeoutMs?: number;
  /** The service's connection duration limit (1 h); the client renews the connection before it. */
  connectionLifetimeMs?: number;
  /** Refresh ICE servers proactively at TTL − 30 s (otherwise only lazily). Default true. */
  proactiveIceRefresh?: boolean;
  /** STUN URL put first in getIceServers(); default the region's KVS STUN server (none with an endpoint override). */
  stunUrl?: string | null;
  /** How long ICE candidates wait for their sender's SDP. Default 20 s. */
  candidateHoldMs?: number;
  /** Outgoing rates per connection (messages per second). Default SDP 5, ICE 20. */
  rates?: { sdpPerSecond?: number; icePerSecond?: number };
  /** Bound on queued outgoing messages. Default 1000. */
  maxQueuedMessages?: number;
  /** Refresh credentials when fewer than this many ms remain before they expire. Default 5 min. */
  credentialRefreshMarginMs?: number;
  /** Initial clock correction (ms added to the local clock when signing); corrected from the service. */
  systemClockOffset?: number;
  /** Timeouts (ms): API connect 2 s and completion 5 s, WebSocket connect 5 s. */
  timeouts?: { apiConnectMs?: number; apiRequestMs?: number; connectMs?: number };
  /** A logger; default: stderr at `AWS_KVS_LOG_LEVEL` (silent when unset). */
  logger?: Logger;
  /** Advanced: opens the WebSocket (e.g. through a proxy). */
  createWebSocket?: (url: string, options: ClientOptions) => WebSocket;
}

/** The channel a client joins: by ARN (the name, if given too, is kept for the record) or by name. */
export type ChannelRef =
  { arn: string; name: string | undefined } | { arn: undefined; name: string };

/** Options after `checkOptions`: validated, with every default resolved. */
export interface CheckedOptions {
  readonly role: SignalingRole;
  readonly clientId: string | undefined;
  readonly region: string;
  readonly channel: ChannelRef;
  readonly credentials: CredentialsInput | undefined;
  readonly credentialRefreshMarginMs: number | undefined;
  readonly endpoint: string | undefined;
  /** Node's root certificates plus the extra CA; undefined when no extra CA was given. */
  readonly caCerts: string[] | undefined;
  readonly cache: EndpointCache | undefined;
  readonly cacheKey: EndpointCacheKey;
  readonly createIfMissing: boolean;
  readonly messageTtlSeconds: number | undefined;
  readonly reconnect: boolean;
  readonly backoff: BackoffOptions;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly connectionLifetimeMs: number;
  readonly proactiveIceRefresh: boolean;
  /** The STUN URL to put first, if any (the option, or the region's default). */
  readonly stunUrl: string | undefined;
  readonly candidateHolder: CandidateHolderOptions;
  readonly pacer: PacerOptions;
  readonly systemClockOffset: number;
  readonly apiConnectTimeoutMs: number;
  readonly apiRequestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  readonly createWebSocket: SignalingClientOptions['createWebSocket'];
}

function invalid(message: string): KvsError {
  return new KvsError('ERR_INVALID_ARGUMENT', message);
}

/** A number option: finite and at least `min` (integers only when asked); the default otherwise. */
function num(
  value: number | undefined,
  name: string,
  fallback: number,
  min: number,
  integer = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
    throw invalid(
      `${name} must be a finite number of at least ${min}, got ${describeValue(value)}`,
    );
  if (integer && !Number.isInteger(value))
    throw invalid(`${name} must be an integer, got ${value}`);
  return value;
}

/** A delay for a timer: as `num`, and at most 2^31 - 1 ms (Node fires a longer one at once). */
function ms(value: number | undefined, name: string, fallback: number, min: number): number {
  const v = num(value, name, fallback, min);
  if (v > MAX_TIMER_MS)
    throw invalid(
      `${name} must be a number of ms from ${min} to at most ${MAX_TIMER_MS}, got ${v}`,
    );
  return v;
}

/** A nested options object (`retry`, `rates`, `timeouts`): undefined or an object. */
function group<T extends object>(value: T | undefined, name: string): Partial<T> {
  const raw: unknown = value;
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null)
    throw invalid(`${name} must be an object, got ${describeValue(raw)}`);
  return value ?? {};
}

/** AWS region names: lower-case letters, digits and dashes (us-west-2, cn-north-1). */
const REGION_RE = /^[a-z0-9-]{1,64}$/;

/** The fields read as strings or functions, checked before anything uses them. */
function checkShapes(o: SignalingClientOptions): void {
  const region: unknown = o.region;
  if (region === undefined || region === '') throw invalid('region is required');
  if (typeof region !== 'string' || !REGION_RE.test(region))
    throw invalid(`region must be 1-64 characters of [a-z0-9-], got ${describeValue(region)}`);
  const endpoint: unknown = o.endpoint;
  if (endpoint !== undefined) {
    let ok = false;
    try {
      ok = typeof endpoint === 'string' && new URL(endpoint).protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw invalid(`endpoint must be an https:// URL, got ${describeValue(endpoint)}`);
  }
  const caCertPath: unknown = o.caCertPath;
  if (caCertPath !== undefined && (typeof caCertPath !== 'string' || caCertPath === ''))
    throw invalid(`caCertPath must be a path, got ${describeValue(caCertPath)}`);
  const caCert: unknown = o.caCert;
  if (caCert !== undefined && typeof caCert !== 'string' && !Buffer.isBuffer(caCert))
    throw invalid(`caCert must be PEM text (a string or Buffer), got ${describeValue(caCert)}`);
  const stunUrl: unknown = o.stunUrl;
  if (
    stunUrl !== undefined &&
    stunUrl !== null &&
    (typeof stunUrl !== 'string' || !/^stuns?:\S+$/i.test(stunUrl))
  )
    throw invalid(`stunUrl must be a stun: URL or null, got ${describeValue(stunUrl)}`);
  const creds: unknown = o.credentials;
  if (creds !== undefined && typeof creds !== 'function') {
    const c = readFields(creds, 'credentials', ['accessKeyId', 'secretAccessKey']);
    if (typeof c?.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string')
      throw invalid(
        'credentials must be { accessKeyId, secretAccessKey, sessionToken? } or a provider function',
      );
  }
  const logger: unknown = o.logger;
  if (logger !== undefined) {
    const l = readFields(logger, 'logger', ['debug', 'info', 'warn', 'error']);
    for (const level of ['debug', 'info', 'warn', 'error'] as const)
      checkFunction(l?.[level], `logger.${level}`);
  }
  if (o.createWebSocket !== undefined) checkFunction(o.createWebSocket, 'createWebSocket');
}

/**
 * The largest clock correction (ms, either way): about 317 years, room for a device whose
 * clock starts at 1970, while the corrected date stays a valid Date for the signer.
 */
export const MAX_CLOCK_OFFSET_MS = 1e13;

/** A clock correction in ms: finite and within ±MAX_CLOCK_OFFSET_MS. */
export function checkClockOffset(value: unknown, name: string): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    Math.abs(value) > MAX_CLOCK_OFFSET_MS
  ) {
    throw invalid(
      `${name} must be a finite number of ms within ±${MAX_CLOCK_OFFSET_MS}, got ${describeValue(value)}`,
    );
  }
  return value;
}

function channelOf(o: SignalingClientOptions): ChannelRef {
  if (!o.channelName && !o.channelArn) throw invalid('channelName or channelArn is required');
  const name: unknown = o.channelName;
  if (name !== undefined && (typeof name !== 'string' || !/^[a-zA-Z0-9_.-]{1,256}$/.test(name)))
    throw invalid(
      `channelName must be 1-256 characters of [a-zA-Z0-9_.-], got ${describeValue(name)}`,
    );
  const arn: unknown = o.channelArn;
  if (arn !== undefined && (typeof arn !== 'string' || arn.length < 1 || arn.length > 1024))
    throw invalid(`channelArn must be 1-1024 characters, got ${describeValue(arn)}`);
  if (o.channelArn !== undefined) return { arn: o.channelArn, name: o.channelName };
  // Neither is empty and the ARN is absent, so the name is there.
  if (o.channelName === undefined) throw invalid('channelName or channelArn is required');
  return { arn: undefined, name: o.channelName };
}

function caCertsOf(o: SignalingClientOptions): string[] | undefined {
  const caPath = o.caCertPath ?? process.env['AWS_KVS_CACERT_PATH'];
  let extra: string | Buffer | undefined = o.caCert;
  if (extra === undefined && caPath) {
    try {
      extra = readFileSync(caPath, 'utf8');
    } catch (e) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `caCertPath ${caPath} cannot be read: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  // Added to Node's root certificates, so the real service stays trusted too.
  return extra === undefined ? undefined : [...tls().rootCertificates, String(extra)];
}

function cacheOf(c: SignalingClientOptions['cache']): EndpointCache | undefined {
  if (c === undefined || c === 'memory') return new MemoryEndpointCache();
  if (c === false) return undefined;
  const raw: unknown = c;
  if (typeof raw !== 'object' || raw === null)
    throw invalid("cache must be 'memory', false, { file } or an EndpointCache");
  if ('file' in c && typeof c.file === 'string') return new FileEndpointCache(c.file);
  if (typeof c === 'object' && 'get' in c && 'set' in c && 'delete' in c) return c;
  throw invalid("cache must be 'memory', false, { file } or an EndpointCache");
}

/** Validates `options` (throwing `ERR_INVALID_ARGUMENT` naming the field) and resolves defaults. */
export function checkOptions(options: SignalingClientOptions): CheckedOptions {
  const o = { ...options };
  // Checked as JavaScript callers may pass anything.
  const role: unknown = o.role;
  if (role !== 'MASTER' && role !== 'VIEWER')
    throw invalid(`role must be MASTER or VIEWER, got ${String(role)}`);
  const channel = channelOf(o);
  checkShapes(o);
  if (o.role === 'VIEWER') checkClientId(o.clientId, 'clientId');
  else if (o.clientId !== undefined) checkClientId(o.clientId, 'clientId');
  if (
    o.messageTtlSeconds !== undefined &&
    !(
      Number.isInteger(o.messageTtlSeconds) &&
      o.messageTtlSeconds >= 5 &&
      o.messageTtlSeconds <= 120
    )
  )
    throw invalid('messageTtlSeconds must be an integer 5-120');

  const retry = group(o.retry, 'retry');
  const rates = group(o.rates, 'rates');
  const timeouts = group(o.timeouts, 'timeouts');
  const backoff: BackoffOptions = {
    baseDelayMs: ms(retry.baseDelayMs, 'retry.baseDelayMs', DEFAULT_BACKOFF.baseDelayMs, 0),
    maxDelayMs: ms(retry.maxDelayMs, 'retry.maxDelayMs', DEFAULT_BACKOFF.maxDelayMs, 0),
    maxAttempts: num(retry.maxAttempts, 'retry.maxAttempts', DEFAULT_BACKOFF.maxAttempts, 1, true),
  };
  const pingIntervalMs = ms(o.pingIntervalMs, 'pingIntervalMs', 60_000, 0);
  const caCerts = caCertsOf(o);
  const cache = cacheOf(o.cache);
  return {
    role: o.role,
    clientId: o.clientId,
    region: o.region,
    channel,
    credentials: o.credentials,
    credentialRefreshMarginMs:
      o.credentialRefreshMarginMs === undefined
        ? undefined
        : num(o.credentialRefreshMarginMs, 'credentialRefreshMarginMs', 0, 0),
    endpoint: o.endpoint,
    caCerts,
    cache,
    cacheKey: {
      channel: channel.arn ?? channel.name,
      role: o.role,
      region: o.region,
      controlEndpoint: o.endpoint ?? '',
    },
    createIfMissing: o.createIfMissing === true,
    messageTtlSeconds: o.messageTtlSeconds,
    reconnect: o.reconnect !== false,
    backoff,
    pingIntervalMs,
    pongTimeoutMs: ms(
      o.pongTimeoutMs,
      'pongTimeoutMs',
      Math.min(2 * pingIntervalMs + 10_000, MAX_TIMER_MS),
      0,
    ),
    connectionLifetimeMs: ms(o.connectionLifetimeMs, 'connectionLifetimeMs', 60 * 60_000, 0),
    proactiveIceRefresh: o.proactiveIceRefresh !== false,
    stunUrl:
      o.stunUrl === null
        ? undefined
        : (o.stunUrl ?? (o.endpoint ? undefined : defaultStunUrl(o.region))),
    candidateHolder: {
      ...DEFAULT_CANDIDATE_HOLDER,
      holdMs: ms(o.candidateHoldMs, 'candidateHoldMs', DEFAULT_CANDIDATE_HOLDER.holdMs, 0),
    },
    pacer: {
      rates: {
        sdp: num(rates.sdpPerSecond, 'rates.sdpPerSecond', DEFAULT_PACER.rates.sdp, 1),
        ice: num(rates.icePerSecond, 'rates.icePerSecond', DEFAULT_PACER.rates.ice, 1),
      },
      windowMs: DEFAULT_PACER.windowMs,
      maxQueued: num(o.maxQueuedMessages, 'maxQueuedMessages', DEFAULT_PACER.maxQueued, 1, true),
    },
    systemClockOffset:
      o.systemClockOffset === undefined
        ? 0
        : checkClockOffset(o.systemClockOffset, 'systemClockOffset'),
    apiConnectTimeoutMs: ms(timeouts.apiConnectMs, 'timeouts.apiConnectMs', 2000, 1),
    apiRequestTimeoutMs: ms(timeouts.apiRequestMs, 'timeouts.apiRequestMs', 5000, 1),
    connectTimeoutMs: ms(timeouts.connectMs, 'timeouts.connectMs', 5000, 1),
    logger: o.logger ?? consoleLogger(),
    createWebSocket: o.createWebSocket,
  };
}
