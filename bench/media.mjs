#!/usr/bin/env node
// Media throughput: 100 KB H.264 frames (real ones, bench/lib/h264-frames.mjs) from a sender
// process to a receiver process over loopback, SRTP all the way, for kvs-webrtc and, in the
// same run, node-datachannel and werift, each configured at its best (bench/lib/media-stacks.mjs
// says how, and why). Run with bench/run.sh (root: a private network namespace):
//
//   bench/run.sh bench/media.mjs [--frames 2000] [--window 8,16,32] [--runs 3]
//                                [--only kvs,ndc,werift] [--address 127.0.0.1]
//
// Per run: two fresh processes, connected; a warm-up of 100 frames; then `--frames` frames
// written as fast as the receiver takes them, with at most `--window` frames written ahead of
// the newest whole frame the receiver has (it reports every 4 frames, through this process):
// without such a bound every stack drops datagrams in the kernel once the receiver falls
// behind. Measured:
//   frames/s       whole frames received / (last whole frame - first write)
//   sender CPU     process.cpuUsage() of the sender over the phase / frames written (all its
//                  threads: JS, and the native network thread)
//   receiver CPU   the same in the receiver / whole frames received
//   RSS            each process's RSS at the end of the phase minus its RSS with the library
//                  loaded and no connection: what one streaming connection costs each side
// The median run of each stack is shown (by frames/s), with the ratios to node-datachannel.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchFrames, benchStreamPath } from './lib/h264-frames.mjs';
import { MEDIA_STACKS } from './lib/media-stacks.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const FRAMES = Number(arg('frames', '2000'));
// Each stack runs with each window; its best (by median frames/s) is the one reported.
const WINDOWS = arg('window', '8,16,32').split(',').map(Number);
const PROGRESS = Number(arg('progress', '4'));
// The receiver reports every PROGRESS frames: a smaller window would wait for a report that
// only comes after the quiet period, and measure that wait instead of the stack.
if (WINDOWS.some((w) => !(w >= PROGRESS))) {
  console.error(`--window: each window must be at least --progress (${PROGRESS})`);
  process.exit(2);
}
const RUNS = Number(arg('runs', '3'));
// werift is left out by default: its receiver, as configured, loses whole frames at these
// rates and every window then waits out the quiet period (about 2 frames/s); run it with
// `--only werift --frames 100` to see that.
const ONLY = arg('only', 'kvs,ndc').split(',');
const ADDRESS = arg('address', '127.0.0.1');
const WARMUP = 100;
const QUIET_MS = 3000; // a phase ends when the receiver has everything, or is quiet this long
const PEER = fileURLToPath(new URL('./lib/media-peer.mjs', import.meta.url));

const streamFile = benchStreamPath();
const frameSizes = benchFrames(streamFile).map((f) => f.length);
const meanKb = frameSizes.reduce((a, b) => a + b, 0) / frameSizes.length / 1000;

