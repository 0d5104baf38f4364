#!/usr/bin/env node
// Makes the sample media (samples/) and the C++ test fixtures of the RTP payload formats
// (test/cpp/fixtures/media/) from ffmpeg's synthetic sources. Run by hand, not by `npm test`;
// the outputs are committed:
//
//   apt-get install -y ffmpeg          # Debian's build has libx264, libx265, libvpx, libopus
//   node scripts/make-sample-media.mjs
//
// Outputs:
//   samples/h264/frame-0001.h264 ... frame-0250.h264
//       H.264 Constrained Baseline 640x480, 25 fps, an IDR every 25 frames with SPS/PPS in-band,
//       no B-frames; one Annex-B access unit per file (4-byte start codes), like the C SDK's
//       sample frame-%04d.h264.
//   samples/opus/sample-001.opus ... sample-501.opus
//       Opus 48 kHz mono, 20 ms per packet (10 s plus the encoder's pre-skip); one raw Opus
//       packet per file (the Ogg container is taken apart here: pages, lacing, OpusHead and
//       OpusTags are skipped), like the C SDK's sample-%03d.opus.
//   test/cpp/fixtures/media/*.bin and media_fixtures.h
//       A few frames of each codec at 320x240 (H.264 IDR with SPS/PPS/SEI, P frames and a second
//       IDR; H.265 IDR with VPS/SPS/PPS/SEI, P frames and a second IDR; VP8 from an IVF file:
//       a key frame and inter frames), Opus packets, and 20 ms PCMU and PCMA frames. The header
//       embeds every .bin file as a hex string so that the test binary needs no file paths; the
//       .bin files are the source of truth (`--header-only` rewrites the header from them).
//
// The ffmpeg command lines (the same options every run; single-threaded encoders, so a rerun
// with the same ffmpeg and encoder versions reproduces the files byte for byte; another x264,
// x265, libvpx or libopus version may change the bytes, and the x264 and x265 SEI carry the
// encoder's version string):
//
//   ffmpeg -f lavfi -i testsrc2=size=640x480:rate=25 -frames:v 250 -pix_fmt yuv420p
//     -c:v libx264 -profile:v baseline -level:v 3.1 -preset veryfast -b:v 400k -maxrate 400k
//     -bufsize 400k -x264-params keyint=25:min-keyint=25:scenecut=0:bframes=0:repeat-headers=1:
//     threads=1:aud=0 -flags +bitexact -fflags +bitexact -f h264 h264-640x480.h264
//   ffmpeg -f lavfi -i sine=frequency=440:beep_factor=2:sample_rate=48000 -t 10 -ac 1
//     -c:a libopus -b:a 32k -vbr off -frame_duration 20 -application audio
//     -flags +bitexact -fflags +bitexact -f ogg opus-48k.ogg
//   (fixtures) the H.264 line with size=320x240, -frames:v 27, -b:v 200k (and -maxrate,
//     -bufsize 200k)
//   ffmpeg -f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 27 -pix_fmt yuv420p -c:v libx265
//     -preset veryfast -b:v 200k -x265-params keyint=25:min-keyint=25:scenecut=0:bframes=0:
//     open-gop=0:repeat-headers=1:aud=0:frame-threads=1:pools=none:log-level=error
//     -flags +bitexact -fflags +bitexact -f hevc h265-320x240.h265
//   ffmpeg -f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 27 -pix_fmt yuv420p -c:v libvpx
//     -deadline realtime -cpu-used 8 -threads 1 -g 25 -keyint_min 25 -auto-alt-ref 0
//     -lag-in-frames 0 -b:v 200k -flags +bitexact -fflags +bitexact -f ivf vp8-320x240.ivf
//   ffmpeg -f lavfi -i sine=frequency=440:sample_rate=8000 -t 0.04 -ac 1 -c:a pcm_mulaw -f mulaw
//     (and -c:a pcm_alaw -f alaw) g711.raw
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = path.join(ROOT, 'samples');
const FIXTURES = path.join(ROOT, 'test', 'cpp', 'fixtures', 'media');
const BITEXACT = ['-flags', '+bitexact', '-fflags', '+bitexact'];

