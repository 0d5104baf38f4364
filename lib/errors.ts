/**
 * Every error kvs-webrtc throws carries a stable `code`, so callers can branch on it
 * without parsing messages (as with better-sqlite3 and sharp).
 */
export type KvsErrorCode =
  'ERR_KVS_NATIVE_LOAD' | 'ERR_KVS_SELF_TEST' | 'ERR_KVS_INVALID_ARGUMENT' | (string & {});

export class KvsError extends Error {
  readonly code: KvsErrorCode;

  constructor(code: KvsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KvsError';
    this.code = code;
  }

  /** A native rejection or exception as a KvsError keeping its code. `context` names the call. */
  static fromNative(err: unknown, context: string): KvsError {
    if (err instanceof KvsError) return err;
    const e = err instanceof Error ? (err as Error & { code?: unknown }) : undefined;
    const code = typeof e?.code === 'string' ? e.code : 'ERR_NATIVE_UNKNOWN';
    return new KvsError(code, `${context}: ${e ? e.message : String(err)}`, { cause: err });
  }
}
