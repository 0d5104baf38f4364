#!/usr/bin/env node
// Runs the core's C++ unit tests: the build from `npm run build:native`, then the same tests
// under AddressSanitizer and UndefinedBehaviorSanitizer (skip with KVS_SKIP_SANITIZERS=1).
import fs from 'node:fs';
import path from 'node:path';
import { ensureDeps } from '../deps/build-deps.mjs';
import { createRequire } from 'node:module';
import { ROOT, SANITIZED_BUILD } from './lib/paths.mjs';
import { run, log } from './lib/run.mjs';

// The plain build's tests, when it has them (`npm run build:native` in a checkout builds them;
// the set-up's build does not, so in npm test they run under the sanitizers only).
const tests = path.join(ROOT, 'build', 'kvs_core_tests');
if (fs.existsSync(tests)) run(tests, [], { quiet: false });
else if (process.env.KVS_SKIP_SANITIZERS === '1') {
  throw new Error(`${tests} is missing and KVS_SKIP_SANITIZERS=1: run npm run build:native`);
}

if (process.env.KVS_SKIP_SANITIZERS !== '1') {
  const { prefix } = ensureDeps({ target: process.arch });
  const dir = SANITIZED_BUILD;
  // Through cmake-js, so that one sanitizer build gives both the C++ tests and the addon
  // (which scripts/test-sanitized.mjs runs the JavaScript suites against) from the same
  // objects. A build configured before this (plain CMake, no addon) is configured afresh.
  const cache = path.join(dir, 'CMakeCache.txt');
  if (fs.existsSync(cache) && !/^CMAKE_JS_VERSION/m.test(fs.readFileSync(cache, 'utf8'))) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (!fs.existsSync(cache)) log(`making the sanitizer build (${path.relative(ROOT, dir)})`);
  const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
  run(
    process.execPath,
    [
      cmakeJs,
      'build',
      '--config',
      'RelWithDebInfo',
      `--CDKVS_DEPS_PREFIX=${prefix}`,
      '--CDKVS_BUILD_TESTS=ON',
      '--CDKVS_WERROR=ON',
      '--CDKVS_SANITIZE=address,undefined',
      // -O1 and line tables only (what sanitizer reports need): the build costs about a
      // third less CPU than RelWithDebInfo's -O2 -g, and it is most of this stage.
      '--CDCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG',
      '--out',
      dir,
      '--parallel',
      '2',
      '--log-level',
      'warn',
    ],
    { cwd: ROOT },
  );
  run(path.join(dir, 'kvs_core_tests'), [], {
    quiet: false,
    env: {
      ...process.env,
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    },
  });
  log('C++ unit tests passed, also under AddressSanitizer and UBSan');
}
