/**
 * Every error kvs-webrtc throws carries a stable `code` from the registry
 * (`error-codes.ts`), so callers can branch on it without parsing messages (as with
 * better-sqlite3 and sharp).
 */
import { isKvsErrorCode, type KvsErrorCode } from './error-codes.js';

export type { KvsErrorCode } from './error-codes.js';

export class KvsError extends Error {
  readonly code: KvsErrorCode;

  constructor(code: KvsErrorCode, message: string, options?: { cause?: unknown }) {
    // A code outside the registry would break every caller's branching on it; a JavaScript
    // caller can pass one, so it is refused (with a KvsError of a registered code).
    if (!isKvsErrorCode(code)) {
      const raw: unknown = code;
      const shown = typeof raw === 'string' ? JSON.stringify(raw.slice(0, 60)) : typeof raw;
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `KvsError: code must be a registered code (see ERROR_CODES), got ${shown}`,
      );
    }
    super(message, options);
    this.name = 'KvsError';
    this.code = code;
  }

  /**
   * A rejection or exception of the native addon as a KvsError: its code is kept when the
   * registry has it; anything else (no code, or one the registry lacks) becomes
   * `ERR_NATIVE_UNKNOWN` with the raw code in the message. `context` names the call.
   */
  static fromNative(err: unknown, context: string): KvsError {
    if (err instanceof KvsError) return err;
    const e = err instanceof Error ? (err as Error & { code?: unknown }) : undefined;
    const message = e ? e.message : String(err);
    const raw = e?.code;
    if (isKvsErrorCode(raw)) return new KvsError(raw, `${context}: ${message}`, { cause: err });
    const tag = typeof raw === 'string' && raw !== '' ? ` [${raw}]` : '';
    return new KvsError('ERR_NATIVE_UNKNOWN', `${context}: ${message}${tag}`, { cause: err });
  }
}

/** An `ERR_INVALID_ARGUMENT` error with `message` (validation helpers share this). */
export function invalidArgument(message: string): KvsError {
  return new KvsError('ERR_INVALID_ARGUMENT', message);
}
