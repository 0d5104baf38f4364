import { EventEmitter } from 'node:events';
import { checkFunction, checkInstance, describeValue } from '../args.js';
import { KvsError } from '../errors.js';
import { checkFrame, type Frame, type ReceivedFrame } from '../media/frame.js';
import { native, type NativePeerConnection, type NativeTransceiverInfo } from '../native.js';
import { transceiverStats, type EncoderStats, type StatsReport } from './stats.js';

export type MediaKind = 'audio' | 'video';
export type Codec = 'H264' | 'H265' | 'VP8' | 'opus' | 'PCMU' | 'PCMA';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** Why a key frame is wanted (PLI or FIR from the peer, or the stream's start). */
export type KeyFrameReason = 'first-frame' | 'pli' | 'fir' | 'send-failure' | 'requested';

export interface TransceiverEvents {
  /** A whole frame from the peer (transceiverOnFrame). */
  frame: [ReceivedFrame];
  /** The peer needs a key frame: encode one now (transceiverOnPictureLoss). */
  keyframerequest: [{ reason: KeyFrameReason }];
  /** A bandwidth estimate (transceiverOnBandwidthEstimation): REMB, or transport-cc. */
  bandwidth: [{ bitrate: number; source: 'remb' | 'transport-cc' }];
  /** A frame the network thread refused (malformed for the codec, too large for audio). */
  error: [KvsError];
}

/**
 * One audio or video m-line: what the app sends on it (`writeFrame`) and what arrives
 * (`frame`). Made by `pc.addTransceiver()`, or by a remote offer (the connection's `track`
 * event).
 */
export class Transceiver extends EventEmitter<TransceiverEvents> {
  readonly index: number;
  readonly kind: MediaKind;
  #native: NativePeerConnection;
  #info: NativeTransceiverInfo;
  #pc: { getStats(): Promise<StatsReport>; statsChanged(): void } | undefined;

  /** @internal made by PeerConnection */
  constructor(
    native: NativePeerConnection,
    info: NativeTransceiverInfo,
    pc?: { getStats(): Promise<StatsReport>; statsChanged(): void },
  ) {
    super();
    this.#native = native;
    this.#pc = pc;
    this.#info = info;
    this.index = info.index;
    this.kind = info.kind;
  }

  /** @internal */
  update(info: NativeTransceiverInfo): void {
    this.#info = info;
  }

  get mid(): string | null {
    return this.#info.mid;
  }
  /** What the app asked for. */
  get direction(): Direction {
    return this.#info.direction;
  }
  /** What negotiation agreed, from our side; null before. */
  get currentDirection(): Direction | null {
    return this.#info.currentDirection;
  }
  /** The codec this transceiver sends (or would), once negotiated. */
  get codec(): Codec | null {
    return this.#info.codec;
  }
  get ssrc(): number {
    return this.#info.ssrc;
  }
  get trackId(): string {
    return this.#info.trackId;
  }

  /**
   * Sends one encoded frame (the C SDK's writeFrame). The bytes are copied once, so the
   * buffer may be reused at once. Returns true when the frame was handed to the network
   * thread; false when it was discarded at once (the connection is closed, or the network
   * thread is more than 64 MiB behind). Frames written before the connection is ready, or
   * while a key frame is awaited, are discarded there and counted in the stats; a
   * `keyframerequest` says when to send a key frame. Never throws for a network condition.
   */
  writeFrame(frame: Frame): boolean {
    const f = checkFrame(frame);
    return this.#native.writeFrame(
      this.index,
      f.data,
      f.presentationTs,
      f.decodingTs,
      f.duration,
      f.flags,
      f.index,
    );
  }

  /** @internal what updateEncoderStats told, merged into outbound-rtp */
  encoderStats: EncoderStats | undefined;

  /**
   * The C SDK's updateEncoderStats: figures only the app's encoder knows (target bitrate,
   * implementation, frame size and bit depth, voice activity), reported in outbound-rtp.
   */
  updateEncoderStats(stats: EncoderStats): void {
    const raw: unknown = stats;
    if (typeof raw !== 'object' || raw === null) {
      throw new KvsError('ERR_INVALID_ARGUMENT', 'updateEncoderStats: stats must be an object');
    }
    const impl: unknown = stats.encoderImplementation;
    if (impl !== undefined && typeof impl !== 'string') {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `updateEncoderStats: encoderImplementation must be a string, got ${describeValue(impl)}`,
      );
    }
    const vad: unknown = stats.voiceActivityFlag;
    if (vad !== undefined && typeof vad !== 'boolean') {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `updateEncoderStats: voiceActivityFlag must be a boolean, got ${describeValue(vad)}`,
      );
    }
    for (const key of ['targetBitrate', 'frameWidth', 'frameHeight', 'frameBitDepth'] as const) {
      const v = stats[key];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
        throw new KvsError(
          'ERR_INVALID_ARGUMENT',
          `updateEncoderStats: ${key} must be a non-negative number`,
        );
      }
    }
    this.encoderStats = { ...this.encoderStats, ...stats };
    // The next report must show them, even within the stats cache's period.
    this.#pc?.statsChanged();
  }

  /** This transceiver's stats: its RTP streams, their codecs, its media source, the transport. */
  async getStats(): Promise<StatsReport> {
    if (!this.#pc) return new Map();
    return transceiverStats(await this.#pc.getStats(), this);
  }

  /** @internal [connection id, transceiver index] for writeFrameToMany */
  get nativeTarget(): [number, number] {
    return [this.#native.nativeId(), this.index];
  }

  /** Bytes handed to writeFrame that the network thread has not taken yet. */
  get bufferedAmount(): number {
    return this.#native.bufferedAmount(this.index);
  }

  /** Asks the peer for a key frame (PLI, or FIR when only that was negotiated). */
  async requestKeyFrame(): Promise<void> {
    // A closed connection refuses first (ERR_INVALID_STATE from the native side).
    await this.#native.requestKeyFrame(this.index).catch((err: unknown) => {
      throw KvsError.fromNative(err, 'requestKeyFrame');
    });
    // Before negotiation there is no peer to ask: say so rather than send nothing.
    if (this.#info.mid === null)
      throw new KvsError(
        'ERR_INVALID_STATE',
        'requestKeyFrame: the transceiver is not negotiated yet (no mid): nothing was asked',
      );
  }

  /**
   * The C SDK's configureTransceiverRollingBuffer: how much sent media is kept for
   * retransmission, as seconds (0.1-10) at a bitrate (bps). Applies from the next negotiation.
   */
  async configureRollingBuffer(seconds: number, bitrateBps: number): Promise<void> {
    if (typeof seconds !== 'number' || !(seconds >= 0.1 && seconds <= 10)) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `configureRollingBuffer: seconds must be 0.1..10, got ${seconds}`,
      );
    }
    if (!Number.isInteger(bitrateBps) || bitrateBps < 1000 || bitrateBps > 1e9) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `configureRollingBuffer: bitrateBps must be an integer 1000..1e9, got ${bitrateBps}`,
      );
    }
    await this.#native
      .configureRollingBuffer(this.index, seconds, bitrateBps)
      .catch((err: unknown) => {
        throw KvsError.fromNative(err, 'configureRollingBuffer');
      });
  }
}

