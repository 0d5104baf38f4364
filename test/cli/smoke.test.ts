// `kvs-webrtc smoke`: exit 0 against a local service; non-zero with the reason when frames
// cannot flow. The passing runs need the native receive path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeSignalingChannelCommand } from '@aws-sdk/client-kinesis-video';
import type { SmokeReport } from '../../lib/cli/smoke.js';
import type { LocalKvs } from '../../lib/local/index.js';
import { controlClient, removeDir, startTestService } from '../local/helpers.js';
import { cleanEnv, cliAsync, lastJson } from './helpers.js';

describe('kvs-webrtc smoke', () => {
  let svc: LocalKvs;
  let dataDir: string;
  beforeAll(async () => {
    ({ svc, dataDir } = await startTestService({ turn: false }));
  });
  afterAll(async () => {
    await svc.stop({ graceful: false });
    removeDir(dataDir);
  });
  const env = (): NodeJS.ProcessEnv =>
    cleanEnv({
      AWS_ACCESS_KEY_ID: svc.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: svc.credentials.secretAccessKey,
      AWS_KVS_CACERT_PATH: svc.caCertPath,
    });

  it('fails with the reason when frames cannot flow: relay only, TURN off', async () => {
    const r = await cliAsync(
      ['smoke', 'smoke-relay', '--endpoint', svc.endpoint, '--relay', '--json'],
      { env: env() },
    );
    expect(r.status).toBe(1);
    const report = lastJson(r.stdout) as SmokeReport;
    expect(report.ok).toBe(false);
    expect(report.failure).toMatch(/^ice-servers: relay only, but the channel has no TURN server/);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['master', true],
      ['ice-servers', false],
      ['viewer', null],
      ['media-down', null],
      ['media-up', null],
      ['data-channel', null],
      ['metrics', null],
    ]);
    // Without --json, the reason is on the last line.
    const text = await cliAsync(['smoke', 'smoke-relay', '--endpoint', svc.endpoint, '--relay'], {
      env: env(),
    });
    expect(text.status).toBe(1);
    expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^smoke: FAIL \(ice-servers: relay only/);
  }, 90_000);

  it('passes against the local service, creating the channel it needs', async () => {
    const r = await cliAsync(['smoke', 'smoke-fresh', '--endpoint', svc.endpoint, '--json'], {
      env: env(),
      timeoutMs: 120_000,
    });
    const report = lastJson(r.stdout) as SmokeReport;
    expect(report.checks[0]).toMatchObject({ name: 'master', ok: true });
    expect(report.checks[0]?.detail).toContain('(created it)');
    const info = await controlClient(svc).send(
      new DescribeSignalingChannelCommand({ ChannelName: 'smoke-fresh' }),
    );
    expect(info.ChannelInfo?.ChannelStatus).toBe('ACTIVE');
    expect(report.checks.find((c) => c.name === 'viewer')?.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'data-channel')?.ok).toBe(true);
    expect(report.failure, JSON.stringify(report.checks, null, 1)).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.timeToFirstFrameMs).toBeGreaterThan(0);
    // Against a local service, host candidates stay on loopback.
    expect(report.metrics.viewer?.local?.address).toBe('127.0.0.1');
    expect(r.status).toBe(0);
  }, 150_000);

  it('passes with --local (an embedded service), text output', async () => {
    const r = await cliAsync(['smoke', 'smoke-local', '--local'], { timeoutMs: 120_000 });
    expect(r.stdout).toContain('smoke: ok   viewer');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('smoke: PASS');
    expect(r.status).toBe(0);
  }, 150_000);
});
