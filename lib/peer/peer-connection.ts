import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { describeValue } from '../args.js';
import { KvsError } from '../errors.js';
import {
  native,
  type NativePeerConnection,
  type NativePeerConnectionConfig,
  type NativePeerConnectionEvent,
  type NativeStat,
  type NativeTimeline,
  type NativeTransceiverInfo,
} from '../native.js';
import {
  checkIceServers,
  stunServersOf,
  toNativeConfig,
  turnServersOf,
  type PeerConnectionConfig,
} from './config.js';

/** RTC_PEER_CONNECTION_STATE of the C SDK, in the W3C spelling. */
export type PeerConnectionState =
  'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type SignalingState = 'stable' | 'have-local-offer' | 'have-remote-offer' | 'closed';

// One definition of the signaling shapes for the whole package (RTCSessionDescriptionInit
// and RTCIceCandidateInit).
import type { IceCandidate, SessionDescription } from '../signaling/codec.js';
export type { IceCandidate, SessionDescription };

import { DataChannel, type DataChannelInit } from './data-channel.js';
import {
  Transceiver,
  type Codec,
  type Direction,
  type KeyFrameReason,
  type MediaKind,
} from './transceiver.js';
export type { Codec, Direction, MediaKind };

export interface TransceiverInit {
  kind: MediaKind;
  /** Preference order; the C SDK's defaults for the kind when absent. */
  codecs?: Codec[];
  direction?: Direction;
  /** The a=msid track id: 1-255 visible ASCII characters (no spaces). */
  trackId?: string;
  /** The a=msid stream id: 1-255 visible ASCII characters (no spaces). */
  streamId?: string;
}

import type { Stats, StatsReport } from './stats.js';
export type { Stats };

/** What `relayfailed` tells. */
export interface RelayFailure {
  /** The TURN server, `turn:host:port` or `turns:host:port`. */
  url: string;
  error: KvsError;
  inUse: boolean;
}

/** What `icecandidateerror` tells. */
export interface IceCandidateError {
  /** The TURN server, `turn:host:port` or `turns:host:port`. */
  url: string;
  /** `ERR_TURN_AUTH` (credentials refused: wrong, or expired), `ERR_TURN_TIMEOUT`, ... */
  error: KvsError;
}

export interface PeerConnectionEvents {
  /** A local candidate to signal; `null` when gathering is complete. */
  icecandidate: [IceCandidate | null];
  connectionstatechange: [PeerConnectionState];
  signalingstatechange: [SignalingState];
  /** A remote candidate that was well formed but not usable here (mDNS, TCP), and why. */
  candidateskipped: [string, string];
  /**
   * A TURN allocation failed after it was made (a refresh refused, as when its credentials
   * expired; the connection to the server lost). `inUse`: the media went through it, so only
   * an ICE restart (with fresh servers: setConfiguration) brings another path.
   */
  relayfailed: [RelayFailure];
  /**
   * A TURN server gave no allocation while gathering, so no relay candidate comes from it
   * (W3C `icecandidateerror`). Gathering still completes with what the other servers gave.
   * Expired credentials show here: a TURN server checks them when an allocation is made.
   */
  icecandidateerror: [IceCandidateError];
  /**
   * Why the connection failed (DTLS, SRTP set-up, certificate), just before the
   * `connectionstatechange` to `failed`. Emitted only while someone listens, so that a
   * failed connection never throws an unhandled 'error' into a device app; the reason stays
   * in `failureReason` either way.
   */
  error: [KvsError];
  /** A transceiver the remote offer made, on which the peer sends (W3C `track`). */
  track: [Transceiver];
  /** A data channel the peer opened (peerConnectionOnDataChannel); it is already open. */
  datachannel: [DataChannel];
}

const AUDIO_CODECS: readonly Codec[] = ['opus', 'PCMU', 'PCMA'];
const VIDEO_CODECS: readonly Codec[] = ['H264', 'H265', 'VP8'];
const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function invalid(message: string): KvsError {
  return new KvsError('ERR_INVALID_ARGUMENT', message);
}

