import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerConnection, SignalingClient, getStat } from '../../lib/index.js';
import { startLocalKvs, type LocalKvs } from '../../lib/local/index.js';
import { negotiate, trickle, waitForState } from '../helpers/peers.js';

// Relay-only connections through the coturn the local KVS service runs, with the TURN
// credentials GetIceServerConfig hands out (through the signaling client, as an app would).
let kvs: LocalKvs;
let dataDir = '';
let turnUdp = '';
let turnsTcp = '';
let username = '';
let credential = '';

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-relay-'));
  kvs = await startLocalKvs({ port: 0, dataDir });
  const client = new SignalingClient({
    channelName: 'relay-test',
    role: 'MASTER',
    region: kvs.region,
    credentials: kvs.credentials,
    endpoint: kvs.endpoint,
    caCertPath: kvs.caCertPath,
    createIfMissing: true,
  });
  try {
    await client.fetch();
    const servers = await client.getIceServers();
    const turn = servers.find((s) => s.urls.some((u) => u.startsWith('turn')));
    expect(
      turn,
      'the local service must hand out TURN servers (is coturn installed?)',
    ).toBeDefined();
    if (!turn) return;
    username = turn.username ?? '';
    credential = turn.credential ?? '';
    turnUdp = turn.urls.find((u) => /^turn:.*transport=udp/.test(u)) ?? '';
    turnsTcp = turn.urls.find((u) => /^turns:.*transport=tcp/.test(u)) ?? '';
  } finally {
    await client.close();
  }
}, 60_000);

afterAll(async () => {
  // Unset when beforeAll failed before assigning it.
  await (kvs as LocalKvs | undefined)?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function relayOnlyPair(url: string): Promise<void> {
  const config = {
    iceServers: [{ urls: url, username, credential }],
    iceTransportPolicy: 'relay' as const,
    interfaces: { only: ['127.0.0.1'] },
    turnCaCertPath: kvs.caCertPath,
  };
  const a = new PeerConnection(config);
  const b = new PeerConnection(config);
  try {
    const kinds: string[] = [];
    a.on('icecandidate', (c) => c && kinds.push(c.candidate.split(' ')[7] ?? ''));
    const errors = trickle(a, b);
    await a.enableDataChannels();
    await negotiate(a, b);
    await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
    expect(errors).toEqual([]);
    expect(new Set(kinds)).toEqual(new Set(['relay'])); // no host candidate under "relay"
    for (const pc of [a, b]) {
      const stats = await pc.getStats();
      const transport = getStat(stats, 'transport-0', 'transport');
      const pair = getStat(stats, transport?.selectedCandidatePairId, 'candidate-pair');
      expect(getStat(stats, pair?.localCandidateId, 'local-candidate')?.candidateType).toBe(
        'relay',
      );
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

describe('relay only, through coturn', () => {
  it('over UDP', async () => {
    expect(turnUdp).toMatch(/^turn:/);
    await relayOnlyPair(turnUdp);
  });

  it('over TCP', async () => {
    // coturn listens for TCP on the same port; the service lists only the UDP form.
    await relayOnlyPair(turnUdp.replace('transport=udp', 'transport=tcp'));
  });

  it('over TLS, trusting the local service CA', async () => {
    expect(turnsTcp).toMatch(/^turns:/);
    await relayOnlyPair(turnsTcp);
  });

  it('fails to gather a relay with a wrong password', async () => {
    const pc = new PeerConnection({
      iceServers: [{ urls: turnUdp, username, credential: `${credential}x` }],
      iceTransportPolicy: 'relay',
      interfaces: { only: ['127.0.0.1'] },
    });
    try {
      const candidates: (string | null)[] = [];
      const done = new Promise<void>((resolve) =>
        pc.on('icecandidate', (c) => {
          candidates.push(c ? c.candidate : null);
          if (!c) resolve();
        }),
      );
      await pc.enableDataChannels();
      await pc.setLocalDescription(await pc.createOffer());
      await done;
      expect(candidates).toEqual([null]);
    } finally {
      await pc.close();
    }
  });
});
