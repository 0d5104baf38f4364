/**
 * What Master and Viewer share: how they join the channel (the signaling client's options,
 * with the C SDK's defaults), the tracks they negotiate, and the peer-connection options every
 * connection they make is given.
 */
import type { CredentialsInput } from '../channel/credentials.js';
import { checkFunction, describeValue, readFields } from '../args.js';
import { invalidArgument } from '../errors.js';
import {
  toNativeConfig,
  type InterfaceFilter,
  type PeerConnectionConfig,
  type PeerIceServer,
} from '../peer/config.js';
import { checkMediaId } from '../peer/peer-connection.js';
import type { Codec, MediaKind } from '../peer/transceiver.js';
import { consoleLogger, type Logger } from '../signaling/logger.js';
import type { SignalingClientOptions } from '../signaling/options.js';

/** One track to negotiate: `{ kind: 'video', codec: 'H264' }`. */
export interface TrackSpec {
  kind: MediaKind;
  codec: Codec;
  /** The a=msid track id: 1-255 visible ASCII characters (no spaces). */
  trackId?: string;
  /** The a=msid stream id: 1-255 visible ASCII characters (no spaces). */
  streamId?: string;
}

/** The C SDK samples' tracks: H.264 video and Opus audio. */
export const DEFAULT_TRACKS: readonly TrackSpec[] = Object.freeze([
  Object.freeze({ kind: 'video', codec: 'H264' } as const),
  Object.freeze({ kind: 'audio', codec: 'opus' } as const),
]);

/** Options of every peer connection a session makes, besides the ICE servers and policy. */
export type SessionPeerOptions = Omit<PeerConnectionConfig, 'iceServers' | 'iceTransportPolicy'>;

export interface SessionOptions {
  /** The channel, by name ... */
  channelName?: string;
  /** ... or by ARN. */
  channelArn?: string;
  /** Default: AWS_REGION, then AWS_DEFAULT_REGION, then us-west-2 (the C SDK's default). */
  region?: string;
  /**
   * Default: AWS IoT (`fromIotCredentials`) when the `AWS_IOT_CORE_*` variables are set, else
   * the AWS SDK's Node provider chain (environment, profile, SSO, container, IMDS).
   */
  credentials?: CredentialsInput;
  /** A control-plane endpoint override, such as the local service's `https://127.0.0.1:PORT`. */
  endpoint?: string;
  /**
   * A CA to trust besides the system's (the local service's); also trusted for its `turns:`
   * servers. Default: AWS_KVS_CACERT_PATH when set.
   */
  caCertPath?: string;
  /** Tracks to negotiate. Default: H.264 video and Opus audio. */
  tracks?: TrackSpec[];
  /** `relay` uses TURN only. */
  iceTransportPolicy?: 'all' | 'relay';
  /** ICE servers added after the channel's own (STUN, then its TURN servers). */
  extraIceServers?: PeerIceServer[];
  /** The other peer-connection options (interfaces, timeouts, certificate, data channels). */
  peerConnection?: SessionPeerOptions;
  /** Default: quiet unless AWS_KVS_LOG_LEVEL says otherwise. */
  logger?: Logger;
  /** Anything else of the signaling client (cache, retry, timeouts...). */
  signaling?: Omit<
    Partial<SignalingClientOptions>,
    'role' | 'clientId' | 'channelName' | 'channelArn'
  >;
}

/** The region a session uses when none is given: AWS_REGION, AWS_DEFAULT_REGION, us-west-2. */
export function defaultRegion(env: NodeJS.ProcessEnv = process.env): string {
  const raw: unknown = env;
  if (typeof raw !== 'object' || raw === null)
    throw invalidArgument(`defaultRegion: env must be an object, got ${describeValue(raw)}`);
  return env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-west-2';
}

const CODECS_OF: Record<MediaKind, readonly Codec[]> = {
  video: ['H264', 'H265', 'VP8'],
  audio: ['opus', 'PCMU', 'PCMA'],
};

/** Validates the tracks: known kinds and codecs, one track per kind. */
export function checkTracks(tracks: readonly TrackSpec[] | undefined, who: string): TrackSpec[] {
  const raw: unknown = tracks;
  if (raw !== undefined && !Array.isArray(raw))
    throw invalidArgument(`${who}: tracks must be an array`);
  const list = [...(tracks ?? DEFAULT_TRACKS)];
  if (list.length === 0) throw invalidArgument(`${who}: tracks is empty; give at least one`);
  const seen = new Set<MediaKind>();
  for (const [i, t] of list.entries()) {
    const item: unknown = t;
    if (typeof item !== 'object' || item === null) {
      throw invalidArgument(`${who}: tracks[${i}] must be { kind, codec }`);
    }
    const codecs = CODECS_OF[t.kind] as readonly Codec[] | undefined;
    if (!codecs) {
      throw invalidArgument(
        `${who}: tracks[${i}].kind must be "video" or "audio", got ${JSON.stringify(t.kind)}`,
      );
    }
    if (!codecs.includes(t.codec)) {
      throw invalidArgument(
        `${who}: tracks[${i}].codec must be one of ${codecs.join(', ')} for ${t.kind}, got ${JSON.stringify(t.codec)}`,
      );
    }
    checkMediaId(t.trackId, `${who}: tracks[${i}].trackId`);
    checkMediaId(t.streamId, `${who}: tracks[${i}].streamId`);
    if (seen.has(t.kind))
      throw invalidArgument(`${who}: tracks has two ${t.kind} tracks; give one per kind`);
    seen.add(t.kind);
  }
  return list;
}

