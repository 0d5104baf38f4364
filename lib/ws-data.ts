import type { RawData } from 'ws';

/** A WebSocket frame's bytes as UTF-8 text, whichever of its shapes `ws` delivered. */
export function rawDataText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
