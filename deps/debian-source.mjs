// Fetches Debian source packages (with Debian's patches applied by dpkg-source) into the
// cache, through a private apt configuration.
import fs from 'node:fs';
import path from 'node:path';
import { privateApt } from './private-apt.mjs';
import { log } from '../scripts/lib/run.mjs';

/**
 * Returns the path of the unpacked, patched source tree of `source=version`, fetching it
 * once into `<cache>/src`.
 */
export function ensureDebianSource({ cache, suite, source, version, dir }) {
  const srcRoot = path.join(cache, 'src', `${source}_${version}`);
  const tree = path.join(srcRoot, dir);
  if (fs.existsSync(path.join(srcRoot, '.complete'))) return tree;

  const apt = privateApt({ dir: path.join(cache, 'apt-src'), suite, kind: 'deb-src' });
  apt.require(source, (v) => v === version);
  log(`fetching Debian source ${source} ${version}`);
  const tmp = `${srcRoot}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // apt verifies the .dsc against the signed index; dpkg-source checks the tarballs against
  // the .dsc and applies debian/patches.
  apt.source(`${source}=${version}`, tmp);
  if (!fs.existsSync(path.join(tmp, dir))) {
    throw new Error(`apt-get source ${source}=${version} did not produce ${dir}/`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${source} ${version}\n`);
  fs.rmSync(srcRoot, { recursive: true, force: true });
  fs.renameSync(tmp, srcRoot);
  return tree;
}
