/**
 * Media for the commands: the source (--video/--audio directories, or the package's samples)
 * and the sink (--save), and the per-second figures of the status line.
 */
import path from 'node:path';
import type { ReceivedFrame } from '../media/frame.js';
import { FrameDirWriter } from '../media/frame-files.js';
import {
  LoopingMediaSource,
  sampleTracks,
  type LoopingTrackInit,
} from '../media/looping-source.js';
import type { Codec, MediaKind } from '../peer/transceiver.js';
import { bitrate, type LinkMetrics } from '../session/metrics.js';
import type { TrackSpec } from '../session/options.js';
import { fmtKbps, fmtMs, fmtPct } from './common.js';

export interface SourceChoice {
  /** --video <dir>, or the sample; false with --no-video. */
  video: string | false | undefined;
  audio: string | false | undefined;
  answerKeyFrameRequests?: boolean;
}

/** The looping source and the tracks it needs negotiated. */
export function makeSource(choice: SourceChoice): {
  source: LoopingMediaSource;
  tracks: TrackSpec[];
} {
  const samples = sampleTracks();
  const pick = (kind: MediaKind, dir: string | false | undefined): LoopingTrackInit | false => {
    if (dir === false) return false;
    if (dir === undefined) return kind === 'video' ? samples.video : samples.audio;
    return { dir: path.resolve(dir) };
  };
  const source = new LoopingMediaSource({
    video: pick('video', choice.video),
    audio: pick('audio', choice.audio),
    ...(choice.answerKeyFrameRequests === false ? { answerKeyFrameRequests: false } : {}),
  });
  const tracks: TrackSpec[] = [];
  for (const kind of ['video', 'audio'] as const) {
    const codec = source.codecOf(kind);
    if (codec) tracks.push({ kind, codec });
  }
  return { source, tracks };
}

/** The tracks to negotiate with nothing to send: H.264 and Opus. */
export const RECEIVE_TRACKS: TrackSpec[] = [
  { kind: 'video', codec: 'H264' },
  { kind: 'audio', codec: 'opus' },
];

/** Received frames written under `dir/<kind>/`, one file each. */
export class FrameSaver {
  readonly #dir: string;
  readonly #codecs: Partial<Record<MediaKind, Codec>>;
  readonly #writers = new Map<MediaKind, FrameDirWriter>();

  constructor(dir: string, codecs: Partial<Record<MediaKind, Codec>>) {
    this.#dir = dir;
    this.#codecs = codecs;
  }

  save(kind: MediaKind, frame: ReceivedFrame): void {
    let w = this.#writers.get(kind);
    if (!w) {
      w = new FrameDirWriter(
        path.join(this.#dir, kind),
        this.#codecs[kind] ?? (kind === 'video' ? 'H264' : 'opus'),
      );
      this.#writers.set(kind, w);
    }
    w.write(frame.frameData);
  }

  get counts(): Partial<Record<MediaKind, number>> {
    const out: Partial<Record<MediaKind, number>> = {};
    for (const [k, w] of this.#writers) out[k] = w.count;
    return out;
  }
}

/** Bitrates from two successive metrics of one link. */
export class RateMeter {
  #last: { at: number; sent: number; received: number } | undefined;
  sentBps: number | undefined;
  receivedBps: number | undefined;

  update(m: LinkMetrics | undefined, at = performance.now()): void {
    if (!m) return;
    const last = this.#last;
    if (last) {
      this.sentBps = bitrate(last.sent, m.bytesSent, at - last.at);
      this.receivedBps = bitrate(last.received, m.bytesReceived, at - last.at);
    }
    this.#last = { at, sent: m.bytesSent, received: m.bytesReceived };
  }
}

/** `rtt 0.4 ms, loss 0.0%` from one link's metrics. */
export function linkFigures(m: LinkMetrics | undefined): string {
  if (!m) return 'rtt -, loss -';
  const loss = m.lossFraction ?? m.remoteFractionLost;
  return `rtt ${fmtMs(m.rttMs)}, loss ${fmtPct(loss)}`;
}

export { fmtKbps };
