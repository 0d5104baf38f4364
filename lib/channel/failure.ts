/**
 * How a failed control-plane call, data-plane call or WebSocket handshake is told apart:
 * its kind (which decides the signaling state machine's recovery) and its stable error code.
 * Pure.
 */
import type { KvsErrorCode } from '../error-codes.js';
import { KvsError } from '../errors.js';

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

/** The stable code of each kind. */
export const FAILURE_CODES: Readonly<Record<FailureKind, KvsErrorCode>> = Object.freeze({
  auth: 'ERR_SIGNALING_AUTH',
  'not-found': 'ERR_SIGNALING_NOT_FOUND',
  throttled: 'ERR_SIGNALING_THROTTLED',
  timeout: 'ERR_SIGNALING_TIMEOUT',
  network: 'ERR_SIGNALING_NETWORK',
  server: 'ERR_SIGNALING_SERVER',
  invalid: 'ERR_SIGNALING_INVALID',
});

/** A failed call or connect: HTTP status (if any), the service's error name and its kind. */
export class ChannelCallError extends KvsError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly errorName: string,
    readonly kind: FailureKind,
    readonly clockSkewCorrected: boolean,
    options?: { cause?: unknown },
  ) {
    super(FAILURE_CODES[kind], message, options);
  }
}
