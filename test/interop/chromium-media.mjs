#!/usr/bin/env node
// Media between one kvs-webrtc peer and one headless Chromium RTCPeerConnection, both in the
// private network namespace that test/helpers/netns.ts makes (Chromium never gathers
// loopback). Signaling goes through Playwright. Prints one JSON line: both sides' statistics
// and what kvs-webrtc received.
//
//   node chromium-media.mjs '<options as JSON>'
//
// Options (all but address optional):
//   address          the namespace's address (host candidates of both sides)
//   offerer          'kvs' | 'chromium' (default 'kvs')
//   sender           'kvs': kvs-webrtc writes the samples, Chromium decodes them
//                    'chromium': Chromium sends its fake camera and microphone, kvs-webrtc
//                    receives (video written to `annexBPath` as one Annex-B stream)
//   video            'H264' | 'VP8' | null (default 'H264'); audio: true | false (default true)
//   seconds          how long media flows (default 5)
//   parameterSetsOnce  kvs sends H.264 whose IDRs lack SPS/PPS: the parameter sets are written
//                    once, as a frame of their own, before the first IDR (as from an MP4's avcC)
//   avcc             kvs writes H.264 length-prefixed (AVCC) instead of Annex-B
//   lossProbability  random loss staged in the namespace (iptables statistic on every UDP
//                    datagram delivered), from the start
//   noRtx            strip RTX from the SDP kvs-webrtc hands to Chromium (so that Chromium's
//                    probing and repair use the media SSRC)
//   annexBPath       where the H.264 Chromium sends is written
/* global document, RTCPeerConnection */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../scripts/lib/chromium.mjs';
import {
  h264Samples,
  isKeyPicture,
  isVp8Key,
  nalUnits,
  h264Type,
  opusSamples,
  stripParameterSets,
  toLengthPrefixed,
  vp8Frames,
} from '../helpers/media-files.js';

const require = createRequire(import.meta.url);
const { PeerConnection, FrameFlags } = require('../../dist/index.js');

