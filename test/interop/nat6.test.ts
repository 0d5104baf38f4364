import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPeer, type PeerProcess } from '../helpers/nat.js';
import { canNat66, makeNat66Topology, startStun6 } from '../helpers/nat6.js';
import { canMakeNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

// Server-reflexive candidates over IPv6 (the C SDK gathers them over IPv4 only): a kvs-webrtc
// peer behind a NAT66 router learns its public IPv6 mapping from STUN and is reached at it by
// a peer on the public side. All in network namespaces this test makes (test/helpers/nat6.ts).
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

async function relay(from: PeerProcess, to: PeerProcess): Promise<Connected> {
  for await (const msg of from.messages) {
    if (msg.type === 'connected') return msg as unknown as Connected;
    if (msg.type === 'failed') throw new Error(`peer connection failed: ${JSON.stringify(msg)}`);
    to.send(msg);
  }
  throw new Error('peer exited before connecting');
}

describe.skipIf(!canMakeNetns() || !canNat66())('behind a NAT66 router', () => {
  it('gathers an IPv6 server-reflexive candidate and is reached at it', async () => {
    const topo = makeNat66Topology();
    cleanup.push(topo.destroy);
    cleanup.push(await startStun6(topo.ns.pub, topo.addresses.pub));
    const stun = { urls: `stun:[${topo.addresses.pub}]:3478` };
    const inside = startPeer(topo.ns.priv, script, {
      address: topo.addresses.priv,
      iceServers: [stun],
    });
    const outside = startPeer(topo.ns.pub, script, { address: topo.addresses.pub, iceServers: [] });
    cleanup.push(
      () => inside.child.kill('SIGKILL'),
      () => outside.child.kill('SIGKILL'),
    );
    inside.send({ type: 'start' });
    const [a, b] = await Promise.all([relay(inside, outside), relay(outside, inside)]);
    inside.send({ type: 'bye' });
    outside.send({ type: 'bye' });
    // The mapping the router made, learned over IPv6 from STUN.
    expect(a.gathered).toContain(`srflx ${topo.addresses.rtrWan}`);
    // The public peer sees the inside one at that mapping: its host address is unreachable.
    expect(b.remote.address).toBe(topo.addresses.rtrWan);
    expect(['srflx', 'prflx']).toContain(b.remote.type);
    expect(a.remote.address).toBe(topo.addresses.pub);
  }, 60_000);
});
