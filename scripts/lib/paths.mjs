import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The AddressSanitizer and UBSan build: the C++ tests and the addon (scripts/run-cpp-tests.mjs). */
export const SANITIZED_BUILD = path.join(ROOT, 'build', 'sanitize');
export const SANITIZED_ADDON = path.join(SANITIZED_BUILD, 'RelWithDebInfo', 'kvs_webrtc.node');

/** Cache shared by every checkout on the machine, so a second build reuses the deps. */
export function cacheRoot() {
  if (process.env.KVS_WEBRTC_CACHE_DIR) return path.resolve(process.env.KVS_WEBRTC_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kvs-webrtc');
}

/**
 * Node's names for the architectures we build (process.arch values), with what building
 * and running for each needs. `cross` is set for the targets built with Debian's cross
 * compilers on an x64 host: the compiler package, the CMake toolchain file (cmake/), the
 * qemu-user program that runs the target's binaries, and the prebuildify flags that give
 * node-gyp-build's file names.
 */
export const TARGETS = {
  x64: {
    triplet: 'x86_64-linux-gnu',
    debianArch: 'amd64',
    cmakeProcessor: 'x86_64',
    elfMachine: 'Advanced Micro Devices X86-64',
    prebuildDir: 'linux-x64',
    prebuildFile: 'kvs-webrtc.node',
    prebuildifyArgs: ['--arch', 'x64'],
  },
  arm64: {
    triplet: 'aarch64-linux-gnu',
    debianArch: 'arm64',
    cmakeProcessor: 'aarch64',
    elfMachine: 'AArch64',
    prebuildDir: 'linux-arm64',
    prebuildFile: 'kvs-webrtc.node',
    prebuildifyArgs: ['--arch', 'arm64'],
    cross: {
      compilerPackage: 'g++-aarch64-linux-gnu',
      toolchainFile: 'cmake/toolchain-linux-arm64.cmake',
      qemu: 'qemu-aarch64',
    },
  },
  // armv7-a, hard-float (Debian's armhf): Raspberry Pi 2 and later, most ARM camera boards.
  arm: {
    triplet: 'arm-linux-gnueabihf',
    debianArch: 'armhf',
    cmakeProcessor: 'armv7l',
    elfMachine: 'ARM',
    prebuildDir: 'linux-arm',
    prebuildFile: 'kvs-webrtc.armv7.node',
    prebuildifyArgs: ['--arch', 'arm', '--armv', '7', '--tag-armv'],
    cross: {
      compilerPackage: 'g++-arm-linux-gnueabihf',
      toolchainFile: 'cmake/toolchain-linux-arm.cmake',
      qemu: 'qemu-arm',
    },
  },
};

/** The targets built for this host: its own architecture natively, the others crossed. */
export function isCross(target) {
  return target !== process.arch;
}

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
