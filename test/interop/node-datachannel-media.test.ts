// Media between kvs-webrtc and node-datachannel 0.33 (libdatachannel) on loopback, H.264 and
// H.265 both ways, NAL for NAL:
// - node-datachannel sends with its own packetizer chain (H264RtpPacketizer or
//   H265RtpPacketizer, RtcpSrReporter, RtcpNackResponder), one frame per sendMessageBinary;
//   kvs-webrtc's `frame` events must give back each access unit.
// - kvs-webrtc sends with writeFrame; node-datachannel decrypts, and its track (with an
//   RtcpReceivingSession) hands out the RTP packets: 0.33 exposes no depacketizer, so the
//   frames are rebuilt by test/helpers/rtp-depacketize.ts, written from the RFCs apart from the
//   native core.
import nodeDataChannel from 'node-datachannel';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerConnection, type ReceivedFrame, type Transceiver } from '../../lib/index.js';
import { carriedNals, h264Samples, h265Samples } from '../helpers/media-files.js';
import { sleep, until } from '../helpers/media-pair.js';
import { LOOPBACK, candidateSink, waitForState } from '../helpers/peers.js';
import { depacketize, parseRtp, type RtpPacket } from '../helpers/rtp-depacketize.js';

type NdcPeer = InstanceType<typeof nodeDataChannel.PeerConnection>;
type NdcTrack = ReturnType<NdcPeer['addTrack']>;
type VideoCodec = 'H264' | 'H265';
const NDC_CONFIG = { iceServers: [], bindAddress: '127.0.0.1' };
const samples = (codec: VideoCodec) => (codec === 'H264' ? h264Samples(100) : h265Samples());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
// No nodeDataChannel.cleanup() at the end: see keptForLife in test/helpers/ndc.ts.

function ndcConnected(peer: NdcPeer, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`node-datachannel stuck in ${peer.state()}`));
    }, ms);
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

function peers(): { ours: PeerConnection; theirs: NdcPeer } {
  const ours = new PeerConnection(LOOPBACK);
  const theirs = new nodeDataChannel.PeerConnection('theirs', NDC_CONFIG);
  cleanups.push(async () => {
    await ours.close();
    theirs.close();
  });
  return { ours, theirs };
}

/** Candidates from ours to theirs, held until node-datachannel has its remote description. */
function oursToTheirs(ours: PeerConnection, theirs: NdcPeer): () => void {
  const held: [string, string][] = [];
  let ready = false;
  ours.on('icecandidate', (c) => {
    if (!c) return;
    if (ready) theirs.addRemoteCandidate(c.candidate, c.sdpMid ?? '0');
    else held.push([c.candidate, c.sdpMid ?? '0']);
  });
  return () => {
    ready = true;
    for (const [c, mid] of held.splice(0)) theirs.addRemoteCandidate(c, mid);
  };
}

