import { KvsError } from '../errors.js';
import type { PeerConnection, Stats } from './peer-connection.js';

/** RTC_STATS_TYPE of the C SDK. */
export type RtcStatsType =
  | 'CANDIDATE_PAIR'
  | 'LOCAL_CANDIDATE'
  | 'REMOTE_CANDIDATE'
  | 'TRANSPORT'
  | 'ICE_SERVER'
  | 'OUTBOUND_RTP'
  | 'REMOTE_INBOUND_RTP'
  | 'INBOUND_RTP'
  | 'DATA_CHANNEL'
  | 'RTC_ALL';

const W3C_TYPE: Partial<Record<RtcStatsType, string>> = {
  CANDIDATE_PAIR: 'candidate-pair',
  LOCAL_CANDIDATE: 'local-candidate',
  REMOTE_CANDIDATE: 'remote-candidate',
  TRANSPORT: 'transport',
  ICE_SERVER: 'ice-server',
};

/**
 * The C SDK's `rtcPeerConnectionGetMetrics(pc, transceiver, type)`. As there, the candidate
 * types describe the selected pair (its candidates), and ICE_SERVER every configured server;
 * unlike the C SDK, RTC_ALL returns everything. `transceiver` selects an RTP stream for the
 * RTP types, which need the media layer and are not implemented yet.
 */
export async function rtcPeerConnectionGetMetrics(
  pc: PeerConnection,
  transceiver: number | null,
  type: RtcStatsType,
): Promise<Stats[]> {
  const stats = await pc.getStats();
  if (type === 'RTC_ALL') return [...stats.values()];
  const w3c = W3C_TYPE[type];
  if (w3c === undefined) {
    throw new KvsError(
      'ERR_NOT_IMPLEMENTED',
      `rtcPeerConnectionGetMetrics: ${type} needs media or data channels, which are not implemented yet` +
        (transceiver === null ? '' : ` (transceiver ${transceiver})`),
    );
  }
  const transport = stats.get('transport-0');
  const pair = stats.get(String(transport?.selectedCandidatePairId));
  switch (type) {
    case 'CANDIDATE_PAIR':
      return pair ? [pair] : [];
    case 'LOCAL_CANDIDATE': {
      const local = pair && stats.get(String(pair.localCandidateId));
      return local ? [local] : [];
    }
    case 'REMOTE_CANDIDATE': {
      const remote = pair && stats.get(String(pair.remoteCandidateId));
      return remote ? [remote] : [];
    }
    default:
      return [...stats.values()].filter((s) => s.type === w3c);
  }
}
