// A small PNG reader (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium's
// screenshots are), to tell a picture from a blank one. Pixels as RGBA.
import { inflateSync } from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  rgba: Buffer;
}

export function readPng(png: Buffer): Image {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (at + 8 <= png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const color = data[9];
      if (depth !== 8 || data[12] !== 0)
        throw new Error(`unsupported PNG: depth ${depth}, interlaced ${data[12]}`);
      channels = color === 0 ? 1 : color === 2 ? 3 : color === 6 ? 4 : 0;
      if (channels === 0) throw new Error(`unsupported PNG color type ${color}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (line[x - channels] ?? 0) : 0;
      const b = prev[x] ?? 0;
      const c = x >= channels ? (prev[x - channels] ?? 0) : 0;
      let v = line[x] ?? 0;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[x] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const i = x * channels;
      if (channels === 1) {
        out[o] = out[o + 1] = out[o + 2] = line[i] ?? 0;
        out[o + 3] = 255;
      } else {
        out[o] = line[i] ?? 0;
        out[o + 1] = line[i + 1] ?? 0;
        out[o + 2] = line[i + 2] ?? 0;
        out[o + 3] = channels === 4 ? (line[i + 3] ?? 0) : 255;
      }
    }
    prev = line;
  }
  return { width, height, rgba: out };
}

/** How much a picture varies: distinct colours (quantised to 5 bits) and luma spread. */
export function variety(img: Image): { colours: number; lumaStdDev: number } {
  const seen = new Set<number>();
  let sum = 0;
  let sq = 0;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = img.rgba[p * 4] ?? 0;
    const g = img.rgba[p * 4 + 1] ?? 0;
    const b = img.rgba[p * 4 + 2] ?? 0;
    seen.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += y;
    sq += y * y;
  }
  const mean = sum / n;
  return { colours: seen.size, lumaStdDev: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}
