// The four Node WebRTC stacks as data-channel peers for bench/datachannel.mjs. A pair is two
// processes, for every stack: the benchmark process is the offerer and sender, a child
// (bench/lib/dc-peer.mjs) the answerer and receiver, with signaling over the IPC channel
// between them. Each peer therefore has its own process, threads and CPU account, as on two
// machines. Each pair connects as bench/lib/stacks.mjs connects its stacks (and for the same
// reasons), with one warm-up channel opened by the offerer before the offer, so that the
// application m-line is negotiated and SCTP is up before anything is measured.
//
//   peer(address, signal, options) -> {
//     start()              the offerer: warm-up channel and offer
//     connected            resolves once connected and the warm-up channel is open
//     channel(label) -> { opened: Promise, sender }   makes a channel (offerer side)
//     onChannel(cb(label, receiver))                 channels the other side made
//     close()
//   }
//   signal: { send(msg), onMessage(cb) } carries descriptions and candidates.
//   sender: { send(buf), bufferedAmount(), setLowThreshold(n), onLow(cb) }, or for a stack
//     without a low event { send, bufferedAmount, waitLow(n) -> Promise }.
//   receiver: { onMessage(cb(byteLength)) }.
//
// Best configurations (beyond stacks.mjs's connection settings), the same on both peers:
// - kvs-webrtc: defaults (its SCTP tuning is built in: 2 MiB buffers, see sctp_association.cc).
// - node-datachannel 0.33: setSctpSettings with 2 MiB send and receive buffers (libdatachannel's
//   own default is 1 MiB; --ndc-defaults measures that instead). maxMessageSize stays 256 KiB.
// - @roamhq/wrtc 0.10: defaults; libwebrtc's data channels have no settings to give. Its
//   binding has no bufferedAmountLowThreshold and no bufferedamountlow event, so its sender
//   polls bufferedAmount every 1 ms while held back (the usual way with node-webrtc;
//   setImmediate would spin a core).
// - werift 0.24: defaults; it exposes no SCTP settings.
import { createRequire } from 'node:module';
import { setTimeout } from 'node:timers';
import { startStunResponder } from './stun-responder.mjs';

const require = createRequire(import.meta.url);

/** Remote candidates held until the remote description is set. */
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

function connectedPromise(subscribe) {
  return new Promise((resolve, reject) =>
    subscribe((s) =>
      s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : 0,
    ),
  );
}

