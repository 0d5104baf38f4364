// Real encoded media for the tests: the committed ffmpeg-made samples (scripts/make-sample-media.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './root.js';

/** The H.264 sample: 250 Annex-B access units, 640x480 constrained baseline, 25 fps, IDR every 25. */
export function h264Samples(count = 250): Buffer[] {
  const dir = path.join(ROOT, 'samples', 'h264');
  const out: Buffer[] = [];
  for (let i = 1; i <= count; i++) {
    out.push(fs.readFileSync(path.join(dir, `frame-${String(i).padStart(4, '0')}.h264`)));
  }
  return out;
}

/** The Opus sample: 20 ms packets at 48 kHz. */
export function opusSamples(count = 100): Buffer[] {
  const dir = path.join(ROOT, 'samples', 'opus');
  const out: Buffer[] = [];
  for (let i = 1; i <= count; i++) {
    out.push(fs.readFileSync(path.join(dir, `sample-${String(i).padStart(3, '0')}.opus`)));
  }
  return out;
}

/** The NAL units of an Annex-B stream (3- or 4-byte start codes), without their start codes. */
export function nalUnits(annexB: Buffer): Buffer[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      const four = i > 0 && annexB[i - 1] === 0;
      starts.push({ at: four ? i - 1 : i, len: four ? 4 : 3 });
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? (starts[k + 1]?.at ?? annexB.length) : annexB.length;
    while (end > s.at + s.len && annexB[end - 1] === 0) end--; // trailing_zero_8bits
    return annexB.subarray(s.at + s.len, end);
  });
}

/** H.264 NAL unit type. */
export const nalType = (nal: Buffer): number => (nal[0] ?? 0) & 0x1f;

/**
 * What a receiver must rebuild of a sent access unit: its NAL units minus those RTP never
 * carries (access unit delimiters 9, filler 12).
 */
export function carriedNals(annexB: Buffer): string[] {
  return nalUnits(annexB)
    .filter((n) => nalType(n) !== 9 && nalType(n) !== 12)
    .map((n) => n.toString('hex'));
}

export const isIdr = (annexB: Buffer): boolean => nalUnits(annexB).some((n) => nalType(n) === 5);
