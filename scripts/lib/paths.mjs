import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Cache shared by every checkout on the machine, so a second build reuses the deps. */
export function cacheRoot() {
  if (process.env.KVS_WEBRTC_CACHE_DIR) return path.resolve(process.env.KVS_WEBRTC_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kvs-webrtc');
}

/** Node's names for the architectures we build (process.arch values). */
export const TARGETS = {
  x64: { triplet: 'x86_64-linux-gnu', debianArch: 'amd64', cmakeProcessor: 'x86_64' },
  arm64: { triplet: 'aarch64-linux-gnu', debianArch: 'arm64', cmakeProcessor: 'aarch64' },
  arm: { triplet: 'arm-linux-gnueabihf', debianArch: 'armhf', cmakeProcessor: 'armv7l' },
};

export function targetFromArgs(argv, fallback = process.arch) {
  const i = argv.indexOf('--target');
  const t = i >= 0 ? argv[i + 1] : (process.env.KVS_WEBRTC_TARGET ?? fallback);
  if (!t || !(t in TARGETS)) {
    throw new Error(
      `unknown target ${JSON.stringify(t)}; expected one of ${Object.keys(TARGETS).join(', ')}`,
    );
  }
  return t;
}
