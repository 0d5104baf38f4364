/**
 * Quotas and timers with shortened limits: each TPS quota answers ClientLimitExceededException
 * past its limit, the channel quota AccountChannelLimitExceededException, and connections end
 * on idle timeout, lifetime and GO_AWAY grace. Bursts are sent concurrently, so at least
 * `limit` calls fall inside one window however slow the machine; assertions never depend on
 * how fast anything ran.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSignalingChannelCommand,
  DescribeSignalingChannelCommand,
  ListSignalingChannelsCommand,
  type KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import {
  GetIceServerConfigCommand,
  SendAlexaOfferToMasterCommand,
} from '@aws-sdk/client-kinesis-video-signaling';
import type { LocalKvs } from '../../lib/local/index.js';
import { rawDataText } from '../../lib/ws-data.js';
import {
  closeAll,
  connect,
  controlClient,
  presignedUrl,
  openWs,
  removeDir,
  signalingClient,
  startTestService,
  type WsProbe,
} from './helpers.js';

interface Burst {
  ok: number;
  limited: number;
  other: string[];
}

/** Runs `count` calls concurrently, up to `rounds` times, until one is throttled. */
async function burstUntilLimited(
  call: () => Promise<unknown>,
  count: number,
  isLimit: (e: unknown) => boolean,
  rounds = 5,
): Promise<Burst[]> {
  const out: Burst[] = [];
  for (let r = 0; r < rounds; r++) {
    const settled = await Promise.allSettled(Array.from({ length: count }, call));
    const b: Burst = { ok: 0, limited: 0, other: [] };
    for (const s of settled) {
      if (s.status === 'fulfilled') b.ok++;
      else if (isLimit(s.reason)) b.limited++;
      else b.other.push(s.reason instanceof Error ? s.reason.name : String(s.reason));
    }
    out.push(b);
    if (b.limited > 0) break;
  }
  return out;
}

const isClientLimit = (e: unknown): boolean => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'ClientLimitExceededException' && err.$metadata?.httpStatusCode === 400;
};
const isChannelLimit = (e: unknown): boolean =>
  isClientLimit(e) && /per channel/.test((e as Error).message);
const isAccountLimit = (e: unknown): boolean =>
  isClientLimit(e) && /per account/.test((e as Error).message);

describe('control- and data-plane quotas', () => {
  let svc: LocalKvs;
  let dataDir: string;
  let kv: KinesisVideoClient;

  beforeAll(async () => {
    ({ svc, dataDir } = await startTestService({
      limits: {
        controlPlaneTps: 3,
        controlPlaneChannelTps: 2,
        dataPlaneTpsPerChannel: 2,
        maxChannels: 4,
      },
    }));
    kv = controlClient(svc);
  });
  afterAll(async () => {
    await svc.stop({ graceful: false });
    removeDir(dataDir);
  });

  it('account TPS per API: ClientLimitExceededException past the limit', async () => {
    const bursts = await burstUntilLimited(
      () => kv.send(new ListSignalingChannelsCommand({})),
      8,
      isAccountLimit,
    );
    const last = bursts[bursts.length - 1] as Burst;
    expect(last.limited).toBeGreaterThan(0);
    // The first burst starts in a fresh window, so at least `limit` of it passes.
    expect(bursts.every((b) => b.other.length === 0)).toBe(true);
    expect(bursts[0]?.ok).toBeGreaterThanOrEqual(3);
  });

  it('channel-level TPS: ClientLimitExceededException past the limit', async () => {
    const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'q-ch' })))
      .ChannelARN as string;
    // 2 per channel is below 3 per account, so the channel quota is what refuses the third.
    const bursts = await burstUntilLimited(
      () => kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn })),
      3,
      isChannelLimit,
    );
    const last = bursts[bursts.length - 1] as Burst;
    expect(last.limited).toBeGreaterThan(0);
    expect(bursts.every((b) => b.other.every((o) => o === 'ClientLimitExceededException'))).toBe(
      true,
    );
    expect(bursts[0]?.ok).toBeGreaterThanOrEqual(2);
  });

  it('GetIceServerConfig TPS per channel', async () => {
    const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'q-dp' })))
      .ChannelARN as string;
    const sc = signalingClient(svc, svc.endpoint);
    const bursts = await burstUntilLimited(
      () => sc.send(new GetIceServerConfigCommand({ ChannelARN: arn })),
      6,
      isChannelLimit,
    );
    const last = bursts[bursts.length - 1] as Burst;
    expect(last.limited).toBeGreaterThan(0);
    expect(bursts.every((b) => b.other.length === 0)).toBe(true);
    expect(bursts[0]?.ok).toBeGreaterThanOrEqual(2);
  });

  it('SendAlexaOfferToMaster TPS per channel', async () => {
    const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'q-alexa' })))
      .ChannelARN as string;
    const master = await connect(svc, arn);
    // The master answers every offer it gets, so the calls that pass the quota succeed.
    master.ws.on('message', (data) => {
      const m = JSON.parse(rawDataText(data)) as { senderClientId?: string };
      master.send({
        action: 'SDP_ANSWER',
        recipientClientId: m.senderClientId,
        messagePayload: 'YQ==',
      });
    });
    const sc = signalingClient(svc, svc.endpoint);
    let i = 0;
    try {
      const bursts = await burstUntilLimited(
        () =>
          sc.send(
            new SendAlexaOfferToMasterCommand({
              ChannelARN: arn,
              SenderClientId: `alexa-${i++}`,
              MessagePayload: 'bw==',
            }),
          ),
        6,
        isChannelLimit,
      );
      const last = bursts[bursts.length - 1] as Burst;
      expect(last.limited).toBeGreaterThan(0);
      expect(bursts.every((b) => b.other.length === 0)).toBe(true);
      expect(bursts[0]?.ok).toBeGreaterThanOrEqual(2);
    } finally {
      await closeAll(master);
    }
  });

  it('channels per account: AccountChannelLimitExceededException', async () => {
    // q-ch, q-dp and q-alexa exist; the limit is 4. Creates go one by one (3 TPS quota).
    const results: string[] = [];
    for (const name of ['q-a', 'q-b']) {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await kv.send(new CreateSignalingChannelCommand({ ChannelName: name }));
          results.push('ok');
          break;
        } catch (e) {
          const err = e as Error;
          if (isClientLimit(err)) {
            await new Promise((r) => setTimeout(r, 300));
            continue;
          }
          results.push(err.name);
          break;
        }
      }
    }
    expect(results).toEqual(['ok', 'AccountChannelLimitExceededException']);
  });
});

