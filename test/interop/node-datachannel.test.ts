import nodeDataChannel from 'node-datachannel';
import { describe, expect, it } from 'vitest';
import { PeerConnection } from '../../lib/index.js';
import { LOOPBACK, candidateSink, waitForState } from '../helpers/peers.js';

// node-datachannel 0.33 (libdatachannel): host candidates bound to 127.0.0.1 only.
type NdcPeer = InstanceType<typeof nodeDataChannel.PeerConnection>;
const NDC_CONFIG = { iceServers: [], bindAddress: '127.0.0.1' };

// No nodeDataChannel.cleanup() at the end: see keptForLife in test/helpers/ndc.ts.

/** Resolves with the libdatachannel peer's state once it is `connected`. */
function ndcConnected(peer: NdcPeer, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node-datachannel stuck in ${peer.state()}`)),
      ms,
    );
    peer.onStateChange((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (s === 'failed') {
        clearTimeout(timer);
        reject(new Error('node-datachannel failed'));
      }
    });
  });
}

describe('interop with node-datachannel 0.33', () => {
  it('connects with kvs-webrtc offering', async () => {
    const ours = new PeerConnection(LOOPBACK);
    const theirs = new nodeDataChannel.PeerConnection('theirs', NDC_CONFIG);
    try {
      // Their candidates arrive only after their remote description is set; ours are held.
      const held: string[] = [];
      let theirsReady = false;
      ours.on('icecandidate', (c) => {
        if (!c) return;
        if (theirsReady) theirs.addRemoteCandidate(c.candidate, c.sdpMid ?? '0');
        else held.push(c.candidate);
      });
      const toOurs = candidateSink(ours);
      theirs.onLocalCandidate((candidate) => toOurs.add(candidate));
      const theirAnswer = new Promise<string>((resolve) =>
        theirs.onLocalDescription((sdp, type) => {
          if (type === 'answer') resolve(sdp);
        }),
      );
      const theirState = ndcConnected(theirs);
      await ours.addTransceiver({ kind: 'video', direction: 'sendrecv' });
      const offer = await ours.createOffer();
      await ours.setLocalDescription(offer);
      theirs.setRemoteDescription(offer.sdp, 'offer');
      theirsReady = true;
      for (const c of held.splice(0)) theirs.addRemoteCandidate(c, '0');
      await ours.setRemoteDescription({ type: 'answer', sdp: await theirAnswer });
      await Promise.all([waitForState(ours, 'connected'), theirState]);
      expect(toOurs.errors).toEqual([]);
      const transport = (await ours.getStats()).get('transport-0');
      expect(transport).toMatchObject({ dtlsState: 'connected', tlsVersion: 'DTLSv1.2' });
    } finally {
      await ours.close();
      theirs.close();
    }
  });

  it('connects with node-datachannel offering', async () => {
    const ours = new PeerConnection(LOOPBACK);
    const theirs = new nodeDataChannel.PeerConnection('theirs', NDC_CONFIG);
    try {
      const toOurs = candidateSink(ours);
      theirs.onLocalCandidate((candidate) => toOurs.add(candidate));
      // libdatachannel throws on a candidate that precedes its remote description: hold ours
      // until it has our answer, as a signaling layer would.
      const held: [string, string][] = [];
      let theirsHasAnswer = false;
      ours.on('icecandidate', (c) => {
        if (!c) return;
        if (theirsHasAnswer) theirs.addRemoteCandidate(c.candidate, c.sdpMid ?? '0');
        else held.push([c.candidate, c.sdpMid ?? '0']);
      });
      const theirOffer = new Promise<string>((resolve) =>
        theirs.onLocalDescription((sdp, type) => {
          if (type === 'offer') resolve(sdp);
        }),
      );
      const theirState = ndcConnected(theirs);
      const video = new nodeDataChannel.Video('0', 'SendRecv');
      video.addH264Codec(96);
      theirs.addTrack(video);
      theirs.setLocalDescription();
      await ours.setRemoteDescription({ type: 'offer', sdp: await theirOffer });
      await ours.addTransceiver({ kind: 'video', direction: 'sendrecv' });
      const answer = await ours.createAnswer();
      await ours.setLocalDescription(answer);
      theirs.setRemoteDescription(answer.sdp, 'answer');
      theirsHasAnswer = true;
      for (const [candidate, mid] of held.splice(0)) theirs.addRemoteCandidate(candidate, mid);
      await Promise.all([waitForState(ours, 'connected'), theirState]);
      expect(toOurs.errors).toEqual([]);
      // The answer follows the offer's payload type for H.264.
      expect(answer.sdp).toMatch(/^a=rtpmap:96 H264\/90000\r$/m);
    } finally {
      await ours.close();
      theirs.close();
    }
  });
});
