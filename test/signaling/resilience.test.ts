/**
 * Recovery against the local service over real sockets: forced GO_AWAY, a killed socket, a
 * service restart, refused and expiring credentials, and a clock skewed by ±10 minutes. Each
 * must come back to CONNECTED with no queued message lost, and move numberOfReconnects,
 * iceRefreshCount and numberOfErrors as lib/signaling/README.md specifies.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  SignalingClient,
  type AwsCredentials,
  type IceCandidate,
  type ReconnectReason,
  type SignalingClientOptions,
} from '../../lib/signaling/index.js';
import {
  answer,
  candidate,
  clientOptions,
  countAudit,
  next,
  offer,
  removeDir,
  startService,
  until,
} from './helpers.js';

const ALLOW_ALL = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow' as const, Action: 'kinesisvideo:*', Resource: '*' }],
};
// Connect quotas high enough that reconnect bursts are never throttled: the counts below are exact.
const LIMITS = { connectTpsPerChannel: 100, goAwayGraceMs: 30_000 };

let svc: LocalKvs;
let dataDir: string;
let clients: SignalingClient[] = [];

function make(
  opts: Partial<SignalingClientOptions> & Pick<SignalingClientOptions, 'role'>,
  service: LocalKvs = svc,
): SignalingClient {
  const c = new SignalingClient(clientOptions(service, opts));
  clients.push(c);
  return c;
}

/** A connected master and viewer on `channel`, the viewer's offer already at the master. */
async function pair(
  channel: string,
  extra: Partial<SignalingClientOptions> = {},
  service: LocalKvs = svc,
): Promise<{ master: SignalingClient; viewer: SignalingClient }> {
  const master = make(
    { role: 'MASTER', channelName: channel, createIfMissing: true, ...extra },
    service,
  );
  await master.connect();
  const viewer = make({ role: 'VIEWER', channelName: channel, clientId: 'v1', ...extra }, service);
  await viewer.connect();
  const got = next(master, 'sdpOffer');
  await viewer.sendSdpOffer(offer);
  await got;
  return { master, viewer };
}

/** Collects the candidates a client receives. */
function collect(c: SignalingClient): IceCandidate[] {
  const out: IceCandidate[] = [];
  c.on('iceCandidate', (cand) => out.push(cand));
  return out;
}

function reasons(c: SignalingClient): ReconnectReason[] {
  const out: ReconnectReason[] = [];
  c.on('reconnect', (r) => out.push(r));
  return out;
}

