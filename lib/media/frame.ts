import { KvsError } from '../errors.js';

/** The C SDK's FRAME_FLAGS. */
export const FrameFlags = Object.freeze({
  KEY_FRAME: 1,
  DISCARDABLE: 2,
  INVISIBLE: 4,
  END_OF_FRAGMENT: 8,
} as const);

/**
 * An encoded frame to send, with the C SDK's fields (c-sdk.md §2). Times are in 100 ns
 * units, as in the C SDK. H.264/H.265: one access unit, Annex-B or length-prefixed (AVCC/HVCC
 * with 4-byte lengths; told apart automatically). VP8: one frame. Opus: one packet. G.711: the
 * samples.
 */
export interface Frame {
  frameData: Buffer | Uint8Array;
  /** 100 ns units; the RTP timestamp comes from it. Default: a monotonic clock at the call. */
  presentationTs?: number | bigint;
  decodingTs?: number | bigint;
  duration?: number | bigint;
  /** FrameFlags; KEY_FRAME is advisory (the bitstream is read for H.264, H.265 and VP8). */
  flags?: number;
  index?: number;
  trackId?: string;
}

/** A whole frame received: Annex-B for H.264/H.265, the frame for VP8, the packet for audio. */
export interface ReceivedFrame {
  frameData: Buffer;
  /** 100 ns units since the stream's first frame (unwrapped: it keeps rising). */
  presentationTs: number;
  decodingTs: number;
  flags: number;
  index: number;
  trackId: string;
  /** The RTP timestamp the frame carried. */
  rtpTimestamp: number;
}

/** Monotonic 100 ns units, for frames written without a presentationTs. */
export function nowIn100ns(): number {
  return Number(process.hrtime.bigint() / 100n);
}

function ticks(value: number | bigint | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0 || (typeof value === 'bigint' && BigInt(n) !== value)) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `writeFrame: ${field} must be a non-negative integer of 100 ns units up to 2^53 - 1, got ${String(value)}`,
    );
  }
  return n;
}

/** A frame checked and turned into what the native writeFrame takes. */
export interface CheckedFrame {
  data: Uint8Array;
  presentationTs: number;
  decodingTs: number;
  duration: number;
  flags: number;
  index: number;
}

export function checkFrame(frame: Frame): CheckedFrame {
  const raw: unknown = frame; // from JavaScript callers, anything
  if (typeof raw !== 'object' || raw === null) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      'writeFrame: frame must be an object { frameData, ... }',
    );
  }
  const data = frame.frameData;
  if (!(data instanceof Uint8Array)) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      'writeFrame: frameData must be a Buffer or Uint8Array',
    );
  }
  if (data.byteLength === 0)
    throw new KvsError('ERR_INVALID_ARGUMENT', 'writeFrame: frameData is empty');
  const flags = frame.flags ?? 0;
  if (!Number.isInteger(flags) || flags < 0 || flags > 15) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `writeFrame: flags must be FrameFlags (0..15), got ${flags}`,
    );
  }
  const index = frame.index ?? 0;
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new KvsError('ERR_INVALID_ARGUMENT', `writeFrame: index must be a uint32, got ${index}`);
  }
  const presentationTs = ticks(frame.presentationTs, 'presentationTs', nowIn100ns());
  return {
    data,
    presentationTs,
    decodingTs: ticks(frame.decodingTs, 'decodingTs', presentationTs),
    duration: ticks(frame.duration, 'duration', 0),
    flags,
    index,
  };
}
