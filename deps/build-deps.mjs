#!/usr/bin/env node
// Builds libsrtp2 (on OpenSSL, for AES-GCM) and usrsctp from Debian's source packages as
// static PIC archives with hidden symbols, per target, into a cache that later builds reuse.
//
//   node deps/build-deps.mjs [--target x64|arm64|arm] [--print-prefix]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianSource } from './debian-source.mjs';
import { ensureTargetSysroot } from './sysroot.mjs';
import { cacheRoot, isCross, ROOT, TARGETS, targetFromArgs } from '../scripts/lib/paths.mjs';
import { have, run, log } from '../scripts/lib/run.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(fs.readFileSync(path.join(HERE, 'manifest.json'), 'utf8'));

// Flags shared by both libraries: position-independent (they end up in a shared object),
// hidden (so they never interpose with Node's own copies), sections for --gc-sections.
function commonCmakeArgs(prefix) {
  return [
    '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_INSTALL_PREFIX=${prefix}`,
    '-DCMAKE_INSTALL_LIBDIR=lib',
    '-DCMAKE_POSITION_INDEPENDENT_CODE=ON',
    '-DCMAKE_C_VISIBILITY_PRESET=hidden',
    '-DCMAKE_C_FLAGS=-ffunction-sections -fdata-sections',
    '-DBUILD_SHARED_LIBS=OFF',
  ];
}

const RECIPES = {
  libsrtp2: (prefix) => [
    ...commonCmakeArgs(prefix),
    '-DENABLE_OPENSSL=ON',
    '-DOPENSSL_USE_STATIC_LIBS=TRUE',
    '-DTEST_APPS=OFF',
  ],
  // Data channels run SCTP over DTLS through AF_CONN only: no kernel-address support needed.
  usrsctp: (prefix) => [
    ...commonCmakeArgs(prefix),
    '-Dsctp_build_programs=OFF',
    '-Dsctp_build_shared_lib=OFF',
    '-Dsctp_werror=OFF',
    '-Dsctp_debug=OFF',
    '-Dsctp_inet=OFF',
    '-Dsctp_inet6=OFF',
  ],
};

/**
 * How CMake builds for `target`: nothing extra natively; for a cross target, the toolchain
 * file (cmake/) with the target's OpenSSL sysroot. Shared by the deps and the addon.
 */
export function targetToolchain(target) {
  if (!isCross(target)) {
    return { cmakeArgs: [], compiler: 'cc', opensslVersion: hostOpensslVersion(), files: [] };
  }
  const { cross, triplet } = TARGETS[target];
  if (!cross || process.arch !== 'x64') {
    throw new Error(`cross-building for ${target} is supported on x64 hosts only`);
  }
  const compiler = `${triplet}-gcc`;
  if (!have(compiler) || !have(`${triplet}-g++`)) {
    throw new Error(
      `${compiler} is missing: run \`node scripts/setup.mjs --prebuild\` (as root) or ` +
        `apt-get install ${cross.compilerPackage}`,
    );
  }
  const sysroot = ensureTargetSysroot(target);
  const toolchainFile = path.join(ROOT, cross.toolchainFile);
  return {
    cmakeArgs: [`-DCMAKE_TOOLCHAIN_FILE=${toolchainFile}`, `-DKVS_TARGET_SYSROOT=${sysroot.root}`],
    compiler,
    opensslVersion: sysroot.opensslVersion,
    files: [toolchainFile, path.join(path.dirname(toolchainFile), 'linux-cross.cmake')],
  };
}

/** The Debian version of the host's libssl-dev, whose static archives a native build links. */
function hostOpensslVersion() {
  try {
    return run('dpkg-query', ['-W', '-f=${Version}', 'libssl-dev']).trim();
  } catch {
    return 'unknown (not a Debian system)';
  }
}

/**
 * Identifies a build: manifest, recipes, toolchain files, compiler and the OpenSSL its
 * headers come from. A change makes a new cache entry.
 */
function buildKey(target, toolchain) {
  const h = crypto.createHash('sha256');
  h.update(fs.readFileSync(path.join(HERE, 'manifest.json')));
  h.update(fs.readFileSync(fileURLToPath(import.meta.url)));
  for (const f of toolchain.files) h.update(fs.readFileSync(f));
  h.update(run(toolchain.compiler, ['--version']).split('\n')[0] ?? '');
  h.update(`openssl ${toolchain.opensslVersion}`);
  h.update(target);
  return h.digest('hex').slice(0, 12);
}

/**
 * Returns { prefix, reused, toolchain } for `target`: the cached build of the deps, and the
 * CMake arguments (toolchain file, OpenSSL sysroot) the addon build needs for the same target.
 */
export function ensureDeps({ target = process.arch } = {}) {
  const cache = cacheRoot();
  const toolchain = targetToolchain(target);
  const prefix = path.join(cache, 'deps', `${target}-${buildKey(target, toolchain)}`);
  if (fs.existsSync(path.join(prefix, '.complete'))) return { prefix, reused: true, toolchain };

  const staging = `${prefix}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const versions = {};
  for (const [name, pkg] of Object.entries(manifest.packages)) {
    const src = ensureDebianSource({ cache, suite: manifest.debianSuite, ...pkg });
    const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), `kvs-${name}-`));
    try {
      log(`building ${name} ${pkg.version} for ${target} (static, PIC, hidden)`);
      run('cmake', ['-S', src, '-B', buildDir, ...toolchain.cmakeArgs, ...RECIPES[name](staging)]);
      run('cmake', ['--build', buildDir, '--parallel', '2']);
      run('cmake', ['--install', buildDir]);
    } finally {
      fs.rmSync(buildDir, { recursive: true, force: true });
    }
    versions[name] = pkg.version;
  }
  versions.target = target;
  versions.openssl = toolchain.opensslVersion;
  fs.writeFileSync(path.join(staging, 'versions.json'), `${JSON.stringify(versions, null, 2)}\n`);
  fs.writeFileSync(path.join(staging, '.complete'), '');
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.renameSync(staging, prefix);
  return { prefix, reused: false, toolchain };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const target = targetFromArgs(process.argv.slice(2));
  const { prefix, reused } = ensureDeps({ target });
  if (process.argv.includes('--print-prefix')) console.log(prefix);
  else log(`deps for ${target} ${reused ? 'reused from' : 'built into'} ${prefix}`);
}
