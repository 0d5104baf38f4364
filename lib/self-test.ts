import { KvsError } from './errors.js';
import { native, type NativeSelfTestReport, type SrtpProfileName } from './native.js';

export const SRTP_PROFILES: readonly SrtpProfileName[] = Object.freeze([
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
] as const);

function isProfile(p: unknown): p is SrtpProfileName {
  return SRTP_PROFILES.some((known) => known === p);
}

export type SelfTestReport = NativeSelfTestReport;

export interface SelfTestOptions {
  /** Profiles to exercise; all supported ones by default. */
  profiles?: readonly SrtpProfileName[];
}

/**
 * Runs, per SRTP profile, an in-memory DTLS 1.2 handshake between two fresh ECDSA P-256
 * certificates, exports the SRTP keys and protects/unprotects RTP and RTCP both ways.
 * Throws a KvsError with code ERR_SELF_TEST naming the failing leg.
 */
export function selfTest(options: SelfTestOptions = {}): SelfTestReport[] {
  // Checked as JavaScript callers may pass anything.
  const raw: unknown = options;
  if (typeof raw !== 'object' || raw === null)
    throw new KvsError('ERR_INVALID_ARGUMENT', 'selfTest: options must be an object');
  const given: unknown = options.profiles ?? SRTP_PROFILES;
  if (!Array.isArray(given) || given.length === 0) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `selfTest: options.profiles must be a non-empty array of ${SRTP_PROFILES.join(', ')}`,
    );
  }
  const profiles: SrtpProfileName[] = [];
  for (const p of given as unknown[]) {
    if (!isProfile(p)) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `selfTest: options.profiles contains unknown profile ${JSON.stringify(p)}; ` +
          `supported: ${SRTP_PROFILES.join(', ')}`,
      );
    }
    profiles.push(p);
  }
  const addon = native();
  return profiles.map((profile) => {
    try {
      return addon.selfTest(profile);
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new KvsError(
        'ERR_SELF_TEST',
        `selfTest ${profile}: ${e.message}${e.code ? ` [${e.code}]` : ''}`,
        { cause: err },
      );
    }
  });
}
