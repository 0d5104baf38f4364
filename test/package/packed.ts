import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/root.js';

/** The prebuilt binaries `npm run prebuild` makes, by Node's arch name. */
export const PREBUILDS = {
  x64: 'prebuilds/linux-x64/kvs-webrtc.node',
  arm64: 'prebuilds/linux-arm64/kvs-webrtc.node',
  arm: 'prebuilds/linux-arm/kvs-webrtc.armv7.node',
} as const;

export interface Packed {
  tarball: string;
  /** Paths inside the tarball, without the leading "package/". */
  files: string[];
  /** The tarball unpacked: the package as npm installs it. */
  dir: string;
}

/** `npm pack` of the checkout into `dest`, listed and unpacked. */
export function packCheckout(dest: string): Packed {
  const out = execFileSync(
    'npm',
    ['pack', '--json', '--silent', '--pack-destination', dest, '--ignore-scripts'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed no result: ${out}`);
  const tarball = path.join(dest, info.filename);
  const dir = path.join(dest, 'unpacked');
  fs.mkdirSync(dir);
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  return { tarball, files: info.files.map((f) => f.path), dir: path.join(dir, 'package') };
}

/**
 * A project that depends on the tarball alone, with a lockfile made from the checkout's
 * (its non-dev entries), so `npm ci --offline` installs it from npm's cache: the test
 * reaches no registry.
 */
export function scratchProject(dir: string, tarball: string): void {
  const repoLock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Record<string, unknown>>;
  };
  const root = repoLock.packages[''] ?? {};
  const file = path.basename(tarball);
  fs.copyFileSync(tarball, path.join(dir, file));
  const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
  const dependencies = { 'kvs-webrtc': `file:${file}` };
  const packages: Record<string, Record<string, unknown>> = {
    '': { name: 'scratch', version: '1.0.0', dependencies },
    'node_modules/kvs-webrtc': {
      version: root.version,
      resolved: `file:${file}`,
      integrity,
      hasInstallScript: true,
      license: root.license,
      os: root.os,
      engines: root.engines,
      bin: root.bin,
      dependencies: root.dependencies,
    },
  };
  for (const [key, entry] of Object.entries(repoLock.packages)) {
    if (!key || entry.dev) continue;
    const copy = { ...entry };
    if (copy.devOptional) {
      delete copy.devOptional;
      copy.optional = true;
    }
    packages[key] = copy;
  }
  // npm 11 runs a dependency's install script only when the project allows it; older npm
  // always runs it. Allowing it tests the hook as every npm would run it.
  const allowScripts = { [`file:${path.join(dir, file)}`]: true };
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      { name: 'scratch', version: '1.0.0', private: true, dependencies, allowScripts },
      null,
      2,
    ),
  );
  fs.writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify(
      { name: 'scratch', version: '1.0.0', lockfileVersion: 3, requires: true, packages },
      null,
      2,
    ),
  );
}
