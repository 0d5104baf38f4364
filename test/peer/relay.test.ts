import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerConnection, SignalingClient, getStat } from '../../lib/index.js';
import { startLocalKvs, type LocalKvs } from '../../lib/local/index.js';
import { gatherAll, negotiate, trickle, waitForState } from '../helpers/peers.js';

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

  it('fails to gather a relay with a wrong password, and says so', async () => {
    const { candidates, errors } = await gatherRelay(turnUdp, username, `${credential}x`);
    expect(candidates).toEqual([null]);
    expect(errors).toEqual([{ url: turnUdp.replace(/\?.*/, ''), code: 'ERR_TURN_AUTH' }]);
  });
});

/** Relay-only gathering with one TURN server: the candidates, and the errors it gave. */
async function gatherRelay(
  url: string,
  user: string,
  password: string,
): Promise<{ candidates: (string | null)[]; errors: { url: string; code: string }[] }> {
  const pc = new PeerConnection({
    iceServers: [{ urls: url, username: user, credential: password }],
    iceTransportPolicy: 'relay',
    interfaces: { only: ['127.0.0.1'] },
  });
  try {
    const errors: { url: string; code: string }[] = [];
    pc.on('icecandidateerror', (e) => errors.push({ url: e.url, code: e.error.code }));
    const candidates = await gatherAll(pc);
    return { candidates, errors };
  } finally {
    await pc.close();
  }
}

describe('TURN credentials that expired', () => {
  it('are refused for a new allocation: no relay candidate, and icecandidateerror says why', async () => {
    // A service handing out 2-second credentials. coturn checks a REST username's expiry
    // when an allocation is made (not on the Refreshes of a live one), so an expired one
    // costs every allocation after it, as an ICE restart makes.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-relay-ttl-'));
    const shortLived = await startLocalKvs({
      port: 0,
      dataDir: dir,
      limits: { turnCredentialTtlSeconds: 2 },
    });
    const client = new SignalingClient({
      channelName: 'relay-ttl',
      role: 'MASTER',
      region: shortLived.region,
      credentials: shortLived.credentials,
      endpoint: shortLived.endpoint,
      caCertPath: shortLived.caCertPath,
      createIfMissing: true,
    });
    try {
      await client.fetch();
      const turn = (await client.getIceServers()).find((s) =>
        s.urls.some((u) => u.startsWith('turn')),
      );
      const url = turn?.urls.find((u) => /^turn:.*transport=udp/.test(u)) ?? '';
      expect(url).toMatch(/^turn:/);
      const user = turn?.username ?? '';
      const password = turn?.credential ?? '';
      // The username is "<expiry, Unix seconds>:<...>": wait until that second is well past
      // (coturn's clock is a cached one, moved on by its event loop, so it can lag ours).
      const expiry = Number(user.split(':')[0]);
      expect(expiry * 1000 - Date.now()).toBeLessThanOrEqual(2_000);
      await new Promise((r) => setTimeout(r, Math.max(0, (expiry + 3) * 1000 - Date.now())));
      const { candidates, errors } = await gatherRelay(url, user, password);
      expect(candidates).toEqual([null]);
      expect(errors).toEqual([{ url: url.replace(/\?.*/, ''), code: 'ERR_TURN_AUTH' }]);
    } finally {
      await client.close();
      await shortLived.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
