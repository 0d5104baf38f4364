/**
 * Refused credentials against the local service, through the AWS SDK v3 clients (control and
 * data plane) and the presigned WebSocket handshake. A 401/403 that is not the clock sends the
 * client back to GET_CREDENTIALS once; the same credentials refused again end the run at once
 * with ERR_SIGNALING_AUTH, instead of retrying up to retry.maxAttempts (10 by default, about a
 * minute of backoff). Attempts are counted on the service (its audit log of refused calls, the
 * handshakes made), never timed. Clock skew is still corrected and retried
 * (test/signaling/resilience.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import { KvsError, Master, Viewer } from '../../lib/index.js';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  SignalingClient,
  type AwsCredentials,
  type SignalingClientOptions,
} from '../../lib/signaling/index.js';
import { auditEvents, clientOptions, next, removeDir, startService } from './helpers.js';

const ALLOW_ALL = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow' as const, Action: 'kinesisvideo:*', Resource: '*' }],
};
const NO_CONNECT = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow' as const, Action: 'kinesisvideo:*', Resource: '*' },
    { Effect: 'Deny' as const, Action: 'kinesisvideo:ConnectAsMaster', Resource: '*' },
  ],
};
const DENIED = { accessKeyId: 'AKIADENIEDAAAAAAAAAA', secretAccessKey: 'denied' };
const SOCKETLESS = { accessKeyId: 'AKIANOCONNECTAAAAAAA', secretAccessKey: 'nc' };
const LIMITS = { connectTpsPerChannel: 100, controlPlaneChannelTps: 100 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let svc: LocalKvs;
let dataDir: string;
const clients: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  ({ svc, dataDir } = await startService({
    limits: LIMITS,
    principals: [
      { ...DENIED, policies: [] },
      { ...SOCKETLESS, policies: [NO_CONNECT] },
    ],
  }));
  // The channel exists: the calls below are refused for their credentials, not a 404.
  const setup = new SignalingClient(
    clientOptions(svc, { role: 'MASTER', channelName: 'auth', createIfMissing: true }),
  );
  await setup.fetch();
  await setup.close();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

/** Control-plane and data-plane calls the service refused so far (its audit log). */
function refusedCalls(): number {
  return auditEvents(svc).filter((e) => e.errorCode !== undefined).length;
}

function client(extra: Partial<SignalingClientOptions>): SignalingClient {
  const c = new SignalingClient(
    clientOptions(svc, { role: 'MASTER', channelName: 'auth', cache: false, ...extra }),
  );
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<KvsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KvsError);
    return e as KvsError;
  }
  throw new Error('resolved, did not reject');
}

/** A provider handing out `make(n)` on its n-th call (from 0), counting the calls. */
function provider(make: (n: number) => AwsCredentials): {
  credentials: () => Promise<AwsCredentials>;
  calls: () => number;
} {
  let n = 0;
  return { credentials: () => Promise.resolve(make(n++)), calls: () => n };
}

