// The README's main command, end to end: `kvs-webrtc demo` (what `npm start` runs after the
// set-up) starts the local service with coturn, a master on the samples and viewers, and
// prints a summary. Frames arriving needs the native receive path.
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../lib/demo.js';
import { cliAsync, lastJson } from './helpers.js';

describe('kvs-webrtc demo', () => {
  it('streams the samples to a viewer and prints a summary with frames received and the time to first frame', async () => {
    const r = await cliAsync(['demo', '--duration', '3', '--json'], { timeoutMs: 90_000 });
    const s = lastJson(r.stdout) as DemoSummary;
    // What is printed for a person...
    expect(r.stdout).toContain('viewer page: https://127.0.0.1:');
    expect(r.stdout).toMatch(/\[\s+\d+s\] 1\/1 viewers connected \| sent v \d+ a \d+/);
    expect(r.stdout).toContain('selected candidate pair: host udp 127.0.0.1:');
    // ...and the same as JSON.
    expect(s.viewers).toHaveLength(1);
    expect(s.viewers[0]?.connected).toBe(true);
    expect(s.master.framesWritten.video).toBeGreaterThan(50);
    expect(s.viewers[0]?.framesReceived.video, r.stdout).toBeGreaterThan(0);
    expect(s.viewers[0]?.timeToFirstFrameMs).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/time to first frame: \d+\.\d ms/);
    expect(s.ok).toBe(true);
    expect(r.status).toBe(0);
  }, 120_000);

  it('starts N viewers with --viewers, each receiving', async () => {
    const r = await cliAsync(['demo', '--duration', '3', '--viewers', '3', '--json'], {
      timeoutMs: 90_000,
    });
    const s = lastJson(r.stdout) as DemoSummary;
    expect(s.viewers.map((v) => v.clientId)).toEqual([
      'demo-viewer-1',
      'demo-viewer-2',
      'demo-viewer-3',
    ]);
    expect(s.viewers.every((v) => v.connected)).toBe(true);
    for (const v of s.viewers) expect(v.framesReceived.video, v.clientId).toBeGreaterThan(0);
    expect(r.status).toBe(0);
  }, 120_000);

  it('forces TURN with --relay: the pair is relayed through the local coturn', async () => {
    const r = await cliAsync(['demo', '--duration', '3', '--relay', '--json'], {
      timeoutMs: 90_000,
    });
    const s = lastJson(r.stdout) as DemoSummary;
    expect(s.relay).toBe(true);
    expect(s.turn).toBe(true);
    expect(s.viewers[0]?.connected).toBe(true);
    expect(s.viewers[0]?.metrics?.local?.type).toBe('relay');
    expect(s.viewers[0]?.framesReceived.video, r.stdout).toBeGreaterThan(0);
    expect(r.status).toBe(0);
  }, 120_000);
});
