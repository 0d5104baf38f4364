#!/usr/bin/env node
// One-step set-up of a checkout, idempotent and quiet when nothing is missing:
//   1. Debian packages (installed when run as root on Debian or Ubuntu, otherwise the exact
//      command is printed): what the build and the demo need (npm start: the compilers,
//      libssl-dev, coturn...); with --test also what only the tests need (Chromium,
//      clang-format, doctest, iproute2, iptables); with --prebuild also the cross compilers
//      and qemu-user that the arm64/armv7 prebuilt binaries and their check need (npm test
//      asks for both, npm run prebuild for the second, npm start for neither);
//   2. npm ci, when package-lock.json changed since the last run;
//   3. the native build (deps cached per target) and the TypeScript build;
//   4. with --prebuild, Debian's arm64 and armhf node for the ARM check, into the cache.
// Uses Node built-ins only: it runs before node_modules exists.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/paths.mjs';
import { have, log, run } from './lib/run.mjs';

// What building the addon and running the demo need (npm start).
export const DEBIAN_PACKAGES = [
  'cmake',
  'ninja-build',
  'g++',
  'make',
  'pkg-config',
  'libssl-dev', // static libssl.a / libcrypto.a linked into the addon
  'libuv1-dev', // uv.h (the addon uses the libuv Node exports; the C++ tests link this one)
  'dpkg-dev', // dpkg-source unpacks the libsrtp2 and usrsctp source packages
  'xz-utils',
  'debian-archive-keyring',
  'coturn', // the local service's TURN relay (the demo's --relay, and its TURN servers)
];

// What only the tests add (npm test: setup.mjs --test).
export const TEST_PACKAGES = [
  'doctest-dev', // C++ unit tests
  'clang-format', // C++ formatting check in npm run lint
  'chromium', // interop tests against a real browser (driven by playwright-core)
  'ffmpeg', // the media suites decode what arrived with ffmpeg/ffprobe
  'iproute2', // network namespaces for the browser interop tests and the benchmark
  'iptables', // NAT routers staged in network namespaces
  'clang', // the libFuzzer targets (scripts/fuzz.mjs)
  'libclang-rt-14-dev', // libFuzzer and the sanitizer runtimes for clang
];

// What `npm run prebuild` adds: Debian's cross compilers (the target's OpenSSL is not
// installed: deps/sysroot.mjs unpacks it privately) and qemu-user for the ARM check.
export const PREBUILD_PACKAGES = [
  'g++-aarch64-linux-gnu',
  'g++-arm-linux-gnueabihf',
  'qemu-user', // runs Debian's arm64 and armhf node on the prebuilt binaries (test/arm)
];

const wanted = [
  ...DEBIAN_PACKAGES,
  ...(process.argv.includes('--test') ? TEST_PACKAGES : []),
  ...(process.argv.includes('--prebuild') ? PREBUILD_PACKAGES : []),
];

function missingDebianPackages() {
  return wanted.filter((pkg) => {
    try {
      return !run('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg]).includes('installed');
    } catch {
      return true;
    }
  });
}

function installDebianPackages() {
  if (!have('dpkg-query') || !have('apt-get')) {
    log(`not a Debian-family system: install the equivalents of: ${wanted.join(' ')}`);
    return;
  }
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    log(`missing Debian packages. Run as root:\n  sudo sh -c '${command}'`);
    process.exit(1);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

function installNodeModules() {
  const lock = path.join(ROOT, 'package-lock.json');
  const stamp = path.join(ROOT, 'node_modules', '.kvs-webrtc-lock-sha256');
  const hash = crypto.createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) return;
  log('installing node modules (npm ci)');
  // The package's own install script would build too early: this script builds next.
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: ROOT,
    env: { ...process.env, KVS_WEBRTC_SKIP_INSTALL_BUILD: '1' },
  });
  fs.writeFileSync(stamp, hash);
}

function build() {
  // No C++ unit tests in this build: npm test builds and runs them under ASan and UBSan
  // (scripts/run-cpp-tests.mjs), and compiling them twice cost about two minutes of the set-up.
  run(process.execPath, [path.join(ROOT, 'scripts', 'build-native.mjs'), '--no-tests'], {
    cwd: ROOT,
  });
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT });
}

/**
 * The ARM check (test/arm) runs Debian's arm64 and armhf node under qemu-user: fetched
 * here, into the cache, so the tests themselves never reach Debian's archive.
 */
async function fetchArmNodes() {
  const { ensureDebianNode18 } = await import('./lib/debian-node.mjs');
  const { TARGETS } = await import('./lib/paths.mjs');
  for (const t of ['arm64', 'arm']) {
    ensureDebianNode18({ arch: TARGETS[t].debianArch, triplet: TARGETS[t].triplet });
  }
}

try {
  installDebianPackages();
  installNodeModules();
  build();
  if (process.argv.includes('--prebuild') && process.arch === 'x64') await fetchArmNodes();
} catch (err) {
  log(`setup failed: ${err.message}`);
  process.exit(1);
}
