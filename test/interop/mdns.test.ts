import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETNS_ADDRESS, canMakeNetns, runInNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

// mDNS in private network namespaces (the multicast stays there): a name nobody answers for,
// and our own responder for the names that hide our host addresses.
const script = path.join(ROOT, 'test', 'interop', 'mdns-unresolved.mjs');
const peers = path.join(ROOT, 'test', 'interop', 'mdns-peers.mjs');

describe.skipIf(!canMakeNetns())('an unresolvable .local candidate', () => {
  it('is skipped with a reason after its timeout, and the connection is unharmed', () => {
    const r = runInNetns([script, NETNS_ADDRESS], 90_000);
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(line, r.stderr).toMatch(/^\{/);
    const out = JSON.parse(line) as {
      error?: string;
      connectedBeforeSkip?: boolean;
      skipped?: { candidate: string; why: string }[];
      states?: string[];
      finalState?: string;
    };
    expect(out.error).toBeUndefined();
    // The end of candidates came while the name was pending: the connection still came up.
    expect(out.connectedBeforeSkip).toBe(true);
    expect(out.skipped).toHaveLength(1);
    expect(out.skipped?.[0]?.candidate).toContain('0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0.local');
    expect(out.skipped?.[0]?.why).toMatch(/was not resolved within 10000 ms/);
    expect(out.states).not.toContain('failed');
    expect(out.finalState).toBe('connected');
  }, 120_000);
});

interface PeersSide {
  local?: { type: string; address: string };
  remote?: { type: string; address: string };
  remotes?: string[];
}
interface PeersOutcome {
  error?: string;
  announced?: { a: string[]; b: string[] };
  name?: string;
  lookedUp?: string;
  a?: PeersSide;
  b?: PeersSide;
  skipped?: unknown[];
}

function checkHidingPeers(out: PeersOutcome, address: string): void {
  expect(out.error).toBeUndefined();
  for (const list of [out.announced?.a ?? [], out.announced?.b ?? []]) {
    expect(list.length).toBeGreaterThan(0);
    for (const c of list) expect(c.split(' ')[4]).toMatch(/^[0-9a-f-]{36}\.local$/);
  }
  // multicast-dns (the package werift resolves with) asked for the name and got our address.
  expect(out.name).toMatch(/\.local$/);
  expect(out.lookedUp).toBe(address);
  expect(out.skipped).toEqual([]);
  for (const side of [out.a, out.b]) {
    expect(side?.remote).toMatchObject({ type: 'host', address });
    expect(side?.remotes?.every((c) => c.startsWith('host '))).toBe(true);
  }
}

function runPeers(args: string[], setup: string[] = []): PeersOutcome {
  const r = runInNetns([peers, ...args], 90_000, setup);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  return JSON.parse(line) as PeersOutcome;
}

describe.skipIf(!canMakeNetns())('hiding our host addresses (mdnsHostCandidates)', () => {
  it('IPv4 (224.0.0.251): an independent resolver gets our address; two hiding peers connect over host pairs', () => {
    checkHidingPeers(runPeers([NETNS_ADDRESS]), NETNS_ADDRESS);
  }, 120_000);

  it('IPv6 (ff02::fb, AAAA): the same over a unique local address', () => {
    const v6 = 'fd00:99::1';
    const out = runPeers(
      [v6, 'kvst0'],
      [
        'sysctl -q -w net.ipv6.conf.all.disable_ipv6=0',
        `ip -6 addr add ${v6}/64 dev kvst0 nodad`,
        'ip -6 route add default dev kvst0',
      ],
    );
    checkHidingPeers(out, v6);
  }, 120_000);
});