/** The addresses of the ICE servers' host names (numeric ones and `localhost` need none). */
async function resolveHosts(config: PeerConnectionConfig): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  for (const { host } of [...turnServersOf(config), ...stunServersOf(config)]) {
    if (isIP(host) || host === 'localhost' || resolved.has(host)) continue;
    resolved.set(host, (await lookup(host)).address);
  }
  return resolved;
}

/** The native form of a configuration's servers, with their hosts' addresses. */
function nativeServers(
  config: PeerConnectionConfig,
  resolvedHosts: ReadonlyMap<string, string> | undefined,
  hint: string,
): Pick<NativePeerConnectionConfig, 'turnServers' | 'stunServers'> {
  const resolve = (host: string): string => {
    const address = isIP(host)
      ? host
      : host === 'localhost'
        ? '127.0.0.1'
        : resolvedHosts?.get(host);
    if (address === undefined) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `PeerConnection: ICE server host ${host} needs DNS; ${hint}`,
      );
    }
    return address;
  };
  return {
    turnServers: turnServersOf(config).map((t) => ({
      url: t.url,
      address: resolve(t.host),
      username: t.username,
      credential: t.credential,
    })),
    stunServers: stunServersOf(config).map((s) => ({
      url: s.url,
      address: resolve(s.host),
      port: s.port,
    })),
  };
}

/** A native error (an Error with a `code`) as a KvsError keeping its stable code. */
function fromNative(what: string, err: unknown): KvsError {
  return KvsError.fromNative(err, what);
}

/** Rethrows a native rejection as a KvsError keeping its stable code. */
function rethrow(what: string): (err: unknown) => never {
  return (err: unknown) => {
    throw KvsError.fromNative(err, what);
  };
}

/**
 * A WebRTC peer connection on the native core: the W3C RTCPeerConnection's shape where it
 * fits, with the C SDK's states. One ICE transport and one DTLS association carry everything
 * (max-bundle, rtcp-mux).
 */
