#!/usr/bin/env node
// One kvs-webrtc peer in a child process, for the data-channel suites that need a peer they
// can put in a network namespace (loss.test.ts) or kill (vanish.test.ts). Signaling and
// commands are JSON lines on stdin; events are JSON lines on stdout.
//   node dc-peer.mjs '<json: { address, timeouts? }>'
//
// In:  {type:'start', channels:[{label, init}]}  make channels, then the offer
//      {type:'offer'|'answer', sdp} {type:'candidate', candidate}
//      {type:'send', label, count, size, highWater, lowThreshold}  numbered messages with
//        back-pressure (message i starts with i as 4 bytes big-endian)
//      {type:'report', label}   {type:'bye'}
// Out: {type:'offer'|'answer'|'candidate', ...} {type:'state', state}
//      {type:'open', label} {type:'close', label}
//      {type:'progress', label, count, maxSeq}  at most every 100 ms while messages arrive
//      {type:'sent', label, count, bytes, digest}  all queued
//      {type:'report', label, count, bytes, seqs, inOrder, digest}
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import readline from 'node:readline';
import { clearTimeout, setInterval, setTimeout } from 'node:timers';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const config = JSON.parse(process.argv[2]);
const emit = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const pc = new PeerConnection({
  interfaces: { only: [config.address] },
  ...(config.timeouts ? { timeouts: config.timeouts } : {}),
});
const channels = new Map();
const received = new Map();

function track(channel) {
  channels.set(channel.label, channel);
  const r = {
    count: 0,
    bytes: 0,
    seqs: [],
    inOrder: true,
    last: -1,
    hash: crypto.createHash('sha256'),
    dirty: false,
  };
  received.set(channel.label, r);
  channel.on('open', () => emit({ type: 'open', label: channel.label }));
  if (channel.readyState === 'open') emit({ type: 'open', label: channel.label });
  channel.on('close', () => emit({ type: 'close', label: channel.label }));
  channel.on('error', (e) => emit({ type: 'error', label: channel.label, message: e.message }));
  channel.on('message', (m) => {
    const b = typeof m === 'string' ? Buffer.from(m) : m;
    const seq = b.length >= 4 ? b.readUInt32BE(0) : -1;
    if (seq <= r.last) r.inOrder = false;
    r.last = Math.max(r.last, seq);
    r.count++;
    r.bytes += b.length;
    if (r.seqs.length < 100_000) r.seqs.push(seq);
    r.hash.update(b);
    r.dirty = true;
  });
}

setInterval(() => {
  for (const [label, r] of received) {
    if (!r.dirty) continue;
    r.dirty = false;
    emit({ type: 'progress', label, count: r.count, maxSeq: r.last });
  }
}, 100).unref();

pc.on('datachannel', track);
pc.on('icecandidate', (c) => emit({ type: 'candidate', candidate: c ? c.candidate : null }));
pc.on('connectionstatechange', (state) => emit({ type: 'state', state }));

const POOL = crypto.randomBytes(1 << 20);
function message(i, size) {
  const m = Buffer.allocUnsafe(size);
  m.writeUInt32BE(i >>> 0, 0);
  const offset = (i * 7919) % (POOL.length - size);
  POOL.copy(m, 4, offset, offset + size - 4);
  return m;
}

function send({ label, count, size, highWater, lowThreshold }) {
  const channel = channels.get(label);
  const hash = crypto.createHash('sha256');
  let i = 0;
  let bytes = 0;
  channel.bufferedAmountLowThreshold = lowThreshold;
  const pump = () => {
    try {
      while (i < count && channel.bufferedAmount < highWater) {
        const m = message(i++, size);
        channel.send(m);
        hash.update(m);
        bytes += m.length;
      }
    } catch (err) {
      emit({ type: 'error', label, message: err.message });
      return;
    }
    if (i >= count) {
      channel.off('bufferedamountlow', pump);
      emit({ type: 'sent', label, count, bytes, digest: hash.digest('hex') });
    }
  };
  channel.on('bufferedamountlow', pump);
  pump();
}

const held = [];
const flush = async () => {
  while (held.length > 0 && pc.remoteDescription) await pc.addIceCandidate(held.shift());
};

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const msg = JSON.parse(line);
  try {
    if (msg.type === 'start') {
      for (const { label, init } of msg.channels) track(pc.createDataChannel(label, init ?? {}));
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      emit({ type: 'offer', sdp: offer.sdp });
    } else if (msg.type === 'offer') {
      await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      emit({ type: 'answer', sdp: answer.sdp });
      await flush();
    } else if (msg.type === 'answer') {
      await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      await flush();
    } else if (msg.type === 'candidate' && msg.candidate) {
      held.push(msg.candidate);
      await flush();
    } else if (msg.type === 'send') {
      send(msg);
    } else if (msg.type === 'report') {
      const r = received.get(msg.label);
      emit({
        type: 'report',
        label: msg.label,
        count: r?.count ?? 0,
        bytes: r?.bytes ?? 0,
        seqs: r?.seqs ?? [],
        inOrder: r?.inOrder ?? true,
        digest: r ? r.hash.copy().digest('hex') : null,
      });
    } else if (msg.type === 'bye') {
      await pc.close();
      process.exit(0);
    }
  } catch (err) {
    emit({ type: 'error', message: String(err && err.stack ? err.stack : err) });
  }
});

// Bounded: a peer never outlives its test (and exits with its parent's stdin).
const lifetime = setTimeout(() => process.exit(3), (config.lifetimeS ?? 300) * 1000);
lifetime.unref();
process.stdin.on('end', () => {
  clearTimeout(lifetime);
  process.exit(0);
});