describe('signaling quotas', () => {
  let svc: LocalKvs;
  let dataDir: string;
  let kv: KinesisVideoClient;
  let n = 0;
  const channel = async (): Promise<string> =>
    (await kv.send(new CreateSignalingChannelCommand({ ChannelName: `sq-${n++}` })))
      .ChannelARN as string;

  beforeAll(async () => {
    ({ svc, dataDir } = await startTestService({
      limits: { maxViewers: 2, connectTpsPerChannel: 2 },
    }));
    kv = controlClient(svc);
  });
  afterAll(async () => {
    await svc.stop({ graceful: false });
    removeDir(dataDir);
  });

  it('viewers per channel: the next viewer is refused, a same-ClientId reconnect is not', async () => {
    const arn = await channel();
    const opened: WsProbe[] = [];
    try {
      // Connects one at a time, retrying past the 2 TPS connect quota.
      const connectRetry = async (
        id: string,
      ): Promise<WsProbe | { status: number; errorType: string }> => {
        for (let i = 0; i < 30; i++) {
          try {
            const p = await connect(svc, arn, id);
            opened.push(p);
            return p;
          } catch (e) {
            const err = e as { status?: number; body?: string; errorType?: string };
            if (err.status === 400 && String(err.body).includes('TPS')) {
              await new Promise((r) => setTimeout(r, 200));
              continue;
            }
            return {
              status: err.status ?? 0,
              errorType: String(err.errorType).split(':')[0] as string,
            };
          }
        }
        throw new Error('connect quota never cleared');
      };
      expect('ws' in (await connectRetry('a'))).toBe(true);
      expect('ws' in (await connectRetry('b'))).toBe(true);
      expect(await connectRetry('c')).toEqual({
        status: 400,
        errorType: 'ClientLimitExceededException',
      });
      expect('ws' in (await connectRetry('a'))).toBe(true);
    } finally {
      await closeAll(...opened);
    }
  });

  /** Concurrent bursts of six handshakes (at most five) until the connect quota refuses one. */
  async function connectBurstRefusals(
    clientId?: string,
  ): Promise<{ status?: number; errorType?: string }[]> {
    const arn = await channel();
    const refused: { status?: number; errorType?: string }[] = [];
    for (let round = 0; round < 5 && refused.length === 0; round++) {
      const urls = await Promise.all(
        Array.from({ length: 6 }, () => presignedUrl(svc, arn, clientId)),
      );
      const settled = await Promise.allSettled(urls.map((u) => openWs(svc, u)));
      for (const s of settled) {
        if (s.status === 'rejected')
          refused.push(s.reason as { status?: number; errorType?: string });
      }
      await closeAll(...settled.filter((s) => s.status === 'fulfilled').map((s) => s.value));
    }
    return refused;
  }

  for (const [role, clientId] of [
    ['ConnectAsViewer', 't1'],
    ['ConnectAsMaster', undefined],
  ] as const) {
    it(`${role} TPS per channel: 400 ClientLimitExceededException`, async () => {
      const refused = await connectBurstRefusals(clientId);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.status).toBe(400);
        expect(String(r.errorType)).toMatch(/^ClientLimitExceededException/);
      }
    });
  }

  it('SDP 5 TPS and ICE 20 TPS per connection: STATUS_RESPONSE ClientLimitExceededException', async () => {
    const arn = await channel();
    const master = await connect(svc, arn);
    try {
      // Sent in one tick, so they all land inside one second.
      for (let i = 0; i < 8; i++) {
        master.send({
          action: 'SDP_OFFER',
          recipientClientId: 'nobody',
          messagePayload: 'eA==',
          correlationId: `sdp-${i}`,
        });
      }
      for (let i = 0; i < 25; i++) {
        master.send({
          action: 'ICE_CANDIDATE',
          recipientClientId: 'nobody',
          messagePayload: 'eA==',
          correlationId: `ice-${i}`,
        });
      }
      master.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'end' });
      const statuses: Record<string, unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        const m = await master.next();
        const s = m['statusResponse'] as Record<string, unknown>;
        if (s['correlationId'] === 'end') break;
        statuses.push(s);
      }
      const sdp = statuses.filter((s) => String(s['correlationId']).startsWith('sdp-'));
      const ice = statuses.filter((s) => String(s['correlationId']).startsWith('ice-'));
      // At least the surplus over one window is refused; the first `limit` never are.
      expect(sdp.length).toBeGreaterThanOrEqual(1);
      expect(sdp.length).toBeLessThanOrEqual(3);
      expect(ice.length).toBeGreaterThanOrEqual(1);
      expect(ice.length).toBeLessThanOrEqual(5);
      expect(sdp.map((s) => s['correlationId'])).not.toContain('sdp-0');
      for (const s of [...sdp, ...ice]) {
        expect(s).toMatchObject({ errorType: 'ClientLimitExceededException', statusCode: '400' });
      }
    } finally {
      await closeAll(master);
    }
  });
});

