// The fault matrix, with media flowing (issue 14): a master streams the sample H.264/Opus to
// viewers on loopback while the signaling service misbehaves (GO_AWAY, RECONNECT_ICE_SERVER,
// a restart, a killed socket) or a viewer vanishes without a word. The peer-to-peer media
// must not notice any of it: no video frame goes missing at the viewers, signaling comes
// back on both ends, and a new viewer can join afterwards.
//
// "No frame missing" is read off the presentation times: the source plays the clip on a
// strict 40 ms grid and does not answer key-frame requests, so consecutive frames at a viewer
// are one period apart, except where the source itself skipped (it restarts its schedule
// after a stall of more than a second; those gaps are recorded on the sending side).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import type { Master, ReceivedFrame, Viewer, ViewerLeftReason } from '../../lib/index.js';
import type {
  IceServer,
  ReconnectReason,
  SignalingClient,
  SignalingClientState,
} from '../../lib/signaling/index.js';
import { ROOT } from '../helpers/root.js';
import { fixture, nextEvent, recordVideo, until, type Fixture } from './helpers.js';

const CHILD = path.join(ROOT, 'test', 'session', 'viewer-child.mjs');
/** The clip's frame period, in the 100 ns units of presentation times. */
const PERIOD = 400_000;
/** RTP carries 90 kHz (111 units a tick), rounded at both ends: a few ticks of slack. */
const TOLERANCE = 500;
/**
 * Short reconnect delays (as test/signaling/resilience.test.ts), so waits stay short; attempts
 * enough to outlast the service restart on a loaded machine (about 30 s of retrying).
 */
const RETRY = { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 30 };

let fx: Fixture | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  await fx?.close();
  fx = undefined;
});

/** A started master with the source streaming into it; the video presentation times sent. */
async function streamingMaster(
  f: Fixture,
  extra: Parameters<Fixture['master']>[0] = {},
): Promise<{ master: Master; sent: number[] }> {
  const master = f.master({ signaling: { retry: RETRY }, ...extra });
  await master.start();
  // Not answering key-frame requests keeps the source on its grid (a late joiner waits for
  // the clip's next key frame, every 25 frames).
  const source = f.stream(master, false);
  const sent: number[] = [];
  source.on('frame', (kind, frame) => {
    if (kind === 'video') sent.push(Number(frame.presentationTs));
  });
  return { master, sent };
}

/**
 * Frames missing from `received`: each gap between consecutive presentation times of n
 * periods (n > 1) that the source did not make itself counts n - 1. `odd` lists the gaps that
 * are neither a whole number of periods nor one the source made.
 */
function missingFrames(
  received: ReceivedFrame[],
  sent: number[],
): { missing: number; odd: number[] } {
  const sourceGaps: number[] = [];
  for (let i = 1; i < sent.length; i++) {
    const d = (sent[i] ?? 0) - (sent[i - 1] ?? 0);
    if (Math.abs(d - PERIOD) > TOLERANCE) sourceGaps.push(d);
  }
  let missing = 0;
  const odd: number[] = [];
  for (let i = 1; i < received.length; i++) {
    const d = (received[i]?.presentationTs ?? 0) - (received[i - 1]?.presentationTs ?? 0);
    if (Math.abs(d - PERIOD) <= TOLERANCE) continue;
    if (sourceGaps.some((g) => Math.abs(g - d) <= TOLERANCE)) continue;
    const n = Math.round(d / PERIOD);
    if (n >= 2 && Math.abs(d - n * PERIOD) <= TOLERANCE) missing += n - 1;
    else odd.push(d);
  }
  return { missing, odd };
}

/** A viewer that has its first `count` frames. */
async function watching(
  f: Fixture,
  clientId: string,
  count = 50,
  extra: Parameters<Fixture['viewer']>[0] = {},
): Promise<{ viewer: Viewer; frames: ReceivedFrame[] }> {
  const viewer = f.viewer({ clientId, signaling: { retry: RETRY }, ...extra });
  const frames = recordVideo(viewer);
  await viewer.connect();
  await until(() => frames.length >= count, `${clientId} has ${count} frames`);
  return { viewer, frames };
}

/** Resolves when `client` is CONNECTED again (listen before the fault). */
function connectedAgain(client: SignalingClient, ms = 30_000): Promise<unknown> {
  return nextEvent<[SignalingClientState]>(client, 'stateChange', (s) => s === 'CONNECTED', ms);
}

/**
 * The end of every fault: a new viewer joins, and the first viewer goes on receiving, with no
 * frame missing over its whole recording.
 */
