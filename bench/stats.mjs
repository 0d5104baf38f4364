#!/usr/bin/env node
// What getStats() costs during a call: one native-to-native call in this process, streaming
// the sample H.264 at 25 fps with a data channel open, measured for a while without polling
// and then while polling getStats() 100 times a second. The difference in this process's CPU
// time, over the wall time, is the share of one core the polling costs (the target:
// under 1%). Loopback only; run it directly or through bench/run.sh.
//   node bench/stats.mjs [--seconds 10]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { PeerConnection, FrameFlags } = require(path.join(root, 'dist', 'index.js'));

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || 10);
const frames = [];
for (let i = 1; i <= 250; i++) {
  frames.push(
    fs.readFileSync(path.join(root, 'samples', 'h264', `frame-${String(i).padStart(4, '0')}.h264`)),
  );
}
const config = { interfaces: { only: ['127.0.0.1'] } };
const a = new PeerConnection(config);
const b = new PeerConnection(config);
const wire = (from, to) => {
  const held = [];
  from.on('icecandidate', (c) => {
    if (!c) return;
    if (to.remoteDescription) void to.addIceCandidate(c);
    else held.push(c);
  });
  to.on('signalingstatechange', () => {
    while (to.remoteDescription && held.length) void to.addIceCandidate(held.shift());
  });
};
wire(a, b);
wire(b, a);
const video = await a.addTransceiver({ kind: 'video', codecs: ['H264'], direction: 'sendonly' });
const channel = a.createDataChannel('stats');
let received = 0;
b.on('track', (t) => t.on('frame', () => received++));
const offer = await a.createOffer();
await a.setLocalDescription(offer);
await b.setRemoteDescription(offer);
const answer = await b.createAnswer();
await b.setLocalDescription(answer);
await a.setRemoteDescription(answer);
await new Promise((resolve) => {
  const check = () => (a.connectionState === 'connected' ? resolve() : setTimeout(check, 20));
  check();
});

let index = 0;
const stream = setInterval(() => {
  const f = frames[index % frames.length];
  video.writeFrame({
    frameData: f,
    presentationTs: index * 400_000,
    flags: index % 25 === 0 ? FrameFlags.KEY_FRAME : 0,
  });
  if (channel.readyState === 'open') channel.send(`tick ${index}`);
  index++;
}, 40);

async function measure(poll) {
  let polls = 0;
  let timer;
  if (poll) {
    timer = setInterval(() => {
      void a.getStats().then(() => polls++);
    }, 10);
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  if (timer) clearInterval(timer);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: wall, polls };
}

await new Promise((r) => setTimeout(r, 1000)); // warm up
const quiet = await measure(false);
const polled = await measure(true);
clearInterval(stream);
const share = (polled.cpuMs - quiet.cpuMs) / polled.wallMs;
const perCall = (polled.cpuMs - quiet.cpuMs) / Math.max(1, polled.polls);
console.log(`streaming 25 fps H.264 + data channel, ${seconds} s each:`);
console.log(`  without polling: ${quiet.cpuMs.toFixed(0)} ms CPU`);
console.log(
  `  getStats() x ${polled.polls} (${(polled.polls / (polled.wallMs / 1000)).toFixed(0)}/s): ${polled.cpuMs.toFixed(0)} ms CPU`,
);
console.log(
  `  polling costs ${(share * 100).toFixed(2)}% of one core (${perCall.toFixed(3)} ms CPU per call); frames received ${received}`,
);
await a.close();
await b.close();
