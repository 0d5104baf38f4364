// Real encoded media for the media and interop suites, readable from the vitest files (through
// media-files.d.ts) and from the child scripts that run in network namespaces (plain node; a
// CommonJS module, so that both can import it):
// the committed samples (scripts/make-sample-media.mjs) and fixtures (test/fixtures/media/).
'use strict';
/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, for the vitest files and the child scripts alike */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'media');

/** The H.264 sample: Annex-B access units, 640x480 constrained baseline, 25 fps, IDR every 25. */
function h264Samples(count = 250) {
  const out = [];
  for (let i = 1; i <= count; i++) {
    const name = `frame-${String(i).padStart(4, '0')}.h264`;
    out.push(fs.readFileSync(path.join(ROOT, 'samples', 'h264', name)));
  }
  return out;
}

/** The Opus sample: 20 ms packets at 48 kHz. */
function opusSamples(count = 100) {
  const out = [];
  for (let i = 1; i <= count; i++) {
    const name = `sample-${String(i).padStart(3, '0')}.opus`;
    out.push(fs.readFileSync(path.join(ROOT, 'samples', 'opus', name)));
  }
  return out;
}

/**
 * The frames of an IVF file (libvpx's container): a header whose size is at byte 6, then per
 * frame a 12-byte header (little-endian size, 64-bit timestamp) and the frame.
 */
function ivfFrames(buf) {
  if (buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const frames = [];
  let at = buf.readUInt16LE(6);
  while (at + 12 <= buf.length) {
    const size = buf.readUInt32LE(at);
    at += 12;
    if (at + size > buf.length) throw new Error(`IVF frame at ${at} runs past the end`);
    frames.push(buf.subarray(at, at + size));
    at += size;
  }
  return frames;
}

/** The VP8 fixture: 75 frames, 640x480, 25 fps, a key frame every 25. */
function vp8Frames() {
  return ivfFrames(fs.readFileSync(path.join(FIXTURES, 'vp8-640x480.ivf')));
}

/** RFC 6386 §9.1: the low bit of the first byte is 0 for a key frame. */
const isVp8Key = (frame) => (frame[0] & 1) === 0;

/** The NAL units of an Annex-B stream (3- or 4-byte start codes), without start codes. */
function nalUnits(annexB) {
  const starts = [];
  for (let i = 0; i + 2 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      const four = i > 0 && annexB[i - 1] === 0;
      starts.push({ at: four ? i - 1 : i, len: four ? 4 : 3 });
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1].at : annexB.length;
    while (end > s.at + s.len && annexB[end - 1] === 0) end--; // trailing_zero_8bits
    return annexB.subarray(s.at + s.len, end);
  });
}

const h264Type = (nal) => nal[0] & 0x1f;
const h265Type = (nal) => (nal[0] >> 1) & 0x3f;

const annexB = (nals) =>
  Buffer.concat(nals.flatMap((n) => [Buffer.from([0, 0, 0, 1]), Buffer.from(n)]));

/**
 * Access units of an H.265 Annex-B stream (H.265 §7.4.2.4.4): a new one starts at a VPS, SPS,
 * PPS, AUD or prefix SEI after a picture's slices, or at a slice with
 * first_slice_segment_in_pic_flag set.
 */
function h265AccessUnits(stream) {
  const units = [];
  let current = [];
  let hasVcl = false;
  for (const nal of nalUnits(stream)) {
    const type = h265Type(nal);
    const vcl = type <= 31;
    const firstSlice = vcl && nal.length > 2 && (nal[2] & 0x80) !== 0;
    const prefix = (type >= 32 && type <= 35) || type === 39;
    if (hasVcl && (firstSlice || prefix)) {
      units.push(annexB(current));
      current = [];
      hasVcl = false;
    }
    current.push(nal);
    if (vcl) hasVcl = true;
  }
  if (current.length > 0) units.push(annexB(current));
  return units;
}

/** The H.265 fixture: 50 access units, 640x480, 25 fps, IDR (with VPS/SPS/PPS) every 25. */
function h265Samples() {
  return h265AccessUnits(fs.readFileSync(path.join(FIXTURES, 'h265-640x480.h265')));
}

/** H.264 IDR (5), or H.265 IRAP (16-23). */
function isKeyPicture(au, codec = 'H264') {
  return nalUnits(au).some((n) =>
    codec === 'H265' ? h265Type(n) >= 16 && h265Type(n) <= 23 : h264Type(n) === 5,
  );
}

const PARAMETER_SETS = { H264: [7, 8], H265: [32, 33, 34] };

/** The access unit without its parameter sets (SPS/PPS; for H.265 also the VPS). */
function stripParameterSets(au, codec = 'H264') {
  const type = codec === 'H265' ? h265Type : h264Type;
  return annexB(nalUnits(au).filter((n) => !PARAMETER_SETS[codec].includes(type(n))));
}

/** The access unit as AVCC/HVCC: each NAL unit behind a 4-byte big-endian length. */
function toLengthPrefixed(au) {
  return Buffer.concat(
    nalUnits(au).flatMap((n) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(n.length);
      return [len, Buffer.from(n)];
    }),
  );
}

/**
 * What a receiver must rebuild of a sent access unit, as hex strings: its NAL units minus
 * those RTP never carries (H.264 access unit delimiters 9 and filler 12; H.265 AUD 35 and
 * filler 38).
 */
function carriedNals(au, codec = 'H264') {
  const dropped = codec === 'H265' ? [35, 38] : [9, 12];
  const type = codec === 'H265' ? h265Type : h264Type;
  return nalUnits(au)
    .filter((n) => !dropped.includes(type(n)))
    .map((n) => Buffer.from(n).toString('hex'));
}

module.exports = {
  ROOT,
  h264Samples,
  opusSamples,
  ivfFrames,
  vp8Frames,
  isVp8Key,
  nalUnits,
  h264Type,
  h265Type,
  h265AccessUnits,
  h265Samples,
  isKeyPicture,
  stripParameterSets,
  toLengthPrefixed,
  carriedNals,
};
