#!/usr/bin/env node
// The official JS SDK (amazon-kinesis-video-streams-webrtc 2.9, its browser bundle) as a viewer
// in headless Chromium, against a small master of ours (kvs-webrtc's SignalingClient and
// PeerConnection), through the local KVS service: all in the private network namespace of
// test/helpers/netns.ts. The master streams the H.264 and Opus samples to the viewer that
// connects. Prints one JSON line: what Chromium decoded, halfway and at the end.
//
//   node official-viewer.mjs '{"address": "10.99.0.1", "seconds": 5}'
/* global document, KVSWebRTC, RTCPeerConnection */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../scripts/lib/chromium.mjs';
import { h264Samples, isKeyPicture, opusSamples } from '../helpers/media-files.js';

const require = createRequire(import.meta.url);
const { PeerConnection, SignalingClient, FrameFlags } = require('../../dist/index.js');
const { startLocalKvs } = require('../../dist/local/index.js');
const { address, seconds = 5 } = JSON.parse(process.argv[2] ?? '{}');
const VIEWER_ID = 'chromium-viewer';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const timer = setTimeout(
  () => {
    console.log(JSON.stringify({ error: 'timed out' }));
    process.exit(2);
  },
  60_000 + seconds * 1000,
);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-official-viewer-'));
const svc = await startLocalKvs({ port: 0, turn: false, dataDir, log: () => undefined });
// The page and the SDK's bundle from http://127.0.0.1 (a secure context: the SDK signs with
// WebCrypto).
const bundle = require.resolve('amazon-kinesis-video-streams-webrtc/dist/kvs-webrtc.min.js');
const server = http.createServer((req, res) => {
  if (req.url === '/kvs-webrtc.min.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' });
    res.end(fs.readFileSync(bundle));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><html><body><script src="/kvs-webrtc.min.js"></script></body></html>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: CHROMIUM_EXECUTABLE,
  args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
});

const out = {};
let master;
const peers = [];
try {
  // --- The master: SignalingClient + one PeerConnection per viewer that offers. ---
  master = new SignalingClient({
    channelName: 'official-viewer-media',
    role: 'MASTER',
    region: svc.region,
    credentials: svc.credentials,
    endpoint: svc.endpoint,
    caCert: svc.caCert,
    createIfMissing: true,
  });
  const streaming = new Promise((resolve, reject) => {
    master.on('sdpOffer', (offer, viewerId) => {
      void answerViewer(offer, viewerId).then(resolve, reject);
    });
  });
  const candidatesFor = new Map(); // viewer -> { pc, held }
  master.on('iceCandidate', (c, viewerId) => {
    const v = candidatesFor.get(viewerId);
    if (v?.pc.remoteDescription) void v.pc.addIceCandidate(c).catch(() => undefined);
    else if (v) v.held.push(c);
  });
  async function answerViewer(offer, viewerId) {
    const pc = new PeerConnection({ interfaces: { only: [address] } });
    peers.push(pc);
    const entry = { pc, held: [] };
    candidatesFor.set(viewerId, entry);
    pc.on('icecandidate', (c) => c && void master.sendIceCandidate(c, viewerId));
    const connected = new Promise((resolve, reject) =>
      pc.on('connectionstatechange', (s) =>
        s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
      ),
    );
    await pc.setRemoteDescription(offer);
    const video = await pc.addTransceiver({
      kind: 'video',
      codecs: ['H264'],
      direction: 'sendonly',
    });
    const audio = await pc.addTransceiver({
      kind: 'audio',
      codecs: ['opus'],
      direction: 'sendonly',
    });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await master.sendSdpAnswer(answer, viewerId);
    for (const c of entry.held.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
    await connected;
    return { video, audio };
  }
  await master.connect();

  // --- The viewer: the official SDK's SignalingClient and a plain RTCPeerConnection. ---
  const context = await browser.newContext({ ignoreHTTPSErrors: true }); // the local CA
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.evaluate(
    ({ channelARN, endpoint, region, credentials, clientId }) => {
      const pc = new RTCPeerConnection({ iceServers: [] });
      globalThis.pc = pc;
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.ontrack = (e) => {
        const el = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
        el.muted = true;
        el.autoplay = true;
        el.srcObject = new MediaStream([e.track]);
        document.body.appendChild(el);
        void el.play().catch(() => undefined);
      };
      const signaling = new KVSWebRTC.SignalingClient({
        channelARN,
        channelEndpoint: endpoint,
        role: KVSWebRTC.Role.VIEWER,
        region,
        clientId,
        credentials,
      });
      globalThis.signaling = signaling;
      pc.onicecandidate = (e) => e.candidate && signaling.sendIceCandidate(e.candidate);
      signaling.on('open', async () => {
        await pc.setLocalDescription(await pc.createOffer());
        signaling.sendSdpOffer(pc.localDescription);
      });
      signaling.on('sdpAnswer', (answer) => void pc.setRemoteDescription(answer));
      signaling.on('iceCandidate', (c) => void pc.addIceCandidate(c));
      globalThis.connected = new Promise((resolve, reject) => {
        pc.onconnectionstatechange = () =>
          pc.connectionState === 'connected'
            ? resolve()
            : pc.connectionState === 'failed'
              ? reject(new Error('chromium failed'))
              : undefined;
      });
      signaling.open();
    },
    {
      channelARN: master.channelARN,
      endpoint: master.endpoints.wss,
      region: svc.region,
      credentials: svc.credentials,
      clientId: VIEWER_ID,
    },
  );
  const { video, audio } = await streaming;
  await page.evaluate(() => globalThis.connected);

  // --- Media: the samples at 25 fps and 50 packets a second. ---
  const frames = h264Samples(250);
  const packets = opusSamples(500);
  let n = 0;
  let m = 0;
  let i = 0;
  video.on('keyframerequest', () => {
    i = Math.ceil((i % 250) / 25) * 25; // the sample's next IDR stands in for a fresh one
  });
  const videoTick = setInterval(() => {
    const frame = frames[i % 250];
    video.writeFrame({
      frameData: frame,
      presentationTs: n * 400_000,
      flags: isKeyPicture(frame) ? FrameFlags.KEY_FRAME : 0,
    });
    i++;
    n++;
  }, 40);
  const audioTick = setInterval(() => {
    audio.writeFrame({ frameData: packets[m % 500], presentationTs: m * 200_000 });
    m++;
  }, 20);
  const stats = () =>
    page.evaluate(async () => {
      const r = {};
      (await globalThis.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') r[s.kind] = s;
        if (s.type === 'codec') r[s.id] = s;
      });
      return r;
    });
  await sleep(seconds * 500);
  out.halfway = await stats();
  await sleep(seconds * 500);
  clearInterval(videoTick);
  clearInterval(audioTick);
  out.end = await stats();
  out.written = { video: n, audio: m };
  out.viewer = VIEWER_ID;
  console.log(JSON.stringify(out));
  await page.evaluate(() => globalThis.signaling.close());
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await Promise.all(peers.map((p) => p.close()));
  await master?.close();
  await browser.close();
  server.close();
  await svc.stop({ graceful: false });
  fs.rmSync(dataDir, { recursive: true, force: true });
}
