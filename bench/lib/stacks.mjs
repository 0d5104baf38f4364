// The four Node WebRTC stacks the benchmarks compare, each configured at its best for a
// machine with no route to the Internet (a private network namespace, or loopback), and all
// wired the same way: offer/answer in order, candidates trickled to the other side once it
// has the remote description (held until then), one open transceiver (video, sendrecv).
//
//   module: what `require` loads (the footprint benchmark times it).
//   pair(address) -> { ms, close }: a connected pair, both ends in this process; `ms` is the
//   time from createOffer to both ends reporting `connected`.
//
// What each stack needs, and why (each found by reading its sources in node_modules):
// - kvs-webrtc: host candidates on `address` only (`interfaces.only`).
// - node-datachannel 0.33 (libdatachannel + libjuice): no STUN server, sockets bound to
//   `address`. It has no further knob that matters: about half of its connections take
//   1 s more, on loopback as in a namespace, because the first DTLS flight of the answerer
//   (the DTLS client) reaches the offerer before its DTLS transport exists and is dropped;
//   the handshake then waits for the 1 s DTLS retransmission timer. ICE itself completes in
//   about 2 ms. The benchmarks report that mode separately.
// - @roamhq/wrtc 0.10 (libwebrtc): no STUN server. libwebrtc never gathers loopback, so it
//   needs a non-loopback address (the namespace's veth).
// - werift 0.24: setLocalDescription waits for candidate gathering, and gathering queries a
//   STUN server with a 5 s timeout. With no STUN server configured werift falls back to
//   stun.l.google.com:19302 (ice.js: `validateAddress(stunServer) ?? [...]`), and there is no
//   option to turn that off: in a namespace (no DNS, no route) each setLocalDescription
//   therefore takes 5 s. Given a STUN server that answers, it takes about 2 ms; so werift
//   gets a minimal STUN Binding responder on `address` (./stun-responder.mjs), started once
//   per process. Its sockets are bound to `address` (iceInterfaceAddresses), IPv6 is off,
//   and on loopback `address` is added as a host address (werift leaves loopback out
//   otherwise) and pairs are kept to it.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { startStunResponder } from './stun-responder.mjs';

