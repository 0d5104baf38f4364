/**
 * A media source that plays stored frames in real time, looping: each track on its own
 * drift-free schedule (frame n is due at anchor + n x period, however late the timer fires),
 * with presentation timestamps that keep rising across loops. A key-frame request makes the
 * next video frame the next key frame of the clip, at once, as an encoder asked for an IDR
 * would; the schedule restarts from that moment.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { describeValue } from '../args.js';
import { KvsError } from '../errors.js';
import type { Codec, MediaKind } from '../peer/transceiver.js';
import { FrameFlags, type Frame } from './frame.js';
import { readFrameDir, SAMPLES_DIR, type StoredFrame } from './frame-files.js';

export interface LoopingTrackInit {
  /** A directory of frame files (one frame per file), or the frames themselves. */
  dir?: string;
  frames?: StoredFrame[];
  codec?: Codec;
  /** Frame period: 40 ms (25 fps) for video, 20 ms for audio by default. */
  frameDurationMs?: number;
}

export interface LoopingSourceOptions {
  video?: LoopingTrackInit | false;
  audio?: LoopingTrackInit | false;
  /**
   * Answer key-frame requests by jumping to the next key frame at once (default true). False
   * plays the clip as it is, so a viewer that joins mid-stream waits for the clip's next key
   * frame (every 25 frames in the samples).
   */
  answerKeyFrameRequests?: boolean;
  /** The clock, in ms (default performance.now); tests may drive it. */
  now?: () => number;
}

/** The package's sample clip: 640x480 H.264 at 25 fps (an IDR every 25) and 20 ms Opus. */
export function sampleTracks(): { video: LoopingTrackInit; audio: LoopingTrackInit } {
  return {
    video: { dir: path.join(SAMPLES_DIR, 'h264'), codec: 'H264', frameDurationMs: 40 },
    audio: { dir: path.join(SAMPLES_DIR, 'opus'), codec: 'opus', frameDurationMs: 20 },
  };
}

export interface LoopingSourceEvents {
  /** A frame is due: write it (Master.writeFrame(kind, frame)). */
  frame: [MediaKind, Frame];
}

export interface TrackCounters {
  codec: Codec;
  framesEmitted: number;
  keyFramesEmitted: number;
  bytesEmitted: number;
  loops: number;
}

/** 100 ns units per ms, the C SDK's frame time unit. */
const TICKS_PER_MS = 10_000;
/** A timer this late (a stopped process, a debugger) restarts the schedule instead of bursting. */
const MAX_CATCH_UP_MS = 1000;

class Track {
  readonly kind: MediaKind;
  readonly codec: Codec;
  readonly periodMs: number;
  readonly frames: StoredFrame[];
  counters: TrackCounters;
  #index = 0;
  #anchorMs = 0;
  #n = 0;
  #lastPts = -1;
  #timer: NodeJS.Timeout | undefined;

