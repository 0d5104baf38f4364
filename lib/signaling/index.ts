export {
  SignalingClient,
  signalingClientGetMetrics,
  type ReconnectReason,
  type SendOptions,
  type SignalingClientEvents,
  type SignalingClientOptions,
} from './client.js';
export { SIGNALING_CLIENT_STATE, type SignalingClientState } from './states.js';
export {
  MAX_PAYLOAD_CHARS,
  type IceCandidate,
  type SessionDescription,
  type SignalingRole,
  type StatusResponse,
} from './codec.js';
export type { IceServer } from './ice-config.js';
export type { Logger } from './logger.js';
export { HUNDREDS_OF_NANOS_IN_A_MILLISECOND, type SignalingClientStats } from './metrics.js';
export type { AwsCredentials } from './presign.js';
export type { CredentialProvider, CredentialsInput } from './credentials.js';
export type { BackoffOptions } from './backoff.js';