/**
 * Sends one frame on many transceivers (one per viewer, say) with a single copy of its bytes:
 * every viewer's stream packetizes the same buffer, with its own sequence numbers and SRTP.
 * Returns how many transceivers took it (see writeFrame for when one does not).
 */
export function writeFrameToMany(transceivers: readonly Transceiver[], frame: Frame): number {
  const list: unknown = transceivers;
  if (!Array.isArray(list)) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `writeFrameToMany: transceivers must be an array of Transceiver, got ${describeValue(list)}`,
    );
  }
  list.forEach((t, i) =>
    checkInstance(t, Transceiver, `writeFrameToMany: transceivers[${i}]`, 'Transceiver'),
  );
  // Checked even with no transceiver, so that a bad frame is found on the first call.
  const f = checkFrame(frame);
  if (transceivers.length === 0) return 0;
  const targets = transceivers.flatMap((t) => t.nativeTarget);
  return native().PeerConnection.writeFrameToMany(
    targets,
    f.data,
    f.presentationTs,
    f.decodingTs,
    f.duration,
    f.flags,
    f.index,
  );
}

// The C SDK's free functions, for those who know them.

/** The transceiver and callback of a free function, checked as JavaScript may pass anything. */
function target(call: string, transceiver: unknown, callback?: unknown): Transceiver {
  const t = checkInstance(transceiver, Transceiver, `${call}: transceiver`, 'Transceiver');
  if (arguments.length > 2) checkFunction(callback, `${call}: callback`);
  return t;
}

export function writeFrame(transceiver: Transceiver, frame: Frame): boolean {
  return target('writeFrame', transceiver).writeFrame(frame);
}
export function transceiverOnFrame(
  transceiver: Transceiver,
  callback: (frame: ReceivedFrame) => void,
): void {
  target('transceiverOnFrame', transceiver, callback).on('frame', callback);
}
export function transceiverOnPictureLoss(transceiver: Transceiver, callback: () => void): void {
  target('transceiverOnPictureLoss', transceiver, callback).on('keyframerequest', () => callback());
}
export function transceiverOnBandwidthEstimation(
  transceiver: Transceiver,
  callback: (bitrate: number) => void,
): void {
  target('transceiverOnBandwidthEstimation', transceiver, callback).on('bandwidth', (e) =>
    callback(e.bitrate),
  );
}
export function updateEncoderStats(transceiver: Transceiver, stats: EncoderStats): void {
  target('updateEncoderStats', transceiver).updateEncoderStats(stats);
}
