/**
 * One peer connection's figures, read from its W3C stats (getStats): state, round-trip time,
 * bytes, packets, loss, frames and the selected candidate pair. Pure. The RTP types
 * (`outbound-rtp`, `inbound-rtp`, `remote-inbound-rtp`) are used when the core reports them;
 * without them the figures fall back to the candidate pair's (bytes, current RTT) and the
 * RTP-only ones are undefined, never invented.
 */
import { checkMap, describeValue } from '../args.js';
import { invalidArgument } from '../errors.js';
import type { Stats } from '../peer/peer-connection.js';

export interface CandidateInfo {
  type: string;
  address: string;
  port: number;
  protocol: string;
}

export interface LinkMetrics {
  /** Round-trip time in ms: RTCP's (remote-inbound-rtp) when there is one, else ICE's. */
  rttMs: number | undefined;
  /** Where rttMs came from. */
  rttSource: 'rtcp' | 'ice' | undefined;
  /** Bytes on the selected candidate pair (every protocol: RTP, RTCP, DTLS, SCTP, STUN). */
  bytesSent: number;
  bytesReceived: number;
  /** RTP packets and their payload-and-header bytes, over every stream. */
  packetsSent: number | undefined;
  packetsReceived: number | undefined;
  /** Packets this side found missing (inbound-rtp). */
  packetsLost: number | undefined;
  /** packetsLost / (packetsReceived + packetsLost). */
  lossFraction: number | undefined;
  /** What the peer reported missing of ours (remote-inbound-rtp), and its last fraction. */
  remotePacketsLost: number | undefined;
  remoteFractionLost: number | undefined;
  /** Video frames sent and received (outbound-rtp framesSent, inbound-rtp framesReceived). */
  framesSent: number | undefined;
  framesReceived: number | undefined;
  framesDiscardedOnSend: number | undefined;
  frameWidth: number | undefined;
  frameHeight: number | undefined;
  /** The selected pair's candidates. */
  local: CandidateInfo | undefined;
  remote: CandidateInfo | undefined;
  /** Whether the RTP stats types were in the report at all. */
  hasRtpStats: boolean;
}

// The figures are read by name, whichever stats type carries them.
const field = (s: Stats | undefined, key: string): unknown =>
  (s as Readonly<Record<string, unknown>> | undefined)?.[key];

const num = (s: Stats | undefined, key: string): number | undefined => {
  const v = field(s, key);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

const str = (s: Stats | undefined, key: string): string => {
  const v = field(s, key);
  return typeof v === 'string' ? v : '';
};

function candidate(s: Stats | undefined): CandidateInfo | undefined {
  if (!s) return undefined;
  return {
    type: str(s, 'candidateType'),
    address: str(s, 'address'),
    port: num(s, 'port') ?? 0,
    protocol: str(s, 'protocol'),
  };
}

/** Sums a field over stats of one type; undefined when no stat of the type has it. */
function sum(list: Stats[], key: string): number | undefined {
  let total: number | undefined;
  for (const s of list) {
    const v = num(s, key);
    if (v !== undefined) total = (total ?? 0) + v;
  }
  return total;
}

/** The selected candidate pair: the transport's, else a nominated succeeded one. */
export function selectedPair(stats: ReadonlyMap<string, Stats>): Stats | undefined {
  for (const s of stats.values()) {
    if (s.type === 'transport' && typeof s['selectedCandidatePairId'] === 'string') {
      const pair = stats.get(s['selectedCandidatePairId']);
      if (pair) return pair;
    }
  }
  for (const s of stats.values()) {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') return s;
  }
  return undefined;
}

export function summarizeStats(stats: ReadonlyMap<string, Stats>): LinkMetrics {
  checkMap(stats, 'summarizeStats: stats');
  const all = [...stats.values()];
  const of = (type: string) => all.filter((s) => s.type === type);
  const outbound = of('outbound-rtp');
  const inbound = of('inbound-rtp');
  const remoteInbound = of('remote-inbound-rtp');
  const pair = selectedPair(stats);
  const rtcpRtt = remoteInbound
    .map((s) => num(s, 'roundTripTime'))
    .filter((v): v is number => v !== undefined);
  const iceRtt = num(pair, 'currentRoundTripTime');
  const rttSeconds = rtcpRtt.length > 0 ? Math.max(...rtcpRtt) : iceRtt;
  const packetsReceived = sum(inbound, 'packetsReceived');
  const packetsLost = sum(inbound, 'packetsLost');
  const video = (list: Stats[]) => list.filter((s) => field(s, 'kind') === 'video');
  const fractions = remoteInbound
    .map((s) => num(s, 'fractionLost'))
    .filter((v): v is number => v !== undefined);
  const inboundVideo = video(inbound)[0];
  return {
    rttMs: rttSeconds === undefined ? undefined : rttSeconds * 1000,
    rttSource: rtcpRtt.length > 0 ? 'rtcp' : iceRtt !== undefined ? 'ice' : undefined,
    bytesSent: num(pair, 'bytesSent') ?? 0,
    bytesReceived: num(pair, 'bytesReceived') ?? 0,
    packetsSent: sum(outbound, 'packetsSent'),
    packetsReceived,
    packetsLost,
    lossFraction:
      packetsReceived === undefined || packetsLost === undefined
        ? undefined
        : packetsReceived + packetsLost > 0
          ? Math.max(0, packetsLost) / (packetsReceived + Math.max(0, packetsLost))
          : 0,
    remotePacketsLost: sum(remoteInbound, 'packetsLost'),
    remoteFractionLost: fractions.length > 0 ? Math.max(...fractions) : undefined,
    framesSent: sum(video(outbound), 'framesSent'),
    framesReceived: sum(video(inbound), 'framesReceived'),
    framesDiscardedOnSend: sum(video(outbound), 'framesDiscardedOnSend'),
    frameWidth: num(inboundVideo, 'frameWidth'),
    frameHeight: num(inboundVideo, 'frameHeight'),
    local: candidate(pair && stats.get(str(pair, 'localCandidateId'))),
    remote: candidate(pair && stats.get(str(pair, 'remoteCandidateId'))),
    hasRtpStats: outbound.length + inbound.length > 0,
  };
}

/** `relay udp 127.0.0.1:50000` */
export function describeCandidate(c: CandidateInfo | undefined): string {
  const raw: unknown = c;
  if (raw !== undefined && (typeof raw !== 'object' || raw === null))
    throw invalidArgument(
      `describeCandidate: candidate must be a CandidateInfo or undefined, got ${describeValue(raw)}`,
    );
  return c ? `${c.type} ${c.protocol} ${c.address}:${c.port}` : 'none';
}

/** Bits per second between two byte counts taken `ms` apart. */
export function bitrate(bytesBefore: number, bytesAfter: number, ms: number): number {
  return ms > 0 ? (Math.max(0, bytesAfter - bytesBefore) * 8 * 1000) / ms : 0;
}