async function recovers(
  f: Fixture,
  master: Master,
  sent: number[],
  first: { viewer: Viewer; frames: ReceivedFrame[] },
  newId: string,
): Promise<void> {
  await newViewerJoins(f, master, sent, newId);
  await keepsReceiving(first.frames, 'the first viewer');
  expect(missingFrames(first.frames, sent)).toEqual({ missing: 0, odd: [] });
  expect(first.viewer.state).toBe('connected');
}

/** After a fault: a new viewer joins and gets its frames, without one missing. */
async function newViewerJoins(
  f: Fixture,
  master: Master,
  sent: number[],
  id: string,
): Promise<void> {
  const joined = nextEvent<[string]>(master, 'viewer', (v) => v === id);
  const { viewer, frames } = await watching(f, id, 30);
  await joined;
  expect(viewer.state).toBe('connected');
  expect(master.viewers.get(id)?.state).toBe('connected');
  expect(missingFrames(frames, sent)).toEqual({ missing: 0, odd: [] });
}

/** The frames keep coming: `count` more than there are now. */
async function keepsReceiving(frames: ReceivedFrame[], what: string, count = 50): Promise<void> {
  const n = frames.length;
  await until(() => frames.length >= n + count, `${what}: ${count} more frames`);
}

describe('the missing-frame check', () => {
  const at = (pts: number[]): ReceivedFrame[] =>
    pts.map((p, index) => ({
      frameData: Buffer.alloc(0),
      presentationTs: p,
      decodingTs: p,
      flags: 0,
      index,
      trackId: 'v',
      rtpTimestamp: 0,
    }));
  const grid = (n: number, from = 1_000_000) =>
    Array.from({ length: n }, (_, i) => from + i * PERIOD);

  it('finds frames missing at the receiver, and not the gaps the source made', () => {
    const sent = grid(10);
    // Received since its first frame, quantised to 90 kHz.
    const received = sent.map((p) => Math.round(((p - 1_000_000) * 9) / 1000) * (1000 / 9));
    expect(missingFrames(at(received), sent)).toEqual({ missing: 0, odd: [] });
    expect(
      missingFrames(at(received.filter((_, i) => i !== 4 && i !== 7 && i !== 8)), sent),
    ).toEqual({
      missing: 3,
      odd: [],
    });
    // The source restarted its schedule 1.5 s late: the same gap at the receiver is no loss.
    const stalled = [...grid(5), ...grid(5, 1_000_000 + 4 * PERIOD + 15_000_000)];
    expect(missingFrames(at(stalled), stalled)).toEqual({ missing: 0, odd: [] });
    expect(missingFrames(at([0, PERIOD / 2]), grid(3))).toEqual({ missing: 0, odd: [PERIOD / 2] });
  });
});

