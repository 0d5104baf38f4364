#!/usr/bin/env node
// In a private network namespace (test/interop/mdns.test.ts): a kvs-webrtc peer that hides
// its host addresses behind .local names (mdnsHostCandidates) is answered for by its own
// responder: (1) an independent mDNS implementation (the multicast-dns package, which
// werift uses) resolves the name it signals, and (2) a second kvs-webrtc peer that hides
// its addresses too connects to it over resolved host candidates. Prints one JSON line.
import { createRequire } from 'node:module';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const multicastDns = require('multicast-dns');
// The interface's name is needed for IPv6 (ff02::fb is link-scoped).
const [address, iface = 'kvst0'] = process.argv.slice(2);
const deadline = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, 60_000);

const config = { interfaces: { only: [address] }, mdnsHostCandidates: true };
const a = new PeerConnection(config);
const b = new PeerConnection(config);
const announced = { a: [], b: [] };
const skipped = [];
for (const [pc, name] of [
  [a, 'a'],
  [b, 'b'],
]) {
  pc.on('candidateskipped', (candidate, why) => skipped.push({ side: name, candidate, why }));
}
const connected = (pc) =>
  new Promise((resolve, reject) =>
    pc.on('connectionstatechange', (s) =>
      s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
    ),
  );
async function selected(pc) {
  const stats = await pc.getStats();
  const pair = stats.get(String(stats.get('transport-0')?.selectedCandidatePairId));
  const d = (c) => c && { type: c.candidateType, address: c.address, protocol: c.protocol };
  return {
    local: d(stats.get(String(pair?.localCandidateId))),
    remote: d(stats.get(String(pair?.remoteCandidateId))),
    remotes: [...stats.values()]
      .filter((s) => s.type === 'remote-candidate')
      .map((s) => `${s.candidateType} ${s.protocol} ${s.address}`),
  };
}
/** Asks for `name` with multicast-dns, repeating every 500 ms; resolves with the A record. */
function independentLookup(name) {
  const v6 = address.includes(':');
  const m = multicastDns(
    v6
      ? { type: 'udp6', ip: 'ff02::fb', interface: `::%${iface}`, bind: '::', loopback: true }
      : { interface: address, bind: '0.0.0.0', loopback: true },
  );
  const type = v6 ? 'AAAA' : 'A';
  return new Promise((resolve) => {
    const ask = () => m.query({ questions: [{ name, type }] });
    const timer = setInterval(ask, 500);
    m.on('response', (res) => {
      const answer = res.answers.find((r) => r.type === type && r.name === name);
      if (!answer) return;
      clearInterval(timer);
      m.destroy();
      resolve(answer.data);
    });
    ask();
  });
}
try {
  const both = Promise.all([connected(a), connected(b)]);
  const wire = (from, to, log) => {
    const held = [];
    from.on('icecandidate', (c) => {
      if (!c) return;
      log.push(c.candidate);
      held.push(c.candidate);
      if (to.remoteDescription) while (held.length) void to.addIceCandidate(held.shift());
    });
    return async () => {
      while (held.length) await to.addIceCandidate(held.shift());
    };
  };
  const flushToB = wire(a, b, announced.a);
  const flushToA = wire(b, a, announced.b);
  await a.addTransceiver({ kind: 'audio', direction: 'sendrecv' });
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  await b.addTransceiver({ kind: 'audio', direction: 'sendrecv' });
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  await flushToB();
  await flushToA();
  await both;
  if (process.env.MDNS_DEBUG) console.error('connected', JSON.stringify(announced));
  const name = announced.a.map((c) => c.split(' ')[4]).find((h) => h.endsWith('.local'));
  const lookedUp = name ? await independentLookup(name) : undefined;
  // Resolution of the peer's names may trail the connection (checks arrive first): wait,
  // bounded, until neither side holds a peer-reflexive stand-in for a signalled host.
  let sa, sb;
  for (let i = 0; i < 100; i++) {
    [sa, sb] = [await selected(a), await selected(b)];
    if (sa.remote?.type === 'host' && sb.remote?.type === 'host') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(JSON.stringify({ announced, name, lookedUp, a: sa, b: sb, skipped }));
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await Promise.all([a.close(), b.close()]);
}
