export {
  PeerConnection,
  type PeerConnectionState,
  type SignalingState,
  type MediaKind,
  type Codec,
  type Direction,
  type TransceiverInit,
  type Stats,
  type PeerConnectionEvents,
  type RelayFailure,
  type IceCandidateError,
} from './peer-connection.js';
export {
  MAX_ICE_SERVERS,
  type PeerConnectionConfig,
  type PeerIceServer,
  type InterfaceFilter,
} from './config.js';
export {
  rtcPeerConnectionGetMetrics,
  peerConnectionGetMetrics,
  iceAgentGetMetrics,
  type RtcStatsType,
  type PeerConnectionMetrics,
  type IceAgentMetrics,
} from './metrics.js';
export type * from './stats.js';
export { getStat, statsOfType } from './stats.js';
export {
  Transceiver,
  writeFrame,
  transceiverOnFrame,
  transceiverOnPictureLoss,
  transceiverOnBandwidthEstimation,
  updateEncoderStats,
  writeFrameToMany,
  type KeyFrameReason,
  type TransceiverEvents,
} from './transceiver.js';
export {
  DataChannel,
  MAX_BUFFERED_BYTES,
  dataChannelSend,
  dataChannelOnMessage,
  dataChannelOnOpen,
  type DataChannelInit,
  type DataChannelState,
  type DataChannelEvents,
  type DataChannelMessage,
} from './data-channel.js';
export { FrameFlags, type Frame, type ReceivedFrame } from '../media/frame.js';
