/**
 * W3C webrtc-stats objects as kvs-webrtc reports them, one interface per type. Fields follow
 * the W3C names and units (seconds for round trips, jitter and delays; milliseconds since the
 * epoch for timestamps). A field that cannot be known is absent, never a placeholder: see the
 * README's metrics section for what is absent and why.
 */
import { checkMap, describeValue } from '../args.js';
import { invalidArgument } from '../errors.js';

interface Base {
  id: string;
  timestamp: number;
}

export interface CandidatePairStats extends Base {
  type: 'candidate-pair';
  transportId: string;
  localCandidateId: string;
  remoteCandidateId: string;
  state: string;
  nominated: boolean;
  priority: number;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  requestsSent: number;
  requestsReceived: number;
  responsesSent: number;
  responsesReceived: number;
  consentRequestsSent: number;
  totalRoundTripTime: number;
  currentRoundTripTime: number;
  lastPacketSentTimestamp: number;
  lastPacketReceivedTimestamp: number;
  lastRequestTimestamp: number;
  lastResponseTimestamp: number;
}

interface CandidateFields extends Base {
  transportId: string;
  address: string;
  port: number;
  protocol: 'udp' | 'tcp';
  candidateType: 'host' | 'srflx' | 'prflx' | 'relay';
  priority: number;
  foundation: string;
}
export interface LocalCandidateStats extends CandidateFields {
  type: 'local-candidate';
}
export interface RemoteCandidateStats extends CandidateFields {
  type: 'remote-candidate';
}
export type CandidateStats = LocalCandidateStats | RemoteCandidateStats;

export interface IceServerStats extends Base {
  type: 'ice-server';
  url: string;
  totalRequestsSent: number;
  totalResponsesReceived: number;
  totalRoundTripTime: number;
  roundTripTimeMeasurements: number;
}

export interface TransportStats extends Base {
  type: 'transport';
  iceState: string;
  iceRole: 'controlling' | 'controlled';
  iceLocalUsernameFragment: string;
  dtlsState: string;
  selectedCandidatePairId?: string;
  tlsVersion?: string;
  dtlsCipher?: string;
  dtlsRole?: 'client' | 'server';
  srtpCipher?: string;
  localCertificateId?: string;
  remoteCertificateId?: string;
  // kvs-webrtc's own: dropped before any stream counted them.
  /** RTP and RTCP, sent or received, before DTLS gave the SRTP keys. */
  srtpDroppedBeforeKeys: number;
  /** SRTP packets the replay window refused (duplicates, or too old). */
  rtpPacketsReplayed: number;
  /** RTP packets with no transceiver for their SSRC, mid or payload type. */
  rtpPacketsUnroutable: number;
  rtpPacketsMalformed: number;
}

export interface CertificateStats extends Base {
  type: 'certificate';
  fingerprint: string;
  fingerprintAlgorithm: 'sha-256';
  base64Certificate: string;
}

export interface CodecStats extends Base {
  type: 'codec';
  transportId: string;
  payloadType: number;
  mimeType: string;
  clockRate: number;
  channels?: number;
  sdpFmtpLine?: string;
}

export interface MediaSourceStats extends Base {
  type: 'media-source';
  kind: 'audio' | 'video';
  trackIdentifier: string;
}

interface RtpStream extends Base {
  ssrc: number;
  kind: 'audio' | 'video';
  transportId: string;
  codecId: string;
}

export interface OutboundRtpStats extends RtpStream {
  type: 'outbound-rtp';
  mid: string;
  mediaSourceId: string;
  remoteId: string;
  rtxSsrc?: number;
  active: boolean;
  packetsSent: number;
  /** RTP payload bytes (W3C); headers and padding are in headerBytesSent. */
  bytesSent: number;
  headerBytesSent: number;
  retransmittedPacketsSent: number;
  retransmittedBytesSent: number;
  totalPacketSendDelay: number;
  packetsDiscardedOnSend: number;
  bytesDiscardedOnSend: number;
  nackCount: number;
  lastPacketSentTimestamp?: number;
  // Video.
  firCount?: number;
  pliCount?: number;
  framesEncoded?: number;
  keyFramesEncoded?: number;
  framesSent?: number;
  hugeFramesSent?: number;
  framesDiscardedOnSend?: number;
  framesPerSecond?: number;
  frameWidth?: number;
  frameHeight?: number;
  // From updateEncoderStats (the encoder is the app's).
  targetBitrate?: number;
  encoderImplementation?: string;
  frameBitDepth?: number;
  voiceActivityFlag?: boolean;
}

export interface RemoteInboundRtpStats extends RtpStream {
  type: 'remote-inbound-rtp';
  localId: string;
  packetsLost: number;
  fractionLost: number;
  jitter: number;
  reportsReceived: number;
  roundTripTime?: number;
  totalRoundTripTime: number;
  roundTripTimeMeasurements: number;
}