describe('connection timers', () => {
  it('closes an idle connection after the idle timeout, keeps a busy one', async () => {
    const { svc, dataDir } = await startTestService({ limits: { idleTimeoutMs: 3000 } });
    try {
      const kv = controlClient(svc);
      const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'idle' })))
        .ChannelARN as string;
      const idle = await connect(svc, arn, 'idle');
      const busy = await connect(svc, arn, 'busy');
      // The busy viewer sends a message every 300 ms until the idle one is closed (bounded).
      let sent = 0;
      const ticker = setInterval(() => {
        if (sent++ < 100) busy.send({ action: 'ICE_CANDIDATE', messagePayload: 'eA==' });
      }, 300);
      await idle.closed;
      clearInterval(ticker);
      expect(idle.closeReason).toBe('Idle timeout');
      expect(busy.closeCode).toBeUndefined();
      await closeAll(busy);
    } finally {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    }
  });

  it('closes a connection at the end of its lifetime even while it is busy', async () => {
    const { svc, dataDir } = await startTestService({ limits: { connectionLifetimeMs: 1500 } });
    try {
      const kv = controlClient(svc);
      const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'life' })))
        .ChannelARN as string;
      const v = await connect(svc, arn, 'life');
      let sent = 0;
      const ticker = setInterval(() => {
        if (sent++ < 100) v.send({ action: 'ICE_CANDIDATE', messagePayload: 'eA==' });
      }, 200);
      await v.closed;
      clearInterval(ticker);
      expect(v.closeReason).toBe('Connection duration limit reached');
    } finally {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    }
  });

  it('GO_AWAY: the socket keeps working during the grace, then the service closes it', async () => {
    const { svc, dataDir } = await startTestService({ limits: { goAwayGraceMs: 4000 } });
    try {
      const kv = controlClient(svc);
      const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'goaway' })))
        .ChannelARN as string;
      const master = await connect(svc, arn);
      const viewer = await connect(svc, arn, 'gv');
      expect(svc.goAway()).toBe(2);
      expect(await viewer.next()).toEqual({ messageType: 'GO_AWAY' });
      expect(await master.next()).toEqual({ messageType: 'GO_AWAY' });
      viewer.send({ action: 'SDP_OFFER', messagePayload: 'Z3JhY2U=' });
      expect(await master.next()).toMatchObject({ messagePayload: 'Z3JhY2U=' });
      await Promise.all([master.closed, viewer.closed]);
      expect([master.closeCode, viewer.closeCode]).toEqual([1001, 1001]);
    } finally {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    }
  });

  it('a graceful stop sends GO_AWAY and returns once clients have left', async () => {
    const { svc, dataDir } = await startTestService({ limits: { goAwayGraceMs: 30_000 } });
    try {
      const kv = controlClient(svc);
      const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'stop' })))
        .ChannelARN as string;
      const viewer = await connect(svc, arn, 'sv');
      const stopped = svc.stop();
      expect(await viewer.next()).toEqual({ messageType: 'GO_AWAY' });
      // The client does what GO_AWAY asks: it finishes and leaves; stop() then completes.
      viewer.ws.close();
      await stopped;
      await viewer.closed;
    } finally {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    }
  });
});