describe('faults with media flowing', () => {
  it('GO_AWAY mid-stream: media goes on, both ends reconnect from DESCRIBE, a new viewer joins', async () => {
    fx = await fixture();
    const { master, sent } = await streamingMaster(fx);
    const { viewer, frames } = await watching(fx, 'a');
    const masterReasons: ReconnectReason[] = [];
    master.signaling.on('reconnect', (r) => masterReasons.push(r));
    const viewerReasons: ReconnectReason[] = [];
    viewer.signaling.on('reconnect', (r) => viewerReasons.push(r));
    const backs = [connectedAgain(master.signaling), connectedAgain(viewer.signaling)];
    const before = frames.length;

    expect(fx.svc.goAway(master.signaling.channelARN)).toBe(2);
    await Promise.all(backs);
    expect(masterReasons).toEqual(['go-away']);
    expect(viewerReasons).toEqual(['go-away']);
    for (const c of [master.signaling, viewer.signaling]) {
      expect(c.getMetrics().numberOfReconnects).toBe(1);
    }
    await keepsReceiving(frames, 'the viewer after GO_AWAY');
    expect(frames.length).toBeGreaterThan(before + 50);

    await recovers(fx, master, sent, { viewer, frames }, 'after-go-away');
    expect(master.viewers.size).toBe(2);
  }, 90_000);

  it('RECONNECT_ICE_SERVER mid-stream: media goes on, both ends take fresh ICE servers, a new viewer joins', async () => {
    fx = await fixture({ turn: true });
    const { master, sent } = await streamingMaster(fx);
    const { viewer, frames } = await watching(fx, 'a');
    const turnOf = (servers: IceServer[]) => servers.filter((s) => s.username !== undefined);
    // Fetched at start() and connect(); 50 frames (2 s) ago at least, so the service's
    // TURN credentials (their expiry in whole seconds is in the username) are new ones now.
    const old = turnOf(await master.signaling.getIceServers());
    expect(old.length).toBeGreaterThan(0);
    const refreshes = [master.signaling, viewer.signaling].map(
      (c) => c.getMetrics().iceRefreshCount,
    );
    const told = [master.signaling, viewer.signaling].map((c) =>
      nextEvent<[]>(c, 'reconnectIceServer'),
    );
    const freshAtMaster = nextEvent<[IceServer[]]>(master.signaling, 'iceServers');
    const freshAtViewer = nextEvent<[IceServer[]]>(viewer.signaling, 'iceServers');

    expect(fx.svc.reconnectIceServer(master.signaling.channelARN)).toBe(2);
    await Promise.all(told);
    const [masterServers] = await freshAtMaster;
    const [viewerServers] = await freshAtViewer;
    for (const servers of [masterServers, viewerServers]) {
      const turn = turnOf(servers);
      expect(turn.length).toBe(old.length);
      expect(turn.map((s) => s.urls)).toEqual(old.map((s) => s.urls));
      expect(turn.map((s) => s.username)).not.toEqual(old.map((s) => s.username));
    }
    // The cache holds the fresh ones: the next session is made with them.
    expect(turnOf(await master.signaling.getIceServers())).toEqual(turnOf(masterServers));
    for (const [i, c] of [master.signaling, viewer.signaling].entries()) {
      const m = c.getMetrics();
      expect(m.iceRefreshCount).toBe((refreshes[i] ?? 0) + 1);
      // The socket stays: this message asks for ICE servers only.
      expect(m.numberOfReconnects).toBe(0);
      expect(c.state).toBe('CONNECTED');
    }
    await keepsReceiving(frames, 'the viewer after RECONNECT_ICE_SERVER');

    await recovers(fx, master, sent, { viewer, frames }, 'after-ice');
  }, 90_000);

  it('the service stopped and restarted mid-stream: media flows while signaling is down, both reconnect, a new viewer joins', async () => {
    fx = await fixture();
    const { master, sent } = await streamingMaster(fx);
    const { viewer, frames } = await watching(fx, 'a');
    const lost = [master.signaling, viewer.signaling].map((c) =>
      nextEvent<[ReconnectReason]>(c, 'reconnect'),
    );
    const backs = [
      connectedAgain(master.signaling, 45_000),
      connectedAgain(viewer.signaling, 45_000),
    ];

    await fx.svc.stop({ graceful: false });
    for (const l of lost) expect(await l).toEqual(['connection-lost']);
    // Both have met the dead service, and the media goes on meanwhile.
    await until(
      () =>
        master.signaling.getMetrics().numberOfErrors >= 1 &&
        viewer.signaling.getMetrics().numberOfErrors >= 1,
      'a failed reconnect attempt on each end',
    );
    await keepsReceiving(frames, 'the viewer while signaling is down');
    expect(master.signaling.state).not.toBe('CONNECTED');
    expect(viewer.signaling.state).not.toBe('CONNECTED');
    expect(master.viewers.get('a')?.state).toBe('connected');

    await fx.restartService();
    await Promise.all(backs);
    for (const c of [master.signaling, viewer.signaling]) {
      const m = c.getMetrics();
      expect(m.numberOfReconnects).toBe(1);
      expect(m.numberOfErrors).toBeGreaterThanOrEqual(1);
    }

    await recovers(fx, master, sent, { viewer, frames }, 'after-restart');
    expect(master.viewers.size).toBe(2);
  }, 90_000);

  it('the service down for longer than the signaling retries: the master joins again once it is back', async () => {
    fx = await fixture();
    // Retries that run out within a second.
    const few = { baseDelayMs: 100, maxDelayMs: 200, maxAttempts: 3 };
    const { master, sent } = await streamingMaster(fx, { signaling: { retry: few } });
    const { viewer, frames } = await watching(fx, 'a');
    const errors: string[] = [];
    master.on('error', (e) => errors.push(e.code));
    const gaveUp = nextEvent<[SignalingClientState]>(
      master.signaling,
      'stateChange',
      (s) => s === 'DISCONNECTED',
    );

    await fx.svc.stop({ graceful: false });
    await gaveUp;
    expect(errors).toContain('ERR_SIGNALING_RETRIES_EXHAUSTED');
    await keepsReceiving(frames, 'the viewer while the master is off the channel');
    expect(master.signaling.state).not.toBe('CONNECTED');

    const back = connectedAgain(master.signaling, 30_000);
    await fx.restartService();
    // Before the fix in Master, it stayed DISCONNECTED for good: unreachable for new viewers.
    await back;
    await recovers(fx, master, sent, { viewer, frames }, 'after-outage');
    expect(master.viewers.size).toBe(2);
  }, 90_000);

  it('the signaling sockets killed mid-stream: media goes on, both reconnect, a new viewer joins', async () => {
    fx = await fixture();
    // Each client's sockets, newest last, to cut the TCP connection under it (as
    // test/signaling/resilience.test.ts does), without a close frame.
    const sockets = { master: [] as WebSocket[], viewer: [] as WebSocket[] };
    const keep = (list: WebSocket[]) => (url: string, o: ClientOptions) => {
      const ws = new WebSocket(url, o);
      list.push(ws);
      return ws;
    };
    const { master, sent } = await streamingMaster(fx, {
      signaling: { retry: RETRY, createWebSocket: keep(sockets.master) },
    });
    const { viewer, frames } = await watching(fx, 'a', 50, {
      signaling: { retry: RETRY, createWebSocket: keep(sockets.viewer) },
    });
    const lost = [master.signaling, viewer.signaling].map((c) =>
      nextEvent<[ReconnectReason]>(c, 'reconnect'),
    );
    const backs = [connectedAgain(master.signaling), connectedAgain(viewer.signaling)];
    const counts = { master: sockets.master.length, viewer: sockets.viewer.length };

    for (const list of [sockets.master, sockets.viewer]) {
      const ws = list[list.length - 1] as unknown as { _socket: { destroy(): void } };
      ws._socket.destroy();
    }
    for (const l of lost) expect(await l).toEqual(['connection-lost']);
    await Promise.all(backs);
    // A new socket each.
    expect(sockets.master.length).toBeGreaterThan(counts.master);
    expect(sockets.viewer.length).toBeGreaterThan(counts.viewer);
    for (const c of [master.signaling, viewer.signaling]) {
      expect(c.getMetrics().numberOfReconnects).toBe(1);
    }
    await keepsReceiving(frames, 'the viewer after its socket was killed');

    await recovers(fx, master, sent, { viewer, frames }, 'after-kill');
    expect(master.viewers.size).toBe(2);
  }, 90_000);

  it('a viewer that vanishes without a word: the master ends its session after the timeouts; the other two see no gap', async () => {
    fx = await fixture();
    // A short disconnected timeout (the C SDK's timer; 30 s by default). Failed counts consent
    // responses only, which come every 4-6 s: it is given room above that.
    const timeouts = { disconnected: 3000, failed: 10_000 };
    const { master, sent } = await streamingMaster(fx, {
      peerConnection: { ...fx.common.peerConnection, timeouts },
    });
    const others = [await watching(fx, 'a'), await watching(fx, 'b')];

    // The vanishing viewer lives in a child process, killed with SIGKILL: no DTLS
    // close_notify, no goodbye on signaling, its sockets simply gone.
    const child = spawn(
      process.execPath,
      [CHILD, JSON.stringify({ ...fx.common, clientId: 'ghost', signaling: { retry: RETRY } })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    let childFrames = 0;
    const childErrors: string[] = [];
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      let m: { type?: string; video?: number; message?: string };
      try {
        m = JSON.parse(l) as typeof m;
      } catch {
        return; // not ours
      }
      if (m.type === 'frames') childFrames = m.video ?? 0;
      if (m.type === 'error') childErrors.push(m.message ?? '');
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await until(
      () => childFrames >= 50 || childErrors.length > 0,
      'the ghost has 50 frames',
      45_000,
    );
    expect(childErrors).toEqual([]);
    const ghost = master.viewers.get('ghost');
    expect(ghost?.state).toBe('connected');
    expect(master.connectedCount).toBe(3);

    const left = nextEvent<[string, ViewerLeftReason]>(
      master,
      'viewerleft',
      (id) => id === 'ghost',
      45_000,
    );
    const before = others.map((o) => o.frames.length);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Consent freshness runs out on the master's side: disconnected (the session waits for
    // the viewer's ICE restart), then failed, and the session ends.
    expect(await left).toEqual(['ghost', 'failed']);
    expect(master.viewers.has('ghost')).toBe(false);
    expect([...master.viewers.keys()].sort()).toEqual(['a', 'b']);
    expect(master.connectedCount).toBe(2);
    expect(ghost?.ended).toBe('failed');
    expect(ghost?.link?.closed).toBe(true);
    // Its connection is let go of (closing follows the event).
    const ghostPc = ghost?.peerConnection;
    await until(() => ghostPc?.connectionState === 'closed', "the ghost's connection is closed");

    // The other two went on throughout, without a frame missing.
    for (const [i, o] of others.entries()) {
      expect(o.frames.length).toBeGreaterThan(before[i] ?? 0);
      await keepsReceiving(o.frames, `viewer ${o.viewer.clientId}`);
      expect(missingFrames(o.frames, sent)).toEqual({ missing: 0, odd: [] });
      expect(o.viewer.state).toBe('connected');
    }
  }, 90_000);
});
