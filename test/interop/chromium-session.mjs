#!/usr/bin/env node
// One kvs-webrtc peer and one headless Chromium RTCPeerConnection in the same network
// namespace (see test/interop/chromium.test.ts), signaling through Playwright. Prints one JSON
// line: what each side reports once both are connected.
//   node chromium-session.mjs kvs-offers|chromium-offers <address> [mdns]
// With "mdns", Chromium runs with its default settings: its host candidates are mDNS
// ".local" names, which kvs-webrtc resolves by multicast DNS inside the namespace.
import { createRequire } from 'node:module';
import { clearTimeout, setTimeout } from 'node:timers';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../scripts/lib/chromium.mjs';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const [mode, address, ...flags] = process.argv.slice(2);
const mdns = flags.includes('mdns');
// "ours-mdns": kvs-webrtc hides its own host addresses behind .local names too.
const oursMdns = flags.includes('ours-mdns');
const DEADLINE_MS = 60_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM_EXECUTABLE,
  args: mdns
    ? CHROMIUM_ARGS.filter((a) => !a.includes('WebRtcHideLocalIpsWithMdns'))
    : CHROMIUM_ARGS,
});
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, DEADLINE_MS);

try {
  const page = await browser.newPage();
  const ours = new PeerConnection({
    interfaces: { only: [address] },
    ...(oursMdns ? { mdnsHostCandidates: true } : {}),
  });
  const announced = [];
  const skipped = [];
  ours.on('candidateskipped', (c, why) => skipped.push({ candidate: c, why }));
  const gathered = [];
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
  await page.exposeFunction('toNode', (c) => {
    gathered.push(c);
    return addToOurs(c);
  });
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
  ours.on('icecandidate', (c) => {
    if (!c) return;
    announced.push(c.candidate);
    void toChromium(c.candidate);
  });

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
  if (mdns) {
    // Chromium's checks may reach us before its name resolves (a peer-reflexive source
    // first); wait, bounded, until every .local candidate has resolved or been skipped.
    const names = () =>
      new Set(gathered.filter((c) => / \S+\.local /.test(c)).map((c) => c.split(' ')[4]));
    for (let i = 0; i < 150; i++) {
      const remotes = [...(await ours.getStats()).values()].filter(
        (s) => s.type === 'remote-candidate' && s.candidateType !== 'prflx',
      );
      if (remotes.length + skipped.length >= names().size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (oursMdns) {
    // Likewise Chromium's resolution of our names may trail its first checks' answers.
    for (let i = 0; i < 150; i++) {
      const type = await page.evaluate(async () => {
        const all = new Map();
        (await globalThis.pc.getStats()).forEach((s) => all.set(s.id, s));
        const t = [...all.values()].find((s) => s.type === 'transport');
        const pair = all.get(t?.selectedCandidatePairId);
        return all.get(pair?.remoteCandidateId)?.candidateType;
      });
      if (type !== undefined && type !== 'prflx') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const ourStats = await ours.getStats();
  const ourTransport = ourStats.get('transport-0');
  const ourPair = ourStats.get(String(ourTransport?.selectedCandidatePairId));
  const describe = (c) =>
    c && { type: c.candidateType, address: c.address, port: c.port, protocol: c.protocol };
  const ourSelected = ourPair && {
    local: describe(ourStats.get(String(ourPair.localCandidateId))),
    remote: describe(ourStats.get(String(ourPair.remoteCandidateId))),
  };
  const theirs = await page.evaluate(async () => {
    const out = {};
    const all = new Map();
    (await globalThis.pc.getStats()).forEach((s) => {
      all.set(s.id, s);
      if (s.type === 'transport') out.transport = s;
      if (s.type === 'local-candidate') (out.local ??= []).push(s.address);
      if (s.type === 'remote-candidate') (out.remote ??= []).push(s.address);
    });
    const pair = all.get(out.transport?.selectedCandidatePairId);
    const d = (c) =>
      c && { type: c.candidateType, address: c.address, port: c.port, protocol: c.protocol };
    if (pair) {
      out.selected = {
        local: d(all.get(pair.localCandidateId)),
        remote: d(all.get(pair.remoteCandidateId)),
      };
    }
    return out;
  });
  console.log(
    JSON.stringify({ ours: ourTransport, ourSelected, theirs, gathered, skipped, announced }),
  );
  await ours.close();
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await browser.close();
}
