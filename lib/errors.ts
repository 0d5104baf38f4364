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
}
