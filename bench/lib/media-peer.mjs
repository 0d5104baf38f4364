// One side of the media benchmark, in its own process (bench/media.mjs forks two and relays
// between them):
//   node media-peer.mjs <stack> sender|receiver <address> [frames file]
// Messages from the parent: start, signal, send {from, count, window} and ack {highest} (the
// sender), arm {last} and report (the receiver), rss, exit. To the parent: loaded {rss}, signal,
// connected, sent {cpuMs, written, refused} (the sender), progress {highest, whole} and report
// {whole, highest, bytes, cpuMs, rss} (the receiver).
import { benchFrames } from './h264-frames.mjs';
import { MEDIA_STACKS } from './media-stacks.mjs';

const [key, role, address, framesFile] = process.argv.slice(2);
const stack = MEDIA_STACKS[key];
if (!stack || !['sender', 'receiver'].includes(role)) throw new Error('usage: stack role address');
const send = (m) => process.send(m);
const cpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

const frames = role === 'sender' ? benchFrames(framesFile) : [];
stack.load();
send({ type: 'loaded', rss: process.memoryUsage().rss });

const signalHandlers = [];
const signal = {
  send: (m) => send({ type: 'signal', m }),
  onMessage: (h) => signalHandlers.push(h),
};

let peer;
// Sender state.
let acked = -1;
let wake;
let stopped = false;
let keyFrameWanted = false;
// Receiver state.
let whole = 0;
let highest = -1;
let bytes = 0;
let cpu0;
let last = Infinity; // the frame number that ends the phase: reported at once
let progressEvery = 4;

// A frame some packet arrived for (stacks without a jitter buffer): the window moves on.
function onSeen(n) {
  if (n > highest) highest = n;
}

function onFrame(n, size) {
  whole++;
  bytes += size;
  if (n > highest) highest = n;
  if (whole % progressEvery === 0 || n >= last) send({ type: 'progress', highest, whole });
}

// A window that stays shut this long opens by one frame: a frame lost for good (or a
// receiver repairing one) must not stop an encoder.
const WINDOW_TIMEOUT_MS = 500;

async function sendFrames({ from, count, window }) {
  stopped = false;
  const c0 = process.cpuUsage();
  let refused = 0;
  let written = 0;
  let timeouts = 0;
  let next = 0; // the frame of the 100 to send next
  for (let n = from; n < from + count && !stopped; n++) {
    while (n - acked > window && !stopped) {
      const moved = await new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), WINDOW_TIMEOUT_MS);
        wake = () => {
          clearTimeout(t);
          resolve(true);
        };
      });
      if (!moved) {
        timeouts++;
        break;
      }
    }
    if (stopped) break;
    // Asked for a key frame (the stacks that say so): the next IDR of the set, as an encoder
    // would make one.
    if (keyFrameWanted) {
      next = Math.ceil(next / 25) * 25;
      keyFrameWanted = false;
    }
    if (!peer.write(frames[next % frames.length], n)) refused++;
    next++;
    written++;
    // Let acks in now and then even when the window is open.
    if (n % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
  send({ type: 'sent', cpuMs: cpuMs(c0), written, refused, timeouts });
}

process.on('message', async (m) => {
  switch (m.type) {
    case 'start':
      peer =
        role === 'sender'
          ? await stack.sender(address, signal, () => (keyFrameWanted = true))
          : await stack.receiver(address, signal, onFrame, onSeen);
      send({ type: 'connected', rss: process.memoryUsage().rss });
      break;
    case 'signal':
      for (const h of signalHandlers) await h(m.m);
      break;
    case 'send':
      await sendFrames(m);
      break;
    case 'ack':
      if (m.highest > acked) acked = m.highest;
      wake?.();
      break;
    case 'stop': // the receiver went quiet: give up the phase
      stopped = true;
      wake?.();
      break;
    case 'arm':
      last = m.last;
      progressEvery = m.progressEvery ?? 4;
      whole = 0;
      bytes = 0;
      cpu0 = process.cpuUsage();
      send({ type: 'armed' });
      break;
    case 'report':
      send({
        type: 'report',
        whole,
        highest,
        bytes,
        cpuMs: cpuMs(cpu0),
        rss: process.memoryUsage().rss,
        memory: process.memoryUsage(),
      });
      break;
    case 'rss':
      send({ type: 'rss', rss: process.memoryUsage().rss });
      break;
    case 'exit':
      await peer?.close();
      process.exit(0);
  }
});
