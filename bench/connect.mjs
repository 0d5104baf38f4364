#!/usr/bin/env node
// createOffer → both sides connected, in one process, for kvs-webrtc and its peers, measured
// in the same run and reported as ratios. Run with bench/run.sh, which puts the whole process
// in a private network namespace whose only address (10.99.0.1) it makes itself: every stack
// gathers that address and no packet can reach a real interface.
//
//   node bench/connect.mjs [--runs 50] [--address 10.99.0.1] [--only kvs,ndc,werift,wrtc]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', '50'));
const ADDRESS = arg('address', '10.99.0.1');
const ONLY = arg('only', 'kvs,ndc,werift,wrtc').split(',');
const TIMEOUT_MS = 10_000;
// werift takes seconds per connection here; a few runs show that without a long wait.
const RUNS_FOR = { werift: Math.min(RUNS, 5) };

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out`)), TIMEOUT_MS);
    }),
  ]);
}

// Each stack: make(): a pair; connect(a, b): offer/answer with trickle, resolves when both
// report connected; close(a, b).
const stacks = {
  kvs: () => {
    const { PeerConnection } = require('../dist/index.js');
    const make = () => new PeerConnection({ interfaces: { only: [ADDRESS] } });
    const connected = (pc) =>
      new Promise((resolve, reject) =>
        pc.on('connectionstatechange', (s) =>
          s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
        ),
      );
    return {
      name: 'kvs-webrtc',
      async run() {
        const a = make();
        const b = make();
        const both = Promise.all([connected(a), connected(b)]);
        const wire = (from, to) => {
          const held = [];
          from.on('icecandidate', (c) => {
            if (!c) return;
            if (to.remoteDescription) void to.addIceCandidate(c.candidate);
            else held.push(c.candidate);
          });
          return () => held.splice(0).forEach((c) => void to.addIceCandidate(c));
        };
        const flushB = wire(a, b);
        const flushA = wire(b, a);
        await a.addTransceiver({ kind: 'video', direction: 'sendrecv' });
        const t0 = performance.now();
        const offer = await a.createOffer();
        await a.setLocalDescription(offer);
        await b.setRemoteDescription(offer);
        flushB();
        const answer = await b.createAnswer();
        await b.setLocalDescription(answer);
        await a.setRemoteDescription(answer);
        flushA();
        await withTimeout(both, 'kvs-webrtc');
        const ms = performance.now() - t0;
        await Promise.all([a.close(), b.close()]);
        return ms;
      },
    };
  },
  ndc: () => {
    const ndc = require('node-datachannel');
    const config = { iceServers: [], bindAddress: ADDRESS };
    return {
      name: 'node-datachannel',
      async run() {
        const a = new ndc.PeerConnection('a', config);
        const b = new ndc.PeerConnection('b', config);
        const connected = (pc) =>
          new Promise((resolve, reject) =>
            pc.onStateChange((s) =>
              s === 'connected'
                ? resolve()
                : s === 'failed'
                  ? reject(new Error('failed'))
                  : undefined,
            ),
          );
        const both = Promise.all([connected(a), connected(b)]);
        // libdatachannel refuses candidates until its ICE transport exists: retry briefly.
        let closed = false;
        const add = (to, c, mid, tries = 0) => {
          if (closed) return;
          try {
            to.addRemoteCandidate(c, mid);
          } catch (err) {
            if (tries < 200) setTimeout(() => add(to, c, mid, tries + 1), 1);
            else throw err;
          }
        };
        const wire = (from, to) => {
          from.onLocalCandidate((c, mid) => add(to, c, mid));
          from.onLocalDescription((sdp, type) => to.setRemoteDescription(sdp, type));
        };
        wire(a, b);
        wire(b, a);
        const video = new ndc.Video('0', 'SendRecv');
        video.addH264Codec(96);
        a.addTrack(video);
        const t0 = performance.now();
        a.setLocalDescription();
        await withTimeout(both, 'node-datachannel');
        const ms = performance.now() - t0;
        closed = true;
        a.close();
        b.close();
        return ms;
      },
    };
  },
  werift: () => {
    const { RTCPeerConnection } = require('werift');
    const make = () =>
      new RTCPeerConnection({
        iceServers: [],
        iceUseIpv6: false,
        iceInterfaceAddresses: { udp4: ADDRESS },
      });
    return {
      name: 'werift',
      async run() {
        const a = make();
        const b = make();
        const connected = (pc) =>
          new Promise((resolve, reject) =>
            pc.connectionStateChange.subscribe((s) =>
              s === 'connected'
                ? resolve()
                : s === 'failed'
                  ? reject(new Error('failed'))
                  : undefined,
            ),
          );
        const both = Promise.all([connected(a), connected(b)]);
        a.onIceCandidate.subscribe((c) => c && void b.addIceCandidate(c));
        b.onIceCandidate.subscribe((c) => c && void a.addIceCandidate(c));
        a.addTransceiver('video', { direction: 'sendrecv' });
        const t0 = performance.now();
        await a.setLocalDescription(await a.createOffer());
        await b.setRemoteDescription(a.localDescription);
        await b.setLocalDescription(await b.createAnswer());
        await a.setRemoteDescription(b.localDescription);
        await withTimeout(both, 'werift');
        const ms = performance.now() - t0;
        await Promise.all([a.close(), b.close()]);
        return ms;
      },
    };
  },
  wrtc: () => {
    const { RTCPeerConnection } = require('@roamhq/wrtc');
    return {
      name: '@roamhq/wrtc',
      async run() {
        const a = new RTCPeerConnection({ iceServers: [] });
        const b = new RTCPeerConnection({ iceServers: [] });
        const connected = (pc) =>
          new Promise((resolve, reject) => {
            pc.onconnectionstatechange = () =>
              pc.connectionState === 'connected'
                ? resolve()
                : pc.connectionState === 'failed'
                  ? reject(new Error('failed'))
                  : undefined;
          });
        const both = Promise.all([connected(a), connected(b)]);
        a.onicecandidate = (e) =>
          e.candidate && void b.addIceCandidate(e.candidate).catch(() => {});
        b.onicecandidate = (e) =>
          e.candidate && void a.addIceCandidate(e.candidate).catch(() => {});
        a.addTransceiver('video', { direction: 'sendrecv' });
        const t0 = performance.now();
        const offer = await a.createOffer();
        await a.setLocalDescription(offer);
        await b.setRemoteDescription(offer);
        const answer = await b.createAnswer();
        await b.setLocalDescription(answer);
        await a.setRemoteDescription(answer);
        await withTimeout(both, '@roamhq/wrtc');
        const ms = performance.now() - t0;
        a.close();
        b.close();
        return ms;
      },
    };
  },
};

function summary(times) {
  const s = [...times].sort((x, y) => x - y);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return {
    median: q(0.5),
    p90: q(0.9),
    max: s[s.length - 1],
    over100: s.filter((t) => t > 100).length,
  };
}

const results = [];
for (const key of ONLY) {
  const stack = stacks[key]?.();
  if (!stack) throw new Error(`unknown stack ${key}`);
  const times = [];
  let failures = 0;
  await stack.run().catch(() => {}); // warm-up: module loading, first certificate
  const runs = RUNS_FOR[key] ?? RUNS;
  for (let i = 0; i < runs; i++) {
    try {
      times.push(await stack.run());
      if (process.env.BENCH_VERBOSE)
        process.stderr.write(`${stack.name} ${i} ${times.at(-1).toFixed(1)}\n`);
    } catch {
      failures++;
    }
  }
  results.push({ name: stack.name, runs, failures, ...summary(times) });
}

const base = results.find((r) => r.name === 'kvs-webrtc');
const fmt = (n) => (n === undefined ? '-' : n.toFixed(1));
console.log(`createOffer -> both connected, host candidates on ${ADDRESS}`);
console.log(
  'stack              runs  median ms   p90 ms   max ms   >100ms  failed   median vs kvs-webrtc',
);
for (const r of results) {
  const ratio = base ? (r.median / base.median).toFixed(2) + 'x' : '-';
  console.log(
    `${r.name.padEnd(18)} ${String(r.runs).padStart(4)} ${fmt(r.median).padStart(9)} ${fmt(r.p90).padStart(8)} ${fmt(r.max).padStart(8)} ` +
      `${String(r.over100).padStart(7)} ${String(r.failures).padStart(7)}   ${ratio}`,
  );
}
process.exit(0);
