import { describeValue } from '../args.js';
import { KvsError } from '../errors.js';
import type { NativePeerConnectionConfig } from '../native.js';

/** RTCIceServer: `urls` may be one URL or several. */
export interface PeerIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Which local addresses become host candidates. */
export interface InterfaceFilter {
  /** Only these numeric addresses or interface names (for example `['127.0.0.1']`). */
  only?: string[];
  /** Loopback addresses are left out unless this is set (or they are listed in `only`). */
  allowLoopback?: boolean;
  allowLinkLocal?: boolean;
  /** IPv6 host candidates; on by default. */
  ipv6?: boolean;
}

export interface PeerConnectionConfig {
  /**
   * STUN and TURN servers: STUN servers give server-reflexive candidates (UDP), TURN servers
   * relay candidates (`turn:` over UDP and TCP, `turns:` over TLS, including
   * `turns:…?transport=udp`, which Chromium also carries over TLS).
   */
  iceServers?: PeerIceServer[];
  iceTransportPolicy?: 'all' | 'relay';
  /** PEM file trusted for `turns:` servers (the local service's CA); the system store otherwise. */
  turnCaCertPath?: string;
  interfaces?: InterfaceFilter;
  /**
   * Hide our host addresses behind random `.local` names and answer multicast DNS queries for
   * them, as browsers do. Off by default: a device's peer may not resolve mDNS (the C SDK does
   * not), and would then have no host candidate to try. Remote `.local` candidates are
   * resolved either way.
   */
  mdnsHostCandidates?: boolean;
  /** A pre-generated certificate (PEM); a fresh ECDSA P-256 one otherwise. */
  certificate?: { certificatePem: string; privateKeyPem: string };
  /**
   * The C SDK's timers, in milliseconds. `disconnected`: nothing heard from the peer on the
   * selected pair for that long (no consent response, DTLS, RTP or RTCP); `failed`: no
   * consent response for `disconnected` + `failed` (RFC 7675 consent checks run every 4-6 s).
   */
  timeouts?: {
    connectionCheck?: number;
    nomination?: number;
    disconnected?: number;
    failed?: number;
  };
  /**
   * Data channels: the largest message we take (our a=max-message-size, RFC 8841), 1 KiB to
   * 1 GiB; messages are reassembled in memory up to it. Default 16 MiB.
   */
  dataChannels?: { maxMessageSize?: number };
}

/** The C SDK accepts up to 21 ICE servers (c-sdk.md §3). */
export const MAX_ICE_SERVERS = 21;

function invalid(message: string): KvsError {
  return new KvsError('ERR_INVALID_ARGUMENT', `PeerConnection: ${message}`);
}

// RFC 7064 / RFC 7065: scheme, host (a name, an IPv4 address or a bracketed IPv6 one), an
// optional port, and for TURN an optional ?transport=.
const ICE_URL = /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[^:?[\]/\s]+)(?::(\d+))?(\?.*)?$/i;

function checkIceServer(server: PeerIceServer, i: number): void {
  const raw: unknown = server; // from JavaScript callers, anything
  if (typeof raw !== 'object' || raw === null) {
    throw invalid(`iceServers[${i}] must be an object { urls, username?, credential? }`);
  }
  const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
  if (urls.length === 0) throw invalid(`iceServers[${i}].urls is empty`);
  for (const url of urls) {
    if (typeof url !== 'string' || !/^(stun|stuns|turn|turns):/i.test(url)) {
      throw invalid(
        `iceServers[${i}].urls has ${JSON.stringify(url)}; expected a stun:, stuns:, turn: or turns: URL`,
      );
    }
    const m = ICE_URL.exec(url);
    if (!m) {
      throw invalid(
        `iceServers[${i}].urls has ${JSON.stringify(url)}, which names no host (expected scheme:host[:port])`,
      );
    }
    if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) {
      throw invalid(`iceServers[${i}].urls has ${JSON.stringify(url)}: the port must be 1..65535`);
    }
    if (
      /^turns?:/.test(url) &&
      (server.username === undefined || server.credential === undefined)
    ) {
      throw invalid(`iceServers[${i}] is a TURN server and needs username and credential`);
    }
  }
  for (const field of ['username', 'credential'] as const) {
    const v: unknown = server[field];
    if (v !== undefined && typeof v !== 'string')
      throw invalid(`iceServers[${i}].${field} must be a string, got ${describeValue(v)}`);
  }
}

/** An optional object option: undefined, or an object (not null, not an array). */
function checkGroup(value: unknown, what: string, shape: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)))
    throw invalid(`${what} must be an object ${shape}, got ${describeValue(value)}`);
}

function checkBoolean(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw invalid(`${what} must be a boolean, got ${describeValue(value)}`);
}

function checkTimeout(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > 3_600_000) {
    throw invalid(`timeouts.${name} must be an integer number of milliseconds in 1..3600000`);
  }
  return value;
}

/** Validates an `iceServers` list (the constructor's and setConfiguration's rules). */
export function checkIceServers(servers: unknown): PeerIceServer[] {
  if (servers === undefined) return [];
  if (!Array.isArray(servers)) throw invalid('iceServers must be an array');
  if (servers.length > MAX_ICE_SERVERS) {
    throw invalid(`iceServers has ${servers.length} entries; at most ${MAX_ICE_SERVERS}`);
  }
  (servers as PeerIceServer[]).forEach(checkIceServer);
  return servers as PeerIceServer[];
}

