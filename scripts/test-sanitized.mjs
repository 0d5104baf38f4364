#!/usr/bin/env node
// Runs JavaScript suites against the addon built under AddressSanitizer and UBSan (the
// sanitizer build that scripts/run-cpp-tests.mjs makes): connections, media, data channels
// and Master/Viewer sessions with several viewers, made and torn down for real. Node itself
// is not instrumented, so the sanitizer runtime is preloaded. Any report fails the run.
//
//   node scripts/test-sanitized.mjs [vitest files...]
// Leak detection is off: Node keeps allocations on purpose at exit, and LeakSanitizer would
// report them all; the C++ tests check leaks, and test/peer/boundary.test.ts checks that
// closed connections are collected. alloc_dealloc_mismatch is off for node-datachannel,
// whose own addon frees with free() what it allocated with new.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, SANITIZED_ADDON } from './lib/paths.mjs';
import { log, run } from './lib/run.mjs';

const SUITES = [
  'test/peer/boundary.test.ts',
  'test/media/loopback.test.ts',
  'test/media/pitfalls.test.ts',
  'test/datachannel/loopback.test.ts',
  'test/datachannel/robustness.test.ts',
  'test/datachannel/vanish.test.ts',
  'test/metrics/live.test.ts',
  'test/session/media.test.ts', // one master, three viewers, one leaving: multi-viewer teardown
  'test/interop/node-datachannel-media.test.ts',
];

if (!fs.existsSync(SANITIZED_ADDON)) {
  throw new Error(`${SANITIZED_ADDON} is missing: node scripts/run-cpp-tests.mjs makes it`);
}
const runtime = run('gcc', ['-print-file-name=libasan.so']).trim();
if (!path.isAbsolute(runtime) || !fs.existsSync(runtime)) {
  throw new Error(`gcc does not know where its libasan.so is (${runtime})`);
}
const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-sanitized-'));
const files = process.argv.slice(2);
log(
  `JavaScript suites against the sanitizer build of the addon (${path.relative(ROOT, SANITIZED_ADDON)})`,
);
const res = spawnSync(
  process.execPath,
  [
    path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    ...(files.length ? files : SUITES),
  ],
  {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 20 * 60_000,
    killSignal: 'SIGKILL',
    env: {
      ...process.env,
      KVS_WEBRTC_NATIVE_ADDON: SANITIZED_ADDON,
      LD_PRELOAD: runtime,
      // A report goes to a file too: a worker that dies of one has no stderr anyone reads.
      ASAN_OPTIONS: `detect_leaks=0:halt_on_error=1:alloc_dealloc_mismatch=0:log_path=${reports}/asan`,
      UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${reports}/ubsan`,
    },
  },
);
const found = fs.readdirSync(reports);
for (const f of found) {
  process.stderr.write(`\n==== ${f}\n${fs.readFileSync(path.join(reports, f), 'utf8')}`);
}
fs.rmSync(reports, { recursive: true, force: true });
if (res.error) throw new Error(`vitest: ${res.error.message}`);
if (found.length > 0) {
  log(`the sanitizers reported ${found.length} time(s): see above`);
  process.exit(1);
}
if (res.status !== 0) process.exit(res.status ?? 1);
log('the JavaScript suites passed against the sanitizer build, with no report');