  constructor(kind: MediaKind, init: LoopingTrackInit) {
    this.kind = kind;
    let frames = init.frames;
    let codec = init.codec;
    if (!frames) {
      if (init.dir === undefined) {
        throw new KvsError(
          'ERR_INVALID_ARGUMENT',
          `LoopingMediaSource: ${kind} needs dir or frames`,
        );
      }
      const read = readFrameDir(init.dir, codec);
      frames = read.frames;
      codec = read.codec;
    }
    if (frames.length === 0) {
      throw new KvsError('ERR_MEDIA_SOURCE', `LoopingMediaSource: ${kind} has no frames`);
    }
    this.codec = codec ?? (kind === 'video' ? 'H264' : 'opus');
    const known: readonly Codec[] =
      kind === 'video' ? ['H264', 'H265', 'VP8'] : ['opus', 'PCMU', 'PCMA'];
    if (!known.includes(this.codec)) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `LoopingMediaSource: ${kind}.codec must be one of ${known.join(', ')}, got ${describeValue(this.codec)}`,
      );
    }
    this.frames = frames;
    this.periodMs = init.frameDurationMs ?? (kind === 'video' ? 40 : 20);
    if (!(this.periodMs > 0 && this.periodMs <= 10_000)) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `LoopingMediaSource: ${kind}.frameDurationMs must be in (0, 10000], got ${this.periodMs}`,
      );
    }
    this.counters = {
      codec: this.codec,
      framesEmitted: 0,
      keyFramesEmitted: 0,
      bytesEmitted: 0,
      loops: 0,
    };
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(nowMs: number, emit: (f: Frame) => void, clock: () => number): void {
    this.#anchorMs = nowMs;
    this.#n = 0;
    this.#schedule(emit, clock);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Jumps to the next key frame (the current one if it is one) and plays it now. */
  keyFrameNow(nowMs: number, emit: (f: Frame) => void, clock: () => number): void {
    const at = this.#nextKeyIndex();
    if (at !== this.#index) {
      if (at < this.#index) this.counters.loops++;
      this.#index = at;
    }
    this.stop();
    this.#anchorMs = nowMs;
    this.#n = 0;
    this.#schedule(emit, clock);
  }

  #nextKeyIndex(): number {
    for (let k = 0; k < this.frames.length; k++) {
      const i = (this.#index + k) % this.frames.length;
      if (this.frames[i]?.key) return i;
    }
    return this.#index;
  }

  /** Emits every frame that is due, then sleeps until the next one. */
  #schedule(emit: (f: Frame) => void, clock: () => number): void {
    const now = clock();
    let due = this.#anchorMs + this.#n * this.periodMs;
    if (now - due > MAX_CATCH_UP_MS) {
      // Far behind: start again from now rather than sending a second of frames at once.
      this.#anchorMs = now;
      this.#n = 0;
      due = now;
    }
    while (due <= now) {
      emit(this.#next(due));
      this.#n++;
      due = this.#anchorMs + this.#n * this.periodMs;
    }
    this.#timer = setTimeout(() => this.#schedule(emit, clock), Math.max(1, Math.ceil(due - now)));
  }

  #next(dueMs: number): Frame {
    const stored = this.frames[this.#index] as StoredFrame;
    this.#index++;
    if (this.#index >= this.frames.length) {
      this.#index = 0;
      this.counters.loops++;
    }
    // On the schedule's grid, so timer lateness never shows in the timestamps; strictly rising.
    let pts = Math.round(dueMs * TICKS_PER_MS);
    if (pts <= this.#lastPts) pts = this.#lastPts + 1;
    this.#lastPts = pts;
    this.counters.framesEmitted++;
    this.counters.bytesEmitted += stored.data.length;
    if (stored.key) this.counters.keyFramesEmitted++;
    return {
      frameData: stored.data,
      presentationTs: pts,
      decodingTs: pts,
      duration: Math.round(this.periodMs * TICKS_PER_MS),
      flags: stored.key && this.kind === 'video' ? FrameFlags.KEY_FRAME : 0,
      index: this.counters.framesEmitted - 1,
    };
  }
}

/**
 * Plays a video and an audio clip in real time, looping (the C SDK's master sample reads
 * `frame-%04d.h264` at 25 fps and `sample-%03d.opus` every 20 ms the same way).
 *
 * ```ts
 * const source = new LoopingMediaSource(sampleTracks());
 * source.on('frame', (kind, frame) => master.writeFrame(kind, frame));
 * master.on('keyframerequest', () => source.requestKeyFrame());
 * source.start();
 * ```
 */
export class LoopingMediaSource extends EventEmitter<LoopingSourceEvents> {
  readonly #tracks = new Map<MediaKind, Track>();
  readonly #answerKeyFrames: boolean;
  readonly #clock: () => number;
  #startedAt: number | undefined;
  #keyFramePending = false;

  constructor(options: LoopingSourceOptions = sampleTracks()) {
    super();
    const raw: unknown = options;
    if (typeof raw !== 'object' || raw === null)
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `LoopingMediaSource: options must be an object, got ${describeValue(raw)}`,
      );
    if (options.video) this.#tracks.set('video', new Track('video', options.video));
    if (options.audio) this.#tracks.set('audio', new Track('audio', options.audio));
    if (this.#tracks.size === 0) {
      throw new KvsError('ERR_INVALID_ARGUMENT', 'LoopingMediaSource: give video, audio or both');
    }
    this.#answerKeyFrames = options.answerKeyFrameRequests !== false;
    this.#clock = options.now ?? (() => performance.now());
  }

  /** The codec of each track. */
  codecOf(kind: MediaKind): Codec | undefined {
    const raw: unknown = kind;
    if (raw !== 'video' && raw !== 'audio')
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `LoopingMediaSource.codecOf: kind must be "audio" or "video", got ${describeValue(kind)}`,
      );
    return this.#tracks.get(kind)?.codec;
  }

  get kinds(): MediaKind[] {
    return [...this.#tracks.keys()];
  }

  get running(): boolean {
    return this.#startedAt !== undefined;
  }

  /** What each track has played. */
  counters(): Partial<Record<MediaKind, TrackCounters>> {
    const out: Partial<Record<MediaKind, TrackCounters>> = {};
    for (const [kind, t] of this.#tracks) out[kind] = { ...t.counters };
    return out;
  }

  start(): void {
    if (this.#startedAt !== undefined) return;
    const now = this.#clock();
    this.#startedAt = now;
    for (const [kind, t] of this.#tracks) {
      t.start(now, (f) => this.emit('frame', kind, f), this.#clock);
    }
  }

  stop(): void {
    for (const t of this.#tracks.values()) t.stop();
    this.#startedAt = undefined;
  }

  /**
   * A viewer needs a key frame: the next video frame is the clip's next key frame, played now.
   * Requests made in one turn of the event loop share one key frame. Ignored when the source
   * was made with `answerKeyFrameRequests: false`, or is not running.
   */
  requestKeyFrame(): void {
    const video = this.#tracks.get('video');
    if (!this.#answerKeyFrames || !video || this.#startedAt === undefined) return;
    if (this.#keyFramePending) return;
    this.#keyFramePending = true;
    setImmediate(() => {
      this.#keyFramePending = false;
      if (this.#startedAt === undefined || !video.running) return;
      video.keyFrameNow(this.#clock(), (f) => this.emit('frame', 'video', f), this.#clock);
    });
  }
}
