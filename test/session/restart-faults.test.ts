// Faults that only an ICE restart repairs (issue 14), with the sample H.264/Opus flowing
// from a master to a viewer through the local service and its real coturn:
//   1. the TURN server carrying the media killed: ICE restarts onto the other server;
//   2. the viewer's interface address changed mid-call (a network namespace): ICE restarts
//      onto the new address;
//   3. TURN credentials that expire during the call: the viewer restarts before each expiry,
//      with fresh credentials (new allocations), and the video does not stop.
// Each: media flows before; after the fault the viewer's ICE restart is observed (its
// `icerestart` event, the selected pair's new candidate), new video frames arrive from a key
// frame on that ffmpeg decodes without an error, the data channel delivers both ways, and
// everything is closed at the end. Waits are event-driven with generous deadlines; nothing is
// timed. Restart times and gaps are measured and printed, not asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isKeyFrame,
  summarizeStats,
  type Master,
  type ReceivedFrame,
  type Viewer,
} from '../../lib/index.js';
import { Coturn, findExecutable } from '../../lib/local/turn.js';
import { decodeErrors, probe } from '../helpers/ffmpeg.js';
import { skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';
import { fixture, nextEvent, recordVideo, until, type Fixture } from './helpers.js';

const NETNS_CHILD = path.join(ROOT, 'test', 'session', 'restart-netns-child.mjs');
/** The C SDK's disconnected timeout is 30 s; 2 s here, so that a lost path is noticed soon. */
const TIMEOUTS = { disconnected: 2000, failed: 15_000 };
const TURNSERVER = findExecutable('turnserver');

let fx: Fixture | undefined;
const temps: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  await fx?.close();
  fx = undefined;
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-restart-'));
  temps.push(d);
  return d;
}

/**
 * A coturn binary for the local service that records each server's pid and relay port range
 * (so that the test can kill the one carrying the media), with extra arguments.
 */
