#!/usr/bin/env node
// One end of the session of loss.test.ts, in a network namespace of its own (the two joined
// by the lossy veth link of test/helpers/peer-process.ts). Commands are JSON lines on stdin,
// events JSON lines on stdout.
//
//   node loss-peer.mjs '{"role": "master", "address": "10.99.5.1"}'
//   node loss-peer.mjs '{"role": "viewer", "address": "10.99.5.2", "master": "10.99.5.1",
//                        "service": {...}, "videoFile": "/tmp/.../received.h264"}'
//
// master  runs the local service (which listens on its namespace's loopback only) and a TCP
//         relay to it from its link address, then a Master whose host candidates are the link
//         address alone, streaming the sample H.264/Opus clip (LoopingMediaSource, answering
//         key-frame requests as an encoder would). Out: {type:'service', ...} once the
//         service is up; every video frame it writes to a viewer is kept (its presentation
//         time, key flag and the digest of the NAL units RTP carries) for the report.
// viewer  relays its own loopback's service port to the master's link address (so that the
//         service's endpoints, https://127.0.0.1:PORT, and its certificate work unchanged),
//         and connects a Viewer with host candidates on its link address alone. Every video
//         frame it is handed is appended to `videoFile` (Annex B, for ffmpeg) and kept
//         (presentation time, key flag, digest).
//
// Both: the data channel the viewer opens (reliable, ordered) carries numbered messages.
// In:  {type:'send', count}  messages 0..count-1, paced and with back-pressure
//      {type:'mark', name}   remember the counts now (e.g. when the loss is lifted)
//      {type:'report'}       the viewer records no frame after it (the file matches the list)
// Out: {type:'open'} the channel is open, {type:'connected'}
//      {type:'progress', t, video, audio, messages, written}  at most every 100 ms on change
//        (t: Date.now())
//      {type:'sent', count}  all messages handed to the channel
//      {type:'report', ...}  {type:'error', message}
//
// Message i: 4 bytes i, 4 bytes its length, then bytes (i * 7 + k) & 0xff. Sizes: 12000
// every 50th (about ten SCTP packets), 3000 every 10th (three), else 200.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import readline from 'node:readline';
import { setInterval, setTimeout } from 'node:timers';
import { carriedNals } from '../helpers/media-files.js';

const require = createRequire(import.meta.url);
const {
  Master,
  Viewer,
  LoopingMediaSource,
  sampleTracks,
  FrameFlags,
} = require('../../dist/index.js');
const config = JSON.parse(process.argv[2] ?? '{}');
const emit = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const fail = (err) => emit({ type: 'error', message: String(err && err.stack ? err.stack : err) });
// Bounded: the parent kills it long before this.
setTimeout(() => process.exit(2), 240_000).unref();

const digest = (frameData) =>
  crypto.createHash('sha1').update(carriedNals(frameData).join(',')).digest('hex').slice(0, 16);

/** A TCP relay: connections to listenHost:port are piped to toHost:port. */
function relay(listenHost, toHost, port) {
  const server = net.createServer((inbound) => {
    const outbound = net.connect(port, toHost);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end);
    outbound.on('error', end);
    inbound.on('close', end);
    outbound.on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listenHost, () => resolve(server));
  });
}

function message(i) {
  const size = i % 50 === 49 ? 12_000 : i % 10 === 9 ? 3000 : 200;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(i, 0);
  b.writeUInt32BE(size, 4);
  for (let k = 8; k < size; k++) b[k] = (i * 7 + k) & 0xff;
  return b;
}

/** What arrived on the channel: the sequence numbers in arrival order, and bodies that differ. */
const inbox = { seqs: [], corrupt: [] };
function onMessage(m) {
  const b = typeof m === 'string' ? Buffer.from(m) : m;
  const seq = b.length >= 8 ? b.readUInt32BE(0) : -1;
  if (inbox.seqs.length < 100_000) inbox.seqs.push(seq);
  if (seq < 0 || !message(seq).equals(b)) inbox.corrupt.push({ seq, length: b.length });
  changed = true;
}

/**
 * Sends `count` messages through `send`, about 40 a second, pausing while more than 64 KB
 * wait in the channel's buffer (so the loss period sees a steady stream, not one burst).
 * Bounded: at most 10 minutes of ticks.
 */
async function sendAll(count, send, buffered) {
  let i = 0;
  for (let tick = 0; i < count && tick < 24_000; tick++) {
    if (buffered() <= 64 * 1024) send(message(i++));
    await new Promise((r) => setTimeout(r, 25));
  }
  emit({ type: 'sent', count: i });
}

/** The addresses of this end's local candidates, from its statistics. */
const addressesOf = (stats) => [
  ...new Set(stats.filter((x) => x.type === 'local-candidate').map((x) => x.address)),
];

const frames = []; // video: master, those written; viewer, those received
let audio = 0;
let written = 0;
let changed = false;
let frozen = false; // set by 'report'
const marks = {};
setInterval(() => {
  if (!changed) return;
  changed = false;
  const t = Date.now();
  emit({ type: 'progress', t, video: frames.length, audio, messages: inbox.seqs.length, written });
}, 100);

const session = {}; // role-specific: send, buffered, report

