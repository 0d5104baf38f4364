#!/usr/bin/env node
// A call with video and audio both ways between one kvs-webrtc peer and one headless Chromium
// RTCPeerConnection, both in the private network namespace that test/helpers/netns.ts makes,
// for comparing the two sides' getStats(). kvs-webrtc writes the samples; Chromium sends its
// fake camera and microphone. After `seconds` of media both stop sending (our pumps stop,
// Chromium's senders get a null track), and once every RTP counter on both sides has stopped
// moving the final reports are taken: nothing is in flight then. Prints one JSON line.
//
//   node chromium-stats.mjs '<options as JSON>'
//
// Options (all but address optional):
//   address          the namespace's address (host candidates of both sides)
//   seconds          how long media flows once both directions decode (default 6)
//   lossProbability  random loss staged in the namespace (iptables statistic on every UDP
//                    datagram delivered, both directions), from the start
//   interFramesFirst kvs-webrtc starts its video with the inter frames after the sample's
//                    first IDR, and sends an IDR only when asked: Chromium cannot decode
//                    until it asks (by PLI)
/* global document, RTCPeerConnection */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../scripts/lib/chromium.mjs';
import { h264Samples, isKeyPicture, opusSamples } from '../helpers/media-files.js';

const require = createRequire(import.meta.url);
const { PeerConnection, FrameFlags } = require('../../dist/index.js');

const o = {
  seconds: 6,
  lossProbability: 0,
  interFramesFirst: false,
  ...JSON.parse(process.argv[2]),
};
// Generous: a busy 2-core machine starts Chromium slowly. Every wait below has its own bound.
const DEADLINE_MS = 100_000 + o.seconds * 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` every `stepMs` until it is true; false once `ms` have passed. */
async function until(done, ms, stepMs = 250) {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

// A page on http://127.0.0.1 is a secure context (getUserMedia needs one).
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><html><body></body></html>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${server.address().port}/`;