function ffmpeg(args, out) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, out], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return fs.readFileSync(out);
}

function h264Args(size, frames, bitrate) {
  return [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-frames:v', String(frames)],
    ...['-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-profile:v', 'baseline', '-level:v', '3.1'],
    ...['-preset', 'veryfast', '-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate],
    '-x264-params',
    'keyint=25:min-keyint=25:scenecut=0:bframes=0:repeat-headers=1:threads=1:aud=0',
    ...BITEXACT,
    ...['-f', 'h264'],
  ];
}

function h265Args(size, frames, bitrate) {
  return [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-frames:v', String(frames)],
    ...['-pix_fmt', 'yuv420p', '-c:v', 'libx265', '-preset', 'veryfast', '-b:v', bitrate],
    '-x265-params',
    'keyint=25:min-keyint=25:scenecut=0:bframes=0:open-gop=0:repeat-headers=1:aud=0:' +
      'frame-threads=1:pools=none:log-level=error',
    ...BITEXACT,
    ...['-f', 'hevc'],
  ];
}

function vp8Args(size, frames, bitrate) {
  return [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-frames:v', String(frames)],
    ...['-pix_fmt', 'yuv420p', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'],
    ...['-threads', '1', '-g', '25', '-keyint_min', '25', '-auto-alt-ref', '0'],
    ...['-lag-in-frames', '0', '-b:v', bitrate],
    ...BITEXACT,
    ...['-f', 'ivf'],
  ];
}

function opusArgs() {
  return [
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:beep_factor=2:sample_rate=48000', '-t', '10'],
    ...['-ac', '1', '-c:a', 'libopus', '-b:a', '32k', '-vbr', 'off', '-frame_duration', '20'],
    ...['-application', 'audio'],
    ...BITEXACT,
    ...['-f', 'ogg'],
  ];
}

function g711Args(codec, format) {
  return [
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-t', '0.04', '-ac', '1'],
    ...['-c:a', codec],
    ...BITEXACT,
    ...['-f', format],
  ];
}

// --- Annex-B access units -------------------------------------------------------------------

// The NAL units of an Annex-B stream (start codes and the zeros before them removed).
function annexBNalUnits(buf) {
  const starts = [];
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      starts.push(i);
      i += 2;
    }
  }
  const nals = [];
  for (let k = 0; k < starts.length; k++) {
    const begin = starts[k] + 3;
    let end = k + 1 < starts.length ? starts[k + 1] : buf.length;
    while (end > begin && buf[end - 1] === 0) end--;
    if (end > begin) nals.push(buf.subarray(begin, end));
  }
  return nals;
}

// Groups NAL units into access units (H.264 §7.4.1.2.3, H.265 §7.4.2.4.4): one starts at a
// parameter set, AUD or prefix SEI after a picture's slices, or at a slice that is the first of
// its picture (first_mb_in_slice 0 / first_slice_segment_in_pic_flag 1: the first bit after the
// NAL header is 1).
function accessUnits(nals, codec) {
  const h265 = codec === 'h265';
  const units = [];
  let current = [];
  let hasVcl = false;
  for (const nal of nals) {
    const type = h265 ? (nal[0] >> 1) & 0x3f : nal[0] & 0x1f;
    const headerSize = h265 ? 2 : 1;
    const vcl = h265 ? type <= 31 : type >= 1 && type <= 5;
    const firstSlice = vcl && nal.length > headerSize && (nal[headerSize] & 0x80) !== 0;
    const prefix = h265 ? (type >= 32 && type <= 35) || type === 39 : type >= 6 && type <= 9;
    if (hasVcl && (firstSlice || prefix)) {
      units.push(current);
      current = [];
      hasVcl = false;
    }
    current.push(nal);
    if (vcl) hasVcl = true;
  }
  if (current.length > 0) units.push(current);
  return units;
}

function annexB(nals) {
  const startCode = Buffer.from([0, 0, 0, 1]);
  return Buffer.concat(nals.flatMap((nal) => [startCode, nal]));
}

