// Repair under loss, kvs-webrtc to kvs-webrtc: loss staged by iptables in a private network
// namespace (loss-session.mjs says how), the H.264 sample at 25 fps.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETNS_ADDRESS, runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';
import type { StatsRecord } from '../helpers/chromium-media.js';

interface LossOutcome {
  error?: string;
  written: number;
  received: number;
  offset: number;
  keyFrameRequests: string[];
  frames: { pts: number; key: boolean; same: boolean }[];
  outbound: StatsRecord;
  inbound: StatsRecord;
}

const FRAME = 400_000; // 40 ms in 100 ns units

function run(mode: 'random' | 'unrepairable'): LossOutcome {
  const script = path.join(ROOT, 'test', 'media', 'loss-session.mjs');
  const r = runInNetns([script, JSON.stringify({ address: NETNS_ADDRESS, mode })], 100_000);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  const out = JSON.parse(line) as LossOutcome;
  expect(out.error, r.stderr).toBeUndefined();
  return out;
}

describe.skipIf(skipWithoutNetns('media under loss'))('media under loss', () => {
  it('5% random loss: every one of 300 frames arrives whole, repaired by NACK and RTX', () => {
    const out = run('random');
    // The first 300 frames, in order, each NAL for NAL what was written at its time.
    const first = out.frames.slice(0, 300);
    expect(first).toHaveLength(300);
    expect(first.map((f) => f.pts)).toEqual(Array.from({ length: 300 }, (_, i) => i * FRAME));
    expect(first.filter((f) => !f.same)).toEqual([]);
    expect(out.inbound['framesDropped']).toBe(0);
    // The repair, seen from both ends: NACKs sent and received, packets resent over RTX.
    expect(out.inbound['nackCount']).toBeGreaterThan(0);
    expect(out.outbound['nackCount']).toBeGreaterThan(0);
    expect(out.outbound['retransmittedPacketsSent']).toBeGreaterThan(0);
    expect(out.inbound['retransmittedPacketsReceived']).toBeGreaterThan(0);
    // Resent packets decrypt (the copy kept for NACK was not encrypted in place).
    expect(out.inbound['packetsFailedDecryption']).toBe(0);
  }, 120_000);

  it('losses that cannot be repaired never stall: frames are given up, a key frame is asked for, the stream goes on', () => {
    const out = run('unrepairable');
    expect(out.frames.filter((f) => !f.same)).toEqual([]); // nothing broken is handed out
    expect(out.inbound['framesDropped']).toBeGreaterThan(0);
    expect(out.inbound['pliCount']).toBeGreaterThan(0);
    expect(out.keyFrameRequests).toContain('pli');
    expect(out.outbound['nackCount']).toBeGreaterThan(0); // the repair was tried, over RTX
    expect(out.inbound['retransmittedPacketsReceived']).toBe(0); // and RTX never got through
    // One loss every 120 media packets: several holes, and after each the stream resumes at a
    // key frame, up to the end.
    const resumed = out.frames.filter(
      (f, i) => i > 0 && f.pts - (out.frames[i - 1]?.pts ?? 0) > FRAME,
    );
    expect(resumed.length).toBeGreaterThanOrEqual(3);
    for (const f of resumed) expect(f.key, `frame at ${f.pts / FRAME}`).toBe(true);
    expect(out.frames.at(-1)?.pts ?? 0).toBeGreaterThanOrEqual((out.written - 25) * FRAME);
    expect(out.received).toBeGreaterThan(out.written / 2);
  }, 120_000);
});