export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  #native: NativePeerConnection;
  #connectionState: PeerConnectionState = 'new';
  #signalingState: SignalingState = 'stable';
  #localDescription: SessionDescription | null = null;
  #remoteDescription: SessionDescription | null = null;
  // Descriptions being applied by the native side: committed when their signaling state
  // change arrives, which comes before the call's promise settles.
  #applyingLocal: SessionDescription | undefined;
  #applyingRemote: SessionDescription | undefined;
  #closed = false;
  #failureReason: KvsError | null = null;
  #transceivers: Transceiver[] = [];
  #channels = new Map<number, DataChannel>();
  /** The last statistics, taken as the connection closed: what getStats() answers after. */
  #finalStats: StatsReport | null = null;
  #statsCache: { at: number; report: StatsReport } | undefined;
  #statsInFlight: Promise<StatsReport> | undefined;
  #finalTimeline: NativeTimeline | null = null;

  /**
   * Makes a connection, resolving TURN server names first (the constructor takes numeric
   * addresses and `localhost` only, as it cannot wait for DNS).
   */
  static async create(config: PeerConnectionConfig = {}): Promise<PeerConnection> {
    // Validated before any name is looked up: a bad configuration costs no DNS query.
    toNativeConfig(config);
    return new PeerConnection(config, await resolveHosts(config));
  }

  constructor(config: PeerConnectionConfig = {}, resolvedHosts?: ReadonlyMap<string, string>) {
    super();
    const nativeConfig = {
      ...toNativeConfig(config),
      ...nativeServers(config, resolvedHosts, 'use await PeerConnection.create(config)'),
    };
    const Native = native().PeerConnection;
    try {
      this.#native = new Native(nativeConfig, (...event) => this.#onNativeEvent(event));
    } catch (err) {
      throw fromNative('PeerConnection', err);
    }
  }

  #onNativeEvent(event: NativePeerConnectionEvent): void {
    // A report taken before a change of state must not be answered after it (the cache is for
    // fast pollers, not for reading an old state: seen under qemu, 'new' after 'connected').
    if (STATE_EVENTS.has(event[0])) this.#statsCache = undefined;
    {
      switch (event[0]) {
        case 'icecandidate': {
          const [, candidate, mid] = event;
          this.emit(
            'icecandidate',
            candidate === null ? null : { candidate, sdpMid: mid, sdpMLineIndex: 0 },
          );
          break;
        }
        case 'connectionstatechange':
          this.#connectionState = event[1] as PeerConnectionState;
          if (this.#connectionState === 'failed') this.#closeDataChannels();
          this.emit('connectionstatechange', this.#connectionState);
          break;
        case 'signalingstatechange': {
          const previous = this.#signalingState;
          this.#signalingState = event[1] as SignalingState;
          this.#commitApplied(previous, this.#signalingState);
          this.emit('signalingstatechange', this.#signalingState);
          break;
        }
        case 'candidateskipped':
          this.emit('candidateskipped', event[1], event[2]);
          break;
        case 'relayfailed':
          this.emit('relayfailed', {
            url: event[1],
            error: fromNative('TURN allocation', event[2]),
            inUse: event[3],
          });
          break;
        case 'icecandidateerror':
          this.emit('icecandidateerror', {
            url: event[1],
            error: fromNative('TURN allocation', event[2]),
          });
          break;
        case 'track': {
          const [, index, kind, mid] = event;
          const t = this.#transceiverAt({
            index,
            kind,
            mid,
            direction: 'recvonly',
            currentDirection: null,
            codec: null,
            ssrc: 0,
            trackId: '',
          });
          this.emit('track', t);
          break;
        }
        case 'frame': {
          const [, index, frameData, presentationTs, flags, frameIndex, rtpTimestamp] = event;
          const t = this.#transceivers[index];
          t?.emit('frame', {
            frameData,
            presentationTs,
            decodingTs: presentationTs,
            flags,
            index: frameIndex,
            trackId: t.trackId,
            rtpTimestamp,
          });
          break;
        }
        case 'keyframerequest':
          this.#transceivers[event[1]]?.emit('keyframerequest', {
            reason: event[2] as KeyFrameReason,
          });
          break;
        case 'bandwidth': {
          const [, index, bitrate, source] = event;
          const e = { bitrate, source: source as 'remb' | 'transport-cc' };
          if (index >= 0) this.#transceivers[index]?.emit('bandwidth', e);
          else for (const t of this.#transceivers) t.emit('bandwidth', e);
          break;
        }
        case 'datachannel': {
          const [, handle, info] = event;
          const channel = new DataChannel(this.#native, handle, info.label, {
            protocol: info.protocol,
            ordered: info.ordered,
            negotiated: info.negotiated,
            id: info.id,
            ...(info.maxRetransmits !== null ? { maxRetransmits: info.maxRetransmits } : {}),
            ...(info.maxPacketLifeTime !== null
              ? { maxPacketLifeTime: info.maxPacketLifeTime }
              : {}),
          });
          channel.announcedOpen(info.maxMessageSize);
          this.#channels.set(handle, channel);
          this.emit('datachannel', channel);
          break;
        }
        case 'dcopen':
          this.#channels.get(event[1])?.onNative('open', event[2], event[3]);
          break;
        case 'dcmessage':
          this.#channels.get(event[1])?.onNative('message', event[2]);
          break;
        case 'dcbufferedamountlow':
          this.#channels.get(event[1])?.onNative('bufferedamountlow');
          break;
        case 'dcclosing':
          this.#channels.get(event[1])?.onNative('closing');
          break;
        case 'dcclose': {
          const channel = this.#channels.get(event[1]);
          this.#channels.delete(event[1]);
          channel?.onNative('close');
          break;
        }
        case 'dcerror':
          this.#channels.get(event[1])?.onNative('error', event[2]);
          break;
        case 'frameerror': {
          const t = this.#transceivers[event[1]];
          const err = KvsError.fromNative(event[2], 'writeFrame');
          if (t && t.listenerCount('error') > 0) t.emit('error', err);
          break;
        }
        case 'error': {
          const reason = fromNative('PeerConnection', event[1]);
          this.#failureReason = reason;
          if (this.listenerCount('error') > 0) this.emit('error', reason);
          break;
        }
      }
    }
  }

  /**
   * A failed connection carries nothing more, so its data channels close with it (W3C: the
   * channels of a closed SCTP transport close), before the app hears `failed`. Left to
   * itself the SCTP association would give up only after its own retransmission limit, a
   * minute or more later. The native channels and their queues are released by close().
   */
  #closeDataChannels(): void {
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    for (const channel of channels) channel.onNative('close');
  }

  #transceiverAt(info: NativeTransceiverInfo): Transceiver {
    let t = this.#transceivers[info.index];
    if (t) t.update(info);
    else {
      t = new Transceiver(this.#native, info, this);
      this.#transceivers[info.index] = t;
    }
    return t;
  }

  #updateTransceivers(list: NativeTransceiverInfo[]): void {
    for (const info of list) this.#transceiverAt(info);
  }

  /** The transceivers, in the order they were made. */
  getTransceivers(): Transceiver[] {
    return this.#transceivers.filter((t) => t !== undefined);
  }

  /** Why the connection failed, or null while it has not. */
  get failureReason(): KvsError | null {
    return this.#failureReason;
  }

  /**
   * W3C order: a signalingstatechange handler already sees the description that caused the
   * change (a signaling layer holding early candidates flushes them from there).
   */
  #commitApplied(previous: SignalingState, next: SignalingState): void {
    const reflects = (d: SessionDescription | undefined, offerState: SignalingState) =>
      d !== undefined &&
      ((d.type === 'offer' && next === offerState) ||
        (d.type === 'answer' && next === 'stable' && previous !== 'stable'));
    if (reflects(this.#applyingLocal, 'have-local-offer')) {
      this.#localDescription = this.#applyingLocal ?? null;
    }
    if (reflects(this.#applyingRemote, 'have-remote-offer')) {
      this.#remoteDescription = this.#applyingRemote ?? null;
    }
  }

  get connectionState(): PeerConnectionState {
    return this.#connectionState;
  }
  get signalingState(): SignalingState {
    return this.#signalingState;
  }
  get localDescription(): SessionDescription | null {
    return this.#localDescription;
  }
  get remoteDescription(): SessionDescription | null {
    return this.#remoteDescription;
  }

  /**
   * Adds an audio or video m-line and resolves to its Transceiver (writeFrame, frame events).
   * Answering an offer (have-remote-offer), it takes over the offer's m-line of that kind
   * that no transceiver of the app's holds yet, as W3C's addTrack does.
   */
  async addTransceiver(init: TransceiverInit | MediaKind): Promise<Transceiver> {
    this.#assertOpen('addTransceiver');
    const t: TransceiverInit = typeof init === 'string' ? { kind: init } : init;
    if (typeof t !== 'object' || t === null) {
      throw invalid(
        'addTransceiver: init must be "audio", "video" or { kind, codecs?, direction? }',
      );
    }
    if (t.kind !== 'audio' && t.kind !== 'video') {
      throw invalid(
        `addTransceiver: kind must be "audio" or "video", got ${JSON.stringify(t.kind)}`,
      );
    }
    const allowed = t.kind === 'audio' ? AUDIO_CODECS : VIDEO_CODECS;
    const codecs: unknown = t.codecs;
    if (codecs !== undefined && !Array.isArray(codecs)) {
      throw invalid(`addTransceiver: codecs must be an array, got ${describeValue(codecs)}`);
    }
    for (const codec of t.codecs ?? []) {
      if (!allowed.includes(codec)) {
        throw invalid(
          `addTransceiver: codecs has ${JSON.stringify(codec)}; ${t.kind} codecs are ${allowed.join(', ')}`,
        );
      }
    }
    if (t.direction !== undefined && !DIRECTIONS.includes(t.direction)) {
      throw invalid(`addTransceiver: direction must be one of ${DIRECTIONS.join(', ')}`);
    }
    checkMediaId(t.trackId, 'addTransceiver: trackId');
    checkMediaId(t.streamId, 'addTransceiver: streamId');
    const added = await this.#native
      .addTransceiver({
        kind: t.kind,
        ...(t.codecs ? { codecs: [...t.codecs] } : {}),
        ...(t.direction ? { direction: t.direction } : {}),
        ...(t.trackId !== undefined ? { trackId: t.trackId } : {}),
        ...(t.streamId !== undefined ? { streamId: t.streamId } : {}),
      })
      .catch(rethrow('addTransceiver'));
    this.#updateTransceivers(added.transceivers);
    const made = this.#transceivers[added.index];
    if (!made) throw new KvsError('ERR_INVALID_STATE', 'addTransceiver: the transceiver vanished');
    return made;
  }

  /**
   * A data channel, at once (W3C): it opens when the connection is up, or, made before the
   * first offer, it puts an application m-line in it.
   */
  createDataChannel(label: string, init: DataChannelInit = {}): DataChannel {
    if (this.#closed)
      throw new KvsError('ERR_INVALID_STATE', 'createDataChannel: the peer connection is closed');
    checkDataChannel(label, init);
    const handle = this.#native.createDataChannel(label, {
      ...(init.protocol !== undefined ? { protocol: init.protocol } : {}),
      ordered: init.ordered ?? true,
      ...(init.maxRetransmits !== undefined ? { maxRetransmits: init.maxRetransmits } : {}),
      ...(init.maxPacketLifeTime !== undefined
        ? { maxPacketLifeTime: init.maxPacketLifeTime }
        : {}),
      negotiated: init.negotiated ?? false,
      ...(init.id !== undefined ? { id: init.id } : {}),
    });
    const channel = new DataChannel(this.#native, handle, label, init);
    this.#channels.set(handle, channel);
    return channel;
  }

  /**
   * Puts an application m-line (SCTP over DTLS) in the next offer. Data channels themselves
   * are a later milestone.
   */
  async enableDataChannels(): Promise<void> {
    this.#assertOpen('enableDataChannels');
    return this.#native.enableDataChannels().catch(rethrow('enableDataChannels'));
  }

  async createOffer(): Promise<SessionDescription> {
    this.#assertOpen('createOffer');
    const sdp = await this.#native.createOffer().catch(rethrow('createOffer'));
    return { type: 'offer', sdp };
  }

  async createAnswer(): Promise<SessionDescription> {
    this.#assertOpen('createAnswer');
    const sdp = await this.#native.createAnswer().catch(rethrow('createAnswer'));
    return { type: 'answer', sdp };
  }

  async setLocalDescription(description: SessionDescription): Promise<void> {
    this.#assertOpen('setLocalDescription');
    checkDescription(description, 'setLocalDescription');
    const applying = { type: description.type, sdp: description.sdp };
    this.#applyingLocal = applying;
    try {
      const list = await this.#native
        .setLocalDescription(description.type, description.sdp)
        .catch(rethrow('setLocalDescription'));
      this.#updateTransceivers(list);
    } finally {
      if (this.#applyingLocal === applying) this.#applyingLocal = undefined;
    }
    this.#localDescription = applying;
  }

  async setRemoteDescription(description: SessionDescription): Promise<void> {
    this.#assertOpen('setRemoteDescription');
    checkDescription(description, 'setRemoteDescription');
    const applying = { type: description.type, sdp: description.sdp };
    this.#applyingRemote = applying;
    try {
      const list = await this.#native
        .setRemoteDescription(description.type, description.sdp)
        .catch(rethrow('setRemoteDescription'));
      this.#updateTransceivers(list);
    } finally {
      if (this.#applyingRemote === applying) this.#applyingRemote = undefined;
    }
    this.#remoteDescription = applying;
  }

  /**
   * Adds a remote candidate; `null` or an empty candidate marks the end of candidates.
   * Well-formed candidates that cannot be used here are skipped and reported through the
   * `candidateskipped` event, as browsers do silently.
   */
  async addIceCandidate(candidate: IceCandidate | string | null): Promise<void> {
    this.#assertOpen('addIceCandidate');
    if (candidate === undefined) {
      throw invalid('addIceCandidate: pass a candidate, or null for the end of candidates');
    }
    const text =
      candidate === null
        ? ''
        : typeof candidate === 'string'
          ? candidate
          : typeof candidate === 'object'
            ? candidate.candidate
            : undefined;
    if (typeof text !== 'string') {
      throw invalid('addIceCandidate: candidate must be a string or { candidate: string }');
    }
    const skipped = await this.#native.addIceCandidate(text).catch(rethrow('addIceCandidate'));
    if (skipped !== undefined) this.emit('candidateskipped', text, skipped);
  }

  /** New ICE credentials: the next offer restarts ICE; the current path carries data meanwhile. */
  /**
   * W3C `setConfiguration`, for `iceServers` only: the STUN and TURN servers of the next
   * gathering, which an ICE restart makes (restartIce, then a new offer; or a remote restart's
   * answer). The candidates gathered so far keep their servers. Fresh TURN credentials need
   * this: RFC 8656 ties an allocation to its username, so new credentials mean new
   * allocations. Checked as the constructor checks `iceServers` (ERR_INVALID_ARGUMENT naming
   * the field); names are resolved first (DNS), so it is async.
   */
  async setConfiguration(config: Pick<PeerConnectionConfig, 'iceServers'>): Promise<void> {
    this.#assertOpen('setConfiguration');
    const raw: unknown = config;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw invalid(
        `PeerConnection.setConfiguration: configuration must be an object { iceServers }, got ${describeValue(raw)}`,
      );
    }
    for (const key of Object.keys(config)) {
      if (key !== 'iceServers') {
        throw invalid(
          `PeerConnection.setConfiguration: ${key} cannot change; only iceServers can (a new PeerConnection for the rest)`,
        );
      }
    }
    const servers = { iceServers: checkIceServers(config.iceServers) };
    const resolved = await resolveHosts(servers);
    this.#assertOpen('setConfiguration');
    return this.#native
      .setConfiguration(nativeServers(servers, resolved, 'ICE server names are resolved first'))
      .catch(rethrow('setConfiguration'));
  }

  async restartIce(): Promise<void> {
    this.#assertOpen('restartIce');
    return this.#native.restartIce().catch(rethrow('restartIce'));
  }

  // W3C: once close() is called, every other call is refused, even while the native side
  // is still closing (close() reads the set-up timeline first).
  #assertOpen(call: string): void {
    if (this.#closed)
      throw new KvsError('ERR_INVALID_STATE', `${call}: the peer connection is closed`);
  }

  /** @internal the app changed what a report holds (updateEncoderStats): collect anew. */
  statsChanged(): void {
    this.#statsCache = undefined;
  }

  /**
   * W3C stats, keyed by id like RTCStatsReport. After close() it answers the figures as they
   * stood when the connection closed (with the states then reading "closed"), never an error.
   */
  async getStats(): Promise<StatsReport> {
    if (this.#closed) return new Map(this.#finalStats ?? []);
    // As Chromium does, a report younger than STATS_CACHE_MS is answered again (its objects'
    // timestamps say when it was taken): an app polling fast costs one collection per period.
    const now = performance.now();
    if (this.#statsCache && now - this.#statsCache.at < STATS_CACHE_MS) {
      return new Map(this.#statsCache.report);
    }
    if (this.#statsInFlight) return new Map(await this.#statsInFlight);
    try {
      this.#statsInFlight = this.#native.getStats().then((list) => this.#report(list));
      const report = await this.#statsInFlight;
      this.#statsCache = { at: performance.now(), report };
      return new Map(report);
    } catch (err) {
      // Closed while the call was in flight: the snapshot is (or will be) there.
      if (this.#closed) return new Map(this.#finalStats ?? []);
      throw fromNative('getStats', err);
    } finally {
      this.#statsInFlight = undefined;
    }
  }

  /** The native objects as typed stats, with what the app told through updateEncoderStats. */
  #report(list: NativeStat[]): StatsReport {
    const report: StatsReport = new Map();
    for (const raw of list) {
      let s = raw as unknown as Stats;
      if (s.type === 'outbound-rtp') {
        const mid = s.mid;
        const encoder = this.#transceivers.find((t) => t.mid === mid)?.encoderStats;
        if (encoder) {
          // The encoder's own figures; a frame size the stream measured from the SPS wins.
          s = {
            ...s,
            ...(encoder.targetBitrate !== undefined
              ? { targetBitrate: encoder.targetBitrate }
              : {}),
            ...(encoder.encoderImplementation !== undefined
              ? { encoderImplementation: encoder.encoderImplementation }
              : {}),
            ...(encoder.frameBitDepth !== undefined
              ? { frameBitDepth: encoder.frameBitDepth }
              : {}),
            ...(encoder.voiceActivityFlag !== undefined
              ? { voiceActivityFlag: encoder.voiceActivityFlag }
              : {}),
            ...(s.frameWidth === undefined && encoder.frameWidth !== undefined
              ? { frameWidth: encoder.frameWidth }
              : {}),
            ...(s.frameHeight === undefined && encoder.frameHeight !== undefined
              ? { frameHeight: encoder.frameHeight }
              : {}),
          };
        }
      }
      report.set(s.id, s);
    }
    return report;
  }

  /** @internal the set-up timeline (peerConnectionGetMetrics, iceAgentGetMetrics). */
  async timeline(): Promise<NativeTimeline> {
    if (this.#closed && this.#finalTimeline) return this.#finalTimeline;
    return this.#native.getTimeline().catch(rethrow('getTimeline'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // W3C: close() ends every data channel at once, so no send or bufferedAmount after this
    // call sees a channel that looks open on a connection that is going away.
    this.#closeDataChannels();
    this.#finalTimeline = await this.#native.getTimeline().catch(() => null);
    const last = await this.#native.close().catch(rethrow('close'));
    this.#finalStats = this.#report(last);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Native events after which a cached stats report is out of date. */
const STATE_EVENTS: ReadonlySet<string> = new Set([
  'connectionstatechange',
  'signalingstatechange',
  'icecandidate',
  'track',
  'datachannel',
  'dcopen',
  'dcclose',
]);

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * A track or stream id goes into the SDP's a=msid line: 1-255 visible ASCII characters (the C
 * SDK's MAX_MEDIA_STREAM_ID_LEN), so that no space or line break can end the line early.
 */
export function checkMediaId(value: unknown, what: string): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw invalid(
      `${what} must be 1-255 characters of visible ASCII (no spaces), got ${describeValue(value)}`,
    );
  }
}

function checkDataChannel(label: string, init: DataChannelInit): void {
  const bad = (m: string) => new KvsError('ERR_INVALID_ARGUMENT', `createDataChannel: ${m}`);
  if (typeof label !== 'string') throw bad('label must be a string');
  // RFC 8832 §5.1: label and protocol lengths are 16-bit fields.
  if (utf8Length(label) > 65535)
    throw bad(`label has ${utf8Length(label)} bytes; the limit is 65535`);
  const raw: unknown = init;
  if (typeof raw !== 'object' || raw === null) throw bad('init must be an object');
  if (init.protocol !== undefined) {
    if (typeof init.protocol !== 'string') throw bad('protocol must be a string');
    if (utf8Length(init.protocol) > 65535)
      throw bad(`protocol has ${utf8Length(init.protocol)} bytes; the limit is 65535`);
  }
  for (const name of ['ordered', 'negotiated'] as const) {
    const v: unknown = init[name];
    if (v !== undefined && typeof v !== 'boolean')
      throw bad(`${name} must be a boolean, got ${describeValue(v)}`);
  }
  if (init.maxRetransmits !== undefined && init.maxPacketLifeTime !== undefined) {
    throw bad('maxRetransmits and maxPacketLifeTime cannot both be set');
  }
  for (const [name, v] of [
    ['maxRetransmits', init.maxRetransmits],
    ['maxPacketLifeTime', init.maxPacketLifeTime],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535)) {
      throw bad(`${name} must be an integer 0..65535, got ${String(v)}`);
    }
  }
  if (init.negotiated && init.id === undefined) throw bad('a negotiated channel needs an id');
  if (init.id !== undefined && (!Number.isInteger(init.id) || init.id < 0 || init.id > 65534)) {
    throw bad(`id must be an integer 0..65534, got ${String(init.id)}`);
  }
}

/** How long a stats report is answered again (Chromium's figure). */
export const STATS_CACHE_MS = 50;

function checkDescription(d: SessionDescription, what: string): void {
  if (typeof d !== 'object' || d === null) throw invalid(`${what}: description must be an object`);
  if (d.type !== 'offer' && d.type !== 'answer') {
    throw invalid(`${what}: type must be "offer" or "answer", got ${JSON.stringify(d.type)}`);
  }
  if (typeof d.sdp !== 'string' || d.sdp.length === 0)
    throw invalid(`${what}: sdp must be a non-empty string`);
  // The C SDK's limit (c-sdk.md §3).
  if (d.sdp.length > 25_000) {
    throw invalid(`${what}: sdp has ${d.sdp.length} characters; the limit is 25000`);
  }
}
