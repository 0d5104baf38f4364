// A kvs-webrtc peer and a werift 0.24 peer (pure TypeScript, its own SCTP) connected on
// loopback, for the data-channel interop suites. werift binds to the interface address given
// and announces loopback only when told to; it also announces the machine's other addresses
// whatever the options say, so those are dropped from its descriptions and its checks are
// kept to loopback pairs. It puts its candidates in its description (it waits for gathering);
// ours trickle to it once it has our description.
import { clearTimeout, setTimeout } from 'node:timers';
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import { PeerConnection } from '../../lib/index.js';
import type { StreamSink } from './dc.js';
import { LOOPBACK, waitForState } from './peers.js';

export function weriftPeer(): RTCPeerConnection {
  return new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host.startsWith('127.'),
  });
}

export function weriftConnected(peer: RTCPeerConnection, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (peer.connectionState === 'connected') {
      resolve();
      return;
    }
    const timer = setTimeout(
      () => reject(new Error(`werift stuck in ${peer.connectionState}`)),
      ms,
    );
    peer.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (s === 'failed') {
        clearTimeout(timer);
        reject(new Error('werift failed'));
      }
    });
  });
}

/** A description with werift's non-loopback candidates removed; fails if none is left. */
export function onlyLoopback(sdp: string): string {
  const lines = sdp.split('\r\n');
  const kept = lines.filter(
    (l) => !l.startsWith('a=candidate:') || l.split(' ')[4] === '127.0.0.1',
  );
  if (!kept.some((l) => l.startsWith('a=candidate:'))) {
    throw new Error('werift announced no loopback candidate');
  }
  return kept.join('\r\n');
}

export interface WeriftPair {
  ours: PeerConnection;
  theirs: RTCPeerConnection;
  /** Channels werift announced (onDataChannel), in order. */
  announced: RTCDataChannel[];
  close(): Promise<void>;
}

/** Connects the two, `who` offering, after `prepare` made the channels (see connectNdc). */
export async function connectWerift(
  who: 'kvs offers' | 'werift offers',
  prepare: (ours: PeerConnection, theirs: RTCPeerConnection) => void | Promise<void>,
): Promise<WeriftPair> {
  const ours = new PeerConnection(LOOPBACK);
  const theirs = weriftPeer();
  const announced: RTCDataChannel[] = [];
  theirs.onDataChannel.subscribe((c) => announced.push(c));
  const close = async () => {
    await ours.close();
    await theirs.close();
  };
  try {
    const theirState = weriftConnected(theirs);
    const held: string[] = [];
    let theirsReady = false;
    // A rejection of werift's addIceCandidate is left unhandled on purpose: vitest fails the
    // run on it.
    ours.on('icecandidate', (c) => {
      if (!c) return;
      if (theirsReady)
        void theirs.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? '0' });
      else held.push(c.candidate);
    });
    const release = async () => {
      theirsReady = true;
      for (const c of held.splice(0)) await theirs.addIceCandidate({ candidate: c, sdpMid: '0' });
    };
    await prepare(ours, theirs);
    if (who === 'kvs offers') {
      const offer = await ours.createOffer();
      await ours.setLocalDescription(offer);
      await theirs.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      await release();
      await theirs.setLocalDescription(await theirs.createAnswer());
      const sdp = onlyLoopback(theirs.localDescription?.sdp ?? '');
      await ours.setRemoteDescription({ type: 'answer', sdp });
    } else {
      await theirs.setLocalDescription(await theirs.createOffer());
      const offer = onlyLoopback(theirs.localDescription?.sdp ?? '');
      await ours.setRemoteDescription({ type: 'offer', sdp: offer });
      const answer = await ours.createAnswer();
      await ours.setLocalDescription(answer);
      await theirs.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      await release();
    }
    await Promise.all([waitForState(ours, 'connected'), theirState]);
    return { ours, theirs, announced, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export function weriftCollect(channel: RTCDataChannel): (string | Buffer)[] {
  const got: (string | Buffer)[] = [];
  channel.onMessage.subscribe((m) => got.push(m));
  return got;
}

export function weriftOpened(channel: RTCDataChannel, ms = 30_000): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('werift channel never opened')), ms);
    channel.stateChanged.subscribe((s) => {
      if (s === 'open') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

export function weriftClosed(channel: RTCDataChannel): Promise<void> {
  if (channel.readyState === 'closed') return Promise.resolve();
  return new Promise((resolve) => {
    channel.stateChanged.subscribe((s) => {
      if (s === 'closed') resolve();
    });
  });
}

export function weriftSink(channel: RTCDataChannel): StreamSink {
  return {
    send: (data) => channel.send(data),
    bufferedAmount: () => channel.bufferedAmount,
    setLowThreshold: (bytes) => {
      channel.bufferedAmountLowThreshold = bytes;
    },
    onLow: (listener) => channel.bufferedAmountLow.subscribe(listener),
  };
}
