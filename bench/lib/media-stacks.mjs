// The stacks of the media benchmark (bench/media.mjs), each at its best for sending H.264
// frames one way between two processes on one machine, and wired the same way: the sender
// offers one video m-line (H.264, packetization-mode 1, sendonly), the receiver answers,
// candidates go to the other side once it has the remote description.
//
// Every adapter gives:
//   load()                                the library (timed apart from the connection)
//   sender(address, signal, onKeyFrameRequest) -> { write(frame, n): boolean, close() }
//       write sends one Annex-B access unit as frame number n (RTP timestamp n * 3600: 25 fps);
//       onKeyFrameRequest, for the stacks that raise one, makes the next frame an IDR
//   receiver(address, signal, onFrame(n, bytes), onSeen(n)) -> { close() }
//       onFrame is called once per WHOLE frame received, with its frame number; onSeen (for
//       the stacks that hand out packets) for every frame a packet arrived for, so that the
//       sender's window moves on past a frame that is lost for good
//   signal: { send(message), onMessage(handler) } to the other process (through the parent)
//
// How each is configured, and why (from their sources in node_modules):
// - kvs-webrtc: writeFrame (one copy into the native core, packetized, protected and sent on
//   its network thread); the receiver's `frame` event hands out each whole frame (its jitter
//   buffer and depacketizer in the core, one JS event per frame, the bytes as a Buffer). NACK,
//   RTX, SR/RR and TWCC are on, as always.
// - node-datachannel 0.33: the sender chains libdatachannel's H264RtpPacketizer (4-byte start
//   codes), RtcpSrReporter and RtcpNackResponder (its streamer example's chain), one
//   sendMessageBinary per frame (packetized natively). 0.33 exposes no depacketizer to
//   JavaScript: the receiver's track (with an RtcpReceivingSession) hands every decrypted RTP
//   packet to JS (one callback per packet), where a frame counts as whole when its packets
//   run without a sequence gap to the marker (no bytes are copied or assembled: less work than
//   the others' receivers do).
// - werift 0.24: no H.264 packetizer either way. The sender packetizes in JavaScript here
//   (single NAL units and FU-A, 1200-byte payloads, as RFC 6184) and hands each RTP packet to
//   RTCRtpSender.sendRtp; the receiver counts frames from track.onReceiveRtp like
//   node-datachannel's. Its ICE needs a STUN server that answers and loopback host candidates
//   (bench/lib/stacks.mjs says why), so each process starts the minimal STUN responder.
// @roamhq/wrtc is left out: its RTCRtpSender takes tracks from its own capture/encoder
// (nonstandard RTCVideoSource takes raw I420 frames and encodes them itself), so it cannot be
// given encoded H.264 frames at all.
import { createRequire } from 'node:module';
import { startStunResponder } from './stun-responder.mjs';

const require = createRequire(import.meta.url);
const SSRC = 0x1e2d3c4b;
const PT = 96;
export const TIMESTAMP_STEP = 3600; // 40 ms at 90 kHz

function connectedWhen(subscribe) {
  return new Promise((resolve, reject) =>
    subscribe((s) =>
      s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('failed')) : undefined,
    ),
  );
}

/**
 * Counts whole frames from RTP packets handed to JS: contiguous sequence numbers to the
 * marker. `onSeen` hears of every frame number a packet arrived for (whole or not).
 */
function rtpFrameCounter(onFrame, onSeen) {
  let lastSeq = -1;
  let lastWasMarker = true;
  let ts = -1;
  let whole = false;
  let bytes = 0;
  let firstTs = -1;
  return (seq, timestamp, marker, size) => {
    if (firstTs < 0) firstTs = timestamp;
    const contiguous = lastSeq < 0 || seq === ((lastSeq + 1) & 0xffff);
    if (timestamp !== ts) {
      ts = timestamp;
      onSeen(((timestamp - firstTs) >>> 0) / TIMESTAMP_STEP);
      whole = contiguous && lastWasMarker;
      bytes = 0;
    } else if (!contiguous) {
      whole = false;
    }
    bytes += size;
    lastSeq = seq;
    lastWasMarker = marker;
    if (marker && whole) onFrame(((timestamp - firstTs) >>> 0) / TIMESTAMP_STEP, bytes);
  };
}