describe('refused credentials', () => {
  it('static credentials with a wrong secret: refused twice, then ERR_SIGNALING_AUTH', async () => {
    const before = refusedCalls();
    const c = client({
      credentials: { accessKeyId: svc.credentials.accessKeyId, secretAccessKey: 'wrong' },
    });
    const states: string[] = [];
    c.on('stateChange', (s) => states.push(s));
    const e = await rejection(c.connect());
    expect(e.code).toBe('ERR_SIGNALING_AUTH');
    expect(e.message).toMatch(
      new RegExp(
        `DESCRIBE: the credentials of access key ${svc.credentials.accessKeyId} were refused again`,
      ),
    );
    expect(e.message).toMatch(/HTTP 403/);
    // Two attempts, not retry.maxAttempts (12 here).
    expect(refusedCalls() - before).toBe(2);
    expect(states).toEqual(['GET_CREDENTIALS', 'DESCRIBE', 'GET_CREDENTIALS', 'DESCRIBE']);
    expect(c.getMetrics()).toMatchObject({ numberOfErrors: 2, apiCallRetryCount: 1 });
  });

  it('a provider that hands back the same refused credentials: asked twice, refused twice', async () => {
    const before = refusedCalls();
    const p = provider(() => ({ accessKeyId: 'AKIAUNKNOWNAAAAAAAAA', secretAccessKey: 'x' }));
    const e = await rejection(client({ credentials: p.credentials }).connect());
    expect(e.code).toBe('ERR_SIGNALING_AUTH');
    expect(e.message).toMatch(/access key AKIAUNKNOWNAAAAAAAAA were refused again/);
    expect(p.calls()).toBe(2);
    expect(refusedCalls() - before).toBe(2);
  });

  it('a provider with new credentials each time: each set is tried, up to retry.maxAttempts', async () => {
    const before = refusedCalls();
    const p = provider((n) => ({ accessKeyId: `AKIANEW${n}AAAAAAAAAAAA`, secretAccessKey: 'x' }));
    const e = await rejection(
      client({
        credentials: p.credentials,
        retry: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 4 },
      }).connect(),
    );
    expect(e.code).toBe('ERR_SIGNALING_RETRIES_EXHAUSTED');
    expect(refusedCalls() - before).toBe(4);
    expect(p.calls()).toBe(4);
  });

  it('refused by policy (401 AccessDeniedException), the signature good: ERR_SIGNALING_AUTH after two', async () => {
    const before = refusedCalls();
    const e = await rejection(client({ credentials: DENIED }).connect());
    expect(e.code).toBe('ERR_SIGNALING_AUTH');
    expect(e.message).toMatch(/HTTP 401 AccessDeniedException/);
    expect(refusedCalls() - before).toBe(2);
  });

  it('the WebSocket handshake refused (403): two handshakes, then ERR_SIGNALING_AUTH', async () => {
    const sockets: WebSocket[] = [];
    const c = client({
      credentials: SOCKETLESS,
      createWebSocket: (url: string, o: ClientOptions) => {
        const ws = new WebSocket(url, o);
        sockets.push(ws);
        return ws;
      },
    });
    const e = await rejection(c.connect());
    expect(e.code).toBe('ERR_SIGNALING_AUTH');
    expect(e.message).toMatch(/CONNECTING: .*refused again.*HTTP 403/);
    expect(sockets).toHaveLength(2);
  });

  it('Master.start and Viewer.connect reject with it, with the default retries (10 attempts)', async () => {
    const wrong = { accessKeyId: svc.credentials.accessKeyId, secretAccessKey: 'wrong' };
    const common = {
      channelName: 'auth',
      region: svc.region,
      endpoint: svc.endpoint,
      caCertPath: svc.caCertPath,
      credentials: wrong,
      logger: quiet,
    };
    for (const make of [
      () => new Master({ ...common, createIfMissing: false }),
      () => new Viewer({ ...common, clientId: 'v-auth' }),
    ]) {
      const before = refusedCalls();
      const session = make();
      clients.push(session);
      const e = await rejection(session instanceof Master ? session.start() : session.connect());
      expect(e.code).toBe('ERR_SIGNALING_AUTH');
      expect(refusedCalls() - before).toBe(2);
    }
  });

  it('credentials revoked mid-session: the reconnect ends with an ERR_SIGNALING_AUTH error event', async () => {
    // Its own service, restarted on the same port and data directory without the principal.
    const revocable = { accessKeyId: 'AKIAREVOKEDAAAAAAAAA', secretAccessKey: 'r' };
    const own = await startService({
      limits: LIMITS,
      principals: [{ ...revocable, policies: [ALLOW_ALL] }],
    });
    let again: LocalKvs | undefined;
    try {
      const p = provider(() => revocable);
      const c = new SignalingClient(
        clientOptions(own.svc, {
          role: 'MASTER',
          channelName: 'revoked',
          createIfMissing: true,
          cache: false,
          credentials: p.credentials,
          // Enough to outlast the restart on a loaded machine.
          retry: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 30 },
        }),
      );
      clients.push(c);
      await c.connect();
      const failed = next<[KvsError]>(c, 'error', 60_000);
      const gaveUp = new Promise<void>((resolve) =>
        c.on('stateChange', (s) => {
          if (s === 'DISCONNECTED') resolve();
        }),
      );
      const refusedBefore = auditEvents(own.svc).filter((x) => x.errorCode !== undefined).length;
      await own.svc.stop({ graceful: false });
      ({ svc: again } = await startService({
        limits: LIMITS,
        port: own.svc.port,
        dataDir: own.dataDir,
      }));
      const [e] = await failed;
      await gaveUp;
      expect(e.code).toBe('ERR_SIGNALING_AUTH');
      expect(e.message).toMatch(/access key AKIAREVOKEDAAAAAAAAA were refused again/);
      // Asked once at the start and once after the first refusal.
      expect(p.calls()).toBe(2);
      const refusedNow = auditEvents(again).filter((x) => x.errorCode !== undefined);
      expect(refusedNow.length - refusedBefore).toBe(2);
    } finally {
      await again?.stop({ graceful: false });
      removeDir(own.dataDir);
    }
  });
});
