#!/usr/bin/env node
// `npm test`: every stage in order, stopping at the first failure, each one timed, so that a
// slow or stuck CI run says where its time went. A stage past its bound is stopped (its whole
// process group) and fails the run with its name: a run that stops itself with a reason beats
// one that the CI time limit cuts off in silence.
//
//   node scripts/test.mjs [--from <stage>]
// Uses Node built-ins only: the first stage installs everything else.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './lib/paths.mjs';

const node = process.execPath;
const script = (name) => path.join(ROOT, 'scripts', name);
const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// Bounds are several times what each stage takes cold on a loaded 2-core machine; they are
// there to end a hang, not to judge speed.
const MIN = 60_000;
const STAGES = [
  {
    name: 'setup',
    cmd: node,
    args: [script('setup.mjs'), '--test', '--prebuild'],
    bound: 40 * MIN,
  },
  { name: 'prebuild', cmd: node, args: [script('prebuild.mjs'), '--no-setup'], bound: 25 * MIN },
  { name: 'lint', cmd: npm, args: ['run', '--silent', 'lint'], bound: 10 * MIN },
  { name: 'cpp-tests', cmd: node, args: [script('run-cpp-tests.mjs')], bound: 25 * MIN },
  { name: 'sanitized', cmd: node, args: [script('test-sanitized.mjs')], bound: 20 * MIN },
  { name: 'fuzz', cmd: node, args: [script('fuzz.mjs'), '--native'], bound: 15 * MIN },
  { name: 'vitest', cmd: node, args: [vitest, 'run'], bound: 45 * MIN },
];

const fromIndex = process.argv.indexOf('--from');
const from = fromIndex >= 0 ? process.argv[fromIndex + 1] : STAGES[0].name;
const first = STAGES.findIndex((s) => s.name === from);
if (first < 0) {
  process.stderr.write(`--from: no stage "${from}" (${STAGES.map((s) => s.name).join(', ')})\n`);
  process.exit(2);
}

const log = (msg) => process.stderr.write(`[kvs-webrtc test] ${new Date().toISOString()} ${msg}\n`);
const secs = (ms) => `${(ms / 1000).toFixed(0)} s`;

function runStage(stage) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Its own process group, so that a stop reaches every process it started.
    const child = spawn(stage.cmd, stage.args, { cwd: ROOT, stdio: 'inherit', detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      log(`${stage.name}: still running after ${secs(stage.bound)}, its bound: stopping it`);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 10_000).unref();
    }, stage.bound);
    const forward = (sig) => {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      const ms = Date.now() - started;
      const ok = code === 0 && !timedOut;
      resolve({
        name: stage.name,
        ms,
        ok,
        why: timedOut ? 'timed out' : (signal ?? `exit ${code}`),
      });
    });
  });
}

const results = [];
for (const stage of STAGES.slice(first)) {
  log(`${stage.name}: starting`);
  const r = await runStage(stage);
  results.push(r);
  log(`${stage.name}: ${r.ok ? 'passed' : `FAILED (${r.why})`} in ${secs(r.ms)}`);
  if (!r.ok) break;
}
const total = results.reduce((a, r) => a + r.ms, 0);
log(
  `stages: ${results.map((r) => `${r.name} ${secs(r.ms)}${r.ok ? '' : ' FAILED'}`).join(', ')}; total ${secs(total)}`,
);
process.exit(results.every((r) => r.ok) && results.length === STAGES.length - first ? 0 : 1);
