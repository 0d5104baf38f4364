#!/usr/bin/env node
// Data-channel throughput, CPU and open time for kvs-webrtc and its peers, measured in the
// same run. Every pair is two processes, for every stack: this one (the offerer, which makes
// the channels and sends) and a child, bench/lib/dc-peer.mjs (the answerer, which receives),
// with signaling over IPC; bench/lib/dc-stacks.mjs says how each stack is configured, and why.
// Run it with bench/run.sh, which puts both in a private network namespace whose only
// address, 10.99.0.1, carries every connection:
//
//   bench/run.sh bench/datachannel.mjs [--runs 3] [--mib 64] [--only kvs,ndc,wrtc,werift]
//       [--message 16384] [--high 4194304] [--low 1048576] [--opens 20] [--ndc-defaults]
//
// Per stack:
// - throughput: `--mib` MiB in `--message`-byte binary messages on a fresh reliable, ordered
//   channel, sent with back-pressure (stop at `--high` bytes buffered, resume on the low
//   event at `--low`), from the first send to the receiver counting the last byte (its report
//   crosses IPC, well under a millisecond); MB/s is 10^6 bytes per second;
// - CPU: process.cpuUsage() (user + system, every thread) of each peer's process over the
//   transfer: seconds for the sender and the receiver, and their sum per MB in milliseconds;
// - open: createDataChannel -> `open` on the connected side that made it, and -> the other
//   side's datachannel event (a wall clock shared by both processes), the median of `--opens`
//   channels opened one after another.
// The transfer figures are the run with the median throughput of `--runs`.
import { fork } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { DC_STACKS } from './lib/dc-stacks.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', '3'));
const MIB = Number(arg('mib', '64'));
const MESSAGE = Number(arg('message', '16384'));
const HIGH = Number(arg('high', String(4 * 1024 * 1024)));
const LOW = Number(arg('low', String(1024 * 1024)));
const OPENS = Number(arg('opens', '20'));
const ADDRESS = arg('address', '10.99.0.1');
const ONLY = arg('only', 'kvs,ndc,wrtc,werift').split(',');
const OPTIONS = { ndcDefaults: argv.includes('--ndc-defaults') };
const TOTAL = MIB * 1024 * 1024;
const STEP_TIMEOUT_MS = 300_000;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'dc-peer.mjs');
const wall = () => performance.timeOrigin + performance.now();

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

function timeout(promise, what, ms = STEP_TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms);
    }),
  ]);
}

