/**
 * The C SDK's signaling state machine: state names, and where the client goes after an error
 * in a given state. Pure.
 */

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

/** What kind of failure a call or a connect attempt met. */
export type FailureKind =
  | 'auth' // 401, 403: credentials refused, expired, or the clock is off
  | 'not-found' // 404
  | 'throttled' // ClientLimitExceededException, ThrottlingException, 429
  | 'timeout' // no answer in time
  | 'network' // connection refused, reset, DNS
  | 'server' // 5xx
  | 'invalid'; // any other 4xx: the request itself is wrong

export function classifyFailure(status: number | undefined, name = ''): FailureKind {
  // No credentials anywhere in the provider chain: retrying cannot help.
  if (name === 'CredentialsProviderError') return 'invalid';
  if (/ClientLimitExceeded|Throttl|TooManyRequests/i.test(name) || status === 429)
    return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status !== undefined && status >= 500) return 'server';
  if (status !== undefined && status >= 400) return 'invalid';
  if (/Timeout|TimedOut|ETIMEDOUT|Abort/i.test(name)) return 'timeout';
  return 'network';
}

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
