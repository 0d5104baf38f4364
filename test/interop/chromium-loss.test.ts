// Repair under 5% random loss between kvs-webrtc and Chromium (iptables in the private
// namespace drops 5% of every UDP datagram delivered, from before the connection starts;
// chromium-media.mjs says how). Each side is repaired by the other: NACK one way, RTX back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChromiumMediaOptions, ChromiumMediaOutcome } from '../helpers/chromium-media.js';
import { decodeErrors, probe } from '../helpers/ffmpeg.js';
import { NETNS_ADDRESS, runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

const script = path.join(ROOT, 'test', 'interop', 'chromium-media.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-chromium-loss-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const SECONDS = 8;

function run(options: ChromiumMediaOptions): ChromiumMediaOutcome {
  const r = runInNetns(
    [
      script,
      JSON.stringify({
        address: NETNS_ADDRESS,
        seconds: SECONDS,
        lossProbability: 0.05,
        ...options,
      }),
    ],
    120_000,
  );
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  const out = JSON.parse(line) as ChromiumMediaOutcome;
  expect(out.error, r.stderr).toBeUndefined();
  return out;
}

describe.skipIf(skipWithoutNetns('media with Chromium under loss'))(
  'media with Chromium under 5% loss',
  () => {
    it('kvs-webrtc repairs what Chromium sends: NACKs out, RTX in, the frames keep decoding', () => {
      const file = path.join(tmp, 'lossy.h264');
      const out = run({ sender: 'chromium', video: 'H264', audio: false, annexBPath: file });
      const ours = out.ours.inbound['video'];
      const theirs = out.chromium.outbound['video'];
      expect(ours?.['nackCount'], 'our NACKs').toBeGreaterThan(0);
      expect(theirs?.['nackCount'], 'NACKs Chromium received').toBeGreaterThan(0);
      expect(theirs?.['retransmittedPacketsSent'], 'Chromium resent').toBeGreaterThan(0);
      expect(ours?.['retransmittedPacketsReceived']).toBeGreaterThan(0);
      // Repaired, the frames keep coming, whole, to the end of the run...
      const video = out.received?.video;
      expect(
        video?.firstIsKey,
        JSON.stringify({ video, keyFramesSent: theirs?.['keyFramesEncoded'] }),
      ).toBe(true);
      expect(video?.lastPts ?? 0).toBeGreaterThan((SECONDS - 3) * 10_000_000);
      expect(video?.frames ?? 0).toBeGreaterThan(0.8 * Number(theirs?.['framesEncoded'] ?? 0));
      // ...and each is one picture that ffmpeg decodes at 640x480.
      const p = probe(file, 'h264');
      expect(p).toMatchObject({ width: 640, height: 480, frames: video?.frames });
      expect(decodeErrors(file, 'h264')).toBe('');
    }, 150_000);

    it('Chromium repairs what kvs-webrtc sends: the resent packets decrypt and complete the frames', () => {
      const out = run({ sender: 'kvs', video: 'H264', audio: true });
      const theirs = out.chromium.inbound['video'];
      const ours = out.ours.outbound['video'];
      expect(theirs?.['nackCount'], 'NACKs Chromium sent').toBeGreaterThan(0);
      expect(ours?.['nackCount'], 'NACKs we received').toBeGreaterThan(0);
      expect(ours?.['retransmittedPacketsSent']).toBeGreaterThan(0);
      expect(
        theirs?.['retransmittedPacketsReceived'],
        'resent packets Chromium took',
      ).toBeGreaterThan(0);
      // Without the repair about one frame in ten would break, and everything after it up
      // to the next IDR with it.
      expect(Number(theirs?.['framesDecoded'])).toBeGreaterThan(0.9 * Number(ours?.['framesSent']));
      expect(out.chromium.inbound['audio']?.['totalSamplesReceived']).toBeGreaterThan(0);
    }, 150_000);
  },
);
