#!/usr/bin/env node
// One kvs-webrtc peer for the NAT tests, run inside a network namespace. Signaling is JSON
// lines: offers, answers and candidates on stdin and stdout. Prints {"type":"connected"} with
// the selected pair's candidates once connected.
//   node nat-peer.mjs '<json config: role, address, iceServers>'
import { createRequire } from 'node:module';
import readline from 'node:readline';
import { setTimeout } from 'node:timers';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const config = JSON.parse(process.argv[2]);
const send = (msg) => {
  if (process.env.NAT_DEBUG) process.stderr.write(`[${config.address}] ${JSON.stringify(msg)}\n`);
  process.stdout.write(`${JSON.stringify(msg)}\n`);
};

const pc = new PeerConnection({
  iceServers: config.iceServers,
  interfaces: { only: [config.address] },
  iceTransportPolicy: config.policy ?? 'all',
});
const held = [];
pc.on('icecandidate', (c) => send({ type: 'candidate', candidate: c ? c.candidate : null }));
pc.on('connectionstatechange', async (state) => {
  if (state === 'failed') {
    const stats = await pc.getStats();
    const pairs = [...stats.values()]
      .filter((s) => s.type === 'candidate-pair')
      .map((p) => {
        const l = stats.get(String(p.localCandidateId));
        const r = stats.get(String(p.remoteCandidateId));
        return `${l?.candidateType} ${l?.address}:${l?.port} -> ${r?.candidateType} ${r?.address}:${r?.port} ${p.state} req ${p.requestsSent}/${p.requestsReceived} resp ${p.responsesReceived}/${p.responsesSent}`;
      });
    const servers = [...stats.values()]
      .filter((s) => s.type === 'ice-server')
      .map((s) => `${s.url} req ${s.totalRequestsSent} resp ${s.totalResponsesReceived}`);
    send({ type: 'failed', pairs, servers });
  }
  if (state !== 'connected') return;
  const stats = await pc.getStats();
  const pair = stats.get(String(stats.get('transport-0')?.selectedCandidatePairId));
  const local = stats.get(String(pair?.localCandidateId));
  const remote = stats.get(String(pair?.remoteCandidateId));
  const gathered = [...stats.values()]
    .filter((s) => s.type === 'local-candidate')
    .map((s) => `${s.candidateType} ${s.address}`);
  send({
    type: 'connected',
    local: { type: local?.candidateType, address: local?.address },
    remote: { type: remote?.candidateType, address: remote?.address },
    gathered,
  });
});

const flush = async () => {
  while (held.length > 0 && pc.remoteDescription) await pc.addIceCandidate(held.shift());
};

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const msg = JSON.parse(line);
  if (msg.type === 'start') {
    await pc.enableDataChannels();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send({ type: 'offer', sdp: offer.sdp });
  } else if (msg.type === 'offer') {
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    send({ type: 'answer', sdp: answer.sdp });
    await flush();
  } else if (msg.type === 'answer') {
    await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
    await flush();
  } else if (msg.type === 'candidate' && msg.candidate) {
    held.push(msg.candidate);
    await flush();
  } else if (msg.type === 'bye') {
    await pc.close();
    process.exit(0);
  }
});
// Bounded: a peer never outlives its test.
setTimeout(() => process.exit(3), 60_000).unref();
