// Media between kvs-webrtc and headless Chromium (Debian's, a plain RTCPeerConnection), both in
// a private network namespace (chromium-media.mjs says how). Chromium is the judge: what
// kvs-webrtc sends must decode there, at the size it was encoded; what Chromium's fake camera
// and microphone send must arrive here as whole frames that ffmpeg decodes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeErrors, probe } from '../helpers/ffmpeg.js';
import { NETNS_ADDRESS, runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';
import {
  type ChromiumMediaOptions,
  type ChromiumMediaOutcome,
  videoM,
} from '../helpers/chromium-media.js';

const script = path.join(ROOT, 'test', 'interop', 'chromium-media.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-chromium-media-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(options: ChromiumMediaOptions): ChromiumMediaOutcome {
  const seconds = options.seconds ?? 5;
  const r = runInNetns(
    [script, JSON.stringify({ address: NETNS_ADDRESS, ...options })],
    90_000 + seconds * 1000,
  );
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  const out = JSON.parse(line) as ChromiumMediaOutcome;
  expect(out.error, r.stderr).toBeUndefined();
  return out;
}

/** What Chromium decoded of what kvs-webrtc sent: growing, at 640x480, with the audio. */
function expectChromiumDecodes(out: ChromiumMediaOutcome, mime: string): void {
  const video = out.chromium.inbound['video'];
  const halfway = out.chromiumHalfway.inbound['video'];
  expect(halfway?.['framesDecoded'], 'frames decoded halfway').toBeGreaterThan(0);
  expect(video?.['framesDecoded'], 'frames decoded at the end').toBeGreaterThan(
    halfway?.['framesDecoded'] as number,
  );
  expect(video?.['keyFramesDecoded']).toBeGreaterThanOrEqual(1);
  expect(video?.['frameWidth']).toBe(640);
  expect(video?.['frameHeight']).toBe(480);
  expect(out.chromium.codecs[video?.['codecId'] as string]?.['mimeType']).toBe(mime);
  const audio = out.chromium.inbound['audio'];
  const audioHalfway = out.chromiumHalfway.inbound['audio'];
  expect(audioHalfway?.['totalSamplesReceived'], 'audio samples halfway').toBeGreaterThan(0);
  expect(audio?.['totalSamplesReceived']).toBeGreaterThan(
    audioHalfway?.['totalSamplesReceived'] as number,
  );
  expect(out.chromium.codecs[audio?.['codecId'] as string]?.['mimeType']).toBe('audio/opus');
}

/** The H.264 payload types Chromium offered, with their fmtp. */
function offeredH264(sdp: string): { pt: string; fmtp: string }[] {
  const m = videoM(sdp);
  return [...m.matchAll(/^a=rtpmap:(\d+) H264\/90000/gm)].map((x) => ({
    pt: x[1] as string,
    fmtp: new RegExp(`^a=fmtp:${x[1]} (.*)$`, 'm').exec(m)?.[1] ?? '',
  }));
}

describe.skipIf(skipWithoutNetns('media with Chromium'))(
  'kvs-webrtc sends, Chromium decodes',
  () => {
    it('H.264 and Opus, kvs-webrtc offering', () => {
      const out = run({ offerer: 'kvs', video: 'H264' });
      expectChromiumDecodes(out, 'video/H264');
    }, 150_000);

    it('H.264 and Opus, Chromium offering: the answer picks constrained baseline, mode 1, Chromium payload type', () => {
      const out = run({ offerer: 'chromium', video: 'H264' });
      expectChromiumDecodes(out, 'video/H264');
      // Chromium offers several H.264 variants (baseline, constrained baseline, main; modes 0
      // and 1): the answer keeps exactly the one that is constrained baseline in mode 1.
      const offered = offeredH264(out.offer);
      expect(offered.length).toBeGreaterThanOrEqual(4);
      const wanted = offered.filter(
        (o) => /packetization-mode=1/.test(o.fmtp) && /profile-level-id=42e0/i.test(o.fmtp),
      );
      expect(wanted).toHaveLength(1);
      const answered = offeredH264(out.answer);
      expect(answered.map((a) => a.pt)).toEqual([wanted[0]?.pt]);
      expect(answered[0]?.fmtp).toMatch(/packetization-mode=1/);
      expect(answered[0]?.fmtp).toMatch(/profile-level-id=42e0/i);
      const codec = out.chromium.codecs[out.chromium.inbound['video']?.['codecId'] as string];
      expect(String(codec?.['payloadType'])).toBe(wanted[0]?.pt);
    }, 150_000);

    it('VP8 and Opus, kvs-webrtc offering', () => {
      expectChromiumDecodes(run({ offerer: 'kvs', video: 'VP8' }), 'video/VP8');
    }, 150_000);

    it('VP8 and Opus, Chromium offering', () => {
      expectChromiumDecodes(run({ offerer: 'chromium', video: 'VP8' }), 'video/VP8');
    }, 150_000);

    it('H.264 whose IDRs lack SPS/PPS (written once, on their own): the cached ones go first', () => {
      // Without them in front of the first IDR Chromium has none: it would decode nothing.
      const out = run({ offerer: 'kvs', video: 'H264', parameterSetsOnce: true });
      expectChromiumDecodes(out, 'video/H264');
      expect(out.chromium.inbound['video']?.['keyFramesDecoded']).toBeGreaterThanOrEqual(2);
    }, 150_000);

    it('H.264 written length-prefixed (AVCC, parameter sets once as from an avcC), Chromium offering', () => {
      const out = run({ offerer: 'chromium', video: 'H264', avcc: true, parameterSetsOnce: true });
      expectChromiumDecodes(out, 'video/H264');
    }, 150_000);
  },
);

describe.skipIf(skipWithoutNetns('media with Chromium'))(
  'Chromium sends its fake camera and microphone, kvs-webrtc receives',
  () => {
    /** Whole H.264 frames that ffmpeg decodes picture for picture at 640x480, and Opus. */
    function expectWholeMedia(out: ChromiumMediaOutcome, file: string): void {
      const video = out.received?.video;
      expect(video?.frames, 'H.264 frames received').toBeGreaterThan(25);
      expect(video?.keyFrames).toBeGreaterThanOrEqual(1);
      expect(video?.firstIsKey).toBe(true);
      expect(video?.ptsIncreasing).toBe(true);
      const p = probe(file, 'h264');
      expect(p).toMatchObject({ codec: 'h264', width: 640, height: 480 });
      expect(p.frames, 'pictures ffmpeg decoded').toBe(video?.frames);
      expect(decodeErrors(file, 'h264')).toBe('');
      expect(out.ours.inbound['video']).toMatchObject({ frameWidth: 640, frameHeight: 480 });
      const audio = out.received?.audio;
      expect(audio?.frames, 'Opus packets received').toBeGreaterThan(50);
      expect(audio?.minBytes).toBeGreaterThanOrEqual(1);
      expect(audio?.maxBytes).toBeLessThanOrEqual(1275); // RFC 6716 §3.2.1's largest frame
      // 20 ms packets at 48 kHz: every step is 960 (a multiple of it across a loss).
      for (const step of audio?.ptsSteps ?? []) expect(step % 960).toBe(0);
      expect(out.ours.inbound['audio']?.['totalSamplesReceived']).toBeGreaterThanOrEqual(
        (audio?.frames ?? 0) * 960,
      );
    }

    it('kvs-webrtc offering', () => {
      const file = path.join(tmp, 'kvs-offers.h264');
      const out = run({ offerer: 'kvs', sender: 'chromium', video: 'H264', annexBPath: file });
      expectWholeMedia(out, file);
    }, 150_000);

    it('Chromium offering', () => {
      const file = path.join(tmp, 'chromium-offers.h264');
      const out = run({ offerer: 'chromium', sender: 'chromium', video: 'H264', annexBPath: file });
      expectWholeMedia(out, file);
    }, 150_000);

    it('padding-only packets (Chromium probing bandwidth without RTX) are counted and harmless', () => {
      // Without RTX, Chromium's bandwidth probes are padding-only packets on the media SSRC,
      // taking sequence numbers between the frames' packets.
      const file = path.join(tmp, 'padding.h264');
      const out = run({
        offerer: 'kvs',
        sender: 'chromium',
        video: 'H264',
        noRtx: true,
        annexBPath: file,
      });
      const inbound = out.ours.inbound['video'];
      expect(inbound?.['paddingPacketsReceived'], 'padding-only packets').toBeGreaterThan(0);
      expect(inbound?.['retransmittedPacketsReceived']).toBe(0);
      expect(inbound?.['framesDropped']).toBe(0);
      expect(inbound?.['packetsDiscarded']).toBe(0);
      expectWholeMedia(out, file);
    }, 150_000);
  },
);