export interface InboundRtpStats extends RtpStream {
  type: 'inbound-rtp';
  mid: string;
  trackIdentifier: string;
  remoteId?: string;
  packetsReceived: number;
  packetsLost: number;
  jitter: number;
  bytesReceived: number;
  headerBytesReceived: number;
  retransmittedPacketsReceived: number;
  retransmittedBytesReceived: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  packetsDiscarded: number;
  packetsFailedDecryption: number;
  nackCount: number;
  lastPacketReceivedTimestamp?: number;
  // kvs-webrtc's own.
  /** Padding-only packets, on the media SSRC (in packetsReceived) or on RTX (not in it). */
  paddingPacketsReceived: number;
  packetsDuplicated: number;
  /** Routed to this stream but not its: unknown payload type or SSRC, malformed RTX. */
  packetsRejected: number;
  nackedPackets: number;
  // Video.
  firCount?: number;
  pliCount?: number;
  framesReceived?: number;
  keyFramesReceived?: number;
  framesDropped?: number;
  framesPerSecond?: number;
  frameWidth?: number;
  frameHeight?: number;
  // Audio.
  totalSamplesReceived?: number;
}

export interface RemoteOutboundRtpStats extends RtpStream {
  type: 'remote-outbound-rtp';
  localId: string;
  packetsSent: number;
  bytesSent: number;
  reportsSent: number;
  remoteTimestamp?: number;
}

export interface DataChannelStats extends Base {
  type: 'data-channel';
  label: string;
  protocol: string;
  dataChannelIdentifier: number;
  state: 'connecting' | 'open' | 'closing' | 'closed';
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
}

export interface PeerConnectionStats extends Base {
  type: 'peer-connection';
  dataChannelsOpened: number;
  dataChannelsClosed: number;
}

export type Stats =
  | CandidatePairStats
  | LocalCandidateStats
  | RemoteCandidateStats
  | IceServerStats
  | TransportStats
  | CertificateStats
  | CodecStats
  | MediaSourceStats
  | OutboundRtpStats
  | RemoteInboundRtpStats
  | InboundRtpStats
  | RemoteOutboundRtpStats
  | DataChannelStats
  | PeerConnectionStats;

export type StatsType = Stats['type'];

/** RTCStatsReport: every stats object by its id. */
export type StatsReport = Map<string, Stats>;

/** The C SDK's RtcEncoderStats, which the app gives with updateEncoderStats. */
export interface EncoderStats {
  targetBitrate?: number;
  encoderImplementation?: string;
  frameWidth?: number;
  frameHeight?: number;
  frameBitDepth?: number;
  voiceActivityFlag?: boolean;
}

function checkStatsType(type: unknown, call: string): void {
  if (typeof type !== 'string' || type === '')
    throw invalidArgument(`${call}: type must be a stats type name, got ${describeValue(type)}`);
}

/** The stats object with this id, if it is of this type (typed). */
export function getStat<T extends StatsType>(
  report: StatsReport,
  id: string | undefined,
  type: T,
): Extract<Stats, { type: T }> | undefined {
  checkMap(report, 'getStat: report');
  if (id !== undefined && typeof id !== 'string')
    throw invalidArgument(`getStat: id must be a string or undefined, got ${describeValue(id)}`);
  checkStatsType(type, 'getStat');
  if (id === undefined) return undefined;
  const s = report.get(id);
  return s?.type === type ? (s as Extract<Stats, { type: T }>) : undefined;
}

/** Every stats object of this type (typed). */
export function statsOfType<T extends StatsType>(
  report: StatsReport,
  type: T,
): Extract<Stats, { type: T }>[] {
  checkMap(report, 'statsOfType: report');
  checkStatsType(type, 'statsOfType');
  return [...report.values()].filter((s): s is Extract<Stats, { type: T }> => s.type === type);
}

/**
 * The stats of one transceiver: its RTP streams (outbound, inbound and their remote
 * counterparts), the codecs they use, its media source, and the transport. What
 * `transceiver.getStats()` returns.
 */
export function transceiverStats(
  report: StatsReport,
  t: { readonly mid: string | null },
): StatsReport {
  const out: StatsReport = new Map();
  const keep = new Set<string>();
  for (const s of report.values()) {
    if ((s.type === 'outbound-rtp' || s.type === 'inbound-rtp') && s.mid === t.mid) {
      out.set(s.id, s);
      keep.add(s.codecId);
      keep.add(s.transportId);
      if (s.type === 'outbound-rtp') {
        keep.add(s.remoteId);
        keep.add(s.mediaSourceId);
      } else if (s.remoteId) keep.add(s.remoteId);
    }
  }
  for (const id of keep) {
    const s = report.get(id);
    if (s) out.set(id, s);
  }
  return out;
}
