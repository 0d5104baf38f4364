// Debian's own Node.js 18 (bookworm), unpacked into the cache without installing it, so the
// tests can load the addon on the oldest Node the package supports.
import fs from 'node:fs';
import path from 'node:path';
import { privateApt } from '../../deps/private-apt.mjs';
import { cacheRoot } from './paths.mjs';
import { run, log } from './run.mjs';

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

  const apt = privateApt({
    dir: path.join(cacheRoot(), 'apt-bin', arch),
    suite: 'bookworm',
    kind: 'deb',
    arch,
  });
  const nodeVersion = apt.require('nodejs', (v) => v.startsWith('18.'));
  log(`fetching Debian's nodejs ${nodeVersion} (${arch})`);
  const tmp = `${root}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const debs = path.join(tmp, 'debs');
  fs.mkdirSync(debs, { recursive: true });
  apt.download(
    PACKAGES.map((p) => (p === 'nodejs' ? `nodejs=${nodeVersion}` : p)),
    debs,
  );
  for (const deb of fs.readdirSync(debs)) run('dpkg-deb', ['-x', path.join(debs, deb), tmp]);
  fs.rmSync(debs, { recursive: true, force: true });
  fs.writeFileSync(path.join(tmp, '.complete'), `${nodeVersion}\n`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(tmp, root);
  return result;
}
