import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';

// A consumer project with kvs-webrtc in its node_modules, as npm would link a local install.
let consumer = '';
beforeAll(() => {
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-consumer-'));
  fs.mkdirSync(path.join(consumer, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(consumer, 'node_modules', 'kvs-webrtc'), 'dir');
});
afterAll(() => fs.rmSync(consumer, { recursive: true, force: true }));

interface PackageJson {
  types: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string } | undefined>;
}

function readPackageJson(): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

function node(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: consumer, encoding: 'utf8' });
}

describe('the built package', () => {
  it('works with require()', () => {
    const r = node([
      '-e',
      "const k = require('kvs-webrtc'); console.log(JSON.stringify(k.versions()))",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { openssl: string }).openssl).toMatch(/^OpenSSL 3\./);
  });

  it('works with import, named exports included', () => {
    const r = node([
      '--input-type=module',
      '-e',
      "import { versions, selfTest } from 'kvs-webrtc'; console.log(versions().libsrtp2, selfTest().length)",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^libsrtp2 2\.\d+\.\d+ 3$/);
  });

  it('ships type declarations for its entry points', () => {
    const pkg = readPackageJson();
    expect(fs.existsSync(path.join(ROOT, pkg.types))).toBe(true);
    for (const entry of ['.', './local']) {
      const e = pkg.exports[entry];
      if (!e) throw new Error(`package.json exports no ${entry}`);
      expect(fs.existsSync(path.join(ROOT, e.types)), entry).toBe(true);
      expect(fs.existsSync(path.join(ROOT, e.default)), entry).toBe(true);
    }
  });

  it("loads neither the local service, the AWS SDK, ws nor the addon at require('kvs-webrtc')", () => {
    const probe = (code: string) => {
      const r = node([
        '-e',
        `${code}; const m = Object.keys(require.cache);` +
          'const n = (re) => m.filter((k) => re.test(k)).length;' +
          'console.log(JSON.stringify({ local: n(/[\\/]dist[\\/]local[\\/]/), aws: n(/@aws-sdk|@smithy/),' +
          ' ws: n(/node_modules[\\/]ws[\\/]/), forge: n(/node-forge/), addon: n(/\\.node$/) }))',
      ]);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, number>;
    };
    const none = { local: 0, aws: 0, ws: 0, forge: 0, addon: 0 };
    expect(probe("require('kvs-webrtc')")).toEqual(none);
    // Making a client loads nothing heavy either: the SDK, ws and the signer wait for the first call.
    expect(
      probe(
        "const k = require('kvs-webrtc'); new k.SignalingClient({ channelName: 'c', role: 'MASTER'," +
          " region: 'us-west-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })",
      ),
    ).toEqual(none);
    // The addon loads with its first use; the local service only from its own entry point.
    expect(probe("require('kvs-webrtc').versions()")).toEqual({ ...none, addon: 1 });
    const local = probe("require('kvs-webrtc/local')");
    expect(local.local).toBeGreaterThan(3);
    expect(local.ws).toBeGreaterThan(0);
  });

  it('serves the local service from kvs-webrtc/local, for require and import', () => {
    const r = node([
      '-e',
      "const l = require('kvs-webrtc/local'); const k = require('kvs-webrtc');" +
        "console.log(typeof l.startLocalKvs, typeof l.DEFAULT_LIMITS, 'startLocalKvs' in k)",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function object false');
    const m = node([
      '--input-type=module',
      '-e',
      "import { startLocalKvs } from 'kvs-webrtc/local'; console.log(typeof startLocalKvs)",
    ]);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout.trim()).toBe('function');
  });

  it('has a kvs-webrtc command whose demo streams from a master to a viewer through the local service', () => {
    const pkg = readPackageJson();
    const bin = path.join(ROOT, pkg.bin['kvs-webrtc'] ?? 'missing-bin');
    const r = node([bin, 'demo', '--duration', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kvs-webrtc: OpenSSL 3\./m);
    expect(r.stdout.match(/^self-test .*: ok \(DTLSv1\.2/gm)).toHaveLength(3);
    expect(r.stdout).toMatch(/^viewer \S+: Connection established in [\d.]+ ms/m);
    expect(r.stdout).toMatch(/^ {2}time to first frame: [\d.]+ ms/m);
    expect(r.stdout).toMatch(/^ {2}frames received: video [1-9]\d*, audio [1-9]\d*/m);
    expect(r.stdout).toMatch(/^demo: ok$/m);
  });

  it('fails with a usage message on an unknown command', () => {
    const pkg = readPackageJson();
    const r = node([path.join(ROOT, pkg.bin['kvs-webrtc'] ?? 'missing-bin'), 'no-such-command']);
    expect(r.status).toBe(2); // a usage error, as the command's other usage errors
    expect(r.stderr).toMatch(/unknown command "no-such-command"/);
    expect(r.stderr).toMatch(/usage: kvs-webrtc/);
  });
});