function coturnWrapper(dir: string, extra: string[] = []): string {
  const file = path.join(dir, 'turnserver');
  fs.writeFileSync(
    file,
    [
      '#!/bin/sh',
      'for a in "$@"; do case "$a" in --min-port=*) ' +
        `echo "$$ \${a#--min-port=}" >> '${path.join(dir, 'servers')}';; esac; done`,
      `exec '${TURNSERVER ?? 'turnserver'}' "$@" ${extra.join(' ')}`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

/** The coturn servers the wrapper started: pid and first relay port (each has 301). */
function coturnServers(dir: string): { pid: number; minPort: number }[] {
  return fs
    .readFileSync(path.join(dir, 'servers'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(Number))
    .map(([pid, minPort]) => ({ pid: pid ?? 0, minPort: minPort ?? 0 }));
}

/** The selected pair's local candidate, from the viewer's stats. */
async function localCandidate(
  viewer: Viewer,
): Promise<{ type: string; address: string; port: number }> {
  const m = summarizeStats(await viewer.getStats());
  if (!m.local) throw new Error('no selected candidate pair');
  return m.local;
}

/**
 * From the first key frame at or after `from`, `count` frames in a row: written out as an
 * H.264 stream, which ffmpeg must decode picture for picture without an error.
 */
async function decodesAfter(
  frames: ReceivedFrame[],
  from: number,
  what: string,
  count = 50,
): Promise<{ keyAt: number }> {
  const key = (): number =>
    frames.findIndex((f, i) => i >= from && isKeyFrame('H264', f.frameData));
  await until(
    () => key() >= 0 && frames.length >= key() + count,
    `${what}: a key frame and ${count} frames`,
    60_000,
  );
  const k = key();
  const run = frames.slice(k, k + count);
  const file = path.join(tempDir(), 'after.h264');
  fs.writeFileSync(file, Buffer.concat(run.map((f) => f.frameData)));
  expect(decodeErrors(file, 'h264')).toBe('');
  expect(probe(file, 'h264').frames).toBe(count);
  return { keyAt: k };
}

/** The data channel delivers both ways after the fault. */
async function channelDelivers(master: Master, viewer: Viewer, tag: string): Promise<void> {
  const atMaster = nextEvent<[string | Buffer, string]>(
    master,
    'message',
    (m) => String(m) === `v-${tag}`,
    60_000,
  );
  const atViewer = nextEvent<[string | Buffer]>(
    viewer,
    'message',
    (m) => String(m) === `m-${tag}`,
    60_000,
  );
  viewer.sendMessage(`v-${tag}`);
  expect(master.sendMessage(`m-${tag}`, viewer.clientId)).toBe(1);
  await Promise.all([atMaster, atViewer]);
}

/** The clip's frame period, in the 100 ns units of presentation times, and RTP's rounding. */
const PERIOD = 400_000;
const TOLERANCE = 500;

/**
 * Video frames missing at the viewer: gaps of n periods between consecutive presentation
 * times count n - 1, except gaps the source made itself (it skips after a stall of its own).
 */
function missingFrames(received: ReceivedFrame[], sent: number[]): number {
  const sourceGaps = new Set<number>();
  for (let i = 1; i < sent.length; i++) {
    const d = (sent[i] ?? 0) - (sent[i - 1] ?? 0);
    if (Math.abs(d - PERIOD) > TOLERANCE) sourceGaps.add(Math.round(d / PERIOD));
  }
  let missing = 0;
  for (let i = 1; i < received.length; i++) {
    const d = (received[i]?.presentationTs ?? 0) - (received[i - 1]?.presentationTs ?? 0);
    const n = Math.round(d / PERIOD);
    if (n <= 1 || sourceGaps.has(n)) continue;
    missing += n - 1;
  }
  return missing;
}

/** The longest time between two video frames arriving, over the recording (ms). */
function longestGapMs(arrivals: number[]): number {
  let gap = 0;
  for (let i = 1; i < arrivals.length; i++)
    gap = Math.max(gap, (arrivals[i] ?? 0) - (arrivals[i - 1] ?? 0));
  return gap;
}

function arrivalTimes(viewer: Viewer): number[] {
  const t: number[] = [];
  viewer.on('frame', (kind) => {
    if (kind === 'video') t.push(performance.now());
  });
  return t;
}

/** A relay-only viewer of `f`, its video frames and their arrival times recorded. */
function relayViewer(
  f: Fixture,
  clientId: string,
  peerConnection: NonNullable<Parameters<Fixture['viewer']>[0]>['peerConnection'],
): { viewer: Viewer; frames: ReceivedFrame[]; arrivals: number[] } {
  const viewer = f.viewer({ clientId, iceTransportPolicy: 'relay', peerConnection });
  return { viewer, frames: recordVideo(viewer), arrivals: arrivalTimes(viewer) };
}

const noTurn = TURNSERVER === undefined;
const noNetns = skipWithoutNetns('restart-faults: the path change');

/** The namespace of the path-change fault: two veth ends, IPv4 only. */
const NETNS_SETUP = [
  // No IPv6 at all: a link-local address would outlive the IPv4 change and keep the path.
  'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6',
  'echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6',
  'ip link set lo up',
  'ip link add kvsr0 type veth peer name kvsr1',
  'ip addr add 10.98.0.1/24 dev kvsr0',
  'ip addr add 10.98.0.2/24 dev kvsr1',
  'ip link set kvsr0 up',
  'ip link set kvsr1 up',
  'exec "$@"',
].join(' && ');

interface NetnsResult {
  type: 'result';
  before: { type: string; address: string };
  after: { type: string; address: string };
  reason: string;
  restartMs: number;
  faultToFramesMs: number;
  faultToRestartedMs: number;
  faultToFirstFrameMs: number;
  longestGapMs: number;
  iceRestarts: number;
  masterRestarts: number;
  viewerState: string;
  masterState: string;
  file: string;
  framesAfter: number;
  closed: { viewer: string; masterViewers: number };
}

/** Runs the namespace child; resolves with its result line (rejects on its error line). */
function runNetnsChild(outDir: string): Promise<NetnsResult> {
  const child = spawn(
    'unshare',
    [
      '--net',
      'sh',
      '-c',
      NETNS_SETUP,
      'netns',
      process.execPath,
      NETNS_CHILD,
      JSON.stringify({ outDir }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let result: NetnsResult | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the namespace child did not finish in 110 s'));
    }, 110_000);
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      let m: { type?: string; message?: string };
      try {
        m = JSON.parse(l) as typeof m;
      } catch {
        return; // not ours
      }
      if (m.type === 'result') result = m as NetnsResult;
      if (m.type === 'error') reject(new Error(`namespace child: ${m.message ?? ''}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result && code === 0) resolve(result);
      else reject(new Error(`the namespace child exited with ${String(code)} and no result`));
    });
  });
}

describe('faults that need an ICE restart, with media flowing', () => {
  it.skipIf(noTurn)(
    'the TURN server carrying the media killed: the viewer restarts ICE onto the other server',
    async () => {
      const dir = tempDir();
      fx = await fixture({ turn: { binary: coturnWrapper(dir), tls: false } });
      const peerConnection = { ...fx.common.peerConnection, timeouts: TIMEOUTS };
      const master = fx.master({ iceTransportPolicy: 'relay', peerConnection });
      await master.start();
      fx.stream(master);
      const { viewer, frames, arrivals } = relayViewer(fx, 'relayed', peerConnection);
      await viewer.connect();
      await until(() => frames.length >= 50, 'the first 50 frames');
      await channelDelivers(master, viewer, 'before');

      // The server of the viewer's selected relay candidate, by its relay port range.
      const servers = coturnServers(dir);
      expect(servers).toHaveLength(2);
      const before = await localCandidate(viewer);
      expect(before.type).toBe('relay');
      const inRange = (port: number) => (s: { minPort: number }) =>
        port >= s.minPort && port <= s.minPort + 300;
      const carrying = servers.find(inRange(before.port));
      const other = servers.find((s) => s !== carrying);
      expect(carrying).toBeDefined();

      const restarted = nextEvent<[{ reason: string; ms: number }]>(
        viewer,
        'icerestart',
        () => true,
        60_000,
      );
      const masterRestarted = nextEvent<[string]>(
        master,
        'icerestart',
        (id) => id === 'relayed',
        60_000,
      );
      const killedAt = performance.now();
      const atFault = frames.length;
      process.kill(carrying?.pid ?? 0, 'SIGKILL');
      const [info] = await restarted;
      await masterRestarted;
      expect(viewer.iceRestarts).toBe(1);
      expect(['disconnected', 'relay-failed']).toContain(info.reason);

      // Onto the other server: the new selected pair's relay is in its range.
      const after = await localCandidate(viewer);
      expect(after.type).toBe('relay');
      expect(other && inRange(after.port)(other)).toBe(true);
      const { keyAt } = await decodesAfter(frames, atFault, 'after the kill');
      await channelDelivers(master, viewer, 'after');
      expect(viewer.state).toBe('connected');
      expect(master.viewers.get('relayed')?.state).toBe('connected');
      console.log(
        `TURN killed: restart (${info.reason}) connected again ${Math.round(info.ms)} ms after it began, ` +
          `${Math.round(performance.now() - killedAt)} ms after the kill to the checks here; ` +
          `longest gap between video frames ${Math.round(longestGapMs(arrivals))} ms; ` +
          `first key frame after the fault ${keyAt - atFault} frames on`,
      );
    },
    120_000,
  );

  it.skipIf(noTurn)(
    'a TURN server reached over TCP killed: its allocation fails at once (relayfailed), and the viewer restarts onto the other',
    async () => {
      const dir = tempDir();
      // Two coturns of our own, given as TCP-only TURN servers (the service offers none): the
      // media goes through a TCP allocation, whose connection the kill resets.
      const wrapper = coturnWrapper(dir);
      const coturns = await Promise.all(
        [0, 1].map(() => Coturn.start(wrapper, { host: '127.0.0.1' })),
      );
      try {
        const extraIceServers = coturns.map((c) => {
          const s = c.iceServer('arn:aws:kinesisvideo:local:0:channel/restart/1', 300);
          const url = (s.Uris[0] ?? '').replace(/\?transport=udp$/, '?transport=tcp');
          return { urls: url, username: s.Username, credential: s.Password };
        });
        fx = await fixture({ turn: false });
        const peerConnection = { ...fx.common.peerConnection, timeouts: TIMEOUTS };
        const options = { iceTransportPolicy: 'relay' as const, peerConnection, extraIceServers };
        const master = fx.master(options);
        await master.start();
        fx.stream(master);
        const viewer = fx.viewer({ clientId: 'over-tcp', ...options });
        const frames = recordVideo(viewer);
        await viewer.connect();
        await until(() => frames.length >= 50, 'the first 50 frames');
        const before = await localCandidate(viewer);
        expect(before.type).toBe('relay');
        const servers = coturnServers(dir);
        const carrying = servers.find(
          (s) => before.port >= s.minPort && before.port <= s.minPort + 300,
        );
        expect(carrying).toBeDefined();

        const restarted = nextEvent<[{ reason: string; ms: number }]>(
          viewer,
          'icerestart',
          () => true,
          60_000,
        );
        const atFault = frames.length;
        process.kill(carrying?.pid ?? 0, 'SIGKILL');
        const [info] = await restarted;
        // Before the disconnected timeout: the allocation's failure set it off.
        expect(info.reason).toBe('relay-failed');
        const after = await localCandidate(viewer);
        expect(after.type).toBe('relay');
        expect(
          after.port >= (carrying?.minPort ?? 0) && after.port <= (carrying?.minPort ?? 0) + 300,
        ).toBe(false);
        await decodesAfter(frames, atFault, 'after the kill');
        await channelDelivers(master, viewer, 'after');
        expect(viewer.state).toBe('connected');
        console.log(
          `TURN over TCP killed: restart (${info.reason}) connected again in ${Math.round(info.ms)} ms`,
        );
      } finally {
        await Promise.all(coturns.map((c) => c.stop()));
      }
    },
    120_000,
  );

  it.skipIf(noNetns)(
    "the viewer's interface address changed mid-call: ICE restarts onto the new address",
    async () => {
      const dir = tempDir();
      const r = await runNetnsChild(dir);
      expect(r.before).toMatchObject({ type: 'host', address: '10.98.0.2' });
      expect(r.reason).toBe('disconnected');
      expect(r.iceRestarts).toBe(1);
      expect(r.masterRestarts).toBe(1);
      // The new generation found the new address (the old one went with the interface).
      expect(r.after).toMatchObject({ type: 'host', address: '10.98.0.3' });
      expect(r.viewerState).toBe('connected');
      expect(r.masterState).toBe('connected');
      // From the first key frame after the change, 50 frames that ffmpeg decodes.
      expect(decodeErrors(r.file, 'h264')).toBe('');
      expect(probe(r.file, 'h264').frames).toBe(50);
      expect(r.closed).toEqual({ viewer: 'closed', masterViewers: 0 });
      console.log(
        `path change: restart connected again ${Math.round(r.restartMs)} ms after it began; ` +
          `connected again ${Math.round(r.faultToRestartedMs)} ms after the change, ` +
          `the first frame after it ${Math.round(r.faultToFirstFrameMs)} ms, ` +
          `the first decodable one (a key frame) ${Math.round(r.faultToFramesMs)} ms; ` +
          `longest gap between video frames ${Math.round(r.longestGapMs)} ms`,
      );
    },
    120_000,
  );

  it.skipIf(noTurn)(
    'TURN credentials that expire during the call: the viewer restarts before each expiry, and the video goes on',
    async () => {
      const dir = tempDir();
      // Short-lived allocations (20 s; refreshed every 10 s). coturn itself checks a REST
      // username's expiry only when a TURN session first authenticates (it keeps the key for
      // the Refreshes after), so a live allocation outlives its credentials there; what an
      // expired username is refused for is a new allocation, as every ICE restart makes. So
      // this checks the refresh: new allocations with fresh credentials before each expiry,
      // and no frame lost. (A control with restarts off saw nothing fail in 45 s.)
      fx = await fixture({
        turn: { binary: coturnWrapper(dir, ['--max-allocate-lifetime=20']), tls: false },
        limits: { turnCredentialTtlSeconds: 24 },
      });
      const peerConnection = { ...fx.common.peerConnection, timeouts: TIMEOUTS };
      const master = fx.master({ iceTransportPolicy: 'relay', peerConnection });
      await master.start();
      // On the clip's strict 40 ms grid (key-frame requests not answered out of turn), so
      // that a missing frame shows in the presentation times.
      const sent: number[] = [];
      fx.stream(master, false).on('frame', (kind, f) => {
        if (kind === 'video') sent.push(Number(f.presentationTs));
      });
      const { viewer, frames, arrivals } = relayViewer(fx, 'long-call', peerConnection);
      const restarts: { reason: string; ms: number; at: number; port: number }[] = [];
      viewer.on('icerestart', (r) => {
        void localCandidate(viewer).then((c) =>
          restarts.push({ reason: r.reason, ms: r.ms, at: performance.now(), port: c.port }),
        );
      });
      const start = performance.now();
      await viewer.connect();
      await until(() => frames.length >= 50, 'the first 50 frames');
      const first = await localCandidate(viewer);
      expect(first.type).toBe('relay');

      // Past two expiries of 24 s: two restarts for credentials, each onto a new allocation.
      await until(() => restarts.length >= 2, 'two restarts for credentials', 90_000);
      expect(restarts.map((r) => r.reason)).toEqual(['credentials', 'credentials']);
      const ports = [first.port, ...restarts.map((r) => r.port)];
      expect(new Set(ports).size).toBe(3);
      const atLast = frames.length;
      await decodesAfter(frames, atLast, 'after the second restart');
      await channelDelivers(master, viewer, 'late');
      expect(viewer.state).toBe('connected');
      expect(master.viewers.get('long-call')?.link?.counters.iceRestarts).toBe(2);
      const gap = longestGapMs(arrivals);
      console.log(
        `credentials: restarts at ${restarts.map((r) => Math.round((r.at - start) / 1000)).join(', ')} s ` +
          `(${restarts.map((r) => Math.round(r.ms)).join(', ')} ms each); ` +
          `longest gap between video frames ${Math.round(gap)} ms over ${Math.round((performance.now() - start) / 1000)} s`,
      );
      // Make before break: the old allocations carried the video until the new ones did, so
      // not one frame went missing over the whole call.
      if (process.env['RESTART_DEBUG']) {
        for (let i = 1; i < frames.length; i++) {
          const d = (frames[i]?.presentationTs ?? 0) - (frames[i - 1]?.presentationTs ?? 0);
          if (Math.round(d / PERIOD) !== 1)
            console.log(
              `gap at ${i}: ${d / PERIOD} periods, arrival ${Math.round((arrivals[i] ?? 0) - start)} ms`,
            );
        }
        console.log(`restarts at ${restarts.map((r) => Math.round(r.at - start)).join(', ')} ms`);
      }
      expect(missingFrames(frames, sent)).toBe(0);
    },
    150_000,
  );
});
