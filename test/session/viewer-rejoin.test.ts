// The Viewer joins the channel again after its signaling client gave up (issue 14), as the
// Master does (test/session/faults.test.ts, 'the service down for longer than the signaling
// retries'): the service goes away for longer than the viewer's retries, the viewer's
// signaling client ends in DISCONNECTED with ERR_SIGNALING_RETRIES_EXHAUSTED, the peer
// connection goes on receiving the master's media meanwhile, and once the service is back
// the viewer is on the channel again: a message from the master reaches it.
// The shared rejoin logic (lib/session/rejoin.ts) is also checked alone, on fake timers.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KvsError } from '../../lib/index.js';
import type {
  IceCandidate,
  SignalingClient,
  SignalingClientState,
} from '../../lib/signaling/index.js';
import { rejoinDelay, Rejoiner, REJOIN_MAX_MS } from '../../lib/session/rejoin.js';
import { fixture, nextEvent, recordVideo, until, type Fixture } from './helpers.js';

/** The master outlasts a short outage (about 20 s of retrying); the viewer does not. */
const MASTER_RETRY = { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 30 };
const VIEWER_RETRY = { baseDelayMs: 100, maxDelayMs: 200, maxAttempts: 3 };

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

function stateIs(client: SignalingClient, state: SignalingClientState, ms = 60_000) {
  return nextEvent<[SignalingClientState]>(client, 'stateChange', (s) => s === state, ms);
}

describe('the viewer rejoins the channel', () => {
  it('after the service was down longer than its retries, its media flowing meanwhile', async () => {
    fx = await fixture();
    const master = fx.master({ signaling: { retry: MASTER_RETRY } });
    await master.start();
    fx.stream(master, false);
    const viewer = fx.viewer({ clientId: 'a', signaling: { retry: VIEWER_RETRY } });
    const frames = recordVideo(viewer);
    await viewer.connect();
    await until(() => frames.length >= 50, 'the viewer has 50 frames');

    const errors: string[] = [];
    viewer.on('error', (e) => errors.push(e.code));
    const gaveUp = stateIs(viewer.signaling, 'DISCONNECTED');
    const viewerBack = stateIs(viewer.signaling, 'CONNECTED');
    const masterBack = stateIs(master.signaling, 'CONNECTED');

    await fx.svc.stop({ graceful: false });
    await gaveUp;
    expect(errors).toContain('ERR_SIGNALING_RETRIES_EXHAUSTED');
    // Off the channel, the peer connection keeps its media.
    const during = frames.length;
    await until(() => frames.length >= during + 50, 'the viewer: 50 more frames while off');
    expect(viewer.state).toBe('connected');
    expect(viewer.signaling.state).not.toBe('CONNECTED');

    await fx.restartService();
    // Before the shared rejoin, the viewer stayed DISCONNECTED for good.
    await Promise.all([viewerBack, masterBack]);
    expect(viewer.signaling.getMetrics().numberOfReconnects).toBeGreaterThanOrEqual(1);

    // Signaling works again to this viewer: a candidate from the master arrives. Port 9
    // (discard) on loopback: checks to it fail and leave the working pair alone.
    const cand: IceCandidate = {
      candidate: 'candidate:9 1 udp 2122260223 127.0.0.1 9 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    const arrived = nextEvent<[IceCandidate, string]>(viewer.signaling, 'iceCandidate', (c) =>
      c.candidate.includes(' 127.0.0.1 9 '),
    );
    await master.signaling.sendIceCandidate(cand, 'a');
    const [got] = await arrived;
    expect(got.candidate).toBe(cand.candidate);

    const after = frames.length;
    await until(() => frames.length >= after + 50, 'the viewer: 50 more frames after rejoining');
    expect(viewer.state).toBe('connected');
  }, 120_000);
});

/** A stand-in for SignalingClient: state changes, and connect() calls counted and scripted. */
class FakeClient extends EventEmitter {
  connects = 0;
  next: () => Promise<void> = () => Promise.resolve();
  connect(): Promise<void> {
    this.connects++;
    return this.next();
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function rejoiner(
  client: FakeClient,
  o: { enabled?: boolean; wanted?: () => boolean; errors?: KvsError[] } = {},
): Rejoiner {
  return new Rejoiner({
    signaling: client as unknown as SignalingClient,
    log: quiet,
    what: 'Viewer t',
    enabled: o.enabled ?? true,
    wanted: o.wanted ?? (() => true),
    error: (e) => o.errors?.push(e),
  });
}

describe('Rejoiner (lib/session/rejoin.ts)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits 1 s, doubling, at most a minute', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map(rejoinDelay)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
    expect(rejoinDelay(1e9)).toBe(REJOIN_MAX_MS);
  });

  it('joins again after DISCONNECTED, backs off while it fails, starts over once CONNECTED', async () => {
    vi.useFakeTimers();
    const client = new FakeClient();
    const errors: KvsError[] = [];
    const r = rejoiner(client, { errors });
    client.next = () => Promise.reject(new KvsError('ERR_SIGNALING_RETRIES_EXHAUSTED', 'down'));
    client.emit('stateChange', 'DISCONNECTED');
    // A second DISCONNECTED while one is pending schedules nothing more.
    client.emit('stateChange', 'DISCONNECTED');
    await vi.advanceTimersByTimeAsync(999);
    expect(client.connects).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(client.connects).toBe(1);
    expect(errors.map((e) => e.code)).toEqual(['ERR_SIGNALING_RETRIES_EXHAUSTED']);
    // The next one 2 s later, then 4 s.
    await vi.advanceTimersByTimeAsync(1999);
    expect(client.connects).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(client.connects).toBe(2);
    client.next = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(4000);
    expect(client.connects).toBe(3);
    expect(r.attempts).toBe(3);
    client.emit('stateChange', 'CONNECTED');
    expect(r.attempts).toBe(0);
    // Given up again: from 1 s once more.
    client.emit('stateChange', 'DISCONNECTED');
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.connects).toBe(4);
    r.stop();
  });

  it('does nothing with reconnect false, before the session is up, or once stopped', async () => {
    vi.useFakeTimers();
    const off = new FakeClient();
    rejoiner(off, { enabled: false });
    off.emit('stateChange', 'DISCONNECTED');
    let up = false;
    const early = new FakeClient();
    rejoiner(early, { wanted: () => up });
    early.emit('stateChange', 'DISCONNECTED');
    const stopped = new FakeClient();
    const s = rejoiner(stopped);
    stopped.emit('stateChange', 'DISCONNECTED');
    s.stop();
    await vi.advanceTimersByTimeAsync(10 * REJOIN_MAX_MS);
    expect([off.connects, early.connects, stopped.connects]).toEqual([0, 0, 0]);
    // Once the session is up, the next DISCONNECTED is acted on.
    up = true;
    early.emit('stateChange', 'DISCONNECTED');
    await vi.advanceTimersByTimeAsync(1000);
    expect(early.connects).toBe(1);
  });
});
