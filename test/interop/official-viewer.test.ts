// The official JS SDK as a viewer in headless Chromium, through the local KVS service, against
// a small master of kvs-webrtc's SignalingClient and PeerConnection (official-viewer.mjs says
// how): the master's H.264 and Opus decode in the viewer's page.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatsRecord } from '../helpers/chromium-media.js';
import { NETNS_ADDRESS, runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

type Stats = Record<string, StatsRecord | undefined>;

describe.skipIf(skipWithoutNetns('official SDK viewer'))(
  'official JS SDK viewer in Chromium',
  () => {
    it('decodes H.264 at 640x480 and plays Opus from a kvs-webrtc master, through the local service', () => {
      const script = path.join(ROOT, 'test', 'interop', 'official-viewer.mjs');
      const r = runInNetns(
        [script, JSON.stringify({ address: NETNS_ADDRESS, seconds: 5 })],
        120_000,
      );
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      expect(line, r.stderr).toMatch(/^\{/);
      const out = JSON.parse(line) as { error?: string; halfway: Stats; end: Stats };
      expect(out.error, r.stderr).toBeUndefined();
      const video = out.end['video'];
      expect(out.halfway['video']?.['framesDecoded']).toBeGreaterThan(0);
      expect(video?.['framesDecoded']).toBeGreaterThan(
        out.halfway['video']?.['framesDecoded'] as number,
      );
      expect(video).toMatchObject({ frameWidth: 640, frameHeight: 480 });
      expect(out.end[video?.['codecId'] as string]?.['mimeType']).toBe('video/H264');
      const audio = out.end['audio'];
      expect(out.halfway['audio']?.['totalSamplesReceived']).toBeGreaterThan(0);
      expect(audio?.['totalSamplesReceived']).toBeGreaterThan(
        out.halfway['audio']?.['totalSamplesReceived'] as number,
      );
      expect(out.end[audio?.['codecId'] as string]?.['mimeType']).toBe('audio/opus');
    }, 150_000);
  },
);