export const DC_STACKS = {
  kvs: {
    name: 'kvs-webrtc',
    config: (address) => `interfaces.only [${address}]; SCTP defaults (2 MiB buffers)`,
    peer(address, signal) {
      const { PeerConnection } = require('../../dist/index.js');
      const pc = new PeerConnection({ interfaces: { only: [address] } });
      const connected = connectedPromise((f) => pc.on('connectionstatechange', f));
      const remote = candidateQueue((c) => pc.addIceCandidate(c).catch(() => {}));
      pc.on('icecandidate', (c) => c && signal.send({ kind: 'candidate', candidate: c.candidate }));
      let warmOpen = Promise.resolve();
      let channelListener = () => {};
      pc.on('datachannel', (ch) =>
        channelListener(ch.label, { onMessage: (cb) => ch.on('message', (m) => cb(m.length)) }),
      );
      signal.onMessage(async (m) => {
        if (m.kind === 'candidate') remote.push(m.candidate);
        else if (m.kind === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          remote.open();
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          signal.send({ kind: 'answer', sdp: answer.sdp });
        } else if (m.kind === 'answer') {
          await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          remote.open();
        }
      });
      const opened = (ch) =>
        new Promise((r) => (ch.readyState === 'open' ? r() : ch.once('open', r)));
      return {
        async start() {
          const warm = pc.createDataChannel('warm');
          warmOpen = opened(warm);
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          signal.send({ kind: 'offer', sdp: offer.sdp });
        },
        get connected() {
          return connected.then(() => warmOpen);
        },
        channel(label) {
          const ch = pc.createDataChannel(label);
          return {
            opened: opened(ch),
            sender: {
              send: (buf) => ch.send(buf),
              bufferedAmount: () => ch.bufferedAmount,
              setLowThreshold: (n) => {
                ch.bufferedAmountLowThreshold = n;
              },
              onLow: (cb) => ch.on('bufferedamountlow', cb),
            },
          };
        },
        onChannel(cb) {
          channelListener = cb;
        },
        close: () => pc.close(),
      };
    },
  },

  ndc: {
    name: 'node-datachannel',
    config: (address, o) =>
      `bindAddress ${address}, no STUN; ${o.ndcDefaults ? 'SCTP defaults (1 MiB buffers)' : 'setSctpSettings 2 MiB send/receive buffers'}`,
    peer(address, signal, o) {
      const ndc = require('node-datachannel');
      if (!o.ndcDefaults) {
        ndc.setSctpSettings({ sendBufferSize: 2 * 1024 * 1024, recvBufferSize: 2 * 1024 * 1024 });
      }
      const pc = new ndc.PeerConnection('bench', { iceServers: [], bindAddress: address });
      // node-datachannel crashes when an open channel's wrapper is garbage-collected.
      const keep = [];
      let closed = false;
      const connected = connectedPromise((f) => pc.onStateChange(f));
      const remote = candidateQueue(([c, mid]) => !closed && pc.addRemoteCandidate(c, mid));
      pc.onLocalCandidate((candidate, mid) => signal.send({ kind: 'candidate', candidate, mid }));
      pc.onLocalDescription((sdp, type) => signal.send({ kind: 'description', sdp, type }));
      signal.onMessage((m) => {
        if (m.kind === 'candidate') remote.push([m.candidate, m.mid]);
        else if (m.kind === 'description') {
          pc.setRemoteDescription(m.sdp, m.type);
          remote.open();
        }
      });
      let channelListener = () => {};
      pc.onDataChannel((ch) => {
        keep.push(ch);
        channelListener(ch.getLabel(), {
          onMessage: (cb) =>
            ch.onMessage((m) => cb(typeof m === 'string' ? m.length : m.byteLength)),
        });
      });
      const opened = (ch) => new Promise((r) => (ch.isOpen() ? r() : ch.onOpen(r)));
      let warmOpen = Promise.resolve();
      return {
        start() {
          // libdatachannel negotiates by itself once it has a channel.
          const warm = pc.createDataChannel('warm');
          keep.push(warm);
          warmOpen = opened(warm);
        },
        get connected() {
          return connected.then(() => warmOpen);
        },
        channel(label) {
          const ch = pc.createDataChannel(label);
          keep.push(ch);
          return {
            opened: opened(ch),
            sender: {
              send: (buf) => ch.sendMessageBinary(buf),
              bufferedAmount: () => ch.bufferedAmount(),
              setLowThreshold: (n) => ch.setBufferedAmountLowThreshold(n),
              onLow: (cb) => ch.onBufferedAmountLow(cb),
            },
          };
        },
        onChannel(cb) {
          channelListener = cb;
        },
        async close() {
          closed = true;
          for (const c of keep) {
            try {
              c.close();
            } catch {
              // closed already
            }
          }
          pc.close();
        },
      };
    },
  },

  wrtc: {
    name: '@roamhq/wrtc',
    config: () =>
      'no STUN (namespace address); no data-channel settings; no low event: polls bufferedAmount every 1 ms',
    peer(_address, signal) {
      const { RTCPeerConnection } = require('@roamhq/wrtc');
      const pc = new RTCPeerConnection({ iceServers: [] });
      const connected = connectedPromise((f) => {
        pc.onconnectionstatechange = () => f(pc.connectionState);
      });
      const remote = candidateQueue((c) => pc.addIceCandidate(c).catch(() => {}));
      pc.onicecandidate = (e) =>
        e.candidate &&
        signal.send({
          kind: 'candidate',
          candidate: {
            candidate: e.candidate.candidate,
            sdpMid: e.candidate.sdpMid,
            sdpMLineIndex: e.candidate.sdpMLineIndex,
          },
        });
      signal.onMessage(async (m) => {
        if (m.kind === 'candidate') remote.push(m.candidate);
        else if (m.kind === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          remote.open();
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          signal.send({ kind: 'answer', sdp: answer.sdp });
        } else if (m.kind === 'answer') {
          await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          remote.open();
        }
      });
      let channelListener = () => {};
      pc.ondatachannel = (e) => {
        const ch = e.channel;
        ch.binaryType = 'arraybuffer';
        channelListener(ch.label, {
          onMessage: (cb) => {
            ch.onmessage = (ev) =>
              cb(typeof ev.data === 'string' ? ev.data.length : ev.data.byteLength);
          },
        });
      };
      const opened = (ch) => new Promise((r) => (ch.readyState === 'open' ? r() : (ch.onopen = r)));
      let warmOpen = Promise.resolve();
      return {
        async start() {
          warmOpen = opened(pc.createDataChannel('warm'));
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          signal.send({ kind: 'offer', sdp: offer.sdp });
        },
        get connected() {
          return connected.then(() => warmOpen);
        },
        channel(label) {
          const ch = pc.createDataChannel(label);
          return {
            opened: opened(ch),
            sender: {
              send: (buf) => ch.send(buf),
              bufferedAmount: () => ch.bufferedAmount,
              waitLow: (n) =>
                new Promise((resolve) => {
                  const poll = () =>
                    ch.bufferedAmount <= n ? resolve() : void setTimeout(poll, 1);
                  poll();
                }),
            },
          };
        },
        onChannel(cb) {
          channelListener = cb;
        },
        async close() {
          pc.close();
        },
      };
    },
  },

  werift: {
    name: 'werift',
    config: (address) => `STUN responder on ${address}, udp4 ${address}, no IPv6; SCTP defaults`,
    async prepare(address) {
      // Gathering waits for a STUN server (see stacks.mjs): one per process.
      this.stun ??= await startStunResponder(address);
    },
    peer(address, signal) {
      const { RTCPeerConnection } = require('werift');
      const pc = new RTCPeerConnection({
        iceServers: [{ urls: `stun:${address}:${this.stun.address().port}` }],
        iceUseIpv6: false,
        iceInterfaceAddresses: { udp4: address },
      });
      const connected = connectedPromise((f) => pc.connectionStateChange.subscribe(f));
      const remote = candidateQueue((c) => pc.addIceCandidate(c).catch(() => {}));
      pc.onIceCandidate.subscribe(
        (c) =>
          c &&
          signal.send({
            kind: 'candidate',
            candidate: { candidate: c.candidate, sdpMid: c.sdpMid },
          }),
      );
      signal.onMessage(async (m) => {
        if (m.kind === 'candidate') remote.push(m.candidate);
        else if (m.kind === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          remote.open();
          await pc.setLocalDescription(await pc.createAnswer());
          signal.send({ kind: 'answer', sdp: pc.localDescription.sdp });
        } else if (m.kind === 'answer') {
          await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          remote.open();
        }
      });
      let channelListener = () => {};
      pc.onDataChannel.subscribe((ch) =>
        channelListener(ch.label, {
          onMessage: (cb) => ch.onMessage.subscribe((m) => cb(m.length)),
        }),
      );
      const opened = (ch) =>
        new Promise((r) =>
          ch.readyState === 'open' ? r() : ch.stateChanged.subscribe((s) => s === 'open' && r()),
        );
      let warmOpen = Promise.resolve();
      return {
        async start() {
          warmOpen = opened(pc.createDataChannel('warm'));
          await pc.setLocalDescription(await pc.createOffer());
          signal.send({ kind: 'offer', sdp: pc.localDescription.sdp });
        },
        get connected() {
          return connected.then(() => warmOpen);
        },
        channel(label) {
          const ch = pc.createDataChannel(label);
          return {
            opened: opened(ch),
            sender: {
              send: (buf) => ch.send(buf),
              bufferedAmount: () => ch.bufferedAmount,
              setLowThreshold: (n) => {
                ch.bufferedAmountLowThreshold = n;
              },
              onLow: (cb) => ch.bufferedAmountLow.subscribe(cb),
            },
          };
        },
        onChannel(cb) {
          channelListener = cb;
        },
        close: () => pc.close(),
      };
    },
  },
};
