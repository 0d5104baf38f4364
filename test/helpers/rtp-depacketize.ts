// A small reference depacketizer for the node-datachannel suite: node-datachannel 0.33 exposes
// libdatachannel's H.264/H.265 packetizers to JavaScript but no depacketizer, so what its track
// hands out (decrypted RTP packets) is put back together here, independently of the native
// core, from the RFCs: RTP (RFC 3550 §5.1), H.264 (RFC 6184 §5.6-5.8: single NAL, STAP-A,
// FU-A) and H.265 (RFC 7798 §4.4: single NAL, AP, FU).

export interface RtpPacket {
  sequence: number;
  timestamp: number;
  ssrc: number;
  payloadType: number;
  marker: boolean;
  payload: Buffer;
}

/** One RTP packet, or null for RTCP and anything too short or malformed. */
export function parseRtp(buf: Buffer): RtpPacket | null {
  if (buf.length < 12 || buf[0] === undefined || buf[0] >> 6 !== 2) return null;
  const payloadType = (buf[1] ?? 0) & 0x7f;
  if (payloadType >= 72 && payloadType <= 79) return null; // RTCP (RFC 5761 §4)
  let offset = 12 + (buf[0] & 0x0f) * 4;
  if (buf[0] & 0x10) {
    if (buf.length < offset + 4) return null;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  let end = buf.length;
  if (buf[0] & 0x20) end -= buf[buf.length - 1] ?? 0;
  if (end < offset) return null;
  return {
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payloadType,
    marker: ((buf[1] ?? 0) & 0x80) !== 0,
    payload: buf.subarray(offset, end),
  };
}

/** The NAL units of one frame's payloads, in order. */
function nalsOf(payloads: Buffer[], codec: 'H264' | 'H265'): Buffer[] {
  const nals: Buffer[] = [];
  let fragment: Buffer[] = [];
  const header = codec === 'H264' ? 1 : 2;
  for (const p of payloads) {
    if (p.length < header) continue;
    const type = codec === 'H264' ? (p[0] ?? 0) & 0x1f : ((p[0] ?? 0) >> 1) & 0x3f;
    const aggregate = codec === 'H264' ? type === 24 : type === 48;
    const fu = codec === 'H264' ? type === 28 : type === 49;
    if (aggregate) {
      for (let at = header; at + 2 <= p.length;) {
        const size = p.readUInt16BE(at);
        nals.push(p.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
    } else if (fu) {
      const fuHeader = p[header] ?? 0;
      const start = (fuHeader & 0x80) !== 0;
      const end = (fuHeader & 0x40) !== 0;
      if (start) {
        // The NAL header rebuilt from the FU indicator and the FU header's type.
        fragment =
          codec === 'H264'
            ? [Buffer.from([((p[0] ?? 0) & 0xe0) | (fuHeader & 0x1f)])]
            : [Buffer.from([((p[0] ?? 0) & 0x81) | ((fuHeader & 0x3f) << 1), p[1] ?? 0])];
      }
      fragment.push(p.subarray(header + 1));
      if (end) {
        nals.push(Buffer.concat(fragment));
        fragment = [];
      }
    } else {
      nals.push(p);
    }
  }
  return nals;
}

/**
 * Frames from RTP packets of one SSRC: the packets of a timestamp, in sequence order, up to the
 * marker, as an Annex-B access unit (4-byte start codes).
 */
export function depacketize(
  packets: RtpPacket[],
  codec: 'H264' | 'H265',
): { timestamp: number; annexB: Buffer }[] {
  const byTimestamp = new Map<number, RtpPacket[]>();
  for (const p of packets) {
    if (p.payload.length === 0) continue; // padding only
    const list = byTimestamp.get(p.timestamp) ?? [];
    list.push(p);
    byTimestamp.set(p.timestamp, list);
  }
  const frames: { timestamp: number; annexB: Buffer }[] = [];
  for (const [timestamp, list] of byTimestamp) {
    // Within a frame the sequence numbers are close: order them across a 16-bit wrap.
    const base = list[0]?.sequence ?? 0;
    list.sort(
      (a, b) => ((a.sequence - base + 0x18000) & 0xffff) - ((b.sequence - base + 0x18000) & 0xffff),
    );
    if (!list.at(-1)?.marker) continue; // incomplete
    const nals = nalsOf(
      list.map((p) => p.payload),
      codec,
    );
    frames.push({
      timestamp,
      annexB: Buffer.concat(nals.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n])),
    });
  }
  return frames;
}
