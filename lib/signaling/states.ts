/**
 * The C SDK's signaling state machine: state names, and where the client goes after an error
 * in a given state. Pure.
 */
import type { FailureKind } from '../channel/failure.js';

// Failure kinds live with the calls that fail (channel/); re-exported for existing imports.
export { classifyFailure, type FailureKind } from '../channel/failure.js';

/** The signaling client's states, under the C SDK's names (`SIGNALING_CLIENT_STATE_*`). */
export const SIGNALING_CLIENT_STATE = Object.freeze({
  NEW: 'NEW',
  GET_CREDENTIALS: 'GET_CREDENTIALS',
  DESCRIBE: 'DESCRIBE',
  CREATE: 'CREATE',
  GET_ENDPOINT: 'GET_ENDPOINT',
  GET_ICE_CONFIG: 'GET_ICE_CONFIG',
  READY: 'READY',
  CONNECTING: 'CONNECTING',
  CONNECTED: 'CONNECTED',
  DISCONNECTED: 'DISCONNECTED',
  DELETE: 'DELETE',
  DELETED: 'DELETED',
} as const);

export type SignalingClientState =
  (typeof SIGNALING_CLIENT_STATE)[keyof typeof SIGNALING_CLIENT_STATE];

export interface Recovery {
  /** The state to retry from. */
  next: SignalingClientState;
  /** No retry can help (e.g. the channel does not exist and may not be created). */
  fatal: boolean;
  /** Describe again instead of trusting the endpoint cache. */
  refreshDescribe: boolean;
  /** Ask for the endpoints again instead of trusting the endpoint cache. */
  refreshEndpoint: boolean;
}

/**
 * Where to go after `kind` failed the step run in `state`:
 * - 401/403 anywhere: back to GET_CREDENTIALS (fresh credentials, fresh describe);
 * - 404 in DESCRIBE: CREATE when allowed, otherwise fatal; a 404 later: DESCRIBE again;
 * - timeouts, network errors, 5xx and 400s on CONNECTING: GET_ENDPOINT again;
 * - throttling and transient errors elsewhere: the same state, after a backoff;
 * - other 4xx outside CONNECTING: fatal (the request itself is wrong).
 */
export function recoveryFor(
  state: SignalingClientState,
  kind: FailureKind,
  opts: { createIfMissing: boolean; knownArn: boolean },
): Recovery {
  const S = SIGNALING_CLIENT_STATE;
  const r = (next: SignalingClientState, fatal = false, d = false, e = false): Recovery => ({
    next,
    fatal,
    refreshDescribe: d,
    refreshEndpoint: e,
  });
  if (kind === 'auth') return r(S.GET_CREDENTIALS, false, true, true);
  if (state === S.DESCRIBE && kind === 'not-found') {
    return opts.createIfMissing && !opts.knownArn ? r(S.CREATE) : r(S.DESCRIBE, true);
  }
  if (kind === 'not-found') {
    return state === S.DELETE ? r(S.DELETE, true) : r(S.DESCRIBE, false, true, true);
  }
  if (state === S.CONNECTING) {
    if (kind === 'throttled') return r(S.CONNECTING);
    return r(S.GET_ENDPOINT, false, false, true);
  }
  if (kind === 'invalid') return r(state, true);
  return r(state);
}

/** The states the machine walks through, in order (restarts go to the earliest asked for). */
const ORDER: readonly SignalingClientState[] = [
  SIGNALING_CLIENT_STATE.NEW,
  SIGNALING_CLIENT_STATE.GET_CREDENTIALS,
  SIGNALING_CLIENT_STATE.DESCRIBE,
  SIGNALING_CLIENT_STATE.CREATE,
  SIGNALING_CLIENT_STATE.GET_ENDPOINT,
  SIGNALING_CLIENT_STATE.GET_ICE_CONFIG,
  SIGNALING_CLIENT_STATE.READY,
  SIGNALING_CLIENT_STATE.CONNECTING,
  SIGNALING_CLIENT_STATE.CONNECTED,
];

/** The earlier of two restart points. */
export function earliest(
  a: SignalingClientState | undefined,
  b: SignalingClientState,
): SignalingClientState {
  if (a === undefined) return b;
  return ORDER.indexOf(a) <= ORDER.indexOf(b) ? a : b;
}