beforeAll(async () => {
  ({ svc, dataDir } = await startService({ limits: LIMITS }));
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

afterAll(async () => {
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

describe('recovery', () => {
  it('GO_AWAY: both ends reconnect from DESCRIBE within the grace; messages queued meanwhile arrive', async () => {
    const { master, viewer } = await pair('go-away');
    const atViewer = collect(viewer);
    const masterReasons = reasons(master);
    const describes = countAudit(svc, 'DescribeSignalingChannel');
    const endpoints = countAudit(svc, 'GetSignalingChannelEndpoint');
    const sends: Promise<string>[] = [];
    master.once('goAway', () => {
      // Sent while the master is between connections: they must wait, not vanish.
      sends.push(master.sendSdpAnswer(answer, 'v1'));
      for (let i = 0; i < 5; i++) sends.push(master.sendIceCandidate(candidate(i), 'v1'));
    });
    const masterBack = next(master, 'reconnect');
    const gotAnswer = next(viewer, 'sdpAnswer');
    expect(svc.goAway(master.channelARN)).toBe(2);
    expect(await masterBack).toEqual(['go-away']);
    await Promise.all(sends);
    await gotAnswer;
    await until(() => atViewer.length === 5, 'the viewer has all 5 candidates');
    await until(
      () => master.state === 'CONNECTED' && viewer.state === 'CONNECTED',
      'both are connected again',
    );
    expect(atViewer).toEqual([0, 1, 2, 3, 4].map(candidate));
    expect(masterReasons).toEqual(['go-away']);
    // From DESCRIBE: both asked the control plane again instead of trusting the cache.
    expect(countAudit(svc, 'DescribeSignalingChannel')).toBe(describes + 2);
    expect(countAudit(svc, 'GetSignalingChannelEndpoint')).toBe(endpoints + 2);
    for (const c of [master, viewer]) {
      const m = c.getMetrics();
      expect(m.numberOfReconnects).toBe(1);
      expect(m.iceRefreshCount).toBe(1);
      expect(m.numberOfErrors).toBe(0);
    }
    expect(master.getMetrics().numberOfMessagesSent).toBe(6);
    // GO_AWAY and the 6 messages.
    expect(viewer.getMetrics().numberOfMessagesReceived).toBe(7);
  });

  it('a killed socket: the client reconnects, counted, and sends what was queued', async () => {
    const sockets: WebSocket[] = [];
    const createWebSocket = (url: string, o: ClientOptions): WebSocket => {
      const ws = new WebSocket(url, o);
      sockets.push(ws);
      return ws;
    };
    const { master, viewer } = await pair('killed', { createWebSocket });
    const gotAnswer = next(viewer, 'sdpAnswer');
    await master.sendSdpAnswer(answer, 'v1');
    await gotAnswer;
    const atViewer = collect(viewer);
    const masterSocket = sockets[0] as WebSocket;
    const back = next(master, 'reconnect');
    // Cut the TCP connection under the master, without a close frame.
    (masterSocket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    expect(await back).toEqual(['connection-lost']);
    const sends = [0, 1, 2].map((i) => master.sendIceCandidate(candidate(i), 'v1'));
    await Promise.all(sends);
    await until(() => atViewer.length === 3, 'the viewer has the 3 candidates');
    expect(atViewer).toEqual([0, 1, 2].map(candidate));
    expect(master.state).toBe('CONNECTED');
    expect(sockets.length).toBe(3);
    const m = master.getMetrics();
    expect(m.numberOfReconnects).toBe(1);
    expect(m.numberOfErrors).toBe(0);
    expect(m.iceRefreshCount).toBe(1);
    expect(viewer.getMetrics().numberOfReconnects).toBe(0);
  });

  it('a service restart: both reconnect once, retrying while it is down, and nothing queued is lost', async () => {
    const own = await startService({ limits: LIMITS });
    let restarted: LocalKvs | undefined;
    try {
      const { master, viewer } = await pair('restart', {}, own.svc);
      const gotAnswer = next(viewer, 'sdpAnswer');
      await master.sendSdpAnswer(answer, 'v1');
      await gotAnswer;
      const atViewer = collect(viewer);
      const back = next(master, 'reconnect');
      await own.svc.stop({ graceful: false });
      expect(await back).toEqual(['connection-lost']);
      const sends = [0, 1, 2, 3].map((i) => master.sendIceCandidate(candidate(i), 'v1'));
      // Wait until the master has met the dead service at least once.
      await until(() => master.getMetrics().numberOfErrors >= 1, 'a failed reconnect attempt');
      expect(master.state).not.toBe('CONNECTED');
      restarted = (await startService({ limits: LIMITS, port: own.svc.port, dataDir: own.dataDir }))
        .svc;
      await Promise.all(sends);
      await until(() => atViewer.length === 4, 'the viewer has the 4 candidates', 30_000);
      expect(atViewer).toEqual([0, 1, 2, 3].map(candidate));
      await until(
        () => master.state === 'CONNECTED' && viewer.state === 'CONNECTED',
        'both connected',
      );
      for (const c of [master, viewer]) {
        const m = c.getMetrics();
        expect(m.numberOfReconnects).toBe(1);
        // Every failure happened in the background, and each was retried.
        expect(m.numberOfRuntimeErrors).toBe(m.numberOfErrors);
        expect(m.apiCallRetryCount).toBe(m.numberOfErrors);
      }
      expect(master.getMetrics().numberOfErrors).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      clients = [];
      await restarted?.stop({ graceful: false });
      await own.svc.stop({ graceful: false });
      removeDir(own.dataDir);
    }
  });

  it('credentials: refused ones are fetched again; expiring ones are refreshed before use', async () => {
    const now = Date.now();
    const lifeMs = 4000;
    const principals = [
      // Already expired at the service, though the provider does not say so.
      {
        accessKeyId: 'ASIAEXPIREDAAAAAAAAA',
        secretAccessKey: 'expired',
        sessionToken: 'tok-expired',
        expiration: new Date(now - 1000),
        policies: [ALLOW_ALL],
      },
      {
        accessKeyId: 'ASIAGOODAAAAAAAAAAAA',
        secretAccessKey: 'good',
        sessionToken: 'tok-good',
        policies: [ALLOW_ALL],
      },
      // Valid for lifeMs; the provider says when it expires.
      {
        accessKeyId: 'ASIASHORTAAAAAAAAAAA',
        secretAccessKey: 'short',
        sessionToken: 'tok-short',
        expiration: new Date(now + lifeMs),
        policies: [ALLOW_ALL],
      },
      {
        accessKeyId: 'ASIANEXTAAAAAAAAAAAA',
        secretAccessKey: 'next',
        sessionToken: 'tok-next',
        policies: [ALLOW_ALL],
      },
    ];
    const own = await startService({ limits: LIMITS, principals });
    try {
      const creds = (i: number, expiration?: Date): AwsCredentials => {
        const p = principals[i] as (typeof principals)[number];
        return {
          accessKeyId: p.accessKeyId,
          secretAccessKey: p.secretAccessKey,
          sessionToken: p.sessionToken,
          ...(expiration ? { expiration } : {}),
        };
      };
      const sequence = (
        list: AwsCredentials[],
      ): { provider: () => Promise<AwsCredentials>; calls: () => number } => {
        let n = 0;
        return {
          provider: () => Promise.resolve(list[Math.min(n++, list.length - 1)] as AwsCredentials),
          calls: () => n,
        };
      };

      // 1. Refused credentials: 403 sends the client back to GET_CREDENTIALS for fresh ones.
      const refused = sequence([creds(0), creds(1)]);
      const a = make(
        {
          role: 'MASTER',
          channelName: 'creds',
          createIfMissing: true,
          credentials: refused.provider,
        },
        own.svc,
      );
      const states: string[] = [];
      a.on('stateChange', (s) => states.push(s));
      await a.connect();
      expect(refused.calls()).toBe(2);
      expect(states.slice(0, 3)).toEqual(['GET_CREDENTIALS', 'DESCRIBE', 'GET_CREDENTIALS']);
      expect(a.getMetrics()).toMatchObject({ numberOfErrors: 1, apiCallRetryCount: 1 });
      await a.close();

      // 2. Expiring credentials are replaced before they run out: no call is ever refused.
      const expiring = sequence([creds(2, new Date(now + lifeMs)), creds(3)]);
      const b = make(
        {
          role: 'VIEWER',
          clientId: 'v-creds',
          channelName: 'creds',
          credentials: expiring.provider,
          credentialRefreshMarginMs: 1000,
        },
        own.svc,
      );
      await b.connect();
      expect(expiring.calls()).toBe(1);
      const queued = b.sendIceCandidate(candidate(7));
      await until(() => Date.now() > now + lifeMs + 200, 'the first credentials expired', 15_000);
      const back = next(b, 'reconnect');
      own.svc.goAway(b.channelARN);
      await back;
      await queued;
      await until(() => b.state === 'CONNECTED', 'reconnected with the next credentials');
      expect(expiring.calls()).toBe(2);
      expect(b.getMetrics()).toMatchObject({ numberOfErrors: 0, numberOfReconnects: 1 });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      clients = [];
      await own.svc.stop({ graceful: false });
      removeDir(own.dataDir);
    }
  });

  it('a handshake that times out sends the client back to GET_ENDPOINT', async () => {
    // A TLS-less TCP listener on loopback that accepts and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const held: Socket[] = [];
    silent.on('connection', (sock) => held.push(sock));
    try {
      let first = true;
      const master = make({
        role: 'MASTER',
        channelName: 'timeout',
        createIfMissing: true,
        timeouts: { connectMs: 500 },
        createWebSocket: (url, o) => {
          const target = first ? url.replace(/^wss:\/\/[^/]+/, `wss://127.0.0.1:${port}`) : url;
          first = false;
          return new WebSocket(target, o);
        },
      });
      const states: string[] = [];
      master.on('stateChange', (st) => states.push(st));
      const endpointsBefore = countAudit(svc, 'GetSignalingChannelEndpoint');
      await master.connect();
      expect(states.slice(-6)).toEqual([
        'CONNECTING', // the handshake times out
        'GET_ENDPOINT', // asked again, not from the cache
        'GET_ICE_CONFIG',
        'READY',
        'CONNECTING',
        'CONNECTED',
      ]);
      expect(countAudit(svc, 'GetSignalingChannelEndpoint')).toBe(endpointsBefore + 2);
      expect(master.getMetrics()).toMatchObject({ numberOfErrors: 1, apiCallRetryCount: 1 });
    } finally {
      for (const sock of held) sock.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a deleted channel: DELETE → DELETED for the deleter; 404 on connect sends the others to DESCRIBE, then CREATE', async () => {
    const master = make({ role: 'MASTER', channelName: 'recreated', createIfMissing: true });
    await master.connect();
    const oldArn = master.channelARN;
    const states: string[] = [];
    master.on('stateChange', (st) => states.push(st));
    const admin = make({ role: 'VIEWER', channelName: 'recreated', clientId: 'admin' });
    const adminStates: string[] = [];
    admin.on('stateChange', (st) => adminStates.push(st));
    const back = next(master, 'reconnect');
    await admin.deleteChannel();
    expect(admin.state).toBe('DELETED');
    expect(adminStates.slice(-2)).toEqual(['DELETE', 'DELETED']);
    expect(await back).toEqual(['connection-lost']);
    await until(() => master.state === 'CONNECTED', 'the master is back on a new channel');
    expect(master.channelARN).not.toBe(oldArn);
    expect(states).toEqual([
      'GET_CREDENTIALS',
      'DESCRIBE', // from the cache
      'GET_ENDPOINT', // from the cache
      'GET_ICE_CONFIG',
      'READY',
      'CONNECTING', // 404: the channel is gone
      'DESCRIBE', // 404 again
      'CREATE',
      'DESCRIBE',
      'GET_ENDPOINT',
      'GET_ICE_CONFIG',
      'READY',
      'CONNECTING',
      'CONNECTED',
    ]);
    const m = master.getMetrics();
    expect(m.numberOfReconnects).toBe(1);
    expect(m.numberOfErrors).toBe(1);
    expect(m.iceRefreshCount).toBe(2);
  });

  for (const skewMs of [10 * 60_000, -10 * 60_000]) {
    it(`a clock ${skewMs > 0 ? 'ahead' : 'behind'} by 10 minutes is corrected from the service`, async () => {
      const channel = `skew${skewMs > 0 ? 'ahead' : 'behind'}`;
      const sockets: WebSocket[] = [];
      const master = make({
        role: 'MASTER',
        channelName: channel,
        createIfMissing: true,
        createWebSocket: (url, o) => {
          const ws = new WebSocket(url, o);
          sockets.push(ws);
          return ws;
        },
      });
      await master.connect();

      // A fresh viewer with the skewed clock; its offer is queued before it is connected.
      const viewer = make({
        role: 'VIEWER',
        channelName: channel,
        clientId: 'skewed',
        systemClockOffset: skewMs,
      });
      const gotOffer = next(master, 'sdpOffer');
      const queued = viewer.sendSdpOffer(offer);
      await viewer.connect();
      await queued;
      await gotOffer;
      expect(Math.abs(viewer.systemClockOffset)).toBeLessThan(60_000);
      // One refused call (the signature's date), corrected at once and retried.
      expect(viewer.getMetrics()).toMatchObject({ numberOfErrors: 1, apiCallRetryCount: 1 });

      // The clock jumps while connected and the socket is lost. The reconnect takes the cached
      // endpoint, so the first thing refused is the presigned handshake (403). Its Date header
      // corrects the clock at once; the client goes back to GET_CREDENTIALS and DESCRIBE and
      // connects again.
      const gotAnswer = next(viewer, 'sdpAnswer');
      await master.sendSdpAnswer(answer, 'skewed');
      await gotAnswer;
      master.systemClockOffset = skewMs;
      const atViewer = collect(viewer);
      const states: string[] = [];
      master.on('stateChange', (st) => states.push(st));
      const back = next(master, 'reconnect');
      (sockets[0] as unknown as { _socket: { destroy(): void } })._socket.destroy();
      await back;
      const sends = [0, 1].map((i) => master.sendIceCandidate(candidate(i), 'skewed'));
      await Promise.all(sends);
      await until(() => atViewer.length === 2, 'the viewer has both candidates');
      expect(atViewer).toEqual([0, 1].map(candidate));
      expect(master.state).toBe('CONNECTED');
      expect(Math.abs(master.systemClockOffset)).toBeLessThan(60_000);
      expect(states).toEqual([
        'GET_CREDENTIALS',
        'DESCRIBE', // from the cache
        'GET_ENDPOINT', // from the cache
        'GET_ICE_CONFIG', // still fresh
        'READY',
        'CONNECTING', // 403 with the service's Date: the presigned URL's date was off
        'GET_CREDENTIALS',
        'DESCRIBE',
        'GET_ENDPOINT',
        'GET_ICE_CONFIG',
        'READY',
        'CONNECTING',
        'CONNECTED',
      ]);
      const m = master.getMetrics();
      expect(m.numberOfReconnects).toBe(1);
      // Only the refused handshake: it corrected the clock itself.
      expect(m.numberOfErrors).toBe(1);
      expect(m.numberOfRuntimeErrors).toBe(1);
      expect(m.iceRefreshCount).toBe(1);
    });
  }
});
