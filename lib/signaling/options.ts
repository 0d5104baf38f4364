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
import { KvsError } from '../errors.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { DEFAULT_CANDIDATE_HOLDER, type CandidateHolderOptions } from './candidates.js';
import { checkClientId, type SignalingRole } from './codec.js';
import { defaultStunUrl } from './ice-config.js';
import { consoleLogger, type Logger } from './logger.js';
import { DEFAULT_PACER, type PacerOptions } from './pacer.js';
import { tls } from '../lazy.js';

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
  /** Retry policy of one recovery (exponential backoff with jitter, bounded). */
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
    throw invalid(`${name} must be a finite number of at least ${min}, got ${String(value)}`);
  if (integer && !Number.isInteger(value))
    throw invalid(`${name} must be an integer, got ${value}`);
  return value;
}

function finite(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(`${name} must be a finite number, got ${String(value)}`);
  return value;
}

function channelOf(o: SignalingClientOptions): ChannelRef {
  if (!o.channelName && !o.channelArn) throw invalid('channelName or channelArn is required');
  if (o.channelName !== undefined && !/^[a-zA-Z0-9_.-]{1,256}$/.test(o.channelName))
    throw invalid(
      `channelName must be 1-256 characters of [a-zA-Z0-9_.-], got ${JSON.stringify(o.channelName)}`,
    );
  if (o.channelArn !== undefined && (o.channelArn.length < 1 || o.channelArn.length > 1024))
    throw invalid('channelArn must be 1-1024 characters');
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
  if (!o.region) throw invalid('region is required');
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

  const retry = o.retry ?? {};
  const backoff: BackoffOptions = {
    baseDelayMs: num(retry.baseDelayMs, 'retry.baseDelayMs', DEFAULT_BACKOFF.baseDelayMs, 0),
    maxDelayMs: num(retry.maxDelayMs, 'retry.maxDelayMs', DEFAULT_BACKOFF.maxDelayMs, 0),
    maxAttempts: num(retry.maxAttempts, 'retry.maxAttempts', DEFAULT_BACKOFF.maxAttempts, 1, true),
  };
  const pingIntervalMs = num(o.pingIntervalMs, 'pingIntervalMs', 60_000, 0);
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
    pongTimeoutMs: num(o.pongTimeoutMs, 'pongTimeoutMs', 2 * pingIntervalMs + 10_000, 0),
    connectionLifetimeMs: num(o.connectionLifetimeMs, 'connectionLifetimeMs', 60 * 60_000, 0),
    proactiveIceRefresh: o.proactiveIceRefresh !== false,
    stunUrl:
      o.stunUrl === null
        ? undefined
        : (o.stunUrl ?? (o.endpoint ? undefined : defaultStunUrl(o.region))),
    candidateHolder: {
      ...DEFAULT_CANDIDATE_HOLDER,
      holdMs: num(o.candidateHoldMs, 'candidateHoldMs', DEFAULT_CANDIDATE_HOLDER.holdMs, 0),
    },
    pacer: {
      rates: {
        sdp: num(o.rates?.sdpPerSecond, 'rates.sdpPerSecond', DEFAULT_PACER.rates.sdp, 1),
        ice: num(o.rates?.icePerSecond, 'rates.icePerSecond', DEFAULT_PACER.rates.ice, 1),
      },
      windowMs: DEFAULT_PACER.windowMs,
      maxQueued: num(o.maxQueuedMessages, 'maxQueuedMessages', DEFAULT_PACER.maxQueued, 1, true),
    },
    systemClockOffset: finite(o.systemClockOffset, 'systemClockOffset'),
    apiConnectTimeoutMs: num(o.timeouts?.apiConnectMs, 'timeouts.apiConnectMs', 2000, 1),
    apiRequestTimeoutMs: num(o.timeouts?.apiRequestMs, 'timeouts.apiRequestMs', 5000, 1),
    connectTimeoutMs: num(o.timeouts?.connectMs, 'timeouts.connectMs', 5000, 1),
    logger: o.logger ?? consoleLogger(),
    createWebSocket: o.createWebSocket,
  };
}
