#!/usr/bin/env node
// One kvs-webrtc peer and one headless Chromium RTCPeerConnection in the same network
// namespace (see test/interop/chromium.test.ts), signaling through Playwright. Prints one JSON
// line: what each side reports once both are connected.
//   node chromium-session.mjs kvs-offers|chromium-offers <address>
import { createRequire } from 'node:module';
import { clearTimeout, setTimeout } from 'node:timers';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../scripts/lib/chromium.mjs';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const [mode, address] = process.argv.slice(2);
const DEADLINE_MS = 30_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM_EXECUTABLE,
  args: CHROMIUM_ARGS,
});
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, DEADLINE_MS);

try {
  const page = await browser.newPage();
  const ours = new PeerConnection({ interfaces: { only: [address] } });
  const ourConnected = new Promise((resolve, reject) =>
    ours.on('connectionstatechange', (s) =>
      s === 'connected'
        ? resolve()
        : s === 'failed'
          ? reject(new Error('kvs-webrtc failed'))
          : undefined,
    ),
  );
  // Candidates from Chromium are held until we have its description.
  const held = [];
  const addToOurs = (c) => {
    if (ours.remoteDescription) return ours.addIceCandidate(c);
    held.push(c);
    return undefined;
  };
  await page.exposeFunction('toNode', (c) => addToOurs(c));
  await page.evaluate(() => {
    // Runs in the page, where RTCPeerConnection is a global.
    const pc = new globalThis.RTCPeerConnection({ iceServers: [] });
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
  });
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
  ours.on('icecandidate', (c) => c && void toChromium(c.candidate));

  if (mode === 'kvs-offers') {
    await ours.addTransceiver({ kind: 'video', direction: 'sendrecv' });
    await ours.addTransceiver({ kind: 'audio', direction: 'sendrecv' });
    const offer = await ours.createOffer();
    await ours.setLocalDescription(offer);
    const answer = await page.evaluate(async (sdp) => {
      await globalThis.pc.setRemoteDescription({ type: 'offer', sdp });
      const a = await globalThis.pc.createAnswer();
      await globalThis.pc.setLocalDescription(a);
      return a.sdp;
    }, offer.sdp);
    await flushChromium();
    await ours.setRemoteDescription({ type: 'answer', sdp: answer });
  } else {
    const offer = await page.evaluate(async () => {
      globalThis.pc.addTransceiver('video', { direction: 'sendrecv' });
      globalThis.pc.addTransceiver('audio', { direction: 'sendrecv' });
      const o = await globalThis.pc.createOffer();
      await globalThis.pc.setLocalDescription(o);
      return o.sdp;
    });
    await ours.setRemoteDescription({ type: 'offer', sdp: offer });
    await ours.addTransceiver({ kind: 'video', direction: 'sendrecv' });
    await ours.addTransceiver({ kind: 'audio', direction: 'sendrecv' });
    const answer = await ours.createAnswer();
    await ours.setLocalDescription(answer);
    await page.evaluate(
      (sdp) => globalThis.pc.setRemoteDescription({ type: 'answer', sdp }),
      answer.sdp,
    );
    await flushChromium();
  }
  for (const c of held.splice(0)) await ours.addIceCandidate(c);

  await Promise.all([ourConnected, page.evaluate(() => globalThis.connected)]);
  const ourTransport = (await ours.getStats()).get('transport-0');
  const theirs = await page.evaluate(async () => {
    const out = {};
    (await globalThis.pc.getStats()).forEach((s) => {
      if (s.type === 'transport') out.transport = s;
      if (s.type === 'local-candidate') (out.local ??= []).push(s.address);
      if (s.type === 'remote-candidate') (out.remote ??= []).push(s.address);
    });
    return out;
  });
  console.log(JSON.stringify({ ours: ourTransport, theirs }));
  await ours.close();
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await browser.close();
}