const require = createRequire(import.meta.url);
const TIMEOUT_MS = 10_000;

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out`)), TIMEOUT_MS);
    }),
  ]);
}

/** Candidates for `to`, held until `to` has a remote description. */
function candidateQueue(add) {
  const held = [];
  let ready = false;
  return {
    push(c) {
      if (ready) add(c);
      else held.push(c);
    },
    open() {
      ready = true;
      for (const c of held.splice(0)) add(c);
    },
  };
}

export const STACKS = {
  kvs: {
    name: 'kvs-webrtc',
    config: (address) => `interfaces.only [${address}]`,
    module: require.resolve('../../dist/index.js'),
    async pair(address) {
      const { PeerConnection } = require('../../dist/index.js');
      const make = () => new PeerConnection({ interfaces: { only: [address] } });
      const connected = (pc) =>
        new Promise((resolve, reject) =>
          pc.on('connectionstatechange', (s) =>
            s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : 0,
          ),
        );
      const a = make();
      const b = make();
      const close = () => Promise.all([a.close(), b.close()]);
      try {
        const both = Promise.all([connected(a), connected(b)]);
        const toB = candidateQueue((c) => b.addIceCandidate(c).catch(() => {}));
        const toA = candidateQueue((c) => a.addIceCandidate(c).catch(() => {}));
        a.on('icecandidate', (c) => c && toB.push(c.candidate));
        b.on('icecandidate', (c) => c && toA.push(c.candidate));
        await a.addTransceiver({ kind: 'video', direction: 'sendrecv' });
        const t0 = performance.now();
        const offer = await a.createOffer();
        await a.setLocalDescription(offer);
        await b.setRemoteDescription(offer);
        toB.open();
        const answer = await b.createAnswer();
        await b.setLocalDescription(answer);
        await a.setRemoteDescription(answer);
        toA.open();
        await withTimeout(both, 'kvs-webrtc');
        return { ms: performance.now() - t0, close };
      } catch (err) {
        await close();
        throw err;
      }
    },
  },

  ndc: {
    name: 'node-datachannel',
    config: (address) => `bindAddress ${address}, no STUN`,
    module: require.resolve('node-datachannel'),
    async pair(address) {
      const ndc = require('node-datachannel');
      const config = { iceServers: [], bindAddress: address };
      const a = new ndc.PeerConnection('a', config);
      const b = new ndc.PeerConnection('b', config);
      let closed = false;
      const close = () => {
        closed = true;
        a.close();
        b.close();
      };
      const connected = (pc) =>
        new Promise((resolve, reject) =>
          pc.onStateChange((s) =>
            s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : 0,
          ),
        );
      try {
        const both = Promise.all([connected(a), connected(b)]);
        // libdatachannel negotiates by itself: each description goes to the other side as it
        // comes, candidates once that side has it.
        const wire = (from, to) => {
          const q = candidateQueue(([c, mid]) => !closed && to.addRemoteCandidate(c, mid));
          from.onLocalCandidate((c, mid) => q.push([c, mid]));
          from.onLocalDescription((sdp, type) => {
            to.setRemoteDescription(sdp, type);
            q.open();
          });
        };
        wire(a, b);
        wire(b, a);
        const video = new ndc.Video('0', 'SendRecv');
        video.addH264Codec(96);
        a.addTrack(video);
        const t0 = performance.now();
        a.setLocalDescription();
        await withTimeout(both, 'node-datachannel');
        return { ms: performance.now() - t0, close };
      } catch (err) {
        close();
        throw err;
      }
    },
  },

  werift: {
    name: 'werift',
    config: (address) => `STUN responder on ${address}, udp4 ${address}, no IPv6`,
    module: require.resolve('werift'),
    stun: undefined,
    async pair(address) {
      const { RTCPeerConnection } = require('werift');
      this.stun ??= await startStunResponder(address);
      const stunUrl = `stun:${address}:${this.stun.address().port}`;
      const loopback = address.startsWith('127.');
      const make = () =>
        new RTCPeerConnection({
          iceServers: [{ urls: stunUrl }],
          iceUseIpv6: false,
          iceInterfaceAddresses: { udp4: address },
          ...(loopback
            ? {
                iceAdditionalHostAddresses: [address],
                iceFilterCandidatePair: (p) => p.remoteCandidate.host === address,
              }
            : {}),
        });
      const a = make();
      const b = make();
      const close = () => Promise.all([a.close(), b.close()]);
      const connected = (pc) =>
        new Promise((resolve, reject) =>
          pc.connectionStateChange.subscribe((s) =>
            s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : 0,
          ),
        );
      try {
        const both = Promise.all([connected(a), connected(b)]);
        const toB = candidateQueue((c) => b.addIceCandidate(c).catch(() => {}));
        const toA = candidateQueue((c) => a.addIceCandidate(c).catch(() => {}));
        a.onIceCandidate.subscribe((c) => c && toB.push(c));
        b.onIceCandidate.subscribe((c) => c && toA.push(c));
        a.addTransceiver('video', { direction: 'sendrecv' });
        const t0 = performance.now();
        await a.setLocalDescription(await a.createOffer());
        await b.setRemoteDescription(a.localDescription);
        toB.open();
        await b.setLocalDescription(await b.createAnswer());
        await a.setRemoteDescription(b.localDescription);
        toA.open();
        await withTimeout(both, 'werift');
        return { ms: performance.now() - t0, close };
      } catch (err) {
        await close();
        throw err;
      }
    },
  },

  wrtc: {
    name: '@roamhq/wrtc',
    config: () => 'no STUN (libwebrtc gathers no loopback: namespace address)',
    module: require.resolve('@roamhq/wrtc'),
    needsNonLoopback: true,
    async pair() {
      const { RTCPeerConnection } = require('@roamhq/wrtc');
      const a = new RTCPeerConnection({ iceServers: [] });
      const b = new RTCPeerConnection({ iceServers: [] });
      const close = () => {
        a.close();
        b.close();
      };
      const connected = (pc) =>
        new Promise((resolve, reject) => {
          pc.onconnectionstatechange = () =>
            pc.connectionState === 'connected'
              ? resolve()
              : pc.connectionState === 'failed'
                ? reject(new Error('failed'))
                : undefined;
        });
      try {
        const both = Promise.all([connected(a), connected(b)]);
        const toB = candidateQueue((c) => b.addIceCandidate(c).catch(() => {}));
        const toA = candidateQueue((c) => a.addIceCandidate(c).catch(() => {}));
        a.onicecandidate = (e) => e.candidate && toB.push(e.candidate);
        b.onicecandidate = (e) => e.candidate && toA.push(e.candidate);
        a.addTransceiver('video', { direction: 'sendrecv' });
        const t0 = performance.now();
        const offer = await a.createOffer();
        await a.setLocalDescription(offer);
        await b.setRemoteDescription(offer);
        toB.open();
        const answer = await b.createAnswer();
        await b.setLocalDescription(answer);
        await a.setRemoteDescription(answer);
        toA.open();
        await withTimeout(both, '@roamhq/wrtc');
        return { ms: performance.now() - t0, close };
      } catch (err) {
        close();
        throw err;
      }
    },
  },
};
