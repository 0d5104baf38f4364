import path from 'node:path';
import loadAddon from 'node-gyp-build';
import { KvsError } from './errors.js';

/** The SRTP protection profiles the native core negotiates (RFC 5764, RFC 7714 names). */
export type SrtpProfileName =
  'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AEAD_AES_128_GCM';

export interface NativeVersions {
  /** The statically linked OpenSSL, e.g. "OpenSSL 3.0.19 27 Jan 2026". */
  openssl: string;
  /** Its build platform, e.g. "debian-amd64": tells Debian's build from Node's own. */
  opensslPlatform: string;
  libsrtp2: string;
  /** usrsctp has no version call: the Debian source version built into the addon. */
  usrsctp: string;
  napi: number;
}

export interface NativeSelfTestReport {
  profile: SrtpProfileName;
  dtlsVersion: string;
  cipher: string;
  handshakeFlights: number;
  datagrams: { clientToServer: number; serverToClient: number };
  fingerprints: { client: string; server: string };
  srtp: {
    rtpBytes: number;
    protectedBytes: number;
    rtcpBytes: number;
    protectedRtcpBytes: number;
    tamperRejected: boolean;
    replayRejected: boolean;
  };
  sctp: { socketCreated: boolean };
}

/** Configuration as the native PeerConnection reads it (validated in lib/peer first). */
export interface NativePeerConnectionConfig {
  interfaces?: {
    only?: string[];
    allowLoopback?: boolean;
    allowLinkLocal?: boolean;
    ipv6?: boolean;
  };
  certificate?: { certificatePem: string; privateKeyPem: string };
  /** TURN servers with their host already resolved to a numeric address. */
  turnServers?: { url: string; address: string; username: string; credential: string }[];
  /** STUN servers for server-reflexive candidates, host resolved. */
  stunServers?: { url: string; address: string; port: number }[];
  relayOnly?: boolean;
  turnCaFile?: string;
  mdnsHostCandidates?: boolean;
  connectionCheckTimeoutMs?: number;
  nominationTimeoutMs?: number;
  disconnectedTimeoutMs?: number;
  failedTimeoutMs?: number;
}

export type NativeStat = { type: string; id: string; timestamp: number } & Record<
  string,
  string | number | boolean
>;

/** Events arrive as (type, ...args) through one callback per connection. */
export type NativePeerConnectionEvent =
  | ['icecandidate', string | null, string]
  | ['connectionstatechange', string]
  | ['signalingstatechange', string]
  | ['candidateskipped', string, string]
  | ['error', Error];

export interface NativePeerConnection {
  createOffer(): Promise<string>;
  createAnswer(): Promise<string>;
  setLocalDescription(type: 'offer' | 'answer', sdp: string): Promise<void>;
  setRemoteDescription(type: 'offer' | 'answer', sdp: string): Promise<void>;
  /** Resolves with the reason when a well-formed candidate is skipped (mDNS, TCP). */
  addIceCandidate(candidate: string): Promise<string | undefined>;
  addTransceiver(init: {
    kind: 'audio' | 'video';
    codecs?: string[];
    direction?: string;
    trackId?: string;
    streamId?: string;
  }): Promise<number>;
  enableDataChannels(): Promise<void>;
  restartIce(): Promise<void>;
  getStats(): Promise<NativeStat[]>;
  /** Resolves with the statistics as they stand once closed ([] when already closed). */
  close(): Promise<NativeStat[]>;
}

/** The shape of the N-API module; the C++ side (binding/js) only marshals. */
export interface NativeAddon {
  versions(): NativeVersions;
  selfTest(profile: SrtpProfileName): NativeSelfTestReport;
  PeerConnection: new (
    config: NativePeerConnectionConfig,
    onEvent: (...event: NativePeerConnectionEvent) => void,
  ) => NativePeerConnection;
}

let cached: NativeAddon | undefined;

/** Loads the addon once; lib/ and dist/ are both one level below the package root. */
export function native(): NativeAddon {
  if (cached) return cached;
  try {
    cached = loadAddon(path.join(__dirname, '..')) as NativeAddon;
  } catch (err) {
    throw new KvsError(
      'ERR_KVS_NATIVE_LOAD',
      `kvs-webrtc: the native addon could not be loaded (${(err as Error).message}). ` +
        'Run `npm run setup` in the package to build it.',
      { cause: err },
    );
  }
  return cached;
}
