/**
 * A master and a viewer on the local service over real TLS sockets: offer, answer and
 * candidates both ways, metrics counting exactly what went each way, ICE servers, validation,
 * held candidates, the file endpoint cache and the state machine's path.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  SignalingClient,
  signalingClientGetMetrics,
  type IceCandidate,
  type SessionDescription,
  type SignalingClientState,
} from '../../lib/signaling/index.js';
import {
  answer,
  auditEvents,
  candidate,
  clientOptions,
  countAudit,
  next,
  offer,
  removeDir,
  startService,
  tempDir,
  until,
} from './helpers.js';

let svc: LocalKvs;
let dataDir: string;
const clients: SignalingClient[] = [];

function make(opts: Parameters<typeof clientOptions>[1]): SignalingClient {
  const c = new SignalingClient(clientOptions(svc, opts));
  clients.push(c);
  return c;
}

beforeAll(async () => {
  ({ svc, dataDir } = await startService());
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

describe('SignalingClient against the local service', () => {
  it('creates the channel, connects master and viewer, and exchanges offer, answer and candidates', async () => {
    const logLines: string[] = [];
    const logger = {
      debug: (m: string) => logLines.push(`debug ${m}`),
      info: (m: string) => logLines.push(`info ${m}`),
      warn: (m: string) => logLines.push(`warn ${m}`),
      error: (m: string) => logLines.push(`error ${m}`),
    };
    const master = make({
      role: 'MASTER',
      channelName: 'exchange',
      createIfMissing: true,
      messageTtlSeconds: 30,
      logger,
    });
    const states: SignalingClientState[] = [];
    master.on('stateChange', (s) => states.push(s));
    await master.connect();
    expect(master.state).toBe('CONNECTED');
    expect(states).toEqual([
      'GET_CREDENTIALS',
      'DESCRIBE',
      'CREATE',
      'DESCRIBE',
      'GET_ENDPOINT',
      'GET_ICE_CONFIG',
      'READY',
      'CONNECTING',
      'CONNECTED',
    ]);
    // The channel was created with the requested message TTL; the injected logger saw the steps.
    const created = auditEvents(svc).find((e) => e.eventName === 'CreateSignalingChannel');
    expect(created?.requestParameters).toMatchObject({
      channelName: 'exchange',
      singleMasterConfiguration: { messageTtlSeconds: 30 },
    });
    expect(logLines).toContain('debug state CONNECTING -> CONNECTED');
    const viewer = make({ role: 'VIEWER', channelName: 'exchange', clientId: 'viewer-1' });
    await viewer.connect();
    expect(viewer.getCurrentState()).toBe('CONNECTED');

    const atMaster: [SessionDescription, string][] = [];
    const candsAtMaster: [IceCandidate, string][] = [];
    const atViewer: SessionDescription[] = [];
    const candsAtViewer: IceCandidate[] = [];
    master.on('sdpOffer', (d, from) => atMaster.push([d, from]));
    master.on('iceCandidate', (c, from) => candsAtMaster.push([c, from]));
    viewer.on('sdpAnswer', (d) => atViewer.push(d));
    viewer.on('iceCandidate', (c) => candsAtViewer.push(c));

    const gotOffer = next(master, 'sdpOffer');
    const corr = await viewer.sendSdpOffer(offer);
    expect(corr).toMatch(/^[a-zA-Z0-9_.-]{1,256}$/);
    await gotOffer;
    for (let i = 0; i < 3; i++) await viewer.sendIceCandidate(candidate(i));
    const gotAnswer = next(viewer, 'sdpAnswer');
    await master.sendSdpAnswer(answer, 'viewer-1', { correlationId: 'answer-1' });
    await gotAnswer;
    for (let i = 10; i < 12; i++) await master.sendIceCandidate(candidate(i), 'viewer-1');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('candidates did not all arrive')), 15_000);
      const check = (): void => {
        if (candsAtMaster.length === 3 && candsAtViewer.length === 2) {
          clearTimeout(t);
          resolve();
        }
      };
      master.on('iceCandidate', check);
      viewer.on('iceCandidate', check);
      check();
    });

    expect(atMaster).toEqual([[offer, 'viewer-1']]);
    expect(atViewer).toEqual([answer]);
    expect(candsAtMaster.map(([c, from]) => [c.candidate, from])).toEqual(
      [0, 1, 2].map((i) => [candidate(i).candidate, 'viewer-1']),
    );
    expect(candsAtViewer).toEqual([candidate(10), candidate(11)]);

    const vm = viewer.getMetrics();
    const mm = signalingClientGetMetrics(master);
    expect(vm.numberOfMessagesSent).toBe(4);
    expect(vm.numberOfMessagesReceived).toBe(3);
    expect(mm.numberOfMessagesSent).toBe(3);
    expect(mm.numberOfMessagesReceived).toBe(4);
    for (const m of [vm, mm]) {
      expect(m.numberOfErrors).toBe(0);
      expect(m.numberOfReconnects).toBe(0);
      expect(m.iceRefreshCount).toBe(1);
      expect(m.connectionDuration).toBeGreaterThan(0);
      expect(m.signalingClientUptime).toBeGreaterThanOrEqual(m.connectionDuration);
      expect(m.dpApiCallLatency).toBeGreaterThan(0);
      expect(m.connectCallTime).toBeGreaterThan(0);
      expect(m.offerToAnswerTime).toBeGreaterThan(0);
    }
    await viewer.close();
    await master.close();
    expect(master.state).toBe('DISCONNECTED');
    expect(mm.createCallTime).toBeGreaterThan(0);
    expect(mm.cpApiCallLatency).toBeGreaterThan(0);
    // The viewer found the channel with DESCRIBE: it never created one.
    expect(vm.createCallTime).toBe(0);
    expect(vm.describeCallTime).toBeGreaterThan(0);
  });

  it('refuses bad outgoing messages with errors naming the field and the limit', async () => {
    const master = make({ role: 'MASTER', channelName: 'exchange' });
    const viewer = make({ role: 'VIEWER', channelName: 'exchange', clientId: 'viewer-2' });
    await expect(master.sendSdpOffer(offer)).rejects.toThrow(/recipientClientId/);
    await expect(viewer.sendSdpOffer(offer, 'someone')).rejects.toThrow(
      /VIEWER.*recipientClientId/,
    );
    await expect(master.sendSdpOffer(offer, 'AWS_x')).rejects.toThrow(/must not start with "AWS_"/);
    await expect(master.sendSdpOffer(offer, 'bad id!')).rejects.toThrow(/recipientClientId/);
    await expect(
      viewer.sendSdpOffer(offer, undefined, { correlationId: 'no spaces' }),
    ).rejects.toThrow(/correlationId/);
    const big = { type: 'offer' as const, sdp: 'a'.repeat(8000) };
    await expect(viewer.sendSdpOffer(big)).rejects.toMatchObject({
      code: 'ERR_SIGNALING_PAYLOAD_TOO_LARGE',
      message: expect.stringMatching(/10000/) as unknown,
    });
    expect(
      () => new SignalingClient(clientOptions(svc, { role: 'VIEWER', channelName: 'x' })),
    ).toThrow(/clientId/);
    // No credentials anywhere: fatal at once, not retried.
    const noCreds = make({
      role: 'MASTER',
      channelName: 'exchange',
      credentials: () =>
        Promise.reject(
          Object.assign(new Error('Could not load credentials'), {
            name: 'CredentialsProviderError',
          }),
        ),
    });
    await expect(noCreds.connect()).rejects.toMatchObject({
      code: 'ERR_SIGNALING_INVALID',
      message: expect.stringMatching(/Could not load credentials/) as unknown,
    });
    expect(noCreds.getMetrics()).toMatchObject({ numberOfErrors: 1, apiCallRetryCount: 0 });
    expect(viewer.getMetrics().numberOfErrors).toBe(3);
    expect(master.getMetrics().numberOfErrors).toBe(3);
    expect(viewer.getMetrics().numberOfMessagesSent).toBe(0);
  });

  it("holds candidates that arrive before their sender's offer and releases them after it", async () => {
    const master = make({ role: 'MASTER', channelName: 'holding', createIfMissing: true });
    const viewer = make({ role: 'VIEWER', channelName: 'holding', clientId: 'viewer-3' });
    await master.connect();
    await viewer.connect();
    const events: string[] = [];
    master.on('sdpOffer', (_d, from) => events.push(`offer:${from}`));
    master.on('iceCandidate', (c, from) => events.push(`${c.candidate.split(' ')[0]}:${from}`));
    // Candidates first: the master must not see them before the offer.
    await viewer.sendIceCandidate(candidate(1));
    await viewer.sendIceCandidate(candidate(2));
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toEqual([]);
    const got = next(master, 'sdpOffer');
    await viewer.sendSdpOffer(offer);
    await got;
    expect(events).toEqual(['offer:viewer-3', 'candidate:1:viewer-3', 'candidate:2:viewer-3']);
  });

  it('paces sends to the per-connection rates: 30 candidates at once all arrive; unpaced, the service refuses some', async () => {
    const master = make({ role: 'MASTER', channelName: 'pacing', createIfMissing: true });
    await master.connect();
    const paced = make({ role: 'VIEWER', channelName: 'pacing', clientId: 'paced' });
    const unpaced = make({
      role: 'VIEWER',
      channelName: 'pacing',
      clientId: 'unpaced',
      rates: { icePerSecond: 1000 },
    });
    await paced.connect();
    await unpaced.connect();
    const from = new Map<string, number>();
    master.on('iceCandidate', (_c, sender) => from.set(sender, (from.get(sender) ?? 0) + 1));
    const refused: string[] = [];
    paced.on('statusResponse', (st) => refused.push(`paced:${st.errorType}`));
    unpaced.on('statusResponse', (st) => refused.push(`unpaced:${st.errorType}`));
    for (const v of [paced, unpaced]) {
      const got = next(master, 'sdpOffer');
      await v.sendSdpOffer(offer);
      await got;
    }
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => paced.sendIceCandidate(candidate(i))),
      ...Array.from({ length: 30 }, (_, i) => unpaced.sendIceCandidate(candidate(i))),
    ]);
    await until(() => (from.get('paced') ?? 0) === 30, 'all 30 paced candidates arrived');
    await until(() => refused.length > 0, 'the service refused some unpaced candidates');
    expect(refused.every((r) => r === 'unpaced:ClientLimitExceededException')).toBe(true);
    expect(from.get('unpaced') ?? 0).toBeLessThan(30);
    expect(paced.getMetrics()).toMatchObject({ numberOfMessagesSent: 31, numberOfErrors: 0 });
    // Each refusal came back as a STATUS_RESPONSE, counted as an error.
    expect(unpaced.getMetrics().numberOfErrors).toBe(refused.length);
  });

  it('connects through ConnectAsViewer throttling with backoff, and honours AbortSignal and disconnect()', async () => {
    const master = make({ role: 'MASTER', channelName: 'crowd', createIfMissing: true });
    await master.connect();
    const viewers = Array.from({ length: 8 }, (_, i) =>
      make({ role: 'VIEWER', channelName: 'crowd', clientId: `crowd-${i}` }),
    );
    // All READY first, so that the eight handshakes start together.
    await Promise.all(viewers.map((v) => v.fetch()));
    expect(viewers.every((v) => v.state === 'READY')).toBe(true);
    await Promise.all(viewers.map((v) => v.connect()));
    expect(viewers.every((v) => v.state === 'CONNECTED')).toBe(true);
    const errors = viewers.reduce((n, v) => n + v.getMetrics().numberOfErrors, 0);
    const retries = viewers.reduce((n, v) => n + v.getMetrics().apiCallRetryCount, 0);
    // ConnectAsViewer is limited to 3 per second per channel: the rest were retried.
    expect(errors).toBeGreaterThan(0);
    expect(retries).toBe(errors);

    const v = viewers[0] as SignalingClient;
    await v.disconnect();
    expect(v.state).toBe('READY');
    const queued = v.sendIceCandidate(candidate(99));
    expect(v.queuedMessages).toBe(1);
    const ac = new AbortController();
    ac.abort();
    await expect(v.connect(ac.signal)).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const withdrawn = new AbortController();
    const second = v.sendIceCandidate(candidate(98), undefined, { signal: withdrawn.signal });
    withdrawn.abort();
    await expect(second).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await v.connect();
    await queued;
    expect(v.queuedMessages).toBe(0);
    await v.close();
    await expect(v.sendIceCandidate(candidate(1))).rejects.toMatchObject({
      code: 'ERR_SIGNALING_CLOSED',
    });
    // Symbol.asyncDispose (Node 20 here) closes a client like close().
    const other = viewers[1] as SignalingClient;
    expect(other.state).toBe('CONNECTED');
    await other[Symbol.asyncDispose]();
    expect(other.state).toBe('DISCONNECTED');
    await expect(other.connect()).rejects.toMatchObject({ code: 'ERR_SIGNALING_CLOSED' });
  });

  it('trusts the CA named by AWS_KVS_CACERT_PATH, in addition to the root store', async () => {
    const noCa = clientOptions(svc, {
      role: 'MASTER',
      channelName: 'ca-env',
      createIfMissing: true,
      retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 50 },
    });
    delete noCa.caCertPath;
    const previous = process.env['AWS_KVS_CACERT_PATH'];
    try {
      delete process.env['AWS_KVS_CACERT_PATH'];
      const untrusting = new SignalingClient(noCa);
      clients.push(untrusting);
      await expect(untrusting.connect()).rejects.toThrow(/certificate/);
      process.env['AWS_KVS_CACERT_PATH'] = svc.caCertPath;
      const trusting = new SignalingClient(noCa);
      clients.push(trusting);
      await trusting.connect();
      expect(trusting.state).toBe('CONNECTED');
    } finally {
      if (previous === undefined) delete process.env['AWS_KVS_CACERT_PATH'];
      else process.env['AWS_KVS_CACERT_PATH'] = previous;
    }
  });

  it('with the file cache, a second start makes no Describe or GetSignalingChannelEndpoint call', async () => {
    const dir = tempDir('kvs-cache-');
    try {
      const file = join(dir, 'endpoints.csv');
      const first = make({
        role: 'MASTER',
        channelName: 'cached',
        createIfMissing: true,
        cache: { file },
      });
      await first.connect();
      await first.close();
      const describes = countAudit(svc, 'DescribeSignalingChannel');
      const endpoints = countAudit(svc, 'GetSignalingChannelEndpoint');
      expect(describes).toBeGreaterThan(0);
      expect(endpoints).toBeGreaterThan(0);

      const second = make({ role: 'MASTER', channelName: 'cached', cache: { file } });
      await second.connect();
      expect(second.state).toBe('CONNECTED');
      expect(countAudit(svc, 'DescribeSignalingChannel')).toBe(describes);
      expect(countAudit(svc, 'GetSignalingChannelEndpoint')).toBe(endpoints);
      expect(second.getMetrics().describeCallTime).toBe(0);

      // The memory cache does not survive a restart: a third client without the file calls again.
      const third = make({ role: 'MASTER', channelName: 'cached' });
      await third.connect();
      expect(countAudit(svc, 'DescribeSignalingChannel')).toBe(describes + 1);
    } finally {
      removeDir(dir);
    }
  });
});
