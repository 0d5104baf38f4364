#!/usr/bin/env node
// Runs a command N times while K busy-looping processes compete for the cores, the way a
// shared 2-core CI machine starves the network thread, coturn and the test process. Prints
// pass/fail and the duration of every run; the output of each run goes to a log file.
//
//   node scripts/under-load.mjs [options] [test/file.test.ts | -- command args...]
//     --runs N        runs (default 5)
//     --busy K        busy-looping processes during the runs (default 3)
//     --run-timeout S a run still going after S seconds is killed and fails (default 300)
//     --budget S      no run starts after S seconds in all (default 3600)
//     --logs DIR      where run-<i>.log go (default a new directory under the temp dir)
//
// Without a command it runs `npx vitest run test/peer/relay.test.ts`; a lone path runs that
// vitest file. Busy loops are always killed on the way out (normal exit, errors, SIGINT,
// SIGTERM, SIGHUP), and each one also ends by itself when the budget is over or when this
// script is gone, so none outlives it even after a SIGKILL.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { ROOT } from './lib/paths.mjs';

function usage(message) {
  console.error(`under-load: ${message}`);
  console.error(
    'usage: node scripts/under-load.mjs [--runs N] [--busy K] [--run-timeout S] [--budget S] ' +
      '[--logs DIR] [test/file.test.ts | -- command args...]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { runs: 5, busy: 3, runTimeoutS: 300, budgetS: 3600, logs: '', command: [] };
  const numbers = {
    '--runs': 'runs',
    '--busy': 'busy',
    '--run-timeout': 'runTimeoutS',
    '--budget': 'budgetS',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.command = argv.slice(i + 1);
      break;
    }
    if (a in numbers) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) usage(`${a} wants a whole number`);
      o[numbers[a]] = v;
    } else if (a === '--logs') {
      o.logs = argv[++i] ?? usage('--logs wants a directory');
    } else if (a.startsWith('-')) {
      usage(`unknown option ${a}`);
    } else {
      o.command = ['npx', 'vitest', 'run', a];
    }
  }
  if (o.command.length === 0) o.command = ['npx', 'vitest', 'run', 'test/peer/relay.test.ts'];
  if (o.runs < 1 || o.runs > 1000) usage('--runs must be 1..1000');
  if (o.busy > 64) usage('--busy must be 0..64');
  if (o.runTimeoutS < 1 || o.budgetS < 1) usage('timeouts must be at least 1 s');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const startedAt = Date.now();
const deadline = startedAt + opts.budgetS * 1000;
const logDir = opts.logs || fs.mkdtempSync(path.join(os.tmpdir(), 'under-load-'));
fs.mkdirSync(logDir, { recursive: true });

// A busy loop that checks, every few million iterations, that the budget is not over and that
// its parent is still this process (an orphan is re-parented, so its ppid changes).
const busySource = `
const parent = ${process.pid}, end = ${deadline + 60_000};
let x = 0;
for (;;) {
  for (let i = 0; i < 5e6; i++) x = (x * 31 + i) | 0;
  if (process.ppid !== parent || Date.now() > end) process.exit(0);
}`;

const busy = [];
let current; // the running command's child (its own process group)

function killGroup(child, signal) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the command and everything it started
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function cleanup() {
  for (const b of busy) {
    if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
  }
  busy.length = 0;
  killGroup(current, 'SIGKILL');
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`under-load: ${signal}, stopping`);
    cleanup();
    process.exit(130);
  });
}
process.on('uncaughtException', (err) => {
  console.error(`under-load: ${err.stack ?? err}`);
  cleanup();
  process.exit(1);
});

function startBusy() {
  for (let i = 0; i < opts.busy; i++) {
    busy.push(spawn(process.execPath, ['-e', busySource], { stdio: 'ignore' }));
  }
}

function runOnce(index) {
  return new Promise((resolve) => {
    const logPath = path.join(logDir, `run-${index}.log`);
    const out = fs.openSync(logPath, 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(opts.command[0], opts.command.slice(1), {
      cwd: ROOT,
      stdio: ['ignore', out, out],
      detached: true, // its own process group, so a timeout kills coturn and workers too
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    current = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), 5000).unref();
    }, opts.runTimeoutS * 1000);
    const finish = (code, signal) => {
      clearTimeout(timer);
      fs.closeSync(out);
      // Whatever the command left behind in its group (a coturn, a worker) goes too.
      killGroup(child, 'SIGKILL');
      current = undefined;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ ok: code === 0 && !timedOut, code, signal, timedOut, seconds, logPath });
    };
    child.once('error', (err) => {
      fs.appendFileSync(logPath, `\nunder-load: ${err.message}\n`);
      finish(127, null);
    });
    child.once('exit', finish);
  });
}

console.log(
  `under-load: ${opts.runs} runs of \`${opts.command.join(' ')}\` with ${opts.busy} busy ` +
    `loops on ${os.cpus().length} cores; logs in ${logDir}`,
);
startBusy();
const results = [];
for (let i = 1; i <= opts.runs; i++) {
  if (Date.now() > deadline) {
    console.log(
      `under-load: budget of ${opts.budgetS} s used up; ${opts.runs - i + 1} runs not started`,
    );
    break;
  }
  const r = await runOnce(i);
  results.push(r);
  const why = r.timedOut
    ? 'killed after the run timeout'
    : r.signal
      ? `signal ${r.signal}`
      : `exit ${r.code}`;
  console.log(
    `run ${i}/${opts.runs}: ${r.ok ? 'pass' : 'FAIL'} ${r.seconds.toFixed(1)} s` +
      (r.ok ? '' : ` (${why}; ${r.logPath})`),
  );
}
cleanup();
const passed = results.filter((r) => r.ok).length;
const total = ((Date.now() - startedAt) / 1000).toFixed(0);
console.log(`under-load: ${passed}/${results.length} passed in ${total} s`);
process.exit(passed === results.length && results.length === opts.runs ? 0 : 1);