function child(stack, role) {
  const c = fork(PEER, [stack, role, ADDRESS, streamFile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = [];
  c.on('message', (m) => {
    for (const w of [...waiters]) {
      if (w.type === m.type) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
    c.emit('kvs-message', m);
  });
  c.next = (type, ms = 20_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${stack} ${role}: no ${type}`)), ms);
      waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  return c;
}

/** Runs one phase: frames [from, from + count) and waits for the receiver. */
async function phase(sender, receiver, from, count, window) {
  const last = from + count - 1;
  receiver.send({ type: 'arm', last, progressEvery: PROGRESS });
  await receiver.next('armed');
  let highest = -1;
  let lastProgressAt = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const onProgress = (m) => {
    if (m.type !== 'progress') return;
    highest = Math.max(highest, m.highest);
    lastProgressAt = performance.now();
    sender.send({ type: 'ack', highest });
    if (highest >= last) done();
  };
  receiver.on('kvs-message', onProgress);
  const t0 = performance.now();
  const sent = sender.next('sent', 600_000);
  sender.send({ type: 'send', from, count, window });
  const quiet = setInterval(() => {
    const since = lastProgressAt || t0;
    if (performance.now() - since > QUIET_MS) done();
  }, 100);
  await finished;
  clearInterval(quiet);
  if (highest < last) sender.send({ type: 'stop' });
  receiver.off('kvs-message', onProgress);
  const s = await sent;
  receiver.send({ type: 'report' });
  const r = await receiver.next('report');
  sender.send({ type: 'rss' });
  const senderRss = (await sender.next('rss')).rss;
  const seconds = ((lastProgressAt || performance.now()) - t0) / 1000;
  return { seconds, sent: s, received: r, senderRss };
}

async function runOnce(key, window) {
  const sender = child(key, 'sender');
  const receiver = child(key, 'receiver');
  try {
    const [sl, rl] = await Promise.all([sender.next('loaded'), receiver.next('loaded')]);
    sender.on('kvs-message', (m) => m.type === 'signal' && receiver.send(m));
    receiver.on('kvs-message', (m) => m.type === 'signal' && sender.send(m));
    const connected = Promise.all([sender.next('connected'), receiver.next('connected')]);
    sender.send({ type: 'start' });
    receiver.send({ type: 'start' });
    const [sc, rc] = await connected;
    await phase(sender, receiver, 0, WARMUP, window);
    const p = await phase(sender, receiver, WARMUP, FRAMES, window);
    return {
      window,
      fps: p.received.whole / p.seconds,
      whole: p.received.whole,
      lost: FRAMES - p.received.whole,
      refused: p.sent.refused,
      windowTimeouts: p.sent.timeouts,
      senderCpuMs: p.sent.cpuMs / p.sent.written,
      receiverCpuMs: p.received.cpuMs / Math.max(1, p.received.whole),
      senderRssMb: (p.senderRss - sl.rss) / 1048576,
      receiverRssMb: (p.received.rss - rl.rss) / 1048576,
      senderConnectedRssMb: (sc.rss - sl.rss) / 1048576,
      receiverConnectedRssMb: (rc.rss - rl.rss) / 1048576,
      receiverMemory: p.received.memory,
      mbitps: (p.received.bytes * 8) / p.seconds / 1e6,
    };
  } finally {
    for (const c of [sender, receiver]) {
      if (c.connected) c.send({ type: 'exit' });
    }
    await Promise.all(
      [sender, receiver].map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  }
}

// Interleaved (run by run, stack by stack, window by window), so that a machine that gets
// busier or quieter during the benchmark weighs on every stack alike.
const results = new Map(ONLY.map((k) => [k, new Map(WINDOWS.map((w) => [w, []]))]));
for (const key of ONLY) if (!MEDIA_STACKS[key]) throw new Error(`unknown stack ${key}`);
for (let i = 0; i < RUNS; i++) {
  for (const key of ONLY) {
    for (const w of WINDOWS) {
      try {
        const r = await runOnce(key, w);
        results.get(key).get(w).push(r);
        if (process.env.BENCH_VERBOSE) {
          process.stderr.write(
            `${MEDIA_STACKS[key].name} window ${w} run ${i} ${JSON.stringify(r)}\n`,
          );
        }
      } catch (err) {
        process.stderr.write(`${MEDIA_STACKS[key].name} window ${w} run ${i}: ${err.message}\n`);
      }
    }
  }
}
const medianOf = (runs) => [...runs].sort((a, b) => a.fps - b.fps)[Math.floor(runs.length / 2)];
const rows = ONLY.map((key) => {
  const byWindow = [...results.get(key)].map(([w, runs]) => ({
    w,
    median: medianOf(runs),
    n: runs.length,
  }));
  const best = byWindow.filter((x) => x.median).sort((a, b) => b.median.fps - a.median.fps)[0];
  return {
    key,
    name: MEDIA_STACKS[key].name,
    config: MEDIA_STACKS[key].config,
    byWindow,
    median: best?.median,
  };
});

const f = (n, d = 1) => (n === undefined ? '-' : n.toFixed(d));
const base = rows.find((r) => r.key === 'ndc')?.median;
console.log(
  `${FRAMES} H.264 frames of ${f(meanKb)} KB (mean) one way, sender and receiver in two processes ` +
    `on ${ADDRESS}; median of ${RUNS} runs at each stack's best window (frames ahead)`,
);
console.log(
  'stack              window  frames/s  (vs ndc)  Mbit/s  lost  sender ms/frame  (vs ndc)  ' +
    'receiver ms/frame  (vs ndc)  sender RSS MB  receiver RSS MB',
);
for (const r of rows) {
  const m = r.median;
  if (!m) {
    console.log(`${r.name.padEnd(18)} all runs failed`);
    continue;
  }
  const ratio = (x, y) => (base && y ? `${(x / y).toFixed(2)}x` : '-');
  console.log(
    `${r.name.padEnd(18)} ${String(m.window).padStart(6)} ${f(m.fps).padStart(9)} ${ratio(m.fps, base?.fps).padStart(9)} ` +
      `${f(m.mbitps, 0).padStart(7)} ${String(m.lost).padStart(5)} ` +
      `${f(m.senderCpuMs, 3).padStart(16)} ${ratio(m.senderCpuMs, base?.senderCpuMs).padStart(9)} ` +
      `${f(m.receiverCpuMs, 3).padStart(18)} ${ratio(m.receiverCpuMs, base?.receiverCpuMs).padStart(9)} ` +
      `${f(m.senderRssMb).padStart(14)} ${f(m.receiverRssMb).padStart(16)}`,
  );
}
console.log('\nframes/s (median) by window:');
console.log(`stack              ${WINDOWS.map((w) => String(w).padStart(8)).join('')}`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(18)} ${r.byWindow.map((x) => f(x.median?.fps).padStart(8)).join('')}`,
  );
}
console.log(
  'RSS: each process at the end of the run minus its RSS with the library loaded; once ' +
    'connected, before streaming:',
);
for (const r of rows) {
  const m = r.median;
  if (m) {
    console.log(
      `  ${r.name.padEnd(18)} sender ${f(m.senderConnectedRssMb)} MB, receiver ${f(m.receiverConnectedRssMb)} MB`,
    );
  }
}
console.log('\nconfigurations:');
for (const r of rows) console.log(`  ${r.name.padEnd(18)} ${r.config}`);
process.exit(0);
