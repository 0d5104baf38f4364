import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PeerConnection,
  SignalingClient,
  getStat,
  type PeerConnectionConfig,
} from '../../lib/index.js';
import { startLocalKvs, type LocalKvs } from '../../lib/local/index.js';
import { negotiate, trickle, waitForState } from '../helpers/peers.js';

// Every TURN URL form GetIceServerConfig hands out, as KVS serves them (two servers, each with
// its own credentials and the URIs turn:…?transport=udp, turns:…?transport=udp and
// turns:…?transport=tcp), against the local service's coturn; over IPv4 and over IPv6 (::1).
interface Server {
  urls: string[];
  username?: string;
  credential?: string;
}

async function iceServersOf(kvs: LocalKvs, channelName: string): Promise<Server[]> {
  const client = new SignalingClient({
    channelName,
    role: 'MASTER',
    region: kvs.region,
    credentials: kvs.credentials,
    endpoint: kvs.endpoint,
    caCertPath: kvs.caCertPath,
    createIfMissing: true,
  });
  try {
    await client.fetch();
    return (await client.getIceServers()).filter((s) => s.urls.some((u) => u.startsWith('turn')));
  } finally {
    await client.close();
  }
}

function relayConfig(kvs: LocalKvs, servers: Server[], local: string): PeerConnectionConfig {
  return {
    iceServers: servers,
    iceTransportPolicy: 'relay',
    interfaces: { only: [local] },
    turnCaCertPath: kvs.caCertPath,
  };
}

/** Gathers under a config and returns the candidate lines. */
async function gather(config: PeerConnectionConfig): Promise<string[]> {
  const pc = new PeerConnection(config);
  try {
    const lines: string[] = [];
    const done = new Promise<void>((resolve) =>
      pc.on('icecandidate', (c) => (c ? lines.push(c.candidate) : resolve())),
    );
    await pc.enableDataChannels();
    await pc.setLocalDescription(await pc.createOffer());
    await done;
    return lines;
  } finally {
    await pc.close();
  }
}

/** Connects two relay-only peers and returns each side's selected pair. */
async function connect(config: PeerConnectionConfig) {
  const a = new PeerConnection(config);
  const b = new PeerConnection(config);
  try {
    const errors = trickle(a, b);
    await a.enableDataChannels();
    await negotiate(a, b);
    await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
    expect(errors).toEqual([]);
    const pairs = [];
    for (const pc of [a, b]) {
      const stats = await pc.getStats();
      const transport = getStat(stats, 'transport-0', 'transport');
      const pair = getStat(stats, transport?.selectedCandidatePairId, 'candidate-pair');
      pairs.push({
        local: getStat(stats, pair?.localCandidateId, 'local-candidate'),
        remote: getStat(stats, pair?.remoteCandidateId, 'remote-candidate'),
      });
    }
    return pairs;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

const relayAddress = (line: string): string => line.split(' ')[4] ?? '';

describe.each([
  { family: 'IPv4', host: '127.0.0.1' as const },
  { family: 'IPv6', host: '::1' as const },
])('TURN URL forms from GetIceServerConfig over $family', ({ host }) => {
  let kvs: LocalKvs;
  let dataDir = '';
  let servers: Server[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-turn-forms-'));
    kvs = await startLocalKvs({ port: 0, dataDir, host });
    servers = await iceServersOf(kvs, `turn-forms-${host === '::1' ? 6 : 4}`);
  }, 60_000);

  afterAll(async () => {
    await kvs.stop({ graceful: false });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('hands out two servers with three URIs each', () => {
    expect(servers).toHaveLength(2);
    const bracketed = host === '::1' ? '\\[::1\\]' : '127\\.0\\.0\\.1';
    for (const s of servers) {
      expect(s.urls).toEqual([
        expect.stringMatching(new RegExp(`^turn:${bracketed}:\\d+\\?transport=udp$`)),
        expect.stringMatching(new RegExp(`^turns:${bracketed}:\\d+\\?transport=udp$`)),
        expect.stringMatching(new RegExp(`^turns:${bracketed}:\\d+\\?transport=tcp$`)),
      ]);
    }
  });

  for (const [index, form] of [
    [0, 'turn:?transport=udp'],
    [1, 'turns:?transport=udp (TLS over TCP, as in Chromium)'],
    [2, 'turns:?transport=tcp (TLS)'],
  ] as const) {
    it(`${form}: a relay candidate, and a relay-only connection through it`, async () => {
      for (const server of servers) {
        const only = [{ ...server, urls: [server.urls[index] ?? ''] }];
        const lines = await gather(relayConfig(kvs, only, host));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/ typ relay /);
        expect(relayAddress(lines[0] ?? '')).toBe(host);
      }
      const pairs = await connect(
        relayConfig(kvs, [{ ...servers[0], urls: [servers[0]?.urls[index] ?? ''] }], host),
      );
      for (const p of pairs) {
        // The relay runs over this family end to end: our relayed address and the peer's.
        expect(p.local).toMatchObject({ candidateType: 'relay', address: host });
        expect(p.remote?.address).toBe(host);
      }
    }, 90_000);
  }

  it('STUN to the same coturn answers over this family (a server-reflexive check)', async () => {
    // Without a NAT the mapped address is our own: the srflx candidate is redundant and not
    // gathered (RFC 8445 §5.1.3), but the binding exchange over this family is counted.
    const stun = (servers[0]?.urls[0] ?? '').replace(/^turn:/, 'stun:').replace(/\?.*$/, '');
    const pc = new PeerConnection({
      iceServers: [{ urls: stun }],
      interfaces: { only: [host] },
    });
    try {
      const done = new Promise<void>((resolve) => pc.on('icecandidate', (c) => c || resolve()));
      await pc.enableDataChannels();
      await pc.setLocalDescription(await pc.createOffer());
      await done;
      const server = [...(await pc.getStats()).values()].find((s) => s.type === 'ice-server');
      expect(server).toMatchObject({ url: stun });
      expect(Number(server?.totalResponsesReceived)).toBeGreaterThan(0);
    } finally {
      await pc.close();
    }
  });

  it('the whole answer: one UDP and one TLS allocation per server (the two turns: forms share one)', async () => {
    const lines = await gather(relayConfig(kvs, servers, host));
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => / typ relay /.test(l) && relayAddress(l) === host)).toBe(true);
    const pairs = await connect(relayConfig(kvs, servers, host));
    for (const p of pairs) expect(p.local).toMatchObject({ candidateType: 'relay', address: host });
  }, 90_000);
});
