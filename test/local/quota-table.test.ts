/**
 * The control-plane quota table, row by row: every API's account-level TPS, and the
 * channel-level TPS of the six APIs that have one, each answer ClientLimitExceededException
 * (400) past a shortened limit. Each API's burst runs against its own quota key, so the rows
 * run side by side; a row retries (at most five bursts) on a machine too slow to fit its burst
 * into one second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSignalingChannelCommand,
  DeleteSignalingChannelCommand,
  DescribeSignalingChannelCommand,
  GetSignalingChannelEndpointCommand,
  ListSignalingChannelsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSignalingChannelCommand,
  type KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import type { LocalKvs } from '../../lib/local/index.js';
import { controlClient, removeDir, startTestService } from './helpers.js';

type Scope = 'account' | 'channel';

interface Row {
  api: string;
  call: (i: number) => Promise<unknown>;
}

/** Bursts of `size` concurrent calls until one is refused for `scope`; returns the bursts. */
async function burst(
  row: Row,
  size: number,
  scope: Scope,
): Promise<{ passed: number; limited: number; wrong: string[] }[]> {
  const out: { passed: number; limited: number; wrong: string[] }[] = [];
  let i = 0;
  for (let round = 0; round < 5; round++) {
    const settled = await Promise.allSettled(Array.from({ length: size }, () => row.call(i++)));
    const b = { passed: 0, limited: 0, wrong: [] as string[] };
    for (const s of settled) {
      if (s.status === 'fulfilled') {
        b.passed++;
        continue;
      }
      const e = s.reason as Error & { $metadata?: { httpStatusCode?: number } };
      if (e.name === 'ClientLimitExceededException') {
        if (e.$metadata?.httpStatusCode === 400 && e.message.includes(`per ${scope}`)) b.limited++;
        else b.wrong.push(`${e.name} ${e.$metadata?.httpStatusCode}: ${e.message}`);
      } else {
        // Past the quota, the call ran and was answered on its merits (e.g. a version check).
        b.passed++;
      }
    }
    out.push(b);
    if (b.limited > 0) break;
  }
  return out;
}

/**
 * Every row was refused at least once, only for the right scope, and its first burst (in a
 * fresh window) let at least the limit of 2 through.
 */
function expectEveryRowRefused(table: Row[], results: Awaited<ReturnType<typeof burst>>[]): void {
  const summary = table.map((row, k) => {
    const bursts = results[k] ?? [];
    return {
      api: row.api,
      refused: bursts.some((b) => b.limited > 0),
      firstBurstPassed: (bursts[0]?.passed ?? 0) >= 2,
      wrong: bursts.flatMap((b) => b.wrong),
    };
  });
  expect(summary).toEqual(
    table.map((row) => ({ api: row.api, refused: true, firstBurstPassed: true, wrong: [] })),
  );
}

async function createWithRetry(kv: KinesisVideoClient, name: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return (await kv.send(new CreateSignalingChannelCommand({ ChannelName: name })))
        .ChannelARN as string;
    } catch (e) {
      if ((e as Error).name !== 'ClientLimitExceededException') throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`could not create ${name} under the quota`);
}

function rows(kv: KinesisVideoClient, arns: string[], prefix: string): Row[] {
  const arn = (i: number): string => arns[i % arns.length] as string;
  return [
    {
      api: 'CreateSignalingChannel',
      call: (i) =>
        kv.send(new CreateSignalingChannelCommand({ ChannelName: `${prefix}-new-${i}` })),
    },
    {
      api: 'DescribeSignalingChannel',
      call: (i) => kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn(i) })),
    },
    {
      api: 'ListSignalingChannels',
      call: () => kv.send(new ListSignalingChannelsCommand({ MaxResults: 1 })),
    },
    {
      api: 'UpdateSignalingChannel',
      call: (i) =>
        kv.send(
          new UpdateSignalingChannelCommand({ ChannelARN: arn(i), CurrentVersion: 'stale0' }),
        ),
    },
    {
      api: 'DeleteSignalingChannel',
      call: (i) =>
        kv.send(
          new DeleteSignalingChannelCommand({ ChannelARN: arn(i), CurrentVersion: 'stale0' }),
        ),
    },
    {
      api: 'GetSignalingChannelEndpoint',
      call: (i) => kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn(i) })),
    },
    {
      api: 'TagResource',
      call: (i) =>
        kv.send(
          new TagResourceCommand({ ResourceARN: arn(i), Tags: [{ Key: 'k', Value: String(i) }] }),
        ),
    },
    {
      api: 'UntagResource',
      call: (i) => kv.send(new UntagResourceCommand({ ResourceARN: arn(i), TagKeyList: ['k'] })),
    },
    {
      api: 'ListTagsForResource',
      call: (i) => kv.send(new ListTagsForResourceCommand({ ResourceARN: arn(i) })),
    },
  ];
}

describe('account-level TPS, every control-plane API', () => {
  let svc: LocalKvs;
  let dataDir: string;
  let kv: KinesisVideoClient;
  let arns: string[];

  beforeAll(async () => {
    ({ svc, dataDir } = await startTestService({
      limits: { controlPlaneTps: 2, controlPlaneChannelTps: 1000 },
    }));
    kv = controlClient(svc);
    arns = [];
    for (const n of ['acct-a', 'acct-b', 'acct-c', 'acct-d'])
      arns.push(await createWithRetry(kv, n));
  });
  afterAll(async () => {
    await svc.stop({ graceful: false });
    removeDir(dataDir);
  });

  it('answers ClientLimitExceededException past 2 TPS for each of the nine APIs', async () => {
    // Wait out the creates of the set-up in the Create row's window.
    await new Promise((r) => setTimeout(r, 1100));
    const table = rows(kv, arns, 'acct');
    const results = await Promise.all(table.map((row) => burst(row, 4, 'account')));
    expectEveryRowRefused(table, results);
  });
});

describe('channel-level TPS, the six APIs that have one', () => {
  let svc: LocalKvs;
  let dataDir: string;
  let kv: KinesisVideoClient;
  let arns: string[];

  beforeAll(async () => {
    ({ svc, dataDir } = await startTestService({
      limits: { controlPlaneTps: 1000, controlPlaneChannelTps: 2 },
    }));
    kv = controlClient(svc);
    arns = [];
    for (const n of ['ch-a', 'ch-b', 'ch-c', 'ch-d', 'ch-e', 'ch-f'])
      arns.push(await createWithRetry(kv, n));
  });
  afterAll(async () => {
    await svc.stop({ graceful: false });
    removeDir(dataDir);
  });

  it('answers ClientLimitExceededException past 2 TPS on one channel', async () => {
    const channelApis = [
      'DescribeSignalingChannel',
      'UpdateSignalingChannel',
      'DeleteSignalingChannel',
      'TagResource',
      'UntagResource',
      'ListTagsForResource',
    ];
    // Each API hammers its own single channel, so its calls share one channel-level key.
    const table = channelApis.map((api, k) => {
      const row = rows(kv, [arns[k] as string], 'ch').find((r) => r.api === api) as Row;
      return row;
    });
    const results = await Promise.all(table.map((row) => burst(row, 4, 'channel')));
    expectEveryRowRefused(table, results);
    // GetSignalingChannelEndpoint and ListSignalingChannels have no channel-level quota.
    const free = await Promise.all(
      Array.from({ length: 6 }, () =>
        kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arns[0] })),
      ),
    );
    expect(free).toHaveLength(6);
  });
});
