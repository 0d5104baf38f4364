#!/usr/bin/env node
// Two kvs-webrtc peers in a private network namespace whose UDP is dropped by iptables
// (test/interop/ice-tcp.test.ts): they must find each other over ICE-TCP host candidates
// and bring DTLS up over RFC 4571 framing. Prints one JSON line with each side's pair.
import { createRequire } from 'node:module';
import { clearTimeout, setTimeout } from 'node:timers';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const [address] = process.argv.slice(2);
const deadline = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, 60_000);

const config = { interfaces: { only: [address] } };
const a = new PeerConnection(config);
const b = new PeerConnection(config);
const connected = (pc) =>
  new Promise((resolve, reject) =>
    pc.on('connectionstatechange', (s) =>
      s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
    ),
  );
async function selected(pc) {
  const stats = await pc.getStats();
  const transport = stats.get('transport-0');
  const pair = stats.get(String(transport?.selectedCandidatePairId));
  const d = (c) => c && { type: c.candidateType, address: c.address, protocol: c.protocol };
  return {
    transport,
    local: d(stats.get(String(pair?.localCandidateId))),
    remote: d(stats.get(String(pair?.remoteCandidateId))),
  };
}
try {
  const both = Promise.all([connected(a), connected(b)]);
  const wire = (from, to) => {
    const held = [];
    from.on('icecandidate', (c) => {
      if (!c) return;
      held.push(c.candidate);
      if (to.remoteDescription) while (held.length) void to.addIceCandidate(held.shift());
    });
    return async () => {
      while (held.length) await to.addIceCandidate(held.shift());
    };
  };
  const flushToB = wire(a, b);
  const flushToA = wire(b, a);
  await a.addTransceiver({ kind: 'video', direction: 'sendrecv' });
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  await b.addTransceiver({ kind: 'video', direction: 'sendrecv' });
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  await flushToB();
  await flushToA();
  await both;
  console.log(JSON.stringify({ a: await selected(a), b: await selected(b) }));
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await Promise.all([a.close(), b.close()]);
}
