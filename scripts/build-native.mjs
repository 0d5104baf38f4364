#!/usr/bin/env node
// Builds the addon: the static deps (cached per target), then cmake-js in pure N-API mode.
//
//   node scripts/build-native.mjs [--target x64|arm64|arm] [--out build] [--tests|--no-tests]
//                                 [--werror|--no-werror] [--verbose]
// Development checkouts (with test/cpp) build the C++ unit tests too, and use -Werror.
// A cross target (arm64, arm on an x64 host) builds with its toolchain file (cmake/) and
// the target's OpenSSL sysroot, never the C++ tests (they could not run here).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ensureDeps } from '../deps/build-deps.mjs';
import { isCross, ROOT, targetFromArgs } from './lib/paths.mjs';
import { run } from './lib/run.mjs';

const argv = process.argv.slice(2);
const target = targetFromArgs(argv);
const outIndex = argv.indexOf('--out');
const out = path.resolve(ROOT, outIndex >= 0 ? argv[outIndex + 1] : 'build');
const devCheckout = fs.existsSync(path.join(ROOT, 'test', 'cpp'));
const tests =
  !isCross(target) && (argv.includes('--tests') || (devCheckout && !argv.includes('--no-tests')));
const werror = argv.includes('--werror') || (devCheckout && !argv.includes('--no-werror'));
const quiet = !argv.includes('--verbose');

const { prefix, toolchain } = ensureDeps({ target });
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
const options = [
  `--CDKVS_DEPS_PREFIX=${prefix}`,
  `--CDKVS_BUILD_TESTS=${tests ? 'ON' : 'OFF'}`,
  `--CDKVS_WERROR=${werror ? 'ON' : 'OFF'}`,
  ...toolchain.cmakeArgs.map((a) => a.replace(/^-D/, '--CD')),
  '--arch',
  target,
  '--out',
  out,
  '--parallel',
  '2',
];
// `build` configures once and then only recompiles what changed; a different deps prefix
// (a changed recipe) needs a fresh configure.
const cache = path.join(out, 'CMakeCache.txt');
const configuredPrefix = fs.existsSync(cache)
  ? fs.readFileSync(cache, 'utf8').match(/^KVS_DEPS_PREFIX:PATH=(.*)$/m)?.[1]
  : undefined;
if (configuredPrefix !== undefined && configuredPrefix !== prefix) {
  fs.rmSync(cache, { force: true });
}
run(process.execPath, [cmakeJs, 'build', ...options, ...(quiet ? ['--log-level', 'warn'] : [])], {
  cwd: ROOT,
  quiet,
});
