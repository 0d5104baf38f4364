// A peer that vanishes mid-transfer: a kvs-webrtc peer in a child process (dc-peer.mjs, on
// loopback) is killed with SIGKILL in the middle of a 64 MiB transfer, either way. Our side
// (this process) must end with `close` on its channels once the connection's shortened
// disconnected/failed timeouts (the C SDK's timers, here 3 s + 3 s) run out, with no crash,
// and must go on working: a fresh pair connects and carries messages. (Before the fix in
// PeerConnection the channels stayed open after `failed`: no close within 30 s.)
import { afterEach, describe, expect, it } from 'vitest';
import { PeerConnection, type DataChannel, type PeerConnectionState } from '../../lib/index.js';
import { MiB, collect, deadline, nativePair, once, until } from '../helpers/dc.js';
import { startPeerChild, type PeerChild } from '../helpers/peer-process.js';
import { LOOPBACK, candidateSink, waitForState } from '../helpers/peers.js';

const TIMEOUTS = { disconnected: 3000, failed: 3000 };
// The wait for close: the two timeouts, a consent interval, and room for a loaded machine.
const CLOSE_WITHIN_MS = TIMEOUTS.disconnected + TIMEOUTS.failed + 25_000;

const children: PeerChild[] = [];
const peers: PeerConnection[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

/** Our peer (this process) answering the child's offer, with a `bulk` channel the child opened. */
async function connectToChild(): Promise<{
  ours: PeerConnection;
  child: PeerChild;
  channel: DataChannel;
  states: PeerConnectionState[];
}> {
  const child = startPeerChild({ address: '127.0.0.1' });
  children.push(child);
  const ours = new PeerConnection({ ...LOOPBACK, timeouts: TIMEOUTS });
  peers.push(ours);
  const states: PeerConnectionState[] = [];
  ours.on('connectionstatechange', (s) => states.push(s));
  const sink = candidateSink(ours);
  child.onMessage((m) => {
    if (m.type === 'candidate' && typeof m.candidate === 'string') sink.add(m.candidate);
  });
  ours.on('icecandidate', (c) =>
    child.send({ type: 'candidate', candidate: c ? c.candidate : null }),
  );
  const announced = once<DataChannel>(ours, 'datachannel', 45_000);
  child.send({ type: 'start', channels: [{ label: 'bulk', init: {} }] });
  const offer = await child.waitFor((m) => m.type === 'offer', 45_000, 'offer');
  await ours.setRemoteDescription({ type: 'offer', sdp: offer.sdp as string });
  const answer = await ours.createAnswer();
  await ours.setLocalDescription(answer);
  child.send({ type: 'answer', sdp: answer.sdp });
  await waitForState(ours, 'connected');
  const channel = await announced;
  await child.waitFor((m) => m.type === 'open' && m.label === 'bulk', 45_000, 'child open');
  return { ours, child, channel, states };
}

/** Whether the process can still do everything: a fresh pair connects and carries a message. */
async function stillWorks(): Promise<void> {
  const make = () => {
    const p = new PeerConnection(LOOPBACK);
    peers.push(p);
    return p;
  };
  const { ab, ba } = await nativePair(make, 'after');
  const got = collect(ba);
  ab.send('still alive');
  await until(() => got.length === 1, 30_000, 'the message after');
  expect(got[0]).toBe('still alive');
}

describe('a peer that vanishes mid-transfer', () => {
  it('while it sends to us: our channel closes, nothing crashes, and the process goes on working', async () => {
    const { ours, child, channel, states } = await connectToChild();
    let received = 0;
    channel.on('message', (m) => {
      received += typeof m === 'string' ? m.length : m.byteLength;
    });
    const closed = once(channel, 'close', CLOSE_WITHIN_MS);
    child.send({
      type: 'send',
      label: 'bulk',
      count: 4096,
      size: 16 * 1024,
      highWater: 1 * MiB,
      lowThreshold: 256 * 1024,
    });
    await until(() => received >= 4 * MiB, 120_000, '4 MiB to arrive');
    child.kill();
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGKILL');
    // The transfer was cut short: the child did not finish it.
    expect(received).toBeLessThan(64 * MiB);
    await deadline(closed, CLOSE_WITHIN_MS, 'close on our channel');
    expect(channel.readyState).toBe('closed');
    expect(states).toContain('failed');
    expect(() => channel.send('x')).toThrow(/closed, not open/);
    expect(ours.connectionState).toBe('failed');
    await stillWorks();
  }, 180_000);

  it('while we send to it: our channel closes and refuses sends, and the process goes on working', async () => {
    const { child, channel, states } = await connectToChild();
    const closed = once(channel, 'close', CLOSE_WITHIN_MS);
    channel.bufferedAmountLowThreshold = 256 * 1024;
    let sent = 0;
    const message = Buffer.alloc(16 * 1024, 7);
    const pump = () => {
      while (channel.readyState === 'open' && sent < 64 * MiB && channel.bufferedAmount < MiB) {
        channel.send(message);
        sent += message.length;
      }
    };
    channel.on('bufferedamountlow', pump);
    pump();
    await child.waitFor(
      (m) => m.type === 'progress' && m.label === 'bulk' && (m.count as number) >= 256,
      120_000,
      '4 MiB at the child',
    );
    child.kill();
    await child.exited;
    await deadline(closed, CLOSE_WITHIN_MS, 'close on our channel');
    expect(sent).toBeLessThan(64 * MiB);
    expect(channel.readyState).toBe('closed');
    expect(states).toContain('failed');
    expect(() => channel.send(message)).toThrow(/closed, not open/);
    await stillWorks();
  }, 180_000);
});