function iptables(args) {
  const r = spawnSync('iptables', args);
  if (r.status !== 0) throw new Error(`iptables ${args.join(' ')}: ${r.stderr}`);
}
if (o.lossProbability) {
  iptables([
    ...['-A', 'INPUT', '-p', 'udp', '-m', 'statistic', '--mode', 'random'],
    ...['--probability', String(o.lossProbability), '-j', 'DROP'],
  ]);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM_EXECUTABLE,
  args: [
    ...CHROMIUM_ARGS,
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, DEADLINE_MS);

const out = { options: o, samples: [] };
let ours;
const pumps = [];
try {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  ours = new PeerConnection({ interfaces: { only: [o.address] } });
  const ourConnected = new Promise((resolve, reject) =>
    ours.on('connectionstatechange', (s) =>
      s === 'connected'
        ? resolve()
        : s === 'failed'
          ? reject(new Error('kvs-webrtc failed'))
          : undefined,
    ),
  );
  const held = [];
  await page.exposeFunction('toNode', (c) => {
    if (ours.remoteDescription) return ours.addIceCandidate(c).catch(() => undefined);
    held.push(c);
    return undefined;
  });
  await page.evaluate(async () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    globalThis.pc = pc;
    globalThis.held = [];
    pc.onicecandidate = (e) => e.candidate && globalThis.toNode(e.candidate.candidate);
    globalThis.connected = new Promise((resolve, reject) => {
      pc.onconnectionstatechange = () =>
        pc.connectionState === 'connected'
          ? resolve()
          : pc.connectionState === 'failed'
            ? reject(new Error('chromium failed'))
            : undefined;
    });
    // Received tracks play (muted, autoplay): decoding and audio playout run as in a page.
    pc.ontrack = (e) => {
      const el = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
      el.muted = true;
      el.autoplay = true;
      el.srcObject = new MediaStream([e.track]);
      document.body.appendChild(el);
      void el.play().catch(() => undefined);
    };
    globalThis.media = await navigator.mediaDevices.getUserMedia({
      video: { width: { exact: 640 }, height: { exact: 480 }, frameRate: 25 },
      audio: true,
    });
    // Its tracks before our offer: applying the offer gives them its two m-lines.
    for (const track of globalThis.media.getTracks()) {
      if (track.kind === 'video') track.contentHint = 'detail';
      pc.addTrack(track, globalThis.media);
    }
  });
  const toChromium = (c) =>
    page.evaluate((cand) => {
      const add = () => globalThis.pc.addIceCandidate({ candidate: cand, sdpMid: '0' });
      if (globalThis.pc.remoteDescription) return add();
      globalThis.held.push(cand);
      return undefined;
    }, c);
  ours.on('icecandidate', (c) => c && void toChromium(c.candidate).catch(() => undefined));

  const transceivers = {
    video: await ours.addTransceiver({ kind: 'video', direction: 'sendrecv', codecs: ['H264'] }),
    audio: await ours.addTransceiver({ kind: 'audio', direction: 'sendrecv', codecs: ['opus'] }),
  };
  const offer = await ours.createOffer();
  await ours.setLocalDescription(offer);
  const answer = await page.evaluate(async (sdp) => {
    await globalThis.pc.setRemoteDescription({ type: 'offer', sdp });
    const a = await globalThis.pc.createAnswer();
    await globalThis.pc.setLocalDescription(a);
    await Promise.all(
      globalThis.held
        .splice(0)
        .map((c) => globalThis.pc.addIceCandidate({ candidate: c, sdpMid: '0' })),
    );
    return a.sdp;
  }, offer.sdp);
  await ours.setRemoteDescription({ type: 'answer', sdp: answer });
  for (const c of held.splice(0)) await ours.addIceCandidate(c).catch(() => undefined);
  await Promise.all([ourConnected, page.evaluate(() => globalThis.connected)]);

  const keyFrameRequests = [];
  const received = { video: 0, audio: 0 };
  transceivers.video.on('frame', () => received.video++);
  transceivers.audio.on('frame', () => received.audio++);
  pumps.push(videoPump(transceivers.video, keyFrameRequests), audioPump(transceivers.audio));

  const chromiumStats = () =>
    page.evaluate(async () => [...(await globalThis.pc.getStats()).values()]);
  const ourStats = async () => [...(await ours.getStats()).values()];
  const rtp = (report, type, kind) => report.find((s) => s.type === type && s.kind === kind);
  const sample = async () => {
    const [c, k] = await Promise.all([chromiumStats(), ourStats()]);
    const rtpOnly = (r) => r.filter((s) => /-rtp$/.test(s.type));
    out.samples.push({ chromium: rtpOnly(c), ours: rtpOnly(k) });
    return { c, k };
  };

  // Media flows both ways once Chromium decodes ours and we assemble frames of Chromium's.
  out.flowing = await until(async () => {
    const { c, k } = await sample();
    return (
      (rtp(c, 'inbound-rtp', 'video')?.framesDecoded ?? 0) > 10 &&
      (rtp(k, 'inbound-rtp', 'video')?.framesReceived ?? 0) > 10 &&
      (rtp(c, 'inbound-rtp', 'audio')?.totalSamplesReceived ?? 0) > 0 &&
      (rtp(k, 'inbound-rtp', 'audio')?.totalSamplesReceived ?? 0) > 0
    );
  }, 40_000);
  if (!out.flowing) {
    const { c, k } = await sample();
    const brief = (r) => r.filter((s) => s.type.endsWith('-rtp'));
    throw new Error(
      `media did not flow both ways within 40 s: ${JSON.stringify({ keyFrameRequests, chromium: brief(c), ours: brief(k) })}`,
    );
  }
  if (o.outageSeconds) {
    // Every packet of our video (media SSRC and RTX; the RTP header is in the clear under
    // SRTP, the SSRC at bytes 8-11 of the UDP payload) is dropped for a while: Chromium sees
    // no decodable frame, and its repair requests cannot be answered until the end.
    const v = rtp(await ourStats(), 'outbound-rtp', 'video');
    const rules = [v.ssrc, v.rtxSsrc].map((ssrc) => [
      ...['INPUT', '-p', 'udp', '-m', 'u32', '--u32'],
      ...[`0>>22&0x3C@16=${ssrc >>> 0}`, '-j', 'DROP'],
    ]);
    out.beforeOutage = await sample();
    for (const r of rules) iptables(['-I', ...r]);
    await sleep(o.outageSeconds * 1000);
    for (const r of rules) iptables(['-D', ...r]);
    out.afterOutage = await sample();
  }
  const flowEnd = Date.now() + o.seconds * 1000;
  while (Date.now() < flowEnd) {
    await sample(); // loss shows in the reports along the way (fractionLost is per report)
    await sleep(500);
  }

  // Both stop sending. Chromium's senders keep their SSRCs and report on; nothing new goes out.
  for (const p of pumps) p.stop();
  await page.evaluate(() =>
    Promise.all(globalThis.pc.getSenders().map((s) => s.replaceTrack(null))),
  );
  // Quiet: every RTP packet and byte counter of both sides unchanged for 1.5 s in a row.
  const counters = (c, k) =>
    JSON.stringify(
      [...c, ...k]
        .filter((s) => s.type === 'inbound-rtp' || s.type === 'outbound-rtp')
        .map((s) => [s.id, s.packetsSent, s.bytesSent, s.packetsReceived, s.bytesReceived])
        .sort(),
    );
  let last = '';
  let still = 0;
  out.quiet = await until(
    async () => {
      const [c, k] = await Promise.all([chromiumStats(), ourStats()]);
      const now = counters(c, k);
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 3;
    },
    30_000,
    500,
  );
  // Reports keep coming while quiet. First 6 s: the key-frame requests that a stopped
  // stream draws (libwebrtc asks after 3 s without a decodable frame, while the stream's last
  // packet is less than 5 s old) are over. Then until each sender's remote-inbound-rtp has a
  // report sent after the last packet (it says what the receiver's inbound-rtp says; the
  // intervals are randomized, 1 s for video, 5 s for Chromium's audio), or 30 s.
  await sleep(6000);
  const reported = (c, k) =>
    [
      [c, k],
      [k, c],
    ].every(([sender, receiver]) =>
      sender
        .filter((s) => s.type === 'remote-inbound-rtp')
        .every(
          (s) =>
            receiver.find((r) => r.type === 'inbound-rtp' && r.ssrc === s.ssrc)?.packetsLost ===
            s.packetsLost,
        ),
    );
  out.reported = await until(
    async () => {
      [out.chromium, out.ours] = await Promise.all([chromiumStats(), ourStats()]);
      return reported(out.chromium, out.ours);
    },
    30_000,
    500,
  );
  out.keyFrameRequests = keyFrameRequests;
  out.written = Object.fromEntries(pumps.map((p) => [p.kind, p.written()]));
  out.received = received;
  console.log(JSON.stringify(out));
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  for (const p of pumps) p.stop();
  await ours?.close().catch(() => undefined);
  await browser.close();
  server.close();
}