/** The receiving child: its events, awaited by predicate. */
function startChild(key) {
  const child = fork(CHILD, [key, ADDRESS, JSON.stringify(OPTIONS)], { stdio: 'inherit' });
  const events = [];
  const waiters = [];
  const signalListeners = [];
  child.on('message', (m) => {
    if (m.sig) {
      for (const f of signalListeners) f(m.sig);
      return;
    }
    events.push(m);
    for (const w of [...waiters]) {
      if (w.match(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const exited = new Promise((_, reject) =>
    child.on('exit', (code, signal) => reject(new Error(`receiver exited (${code ?? signal})`))),
  );
  exited.catch(() => {});
  return {
    child,
    signal: { send: (m) => child.send({ sig: m }), onMessage: (f) => signalListeners.push(f) },
    command: (m) => child.send(m),
    wait(match, what) {
      const found = events.find(match);
      if (found) {
        events.splice(events.indexOf(found), 1);
        return Promise.resolve(found);
      }
      return timeout(
        Promise.race([new Promise((resolve) => waiters.push({ match, resolve })), exited]),
        what,
      );
    },
  };
}

function transfer(sender) {
  const payload = Buffer.alloc(MESSAGE, 0x5a);
  const count = Math.ceil(TOTAL / MESSAGE);
  let sent = 0;
  let lows = 0;
  let failure;
  const pump = () => {
    try {
      while (sent < count && sender.bufferedAmount() < HIGH) {
        sender.send(payload);
        sent++;
      }
    } catch (err) {
      failure = err;
      return;
    }
    if (sent < count && sender.waitLow) {
      void sender.waitLow(LOW).then(() => {
        lows++;
        pump();
      });
    }
  };
  if (!sender.waitLow) {
    sender.setLowThreshold(LOW);
    sender.onLow(() => {
      lows++;
      pump();
    });
  }
  pump();
  return { failure: () => failure, lows: () => lows, count };
}

const results = [];
for (const key of ONLY) {
  const stack = DC_STACKS[key];
  if (!stack) throw new Error(`unknown stack ${key}`);
  const receiver = startChild(key);
  await receiver.wait((m) => m.ev === 'ready', `${stack.name} receiver start`);
  if (stack.prepare) await stack.prepare(ADDRESS);
  const peer = stack.peer(ADDRESS, receiver.signal, OPTIONS);
  try {
    await peer.start();
    await timeout(peer.connected, `${stack.name} connect`, 30_000);
    await receiver.wait((m) => m.ev === 'announced' && m.label === 'warm', 'warm-up channel');

    const opens = [];
    const announced = [];
    for (let i = 0; i < OPENS; i++) {
      const label = `open-${i}`;
      const t0 = wall();
      const c = peer.channel(label);
      await timeout(c.opened, `${label} open`, 30_000);
      opens.push(wall() - t0);
      const a = await receiver.wait((m) => m.ev === 'announced' && m.label === label, label);
      announced.push(a.at - t0);
    }

    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const label = `bulk-${r}`;
      const c = peer.channel(label);
      await timeout(c.opened, `${label} open`, 30_000);
      await receiver.wait((m) => m.ev === 'announced' && m.label === label, label);
      receiver.command({ cmd: 'expect', label, bytes: TOTAL });
      await receiver.wait((m) => m.ev === 'expecting' && m.label === label, 'expecting');
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const t = transfer(c.sender);
      const done = await receiver.wait(
        (m) => m.ev === 'done' && m.label === label,
        `${label} transfer`,
      );
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (t.failure()) throw t.failure();
      if (done.bytes !== TOTAL || done.messages !== t.count) {
        throw new Error(`${stack.name}: received ${done.messages} messages, ${done.bytes} bytes`);
      }
      const senderCpuS = (cpu.user + cpu.system) / 1e6;
      runs.push({ ms, mbps: TOTAL / 1e6 / (ms / 1000), senderCpuS, receiverCpuS: done.cpuS });
      if (process.env.BENCH_VERBOSE) {
        const x = runs.at(-1);
        process.stderr.write(
          `${stack.name} run ${r}: ${x.mbps.toFixed(1)} MB/s, CPU sender ${x.senderCpuS.toFixed(2)} s, ` +
            `receiver ${x.receiverCpuS.toFixed(2)} s, ${t.lows()} low events\n`,
        );
      }
    }
    const mid = [...runs].sort((x, y) => x.mbps - y.mbps)[Math.floor(runs.length / 2)];
    results.push({
      key,
      name: stack.name,
      config: stack.config(ADDRESS, OPTIONS),
      mbps: mid.mbps,
      senderCpuS: mid.senderCpuS,
      receiverCpuS: mid.receiverCpuS,
      cpuMsPerMB: ((mid.senderCpuS + mid.receiverCpuS) * 1000) / (TOTAL / 1e6),
      allMbps: runs.map((x) => x.mbps),
      openMs: median(opens),
      announcedMs: median(announced),
    });
  } finally {
    await peer.close();
    receiver.command({ cmd: 'bye' });
  }
}

const f1 = (n) => n.toFixed(1);
const f2 = (n) => n.toFixed(2);
console.log(
  `${MIB} MiB in ${MESSAGE}-byte messages, reliable and ordered; each pair in two processes ` +
    `(sender/offerer, receiver/answerer) on ${ADDRESS}; back-pressure at ${HIGH} bytes, ` +
    `resumed at ${LOW}; median of ${RUNS} runs; open: median of ${OPENS}`,
);
console.log(
  'stack              MB/s  runs (MB/s)         CPU s send  CPU s recv  CPU ms/MB  open ms  announced ms',
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(18)} ${f1(r.mbps).padStart(5)}  ${r.allMbps.map(f1).join(', ').padEnd(19)} ` +
      `${f2(r.senderCpuS).padStart(11)} ${f2(r.receiverCpuS).padStart(11)} ${f1(r.cpuMsPerMB).padStart(10)} ` +
      `${f2(r.openMs).padStart(8)} ${f2(r.announcedMs).padStart(13)}`,
  );
}
const base = results.find((r) => r.key === 'kvs');
const others = results.filter((r) => r.key !== 'kvs');
if (base && others.length > 0) {
  const fastest = others.reduce((x, y) => (y.mbps > x.mbps ? y : x));
  const leanest = others.reduce((x, y) => (y.cpuMsPerMB < x.cpuMsPerMB ? y : x));
  console.log(
    `\nkvs-webrtc vs the fastest other (${fastest.name}): ${f2(base.mbps / fastest.mbps)}x the throughput ` +
      `(target >= 2x); vs the leanest (${leanest.name}): ${f2(base.cpuMsPerMB / leanest.cpuMsPerMB)}x the CPU per MB (target <= 1x)`,
  );
}
console.log('\nconfigurations:');
for (const r of results) console.log(`  ${r.name.padEnd(18)} ${r.config}`);
if (argv.includes('--json')) console.log(JSON.stringify(results));
process.exit(0);
