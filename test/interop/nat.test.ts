import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  makeNatTopology,
  startCoturn,
  startPeer,
  type NatTopology,
  type PeerProcess,
} from '../helpers/nat.js';
import { skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

// Two kvs-webrtc peers, each behind its own NAT router, in network namespaces this test makes
// (test/helpers/nat.ts). Behind masquerading NATs they connect through their server-reflexive
// candidates; behind symmetric ones only the TURN relay gets through.
const script = path.join(ROOT, 'test', 'interop', 'nat-peer.mjs');

interface Connected {
  type: 'connected';
  local: { type: string; address: string };
  remote: { type: string; address: string };
  gathered: string[];
}

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.reverse()) f();
  cleanup = [];
});

/** Relays one side's messages to the other until it reports connected (or failed). */
async function relay(from: PeerProcess, to: PeerProcess): Promise<Connected> {
  for await (const msg of from.messages) {
    if (msg.type === 'connected') return msg as unknown as Connected;
    if (msg.type === 'failed') throw new Error('peer connection failed');
    to.send(msg);
  }
  throw new Error('peer exited before connecting');
}

async function connectThroughNats(symmetric: boolean, withTurn: boolean) {
  const topo: NatTopology = makeNatTopology(symmetric);
  cleanup.push(() => {
    topo.destroy();
  });
  const turn = await startCoturn(topo.ns.pub, topo.addresses.server);
  cleanup.push(() => {
    turn.stop();
  });
  const iceServers = [
    { urls: `stun:${topo.addresses.server}:3478` },
    ...(withTurn
      ? [
          {
            urls: `turn:${topo.addresses.server}:3478?transport=udp`,
            username: turn.username,
            credential: turn.credential,
          },
        ]
      : []),
  ];
  const a = startPeer(topo.ns.privA, script, { address: topo.addresses.a, iceServers });
  const b = startPeer(topo.ns.privB, script, { address: topo.addresses.b, iceServers });
  cleanup.push(
    () => a.child.kill('SIGKILL'),
    () => b.child.kill('SIGKILL'),
  );
  a.send({ type: 'start' });
  const [ra, rb] = await Promise.all([relay(a, b), relay(b, a)]);
  a.send({ type: 'bye' });
  b.send({ type: 'bye' });
  return { a: ra, b: rb };
}

describe.skipIf(skipWithoutNetns('behind NATs'))('behind NATs (network namespaces)', () => {
  it('connects through server-reflexive candidates behind masquerading NATs', async () => {
    const { a, b } = await connectThroughNats(false, false);
    // Each learned its public mapping from STUN...
    expect(a.gathered).toContain('srflx 10.99.1.1');
    expect(b.gathered).toContain('srflx 10.99.4.1');
    // ...and reached the other at its mapping: host candidates (10.99.2.2, 10.99.3.2) are
    // unreachable across the routers.
    expect(a.remote.address).toBe('10.99.4.1');
    expect(b.remote.address).toBe('10.99.1.1');
    expect(['srflx', 'prflx']).toContain(a.remote.type);
    expect(['srflx', 'prflx']).toContain(b.remote.type);
  }, 60_000);

  it('connects through the TURN relay behind symmetric NATs', async () => {
    const { a, b } = await connectThroughNats(true, true);
    expect(a.gathered.some((c) => c.startsWith('relay 10.99.1.2'))).toBe(true);
    // The path runs through a relay: each side either sends from its relayed address or to
    // the other's. A srflx mapping is useless behind a symmetric NAT, so no pair uses one.
    expect([a.local.type, b.local.type]).toContain('relay');
    for (const side of [a, b]) {
      expect(side.local.type === 'relay' || side.remote.address === '10.99.1.2').toBe(true);
      expect(side.remote.type).not.toBe('srflx');
    }
  }, 60_000);
});
