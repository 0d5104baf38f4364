#!/usr/bin/env node
// Two kvs-webrtc peers in the private network namespace of test/helpers/netns.ts, with loss
// staged on the path by iptables (every UDP datagram delivered in the namespace passes its
// INPUT chain once). The offerer writes the H.264 sample at 25 fps; the answerer rebuilds the
// frames. Prints one JSON line: what arrived, compared NAL for NAL, and both sides' stats.
//
//   node loss-session.mjs '{"address": "10.99.0.1", "mode": "random" | "unrepairable"}'
//
// random        5% of all UDP datagrams dropped at random (media, RTX, RTCP, STUN alike), from
//               before the connection starts. 300 frames are written; writing goes on (at most
//               50 frames more) until the receiver has 300, since a loss of the stream's last
//               packets only shows when later ones arrive.
// unrepairable  every RTX packet dropped, and every 120th media packet: those losses cannot be
//               repaired. The sender answers key-frame requests with the sample's next IDR, as
//               an encoder would. 300 frames are written.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { clearTimeout, setTimeout } from 'node:timers';
import { carriedNals, h264Samples, isKeyPicture } from '../helpers/media-files.js';

const require = createRequire(import.meta.url);
const { PeerConnection, FrameFlags } = require('../../dist/index.js');
const { address, mode } = JSON.parse(process.argv[2] ?? '{}');
const FRAMES = 300;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, 60_000);

function iptables(...args) {
  const r = spawnSync('iptables', ['-A', 'INPUT', '-p', 'udp', ...args, '-j', 'DROP'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`iptables ${args.join(' ')}: ${r.stderr}`);
}
// The RTP header is not encrypted: byte 0 holds the version (2), byte 1 the payload type.
// u32: from the IP header's length to the UDP payload (8 bytes on), its first two bytes.
const rtpPayloadType = (pt) => [
  ...['-m', 'u32', '--u32'],
  `0>>22&0x3C@8>>16&0xC07F=0x${(0x8000 | pt).toString(16)}`,
];

const sender = new PeerConnection({ interfaces: { only: [address] } });
const receiver = new PeerConnection({ interfaces: { only: [address] } });
const out = { mode };
try {
  if (mode === 'random') {
    iptables(...['-m', 'statistic', '--mode', 'random', '--probability', '0.05']);
  }
  const connected = (pc) =>
    new Promise((resolve, reject) =>
      pc.on('connectionstatechange', (s) =>
        s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
      ),
    );
  const both = Promise.all([connected(sender), connected(receiver)]);
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
  wire(sender, receiver);
  wire(receiver, sender);
  const video = await sender.addTransceiver({
    kind: 'video',
    codecs: ['H264'],
    direction: 'sendonly',
  });
  let track;
  receiver.on('track', (t) => (track = t));
  const offer = await sender.createOffer();
  await sender.setLocalDescription(offer);
  await receiver.setRemoteDescription(offer);
  const answer = await receiver.createAnswer();
  await receiver.setLocalDescription(answer);
  await sender.setRemoteDescription(answer);
  if (mode === 'unrepairable') {
    const pt = Number(/^a=rtpmap:(\d+) H264\/90000/m.exec(answer.sdp)?.[1]);
    const rtx = Number(new RegExp(`^a=fmtp:(\\d+) apt=${pt}\\b`, 'm').exec(answer.sdp)?.[1]);
    if (!pt || !rtx) throw new Error('no H.264 or RTX payload type in the answer');
    out.payloadTypes = { media: pt, rtx };
    iptables(...rtpPayloadType(rtx));
    iptables(
      ...rtpPayloadType(pt),
      ...['-m', 'statistic', '--mode', 'nth', '--every', '120', '--packet', '0'],
    );
  }
  await both;
  if (!track) throw new Error('the receiver saw no track');

  const received = [];
  track.on('frame', (f) => received.push(f));
  const samples = h264Samples(250);
  const keys = samples.map((f, i) => (isKeyPicture(f) ? i : -1)).filter((i) => i >= 0);
  const keyFrameRequests = [];
  let next = 0; // the sample's frame to write next
  video.on('keyframerequest', (r) => {
    keyFrameRequests.push(r.reason);
    if (mode === 'unrepairable') next = keys.find((k) => k >= next % 250) ?? 0;
  });
  const sent = new Map(); // presentationTs -> the NAL units sent
  let n = 0;
  const writeOne = () => {
    const frame = samples[next % 250];
    const pts = n * 400_000;
    sent.set(pts, carriedNals(frame).join(','));
    video.writeFrame({ frameData: frame, presentationTs: pts, index: n });
    next++;
    n++;
  };
  // 25 fps, against the clock (a late timer writes what is due, never faster on average).
  const t0 = Date.now();
  while (n < FRAMES) {
    writeOne();
    await sleep(Math.max(0, t0 + n * 40 - Date.now()));
  }
  if (mode === 'random') {
    while (received.length < FRAMES && n < FRAMES + 50) {
      writeOne();
      await sleep(Math.max(0, t0 + n * 40 - Date.now()));
    }
  }
  await sleep(mode === 'unrepairable' ? 2500 : 500); // what is in flight, or given up

  out.written = n;
  out.received = received.length;
  out.keyFrameRequests = keyFrameRequests;
  // Each frame that arrived, against what was written at its presentation time. Received
  // times count from the first frame emitted: if that was not the first written (given up
  // unrepaired), the sender's time of the frame it equals is the offset.
  const first = received[0] ? carriedNals(received[0].frameData).join(',') : '';
  out.offset = [...sent].find(([, nals]) => nals === first)?.[0] ?? 0;
  out.frames = received.map((f) => ({
    pts: f.presentationTs + out.offset,
    key: (f.flags & FrameFlags.KEY_FRAME) !== 0,
    same: sent.get(f.presentationTs + out.offset) === carriedNals(f.frameData).join(','),
  }));
  const stats = (list, type) => [...list.values()].find((s) => s.type === type);
  out.outbound = stats(await sender.getStats(), 'outbound-rtp');
  out.inbound = stats(await receiver.getStats(), 'inbound-rtp');
  console.log(JSON.stringify(out));
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await Promise.all([sender.close(), receiver.close()]);
}
