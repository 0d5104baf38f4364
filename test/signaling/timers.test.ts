/**
 * The service's timers, shortened: keepalive against the idle timeout, renewal before the
 * connection lifetime, and ICE configuration refreshed at TTL − 30 s (proactively and lazily)
 * and on RECONNECT_ICE_SERVER, with TURN credentials from the local coturn.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  SignalingClient,
  type IceCandidate,
  type IceServer,
  type ReconnectReason,
  type SignalingClientOptions,
} from '../../lib/signaling/index.js';
import {
  answer,
  candidate,
  clientOptions,
  next,
  offer,
  removeDir,
  serviceMetric,
  startService,
  until,
} from './helpers.js';

let clients: SignalingClient[] = [];
const services: { svc: LocalKvs; dataDir: string }[] = [];

async function service(limits: Parameters<typeof startService>[0]): Promise<LocalKvs> {
  const s = await startService(limits);
  services.push(s);
  return s.svc;
}

function make(
  svc: LocalKvs,
  opts: Partial<SignalingClientOptions> & Pick<SignalingClientOptions, 'role'>,
): SignalingClient {
  const c = new SignalingClient(clientOptions(svc, opts));
  clients.push(c);
  return c;
}

function reasons(c: SignalingClient): ReconnectReason[] {
  const out: ReconnectReason[] = [];
  c.on('reconnect', (r) => out.push(r));
  return out;
}

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  for (const s of services.splice(0)) {
    await s.svc.stop({ graceful: false });
    removeDir(s.dataDir);
  }
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('timers', () => {
  it('keepalive: a quiet master survives the idle timeout; without pings it is dropped', async () => {
    const idleTimeoutMs = 2000;
    const svc = await service({ limits: { idleTimeoutMs, connectTpsPerChannel: 100 } });
    const quiet = make(svc, {
      role: 'MASTER',
      channelName: 'quiet',
      createIfMissing: true,
      pingIntervalMs: 400,
    });
    const unpinged = make(svc, {
      role: 'MASTER',
      channelName: 'unpinged',
      createIfMissing: true,
      pingIntervalMs: 0,
    });
    const quietReasons = reasons(quiet);
    await quiet.connect();
    await unpinged.connect();
    // Three idle timeouts of silence.
    await sleep(3 * idleTimeoutMs);
    expect(quiet.state).toBe('CONNECTED');
    expect(quietReasons).toEqual([]);
    expect(quiet.getMetrics().numberOfReconnects).toBe(0);
    // One successful ConnectAsMaster for the quiet channel, ever.
    const connects = await serviceMetric(
      svc,
      /^kvs_signaling_failure_count\{Operation="ConnectAsMaster",SignalingChannelName="quiet"\}/,
    );
    expect(connects).toBe(1);
    // The control: the same silence without pings costs the other master its connection.
    expect(unpinged.getMetrics().numberOfReconnects).toBeGreaterThanOrEqual(1);
  });

  it('a long connection is renewed before the lifetime limit, losing no message', async () => {
    const lifetimeMs = 4000;
    const svc = await service({
      limits: { connectionLifetimeMs: lifetimeMs, connectTpsPerChannel: 100 },
    });
    // The client is told a shorter limit than the service enforces, so that on a loaded machine
    // its renewal (at 80 % of it) still lands well before the service would cut the connection.
    const clientLifetimeMs = 3000;
    const master = make(svc, {
      role: 'MASTER',
      channelName: 'long',
      createIfMissing: true,
      connectionLifetimeMs: clientLifetimeMs,
    });
    const masterReasons = reasons(master);
    await master.connect();
    const viewer = make(svc, {
      role: 'VIEWER',
      channelName: 'long',
      clientId: 'v-long',
      connectionLifetimeMs: clientLifetimeMs,
    });
    const viewerReasons = reasons(viewer);
    await viewer.connect();
    const got = next(master, 'sdpOffer');
    await viewer.sendSdpOffer(offer);
    await got;
    const gotAnswer = next(viewer, 'sdpAnswer');
    await master.sendSdpAnswer(answer, 'v-long');
    await gotAnswer;

    const atMaster: IceCandidate[] = [];
    master.on('iceCandidate', (c) => atMaster.push(c));
    // A candidate every 150 ms across two renewals of each end.
    let sent = 0;
    const sends: Promise<string>[] = [];
    while (
      master.getMetrics().numberOfReconnects < 2 ||
      viewer.getMetrics().numberOfReconnects < 2
    ) {
      if (sent > 200) throw new Error('no renewal within 30 s');
      sends.push(viewer.sendIceCandidate(candidate(sent++)));
      await sleep(150);
    }
    await Promise.all(sends);
    await until(() => atMaster.length === sent, `the master has all ${sent} candidates`);
    expect(atMaster.map((c) => c.candidate)).toEqual(
      Array.from({ length: sent }, (_, i) => candidate(i).candidate),
    );
    // Renewed by the client every time; the service never had to cut a connection.
    expect(masterReasons.every((r) => r === 'lifetime')).toBe(true);
    expect(viewerReasons.every((r) => r === 'lifetime')).toBe(true);
    expect(master.getMetrics().numberOfErrors).toBe(0);
    expect(viewer.getMetrics().numberOfErrors).toBe(0);
  });

  it('ICE servers: TURN from coturn, refreshed at TTL − 30 s, lazily and on RECONNECT_ICE_SERVER', async () => {
    // TTL 33 s: the configuration is due for refresh 3 s after each fetch.
    const svc = await service({ turn: true, limits: { turnCredentialTtlSeconds: 33 } });
    const master = make(svc, { role: 'MASTER', channelName: 'ice', createIfMissing: true });
    const updates: IceServer[][] = [];
    master.on('iceServers', (s) => updates.push(s));
    await master.connect();
    const first = await master.getIceServers();
    expect(first.length).toBeGreaterThan(0);
    expect(first[0]?.urls[0]).toMatch(/^turns?:127\.0\.0\.1:\d+/);
    expect(first[0]?.username).toMatch(/^\d+:/);
    expect(master.getMetrics().iceRefreshCount).toBe(1);
    // Fresh: asking again makes no call.
    await master.getIceServers();
    expect(master.getMetrics().iceRefreshCount).toBe(1);

    // Proactive: refreshed without being asked, with new credentials.
    await until(() => master.getMetrics().iceRefreshCount >= 2, 'a proactive refresh', 15_000);
    const second = await master.getIceServers();
    expect(second[0]?.username).not.toBe(first[0]?.username);

    // Lazy: a client that does not refresh by itself fetches when asked after expiry.
    const viewer = make(svc, {
      role: 'VIEWER',
      channelName: 'ice',
      clientId: 'v-ice',
      proactiveIceRefresh: false,
    });
    await viewer.connect();
    expect(viewer.getMetrics().iceRefreshCount).toBe(1);
    await sleep(3500);
    expect(viewer.getMetrics().iceRefreshCount).toBe(1);
    await viewer.getIceServers();
    expect(viewer.getMetrics().iceRefreshCount).toBe(2);

    // RECONNECT_ICE_SERVER: a fresh configuration at once; the signaling connection stays.
    const before = viewer.getMetrics();
    const fresh = next<[IceServer[]]>(viewer, 'iceServers');
    const told = next(viewer, 'reconnectIceServer');
    expect(svc.reconnectIceServer(viewer.channelARN)).toBe(2);
    await told;
    await fresh;
    const after = viewer.getMetrics();
    expect(after.iceRefreshCount).toBe(before.iceRefreshCount + 1);
    expect(after.numberOfReconnects).toBe(0);
    expect(after.numberOfErrors).toBe(0);
    expect(viewer.state).toBe('CONNECTED');
    expect(updates.length).toBeGreaterThanOrEqual(2);
  });
});