describe('media with node-datachannel 0.33', () => {
  for (const codec of ['H264', 'H265'] as const) {
    it(`${codec} from node-datachannel's packetizer arrives whole at kvs-webrtc, NAL for NAL`, async () => {
      const { ours, theirs } = peers();
      const toOurs = candidateSink(ours);
      theirs.onLocalCandidate((c) => toOurs.add(c));
      const release = oursToTheirs(ours, theirs);
      const offer = new Promise<string>((resolve) =>
        theirs.onLocalDescription((sdp, type) => type === 'offer' && resolve(sdp)),
      );
      const connected = ndcConnected(theirs);
      const ssrc = 0x2b1f5a33;
      const video = new nodeDataChannel.Video('video', 'SendOnly');
      if (codec === 'H264') video.addH264Codec(96);
      else video.addH265Codec(96);
      video.addSSRC(ssrc, 'ndc', 'stream', 'track');
      const track = theirs.addTrack(video);
      const rtp = new nodeDataChannel.RtpPacketizationConfig(ssrc, 'ndc', 96, 90000);
      const packetizer =
        codec === 'H264'
          ? new nodeDataChannel.H264RtpPacketizer('StartSequence', rtp)
          : new nodeDataChannel.H265RtpPacketizer('StartSequence', rtp);
      packetizer.addToChain(new nodeDataChannel.RtcpSrReporter(rtp));
      packetizer.addToChain(new nodeDataChannel.RtcpNackResponder());
      track.setMediaHandler(packetizer);
      const opened = new Promise<void>((resolve) => track.onOpen(resolve));
      theirs.setLocalDescription();

      const received: ReceivedFrame[] = [];
      let ourTrack: Transceiver | undefined;
      ours.on('track', (t) => {
        ourTrack = t;
        t.on('frame', (f) => received.push(f));
      });
      await ours.setRemoteDescription({ type: 'offer', sdp: await offer });
      await ours.addTransceiver({ kind: 'video', codecs: [codec], direction: 'recvonly' });
      const answer = await ours.createAnswer();
      await ours.setLocalDescription(answer);
      theirs.setRemoteDescription(answer.sdp, 'answer');
      release();
      await Promise.all([waitForState(ours, 'connected'), connected, opened]);
      expect(ourTrack?.codec).toBe(codec);
      expect(answer.sdp).toMatch(new RegExp(`^a=rtpmap:96 ${codec}/90000\\r$`, 'm'));

      const frames = samples(codec);
      const start = 0x7ffff000;
      for (let i = 0; i < frames.length; i++) {
        rtp.timestamp = (start + i * 3600) >>> 0;
        expect(track.sendMessageBinary(frames[i] as Buffer)).toBe(true);
        await sleep(2);
      }
      await until(() => received.length === frames.length, 30_000, `${frames.length} frames`);
      received.forEach((f, i) => {
        expect(carriedNals(f.frameData, codec), `frame ${i}`).toEqual(
          carriedNals(frames[i] as Buffer, codec),
        );
        expect(f.presentationTs).toBe(i * 400_000);
      });
      expect(toOurs.errors).toEqual([]);
    });

    it(`${codec} written by kvs-webrtc reaches node-datachannel as RTP that rebuilds every frame, NAL for NAL`, async () => {
      const { ours, theirs } = peers();
      const toOurs = candidateSink(ours);
      theirs.onLocalCandidate((c) => toOurs.add(c));
      const release = oursToTheirs(ours, theirs);
      const answer = new Promise<string>((resolve) =>
        theirs.onLocalDescription((sdp, type) => type === 'answer' && resolve(sdp)),
      );
      const connected = ndcConnected(theirs);
      const packets: RtpPacket[] = [];
      let theirTrack: NdcTrack | undefined;
      theirs.onTrack((t) => {
        theirTrack = t;
        t.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
        t.onMessage((m) => {
          const p = parseRtp(m);
          if (p) packets.push(p);
        });
      });
      const send = await ours.addTransceiver({
        kind: 'video',
        codecs: [codec],
        direction: 'sendonly',
      });
      const offer = await ours.createOffer();
      await ours.setLocalDescription(offer);
      theirs.setRemoteDescription(offer.sdp, 'offer');
      release();
      await ours.setRemoteDescription({ type: 'answer', sdp: await answer });
      await Promise.all([waitForState(ours, 'connected'), connected]);
      expect(theirTrack).toBeDefined();
      expect(send.codec).toBe(codec);

      const frames = samples(codec);
      for (let i = 0; i < frames.length; i++) {
        expect(
          send.writeFrame({ frameData: frames[i] as Buffer, presentationTs: i * 400_000 }),
        ).toBe(true);
        await sleep(2);
      }
      const media = () => packets.filter((p) => p.ssrc === send.ssrc);
      await until(
        () => depacketize(media(), codec).length === frames.length,
        30_000,
        `${frames.length} frames at node-datachannel`,
      );
      const rebuilt = depacketize(media(), codec);
      const first = rebuilt[0]?.timestamp ?? 0;
      rebuilt.forEach((f, i) => {
        expect(carriedNals(f.annexB, codec), `frame ${i}`).toEqual(
          carriedNals(frames[i] as Buffer, codec),
        );
        expect((f.timestamp - first) >>> 0).toBe(i * 3600); // 40 ms at 90 kHz
      });
    });
  }
});
