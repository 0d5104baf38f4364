/**
 * The few STUN messages NAT behaviour discovery needs (RFC 5389 Binding, RFC 5780
 * CHANGE-REQUEST, OTHER-ADDRESS, RESPONSE-ORIGIN): a request encoder and a bounds-checked
 * response parser. Pure: no I/O, no clock.
 */

export const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const BINDING_ERROR = 0x0111;

const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  CHANGE_REQUEST: 0x0003,
  CHANGED_ADDRESS: 0x0005, // RFC 3489's name for what RFC 5780 calls OTHER-ADDRESS
  ERROR_CODE: 0x0009,
  XOR_MAPPED_ADDRESS: 0x0020,
  RESPONSE_ORIGIN: 0x802b,
  OTHER_ADDRESS: 0x802c,
} as const;

export interface TransportAddress {
  address: string;
  port: number;
}

/** A Binding request, optionally asking the server to answer from its other IP and/or port. */
export function encodeBindingRequest(
  transactionId: Uint8Array,
  change: { ip?: boolean; port?: boolean } = {},
): Buffer {
  if (transactionId.length !== 12) throw new RangeError('a STUN transaction id has 12 bytes');
  const withChange = change.ip === true || change.port === true;
  const out = Buffer.alloc(20 + (withChange ? 8 : 0));
  out.writeUInt16BE(BINDING_REQUEST, 0);
  out.writeUInt16BE(withChange ? 8 : 0, 2);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  Buffer.from(transactionId).copy(out, 8);
  if (withChange) {
    out.writeUInt16BE(ATTR.CHANGE_REQUEST, 20);
    out.writeUInt16BE(4, 22);
    out.writeUInt32BE((change.ip ? 0x04 : 0) | (change.port ? 0x02 : 0), 24);
  }
  return out;
}

export interface BindingResponse {
  transactionId: Buffer;
  success: boolean;
  /** XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS. */
  mapped: TransportAddress | undefined;
  /** OTHER-ADDRESS (RFC 5780), else CHANGED-ADDRESS (RFC 3489). */
  other: TransportAddress | undefined;
  responseOrigin: TransportAddress | undefined;
  errorCode: number | undefined;
}

/** Reads a (XOR-)MAPPED-ADDRESS-shaped value; undefined when malformed. */
function readAddress(v: Buffer, xor: boolean, transactionId: Buffer): TransportAddress | undefined {
  if (v.length < 4) return undefined;
  const family = v[1];
  let port = v.readUInt16BE(2);
  if (xor) port ^= MAGIC_COOKIE >>> 16;
  if (family === 0x01) {
    if (v.length !== 8) return undefined;
    const raw = v.readUInt32BE(4);
    const ip = xor ? (raw ^ MAGIC_COOKIE) >>> 0 : raw;
    return { address: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'), port };
  }
  if (family === 0x02) {
    if (v.length !== 20) return undefined;
    const bytes = Buffer.from(v.subarray(4, 20));
    if (xor) {
      const mask = Buffer.alloc(16);
      mask.writeUInt32BE(MAGIC_COOKIE, 0);
      transactionId.copy(mask, 4);
      for (let i = 0; i < 16; i++) bytes[i] = (bytes[i] ?? 0) ^ (mask[i] ?? 0);
    }
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return { address: groups.join(':'), port };
  }
  return undefined;
}

/**
 * Parses a Binding response; undefined for anything that is not a well-formed STUN Binding
 * success or error response (a datagram from the network: every length is checked).
 */
export function parseBindingResponse(datagram: Uint8Array): BindingResponse | undefined {
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (b.length < 20) return undefined;
  const type = b.readUInt16BE(0);
  const length = b.readUInt16BE(2);
  if (type !== BINDING_SUCCESS && type !== BINDING_ERROR) return undefined;
  if (b.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  if (length % 4 !== 0 || 20 + length !== b.length) return undefined;
  const transactionId = Buffer.from(b.subarray(8, 20));
  const out: BindingResponse = {
    transactionId,
    success: type === BINDING_SUCCESS,
    mapped: undefined,
    other: undefined,
    responseOrigin: undefined,
    errorCode: undefined,
  };
  let plainMapped: TransportAddress | undefined;
  let changed: TransportAddress | undefined;
  let at = 20;
  while (at + 4 <= b.length) {
    const t = b.readUInt16BE(at);
    const len = b.readUInt16BE(at + 2);
    const start = at + 4;
    if (start + len > b.length) return undefined;
    const v = b.subarray(start, start + len);
    switch (t) {
      case ATTR.XOR_MAPPED_ADDRESS:
        out.mapped = readAddress(v, true, transactionId);
        break;
      case ATTR.MAPPED_ADDRESS:
        plainMapped = readAddress(v, false, transactionId);
        break;
      case ATTR.OTHER_ADDRESS:
        out.other = readAddress(v, false, transactionId);
        break;
      case ATTR.CHANGED_ADDRESS:
        changed = readAddress(v, false, transactionId);
        break;
      case ATTR.RESPONSE_ORIGIN:
        out.responseOrigin = readAddress(v, false, transactionId);
        break;
      case ATTR.ERROR_CODE:
        if (v.length >= 4) out.errorCode = (v[2] ?? 0) * 100 + (v[3] ?? 0);
        break;
      default:
        break;
    }
    at = start + len + ((4 - (len % 4)) % 4);
  }
  out.mapped ??= plainMapped;
  out.other ??= changed;
  return out;
}

export const sameAddress = (a: TransportAddress | undefined, b: TransportAddress | undefined) =>
  a !== undefined && b !== undefined && a.address === b.address && a.port === b.port;
