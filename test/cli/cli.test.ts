// The kvs-webrtc command's surface: a --help for each command, usage errors, and errors that
// say what to do next (no region, no credentials, a channel that does not exist, a service
// that is not there, coturn missing), and the log level.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKvs } from '../../lib/local/index.js';
import { removeDir, startTestService } from '../local/helpers.js';
import { cleanEnv, cleanHome, cli, cliAsync } from './helpers.js';

describe('kvs-webrtc --help', () => {
  it('lists every command', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    for (const c of [
      'demo',
      'master <channel>',
      'viewer <channel>',
      'smoke <channel>',
      'nat <stun-url>',
      'local',
    ]) {
      expect(r.stdout).toContain(`  ${c}`);
    }
    expect(r.stdout).toContain('AWS_KVS_LOG_LEVEL');
  });

  it.each([
    ['demo', ['--duration', '--viewers', '--relay', '--json']],
    [
      'master',
      ['--video', '--audio', '--save', '--max-viewers', '--endpoint', '--region', '--log-level'],
    ],
    ['viewer', ['--client-id', '--save', '--endpoint', '--region', '--log-level']],
    ['smoke', ['--json', '--relay', '--local', 'data-channel', 'metrics']],
    ['nat', ['RFC 5780', '--local-address', '--json']],
    ['local', ['--port', '--no-turn']],
  ])('has a usage text for %s', (command, mentions) => {
    const r = cli([command, '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: kvs-webrtc ${command}`));
    for (const m of mentions) expect(r.stdout, m).toContain(m);
  });

  it('refuses an unknown command or option with the usage, exit 2', () => {
    const a = cli(['frobnicate']);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('unknown command "frobnicate"');
    const b = cli(['master', 'ch', '--frames-per-second', '9']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/Unknown option '--frames-per-second'/);
    expect(b.stderr).toContain('usage: kvs-webrtc master');
    const c = cli(['viewer']);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('give one channel name');
    const d = cli(['demo', '--viewers', 'zero']);
    expect(d.status).toBe(2);
    expect(d.stderr).toContain('--viewers must be an integer in 1..100');
    const e = cli(['nat', 'http://example.org']);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('expected stun:host[:port]');
  });
});

describe('errors that say what to do next', () => {
  it('no region', () => {
    const r = cli(['master', 'my-channel']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /no AWS region: pass --region .*export AWS_REGION.*~\/\.aws\/config.*--endpoint/s,
    );
  });

  it('no credentials, with the region from the profile in ~/.aws/config', () => {
    const dir = path.join(cleanHome(), 'profile-test');
    fs.mkdirSync(dir, { recursive: true });
    const config = path.join(dir, 'config');
    fs.writeFileSync(config, '[default]\nregion = eu-west-1\n');
    const r = cli(['viewer', 'my-channel'], { env: cleanEnv({ AWS_CONFIG_FILE: config }) });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no AWS credentials found');
    expect(r.stderr).toContain('AWS_ACCESS_KEY_ID');
    expect(r.stderr).toContain('kvs-webrtc demo');
    expect(r.stderr).not.toContain('no AWS region');
  });

  it('coturn missing when --relay asks for TURN', () => {
    // A PATH with node alone (node lives in /usr/bin beside turnserver): no coturn to find.
    const bin = path.join(cleanHome(), 'node-only-bin');
    fs.mkdirSync(bin, { recursive: true });
    if (!fs.existsSync(path.join(bin, 'node')))
      fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = cli(['demo', '--relay', '--duration', '1'], { env: cleanEnv({ PATH: bin }) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/coturn .*not installed/);
    expect(r.stderr).toContain('apt-get install coturn');
    expect(r.stderr).toContain('without --relay');
  });

  describe('against a local service', () => {
    let svc: LocalKvs;
    let dataDir: string;
    beforeAll(async () => {
      ({ svc, dataDir } = await startTestService());
    });
    afterAll(async () => {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    });
    const keys = (): NodeJS.ProcessEnv =>
      cleanEnv({
        AWS_ACCESS_KEY_ID: svc.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: svc.credentials.secretAccessKey,
      });

    it('a channel that does not exist', async () => {
      const r = await cliAsync(
        ['viewer', 'no-such-channel', '--endpoint', svc.endpoint, '--ca-cert', svc.caCertPath],
        {
          env: keys(),
        },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('channel no-such-channel does not exist on the local service');
      expect(r.stderr).toContain('kvs-webrtc master no-such-channel');
      expect(r.stderr).toContain(
        'aws kinesisvideo create-signaling-channel --channel-name no-such-channel',
      );
    });

    it("takes the local service's key pair and CA from its data directory", async () => {
      const r = await cliAsync([
        'viewer',
        'no-such-channel',
        '--endpoint',
        svc.endpoint,
        '--local-data-dir',
        dataDir,
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('does not exist');
      const none = await cliAsync([
        'viewer',
        'x',
        '--endpoint',
        svc.endpoint,
        '--local-data-dir',
        path.join(dataDir, 'nope'),
      ]);
      expect(none.status).toBe(1);
      expect(none.stderr).toContain('no credentials for the local service');
      expect(none.stderr).toContain('kvs-webrtc local printed');
    });

    it('a local service that is not running', async () => {
      const port = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as net.AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      const r = await cliAsync([
        'viewer',
        'x',
        '--endpoint',
        `https://127.0.0.1:${port}`,
        '--local-data-dir',
        dataDir,
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('is kvs-webrtc local running there?');
    });

    it('honours --log-level and AWS_KVS_LOG_LEVEL', async () => {
      const args = [
        'viewer',
        'no-such-channel',
        '--endpoint',
        svc.endpoint,
        '--ca-cert',
        svc.caCertPath,
      ];
      const quiet = await cliAsync(args, { env: keys() });
      expect(quiet.stderr).not.toMatch(/\[kvs-\w+\] (DEBUG|INFO)/);
      const flag = await cliAsync([...args, '--log-level', 'debug'], { env: keys() });
      expect(flag.stderr).toMatch(/\[kvs-viewer\] DEBUG state NEW -> GET_CREDENTIALS/);
      const env = await cliAsync(args, { env: { ...keys(), AWS_KVS_LOG_LEVEL: '2' } });
      expect(env.stderr).toMatch(/\[kvs-viewer\] DEBUG state NEW -> GET_CREDENTIALS/);
      // The option wins over the variable.
      const both = await cliAsync([...args, '--log-level', 'silent'], {
        env: { ...keys(), AWS_KVS_LOG_LEVEL: '2' },
      });
      expect(both.stderr).not.toContain('DEBUG');
      const bad = await cliAsync([...args, '--log-level', 'loud'], { env: keys() });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--log-level must be 1-7');
    });
  });
});
