/**
 * Held messages are bounded and expire (issue 17): a master sending ICE candidates to ever-new
 * client ids that never connect must not grow the heap for good. Measured as the held-message
 * gauge and as heap growth after a full GC, not as time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSignalingChannelCommand } from '@aws-sdk/client-kinesis-video';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  closeAll,
  connect,
  controlClient,
  fetchMetrics,
  removeDir,
  startTestService,
} from './helpers.js';

// A full collection on demand, without --expose-gc on the command line.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapUsed = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

let svc: LocalKvs;
let dataDir: string;
const MAX_PER_CHANNEL = 1000;

beforeAll(async () => {
  ({ svc, dataDir } = await startTestService({
    // Raised so the burst goes quickly: the bound under test is on what is held, not the rate.
    limits: { iceTpsPerConnection: 100_000, maxPendingPerChannel: MAX_PER_CHANNEL },
  }));
});

afterAll(async () => {
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

const heldGauge = async (): Promise<number> => {
  const m = /^kvs_local_held_messages (\d+)$/m.exec(await fetchMetrics(svc));
  return m ? Number(m[1]) : NaN;
};

describe('held messages', () => {
  it('for client ids that never connect: bounded while held, freed once the TTL has passed', async () => {
    const kv = controlClient(svc);
    const arn = (
      await kv.send(
        new CreateSignalingChannelCommand({
          ChannelName: 'held-flood',
          SingleMasterConfiguration: { MessageTtlSeconds: 5 },
        }),
      )
    ).ChannelARN as string;
    // Warm up every code path once, so the baseline already holds what a first call allocates.
    const warm = await connect(svc, arn);
    warm.send({ action: 'ICE_CANDIDATE', recipientClientId: 'warm', messagePayload: 'x' });
    warm.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'w' });
    await warm.next();
    await closeAll(warm);
    await fetchMetrics(svc);
    const baseline = heapUsed();

    const master = await connect(svc, arn);
    const candidate = 'c'.repeat(10_000);
    const sent = 2000; // 20 MB of payload, to 2000 client ids that never connect
    for (let i = 0; i < sent; i++) {
      master.send({
        action: 'ICE_CANDIDATE',
        recipientClientId: `never-${i}`,
        messagePayload: `${i}${candidate}`.slice(0, 10_000),
      });
      // Let the socket drain now and then rather than buffering all 20 MB client-side.
      if (i % 200 === 199) {
        master.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: `b${i}` });
        await master.next();
      }
    }
    master.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'end' });
    await master.next();
    // ~10 KB per held message plus bookkeeping; 1000 held is ~10 MB, never the 20 MB sent.
    expect(heapUsed() - baseline).toBeLessThan(MAX_PER_CHANNEL * 10_000 * 1.6);
    const held = await heldGauge();
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(MAX_PER_CHANNEL);

    // The master leaves; nobody ever connects. Once the 5 s TTL has passed all of it goes.
    await closeAll(master);
    let left = held;
    for (let i = 0; i < 300 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await heldGauge();
    }
    // The probe saw the heap stay 10 MB up for good; now it comes back to near the baseline.
    expect(heapUsed() - baseline).toBeLessThan(4 * 1024 * 1024);
    expect(left).toBe(0);
  });
});
