import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { KvsError } from '../errors.js';
import { native, type NativePeerConnection, type NativeStat } from '../native.js';
import {
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

export type MediaKind = 'audio' | 'video';
export type Codec = 'H264' | 'H265' | 'VP8' | 'opus' | 'PCMU' | 'PCMA';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface TransceiverInit {
  kind: MediaKind;
  /** Preference order; the C SDK's defaults for the kind when absent. */
  codecs?: Codec[];
  direction?: Direction;
  trackId?: string;
  streamId?: string;
}

export type Stats = NativeStat;

export interface PeerConnectionEvents {
  /** A local candidate to signal; `null` when gathering is complete. */
  icecandidate: [IceCandidate | null];
  connectionstatechange: [PeerConnectionState];
  signalingstatechange: [SignalingState];
  /** A remote candidate that was well formed but not usable here (mDNS, TCP), and why. */
  candidateskipped: [string, string];
  error: [Error];
}

const AUDIO_CODECS: readonly Codec[] = ['opus', 'PCMU', 'PCMA'];
const VIDEO_CODECS: readonly Codec[] = ['H264', 'H265', 'VP8'];
const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function invalid(message: string): KvsError {
  return new KvsError('ERR_INVALID_ARGUMENT', message);
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
  #closed = false;

  /**
   * Makes a connection, resolving TURN server names first (the constructor takes numeric
   * addresses and `localhost` only, as it cannot wait for DNS).
   */
  static async create(config: PeerConnectionConfig = {}): Promise<PeerConnection> {
    const resolved = new Map<string, string>();
    for (const { host } of [...turnServersOf(config), ...stunServersOf(config)]) {
      if (isIP(host) || resolved.has(host)) continue;
      resolved.set(host, (await lookup(host)).address);
    }
    return new PeerConnection(config, resolved);
  }

  constructor(config: PeerConnectionConfig = {}, resolvedHosts?: ReadonlyMap<string, string>) {
    super();
    const nativeConfig = toNativeConfig(config);
    const resolve = (host: string): string => {
      const address = isIP(host)
        ? host
        : host === 'localhost'
          ? '127.0.0.1'
          : resolvedHosts?.get(host);
      if (address === undefined) {
        throw new KvsError(
          'ERR_INVALID_ARGUMENT',
          `PeerConnection: ICE server host ${host} needs DNS; use await PeerConnection.create(config)`,
        );
      }
      return address;
    };
    nativeConfig.turnServers = turnServersOf(config).map((t) => ({
      url: t.url,
      address: resolve(t.host),
      username: t.username,
      credential: t.credential,
    }));
    nativeConfig.stunServers = stunServersOf(config).map((s) => ({
      url: s.url,
      address: resolve(s.host),
      port: s.port,
    }));
    const Native = native().PeerConnection;
    this.#native = new Native(nativeConfig, (...event) => {
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
          this.emit('connectionstatechange', this.#connectionState);
          break;
        case 'signalingstatechange':
          this.#signalingState = event[1] as SignalingState;
          this.emit('signalingstatechange', this.#signalingState);
          break;
        case 'error':
          this.emit('error', event[1]);
          break;
      }
    });
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

  /** Adds a media line. Media flow (writeFrame) is a later milestone; this negotiates it. */
  async addTransceiver(init: TransceiverInit | MediaKind): Promise<number> {
    const t: TransceiverInit = typeof init === 'string' ? { kind: init } : init;
    if (t.kind !== 'audio' && t.kind !== 'video') {
      throw invalid(
        `addTransceiver: kind must be "audio" or "video", got ${JSON.stringify(t.kind)}`,
      );
    }
    const allowed = t.kind === 'audio' ? AUDIO_CODECS : VIDEO_CODECS;
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
    return this.#native
      .addTransceiver({
        kind: t.kind,
        ...(t.codecs ? { codecs: [...t.codecs] } : {}),
        ...(t.direction ? { direction: t.direction } : {}),
        ...(t.trackId !== undefined ? { trackId: t.trackId } : {}),
        ...(t.streamId !== undefined ? { streamId: t.streamId } : {}),
      })
      .catch(rethrow('addTransceiver'));
  }

  /**
   * Puts an application m-line (SCTP over DTLS) in the next offer. Data channels themselves
   * are a later milestone.
   */
  async enableDataChannels(): Promise<void> {
    return this.#native.enableDataChannels().catch(rethrow('enableDataChannels'));
  }

  async createOffer(): Promise<SessionDescription> {
    const sdp = await this.#native.createOffer().catch(rethrow('createOffer'));
    return { type: 'offer', sdp };
  }

  async createAnswer(): Promise<SessionDescription> {
    const sdp = await this.#native.createAnswer().catch(rethrow('createAnswer'));
    return { type: 'answer', sdp };
  }

  async setLocalDescription(description: SessionDescription): Promise<void> {
    checkDescription(description, 'setLocalDescription');
    await this.#native
      .setLocalDescription(description.type, description.sdp)
      .catch(rethrow('setLocalDescription'));
    this.#localDescription = { type: description.type, sdp: description.sdp };
  }

  async setRemoteDescription(description: SessionDescription): Promise<void> {
    checkDescription(description, 'setRemoteDescription');
    await this.#native
      .setRemoteDescription(description.type, description.sdp)
      .catch(rethrow('setRemoteDescription'));
    this.#remoteDescription = { type: description.type, sdp: description.sdp };
  }

  /**
   * Adds a remote candidate; `null` or an empty candidate marks the end of candidates.
   * Well-formed candidates that cannot be used here are skipped and reported through the
   * `candidateskipped` event, as browsers do silently.
   */
  async addIceCandidate(candidate: IceCandidate | string | null): Promise<void> {
    const text =
      candidate === null ? '' : typeof candidate === 'string' ? candidate : candidate.candidate;
    if (typeof text !== 'string') throw invalid('addIceCandidate: candidate must be a string');
    const skipped = await this.#native.addIceCandidate(text).catch(rethrow('addIceCandidate'));
    if (skipped !== undefined) this.emit('candidateskipped', text, skipped);
  }

  /** New ICE credentials: the next offer restarts ICE; the current path carries data meanwhile. */
  async restartIce(): Promise<void> {
    return this.#native.restartIce().catch(rethrow('restartIce'));
  }

  /** W3C stats (candidate pairs, candidates, transport), keyed by id like RTCStatsReport. */
  async getStats(): Promise<Map<string, Stats>> {
    const list = await this.#native.getStats().catch(rethrow('getStats'));
    return new Map(list.map((s) => [s.id, s]));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#native.close().catch(rethrow('close'));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

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
