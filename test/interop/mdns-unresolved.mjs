#!/usr/bin/env node
// Two kvs-webrtc peers in a private network namespace (test/interop/mdns.test.ts). The
// answerer is also given a ".local" candidate that no host answers for: it must be queried
// for on the namespace's interface only, skipped with a reason once its time is up, and
// never hold up or fail the connection. Prints one JSON line.
import { createRequire } from 'node:module';
import { clearTimeout, setTimeout } from 'node:timers';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const [address] = process.argv.slice(2);
const NAME = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0.local';
const deadline = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, 60_000);

const config = { interfaces: { only: [address] } };
const a = new PeerConnection(config);
const b = new PeerConnection(config);
const skipped = [];
const gotSkip = new Promise((resolve) =>
  b.on('candidateskipped', (candidate, why) => {
    skipped.push({ candidate, why });
    resolve();
  }),
);
const states = [];
b.on('connectionstatechange', (s) => states.push(s));
const connected = (pc) =>
  new Promise((resolve, reject) =>
    pc.on('connectionstatechange', (s) =>
      s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
    ),
  );
try {
  const both = Promise.all([connected(a), connected(b)]);
  const held = [];
  a.on('icecandidate', (c) => c && held.push(c.candidate));
  b.on('icecandidate', (c) => c && void a.addIceCandidate(c.candidate).catch(() => {}));
  await a.enableDataChannels();
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  // The unresolvable name first, so that it is pending while the real candidates work.
  await b.addIceCandidate(`candidate:9 1 udp 2122260223 ${NAME} 50000 typ host generation 0`);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  const flush = async () => {
    while (held.length > 0) await b.addIceCandidate(held.shift());
  };
  await flush();
  a.on('icecandidate', () => void flush());
  await b.addIceCandidate(null); // end of candidates, while the name is still pending
  await both;
  const connectedBeforeSkip = skipped.length === 0;
  await gotSkip;
  console.log(
    JSON.stringify({ connectedBeforeSkip, skipped, states, finalState: b.connectionState }),
  );
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await Promise.all([a.close(), b.close()]);
}
