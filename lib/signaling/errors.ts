/** The signaling client's own error values (codes are stable; see README.md). */
import { KvsError } from '../errors.js';

export function closedError(): KvsError {
  return new KvsError('ERR_SIGNALING_CLOSED', 'the signaling client is closed');
}

export function abortError(): KvsError {
  return new KvsError('ERR_ABORTED', 'the operation was aborted');
}
