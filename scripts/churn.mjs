#!/usr/bin/env node
// Churn: one Master streams the sample media through the embedded local KVS service (loopback
// host candidates only, no TURN) while native Viewers join and leave: --viewers slots, each
// of which, until the time is up, waits a random join delay, connects a new viewer (a fresh
// client id), keeps it for a random stay and closes it. The delays come from a seeded
// generator (--seed), so a run can be replayed. The master stays up throughout. Not part of
// `npm test`.
//
//   npm run churn -- [--minutes 20] [--viewers 5] [--seed 1] [--warmup 1] [--settle 15]
//                    [--join-min 1] [--join-max 5] [--stay-min 2] [--stay-max 10] [--json]
//                    [--quiet-every M]
//
// Resources are measured at two quiet points, with no viewer: the baseline after a warm-up of
// churn (--warmup minutes: the allocator's arenas, JIT code and OpenSSL's tables fill once),
// and the end, after all viewers left; each after the master's viewer count reached 0 and a
// settle period (--settle seconds). At each, RSS is the median of 5 readings 1 s apart, each
// after a full garbage collection; descriptors and handles are the largest of those readings.
// --quiet-every M adds such a quiet point every M minutes of churn after the baseline and
// prints it, to see whether RSS levels off or keeps rising; the criteria stay as below.
// Pass criteria:
// - RSS at the end at most 5% above the baseline;
// - open descriptors and active handles at the end no more than at the baseline;
// - the master's viewer count is 0 at the end, and every viewer left within --settle seconds;
// - every viewer connected, and every viewer that stayed received at least one video frame;
// - no crash (the process is still here to print this).
// Exit 0 when every criterion holds, 1 with the failing criteria named, 2 on a setup failure.
import {
  Viewer,
  median,
  mb,
  parseArgs,
  sampleResources,
  seededRandom,
  sleep,
  startStreamingMaster,
} from './reliability-common.mjs';
import { writeHeapSnapshot } from 'node:v8';

const opts = parseArgs(process.argv.slice(2), {
  minutes: 20,
  viewers: 5,
  seed: 1,
  warmup: 1,
  settle: 15,
  interval: 10,
  'join-min': 1,
  'join-max': 5,
  'stay-min': 2,
  'stay-max': 10,
  json: false,
  // Heap snapshots at the baseline and at the end (churn-baseline/end.heapsnapshot in the
  // current directory), to tell what a JS heap growth is made of.
  snapshots: false,
  'quiet-every': 0,
});
if (!(opts.minutes > opts.warmup)) throw new Error('--minutes must be more than --warmup');
if (!Number.isInteger(opts.viewers) || opts.viewers < 1 || opts.viewers > 20) {
  throw new Error('--viewers must be an integer 1..20');
}
if (opts['join-max'] < opts['join-min'] || opts['stay-max'] < opts['stay-min']) {
  throw new Error('--join-max/--stay-max must not be below --join-min/--stay-min');
}
const log = opts.json ? () => undefined : (line) => console.log(line);
const random = seededRandom(opts.seed);
const between = (lo, hi) => (lo + random() * (hi - lo)) * 1000;
const failures = [];

// Closed viewers' sessions end on the master a poll later (about 1 s): room for both.
const stream = await startStreamingMaster({
  viewers: 2 * opts.viewers,
  maxViewers: 2 * opts.viewers + 2,
});
const { master, common } = stream;

const counts = { joined: 0, connected: 0, left: 0, connectFailed: 0, noFrame: 0 };
const leftReasons = {};
master.on('viewerleft', (_id, reason) => {
  leftReasons[reason] = (leftReasons[reason] ?? 0) + 1;
});
master.on('viewerrefused', (id) => failures.push(`viewer ${id}: refused by the master`));
let active = 0;

