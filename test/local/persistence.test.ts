/**
 * Durability and the `local` command: channels survive a restart; a kill -9 of the service
 * process in the middle of a burst of creates loses none that was acknowledged; the CLI prints
 * what a client needs, and NODE_EXTRA_CA_CERTS is enough to trust the service.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CreateSignalingChannelCommand,
  DescribeSignalingChannelCommand,
  KinesisVideoClient,
  ListSignalingChannelsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-kinesis-video';
import { controlClient, rejection, removeDir, startTestService, tempDir } from './helpers.js';
import { cleanupChildBuild, startChild, type ChildService } from './child.js';

const dirs: string[] = [];
const children: ChildService[] = [];

afterAll(() => {
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
  cleanupChildBuild();
});

function clientFor(info: ChildService['info']): KinesisVideoClient {
  return new KinesisVideoClient({
    region: info.region,
    endpoint: info.endpoint,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    maxAttempts: 1,
    requestHandler: {
      httpsAgent: new Agent({ ca: readFileSync(info.caCertPath, 'utf8') }),
      requestTimeout: 10_000,
    },
  });
}

describe('persistence', () => {
  it('a restart with the same data directory keeps every channel, tag, version, credential and CA', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await startTestService({ dataDir });
    const kv = controlClient(first.svc);
    for (let i = 0; i < 12; i++) {
      await kv.send(
        new CreateSignalingChannelCommand({
          ChannelName: `keep-${i}`,
          SingleMasterConfiguration: { MessageTtlSeconds: 5 + i },
          Tags: [{ Key: 'i', Value: String(i) }],
        }),
      );
    }
    const before = (await kv.send(new ListSignalingChannelsCommand({}))).ChannelInfoList;
    const creds = first.svc.credentials;
    const ca = first.svc.caCert;
    await first.svc.stop();

    const second = await startTestService({ dataDir });
    try {
      expect(second.svc.credentials).toEqual(creds);
      expect(second.svc.caCert).toBe(ca);
      const kv2 = controlClient(second.svc);
      const after = (await kv2.send(new ListSignalingChannelsCommand({}))).ChannelInfoList;
      expect(after).toEqual(before);
      expect(after).toHaveLength(12);
      const arn = after?.find((c) => c.ChannelName === 'keep-7')?.ChannelARN;
      expect((await kv2.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual({
        i: '7',
      });
    } finally {
      await second.svc.stop();
    }
  });

  it('a kill -9 during a burst of creates loses no acknowledged channel', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const svc = await startChild(['--port', '0', '--data-dir', dataDir, '--no-turn']);
    children.push(svc);
    const kv = clientFor(svc.info);
    const acknowledged: string[] = [];
    let killed = false;
    // Read afresh: the other writers set it while this one awaits.
    const wasKilled = (): boolean => killed;
    let next = 0;
    // Four concurrent writers, each bounded to 200 attempts; the kill lands after 40 acks.
    const writer = async (): Promise<void> => {
      for (let i = 0; i < 200 && !wasKilled(); i++) {
        const name = `burst-${next++}`;
        try {
          await kv.send(new CreateSignalingChannelCommand({ ChannelName: name }));
          acknowledged.push(name);
          if (acknowledged.length >= 40 && !wasKilled()) {
            killed = true;
            svc.child.kill('SIGKILL');
          }
        } catch (e) {
          // Throttled or cut off by the kill: not acknowledged, so nothing is owed.
          if ((e as Error).name === 'ClientLimitExceededException')
            await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    const { signal } = await svc.exited;
    expect(killed).toBe(true);
    expect(signal).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);

    const restarted = await startTestService({ dataDir });
    try {
      const kv2 = controlClient(restarted.svc);
      const names = new Set(
        (await kv2.send(new ListSignalingChannelsCommand({}))).ChannelInfoList?.map(
          (c) => c.ChannelName,
        ),
      );
      const lost = acknowledged.filter((n) => !names.has(n));
      expect(lost).toEqual([]);
      // And what is there is whole: every listed channel describes.
      for (const n of [...names].slice(0, 5)) {
        await kv2.send(new DescribeSignalingChannelCommand({ ChannelName: n }));
      }
    } finally {
      await restarted.svc.stop();
    }
  });
});

describe('kvs-webrtc local', () => {
  it('prints endpoint, credentials and CA path; NODE_EXTRA_CA_CERTS suffices to trust it; SIGTERM stops it', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const svc = await startChild(['--port', '0', '--data-dir', dataDir, '--no-turn']);
    children.push(svc);
    expect(svc.info.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(svc.info.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(svc.info.secretAccessKey.length).toBeGreaterThanOrEqual(40);
    expect(svc.info.caCertPath).toBe(`${dataDir}/tls/ca.pem`);
    expect(readFileSync(svc.info.caCertPath, 'utf8')).toContain('BEGIN CERTIFICATE');

    // A separate Node process that trusts the CA only through NODE_EXTRA_CA_CERTS.
    const script =
      "require('https').get(process.argv[1] + '/metrics', (r) => { r.resume(); r.on('end', () => { console.log(r.statusCode); }); })" +
      ".on('error', (e) => { console.log('ERR ' + e.code); });";
    const run = (env: NodeJS.ProcessEnv): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(
          process.execPath,
          ['-e', script, svc.info.endpoint],
          { env, timeout: 20_000 },
          (err, stdout) => {
            if (err) reject(new Error(err.message, { cause: err }));
            else resolve(stdout.trim());
          },
        );
      });
    const envWithout = { ...process.env };
    delete envWithout['NODE_EXTRA_CA_CERTS'];
    expect(await run({ ...envWithout, NODE_EXTRA_CA_CERTS: svc.info.caCertPath })).toBe('200');
    expect(await run(envWithout)).toMatch(/^ERR /);

    svc.child.kill('SIGTERM');
    const { code } = await svc.exited;
    expect(code).toBe(0);
  });
  it('takes --limit and --principals, and refuses an unknown limit', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const file = `${dataDir}-principals.json`;
    writeFileSync(
      file,
      JSON.stringify([
        {
          accessKeyId: 'AKIACLIREADER000001',
          secretAccessKey: 'cli-reader',
          expiration: new Date(Date.now() + 3_600_000).toISOString(),
          policies: [
            { Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:List*', Resource: '*' }] },
          ],
        },
      ]),
    );
    dirs.push(file);
    const svc = await startChild([
      '--data-dir',
      dataDir,
      '--no-turn',
      '--limit',
      'maxChannels=1',
      '--principals',
      file,
    ]);
    children.push(svc);
    const kv = clientFor(svc.info);
    await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'only-one' }));
    const full = await rejection(
      kv.send(new CreateSignalingChannelCommand({ ChannelName: 'two' })),
    );
    expect(full.name).toBe('AccountChannelLimitExceededException');
    const reader = clientFor({
      ...svc.info,
      accessKeyId: 'AKIACLIREADER000001',
      secretAccessKey: 'cli-reader',
    });
    expect((await reader.send(new ListSignalingChannelsCommand({}))).ChannelInfoList).toHaveLength(
      1,
    );
    expect(
      (await rejection(reader.send(new CreateSignalingChannelCommand({ ChannelName: 'x' })))).name,
    ).toBe('AccessDeniedException');
    svc.child.kill('SIGTERM');
    expect((await svc.exited).code).toBe(0);

    const bad = await startChild([
      '--data-dir',
      dataDir,
      '--no-turn',
      '--limit',
      'noSuchLimit=3',
    ]).then(
      () => 'started',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    expect(bad).toMatch(/bad --limit/);
  });
});
