// The metrics of a live native-to-native call with video, audio and a data channel: every type
// present, figures that agree with each other and with what was sent, cross-references that
// resolve, and well-defined answers before connecting and after closing.
import { afterEach, describe, expect, it } from 'vitest';
import {
  FrameFlags,
  PeerConnection,
  iceAgentGetMetrics,
  peerConnectionGetMetrics,
  rtcPeerConnectionGetMetrics,
  statsOfType,
  type DataChannel,
  type Stats,
  type StatsReport,
  type Transceiver,
} from '../../lib/index.js';
import { h264Samples, isIdr, opusSamples } from '../helpers/media.js';
import { LOOPBACK, negotiate, trickle, waitForState } from '../helpers/peers.js';

const open: PeerConnection[] = [];
function pc(): PeerConnection {
  const p = new PeerConnection(LOOPBACK);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(done: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

/** Every id another stats object names must be in the report. */
function danglingReferences(report: StatsReport): string[] {
  const refs = [
    'transportId',
    'localCandidateId',
    'remoteCandidateId',
    'codecId',
    'remoteId',
    'localId',
    'mediaSourceId',
    'selectedCandidatePairId',
    'localCertificateId',
    'remoteCertificateId',
  ];
  const missing: string[] = [];
  for (const s of report.values()) {
    for (const key of refs) {
      const v = (s as unknown as Record<string, unknown>)[key];
      if (typeof v === 'string' && !report.has(v)) missing.push(`${s.id}.${key} -> ${v}`);
    }
  }
  return missing;
}

async function call(): Promise<{
  a: PeerConnection;
  b: PeerConnection;
  video: Transceiver;
  audio: Transceiver;
  channel: DataChannel;
  remoteChannel: DataChannel;
  framesArrived: () => number;
}> {
  const a = pc();
  const b = pc();
  trickle(a, b);
  const video = await a.addTransceiver({ kind: 'video', codecs: ['H264'], direction: 'sendonly' });
  const audio = await a.addTransceiver({ kind: 'audio', codecs: ['opus'], direction: 'sendonly' });
  const channel = a.createDataChannel('metrics');
  let arrived = 0;
  let remoteChannel: DataChannel | undefined;
  b.on('track', (t) => t.on('frame', () => arrived++));
  b.on('datachannel', (c) => (remoteChannel = c));
  await negotiate(a, b);
  await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
  await until(() => channel.readyState === 'open' && remoteChannel !== undefined);
  return {
    a,
    b,
    video,
    audio,
    channel,
    remoteChannel: remoteChannel as DataChannel,
    framesArrived: () => arrived,
  };
}

describe('metrics of a live call', () => {
  it('has every type, figures that agree across the two ends, and no dangling reference', async () => {
    const { a, b, video, audio, channel, remoteChannel, framesArrived } = await call();
    const frames = h264Samples(50);
    const packets = opusSamples(50);
    let bytesSentOnChannel = 0;
    const received: number[] = [];
    remoteChannel.on('message', (m) =>
      received.push(typeof m === 'string' ? Buffer.byteLength(m) : m.length),
    );
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i] as Buffer;
      video.writeFrame({
        frameData: f,
        presentationTs: i * 400_000,
        flags: isIdr(f) ? FrameFlags.KEY_FRAME : 0,
      });
      audio.writeFrame({ frameData: packets[i] as Buffer, presentationTs: i * 200_000 });
      const message = `message ${i}`;
      channel.send(message);
      bytesSentOnChannel += Buffer.byteLength(message);
      await sleep(20);
    }
    await until(() => framesArrived() >= 100 && received.length === 50);
    // Sender reports every 100-300 ms and receiver reports about every second: wait for both.
    await until(async () => {
      const ra = await a.getStats();
      const rb = await b.getStats();
      return (
        statsOfType(ra, 'remote-inbound-rtp').length === 2 &&
        statsOfType(rb, 'remote-outbound-rtp').length === 2
      );
    });
    const sa = await a.getStats();
    const sb = await b.getStats();
    for (const [name, report] of [
      ['offerer', sa],
      ['answerer', sb],
    ] as const) {
      expect(danglingReferences(report), name).toEqual([]);
      const types = new Set([...report.values()].map((s: Stats) => s.type));
      for (const t of [
        'candidate-pair',
        'local-candidate',
        'remote-candidate',
        'transport',
        'certificate',
        'codec',
        'data-channel',
        'peer-connection',
      ] as const) {
        expect(types.has(t), `${name} has ${t}`).toBe(true);
      }
    }
    expect(statsOfType(sa, 'outbound-rtp')).toHaveLength(2);
    expect(statsOfType(sa, 'media-source')).toHaveLength(2);
    expect(statsOfType(sb, 'inbound-rtp')).toHaveLength(2);
    for (const out of statsOfType(sa, 'outbound-rtp')) {
      const inbound = statsOfType(sb, 'inbound-rtp').find((s) => s.ssrc === out.ssrc);
      expect(inbound, `inbound for ${out.kind}`).toBeDefined();
      if (!inbound) continue;
      // Nothing is in flight any more on loopback; allow a couple of stray packets.
      expect(Math.abs(out.packetsSent - inbound.packetsReceived)).toBeLessThanOrEqual(2);
      expect(Math.abs(out.bytesSent - inbound.bytesReceived)).toBeLessThanOrEqual(2 * 1200);
      expect(out.bytesSent).toBeGreaterThan(0);
      const remote = statsOfType(sa, 'remote-inbound-rtp').find((s) => s.localId === out.id);
      expect(remote?.roundTripTime, `RTT for ${out.kind}`).toBeGreaterThan(0);
      expect(remote?.roundTripTime).toBeLessThan(1);
      expect(remote?.packetsLost).toBe(0);
    }
    const videoOut = statsOfType(sa, 'outbound-rtp').find((s) => s.kind === 'video');
    expect(videoOut).toMatchObject({
      framesEncoded: 50,
      framesSent: 50,
      keyFramesEncoded: 2,
      frameWidth: 640,
      frameHeight: 480,
    });
    const audioIn = statsOfType(sb, 'inbound-rtp').find((s) => s.kind === 'audio');
    expect(audioIn?.totalSamplesReceived).toBe(50 * 960); // 20 ms at 48 kHz each
    const dcA = statsOfType(sa, 'data-channel')[0];
    const dcB = statsOfType(sb, 'data-channel')[0];
    expect(dcA).toMatchObject({
      label: 'metrics',
      state: 'open',
      messagesSent: 50,
      bytesSent: bytesSentOnChannel,
    });
    expect(dcB).toMatchObject({ messagesReceived: 50, bytesReceived: bytesSentOnChannel });
    expect(statsOfType(sa, 'peer-connection')[0]).toMatchObject({
      dataChannelsOpened: 1,
      dataChannelsClosed: 0,
    });
    // The C SDK's accessor: null is the first transceiver (video here).
    const [first] = await rtcPeerConnectionGetMetrics(a, null, 'OUTBOUND_RTP');
    expect(first).toMatchObject({ kind: 'video' });
    const [ofAudio] = await rtcPeerConnectionGetMetrics(a, audio, 'OUTBOUND_RTP');
    expect(ofAudio).toMatchObject({ kind: 'audio' });
    expect((await video.getStats()).size).toBeGreaterThanOrEqual(4); // outbound, remote, codec, source, transport
    // Encoder figures only the app knows.
    video.updateEncoderStats({ targetBitrate: 1_000_000, encoderImplementation: 'x264' });
    const [withEncoder] = await rtcPeerConnectionGetMetrics(a, video, 'OUTBOUND_RTP');
    expect(withEncoder).toMatchObject({ targetBitrate: 1_000_000, encoderImplementation: 'x264' });
  });

  it('times each step of setting up, as the C SDK does', async () => {
    const { a } = await call();
    const p = await peerConnectionGetMetrics(a);
    expect(p.peerConnectionConnectedTime).toBeGreaterThanOrEqual(p.peerConnectionStartTime);
    expect(p.connectionSetupTime).toBeGreaterThanOrEqual(0);
    const ice = await iceAgentGetMetrics(a);
    expect(ice.hostCandidateSetUpTime).toBeGreaterThanOrEqual(0);
    expect(ice.localCandidateGatheringTime).toBeGreaterThanOrEqual(0);
    expect(ice.iceCandidatePairNominationTime).toBeGreaterThanOrEqual(0);
    expect(ice.dtlsSessionSetupTime).toBeGreaterThanOrEqual(0);
    expect(ice.relayCandidateSetUpTime).toBeNull(); // no TURN server here
  });

  it('answers well-defined results for a connection that never connected, or has closed', async () => {
    const fresh = pc();
    for (const type of ['RTC_ALL', 'OUTBOUND_RTP', 'CANDIDATE_PAIR', 'DATA_CHANNEL'] as const) {
      await expect(rtcPeerConnectionGetMetrics(fresh, null, type)).resolves.toBeInstanceOf(Array);
    }
    expect((await peerConnectionGetMetrics(fresh)).peerConnectionConnectedTime).toBeNull();
    const { a } = await call();
    await a.close();
    const after = await rtcPeerConnectionGetMetrics(a, null, 'RTC_ALL');
    expect(after.length).toBeGreaterThan(0);
    expect((await iceAgentGetMetrics(a)).iceCandidatePairNominationTime).toBeGreaterThanOrEqual(0);
  });
});
