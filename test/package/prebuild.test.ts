import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';

// `npm run prebuild:native` in a copy of the checkout: prebuildify, through our node-gyp
// stand-in, makes prebuilds/linux-<arch>/kvs-webrtc.node, which node-gyp-build then loads.
let copy = '';
let built: ReturnType<typeof spawnSync>;

beforeAll(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-prebuild-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(ROOT, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(copy, f));
  }
  fs.chmodSync(path.join(copy, 'scripts', 'prebuildify-node-gyp.mjs'), 0o755);
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  built = spawnSync('npm', ['run', '--silent', 'prebuild:native'], {
    cwd: copy,
    encoding: 'utf8',
  });
}, 600_000);

afterAll(() => {
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

describe('prebuilt binaries', () => {
  const prebuilt = () => path.join(copy, 'prebuilds', `linux-${process.arch}`, 'kvs-webrtc.node');

  it('are made by prebuildify for this platform, stripped and self-contained', () => {
    expect(built.status, `${String(built.stdout)}${String(built.stderr)}`).toBe(0);
    expect(fs.existsSync(prebuilt())).toBe(true);
    const sections = execFileSync('readelf', ['-S', prebuilt()], { encoding: 'utf8' });
    expect(sections).not.toMatch(/\.symtab/);
    const defined = execFileSync('nm', ['-D', '--defined-only', prebuilt()], { encoding: 'utf8' });
    expect(defined.trim().split('\n')).toHaveLength(2);
  });

  it('are what node-gyp-build loads when there is no local build', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        "const b = require('node-gyp-build'); console.log(b.path('.')); " +
          "console.log(b('.').selfTest('AEAD_AES_128_GCM').dtlsVersion)",
      ],
      { cwd: copy, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([prebuilt(), 'DTLSv1.2']);
  });

  it("make the package's install hook a no-op", () => {
    const r = spawnSync(process.execPath, ['scripts/install.mjs'], { cwd: copy, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/building/);
  });
});
