/** Every quota and timer of the service, defaulting to the seed's "Service Quotas" section. */
import { describeValue } from '../args.js';
import { invalidArgument } from '../errors.js';
export interface LocalKvsLimits {
  /** Channels per account ("1000 signaling channels per account"). */
  maxChannels: number;
  /** Account-level TPS per control-plane API (50). */
  controlPlaneTps: number;
  /** Channel-level TPS for the control-plane APIs that have one (5). */
  controlPlaneChannelTps: number;
  /** ConnectAsMaster / ConnectAsViewer per channel (3 TPS each). */
  connectTpsPerChannel: number;
  /** Viewer connections per channel (10, soft). */
  maxViewers: number;
  /** SendSdpOffer + SendSdpAnswer per WebSocket connection (5 TPS). */
  sdpTpsPerConnection: number;
  /** SendIceCandidate per WebSocket connection (20 TPS). */
  iceTpsPerConnection: number;
  /** messagePayload length limit (10K). */
  maxPayloadChars: number;
  /** Idle connection timeout (10 minutes). */
  idleTimeoutMs: number;
  /** Connection duration limit (1 hour). */
  connectionLifetimeMs: number;
  /** Grace after GO_AWAY before the service closes the socket (1 minute). */
  goAwayGraceMs: number;
  /** GetIceServerConfig and SendAlexaOfferToMaster per channel (5 TPS). */
  dataPlaneTpsPerChannel: number;
  /** TURN credential lifetime (5 minutes). */
  turnCredentialTtlSeconds: number;
  /** SigV4 clock-skew window (AWS uses 5 minutes). */
  clockSkewMs: number;
  /** How long SendAlexaOfferToMaster waits for the master's answer (not in the seed). */
  alexaAnswerTimeoutMs: number;
  /** Messages held per offline recipient (not in the seed; keeps memory bounded). */
  maxPendingPerRecipient: number;
  /** Messages held per channel, all recipients together (not in the seed). */
  maxPendingPerChannel: number;
  /** Messages held by the whole service (not in the seed). */
  maxPendingTotal: number;
  /** A TLS connection that has not finished its handshake by then is closed (not in the seed). */
  tlsHandshakeTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<LocalKvsLimits> = Object.freeze({
  maxChannels: 1000,
  controlPlaneTps: 50,
  controlPlaneChannelTps: 5,
  connectTpsPerChannel: 3,
  maxViewers: 10,
  sdpTpsPerConnection: 5,
  iceTpsPerConnection: 20,
  maxPayloadChars: 10_000,
  idleTimeoutMs: 10 * 60_000,
  connectionLifetimeMs: 60 * 60_000,
  goAwayGraceMs: 60_000,
  dataPlaneTpsPerChannel: 5,
  turnCredentialTtlSeconds: 300,
  clockSkewMs: 5 * 60_000,
  alexaAnswerTimeoutMs: 5_000,
  maxPendingPerRecipient: 100,
  maxPendingPerChannel: 1000,
  maxPendingTotal: 10_000,
  tlsHandshakeTimeoutMs: 10_000,
});

export function resolveLimits(partial: Partial<LocalKvsLimits> = {}): LocalKvsLimits {
  const raw: unknown = partial;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidArgument(`limits must be an object, got ${describeValue(raw)}`);
  // A misspelt limit would otherwise be ignored, and the default used without a word.
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_LIMITS))
      throw invalidArgument(
        `limits.${k} is not a limit; the limits are ${Object.keys(DEFAULT_LIMITS).join(', ')}`,
      );
  }
  const out = { ...DEFAULT_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw invalidArgument(`limits.${k} must be a positive number, got ${String(v)}`);
    }
  }
  return out;
}