function nalTypes(nals, codec) {
  return nals.map((n) => (codec === 'h265' ? (n[0] >> 1) & 0x3f : n[0] & 0x1f));
}

// --- Containers -----------------------------------------------------------------------------

// IVF (libvpx's container): a 32-byte file header ("DKIF", version, header size, fourcc, ...),
// then per frame a 12-byte header (little-endian size, 64-bit timestamp) and the frame.
function ivfFrames(buf) {
  if (buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const headerSize = buf.readUInt16LE(6);
  const frames = [];
  let at = headerSize;
  while (at + 12 <= buf.length) {
    const size = buf.readUInt32LE(at);
    at += 12;
    if (at + size > buf.length) throw new Error(`IVF frame at ${at} runs past the end`);
    frames.push(buf.subarray(at, at + size));
    at += size;
  }
  return frames;
}

// Ogg (RFC 3533): pages of "OggS", version, header type, granule position (8), serial (4), page
// sequence (4), CRC (4), a segment count and a lacing table; a packet is a run of segments ended
// by one shorter than 255 bytes, and may continue on the next page. The first two packets of an
// Ogg Opus stream are OpusHead and OpusTags (RFC 7845 §5); the rest are audio packets.
function oggPackets(buf) {
  const packets = [];
  let partial = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no Ogg page at ${at}`);
    const segments = buf[at + 26];
    let body = at + 27 + segments;
    for (let s = 0; s < segments; s++) {
      const lace = buf[at + 27 + s];
      partial.push(buf.subarray(body, body + lace));
      body += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    at = body;
  }
  if (partial.length > 0) throw new Error('the last Ogg packet is unfinished');
  return packets;
}

function opusAudioPackets(buf) {
  const packets = oggPackets(buf);
  if (packets[0]?.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('no OpusHead');
  if (packets[1]?.toString('latin1', 0, 8) !== 'OpusTags') throw new Error('no OpusTags');
  return packets.slice(2);
}

// The frame duration a TOC byte's configuration (its top 5 bits) gives (RFC 6716 §3.1 Table 2).
function opusFrameMs(toc) {
  const config = toc >> 3;
  if (config < 12) return [10, 20, 40, 60][config % 4]; // SILK-only
  if (config < 16) return [10, 20][config % 2]; // hybrid
  return [2.5, 5, 10, 20][config % 4]; // CELT-only
}

// --- Output ---------------------------------------------------------------------------------

function writeNumbered(dir, pattern, items) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  items.forEach((item, i) => {
    const name = pattern.replace(/%0(\d)d/, (_, w) => String(i + 1).padStart(Number(w), '0'));
    fs.writeFileSync(path.join(dir, name), item);
  });
}

// "h264-idr.bin" -> "kH264Idr".
function constantName(file) {
  const words = file.replace(/\.bin$/, '').split(/[^A-Za-z0-9]+/);
  return 'k' + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

function writeHeader(dir) {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort();
  const parts = [
    '// Generated by scripts/make-sample-media.mjs from the *.bin files next to this header, which',
    '// are the source of truth. Do not edit by hand: regenerate with',
    '//   node scripts/make-sample-media.mjs --header-only',
    '// Each constant is the file as hex digits (two per byte).',
    '#pragma once',
    '',
    '#include <string_view>',
    '',
    'namespace kvs::media::fixtures {',
    '',
    '// clang-format off',
  ];
  for (const file of files) {
    const hex = fs.readFileSync(path.join(dir, file)).toString('hex');
    parts.push(`// ${file} (${hex.length / 2} bytes)`);
    parts.push(`inline constexpr std::string_view ${constantName(file)} =`);
    const lines = [];
    for (let i = 0; i < hex.length; i += 96) lines.push(`    "${hex.slice(i, i + 96)}"`);
    parts.push(lines.join('\n') + ';');
  }
  parts.push('// clang-format on', '', '}  // namespace kvs::media::fixtures', '');
  fs.writeFileSync(path.join(dir, 'media_fixtures.h'), parts.join('\n'));
}

function dirSize(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return total;
}

