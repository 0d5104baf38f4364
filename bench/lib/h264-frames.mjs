// The media benchmark's frames: real H.264 of about 100 KB each, from a high-bitrate ffmpeg
// encode (libx264 baseline, 1280x720 test pattern with temporal noise so that every frame
// costs bits, constant 23 Mbit/s at 25 fps with a one-frame VBV, no filler data: every byte is
// slice data that any packetizer must carry). Made once and cached in the temp directory.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ARGS = [
  ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-vf', 'noise=alls=12:allf=t'],
  ...['-frames:v', '100', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-profile:v', 'baseline'],
  ...['-preset', 'ultrafast', '-b:v', '23M', '-maxrate', '23M', '-bufsize', '880k'],
  '-x264-params',
  'keyint=25:min-keyint=25:scenecut=0:bframes=0:repeat-headers=1:threads=1:aud=0',
  ...['-flags', '+bitexact', '-fflags', '+bitexact', '-f', 'h264'],
];

function nalUnits(buf) {
  const starts = [];
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1] - 3 : buf.length;
    while (end > s && buf[end - 1] === 0) end--;
    return buf.subarray(s, end);
  });
}

/** Access units (H.264 §7.4.1.2.3): a new one at SPS/PPS/SEI/AUD after slices, or at a slice
 * whose first_mb_in_slice is 0 (the bit after the NAL header is 1). */
function accessUnits(nals) {
  const units = [];
  let current = [];
  let hasSlice = false;
  for (const nal of nals) {
    const type = nal[0] & 0x1f;
    const slice = type >= 1 && type <= 5;
    const first = slice && nal.length > 1 && (nal[1] & 0x80) !== 0;
    if (hasSlice && (first || (type >= 6 && type <= 9))) {
      units.push(current);
      current = [];
      hasSlice = false;
    }
    current.push(nal);
    if (slice) hasSlice = true;
  }
  if (current.length > 0) units.push(current);
  const startCode = Buffer.from([0, 0, 0, 1]);
  return units.map((u) => Buffer.concat(u.flatMap((n) => [startCode, n])));
}

/** The path of the encoded stream, made when missing. */
export function benchStreamPath() {
  const file = path.join(os.tmpdir(), 'kvs-bench-h264-1280x720-100k.h264');
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...ARGS, tmp], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    fs.renameSync(tmp, file);
  }
  return file;
}

/** The 100 access units, Annex-B with 4-byte start codes (IDR every 25). */
export function benchFrames(file = benchStreamPath()) {
  const frames = accessUnits(nalUnits(fs.readFileSync(file)));
  if (frames.length !== 100) throw new Error(`${file}: ${frames.length} access units, not 100`);
  return frames;
}
