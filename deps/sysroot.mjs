// The target's OpenSSL for a cross build: Debian's libssl-dev and libssl3 for that
// architecture, fetched through the private apt configuration and unpacked with dpkg-deb
// into a folder of the cache. Nothing is installed: the machine's dpkg database and apt
// sources never see a foreign architecture, and the version is the target's own newest
// (multi-arch co-installation would force one version on every architecture, which the
// mirrors do not always have: build-facts.md).
import fs from 'node:fs';
import path from 'node:path';
import { privateApt } from './private-apt.mjs';
import { cacheRoot, TARGETS } from '../scripts/lib/paths.mjs';
import { log, run } from '../scripts/lib/run.mjs';

const SUITE = 'bookworm';
const PACKAGES = ['libssl-dev', 'libssl3'];
// Security updates reach a cross build within a day; within that window builds reuse the
// index (and so the same OpenSSL) without asking the archive.
const INDEX_MAX_AGE_MS = 24 * 3600 * 1000;

/** The private binary index for a Debian architecture, shared with scripts/lib/debian-node. */
export function binaryApt(debianArch) {
  return privateApt({
    dir: path.join(cacheRoot(), 'apt-bin', debianArch),
    suite: SUITE,
    kind: 'deb',
    arch: debianArch,
  });
}

/** Downloads `specs` (name=version) and unpacks them into `dest`; apt checks the hashes. */
export function unpackDebs(apt, specs, dest) {
  const debs = path.join(dest, '.debs');
  fs.mkdirSync(debs, { recursive: true });
  apt.download(specs, debs);
  for (const deb of fs.readdirSync(debs).sort()) {
    run('dpkg-deb', ['-x', path.join(debs, deb), dest]);
  }
  fs.rmSync(debs, { recursive: true, force: true });
}

/**
 * Returns { root, triplet, opensslVersion } of the OpenSSL sysroot for `target`, an entry
 * `<cache>/sysroot/<target>-<version>` made once per Debian version.
 */
export function ensureTargetSysroot(target) {
  const { debianArch, triplet } = TARGETS[target];
  const apt = binaryApt(debianArch);
  apt.updateIfOlderThan(INDEX_MAX_AGE_MS);
  let version = apt.candidate('libssl-dev');
  if (!version) {
    apt.update();
    version = apt.candidate('libssl-dev');
  }
  if (!version) throw new Error(`no libssl-dev for ${debianArch} in Debian ${SUITE}`);

  const root = path.join(cacheRoot(), 'sysroot', `${target}-${version.replace(/[^\w.+-]/g, '_')}`);
  const result = { root, triplet, opensslVersion: version };
  if (fs.existsSync(path.join(root, '.complete'))) return result;

  log(`fetching Debian's OpenSSL ${version} for ${debianArch} (private sysroot)`);
  const tmp = `${root}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  unpackDebs(
    apt,
    PACKAGES.map((p) => `${p}:${debianArch}=${version}`),
    tmp,
  );
  for (const f of [
    `usr/lib/${triplet}/libcrypto.a`,
    `usr/lib/${triplet}/libssl.a`,
    'usr/include/openssl/ssl.h',
    `usr/include/${triplet}/openssl/configuration.h`,
  ]) {
    if (!fs.existsSync(path.join(tmp, f))) {
      throw new Error(`the ${debianArch} OpenSSL packages have no ${f}`);
    }
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${PACKAGES.join(' ')} ${version}\n`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(tmp, root);
  return result;
}
