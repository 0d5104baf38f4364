// The viewer web page of the local service, in headless Chromium (the official JS SDK as the
// viewer), in a network namespace of its own: against `kvs-webrtc master` and against the
// URL `kvs-webrtc demo` prints. Decoding needs the native send path to put media on the wire.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';
import { readPng, variety } from './png.js';

const script = path.join(ROOT, 'test', 'session', 'page-session.mjs');

interface Outcome {
  error?: string;
  connected?: string;
  pair?: string;
  framesDecoded?: number[];
  size?: number[];
  statsSize?: number[];
  screenshot?: string;
  blankScreenshot?: string;
  masterOutput?: string;
}

function run(mode: 'master' | 'demo' | 'connect'): Outcome {
  const r = runInNetns([script, mode], 120_000);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  return JSON.parse(line) as Outcome;
}

describe.skipIf(skipWithoutNetns('the viewer page'))('the viewer web page in Chromium', () => {
  it('connects to kvs-webrtc master through the local service (SigV4 in the page, the official SDK signaling)', () => {
    const out = run('connect');
    expect(out.error).toBeUndefined();
    expect(out.connected).toBe('connected');
    expect(out.masterOutput).toMatch(/viewer page-\w+: Connection established/);
  }, 150_000);

  it('decodes what kvs-webrtc master sends at its true size, 640x480', () => {
    const out = run('master');
    expect(out.error).toBeUndefined();
    expect(out.framesDecoded?.[0]).toBeGreaterThanOrEqual(50);
    expect(out.size).toEqual([640, 480]);
    expect(out.statsSize).toEqual([640, 480]);
  }, 150_000);

  it('plays the demo at the URL it prints: frames decoded grow, and the picture is not blank', () => {
    const out = run('demo');
    expect(out.error).toBeUndefined();
    const [before, after] = out.framesDecoded ?? [];
    expect(before).toBeGreaterThanOrEqual(25);
    expect(after).toBeGreaterThan(before ?? Infinity);
    expect(out.size).toEqual([640, 480]);
    const img = readPng(Buffer.from(out.screenshot ?? '', 'base64'));
    expect(img.width).toBeGreaterThan(100);
    // ffmpeg's testsrc2 is colour bars, a moving gradient and text: many colours, high contrast.
    const v = variety(img);
    expect(v.colours).toBeGreaterThan(200);
    expect(v.lumaStdDev).toBeGreaterThan(40);
    // The same measure of the element with no stream in it falls short of both.
    const blank = variety(readPng(Buffer.from(out.blankScreenshot ?? '', 'base64')));
    expect(blank.colours).toBeLessThan(200);
    expect(blank.lumaStdDev).toBeLessThan(40);
  }, 150_000);
});
