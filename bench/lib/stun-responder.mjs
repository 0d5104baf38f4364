// A minimal STUN Binding responder (RFC 8489 §6.3.1: a success response carrying
// XOR-MAPPED-ADDRESS; IPv4 only), for werift, which waits for a STUN server while it gathers
// (see stacks.mjs). Benchmark use only: it checks nothing beyond the header.
import dgram from 'node:dgram';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;

/** Resolves with the bound socket (`.address().port` is the port; `close()` stops it). */
export function startStunResponder(address, port = 0) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, from) => {
    if (msg.length < 20 || msg.readUInt16BE(0) !== BINDING_REQUEST) return;
    if (msg.readUInt32BE(4) !== MAGIC_COOKIE || from.family !== 'IPv4') return;
    const out = Buffer.alloc(32);
    out.writeUInt16BE(BINDING_SUCCESS, 0);
    out.writeUInt16BE(12, 2); // one attribute: 4 bytes of header, 8 of value
    msg.copy(out, 4, 4, 20); // magic cookie and transaction id
    out.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
    out.writeUInt16BE(8, 22);
    out.writeUInt8(0x01, 25); // family IPv4
    out.writeUInt16BE(from.port ^ (MAGIC_COOKIE >>> 16), 26);
    const ip = from.address.split('.').map(Number);
    out.writeUInt32BE(
      (((ip[0] << 24) | (ip[1] << 16) | (ip[2] << 8) | ip[3]) ^ MAGIC_COOKIE) >>> 0,
      28,
    );
    sock.send(out, from.port, from.address);
  });
  sock.unref();
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, address, () => resolve(sock));
  });
}
