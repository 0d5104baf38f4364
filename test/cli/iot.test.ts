// The device set-up from the command line: `kvs-webrtc local --iot-thing` writes a device
// certificate and key and prints the C SDK's variables; `kvs-webrtc smoke` and `master` run
// with those variables alone (no access keys). Loopback only; needs the native receive path.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeReport } from '../../lib/cli/smoke.js';
import { CLI, cleanEnv, cliAsync, lastJson } from './helpers.js';

interface LocalJson {
  endpoint: string;
  caCertPath: string;
  iot: {
    endpoint: string;
    devices: { thingName: string; certificateId: string; env: Record<string, string> }[];
  } | null;
}

describe('kvs-webrtc local --iot-thing, and the commands on AWS_IOT_CORE_* alone', () => {
  let dataDir: string;
  let local: ChildProcessWithoutNullStreams;
  let info: LocalJson;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-cli-iot-'));
    local = spawn(
      process.execPath,
      [CLI, 'local', '--no-turn', '--data-dir', dataDir, '--iot-thing', 'cli-cam', '--json'],
      { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    info = await new Promise<LocalJson>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no JSON line from local: ${out}`)), 60_000);
      local.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(lastJson(out) as LocalJson);
        }
      });
      local.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`local exited (${String(code)}): ${out}`));
      });
    });
  }, 90_000);
  afterAll(async () => {
    if (local.exitCode === null) {
      const exited = new Promise((r) => local.once('exit', r));
      local.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the variables, and the files they name are the thing certificate and key', () => {
    const device = info.iot?.devices[0];
    expect(device?.thingName).toBe('cli-cam');
    const env = device?.env ?? {};
    expect(Object.keys(env).sort()).toEqual([
      'AWS_IOT_CORE_CERT',
      'AWS_IOT_CORE_CREDENTIAL_ENDPOINT',
      'AWS_IOT_CORE_PRIVATE_KEY',
      'AWS_IOT_CORE_ROLE_ALIAS',
      'AWS_IOT_CORE_THING_NAME',
      'AWS_KVS_CACERT_PATH',
    ]);
    expect(env['AWS_IOT_CORE_CREDENTIAL_ENDPOINT']).toBe(info.iot?.endpoint);
    expect(env['AWS_KVS_CACERT_PATH']).toBe(info.caCertPath);
    expect(fs.readFileSync(env['AWS_IOT_CORE_CERT'] as string, 'utf8')).toContain(
      'BEGIN CERTIFICATE',
    );
    expect(fs.readFileSync(env['AWS_IOT_CORE_PRIVATE_KEY'] as string, 'utf8')).toContain(
      'PRIVATE KEY',
    );
  });

  it('smoke passes with the IoT variables alone', async () => {
    const env = info.iot?.devices[0]?.env ?? {};
    const r = await cliAsync(['smoke', 'cli-cam', '--endpoint', info.endpoint, '--json'], {
      env: cleanEnv(env),
      timeoutMs: 120_000,
    });
    const report = lastJson(r.stdout) as SmokeReport;
    expect(
      report.failure,
      `${JSON.stringify(report.checks, null, 1)}\n${r.stderr}`,
    ).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(r.status).toBe(0);
  }, 150_000);

  it('master names the certificate file that cannot be read, and exits non-zero', async () => {
    const env = { ...(info.iot?.devices[0]?.env ?? {}) };
    const missing = path.join(dataDir, 'no-such-cert.pem');
    env['AWS_IOT_CORE_CERT'] = missing;
    const r = await cliAsync(
      ['master', 'cli-cam', '--endpoint', info.endpoint, '--duration', '5'],
      { env: cleanEnv(env), timeoutMs: 60_000 },
    );
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toContain('AWS_IOT_CORE_CERT');
    expect(r.status).not.toBe(0);
  }, 90_000);

  it('half the IoT variables is a usage error naming the missing ones', async () => {
    const env = { ...(info.iot?.devices[0]?.env ?? {}) };
    delete env['AWS_IOT_CORE_THING_NAME'];
    const r = await cliAsync(['master', 'cli-cam', '--endpoint', info.endpoint], {
      env: cleanEnv(env),
      timeoutMs: 60_000,
    });
    expect(r.stderr).toContain('AWS_IOT_CORE_THING_NAME');
    expect(r.status).toBe(2);
  }, 90_000);
});
