#!/usr/bin/env node
// Runs the core's C++ unit tests: the build from `npm run build:native`, then the same tests
// under AddressSanitizer and UndefinedBehaviorSanitizer (skip with KVS_SKIP_SANITIZERS=1).
import fs from 'node:fs';
import path from 'node:path';
import { ensureDeps } from '../deps/build-deps.mjs';
import { ROOT } from './lib/paths.mjs';
import { run, log } from './lib/run.mjs';

const tests = path.join(ROOT, 'build', 'kvs_core_tests');
if (!fs.existsSync(tests)) {
  throw new Error(`${tests} is missing: run npm run build:native first`);
}
run(tests, [], { quiet: false });

if (process.env.KVS_SKIP_SANITIZERS !== '1') {
  const { prefix } = ensureDeps({ target: process.arch });
  const dir = path.join(ROOT, 'build', 'sanitize');
  if (!fs.existsSync(path.join(dir, 'CMakeCache.txt'))) {
    log('configuring the sanitizer build of the core tests (build/sanitize)');
    run('cmake', [
      '-S',
      ROOT,
      '-B',
      dir,
      '-G',
      'Ninja',
      '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
      `-DKVS_DEPS_PREFIX=${prefix}`,
      '-DKVS_BUILD_TESTS=ON',
      '-DKVS_WERROR=ON',
      '-DKVS_SANITIZE=address,undefined',
    ]);
  }
  run('cmake', ['--build', dir, '--parallel', '2']);
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
