import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { describe, expect, it } from 'vitest';
import { PeerConnection } from '../../lib/index.js';
import { LOOPBACK, waitForState } from '../helpers/peers.js';

// werift binds its sockets to the interface address given (127.0.0.1) and announces loopback
// only when it is added explicitly; it also announces the machine's other addresses
// whatever the options say, so those are dropped from its descriptions (onlyLoopback) and
// its checks are kept to loopback pairs.
function weriftPeer(): RTCPeerConnection {
  return new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host.startsWith('127.'),
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          payloadType: 102,
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
    },
  });
}

function weriftConnected(peer: RTCPeerConnection, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
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
function onlyLoopback(sdp: string): string {
  const lines = sdp.split('\r\n');
  const kept = lines.filter(
    (l) => !l.startsWith('a=candidate:') || l.split(' ')[4] === '127.0.0.1',
  );
  expect(kept.filter((l) => l.startsWith('a=candidate:')).length).toBeGreaterThan(0);
  return kept.join('\r\n');
}

describe('interop with werift', () => {
  it('connects with kvs-webrtc offering', async () => {
    const ours = new PeerConnection(LOOPBACK);
    const theirs = weriftPeer();
    try {
      const theirState = weriftConnected(theirs);
      // werift puts its candidates in its description; ours trickle once it has our offer.
      const oursCandidates: string[] = [];
      let theirsReady = false;
      // A rejection of werift's addIceCandidate is left unhandled on purpose: vitest fails
      // the run on it.
      ours.on('icecandidate', (c) => {
        if (!c) return;
        if (theirsReady)
          void theirs.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? '0' });
        else oursCandidates.push(c.candidate);
      });
      await ours.addTransceiver({ kind: 'video', direction: 'sendrecv' });
      const offer = await ours.createOffer();
      await ours.setLocalDescription(offer);
      await theirs.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      theirsReady = true;
      for (const c of oursCandidates.splice(0))
        await theirs.addIceCandidate({ candidate: c, sdpMid: '0' });
      const answer = await theirs.createAnswer();
      await theirs.setLocalDescription(answer);
      const sdp = onlyLoopback(theirs.localDescription?.sdp ?? '');
      await ours.setRemoteDescription({ type: 'answer', sdp });
      await Promise.all([waitForState(ours, 'connected'), theirState]);
      expect((await ours.getStats()).get('transport-0')).toMatchObject({ tlsVersion: 'DTLSv1.2' });
    } finally {
      await ours.close();
      await theirs.close();
    }
  });

  it('connects with werift offering', async () => {
    const ours = new PeerConnection(LOOPBACK);
    const theirs = weriftPeer();
    try {
      const theirState = weriftConnected(theirs);
      // As above: an unhandled rejection fails the run.
      ours.on('icecandidate', (c) => {
        if (c) void theirs.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? '0' });
      });
      theirs.addTransceiver('video', { direction: 'sendrecv' });
      await theirs.setLocalDescription(await theirs.createOffer());
      const offer = onlyLoopback(theirs.localDescription?.sdp ?? '');
      await ours.setRemoteDescription({ type: 'offer', sdp: offer });
      await ours.addTransceiver({ kind: 'video', direction: 'sendrecv' });
      const answer = await ours.createAnswer();
      await ours.setLocalDescription(answer);
      await theirs.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      await Promise.all([waitForState(ours, 'connected'), theirState]);
      expect(answer.sdp).toMatch(/^a=rtpmap:102 H264\/90000\r$/m);
    } finally {
      await ours.close();
      await theirs.close();
    }
  });
});
