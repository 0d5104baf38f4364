#!/usr/bin/env node
// Memory of a long media stream, native to native: one kvs-webrtc peer writes the H.264 sample
// (samples/h264, looped) at 30 fps to another in the same process, over loopback, for 10
// minutes; the receiver takes every frame. RSS is printed every 10 s. Once warm (1 minute), a
// stream should keep nothing more: the one store that fills is the sender's rolling buffer
// (for NACKs), and it is full well before then. So after the warm-up RSS may not grow by more
// than that buffer's bound (1 s at 5 Mbit/s by default: 625,000 payload bytes, the C SDK's
// newer default): it exits 1 when it does (or when frames stop arriving), 0 otherwise. Not
// part of `npm test` (it takes the 10 minutes).
//
//   node scripts/media-memory.mjs [--seconds 600] [--warmup 60] [--interval 10]
//
// Growth is measured on the RSS after a full garbage collection (the received frames are
// Buffers the JS heap frees lazily), as the median of the last minute's samples against the
// median of the first minute after the warm-up: single samples move by about a megabyte
// (heap pages, allocator arenas), medians of six do not, and a leak of even 100 bytes a frame
// would show as 1.6 MB over the 9 minutes.
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { h264Samples } from '../test/helpers/media-files.js';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../dist/index.js');

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 600);
const WARMUP = arg('warmup', 60);
const INTERVAL = arg('interval', 10);
const FPS = 30;
// The default rolling buffer: seconds * bitrate / 8 (send_stream.h, RollingBufferConfig).
const ROLLING_BUFFER_BYTES = (1.0 * 5_000_000) / 8;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(2);

async function pair() {
  const config = { interfaces: { only: ['127.0.0.1'] } };
  const a = new PeerConnection(config);
  const b = new PeerConnection(config);
  const wire = (from, to) => {
    const held = [];
    from.on('icecandidate', (c) => {
      if (!c) return;
      if (to.remoteDescription) void to.addIceCandidate(c.candidate).catch(() => undefined);
      else held.push(c.candidate);
    });
    to.on('signalingstatechange', () => {
      while (to.remoteDescription && held.length > 0) {
        void to.addIceCandidate(held.shift()).catch(() => undefined);
      }
    });
  };
  wire(a, b);
  wire(b, a);
  const connected = (pc) =>
    new Promise((resolve, reject) =>
      pc.on('connectionstatechange', (s) =>
        s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
      ),
    );
  const both = Promise.all([connected(a), connected(b)]);
  const send = await a.addTransceiver({ kind: 'video', codecs: ['H264'], direction: 'sendonly' });
  let recv;
  b.on('track', (t) => (recv = t));
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  await both;
  return { a, b, send, recv };
}

const { a, b, send, recv } = await pair();
const frames = h264Samples(250);
let received = 0;
let receivedBytes = 0;
recv.on('frame', (f) => {
  received++;
  receivedBytes += f.frameData.length;
});

let written = 0;
const t0 = Date.now();
let stop = false;
const writer = (async () => {
  while (!stop) {
    send.writeFrame({
      frameData: frames[written % frames.length],
      presentationTs: Math.round((written * 10_000_000) / FPS),
    });
    written++;
    await sleep(Math.max(0, t0 + (written * 1000) / FPS - Date.now()));
  }
})();

const samples = [];
console.log(
  `media-memory: ${SECONDS} s of H.264 at ${FPS} fps native to native, RSS every ${INTERVAL} s, ` +
    `warm-up ${WARMUP} s, bound ${mb(ROLLING_BUFFER_BYTES)} MB`,
);
console.log('     s   rss MB  (after gc)  heap MB  external MB  written  received');
for (let s = INTERVAL; s <= SECONDS; s += INTERVAL) {
  await sleep(Math.max(0, t0 + s * 1000 - Date.now()));
  const before = process.memoryUsage();
  gc();
  const after = process.memoryUsage();
  samples.push({ s, rss: after.rss });
  console.log(
    `${String(s).padStart(6)} ${mb(before.rss).padStart(8)} ${mb(after.rss).padStart(11)} ` +
      `${mb(after.heapUsed).padStart(8)} ${mb(after.external).padStart(12)} ` +
      `${String(written).padStart(8)} ${String(received).padStart(9)}`,
  );
}
stop = true;
await writer;
const stats = [...(await b.getStats()).values()].find((x) => x.type === 'inbound-rtp');
await Promise.all([a.close(), b.close()]);

const after = samples.filter((x) => x.s >= WARMUP);
const perMinute = Math.max(1, Math.round(60 / INTERVAL));
const median = (xs) => {
  const v = xs.map((x) => x.rss).sort((p, q) => p - q);
  return v[Math.floor(v.length / 2)] ?? 0;
};
const first = median(after.slice(0, perMinute));
const lastMinute = median(after.slice(-perMinute));
const growth = lastMinute - first;
const peak = Math.max(...after.map((x) => x.rss));
console.log(
  `after the warm-up: RSS median ${mb(first)} MB in the first minute, ${mb(lastMinute)} MB in ` +
    `the last, peak ${mb(peak)} MB; growth ${mb(growth)} MB against a bound of ` +
    `${mb(ROLLING_BUFFER_BYTES)} MB`,
);
console.log(
  `frames: ${written} written, ${received} received (${mb(receivedBytes)} MB), ` +
    `dropped ${stats?.framesDropped ?? '?'}, packets lost ${stats?.packetsLost ?? '?'}`,
);
const lost = written - received > FPS; // more than a second of frames never arrived
if (lost) console.log('FAIL: frames did not arrive');
if (growth > ROLLING_BUFFER_BYTES) console.log('FAIL: memory grew beyond the bound');
process.exit(lost || growth > ROLLING_BUFFER_BYTES ? 1 : 0);