/**
 * kvs-webrtc writes the H.264 sample at 25 fps, answering key-frame requests with the
 * sample's next IDR (an encoder would make one). With interFramesFirst it starts just after
 * the first IDR and sends no IDR until asked.
 */
function videoPump(t, requests) {
  const frames = h264Samples(250);
  const keys = frames.map((f, i) => (isKeyPicture(f) ? i : -1)).filter((i) => i >= 0);
  let i = o.interFramesFirst ? (keys[0] ?? 0) + 1 : 0;
  let asked = !o.interFramesFirst;
  let n = 0;
  t.on('keyframerequest', (r) => {
    requests.push(r.reason);
    // With interFramesFirst only Chromium's asking counts: our own sender asks too when the
    // first frame is no key frame ('first-frame'), and that must not be the IDR's cause.
    if (o.interFramesFirst && r.reason !== 'pli' && r.reason !== 'fir') return;
    asked = true;
    i = keys.find((k) => k >= i % frames.length) ?? keys[0];
  });
  const tick = setInterval(() => {
    let idx = i % frames.length;
    // Until asked, the sample's IDRs are skipped: only inter frames go out.
    while (!asked && keys.includes(idx)) idx = ++i % frames.length;
    const frame = frames[idx];
    t.writeFrame({
      frameData: frame,
      presentationTs: n * 400_000,
      flags: isKeyPicture(frame) ? FrameFlags.KEY_FRAME : 0,
      index: n,
    });
    i++;
    n++;
  }, 40);
  return { kind: 'video', stop: () => clearInterval(tick), written: () => n };
}

/** kvs-webrtc writes the Opus sample, 20 ms packets. */
function audioPump(t) {
  const packets = opusSamples(500);
  let n = 0;
  const tick = setInterval(() => {
    t.writeFrame({ frameData: packets[n % packets.length], presentationTs: n * 200_000 });
    n++;
  }, 20);
  return { kind: 'audio', stop: () => clearInterval(tick), written: () => n };
}