export const MEDIA_STACKS = {
  kvs: {
    name: 'kvs-webrtc',
    config: 'writeFrame; `frame` events (whole frames, native jitter buffer); NACK/RTX/SR/TWCC on',
    load() {
      return require('../../dist/index.js');
    },
    async sender(address, signal, onKeyFrameRequest) {
      const { PeerConnection } = this.load();
      const pc = new PeerConnection({ interfaces: { only: [address] } });
      const connected = connectedWhen((f) => pc.on('connectionstatechange', f));
      const t = await pc.addTransceiver({ kind: 'video', codecs: ['H264'], direction: 'sendonly' });
      t.on('keyframerequest', onKeyFrameRequest);
      const held = [];
      pc.on('icecandidate', (c) => c && signal.send({ candidate: c.candidate }));
      signal.onMessage(async (m) => {
        if (m.sdp) {
          await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          for (const c of held.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
        } else if (m.candidate) {
          if (pc.remoteDescription) await pc.addIceCandidate(m.candidate).catch(() => undefined);
          else held.push(m.candidate);
        }
      });
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      signal.send({ sdp: offer.sdp });
      await connected;
      return {
        write: (frame, n) => t.writeFrame({ frameData: frame, presentationTs: n * 400_000 }),
        close: () => pc.close(),
      };
    },
    async receiver(address, signal, onFrame) {
      const { PeerConnection } = this.load();
      const pc = new PeerConnection({ interfaces: { only: [address] } });
      const connected = connectedWhen((f) => pc.on('connectionstatechange', f));
      pc.on('track', (t) =>
        t.on('frame', (f) => onFrame(f.presentationTs / 400_000, f.frameData.length)),
      );
      const held = [];
      pc.on('icecandidate', (c) => c && signal.send({ candidate: c.candidate }));
      signal.onMessage(async (m) => {
        if (m.sdp) {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          await pc.addTransceiver({ kind: 'video', codecs: ['H264'], direction: 'recvonly' });
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          signal.send({ sdp: answer.sdp });
          for (const c of held.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
        } else if (m.candidate) {
          if (pc.remoteDescription) await pc.addIceCandidate(m.candidate).catch(() => undefined);
          else held.push(m.candidate);
        }
      });
      await connected;
      return { close: () => pc.close() };
    },
  },

  ndc: {
    name: 'node-datachannel',
    config:
      'H264RtpPacketizer + RtcpSrReporter + RtcpNackResponder, sendMessageBinary per frame; ' +
      'receiver: RtcpReceivingSession, RTP packets to JS, counted',
    load() {
      return require('node-datachannel');
    },
    async sender(address, signal) {
      const ndc = this.load();
      const pc = new ndc.PeerConnection('sender', { iceServers: [], bindAddress: address });
      const connected = connectedWhen((f) => pc.onStateChange(f));
      const video = new ndc.Video('video', 'SendOnly');
      video.addH264Codec(PT);
      video.addSSRC(SSRC, 'bench', 'stream', 'track');
      const track = pc.addTrack(video);
      const rtp = new ndc.RtpPacketizationConfig(SSRC, 'bench', PT, 90000);
      const packetizer = new ndc.H264RtpPacketizer('LongStartSequence', rtp);
      packetizer.addToChain(new ndc.RtcpSrReporter(rtp));
      packetizer.addToChain(new ndc.RtcpNackResponder());
      track.setMediaHandler(packetizer);
      const opened = new Promise((resolve) => track.onOpen(resolve));
      const held = [];
      let haveAnswer = false;
      pc.onLocalDescription((sdp, type) => type === 'offer' && signal.send({ sdp }));
      pc.onLocalCandidate((candidate, mid) => signal.send({ candidate, mid }));
      signal.onMessage((m) => {
        if (m.sdp) {
          pc.setRemoteDescription(m.sdp, 'answer');
          haveAnswer = true;
          for (const [c, mid] of held.splice(0)) pc.addRemoteCandidate(c, mid);
        } else if (m.candidate) {
          if (haveAnswer) pc.addRemoteCandidate(m.candidate, m.mid ?? 'video');
          else held.push([m.candidate, m.mid ?? 'video']);
        }
      });
      pc.setLocalDescription();
      await Promise.all([connected, opened]);
      return {
        write(frame, n) {
          rtp.timestamp = (n * TIMESTAMP_STEP) >>> 0;
          return track.sendMessageBinary(frame);
        },
        close: () => {
          pc.close();
          ndc.cleanup();
        },
      };
    },
    async receiver(address, signal, onFrame, onSeen) {
      const ndc = this.load();
      const pc = new ndc.PeerConnection('receiver', { iceServers: [], bindAddress: address });
      const connected = connectedWhen((f) => pc.onStateChange(f));
      const count = rtpFrameCounter(onFrame, onSeen);
      // Held: node-datachannel closes a remote track whose wrapper is garbage-collected, and
      // its packets then stop coming.
      const tracks = [];
      pc.onTrack((track) => {
        tracks.push(track);
        track.setMediaHandler(new ndc.RtcpReceivingSession());
        track.onMessage((m) => {
          const pt = m[1] & 0x7f;
          if (m.length < 12 || (pt >= 72 && pt <= 79)) return; // RTCP
          count(m.readUInt16BE(2), m.readUInt32BE(4), (m[1] & 0x80) !== 0, m.length);
        });
      });
      const held = [];
      let haveOffer = false;
      pc.onLocalDescription((sdp, type) => type === 'answer' && signal.send({ sdp }));
      pc.onLocalCandidate((candidate, mid) => signal.send({ candidate, mid }));
      signal.onMessage((m) => {
        if (m.sdp) {
          pc.setRemoteDescription(m.sdp, 'offer');
          haveOffer = true;
          for (const [c, mid] of held.splice(0)) pc.addRemoteCandidate(c, mid);
        } else if (m.candidate) {
          if (haveOffer) pc.addRemoteCandidate(m.candidate, m.mid ?? '0');
          else held.push([m.candidate, m.mid ?? '0']);
        }
      });
      await connected;
      return {
        tracks,
        close: () => {
          pc.close();
          ndc.cleanup();
        },
      };
    },
  },

  werift: {
    name: 'werift',
    config:
      'JS packetizer (single NAL/FU-A, 1200 B) -> RTCRtpSender.sendRtp; receiver: ' +
      'onReceiveRtp, counted; STUN responder, loopback host candidates',
    load() {
      return require('werift');
    },
    async make(address) {
      const w = this.load();
      const stun = await startStunResponder(address);
      const loopback = address.startsWith('127.');
      const pc = new w.RTCPeerConnection({
        iceServers: [{ urls: `stun:${address}:${stun.address().port}` }],
        iceUseIpv6: false,
        iceInterfaceAddresses: { udp4: address },
        ...(loopback
          ? {
              iceAdditionalHostAddresses: [address],
              iceFilterCandidatePair: (p) => p.remoteCandidate.host === address,
            }
          : {}),
        codecs: {
          video: [
            new w.RTCRtpCodecParameters({
              mimeType: 'video/H264',
              clockRate: 90000,
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
              parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
            }),
          ],
          audio: [],
        },
      });
      return { w, pc, stun };
    },
    wire(pc, signal, onSdp) {
      const held = [];
      pc.onIceCandidate.subscribe((c) => c && signal.send({ candidate: c.toJSON() }));
      signal.onMessage(async (m) => {
        if (m.sdp) {
          await onSdp(m);
          for (const c of held.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
        } else if (m.candidate) {
          if (pc.remoteDescription) await pc.addIceCandidate(m.candidate).catch(() => undefined);
          else held.push(m.candidate);
        }
      });
    },
    async sender(address, signal) {
      const { w, pc, stun } = await this.make(address);
      const connected = connectedWhen((f) => pc.connectionStateChange.subscribe(f));
      const transceiver = pc.addTransceiver('video', { direction: 'sendonly' });
      this.wire(pc, signal, (m) => pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }));
      await pc.setLocalDescription(await pc.createOffer());
      signal.send({ sdp: pc.localDescription.sdp });
      await connected;
      let seq = 0;
      const send = (payload, timestamp, marker) =>
        void transceiver.sender.sendRtp(
          new w.RtpPacket(
            new w.RtpHeader({ payloadType: PT, sequenceNumber: seq++ & 0xffff, timestamp, marker }),
            payload,
          ),
        );
      return {
        write(frame, n) {
          const timestamp = (n * TIMESTAMP_STEP) >>> 0;
          const nals = splitAnnexB(frame);
          nals.forEach((nal, k) => {
            const last = k === nals.length - 1;
            if (nal.length <= 1200) {
              send(nal, timestamp, last);
              return;
            }
            const indicator = (nal[0] & 0xe0) | 28;
            for (let at = 1; at < nal.length; at += 1198) {
              const end = Math.min(nal.length, at + 1198);
              const header =
                (at === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | (nal[0] & 0x1f);
              send(
                Buffer.concat([Buffer.from([indicator, header]), nal.subarray(at, end)]),
                timestamp,
                last && end === nal.length,
              );
            }
          });
          return true;
        },
        close: async () => {
          await pc.close();
          stun.close();
        },
      };
    },
    async receiver(address, signal, onFrame, onSeen) {
      const { pc, stun } = await this.make(address);
      const connected = connectedWhen((f) => pc.connectionStateChange.subscribe(f));
      const count = rtpFrameCounter(onFrame, onSeen);
      pc.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) =>
          count(
            rtp.header.sequenceNumber,
            rtp.header.timestamp,
            rtp.header.marker,
            rtp.payload.length,
          ),
        ),
      );
      this.wire(pc, signal, async (m) => {
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        signal.send({ sdp: pc.localDescription.sdp });
      });
      await connected;
      return {
        close: async () => {
          await pc.close();
          stun.close();
        },
      };
    },
  },
};

/** The NAL units of an Annex-B access unit, without start codes. */
function splitAnnexB(buf) {
  const out = [];
  let start = -1;
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && buf[end - 1] === 0) end--;
        out.push(buf.subarray(start, end));
      }
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) out.push(buf.subarray(start));
  return out;
}