/**
 * What a session's constructor checks besides the tracks, so that a bad option is refused
 * at once and not when the first viewer arrives (after the channel was joined): the nested
 * option objects, and every peer-connection option, through the peer connection's checks.
 */
export function checkSessionOptions(o: SessionOptions, who: string): void {
  for (const key of ['peerConnection', 'signaling'] as const) {
    const v: unknown = o[key];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v)))
      throw invalidArgument(`${who}: ${key} must be an object, got ${describeValue(v)}`);
  }
  const extra: unknown = o.extraIceServers;
  if (extra !== undefined && !Array.isArray(extra))
    throw invalidArgument(`${who}: extraIceServers must be an array, got ${describeValue(extra)}`);
  const policy: unknown = o.iceTransportPolicy;
  if (policy !== undefined && policy !== 'all' && policy !== 'relay')
    throw invalidArgument(
      `${who}: iceTransportPolicy must be "all" or "relay", got ${describeValue(policy)}`,
    );
  if (o.logger !== undefined) {
    const l = readFields(o.logger, `${who}: logger`, ['debug', 'info', 'warn', 'error']);
    for (const level of ['debug', 'info', 'warn', 'error'] as const)
      checkFunction(l?.[level], `${who}: logger.${level}`);
  }
  toNativeConfig(peerConfigOf(o, []));
}

/** A session's media kind argument. */
export function checkKind(kind: unknown, call: string): void {
  if (kind !== 'video' && kind !== 'audio')
    throw invalidArgument(`${call}: kind must be "audio" or "video", got ${describeValue(kind)}`);
}

/** A data-channel message a session sends. */
export function checkMessage(data: unknown, call: string): void {
  if (typeof data !== 'string' && !(data instanceof Uint8Array))
    throw invalidArgument(
      `${call}: data must be a string, Buffer or Uint8Array, got ${describeValue(data)}`,
    );
}

export function checkBooleanOption(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw invalidArgument(`${what} must be a boolean, got ${describeValue(value)}`);
}

/** The signaling client's options for one role, from the session's. */
export function signalingOptionsOf(
  o: SessionOptions,
  role: 'MASTER' | 'VIEWER',
  extra: { clientId?: string; createIfMissing: boolean; candidateHoldMs?: number; logger: Logger },
): SignalingClientOptions {
  const out: SignalingClientOptions = {
    ...(o.signaling ?? {}),
    role,
    region: o.region ?? defaultRegion(),
    createIfMissing: o.signaling?.createIfMissing ?? extra.createIfMissing,
    logger: o.signaling?.logger ?? extra.logger,
  };
  if (o.channelName !== undefined) out.channelName = o.channelName;
  if (o.channelArn !== undefined) out.channelArn = o.channelArn;
  if (extra.clientId !== undefined) out.clientId = extra.clientId;
  if (o.credentials !== undefined) out.credentials = o.credentials;
  if (o.endpoint !== undefined) out.endpoint = o.endpoint;
  if (o.caCertPath !== undefined) out.caCertPath = o.caCertPath;
  if (extra.candidateHoldMs !== undefined) out.candidateHoldMs = extra.candidateHoldMs;
  return out;
}

/** A peer connection's configuration for a session, with the channel's ICE servers. */
export function peerConfigOf(o: SessionOptions, iceServers: PeerIceServer[]): PeerConnectionConfig {
  const base: SessionPeerOptions = o.peerConnection ?? {};
  const caCertPath = o.caCertPath ?? process.env['AWS_KVS_CACERT_PATH'];
  const config: PeerConnectionConfig = {
    ...base,
    iceServers: [...iceServers, ...(o.extraIceServers ?? [])],
    iceTransportPolicy: o.iceTransportPolicy ?? 'all',
  };
  // The local service's turns: servers present its certificate, signed by its CA.
  if (base.turnCaCertPath === undefined && caCertPath) config.turnCaCertPath = caCertPath;
  return config;
}

/** Host candidates on loopback only: a session that never leaves this machine. */
export const LOOPBACK_ONLY: InterfaceFilter = Object.freeze({ only: ['127.0.0.1'] });

export function sessionLogger(o: SessionOptions, prefix: string): Logger {
  return o.logger ?? consoleLogger(undefined, prefix);
}
