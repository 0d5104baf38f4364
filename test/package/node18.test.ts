import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';

// The package promises Node 18.17+. Debian bookworm's own nodejs 18 is unpacked into the
// cache (not installed); it looks for its externalised builtins in /usr/share/nodejs, which a
// private mount namespace overlays for the child alone, leaving the machine untouched.
interface DebianNode {
  root: string;
  node: string;
  libDir: string;
}

let debianNode: DebianNode;
let consumer = '';

beforeAll(() => {
  const fetch = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { ensureDebianNode18 } from ${JSON.stringify(path.join(ROOT, 'scripts/lib/debian-node.mjs'))};` +
        'console.log(JSON.stringify(ensureDebianNode18()));',
    ],
    { encoding: 'utf8' },
  );
  expect(fetch.status, fetch.stderr).toBe(0);
  debianNode = JSON.parse(fetch.stdout) as DebianNode;
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-node18-'));
  fs.mkdirSync(path.join(consumer, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(consumer, 'node_modules', 'kvs-webrtc'), 'dir');
}, 180_000);

afterAll(() => {
  if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
});

function node18(args: string[]) {
  const share = path.join(debianNode.root, 'usr', 'share');
  const script =
    `mount -t overlay overlay -o lowerdir="${share}":/usr/share /usr/share && ` +
    `exec "${debianNode.node}" "$@"`;
  return spawnSync('unshare', ['--mount', 'sh', '-c', script, 'node18', ...args], {
    cwd: consumer,
    encoding: 'utf8',
    env: { ...process.env, LD_LIBRARY_PATH: debianNode.libDir },
  });
}

describe("on Debian's Node 18", () => {
  it('is really Node 18', () => {
    const r = node18(['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^v18\.\d+\.\d+$/);
  });

  it('require() loads the addon and the self-test passes', () => {
    const r = node18([
      '-e',
      "const k = require('kvs-webrtc'); console.log(k.versions().openssl, k.selfTest().length)",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^OpenSSL 3\.\S+ .* 3$/);
  });

  it('import works, named exports included', () => {
    const r = node18([
      '--input-type=module',
      '-e',
      "import { versions } from 'kvs-webrtc'; console.log(versions().libsrtp2)",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^libsrtp2 2\./);
  });
});