async function master() {
  const { startLocalKvs } = require('../../dist/local/index.js');
  const dataDir = fs.mkdtempSync('/tmp/kvs-loss-svc-');
  const svc = await startLocalKvs({ port: 0, turn: false, dataDir, log: () => undefined });
  const relayServer = await relay(config.address, '127.0.0.1', svc.port);
  const channelName = `loss-${process.pid}`;
  const m = new Master({
    channelName,
    region: svc.region,
    credentials: svc.credentials,
    endpoint: svc.endpoint,
    caCertPath: svc.caCertPath,
    peerConnection: { interfaces: { only: [config.address] } },
  });
  m.on('error', (e) => emit({ type: 'warning', message: e.message }));
  await m.start();
  const source = new LoopingMediaSource({ ...sampleTracks(), answerKeyFrameRequests: true });
  const keyFrameRequests = {};
  m.on('keyframerequest', (r) => {
    keyFrameRequests[r.reason] = (keyFrameRequests[r.reason] ?? 0) + 1;
    source.requestKeyFrame();
  });
  source.on('frame', (kind, frame) => {
    const n = m.writeFrame(kind, frame);
    if (n === 0 || kind !== 'video') return;
    written++;
    changed = true;
    frames.push({
      pts: frame.presentationTs,
      key: (frame.flags & FrameFlags.KEY_FRAME) !== 0,
      digest: digest(frame.frameData),
    });
  });
  let channel;
  let viewerId;
  m.on('datachannel', (ch, id) => {
    channel = ch;
    viewerId = id;
    if (ch.readyState === 'open') emit({ type: 'open' });
    else ch.on('open', () => emit({ type: 'open' }));
  });
  m.on('message', (data) => onMessage(data));
  m.on('viewer', () => emit({ type: 'connected' }));
  source.start();
  session.send = (b) => m.sendMessage(b, viewerId);
  session.buffered = () => channel?.bufferedAmount ?? 0;
  session.report = async () => {
    const v = m.viewers.get(viewerId);
    const stats = v?.peerConnection ? [...(await v.peerConnection.getStats()).values()] : [];
    const out = stats.filter((s) => s.type === 'outbound-rtp');
    return {
      state: v?.state,
      localAddresses: addressesOf(stats),
      keyFrameRequests,
      outbound: {
        video: out.find((s) => s.kind === 'video'),
        audio: out.find((s) => s.kind === 'audio'),
      },
    };
  };
  session.close = async () => {
    source.stop();
    await m.close();
    relayServer.close();
    await svc.stop({ graceful: false });
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  emit({
    type: 'service',
    port: svc.port,
    region: svc.region,
    credentials: svc.credentials,
    caCertPath: svc.caCertPath,
    channelName,
  });
}

async function viewer() {
  const s = config.service;
  const relayServer = await relay('127.0.0.1', config.master, s.port);
  const out = fs.openSync(config.videoFile, 'w');
  const v = new Viewer({
    channelName: s.channelName,
    clientId: 'lossy',
    region: s.region,
    credentials: s.credentials,
    endpoint: `https://127.0.0.1:${s.port}`,
    caCertPath: s.caCertPath,
    peerConnection: { interfaces: { only: [config.address] } },
    connectTimeoutMs: 60_000,
  });
  v.on('error', (e) => emit({ type: 'warning', message: e.message }));
  v.on('frame', (kind, f) => {
    if (frozen) return; // the report is out: the file and the list stay as it says
    changed = true;
    if (kind === 'audio') {
      audio++;
      return;
    }
    fs.writeSync(out, f.frameData);
    frames.push({
      pts: f.presentationTs,
      key: (f.flags & FrameFlags.KEY_FRAME) !== 0,
      digest: digest(f.frameData),
    });
  });
  v.on('message', (data) => onMessage(data));
  v.on('open', () => emit({ type: 'open' }));
  await v.connect();
  emit({ type: 'connected' });
  session.send = (b) => v.sendMessage(b);
  session.buffered = () => v.dataChannel?.bufferedAmount ?? 0;
  session.report = async () => {
    const stats = [...(await v.getStats()).values()];
    const inbound = stats.filter((x) => x.type === 'inbound-rtp');
    return {
      state: v.state,
      localAddresses: addressesOf(stats),
      inbound: {
        video: inbound.find((x) => x.kind === 'video'),
        audio: inbound.find((x) => x.kind === 'audio'),
      },
    };
  };
  session.close = async () => {
    await v.close();
    relayServer.close();
    fs.closeSync(out);
  };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    return;
  }
  if (cmd.type === 'send') {
    if (!session.send) return fail(new Error('send before the session is up'));
    void sendAll(cmd.count, session.send, session.buffered).catch(fail);
  } else if (cmd.type === 'mark') {
    marks[cmd.name] = { video: frames.length, audio, messages: inbox.seqs.length, written };
    emit({ type: 'marked', name: cmd.name, ...marks[cmd.name] });
  } else if (cmd.type === 'report') {
    frozen = true;
    void (async () => {
      const r = await session.report();
      emit({ type: 'report', ...r, frames, audio, written, marks, inbox });
    })().catch(fail);
  }
});
lines.on('close', () => {
  // The parent is gone or done: close cleanly, then leave.
  void Promise.resolve(session.close?.())
    .catch(fail)
    .finally(() => process.exit(0));
});

(config.role === 'master' ? master() : viewer()).catch((err) => {
  fail(err);
  process.exitCode = 1;
});