function main() {
  if (process.argv[2] === '--header-only') {
    writeHeader(FIXTURES);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-media-'));
  try {
    // Samples.
    const h264 = ffmpeg(h264Args('640x480', 250, '400k'), path.join(tmp, 'h264-640x480.h264'));
    const h264Units = accessUnits(annexBNalUnits(h264), 'h264');
    if (h264Units.length !== 250) throw new Error(`${h264Units.length} H.264 access units`);
    h264Units.forEach((u, i) => {
      const types = nalTypes(u, 'h264');
      const idr = types.includes(5);
      if (idr !== (i % 25 === 0)) throw new Error(`H.264 frame ${i + 1}: IDR ${idr}`);
      if (idr && !(types.includes(7) && types.includes(8))) {
        throw new Error(`H.264 IDR ${i + 1} lacks SPS/PPS`);
      }
    });
    writeNumbered(path.join(SAMPLES, 'h264'), 'frame-%04d.h264', h264Units.map(annexB));

    const opus = opusAudioPackets(ffmpeg(opusArgs(), path.join(tmp, 'opus-48k.ogg')));
    for (const p of opus) {
      if (opusFrameMs(p[0]) !== 20 || (p[0] & 3) !== 0) {
        throw new Error(`Opus packet TOC 0x${p[0].toString(16)} is not one 20 ms frame`);
      }
    }
    writeNumbered(path.join(SAMPLES, 'opus'), 'sample-%03d.opus', opus);

    // Fixtures.
    fs.rmSync(FIXTURES, { recursive: true, force: true });
    fs.mkdirSync(FIXTURES, { recursive: true });
    const put = (name, bytes) => fs.writeFileSync(path.join(FIXTURES, name), bytes);

    const fx264 = accessUnits(
      annexBNalUnits(ffmpeg(h264Args('320x240', 27, '200k'), path.join(tmp, 'h264-small.h264'))),
      'h264',
    );
    put('h264-idr.bin', annexB(fx264[0]));
    put('h264-p1.bin', annexB(fx264[1]));
    put('h264-p2.bin', annexB(fx264[2]));
    put('h264-idr2.bin', annexB(fx264[25]));

    const fx265 = accessUnits(
      annexBNalUnits(ffmpeg(h265Args('320x240', 27, '200k'), path.join(tmp, 'h265-small.h265'))),
      'h265',
    );
    put('h265-idr.bin', annexB(fx265[0]));
    put('h265-p1.bin', annexB(fx265[1]));
    put('h265-p2.bin', annexB(fx265[2]));
    put('h265-idr2.bin', annexB(fx265[25]));

    const vp8 = ivfFrames(ffmpeg(vp8Args('320x240', 27, '200k'), path.join(tmp, 'vp8.ivf')));
    if ((vp8[0][0] & 1) !== 0 || (vp8[1][0] & 1) !== 1) throw new Error('VP8 frame types');
    put('vp8-key.bin', vp8[0]);
    put('vp8-inter1.bin', vp8[1]);
    put('vp8-inter2.bin', vp8[2]);
    put('vp8-key2.bin', vp8[25]);

    put('opus-1.bin', opus[0]);
    put('opus-2.bin', opus[1]);
    put('opus-50.bin', opus[49]);

    const pcmu = ffmpeg(g711Args('pcm_mulaw', 'mulaw'), path.join(tmp, 'pcmu.raw'));
    const pcma = ffmpeg(g711Args('pcm_alaw', 'alaw'), path.join(tmp, 'pcma.raw'));
    if (pcmu.length !== 320 || pcma.length !== 320) throw new Error('G.711: not 2 x 160 bytes');
    put('pcmu-1.bin', pcmu.subarray(0, 160));
    put('pcmu-2.bin', pcmu.subarray(160));
    put('pcma-1.bin', pcma.subarray(0, 160));
    put('pcma-2.bin', pcma.subarray(160));

    writeHeader(FIXTURES);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const samples = dirSize(SAMPLES);
  const fixtures = dirSize(FIXTURES);
  console.log(
    `samples/ ${samples} bytes, test/cpp/fixtures/media/ ${fixtures} bytes, ` +
      `${samples + fixtures} bytes in all`,
  );
}

main();
