import { createRequire } from 'node:module';
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
  maxMessageSize?: number;
}

export type NativeStat = { type: string; id: string; timestamp: number } & Record<
  string,
  string | number | boolean
>;

/** What the native side tells about a transceiver after each call that can change it. */
export interface NativeTransceiverInfo {
  index: number;
  kind: 'audio' | 'video';
  mid: string | null;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  currentDirection: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' | null;
  codec: 'H264' | 'H265' | 'VP8' | 'opus' | 'PCMU' | 'PCMA' | null;
  ssrc: number;
  trackId: string;
}

/** Events arrive as (type, ...args) through one callback per connection. */
export type NativePeerConnectionEvent =
  | ['icecandidate', string | null, string]
  | ['connectionstatechange', string]
  | ['signalingstatechange', string]
  | ['candidateskipped', string, string]
  // a TURN allocation failed after it was made: server URL, the error, the media went through it
  | ['relayfailed', string, Error, boolean]
  // a TURN server gave no allocation: server URL, the error
  | ['icecandidateerror', string, Error]
  | ['error', Error]
  | ['track', number, 'audio' | 'video', string]
  // transceiver, frame bytes, presentationTs (100 ns), flags, frame index, RTP timestamp
  | ['frame', number, Buffer, number, number, number, number]
  | ['keyframerequest', number, string]
  // transceiver (-1: the whole transport), bitrate (bps), source
  | ['bandwidth', number, number, string]
  | ['frameerror', number, Error]
  | ['datachannel', number, NativeDataChannelInfo]
  | ['dcopen', number, number, number]
  | ['dcmessage', number, string | Buffer]
  | ['dcbufferedamountlow', number]
  | ['dcclosing', number]
  | ['dcclose', number]
  | ['dcerror', number, Error];

/** A channel the peer opened. */
export interface NativeDataChannelInfo {
  id: number;
  label: string;
  protocol: string;
  ordered: boolean;
  maxRetransmits: number | null;
  maxPacketLifeTime: number | null;
  negotiated: boolean;
  /** The peer's max-message-size (0: no limit). */
  maxMessageSize: number;
}

export interface NativePeerConnection {
  createOffer(): Promise<string>;
  createAnswer(): Promise<string>;
  setLocalDescription(type: 'offer' | 'answer', sdp: string): Promise<NativeTransceiverInfo[]>;
  setRemoteDescription(type: 'offer' | 'answer', sdp: string): Promise<NativeTransceiverInfo[]>;
  /** Resolves with the reason when a well-formed candidate is skipped (mDNS, TCP). */
  addIceCandidate(candidate: string): Promise<string | undefined>;
  addTransceiver(init: {
    kind: 'audio' | 'video';
    codecs?: string[];
    direction?: string;
    trackId?: string;
    streamId?: string;
  }): Promise<{ index: number; transceivers: NativeTransceiverInfo[] }>;
  /** Copies the bytes; true when handed to the network thread. */
  writeFrame(
    transceiver: number,
    data: Uint8Array,
    presentationTs: number,
    decodingTs: number,
    duration: number,
    flags: number,
    index: number,
  ): boolean;
  bufferedAmount(transceiver: number): number;
  /** This connection's id, for writeFrameToMany. */
  nativeId(): number;
  requestKeyFrame(transceiver: number): Promise<void>;
  configureRollingBuffer(transceiver: number, seconds: number, bitrateBps: number): Promise<void>;
  enableDataChannels(): Promise<void>;
  /** Returns the channel's handle at once; its events follow. */
  createDataChannel(
    label: string,
    init: {
      protocol?: string;
      ordered?: boolean;
      maxRetransmits?: number;
      maxPacketLifeTime?: number;
      negotiated?: boolean;
      id?: number;
    },
  ): number;
  /** Copies the bytes (a string is sent as text); false once the connection is gone. */
  dataChannelSend(channel: number, data: string | Uint8Array): boolean;
  dataChannelClose(channel: number): void;
  dataChannelSetThreshold(channel: number, bytes: number): void;
  dataChannelBufferedAmount(channel: number): number;
  restartIce(): Promise<void>;
  /** The servers of the next gathering (an ICE restart's). */
  setConfiguration(
    config: Pick<NativePeerConnectionConfig, 'turnServers' | 'stunServers'>,
  ): Promise<void>;
  getStats(): Promise<NativeStat[]>;
  /** The set-up steps, ms since the epoch (null: not yet). */
  getTimeline(): Promise<NativeTimeline>;
  /** Resolves with the statistics as they stand once closed ([] when already closed). */
  close(): Promise<NativeStat[]>;
}