/** Validates a user configuration and turns it into the native one. */
export function toNativeConfig(config: PeerConnectionConfig = {}): NativePeerConnectionConfig {
  // Checked as JavaScript callers may pass anything.
  const input: unknown = config;
  if (typeof input !== 'object' || input === null) throw invalid('config must be an object');
  checkIceServers(config.iceServers);
  const policy: unknown = config.iceTransportPolicy ?? 'all';
  if (policy !== 'all' && policy !== 'relay') {
    throw invalid(`iceTransportPolicy must be "all" or "relay", got ${JSON.stringify(policy)}`);
  }
  checkGroup(config.interfaces, 'interfaces', '{ only?, allowLoopback?, allowLinkLocal?, ipv6? }');
  const f = config.interfaces ?? {};
  checkBoolean(f.allowLoopback, 'interfaces.allowLoopback');
  checkBoolean(f.allowLinkLocal, 'interfaces.allowLinkLocal');
  checkBoolean(f.ipv6, 'interfaces.ipv6');
  if (
    f.only !== undefined &&
    (!Array.isArray(f.only) || f.only.some((x) => typeof x !== 'string'))
  ) {
    throw invalid('interfaces.only must be an array of addresses or interface names');
  }
  checkGroup(
    config.timeouts,
    'timeouts',
    '{ connectionCheck?, nomination?, disconnected?, failed? }',
  );
  const t = config.timeouts ?? {};
  const out: NativePeerConnectionConfig = {
    interfaces: {
      ...(f.only ? { only: [...f.only] } : {}),
      allowLoopback: f.allowLoopback ?? false,
      allowLinkLocal: f.allowLinkLocal ?? false,
      ipv6: f.ipv6 ?? true,
    },
  };
  const timeouts = {
    connectionCheckTimeoutMs: checkTimeout('connectionCheck', t.connectionCheck),
    nominationTimeoutMs: checkTimeout('nomination', t.nomination),
    disconnectedTimeoutMs: checkTimeout('disconnected', t.disconnected),
    failedTimeoutMs: checkTimeout('failed', t.failed),
  };
  for (const [key, value] of Object.entries(timeouts)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  const dc: unknown = config.dataChannels;
  if (dc !== undefined) {
    if (typeof dc !== 'object' || dc === null) throw invalid('dataChannels must be an object');
    const max = (dc as { maxMessageSize?: unknown }).maxMessageSize;
    if (max !== undefined) {
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1024 || max > 2 ** 30) {
        throw invalid(
          `dataChannels.maxMessageSize must be an integer number of bytes in 1024..${2 ** 30}`,
        );
      }
      out.maxMessageSize = max;
    }
  }
  out.relayOnly = policy === 'relay';
  if (config.mdnsHostCandidates !== undefined) {
    if (typeof config.mdnsHostCandidates !== 'boolean') {
      throw invalid('mdnsHostCandidates must be a boolean');
    }
    out.mdnsHostCandidates = config.mdnsHostCandidates;
  }
  if (config.turnCaCertPath !== undefined) {
    if (typeof config.turnCaCertPath !== 'string') throw invalid('turnCaCertPath must be a path');
    out.turnCaFile = config.turnCaCertPath;
  }
  checkGroup(config.certificate, 'certificate', '{ certificatePem, privateKeyPem }');
  if (config.certificate) {
    const { certificatePem, privateKeyPem } = config.certificate;
    if (typeof certificatePem !== 'string' || typeof privateKeyPem !== 'string') {
      throw invalid('certificate needs certificatePem and privateKeyPem strings');
    }
    out.certificate = { certificatePem, privateKeyPem };
  }
  return out;
}

export interface TurnServerRef {
  url: string;
  host: string;
  username: string;
  credential: string;
}

export interface StunServerRef {
  url: string;
  host: string;
  port: number;
}

/** The STUN URLs of a configuration (`stun:host[:port]`), for resolution. */
export function stunServersOf(config: PeerConnectionConfig): StunServerRef[] {
  const out: StunServerRef[] = [];
  for (const server of config.iceServers ?? []) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      const m = /^stun:(\[[^\]]+\]|[^:?]+)(?::(\d+))?$/i.exec(url);
      if (!m?.[1]) continue;
      out.push({ url, host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 3478) });
    }
  }
  return out;
}

/** The TURN URLs of a configuration with their hosts, for resolution. */
export function turnServersOf(config: PeerConnectionConfig): TurnServerRef[] {
  const out: TurnServerRef[] = [];
  for (const server of config.iceServers ?? []) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      const m = /^turns?:(\[[^\]]+\]|[^:?]+)/i.exec(url);
      if (!m?.[1]) continue;
      // Every form KVS hands out is kept. `turns:…?transport=udp` is TLS over TCP to the same
      // host and port, as Chromium reads it (libwebrtc's ice_server_parsing.cc makes every
      // turns: URL TLS); the native side allocates once when `turns:…?transport=tcp` names
      // the same server (turn_url.h).
      out.push({
        url,
        host: m[1].replace(/^\[|\]$/g, ''),
        username: server.username ?? '',
        credential: server.credential ?? '',
      });
    }
  }
  return out;
}
