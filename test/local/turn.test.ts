/**
 * TURN: the credentials GetIceServerConfig returns work against the coturn the service runs
 * (checked with coturn's own `turnutils_uclient`), a tampered password does not, and without
 * coturn the service says so and returns no TURN servers.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSignalingChannelCommand } from '@aws-sdk/client-kinesis-video';
import { GetIceServerConfigCommand } from '@aws-sdk/client-kinesis-video-signaling';
import type { LocalKvs } from '../../lib/local/index.js';
import { findExecutable } from '../../lib/local/turn.js';
import {
  controlClient,
  fetchMetrics,
  removeDir,
  signalingClient,
  startTestService,
} from './helpers.js';

const uclient = findExecutable('turnutils_uclient');
let caFile: string | undefined;

/** One allocation pair relaying 2 messages; resolves with the exit code. */
function allocate(
  port: number,
  username: string,
  password: string,
  secure: 'none' | 'tls' | 'dtls' = 'none',
): Promise<number> {
  const mode = { none: [], tls: ['-t', '-S'], dtls: ['-S'] }[secure];
  // -c: no RTCP pair; each run still lingers ~5 s after its last packet, so runs go in parallel.
  const args = [...mode, '-y', '-c', '-n', '2', '-m', '1', '-l', '100'];
  if (secure !== 'none' && caFile) args.push('-E', caFile);
  args.push('-u', username, '-w', password, '-p', String(port), '127.0.0.1');
  return new Promise((resolve) => {
    execFile(uclient as string, args, { timeout: 30_000 }, (err) => {
      resolve(err ? (typeof err.code === 'number' ? err.code : -1) : 0);
    });
  });
}

describe('TURN with coturn', () => {
  let svc: LocalKvs;
  let dataDir: string;
  let arn: string;

  beforeAll(async () => {
    expect(
      findExecutable('turnserver'),
      'coturn (turnserver) must be installed: npm run setup',
    ).toBeDefined();
    expect(uclient, 'turnutils_uclient (coturn) must be installed').toBeDefined();
    ({ svc, dataDir } = await startTestService({ turn: true }));
    caFile = svc.caCertPath;
    arn = (
      await controlClient(svc).send(new CreateSignalingChannelCommand({ ChannelName: 'turn-1' }))
    ).ChannelARN as string;
  });

  afterAll(async () => {
    // Unset when beforeAll failed before assigning it.
    await (svc as LocalKvs | undefined)?.stop({ graceful: false });
    if (dataDir) removeDir(dataDir);
  });

  it('GetIceServerConfig returns two coturn servers in the KVS forms with TTL 300', async () => {
    const r = await signalingClient(svc, svc.endpoint).send(
      new GetIceServerConfigCommand({ ChannelARN: arn, ClientId: 'c', Service: 'TURN' }),
    );
    // As the real service usually answers (kvs-wire.md §2): two servers, each with its own
    // credentials and the three URIs in the KVS order.
    expect(r.IceServerList).toHaveLength(2);
    for (const s of r.IceServerList ?? []) {
      expect(s.Ttl).toBe(300);
      expect(s.Uris).toEqual([
        expect.stringMatching(/^turn:127\.0\.0\.1:\d+\?transport=udp$/),
        expect.stringMatching(/^turns:127\.0\.0\.1:\d+\?transport=udp$/),
        expect.stringMatching(/^turns:127\.0\.0\.1:\d+\?transport=tcp$/),
      ]);
      const [expiry, tail] = (s.Username ?? '').split(':') as [string, string];
      const now = Math.floor(Date.now() / 1000);
      expect(Number(expiry)).toBeGreaterThan(now + 200);
      expect(Number(expiry)).toBeLessThanOrEqual(now + 301);
      expect(Buffer.from(tail, 'base64').toString()).toBe(`v1:${arn}`);
    }
    const [a, b] = r.IceServerList ?? [];
    expect(a?.Uris?.[0]).not.toBe(b?.Uris?.[0]);
    expect(a?.Password).not.toBe(b?.Password);
  });

  it.each([0, 1])(
    "an allocation with server %i's credentials succeeds (UDP, TLS and DTLS), a tampered password fails",
    async (index) => {
      const r = await signalingClient(svc, svc.endpoint).send(
        new GetIceServerConfigCommand({ ChannelARN: arn }),
      );
      const s = r.IceServerList?.[index];
      const udpPort = Number(/:(\d+)\?/.exec(s?.Uris?.[0] ?? '')?.[1]);
      const tlsPort = Number(/:(\d+)\?/.exec(s?.Uris?.[2] ?? '')?.[1]);
      const user = s?.Username as string;
      const pass = s?.Password as string;
      const tampered = `${pass.slice(0, -2)}${pass.endsWith('A=') ? 'B=' : 'A='}`;
      expect(tampered).not.toBe(pass);
      // A username edited to live longer no longer matches its password either.
      const stretched = user.replace(/^\d+/, String(Number(user.split(':')[0]) + 1000));
      const codes = await Promise.all([
        allocate(udpPort, user, pass),
        allocate(tlsPort, user, pass, 'tls'),
        allocate(tlsPort, user, pass, 'dtls'),
        allocate(udpPort, user, tampered),
        allocate(udpPort, stretched, pass),
      ]);
      expect(codes.slice(0, 3)).toEqual([0, 0, 0]);
      expect(codes[3]).not.toBe(0);
      expect(codes[4]).not.toBe(0);

      // TURNConnected counts the allocations coturn reports; its log arrives asynchronously.
      let text = '';
      for (let i = 0; i < 100; i++) {
        text = await fetchMetrics(svc);
        if (/kvs_turn_connected_total\{ChannelName="turn-1"\} [1-9]/.test(text)) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(text).toMatch(/kvs_turn_connected_total\{ChannelName="turn-1"\} [1-9]\d*\n/);
    },
  );
});

describe('without coturn', () => {
  it('says so at start and returns no TURN servers', async () => {
    const { svc, dataDir, logs } = await startTestService({
      turn: { binary: '/nonexistent/turnserver' },
    });
    try {
      expect(svc.turn).toBeUndefined();
      expect(svc.turnUnavailableReason).toMatch(/not installed/);
      expect(logs.some((l) => /WARNING: coturn .* not installed/.test(l))).toBe(true);
      const arn = (
        await controlClient(svc).send(new CreateSignalingChannelCommand({ ChannelName: 'no-turn' }))
      ).ChannelARN as string;
      const r = await signalingClient(svc, svc.endpoint).send(
        new GetIceServerConfigCommand({ ChannelARN: arn }),
      );
      expect(r.IceServerList).toEqual([]);
    } finally {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    }
  });
});
