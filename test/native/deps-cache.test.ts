import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';

// The static libsrtp2 and usrsctp are cached per target under ~/.cache/kvs-webrtc/deps,
// in an entry named by a hash of target, recipe, versions and compiler; a second build
// reuses it. The cross targets' entries hold ARM objects, built against the target's own
// OpenSSL (deps/sysroot.mjs). KVS_WEBRTC_OFFLINE=1: the test never asks Debian's archive.
const script = path.join(ROOT, 'deps', 'build-deps.mjs');
const MACHINE = { x64: 'X86-64', arm64: 'AArch64', arm: 'ARM' } as const;
const haveCross = (triplet: string) =>
  spawnSync('sh', ['-c', `command -v ${triplet}-gcc`]).status === 0;
const required = process.env.CI === 'true' || process.env.KVS_REQUIRE_PREBUILDS === '1';
const CROSS = { arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' } as const;

function deps(target: string) {
  return spawnSync(process.execPath, [script, '--target', target, '--print-prefix'], {
    encoding: 'utf8',
    env: { ...process.env, KVS_WEBRTC_OFFLINE: '1' },
    timeout: 600_000,
  });
}

const prefixes = new Map<string, string>();

describe.each(['x64', 'arm64', 'arm'] as const)('deps for %s', (target) => {
  const skip = target !== 'x64' && !haveCross(CROSS[target]) && !required;

  it.skipIf(skip)(
    'a second build reuses the cached libsrtp2 and usrsctp',
    () => {
      const first = deps(target);
      expect(first.status, first.stderr).toBe(0);
      const prefix = first.stdout.trim();
      expect(path.basename(prefix)).toMatch(new RegExp(`^${target}-[0-9a-f]{12}$`));
      const libs = ['libsrtp2.a', 'libusrsctp.a'].map((f) => path.join(prefix, 'lib', f));
      const before = libs.map((f) => fs.statSync(f).mtimeMs);

      const second = deps(target);
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout.trim()).toBe(prefix);
      expect(second.stderr).not.toMatch(/building|fetching/);
      expect(libs.map((f) => fs.statSync(f).mtimeMs)).toEqual(before);
      prefixes.set(target, prefix);
    },
    600_000,
  );

  it.skipIf(skip)("holds the target's objects and records the target's OpenSSL", () => {
    const prefix = prefixes.get(target);
    expect(prefix, 'the reuse test ran first').toBeDefined();
    const versions = JSON.parse(
      fs.readFileSync(path.join(prefix ?? '', 'versions.json'), 'utf8'),
    ) as { target: string; openssl: string };
    expect(versions.target).toBe(target);
    expect(versions.openssl).toMatch(/^3\.0\.\d+-/);
    for (const lib of ['libsrtp2.a', 'libusrsctp.a']) {
      const headers = execFileSync('readelf', ['-hW', path.join(prefix ?? '', 'lib', lib)], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const machines = new Set([...headers.matchAll(/Machine:\s+(.+)/g)].map((m) => m[1]?.trim()));
      expect(
        [...machines].every((m) => m?.includes(MACHINE[target])),
        [...machines].join(),
      ).toBe(true);
    }
  });
});

it('keeps one entry per target', () => {
  expect(new Set(prefixes.values()).size).toBe(prefixes.size);
});