export type NativeTimeline = Record<
  | 'created'
  | 'gatheringStarted'
  | 'firstHostCandidate'
  | 'firstSrflxCandidate'
  | 'firstRelayCandidate'
  | 'gatheringCompleted'
  | 'checkingStarted'
  | 'iceConnected'
  | 'dtlsStarted'
  | 'dtlsConnected'
  | 'connected'
  | 'selectedPairFirstCheck',
  number | null
>;

/** The shape of the N-API module; the C++ side (binding/js) only marshals. */
export interface NativeAddon {
  versions(): NativeVersions;
  selfTest(profile: SrtpProfileName): NativeSelfTestReport;
  PeerConnection: (new (
    config: NativePeerConnectionConfig,
    onEvent: (...event: NativePeerConnectionEvent) => void,
  ) => NativePeerConnection) & {
    /** One copy of the frame for every [connection id, transceiver] pair; how many took it. */
    writeFrameToMany(
      targets: number[],
      data: Uint8Array,
      presentationTs: number,
      decodingTs: number,
      duration: number,
      flags: number,
      index: number,
    ): number;
  };
}

let cached: NativeAddon | undefined;

/**
 * The addon's PeerConnection with every synchronous throw (the constructor's, and a method's
 * argument checks) turned into a KvsError; rejections are the caller's to map. Methods are
 * called on the real object, which N-API needs to find its C++ side.
 */
function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw KvsError.fromNative(err, what);
  }
}

function guarded(Raw: NativeAddon['PeerConnection']): NativeAddon['PeerConnection'] {
  return new Proxy(Raw, {
    construct(target, args: ConstructorParameters<NativeAddon['PeerConnection']>) {
      const pc = guard('PeerConnection', () => new target(...args));
      const methods = new Map<PropertyKey, unknown>();
      return new Proxy(pc, {
        get(obj, key) {
          const value: unknown = Reflect.get(obj, key, obj);
          if (typeof value !== 'function') return value;
          let m = methods.get(key);
          if (!m) {
            const fn = value as (...a: unknown[]) => unknown;
            m = (...a: unknown[]) => guard(String(key), () => fn.apply(obj, a));
            methods.set(key, m);
          }
          return m;
        },
      });
    },
  });
}

/**
 * Loads the addon once, on first use (the first PeerConnection, `versions()` or
 * `selfTest()`), not at `require('kvs-webrtc')`; lib/ and dist/ are both one level below the
 * package root.
 */
export function native(): NativeAddon {
  if (cached) return cached;
  let addon: NativeAddon;
  // KVS_WEBRTC_NATIVE_ADDON names another build of the addon to load instead, such as the
  // sanitizer build that `npm run test:sanitized` runs the JavaScript suites against.
  const override = process.env['KVS_WEBRTC_NATIVE_ADDON'];
  try {
    addon = (
      override
        ? createRequire(__filename)(path.resolve(override))
        : loadAddon(path.join(__dirname, '..'))
    ) as NativeAddon;
  } catch (err) {
    throw new KvsError(
      'ERR_NATIVE_LOAD',
      `kvs-webrtc: the native addon could not be loaded (${(err as Error).message}). ` +
        'Run `npm run setup` in the package to build it.',
      { cause: err },
    );
  }
  cached = {
    versions: () => guard('versions', () => addon.versions()),
    // selfTest() maps its failures to ERR_SELF_TEST itself, naming the leg.
    selfTest: (profile) => addon.selfTest(profile),
    PeerConnection: guarded(addon.PeerConnection),
  };
  return cached;
}
