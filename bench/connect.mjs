#!/usr/bin/env node
// createOffer → both sides connected, in one process, for kvs-webrtc and its peers, measured
// in the same run and reported as ratios. Each stack is configured at its best and wired the
// same way (bench/lib/stacks.mjs says how, and why). Run with bench/run.sh, which puts the
// whole process in a private network namespace whose only address (10.99.0.1) it makes
// itself: every stack gathers that address and no packet can reach a real interface.
//
//   node bench/connect.mjs [--runs 50] [--address 10.99.0.1] [--only kvs,ndc,werift,wrtc]
//
// Besides the median, p90 and max, it counts the runs over 500 ms and gives the median of
// the others: node-datachannel's connections are bimodal (see stacks.mjs), and one median
// alone hides that.
import { STACKS } from './lib/stacks.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', '50'));
const ADDRESS = arg('address', '10.99.0.1');
const ONLY = arg('only', 'kvs,ndc,werift,wrtc').split(',');
const SLOW_MS = 500;

function quantile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summary(times) {
  const s = [...times].sort((x, y) => x - y);
  const fast = s.filter((t) => t < SLOW_MS);
  return {
    median: quantile(s, 0.5),
    p90: quantile(s, 0.9),
    max: s[s.length - 1],
    slow: s.length - fast.length,
    fastMedian: fast.length ? quantile(fast, 0.5) : undefined,
  };
}

const results = [];
for (const key of ONLY) {
  const stack = STACKS[key];
  if (!stack) throw new Error(`unknown stack ${key}`);
  const times = [];
  let failures = 0;
  // Warm-up: module loading, the first certificate.
  await stack.pair(ADDRESS).then(
    (p) => p.close(),
    () => {},
  );
  for (let i = 0; i < RUNS; i++) {
    try {
      const p = await stack.pair(ADDRESS);
      times.push(p.ms);
      await p.close();
      if (process.env.BENCH_VERBOSE)
        process.stderr.write(`${stack.name} ${i} ${p.ms.toFixed(1)}\n`);
    } catch (err) {
      failures++;
      if (process.env.BENCH_VERBOSE) process.stderr.write(`${stack.name} ${i} ${err.message}\n`);
    }
  }
  results.push({
    key,
    name: stack.name,
    config: stack.config(ADDRESS),
    runs: RUNS,
    failures,
    ...summary(times),
  });
}

const base = results.find((r) => r.key === 'kvs');
const fmt = (n) => (n === undefined ? '-' : n.toFixed(1));
console.log(`createOffer -> both connected, host candidates on ${ADDRESS}, ${RUNS} runs each`);
console.log(
  'stack              median ms  p90 ms   max ms  >500ms  median<500  failed  median vs kvs-webrtc',
);
for (const r of results) {
  const ratio = base && r.median !== undefined ? `${(r.median / base.median).toFixed(1)}x` : '-';
  console.log(
    `${r.name.padEnd(18)} ${fmt(r.median).padStart(9)} ${fmt(r.p90).padStart(7)} ${fmt(r.max).padStart(8)} ` +
      `${String(r.slow).padStart(7)} ${fmt(r.fastMedian).padStart(11)} ${String(r.failures).padStart(7)}  ${ratio}`,
  );
}
console.log('\nconfigurations:');
for (const r of results) console.log(`  ${r.name.padEnd(18)} ${r.config}`);
process.exit(0);
