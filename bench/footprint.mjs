#!/usr/bin/env node
// What a stack costs a process: the time `require` takes, and the peak RSS (VmHWM) with the
// library loaded, with 1 connection and with 10 connections, for kvs-webrtc and, in the same
// run, node-datachannel, @roamhq/wrtc and werift. Every measurement is a fresh child process
// (the median of several is shown).
//
// - "loaded": `node -e "require(<the package>)"`, nothing else, against bare `node -e ""`.
// - A "connection" is one connected pair, both ends in the process, each end with one open
//   transceiver (video, sendrecv): kvs-webrtc has no data channels yet, so every stack gets a
//   transceiver instead. The connection children load this benchmark's harness
//   (bench/lib/stacks.mjs, ESM), the same for every stack. Each stack is configured as in
//   stacks.mjs: kvs-webrtc, node-datachannel and werift on loopback host candidates,
//   @roamhq/wrtc on the namespace address (libwebrtc never gathers loopback).
//
// Run it with bench/run.sh (root: a private network namespace), like the connect benchmark:
//   bench/run.sh bench/footprint.mjs [--repeat 3] [--only kvs,ndc,wrtc,werift]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STACKS } from './lib/stacks.mjs';

const LOOPBACK = '127.0.0.1';
const NAMESPACE_ADDRESS = '10.99.0.1';
const SETTLE_MS = 1000;

// The require child: CommonJS, nothing loaded but the package (and, for kvs-webrtc's
// "with addon" row, its addon through versions()).
const REQUIRE_CHILD = `
const t0 = performance.now();
const c0 = process.cpuUsage();
const m = process.argv[1] ? require(process.argv[1]) : undefined;
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
if (process.argv[2] === 'addon') m.versions();
const s = require('fs').readFileSync('/proc/self/status', 'utf8');
const hwm = Number(/^VmHWM:\\s+(\\d+)/m.exec(s)[1]) / 1024;
console.log(JSON.stringify({ requireMs: ms, requireCpuMs: (cpu.user + cpu.system) / 1000, hwmMb: hwm }));
`;

async function connectionChild(key, n) {
  const pairs = [];
  if (key !== 'none') {
    const stack = STACKS[key];
    const address = stack.needsNonLoopback ? NAMESPACE_ADDRESS : LOOPBACK;
    for (let i = 0; i < n; i++) pairs.push(await stack.pair(address));
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const s = readFileSync('/proc/self/status', 'utf8');
  const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(s)[1]) / 1024;
  for (const p of pairs) await p.close();
  process.stdout.write(`${JSON.stringify({ hwmMb: hwm })}\n`);
  process.exit(0);
}

function spawnJson(args) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  const line = r.stdout.trim().split('\n').at(-1);
  if (r.status !== 0 || !line?.startsWith('{')) {
    process.stderr.write(
      `${args.slice(-3).join(' ')}: failed (${r.status}): ${r.stderr.slice(-400)}\n`,
    );
    return undefined;
  }
  return JSON.parse(line);
}

function median(runs, field) {
  const v = runs
    .filter((r) => r?.[field] !== undefined)
    .map((r) => r[field])
    .sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : undefined;
}

function repeatRuns(n, make) {
  return Array.from({ length: n }, make);
}

function main() {
  const argv = process.argv.slice(2);
  const arg = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const repeat = Number(arg('repeat', '3'));
  const only = arg('only', 'kvs,ndc,wrtc,werift').split(',');
  const self = fileURLToPath(import.meta.url);
  const requireRuns = (mod, extra = []) =>
    repeatRuns(Math.max(repeat, 5), () => spawnJson(['-e', REQUIRE_CHILD, mod, ...extra]));
  const connRuns = (key, n) =>
    repeatRuns(repeat, () => spawnJson([self, '--child', key, String(n)]));

  const bare = median(requireRuns(''), 'hwmMb');
  const harness = median(connRuns('none', 0), 'hwmMb');
  const rows = [];
  for (const key of only) {
    const stack = STACKS[key];
    if (!stack) throw new Error(`unknown stack ${key}`);
    const loaded = requireRuns(stack.module);
    const row = {
      name: stack.name,
      requireMs: median(loaded, 'requireMs'),
      requireCpuMs: median(loaded, 'requireCpuMs'),
      loaded: median(loaded, 'hwmMb'),
      addon: key === 'kvs' ? median(requireRuns(stack.module, ['addon']), 'hwmMb') : undefined,
      one: median(connRuns(key, 1), 'hwmMb'),
      ten: median(connRuns(key, 10), 'hwmMb'),
    };
    row.perConnection =
      row.one !== undefined && row.ten !== undefined ? (row.ten - row.one) / 9 : undefined;
    rows.push(row);
  }
  const f = (n, d = 1) => (n === undefined ? '-' : n.toFixed(d));
  console.log(
    `bare node ${process.version}: peak RSS ${f(bare)} MB; the connection harness alone: ${f(harness)} MB`,
  );
  console.log(
    'stack              require ms  (cpu ms)  loaded MB  1 conn MB  10 conn MB  per added conn MB',
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(18)} ${f(r.requireMs).padStart(10)} ${`(${f(r.requireCpuMs)})`.padStart(9)} ` +
        `${f(r.loaded).padStart(10)} ${f(r.one).padStart(10)} ${f(r.ten).padStart(11)} ` +
        `${f(r.perConnection, 2).padStart(18)}`,
    );
  }
  const kvs = rows.find((r) => r.name === 'kvs-webrtc');
  if (kvs?.addon !== undefined)
    console.log(
      `\nkvs-webrtc loads its addon on first use; with it loaded (versions()): ${f(kvs.addon)} MB`,
    );
  console.log('peak RSS (VmHWM), median of fresh processes; a connection is a connected pair');
  process.exit(0);
}

if (process.argv[2] === '--child') await connectionChild(process.argv[3], Number(process.argv[4]));
else main();