/** One slot: viewers one after another until `until` (performance.now() ms). */
async function slot(index, until) {
  for (;;) {
    await sleep(between(opts['join-min'], opts['join-max']));
    if (performance.now() >= until) return;
    const v = new Viewer({ ...common, clientId: `churn-${index}-${counts.joined + 1}` });
    counts.joined++;
    active++;
    try {
      await v.connect();
      counts.connected++;
      await sleep(between(opts['stay-min'], opts['stay-max']));
      if ((v.counters?.framesReceived.video ?? 0) === 0) {
        counts.noFrame++;
        failures.push(`viewer ${v.clientId}: no video frame during its stay`);
      }
    } catch (e) {
      counts.connectFailed++;
      failures.push(`viewer ${v.clientId}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await v.close();
      active--;
      counts.left++;
    }
  }
}

let phase = 'warm-up';
const t0 = performance.now();
const status = setInterval(() => {
  const r = sampleResources();
  const s = Math.round((performance.now() - t0) / 1000);
  log(
    `${String(s).padStart(6)} ${phase.padEnd(8)} ${mb(r.rss).padStart(8)} ${String(r.fds).padStart(4)} ` +
      `${String(r.handles).padStart(8)} ${String(active).padStart(6)} ${String(master.viewers.size).padStart(7)} ` +
      `${String(counts.joined).padStart(7)} ${String(counts.left).padStart(6)}`,
  );
}, opts.interval * 1000);

async function churnFor(ms) {
  const until = performance.now() + ms;
  await Promise.all(Array.from({ length: opts.viewers }, (_, i) => slot(i + 1, until)));
}

/** Waits for the master's viewer count to reach 0 (bounded), settles, and measures. */
async function quietPoint(name) {
  const deadline = performance.now() + opts.settle * 1000;
  while (master.viewers.size > 0 && performance.now() < deadline) await sleep(200);
  if (master.viewers.size > 0) {
    failures.push(
      `${name}: the master still has ${master.viewers.size} viewer sessions ${opts.settle} s after the last left`,
    );
  }
  await sleep(opts.settle * 1000);
  const readings = [];
  for (let i = 0; i < 5; i++) {
    readings.push(sampleResources());
    await sleep(1000);
  }
  if (opts.snapshots && name !== 'quiet')
    writeHeapSnapshot(`churn-${name === 'end' ? 'end' : 'baseline'}.heapsnapshot`);
  return {
    rss: median(readings.map((x) => x.rss)),
    heap: median(readings.map((x) => x.heap)),
    heapTotal: median(readings.map((x) => x.heapTotal)),
    code: median(readings.map((x) => x.code)),
    anon: median(readings.map((x) => x.anon)),
    external: median(readings.map((x) => x.external)),
    fds: Math.max(...readings.map((x) => x.fds)),
    handles: Math.max(...readings.map((x) => x.handles)),
    masterViewers: master.viewers.size,
  };
}

log(
  `churn: ${opts.minutes} min (warm-up ${opts.warmup}), ${opts.viewers} slots, seed ${opts.seed}, ` +
    `join every ${opts['join-min']}-${opts['join-max']} s, stay ${opts['stay-min']}-${opts['stay-max']} s`,
);
log('     s phase      rss MB  fds  handles active  master  joined   left');
const start0 = sampleResources();
await churnFor(opts.warmup * 60_000);
phase = 'settle';
const baseline = await quietPoint('warm-up');
log(
  `baseline: rss ${mb(baseline.rss)} MB (anonymous ${mb(baseline.anon)}, JS heap ${mb(baseline.heap)} of ${mb(baseline.heapTotal)}, code ${mb(baseline.code)}, external ${mb(baseline.external)}), fds ${baseline.fds}, handles ${baseline.handles}`,
);
phase = 'churn';
const joinedBefore = counts.joined;
const quiet = [];
const churnMs = (opts.minutes - opts.warmup) * 60_000;
const stepMs = opts['quiet-every'] > 0 ? opts['quiet-every'] * 60_000 : churnMs;
for (let done = stepMs; done < churnMs; done += stepMs) {
  await churnFor(stepMs);
  phase = 'settle';
  const q = await quietPoint('quiet');
  const at = opts.warmup + done / 60_000;
  quiet.push({ atMinutes: at, ...q });
  log(
    `quiet at ${at} min: rss ${mb(q.rss)} MB (anonymous ${mb(q.anon)}, JS heap ${mb(q.heap)} of ${mb(q.heapTotal)}, code ${mb(q.code)})`,
  );
  phase = 'churn';
}
await churnFor(churnMs - stepMs * quiet.length);
phase = 'settle';
const end = await quietPoint('end');
clearInterval(status);

if (end.rss > baseline.rss * 1.05) {
  failures.push(
    `rss: ${mb(baseline.rss)} -> ${mb(end.rss)} MB (+${(((end.rss - baseline.rss) / baseline.rss) * 100).toFixed(1)}%; limit 5%)`,
  );
}
if (end.fds > baseline.fds) failures.push(`fds: ${baseline.fds} -> ${end.fds}`);
if (end.handles > baseline.handles) failures.push(`handles: ${baseline.handles} -> ${end.handles}`);
if (end.masterViewers !== 0)
  failures.push(`master: ${end.masterViewers} viewer sessions at the end`);
if (counts.joined - joinedBefore === 0) failures.push('no viewer joined after the warm-up');

await stream.stop();
const summary = {
  ok: failures.length === 0,
  failures,
  minutes: opts.minutes,
  warmupMinutes: opts.warmup,
  slots: opts.viewers,
  seed: opts.seed,
  viewers: { ...counts, afterWarmup: counts.joined - joinedBefore },
  masterLeftReasons: leftReasons,
  start: start0,
  baseline,
  quiet,
  end,
  rssGrowth: (end.rss - baseline.rss) / baseline.rss,
};
if (opts.json) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  log(
    `end: rss ${mb(end.rss)} MB (${(summary.rssGrowth * 100).toFixed(2)}% from the baseline; ` +
      `anonymous ${mb(end.anon)}, JS heap ${mb(end.heap)} of ${mb(end.heapTotal)}, code ${mb(end.code)}, external ${mb(end.external)}), ` +
      `fds ${end.fds}, handles ${end.handles}, master viewers ${end.masterViewers}`,
  );
  log(
    `viewers: ${counts.joined} joined (${summary.viewers.afterWarmup} after the warm-up), ` +
      `${counts.connected} connected, ${counts.connectFailed} failed, ${counts.left} left; ` +
      `master saw ${JSON.stringify(leftReasons)}`,
  );
  log(summary.ok ? 'churn: PASS' : `churn: FAIL\n  ${failures.join('\n  ')}`);
}
process.exit(summary.ok ? 0 : 1);
