import { checkInstance } from '../args.js';
import { KvsError } from '../errors.js';
import { PeerConnection } from './peer-connection.js';
import { transceiverStats, type Stats, type StatsType } from './stats.js';
import type { Transceiver } from './transceiver.js';

/** RTC_STATS_TYPE of the C SDK, and the W3C types it lacks. */
export type RtcStatsType =
  | 'CANDIDATE_PAIR'
  | 'LOCAL_CANDIDATE'
  | 'REMOTE_CANDIDATE'
  | 'TRANSPORT'
  | 'ICE_SERVER'
  | 'CERTIFICATE'
  | 'CODEC'
  | 'MEDIA_SOURCE'
  | 'OUTBOUND_RTP'
  | 'REMOTE_INBOUND_RTP'
  | 'INBOUND_RTP'
  | 'REMOTE_OUTBOUND_RTP'
  | 'DATA_CHANNEL'
  | 'PEER_CONNECTION'
  | 'RTC_ALL';

const W3C_TYPE: Record<Exclude<RtcStatsType, 'RTC_ALL'>, StatsType> = {
  CANDIDATE_PAIR: 'candidate-pair',
  LOCAL_CANDIDATE: 'local-candidate',
  REMOTE_CANDIDATE: 'remote-candidate',
  TRANSPORT: 'transport',
  ICE_SERVER: 'ice-server',
  CERTIFICATE: 'certificate',
  CODEC: 'codec',
  MEDIA_SOURCE: 'media-source',
  OUTBOUND_RTP: 'outbound-rtp',
  REMOTE_INBOUND_RTP: 'remote-inbound-rtp',
  INBOUND_RTP: 'inbound-rtp',
  REMOTE_OUTBOUND_RTP: 'remote-outbound-rtp',
  DATA_CHANNEL: 'data-channel',
  PEER_CONNECTION: 'peer-connection',
};

const PER_STREAM: ReadonlySet<StatsType> = new Set([
  'codec',
  'media-source',
  'outbound-rtp',
  'remote-inbound-rtp',
  'inbound-rtp',
  'remote-outbound-rtp',
]);

/**
 * The C SDK's `rtcPeerConnectionGetMetrics(pc, transceiver, type)`. As there, the candidate
 * types describe the selected pair (its candidates), ICE_SERVER every configured server, and
 * `transceiver` selects the RTP stream for the RTP types (null: the first transceiver, as in
 * the C SDK). Unlike the C SDK, every type is implemented, and RTC_ALL returns everything.
 * On a closed connection it answers the figures as they stood at close; on one that never
 * connected, what exists (no error).
 */
export async function rtcPeerConnectionGetMetrics(
  pc: PeerConnection,
  transceiver: Transceiver | number | null,
  type: RtcStatsType,
): Promise<Stats[]> {
  checkInstance(pc, PeerConnection, 'rtcPeerConnectionGetMetrics: pc', 'PeerConnection');
  const stats = await pc.getStats();
  if (type === 'RTC_ALL') return [...stats.values()];
  const w3c = W3C_TYPE[type] as StatsType | undefined;
  if (w3c === undefined) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `rtcPeerConnectionGetMetrics: unknown type ${type as string}`,
    );
  }
  const transport = stats.get('transport-0');
  const pair =
    transport?.type === 'transport' && transport.selectedCandidatePairId
      ? stats.get(transport.selectedCandidatePairId)
      : undefined;
  switch (w3c) {
    case 'candidate-pair':
      return pair ? [pair] : [];
    case 'local-candidate':
    case 'remote-candidate': {
      if (pair?.type !== 'candidate-pair') return [];
      const c = stats.get(
        w3c === 'local-candidate' ? pair.localCandidateId : pair.remoteCandidateId,
      );
      return c ? [c] : [];
    }
    default:
      break;
  }
  if (PER_STREAM.has(w3c)) {
    const all = pc.getTransceivers();
    const t =
      transceiver === null
        ? all[0]
        : typeof transceiver === 'number'
          ? all.find((x) => x.index === transceiver)
          : transceiver;
    if (!t) return [];
    return [...transceiverStats(stats, t).values()].filter((s) => s.type === w3c);
  }
  return [...stats.values()].filter((s) => s.type === w3c);
}

/** The C SDK's peerConnectionGetMetrics: when the connection was made and when it connected. */
export interface PeerConnectionMetrics {
  /** ms since the epoch. */
  peerConnectionStartTime: number;
  /** ms since the epoch; null until connected. */
  peerConnectionConnectedTime: number | null;
  /** From creation to connected, ms; null until connected. */
  connectionSetupTime: number | null;
}

/**
 * The C SDK's iceAgentGetMetrics: how long each step of setting up ICE and DTLS took, in ms
 * (null for a step that has not happened: no relay candidate without TURN, for instance).
 */
export interface IceAgentMetrics {
  /** From the start of gathering to its end (every server answered, or timed out). */
  localCandidateGatheringTime: number | null;
  hostCandidateSetUpTime: number | null;
  srflxCandidateSetUpTime: number | null;
  relayCandidateSetUpTime: number | null;
  /** From the first connectivity check to ICE connected (the pair nominated). */
  iceCandidatePairNominationTime: number | null;
  /** From the selected pair's first check to ICE connected. */
  candidatePairHolePunchingTime: number | null;
  /** From ICE connected (DTLS can start) to DTLS connected. */
  dtlsSessionSetupTime: number | null;
  /** From the start of gathering to ICE connected. */
  iceAgentSetUpTime: number | null;
}

const span = (from: number | null, to: number | null): number | null =>
  from === null || to === null ? null : Math.max(0, to - from);

export async function peerConnectionGetMetrics(pc: PeerConnection): Promise<PeerConnectionMetrics> {
  checkInstance(pc, PeerConnection, 'peerConnectionGetMetrics: pc', 'PeerConnection');
  const t = await pc.timeline();
  return {
    peerConnectionStartTime: t.created ?? 0,
    peerConnectionConnectedTime: t.connected,
    connectionSetupTime: span(t.created, t.connected),
  };
}

export async function iceAgentGetMetrics(pc: PeerConnection): Promise<IceAgentMetrics> {
  checkInstance(pc, PeerConnection, 'iceAgentGetMetrics: pc', 'PeerConnection');
  const t = await pc.timeline();
  return {
    localCandidateGatheringTime: span(t.gatheringStarted, t.gatheringCompleted),
    hostCandidateSetUpTime: span(t.gatheringStarted, t.firstHostCandidate),
    srflxCandidateSetUpTime: span(t.gatheringStarted, t.firstSrflxCandidate),
    relayCandidateSetUpTime: span(t.gatheringStarted, t.firstRelayCandidate),
    iceCandidatePairNominationTime: span(t.checkingStarted, t.iceConnected),
    candidatePairHolePunchingTime: span(t.selectedPairFirstCheck, t.iceConnected),
    dtlsSessionSetupTime: span(t.dtlsStarted, t.dtlsConnected),
    iceAgentSetUpTime: span(t.gatheringStarted, t.iceConnected),
  };
}