const o = {
  offerer: 'kvs',
  sender: 'kvs',
  video: 'H264',
  audio: true,
  seconds: 5,
  ...JSON.parse(process.argv[2] ?? '{}'),
};
const DEADLINE_MS = 40_000 + o.seconds * 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A page on http://127.0.0.1 is a secure context (getUserMedia needs one; about:blank is not).
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><html><body></body></html>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${server.address().port}/`;

if (o.lossProbability) {
  const r = spawnSync('iptables', [
    ...['-A', 'INPUT', '-p', 'udp', '-m', 'statistic', '--mode', 'random'],
    ...['--probability', String(o.lossProbability), '-j', 'DROP'],
  ]);
  if (r.status !== 0) throw new Error(`iptables: ${r.stderr}`);
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

/** RTX out of an SDP (rtpmap/fmtp of the rtx payload types, their m-line entries, FID groups). */
function withoutRtx(sdp) {
  const rtx = new Set([...sdp.matchAll(/^a=rtpmap:(\d+) rtx\//gm)].map((m) => m[1]));
  const fidSsrcs = new Set([...sdp.matchAll(/^a=ssrc-group:FID \d+ (\d+)/gm)].map((m) => m[1]));
  return sdp
    .split('\r\n')
    .filter((l) => {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(l)?.[1];
      if (pt && rtx.has(pt)) return false;
      if (l.startsWith('a=ssrc-group:FID')) return false;
      const ssrc = /^a=ssrc:(\d+)/.exec(l)?.[1];
      return !(ssrc && fidSsrcs.has(ssrc));
    })
    .map((l) =>
      l.startsWith('m=')
        ? l
            .split(' ')
            .filter((f, i) => i < 3 || !rtx.has(f))
            .join(' ')
        : l,
    )
    .join('\r\n');
}
const toChromiumSdp = (sdp) => (o.noRtx ? withoutRtx(sdp) : sdp);

const out = { options: o };
let ours;
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
  await page.evaluate(
    async ({ sender, video, audio }) => {
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
      if (sender === 'chromium') {
        globalThis.media = await navigator.mediaDevices.getUserMedia({
          video: video ? { width: { exact: 640 }, height: { exact: 480 }, frameRate: 25 } : false,
          audio,
        });
      }
    },
    { sender: o.sender, video: o.video, audio: o.audio },
  );
  const toChromium = (c) =>
    page.evaluate((cand) => {
      const add = () => globalThis.pc.addIceCandidate({ candidate: cand, sdpMid: '0' });
      if (globalThis.pc.remoteDescription) return add();
      globalThis.held.push(cand);
      return undefined;
    }, c);
  const flushChromium = () =>
    page.evaluate(() =>
      Promise.all(
        globalThis.held
          .splice(0)
          .map((c) => globalThis.pc.addIceCandidate({ candidate: c, sdpMid: '0' })),
      ),
    );
  ours.on('icecandidate', (c) => c && void toChromium(c.candidate).catch(() => undefined));

  const ourDirection = o.sender === 'kvs' ? 'sendonly' : 'recvonly';
  const kinds = [...(o.video ? ['video'] : []), ...(o.audio ? ['audio'] : [])];
  const ourInit = (kind) => ({
    kind,
    direction: ourDirection,
    codecs: kind === 'video' ? [o.video] : ['opus'],
  });
  // Chromium's side of each m-line: tracks of its fake devices when it sends, recvonly
  // transceivers when it receives (or nothing: an answer to our offer makes them).
  const chromiumAddsMedia = (offering) =>
    page.evaluate(
      ({ offering: off, sends, kinds: ks }) => {
        const pc = globalThis.pc;
        for (const kind of ks) {
          if (sends) {
            const track = globalThis.media.getTracks().find((t) => t.kind === kind);
            if (kind === 'video') track.contentHint = 'detail'; // keep 640x480 under load
            const sender = pc.addTrack(track, globalThis.media);
            if (kind === 'video') {
              const p = sender.getParameters();
              p.degradationPreference = 'maintain-resolution';
              void sender.setParameters(p).catch(() => undefined);
            }
          } else if (off) {
            pc.addTransceiver(kind, { direction: 'recvonly' });
          }
        }
      },
      { offering, sends: o.sender === 'chromium', kinds },
    );

  const transceivers = {};
  // Frames go to listeners present when they are emitted, so ours listen from the start:
  // listening after `connected` would miss the first key frame whenever Chromium is quick.
  const received = { video: [], audio: [] };
  const listen = (kind) => {
    if (o.sender === 'chromium') transceivers[kind].on('frame', (f) => received[kind].push(f));
  };
  if (o.offerer === 'kvs') {
    for (const kind of kinds) {
      transceivers[kind] = await ours.addTransceiver(ourInit(kind));
      listen(kind);
    }
    const offer = await ours.createOffer();
    await ours.setLocalDescription(offer);
    out.offer = offer.sdp;
    await chromiumAddsMedia(false);
    const answer = await page.evaluate(async (sdp) => {
      await globalThis.pc.setRemoteDescription({ type: 'offer', sdp });
      // Chromium's transceivers made by the offer: receive only, or send its tracks.
      const a = await globalThis.pc.createAnswer();
      await globalThis.pc.setLocalDescription(a);
      return a.sdp;
    }, toChromiumSdp(offer.sdp));
    out.answer = answer;
    await flushChromium();
    await ours.setRemoteDescription({ type: 'answer', sdp: answer });
  } else {
    await chromiumAddsMedia(true);
    const offer = await page.evaluate(async () => {
      const off = await globalThis.pc.createOffer();
      await globalThis.pc.setLocalDescription(off);
      return off.sdp;
    });
    out.offer = offer;
    await ours.setRemoteDescription({ type: 'offer', sdp: offer });
    for (const kind of kinds) {
      transceivers[kind] = await ours.addTransceiver(ourInit(kind));
      listen(kind);
    }
    const answer = await ours.createAnswer();
    await ours.setLocalDescription(answer);
    out.answer = answer.sdp;
    await page.evaluate(
      (sdp) => globalThis.pc.setRemoteDescription({ type: 'answer', sdp }),
      toChromiumSdp(answer.sdp),
    );
    await flushChromium();
  }
  for (const c of held.splice(0)) await ours.addIceCandidate(c).catch(() => undefined);
  await Promise.all([ourConnected, page.evaluate(() => globalThis.connected)]);

  const keyFrameRequests = [];
  const pumps = [];
  if (o.sender === 'kvs') {
    if (transceivers.video) pumps.push(videoPump(transceivers.video, keyFrameRequests));
    if (transceivers.audio) pumps.push(audioPump(transceivers.audio));
  }
  const chromiumStats = () =>
    page.evaluate(async () => {
      const r = { inbound: {}, outbound: {}, codecs: {}, remoteInbound: {} };
      (await globalThis.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') r.inbound[s.kind] = s;
        if (s.type === 'outbound-rtp') r.outbound[s.kind] = s;
        if (s.type === 'remote-inbound-rtp') r.remoteInbound[s.kind] = s;
        if (s.type === 'codec') r.codecs[s.id] = s;
      });
      return r;
    });
  // Halfway, and at the end: what Chromium decoded must keep growing.
  await sleep(o.seconds * 500);
  out.chromiumHalfway = await chromiumStats();
  await sleep(o.seconds * 500);
  for (const p of pumps) p.stop();
  await sleep(500); // the last packets and reports
  out.chromium = await chromiumStats();
  const stats = [...(await ours.getStats()).values()];
  out.ours = {
    inbound: Object.fromEntries(
      stats.filter((s) => s.type === 'inbound-rtp').map((s) => [s.kind, s]),
    ),
    outbound: Object.fromEntries(
      stats.filter((s) => s.type === 'outbound-rtp').map((s) => [s.kind, s]),
    ),
    codecs: stats.filter((s) => s.type === 'codec'),
  };
  out.keyFrameRequests = keyFrameRequests;
  out.written = Object.fromEntries(pumps.map((p) => [p.kind, p.written()]));
  if (o.sender === 'chromium') {
    const v = received.video;
    out.received = {
      video: {
        frames: v.length,
        keyFrames: v.filter((f) => (f.flags & FrameFlags.KEY_FRAME) !== 0).length,
        firstIsKey: v.length > 0 && (v[0].flags & FrameFlags.KEY_FRAME) !== 0,
        bytes: v.reduce((n, f) => n + f.frameData.length, 0),
        lastPts: v.at(-1)?.presentationTs ?? 0,
        ptsIncreasing: v.every((f, i) => i === 0 || f.presentationTs > v[i - 1].presentationTs),
      },
      audio: {
        frames: received.audio.length,
        minBytes: Math.min(...received.audio.map((f) => f.frameData.length)),
        maxBytes: Math.max(...received.audio.map((f) => f.frameData.length)),
        ptsSteps: [
          ...new Set(
            received.audio.slice(1).map((f, i) => f.rtpTimestamp - received.audio[i].rtpTimestamp),
          ),
        ].slice(0, 8),
      },
    };
    if (o.annexBPath && o.video === 'H264') {
      fs.writeFileSync(o.annexBPath, Buffer.concat(v.map((f) => f.frameData)));
    }
  }
  console.log(JSON.stringify(out));
  await ours.close();
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await browser.close();
  server.close();
}

/** kvs-webrtc writes the video sample at 25 fps, answering key-frame requests with an IDR. */
function videoPump(t, requests) {
  const frames = o.video === 'VP8' ? vp8Frames() : h264Samples(250);
  const isKey = (f) => (o.video === 'VP8' ? isVp8Key(f) : isKeyPicture(f));
  const keys = frames.map((f, i) => (isKey(f) ? i : -1)).filter((i) => i >= 0);
  let i = 0;
  let n = 0;
  let written = 0;
  let parameterSetsSent = false;
  t.on('keyframerequest', (r) => {
    requests.push(r.reason);
    // An encoder would make a key frame now: the next IDR of the sample stands in for it.
    i = keys.find((k) => k >= i % frames.length) ?? keys[0];
  });
  const write = (frameData, key) => {
    t.writeFrame({
      frameData: o.avcc ? toLengthPrefixed(frameData) : frameData,
      presentationTs: n * 400_000,
      flags: key ? FrameFlags.KEY_FRAME : 0,
      index: n,
    });
    written++;
  };
  const tick = setInterval(() => {
    const idx = i % frames.length;
    let frame = frames[idx];
    const key = isKey(frame);
    if (o.video === 'H264' && o.parameterSetsOnce) {
      if (!parameterSetsSent && key) {
        // The codec configuration once, on its own (an avcC's SPS and PPS), then the IDR
        // without them; every later IDR lacks them too.
        const ps = nalUnits(frame).filter((x) => h264Type(x) === 7 || h264Type(x) === 8);
        write(Buffer.concat(ps.flatMap((x) => [Buffer.from([0, 0, 0, 1]), x])), false);
        parameterSetsSent = true;
      }
      if (key) frame = stripParameterSets(frame);
    }
    write(frame, key);
    i++;
    n++;
  }, 40);
  return { kind: 'video', stop: () => clearInterval(tick), written: () => written };
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
