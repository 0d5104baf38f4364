// Debian's own Node.js 18 (bookworm), unpacked into the cache without installing it: the
// tests load the addon on the oldest Node the package supports, and run Debian's arm64
// and armhf node under qemu-user on the ARM prebuilt binaries.
import fs from 'node:fs';
import path from 'node:path';
import { binaryApt, unpackDebs } from '../../deps/sysroot.mjs';
import { cacheRoot } from './paths.mjs';
import { log } from './run.mjs';

// nodejs and what it needs beyond a base system, plus the builtins Debian externalises to
// /usr/share/nodejs.
const PACKAGES = [
  'nodejs',
  'libnode108',
  'libc-ares2',
  'node-cjs-module-lexer',
  'node-acorn',
  'node-undici',
  'node-busboy',
  'node-xtend',
];
// For another architecture, the base system too: qemu-user runs the program with this
// folder as its root for libraries (-L), loader and C library included.
const FOREIGN_PACKAGES = [
  'libc6',
  'libgcc-s1',
  'libstdc++6',
  'libssl3',
  'libuv1',
  'zlib1g',
  'libbrotli1',
  'libicu72',
  'libnghttp2-14',
];

/** Returns { root, node, libDir, shareDir } of an unpacked Debian Node 18 for `arch`. */
export function ensureDebianNode18({ arch = 'amd64', triplet = 'x86_64-linux-gnu' } = {}) {
  const root = path.join(cacheRoot(), 'debian-node18', arch);
  const result = {
    root,
    node: path.join(root, 'usr', 'bin', 'node'),
    libDir: path.join(root, 'usr', 'lib', triplet),
    shareDir: path.join(root, 'usr', 'share', 'nodejs'),
  };
  if (fs.existsSync(path.join(root, '.complete'))) return result;

  const apt = binaryApt(arch);
  const nodeVersion = apt.require('nodejs', (v) => v.startsWith('18.'));
  log(`fetching Debian's nodejs ${nodeVersion} (${arch})`);
  const tmp = `${root}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const packages = arch === 'amd64' ? PACKAGES : [...PACKAGES, ...FOREIGN_PACKAGES];
  unpackDebs(
    apt,
    packages.map((p) => (p === 'nodejs' ? `nodejs=${nodeVersion}` : p)),
    tmp,
  );
  fs.writeFileSync(path.join(tmp, '.complete'), `${nodeVersion}\n`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(tmp, root);
  return result;
}
