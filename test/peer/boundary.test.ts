// The N-API boundary: calls on closed connections, bad arguments, throwing listeners, and
// connections made and closed while calls are in flight. Nothing may abort the process,
// leave a promise unsettled, or throw anything but a KvsError with a stable code.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { KvsError, PeerConnection, getStat } from '../../lib/index.js';
import { LOOPBACK, negotiate, trickle, waitForState } from '../helpers/peers.js';

const run = promisify(execFile);
const open: PeerConnection[] = [];
function pc(config = LOOPBACK): PeerConnection {
  const p = new PeerConnection(config);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(KvsError);
    return (err as KvsError).code;
  }
}

// Every method, as an app would call it on a connection it has closed.
const CALLS: [string, (p: PeerConnection) => Promise<unknown>][] = [
  ['createOffer', (p) => p.createOffer()],
  ['createAnswer', (p) => p.createAnswer()],
  ['setLocalDescription', (p) => p.setLocalDescription({ type: 'offer', sdp: 'v=0\r\n' })],
  ['setRemoteDescription', (p) => p.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\n' })],
  ['addIceCandidate', (p) => p.addIceCandidate('candidate:1 1 udp 1 127.0.0.1 9 typ host')],
  ['addTransceiver', (p) => p.addTransceiver('video')],
  ['enableDataChannels', (p) => p.enableDataChannels()],
  ['restartIce', (p) => p.restartIce()],
];

describe('a closed peer connection', () => {
  it('rejects every call at once with ERR_INVALID_STATE, however long after close', async () => {
    for (const delay of [0, 1, 50, 300, 1000]) {
      const p = pc();
      await p.addTransceiver('video');
      await p.close();
      await sleep(delay);
      for (const [name, call] of CALLS) {
        expect(await codeOf(call(p)), `${name} ${delay} ms after close`).toBe('ERR_INVALID_STATE');
      }
      // The metrics answer well-defined results: the figures as they stood at close.
      const stats = await p.getStats();
      expect(stats.get('transport-0')).toMatchObject({ iceState: 'closed', dtlsState: 'closed' });
      await expect(p.close()).resolves.toBeUndefined();
    }
  });

  it('keeps the statistics of a connected call after it closed', async () => {
    const a = pc();
    const b = pc();
    trickle(a, b);
    await a.addTransceiver('video');
    await negotiate(a, b);
    await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
    await a.close();
    await sleep(100);
    const stats = await a.getStats();
    const transport = getStat(stats, 'transport-0', 'transport');
    expect(transport).toMatchObject({ iceState: 'closed', dtlsState: 'closed' });
    const pair = getStat(stats, transport?.selectedCandidatePairId, 'candidate-pair');
    expect(Number(pair?.bytesReceived)).toBeGreaterThan(0);
  });

  it('settles calls made while it closes, and survives many made and closed at once', async () => {
    const settled: Promise<string>[] = [];
    for (let i = 0; i < 40; i++) {
      const p = pc();
      settled.push(codeOf(p.addTransceiver('video')));
      settled.push(codeOf(p.createOffer()));
      settled.push(codeOf(p.getStats()));
      const closing = p.close();
      settled.push(codeOf(p.restartIce()));
      settled.push(codeOf(p.getStats()));
      if (i % 2 === 0) await closing;
    }
    const codes = await Promise.all(settled);
    for (const c of codes) expect(['resolved', 'ERR_INVALID_STATE']).toContain(c);
    expect(codes.filter((c) => c === 'ERR_INVALID_STATE').length).toBeGreaterThan(0);
  });

  it('a process that closes and then calls exits cleanly with every promise settled', async () => {
    const script = `
      const { PeerConnection } = require(${JSON.stringify(path.resolve('dist/index.js'))});
      (async () => {
        const pc = new PeerConnection({ interfaces: { only: ['127.0.0.1'] } });
        await pc.addTransceiver('video');
        await pc.close();
        await new Promise((r) => setTimeout(r, Number(process.argv[1])));
        const out = [];
        for (const m of ['createOffer', 'restartIce', 'enableDataChannels']) {
          out.push(await pc[m]().then(() => 'resolved', (e) => e.code));
        }
        out.push((await pc.getStats()).size > 0 ? 'stats' : 'no stats');
        console.log(out.join(','));
      })();`;
    for (const delay of ['0', '50', '500']) {
      const { stdout, stderr } = await run(process.execPath, ['-e', script, delay]);
      expect(stdout.trim(), `after ${delay} ms`).toBe(
        'ERR_INVALID_STATE,ERR_INVALID_STATE,ERR_INVALID_STATE,stats',
      );
      expect(stderr).toBe('');
    }
  });
});

describe('memory', () => {
  it('a closed peer connection can be collected: bare, and connected with media and a data channel', async () => {
    // The native side held the JS event callback strongly, and the callback holds the JS
    // object: before the fix not one closed connection was ever collected (0 of 20).
    const script = `
      const { PeerConnection } = require(${JSON.stringify(path.resolve('dist/index.js'))});
      const cfg = { interfaces: { only: ['127.0.0.1'] } };
      let finalized = 0;
      const registry = new FinalizationRegistry(() => finalized++);
      const bare = async () => {
        const pc = new PeerConnection(cfg);
        registry.register(pc, 0);
        pc.on('connectionstatechange', () => undefined);
        await pc.close();
      };
      const connected = async () => {
        const a = new PeerConnection(cfg);
        const b = new PeerConnection(cfg);
        registry.register(a, 0);
        registry.register(b, 0);
        // Candidates wait until the other side has a remote description to add them to.
        const pending = new Map([[a, []], [b, []]]);
        const ready = new Set();
        const deliver = (to, c) => (ready.has(to) ? to.addIceCandidate(c) : pending.get(to).push(c));
        a.on('icecandidate', (c) => c && deliver(b, c));
        b.on('icecandidate', (c) => c && deliver(a, c));
        const remoteSet = async (pc) => {
          ready.add(pc);
          for (const c of pending.get(pc).splice(0)) await pc.addIceCandidate(c);
        };
        await a.addTransceiver('video');
        const dc = a.createDataChannel('chat');
        const up = (pc) => new Promise((r) => {
          if (pc.connectionState === 'connected') r();
          pc.on('connectionstatechange', () => pc.connectionState === 'connected' && r());
        });
        await a.setLocalDescription(await a.createOffer());
        await b.setRemoteDescription(a.localDescription);
        await remoteSet(b);
        await b.setLocalDescription(await b.createAnswer());
        await a.setRemoteDescription(b.localDescription);
        await remoteSet(a);
        await Promise.all([up(a), up(b)]);
        if (dc.readyState !== 'open') await new Promise((r) => dc.once('open', r));
        dc.send('hello');
        await Promise.all([a.close(), b.close()]);
      };
      (async () => {
        for (let i = 0; i < 10; i++) await bare();
        for (let i = 0; i < 5; i++) await connected();
        // Bounded: up to 40 collections, 50 ms apart.
        for (let i = 0; i < 40 && finalized < 20; i++) {
          globalThis.gc();
          await new Promise((r) => setTimeout(r, 50));
        }
        console.log(finalized);
      })();`;
    const { stdout, stderr } = await run(process.execPath, ['--expose-gc', '-e', script]);
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('20');
  }, 120_000);
});

describe('bad arguments', () => {
  it('are KvsErrors naming the field', async () => {
    const p = pc();
    const bad: [string, () => Promise<unknown>][] = [
      ['addTransceiver(null)', () => p.addTransceiver(null as never)],
      ['addTransceiver()', () => (p.addTransceiver as (x?: unknown) => Promise<unknown>)()],
      ['addTransceiver({kind})', () => p.addTransceiver({ kind: 'text' as never })],
      ['addIceCandidate()', () => (p.addIceCandidate as (x?: unknown) => Promise<void>)()],
      ['addIceCandidate(5)', () => p.addIceCandidate(5 as never)],
      ['addIceCandidate({})', () => p.addIceCandidate({} as never)],
      ['setLocalDescription(null)', () => p.setLocalDescription(null as never)],
    ];
    for (const [what, call] of bad) {
      expect(await codeOf(call()), what).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('in the configuration are refused by the constructor with a KvsError', () => {
    const configs: [string, unknown, RegExp][] = [
      ['a STUN URL with no host', { iceServers: [{ urls: 'stun:' }] }, /host/],
      [
        'a TURN URL with no host',
        { iceServers: [{ urls: 'turn:', username: 'u', credential: 'c' }] },
        /host/,
      ],
      ['interfaces as a string', { interfaces: 'x' }, /interfaces/],
      ['interfaces.only as a string', { interfaces: { only: '127.0.0.1' } }, /interfaces\.only/],
      [
        'a bad TURN port',
        { iceServers: [{ urls: 'turn:127.0.0.1:99999', username: 'u', credential: 'c' }] },
        /port/,
      ],
      [
        'a bad certificate',
        { certificate: { certificatePem: 'x', privateKeyPem: 'y' } },
        /certificate/,
      ],
    ];
    for (const [what, config, message] of configs) {
      let thrown: unknown;
      try {
        pc(config as never);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, what).toBeInstanceOf(KvsError);
      expect((thrown as KvsError).code, what).toMatch(/^ERR_[A-Z_]+$/);
      expect((thrown as KvsError).message, what).toMatch(message);
    }
  });
});

describe('listeners', () => {
  const fixture = path.join(__dirname, 'fixtures', 'throwing-listener.mjs');
  const dist = path.resolve('dist/index.js');

  it('that throw raise an uncaught exception, as from any EventEmitter', async () => {
    const { stdout } = await run(process.execPath, [fixture, 'handled', dist]);
    expect(stdout.trim()).toBe('caught: listener threw on purpose');
  });

  it('that throw with no handler end the process with the error', async () => {
    const err = await run(process.execPath, [fixture, 'unhandled', dist]).then(
      () => null,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(err).not.toBeNull();
    expect(err?.code).not.toBe(0);
    expect(err?.stderr).toContain('listener threw on purpose');
    expect(err?.stderr).not.toContain('DEP0168');
  });
});
