// The shapes test/interop/chromium-media.mjs takes and prints, for the suites that run it.
export interface ChromiumMediaOptions {
  offerer?: 'kvs' | 'chromium';
  sender?: 'kvs' | 'chromium';
  video?: 'H264' | 'VP8' | null;
  audio?: boolean;
  seconds?: number;
  parameterSetsOnce?: boolean;
  avcc?: boolean;
  lossProbability?: number;
  noRtx?: boolean;
  annexBPath?: string;
}

export type StatsRecord = Record<string, string | number | boolean>;

export interface ChromiumStats {
  inbound: Record<string, StatsRecord | undefined>;
  outbound: Record<string, StatsRecord | undefined>;
  remoteInbound: Record<string, StatsRecord | undefined>;
  codecs: Record<string, StatsRecord | undefined>;
}

export interface ChromiumMediaOutcome {
  error?: string;
  offer: string;
  answer: string;
  chromium: ChromiumStats;
  chromiumHalfway: ChromiumStats;
  ours: {
    inbound: Record<string, StatsRecord | undefined>;
    outbound: Record<string, StatsRecord | undefined>;
  };
  keyFrameRequests: string[];
  written: Record<string, number>;
  received?: {
    video: {
      frames: number;
      keyFrames: number;
      firstIsKey: boolean;
      bytes: number;
      lastPts: number;
      ptsIncreasing: boolean;
    };
    audio: { frames: number; minBytes: number; maxBytes: number; ptsSteps: number[] };
  };
}

/** The video m-section of an SDP (up to the next m-line). */
export function videoM(sdp: string): string {
  const start = sdp.search(/^m=video /m);
  if (start < 0) return '';
  const rest = sdp.slice(start + 1);
  const next = rest.search(/^m=/m);
  return next < 0 ? sdp.slice(start) : sdp.slice(start, start + 1 + next);
}
